"""One TOML schema for a GMM equation, read by ``gmm --spec``, the paper's tables and the examples.

A file holds one equation. The model is either the verbatim xtabond2 command or a
``[gmm]`` table, never both; the table is turned into the command string and parsed by
:func:`bayes_kfdi.gmm.syntax.parse_xtabond2`, so both routes share one set of semantics::

    command = "xtabond2 n L(1/2).n w k, gmm(n, lag(2 4)) iv(k) twostep robust"

or::

    [gmm]
    depvar = "n"
    regressors = ["L(1/2).n", "w", "k"]   # Stata varlist tokens
    twostep = true                        # default false
    robust = true                         # default false
    small = false
    orthogonal = false                    # forward orthogonal deviations
    system = true                         # false = difference GMM (noleveleq)
    constant = true                       # false = noconstant
    h = 3                                 # one-step weighting matrix, xtabond2 h()
    artests = 2

    [[gmm.instruments.gmm]]
    vars = ["n"]
    lag = [2, 4]                          # [a, "."] for no upper limit
    collapse = false
    equation = "both"                     # diff | level | both
    passthru = false

    [[gmm.instruments.iv]]
    vars = ["k"]
    equation = "both"
    passthru = false
    mz = false

Optional top-level keys:

``name``, ``description``, ``source``
    Free text.
``data``, ``entity``, ``time``
    Where the equation runs: the data file, the group column(s) and the period column.
    Without ``entity``/``time`` a canonical panel defaults to ``country``/``year``.
``series``
    Estimate on the rows whose ``series`` column equals this value; the column is then
    dropped, so the equation runs on a one-series frame (``country`` x ``year``).
``trend``, ``reference_year``
    Covariates interacted with a centred time trend: each ``t`` adds the data column
    ``t_trend = t * (year - reference_year)`` (default year 2001), which the command must
    use as a regressor. The xtabond2 parser takes plain columns, not ``c.t#c.year``.
``table``, ``column``, ``variant``, ``target_instruments``
    The paper's metadata: which table and column the equation reproduces, ``baseline``
    or ``trend``, and the paper's instrument count. Checked by
    :mod:`bayes_kfdi.paper.equations`; ``gmm --spec`` carries them along.

The paper's equation files (``models/paper/*.toml``) use ``command``; the examples
(``models/gmm_examples/*.toml``) use ``[gmm]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_kfdi.constants import SERIES, YEAR
from bayes_kfdi.exceptions import DataError, SpecificationError
from bayes_kfdi.validation import (
    check_choice,
    check_keys,
    check_number,
    check_type,
    read_toml,
    spec_error,
)

__all__ = [
    "DEFAULT_REFERENCE_YEAR",
    "TREND_SUFFIX",
    "GmmSpec",
    "add_trend_columns",
    "load_gmm_spec",
    "select_series",
    "spec_from_mapping",
    "spec_to_command",
]

#: Suffix of a trend-interaction column: ``wage_trend = wage * (year - reference_year)``.
TREND_SUFFIX = "_trend"
#: Centre of the trend when a file gives none (the semi-synthetic truth's reference year).
DEFAULT_REFERENCE_YEAR = 2001

_GMM_KEYS = ("depvar", "regressors", "twostep", "robust", "small", "orthogonal", "system",
             "constant", "h", "artests", "instruments", "description")
_GMMGROUP_KEYS = ("vars", "lag", "collapse", "equation", "passthru")
_IVGROUP_KEYS = ("vars", "equation", "passthru", "mz")
_EQUATIONS = ("diff", "level", "both")
_TEXT_KEYS = ("name", "description", "source", "data", "time", "series", "table", "column",
              "variant")
#: Every top-level key of the schema.
TOP_KEYS = (*_TEXT_KEYS, "command", "gmm", "entity", "trend", "reference_year",
            "target_instruments")


@dataclass(frozen=True, slots=True)
class GmmSpec:
    """One GMM equation read from TOML.

    Attributes
    ----------
    command : the xtabond2 command string (verbatim, whitespace collapsed, or built from
        the ``[gmm]`` table)
    entity, time, data : optional panel keys and data path from the file
    name, description : free text
    series : the series whose rows the equation uses, or None for all rows
    trend : covariates interacted with ``year - reference_year``
    reference_year : centre of the trend
    meta : the paper's metadata keys present in the file (``table``, ``column``,
        ``variant``, ``target_instruments``)
    raw : the file's parsed TOML
    """

    command: str
    entity: str | list[str] | None = None
    time: str | None = None
    data: str | None = None
    name: str = ""
    description: str = ""
    series: str | None = None
    trend: tuple[str, ...] = ()
    reference_year: int = DEFAULT_REFERENCE_YEAR
    meta: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def trend_columns(self) -> tuple[str, ...]:
        """Names of the interaction columns the command refers to."""
        return tuple(f"{t}{TREND_SUFFIX}" for t in self.trend)

    def frame(self, panel: pd.DataFrame) -> pd.DataFrame:
        """Return the frame the equation is estimated on: its series' rows, trend columns."""
        sub = panel if self.series is None else select_series(panel, self.series, self.name)
        if not self.trend and self.series is None:
            return panel
        return add_trend_columns(sub, self.trend, self.reference_year).reset_index(drop=True)


