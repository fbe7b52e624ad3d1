"""The paper's GMM equations as declarative TOML files (``models/paper/*.toml``).

Each file holds one equation: which series it explains, which table and column of the
paper it reproduces, the verbatim ``xtabond2`` command, and the covariates interacted
with a time trend. Trend interactions are built as data columns
(``<term>_trend = <term> * (year - reference_year)``) because the xtabond2 parser takes
plain columns, not factor-variable interactions (``c.wage#c.year``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from bayes_kfdi.constants import PAPER_SERIES, SERIES, YEAR
from bayes_kfdi.exceptions import DataError, SpecificationError
from bayes_kfdi.resources import models_dir as _shipped_models_dir

__all__ = [
    "TREND_SUFFIX",
    "PaperEquation",
    "add_trend_columns",
    "equation_frame",
    "load_equation",
    "load_equations",
    "models_dir",
]

TableName = Literal["table2", "table3"]
Variant = Literal["baseline", "trend"]
_TABLES: tuple[str, ...] = ("table2", "table3")
_VARIANTS: tuple[str, ...] = ("baseline", "trend")
_REQUIRED_KEYS: tuple[str, ...] = ("name", "table", "series", "column", "command")
#: Suffix of a trend-interaction column: ``wage_trend = wage * (year - reference_year)``.
TREND_SUFFIX = "_trend"
_REPO_MODELS = _shipped_models_dir() / "paper"


def models_dir() -> Path:
    """Return the repository's ``models/paper/`` folder.

    Raises
    ------
    SpecificationError
        If the folder is missing (a non-editable install without the spec files).
    """
    if not _REPO_MODELS.is_dir():
        raise SpecificationError(
            f"paper equation folder not found: expected {_REPO_MODELS}. The specs ship "
            "inside the package; reinstall it."
        )
    return _REPO_MODELS


@dataclass(frozen=True, slots=True)
class PaperEquation:
    """One of the paper's system GMM equations.

    Attributes
    ----------
    name : file stem and output name, e.g. ``"textile"``, ``"efficiency_trend"``
    table : ``"table2"`` (sectors) or ``"table3"`` (electronics motives)
    series : the canonical series the equation explains (``constants.PAPER_SERIES``)
    column : the paper's column label (``"textile"``, ``"market"``, ...)
    command : verbatim xtabond2 command on the one-series frame (entity country, time year)
    variant : ``"baseline"`` (the published table) or ``"trend"`` (trend interactions)
    trend : covariates interacted with ``year - reference_year``
    reference_year : centre of the trend; the main effect is the slope in that year
    target_instruments : the paper's instrument count for this column
    description : free text, including the reason for the instrument choice
    path : the TOML file it came from (None when built in code)
    """

    name: str
    table: TableName
    series: str
    column: str
    command: str
    variant: Variant = "baseline"
    trend: tuple[str, ...] = ()
    reference_year: int = 2001
    target_instruments: int | None = None
    description: str = ""
    path: Path | None = None

    @property
    def trend_columns(self) -> tuple[str, ...]:
        """Names of the interaction columns the command refers to."""
        return tuple(f"{t}{TREND_SUFFIX}" for t in self.trend)


def _check_choice(value: object, allowed: tuple[str, ...], key: str, where: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise SpecificationError(f"{where}: {key} = {value!r}; expected one of {list(allowed)}.")
    return value


def load_equation(path: str | Path) -> PaperEquation:
    """Read one equation file.

    Parameters
    ----------
    path : str or Path
        A TOML file with the keys ``name, table, series, column, command`` and optional
        ``variant, trend, reference_year, target_instruments, description``.

    Returns
    -------
    PaperEquation

    Raises
    ------
    SpecificationError
        On a missing key, an unknown table, variant or series, or a trend covariate that
        the command does not use as ``<term>_trend``.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecificationError(f"{path}: not valid TOML ({exc}). Fix the syntax.") from exc
    missing = [k for k in _REQUIRED_KEYS if k not in raw]
    if missing:
        raise SpecificationError(
            f"{path}: missing key(s) {missing}; every equation needs {list(_REQUIRED_KEYS)}."
        )
    unknown = (
        set(raw)
        - set(_REQUIRED_KEYS)
        - {"variant", "trend", "reference_year", "target_instruments", "description"}
    )
    if unknown:
        raise SpecificationError(f"{path}: unknown key(s) {sorted(unknown)}; check the spelling.")
    where = str(path)
    table = _check_choice(raw["table"], _TABLES, "table", where)
    variant = _check_choice(raw.get("variant", "baseline"), _VARIANTS, "variant", where)
    series = _check_choice(raw["series"], PAPER_SERIES, "series", where)
    trend = tuple(raw.get("trend", ()))
    command = " ".join(str(raw["command"]).split())
    for t in trend:
        if f"{t}{TREND_SUFFIX}" not in command.replace(",", " ").split():
            raise SpecificationError(
                f"{path}: trend lists {t!r} but the command has no regressor "
                f"{t}{TREND_SUFFIX}; add it to the varlist or drop it from trend."
            )
    if variant == "trend" and not trend:
        raise SpecificationError(f"{path}: variant = 'trend' but trend = []; list the terms.")
    target = raw.get("target_instruments")
    return PaperEquation(
        name=str(raw["name"]),
        table=table,  # type: ignore[arg-type]
        series=series,
        column=str(raw["column"]),
        command=command,
        variant=variant,  # type: ignore[arg-type]
        trend=trend,
        reference_year=int(raw.get("reference_year", 2001)),
        target_instruments=None if target is None else int(target),
        description=str(raw.get("description", "")).strip(),
        path=path,
    )


