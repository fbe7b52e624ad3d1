"""Run the paper's equations and assemble Tables 2 and 3 next to the paper and the truth.

A table is a tidy frame, one row per (series, variable): the estimate and its Windmeijer
standard error, the paper's coefficient and standard error, and the data-generating
value when the panel is simulated. Footer rows (obs, groups, AR(1), AR(2), Hansen,
instruments) follow the coefficient rows in the same frame; for them ``coef`` holds the
statistic and ``se`` its p-value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_kfdi.constants import PAPER_SERIES, SERIES
from bayes_kfdi.exceptions import DataError
from bayes_kfdi.gmm.runner import fit_equation
from bayes_kfdi.paper.equations import TREND_SUFFIX, PaperEquation, equation_frame

__all__ = [
    "COLUMNS",
    "FOOTER_ROWS",
    "EquationRun",
    "PaperRun",
    "attenuation",
    "build_table",
    "read_truth",
    "recovery",
    "run_equations",
    "stars",
    "truth_value",
]

#: Contract columns of ``table2.csv`` / ``table3.csv``, in this order.
COLUMNS: tuple[str, ...] = ("series", "variable", "coef", "se", "paper_coef", "paper_se", "truth")
#: Footer statistics, in the paper's order.
FOOTER_ROWS: tuple[str, ...] = ("obs", "groups", "AR(1)", "AR(2)", "Hansen", "instruments")
#: Footer row -> (paper statistic, paper p-value) in ``data.paper.table_footers()``.
_PAPER_FOOTER: dict[str, tuple[str, str | None]] = {
    "obs": ("n_obs", None),
    "groups": ("n_groups", None),
    "AR(1)": ("ar1_z", "ar1_p"),
    "AR(2)": ("ar2_z", "ar2_p"),
    # The paper prints an unnamed "ID test" statistic without a p-value; we report
    # Hansen's J of the two-step fit beside it.
    "Hansen": ("id_test", None),
    "instruments": ("n_instruments", None),
}
#: Significance levels of the paper's stars (*** 1%, ** 5%, * 10%).
STAR_LEVELS: tuple[tuple[float, str], ...] = ((0.01, "***"), (0.05, "**"), (0.10, "*"))


def stars(p: float) -> str:
    """Return the paper's significance stars for a two-sided p-value (NaN gives "")."""
    if p is None or not np.isfinite(p):
        return ""
    for level, mark in STAR_LEVELS:
        if p < level:
            return mark
    return ""


@dataclass(frozen=True, slots=True)
class EquationRun:
    """One equation's fit, or the reason it has none.

    Attributes
    ----------
    equation : the spec
    result : ``SystemGMMResults`` or None when estimation failed
    error : the error message when it failed (None otherwise)
    warnings : messages of the warnings the fit raised (instrument proliferation, ...)
    """

    equation: PaperEquation
    result: Any | None
    error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True if the equation was estimated."""
        return self.result is not None


@dataclass(frozen=True, slots=True)
class PaperRun:
    """All equations fitted on one panel, plus the truth when the panel is simulated.

    Attributes
    ----------
    runs : equation name -> EquationRun, in the order of the equation list
    truth : the ``<stem>.truth.json`` dict, or None
    data_path : the panel file (None when run on an in-memory frame)
    """

    runs: dict[str, EquationRun]
    truth: dict[str, Any] | None = None
    data_path: Path | None = None
    notes: tuple[str, ...] = field(default=())

    def get(self, table: str, variant: str = "baseline") -> list[EquationRun]:
        """Return the runs of one table and variant, in the paper's column order."""
        return [
            r
            for r in self.runs.values()
            if r.equation.table == table and r.equation.variant == variant
        ]


def read_truth(data_path: str | Path) -> dict[str, Any] | None:
    """Read ``<stem>.truth.json`` beside a data file; None if there is none."""
    p = Path(data_path)
    tp = p.with_name(p.stem + ".truth.json")
    if not tp.is_file():
        return None
    try:
        return json.loads(tp.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{tp}: not valid JSON ({exc}); regenerate it with bayes-kfdi simulate."
        ) from exc


def _fit_one(eq: PaperEquation, panel: pd.DataFrame) -> EquationRun:
    fit = fit_equation(equation_frame(panel, eq), eq.command)
    return EquationRun(eq, fit.result, fit.error, fit.messages)


