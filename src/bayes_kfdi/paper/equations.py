"""The paper's GMM equations as declarative TOML files (``models/paper/*.toml``).

Each file is an equation of the one GMM schema (:mod:`bayes_kfdi.gmm.spec`), so
``bayes-kfdi gmm --spec`` runs it too. The paper requires the schema's metadata: which
series the equation explains (``series``), which table and column of the paper it
reproduces (``table``, ``column``), ``variant`` and the covariates interacted with a
time trend (``trend``, ``reference_year``), with the verbatim xtabond2 ``command``.
Trend interactions are data columns (``<term>_trend = <term> * (year - reference_year)``)
because the xtabond2 parser takes plain columns, not ``c.wage#c.year``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from bayes_kfdi.constants import PAPER_SERIES
from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.gmm.spec import (
    DEFAULT_REFERENCE_YEAR,
    TOP_KEYS,
    TREND_SUFFIX,
    GmmSpec,
    add_trend_columns,
    load_gmm_spec,
    select_series,
)
from bayes_kfdi.resources import models_dir as _shipped_models_dir
from bayes_kfdi.validation import check_choice, check_keys, spec_error

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
_REQUIRED_KEYS: tuple[str, ...] = ("name", "table", "series", "column")
#: Schema keys a paper equation may not set: the paper job runs every equation on its
#: ``--data`` panel with entity ``country`` and time ``year``.
_NOT_PAPER: tuple[str, ...] = ("data", "entity", "time")
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
            f"paper equation folder {_REPO_MODELS} does not exist; expected the specs "
            "shipped inside the package; reinstall it"
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
    reference_year: int = DEFAULT_REFERENCE_YEAR
    target_instruments: int | None = None
    description: str = ""
    path: Path | None = None

    @property
    def trend_columns(self) -> tuple[str, ...]:
        """Names of the interaction columns the command refers to."""
        return tuple(f"{t}{TREND_SUFFIX}" for t in self.trend)


def _paper_fields(spec: GmmSpec, where: str) -> dict[str, Any]:
    """Check the paper's keys on a spec read through the one GMM schema."""
    raw = spec.raw
    for key in (k for k in _NOT_PAPER if k in raw):
        raise spec_error(where, key, raw[key], "no such key in a paper equation",
                         "remove it: the paper job fits on --data with entity country, "
                         "time year")
    check_keys(raw, set(TOP_KEYS) - set(_NOT_PAPER), where, required=_REQUIRED_KEYS)
    table = check_choice(raw["table"], _TABLES, where, "table")
    variant = check_choice(raw.get("variant", "baseline"), _VARIANTS, where, "variant")
    series = check_choice(raw["series"], PAPER_SERIES, where, "series")
    if variant == "trend" and not spec.trend:
        raise spec_error(where, "trend", [], "the interacted covariates when variant = 'trend'",
                         'list them, e.g. trend = ["gdp"]')
    return {"table": table, "variant": variant, "series": series}


def load_equation(path: str | Path) -> PaperEquation:
    """Read one equation file.

    Parameters
    ----------
    path : str or Path
        A TOML file of the GMM equation schema (:mod:`bayes_kfdi.gmm.spec`) with the
        keys ``name, table, series, column`` and the model (``command``), and optional
        ``variant, trend, reference_year, target_instruments, description``.

    Returns
    -------
    PaperEquation

    Raises
    ------
    SpecificationError
        On an unreadable file, a missing or unknown key, an unknown table, variant or
        series, or a trend covariate that the command does not use as ``<term>_trend``.
    """
    path = Path(path)
    where = str(path)
    spec = load_gmm_spec(path)
    checked = _paper_fields(spec, where)
    return PaperEquation(
        name=spec.name,
        table=checked["table"],
        series=checked["series"],
        column=spec.raw["column"],
        command=spec.command,
        variant=checked["variant"],
        trend=spec.trend,
        reference_year=spec.reference_year,
        target_instruments=spec.meta.get("target_instruments"),
        description=spec.description,
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
        raise SpecificationError(
            f"{folder}: no *.toml files; expected one file per equation; add them or name "
            "another folder"
        )
    eqs = [load_equation(f) for f in files]
    names = [e.name for e in eqs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise spec_error(str(folder), "name", dupes, "each equation name once",
                         "rename the duplicates")
    order = {s: i for i, s in enumerate(PAPER_SERIES)}
    return tuple(sorted(eqs, key=lambda e: (_VARIANTS.index(e.variant), order[e.series])))


def equation_frame(panel: pd.DataFrame, eq: PaperEquation) -> pd.DataFrame:
    """Return the one-series frame an equation is estimated on (trend columns added).

    Raises
    ------
    DataError
        If the panel has no rows of ``eq.series``.
    """
    sub = select_series(panel, eq.series, eq.name)
    return add_trend_columns(sub, eq.trend, eq.reference_year).reset_index(drop=True)