def load_equations(directory: str | Path | None = None) -> tuple[PaperEquation, ...]:
    """Read every ``*.toml`` in ``directory`` (default ``models/paper``).

    Returns
    -------
    tuple of PaperEquation
        Baselines first, then trend variants; within each, Table 2 then Table 3 in the
        paper's column order.
    """
    folder = models_dir() if directory is None else Path(directory)
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise SpecificationError(f"no *.toml equation files in {folder}.")
    eqs = [load_equation(f) for f in files]
    names = [e.name for e in eqs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SpecificationError(f"{folder}: duplicate equation names {dupes}.")
    order = {s: i for i, s in enumerate(PAPER_SERIES)}
    return tuple(sorted(eqs, key=lambda e: (_VARIANTS.index(e.variant), order[e.series])))


def add_trend_columns(
    frame: pd.DataFrame, terms: tuple[str, ...] | list[str], reference_year: int
) -> pd.DataFrame:
    """Return a copy of ``frame`` with ``<term>_trend = term * (year - reference_year)``.

    Centring the trend at ``reference_year`` makes the main effect the slope in that
    year, which is how the semi-synthetic truth states time-varying slopes.
    """
    out = frame.copy()
    trend = out[YEAR].astype(float) - float(reference_year)
    for t in terms:
        if t not in out.columns:
            raise DataError(
                f"trend interaction needs column {t!r}, which the panel lacks "
                f"(columns: {list(out.columns)})."
            )
        out[f"{t}{TREND_SUFFIX}"] = out[t].astype(float) * trend
    return out


def equation_frame(panel: pd.DataFrame, eq: PaperEquation) -> pd.DataFrame:
    """Return the one-series frame an equation is estimated on (trend columns added).

    Raises
    ------
    DataError
        If the panel has no rows of ``eq.series``.
    """
    sub = panel.loc[panel[SERIES] == eq.series].drop(columns=[SERIES])
    if sub.empty:
        raise DataError(
            f"equation {eq.name!r} needs series {eq.series!r}; the panel has "
            f"{sorted(panel[SERIES].unique())}."
        )
    return add_trend_columns(sub, eq.trend, eq.reference_year).reset_index(drop=True)