def run_equations(
    panel: pd.DataFrame,
    equations: Sequence[PaperEquation],
    *,
    truth: Mapping[str, Any] | None = None,
    data_path: str | Path | None = None,
) -> PaperRun:
    """Fit every equation whose series the panel has.

    Parameters
    ----------
    panel : pandas.DataFrame
        Canonical long panel (``series, country, year, fdi`` and covariates).
    equations : sequence of PaperEquation
        Usually :func:`~bayes_kfdi.paper.equations.load_equations`.
    truth : mapping, optional
        The simulated panel's truth (see :func:`read_truth`).
    data_path : path, optional
        Recorded for provenance only.

    Returns
    -------
    PaperRun
        A failed fit is kept with its error message rather than aborting the others.
    """
    if SERIES not in panel.columns:
        raise DataError(f"the panel has no {SERIES!r} column (columns: {list(panel.columns)}).")
    have = set(panel[SERIES].unique())
    runs: dict[str, EquationRun] = {}
    notes = []
    for eq in equations:
        if eq.series not in have:
            notes.append(f"{eq.name}: skipped, the panel has no series {eq.series!r}")
            continue
        runs[eq.name] = _fit_one(eq, panel)
    if not runs:
        raise DataError(
            f"none of the paper's series {list(PAPER_SERIES)} is in the panel "
            f"(it has {sorted(have)}); bayes-kfdi paper needs a paper-shaped panel."
        )
    return PaperRun(
        runs=runs,
        truth=None if truth is None else dict(truth),
        data_path=None if data_path is None else Path(data_path),
        notes=tuple(notes),
    )


def truth_value(
    truth: Mapping[str, Any] | None, series: str, variable: str, reference_year: int
) -> float:
    """Return the data-generating value of one coefficient, or NaN.

    ``L.fdi`` is rho. A slope is the truth's slope in ``reference_year`` (the year the
    equation's trend is centred at; for an equation without trend terms this is the
    slope at the panel's reference year, around which a time-varying slope is averaged).
    ``<term>_trend`` is the slope's change per year. ``_cons`` has no truth (the DGP
    centres covariates, so the paper's constant has no counterpart).
    """
    if truth is None:
        return math.nan
    if variable == "L.fdi":
        return float(truth.get("rho", {}).get(series, math.nan))
    beta = truth.get("beta", {}).get(series, {})
    trend = truth.get("beta_trend", {}).get(series, {})
    t_ref = float(truth.get("reference_year", reference_year))
    if variable.endswith(TREND_SUFFIX):
        term = variable[: -len(TREND_SUFFIX)]
        return float(trend.get(term, 0.0)) if term in beta else math.nan
    if variable in beta:
        return float(beta[variable]) + float(trend.get(variable, 0.0)) * (reference_year - t_ref)
    return math.nan