def select_series(panel: pd.DataFrame, series: str, name: str = "") -> pd.DataFrame:
    """Return the rows of one series without the ``series`` column.

    Raises
    ------
    DataError
        If the panel has no ``series`` column or no row of ``series``.
    """
    label = f"equation {name!r}" if name else "the spec"
    if SERIES not in panel.columns:
        raise DataError(
            f"{label} selects series {series!r}, but the data have no {SERIES!r} column; "
            f"drop the series key or use a panel with a {SERIES!r} column"
        )
    sub = panel.loc[panel[SERIES] == series].drop(columns=[SERIES])
    if sub.empty:
        raise DataError(
            f"{label} needs series {series!r}; the panel has "
            f"{sorted(panel[SERIES].unique())}."
        )
    return sub


def add_trend_columns(
    frame: pd.DataFrame, terms: Sequence[str], reference_year: int
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


def _bool(tbl: dict[str, Any], key: str, where: str, default: bool = False) -> bool:
    return check_type(tbl.get(key, default), bool, where, key, "true or false")


def _names(value: Any, where: str, key: str, *, empty: bool = False) -> list[str]:
    """Return a varlist given as a list of strings or one space-separated string."""
    if isinstance(value, str):
        value = value.split()
    ok = isinstance(value, list) and all(isinstance(s, str) and s.strip() for s in value)
    if not ok or (not value and not empty):
        kind = "a list" if empty else "a non-empty list"
        raise spec_error(where, key, value, f"{kind} of variable names",
                         f'write it as {key} = ["x", "L.y"]')
    return value


def _table(value: Any, where: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise spec_error(where, key, value, "a TOML table", f"write it as [{key}]")
    return value


def _lag(value: Any, where: str) -> str:
    ok = isinstance(value, list) and len(value) == 2
    ok = ok and all(
        (isinstance(v, int) and not isinstance(v, bool)) or v == "." for v in value
    ) and not isinstance(value[0], str)
    if not ok:
        raise spec_error(where, "lag", value, 'a pair [a, b] or [a, "."] of lag limits',
                         'write e.g. lag = [2, 4] or lag = [2, "."]')
    return f"lag({value[0]} {value[1]})"


def _group(g: Any, where: str, kind: str) -> str:
    """One ``gmm(...)`` or ``iv(...)`` option from an instrument group table."""
    g = _table(g, where, f"gmm.instruments.{kind}")
    check_keys(g, _GMMGROUP_KEYS if kind == "gmm" else _IVGROUP_KEYS, where, required=("vars",))
    order = ("lag", "collapse", "passthru", "equation") if kind == "gmm" else (
        "equation", "passthru", "mz")
    sub = []
    for key in (k for k in order if k in g):
        if key == "lag":
            sub.append(_lag(g[key], where))
        elif key == "equation":
            sub.append(f"eq({check_choice(g[key], _EQUATIONS, where, key)})")
        elif _bool(g, key, where):
            sub.append(key)
    vars_ = " ".join(_names(g.get("vars"), where, "vars"))
    return f"{kind}({vars_}" + (", " + " ".join(sub) if sub else "") + ")"


def spec_to_command(gmm: dict[str, Any], origin: str = "") -> str:
    """Build the xtabond2 command string from a ``[gmm]`` table (``origin``: its file)."""
    where = f"{origin} [gmm]".strip()
    check_keys(gmm, _GMM_KEYS, where, required=("depvar",))
    dep = gmm["depvar"]
    if not isinstance(dep, str) or not dep.strip():
        raise spec_error(where, "depvar", dep, "a variable name", 'write depvar = "y"')
    regs = _names(gmm.get("regressors", []), where, "regressors", empty=True)
    inst = _table(gmm.get("instruments", {}), where, "gmm.instruments")
    check_keys(inst, ("gmm", "iv"), f"{origin} [gmm.instruments]".strip())
    opts: list[str] = []
    for kind in ("gmm", "iv"):
        groups = inst.get(kind, [])
        if not isinstance(groups, list):
            raise spec_error(where, f"instruments.{kind}", groups, "an array of tables",
                             f"write each group as [[gmm.instruments.{kind}]]")
        for i, g in enumerate(groups):
            opts.append(_group(g, f"{origin} [[gmm.instruments.{kind}]] #{i + 1}".strip(), kind))
    for word in ("twostep", "robust", "small", "orthogonal"):
        if _bool(gmm, word, where):
            opts.append(word)
    if not _bool(gmm, "system", where, True):
        opts.append("noleveleq")
    if not _bool(gmm, "constant", where, True):
        opts.append("noconstant")
    if "h" in gmm:
        check_number(gmm["h"], where, "h", integer=True, valid=lambda v: v in (1, 2, 3),
                     expected="1, 2 or 3")
        opts.append(f"h({gmm['h']})")
    if "artests" in gmm:
        check_number(gmm["artests"], where, "artests", integer=True, valid=lambda v: v >= 1,
                     expected="a positive integer")
        opts.append(f"artests({gmm['artests']})")
    return f"xtabond2 {dep} {' '.join(regs)}".rstrip() + (", " + " ".join(opts) if opts else "")


def _command(raw: dict[str, Any], where: str) -> str:
    has_cmd, has_gmm = "command" in raw, "gmm" in raw
    if has_cmd == has_gmm:
        seen = "both" if has_cmd else "neither"
        raise SpecificationError(
            f"{where}: {seen} of command and [gmm] given; expected exactly one model; "
            'write command = "xtabond2 ..." or a [gmm] table'
        )
    if has_gmm:
        return spec_to_command(_table(raw["gmm"], where, "gmm"), where)
    cmd = raw["command"]
    if not isinstance(cmd, str) or not cmd.split():
        raise spec_error(where, "command", cmd, "an xtabond2 command string",
                         'write command = "xtabond2 y L.y x, gmm(L.y) iv(x)"')
    return " ".join(cmd.split())


def _check_trend(trend: tuple[str, ...], command: str, where: str) -> None:
    words = command.replace(",", " ").split()
    for t in trend:
        if f"{t}{TREND_SUFFIX}" not in words:
            raise spec_error(
                where, "trend", t, f"a covariate the command uses as {t}{TREND_SUFFIX}",
                f"add {t}{TREND_SUFFIX} to the varlist or drop {t!r} from trend",
            )


def spec_from_mapping(raw: dict[str, Any], where: str = "spec") -> GmmSpec:
    """Validate a parsed spec file and build the :class:`GmmSpec`."""
    check_keys(raw, TOP_KEYS, where)
    for key in _TEXT_KEYS:
        if key in raw:
            check_type(raw[key], str, where, key, "a string")
    entity = raw.get("entity")
    if entity is not None and not isinstance(entity, str):
        _names(entity, where, "entity")
    trend = tuple(_names(raw.get("trend", []), where, "trend", empty=True))
    ref = check_number(raw.get("reference_year", DEFAULT_REFERENCE_YEAR), where,
                       "reference_year", integer=True)
    if "target_instruments" in raw:
        check_number(raw["target_instruments"], where, "target_instruments", integer=True,
                     valid=lambda v: v >= 1, expected="a positive integer")
    command = _command(raw, where)
    _check_trend(trend, command, where)
    gmm = raw.get("gmm", {})
    return GmmSpec(
        command=command,
        entity=entity,
        time=raw.get("time"),
        data=raw.get("data"),
        name=raw.get("name", ""),
        description=str(raw.get("description", gmm.get("description", ""))).strip(),
        series=raw.get("series"),
        trend=trend,
        reference_year=ref,
        meta={k: raw[k] for k in ("table", "column", "variant", "target_instruments")
              if k in raw},
        raw=raw,
    )


def load_gmm_spec(path: str | Path) -> GmmSpec:
    """Read a GMM equation file; ``.command`` is its xtabond2 command.

    Raises
    ------
    SpecificationError
        An unreadable file (missing, a directory, not UTF-8, not TOML), an unknown key
        (with the closest valid one), a missing model, or a value of the wrong type.
    """
    return spec_from_mapping(read_toml(path, "GMM spec"), str(path))