def _paper_lookup(table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    from bayes_kfdi.data import paper

    coefs = paper.table2() if table == "table2" else paper.table3()
    return coefs.set_index(["series", "term"]), paper.table_footers()


def build_table(run: PaperRun, table: str, variant: str = "baseline") -> pd.DataFrame:
    """Table 2 or 3 as a tidy frame.

    Parameters
    ----------
    run : PaperRun
    table : {"table2", "table3"}
    variant : {"baseline", "trend"}
        ``"trend"`` gives the trend-interaction equations; the paper prints no
        coefficients for them, so ``paper_*`` is NaN there except the baseline terms.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS` then ``pvalue, stars, paper_stars, kind, equation``
        (``kind`` is ``"coef"`` or ``"footer"``). Coefficient rows come first, in the
        paper's order, then ``L.fdi``, trend terms and ``_cons``; then the footer rows.
    """
    if table not in ("table2", "table3"):
        raise DataError(f"table={table!r}; expected 'table2' or 'table3'.")
    paper_coef, footers = _paper_lookup(table)
    rows: list[dict[str, Any]] = []
    for er in run.get(table, variant):
        eq = er.equation
        if er.result is None:
            names = []
        else:
            names = list(er.result.params.index)
        for name in names:
            res = er.result
            key = (eq.series, name)
            pc = paper_coef.loc[key] if key in paper_coef.index else None
            rows.append(
                {
                    "series": eq.series,
                    "variable": name,
                    "coef": float(res.params[name]),
                    "se": float(res.std_errors[name]),
                    "paper_coef": math.nan if pc is None else float(pc["coef"]),
                    "paper_se": math.nan if pc is None else float(pc["se"]),
                    "truth": truth_value(run.truth, eq.series, name, eq.reference_year),
                    "pvalue": float(res.pvalues[name]),
                    "stars": stars(float(res.pvalues[name])),
                    "paper_stars": "" if pc is None else str(pc["stars"]),
                    "kind": "coef",
                    "equation": eq.name,
                }
            )
        for frow in FOOTER_ROWS:
            stat, pval = _footer_value(er, frow)
            pkey, ppkey = _PAPER_FOOTER[frow]
            col = footers.get(eq.series)
            rows.append(
                {
                    "series": eq.series,
                    "variable": frow,
                    "coef": stat,
                    "se": pval,
                    "paper_coef": float(col[pkey])
                    if col is not None and variant == "baseline"
                    else math.nan,
                    "paper_se": (
                        float(col[ppkey])
                        if col is not None and ppkey and variant == "baseline"
                        else math.nan
                    ),
                    "truth": math.nan,
                    "pvalue": pval,
                    "stars": "",
                    "paper_stars": "",
                    "kind": "footer",
                    "equation": eq.name,
                }
            )
    out = pd.DataFrame(
        rows, columns=[*COLUMNS, "pvalue", "stars", "paper_stars", "kind", "equation"]
    )
    return out


def _footer_value(er: EquationRun, row: str) -> tuple[float, float]:
    res = er.result
    if res is None:
        return math.nan, math.nan
    if row == "obs":
        return float(res.nobs), math.nan
    if row == "groups":
        return float(res.n_groups), math.nan
    if row == "instruments":
        return float(res.n_instruments), math.nan
    test = res.ar_test(1 if row == "AR(1)" else 2) if row.startswith("AR") else res.hansen
    stat = getattr(test, "stat", None)
    if stat is None:
        return math.nan, math.nan
    return float(stat), float(test.pval)


def recovery(table: pd.DataFrame, *, k: float = 2.0) -> pd.DataFrame:
    """Per coefficient: ``z = (coef - truth) / se`` and whether ``|z| <= k``.

    Only the nine slopes of the paper's tables count (not ``L.fdi``, trend terms or
    ``_cons``); rows without a truth are dropped.
    """
    from bayes_kfdi.constants import COVARIATES

    t = table[(table["kind"] == "coef") & table["variable"].isin(COVARIATES)].copy()
    t = t[np.isfinite(t["truth"].to_numpy(float))]
    t["z"] = (t["coef"] - t["truth"]) / t["se"]
    t["within"] = t["z"].abs() <= k
    return t[["series", "variable", "coef", "se", "truth", "z", "within"]].reset_index(drop=True)


def attenuation(table: pd.DataFrame) -> pd.DataFrame:
    """How far the estimates stray from the truth, per series.

    Returns
    -------
    pandas.DataFrame
        One row per series: ``slope`` of the no-intercept regression of estimates on
        truth over the nine slopes (1 = no attenuation; the large-|truth| slopes
        dominate it); ``median_ratio`` of coef/truth over slopes with |truth| >= 0.05;
        ``share_within_2se``; ``rho_hat`` and ``rho_true``.
    """
    rec = recovery(table)
    rows = []
    for s, g in rec.groupby("series", sort=False):
        tr, co = g["truth"].to_numpy(float), g["coef"].to_numpy(float)
        slope = float(tr @ co / (tr @ tr)) if tr @ tr > 0 else math.nan
        big = np.abs(tr) >= 0.05
        ratio = float(np.median(co[big] / tr[big])) if big.any() else math.nan
        lag = table[(table["series"] == s) & (table["variable"] == "L.fdi")]
        rows.append(
            {
                "series": s,
                "slope": slope,
                "median_ratio": ratio,
                "share_within_2se": float(g["within"].mean()),
                "rho_hat": float(lag["coef"].iloc[0]) if len(lag) else math.nan,
                "rho_true": float(lag["truth"].iloc[0]) if len(lag) else math.nan,
            }
        )
    return pd.DataFrame(rows)
