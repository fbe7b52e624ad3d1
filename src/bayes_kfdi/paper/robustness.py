"""The robustness checks of the paper's section 6, and the instrument sweep it omits.

1. Static panel estimators side by side (linearmodels): PanelOLS with entity effects,
   RandomEffects, FirstDifferenceOLS; standard errors clustered by host.
2. Lag-length and instrument-count variants of each baseline equation: truncated
   instrument lags, and up to three lags of FDI on the right-hand side.
3. The correlation table and variance inflation factors (the paper's Appendix 2).
4. Roodman's (2009) instrument sensitivity sweep: collapse x lag limits, with the
   coefficients and Hansen's p plotted against the instrument count.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from bayes_kfdi.constants import (
    COUNTRY,
    COVARIATES,
    HOST_COVARIATES,
    OUTCOME,
    SERIES,
    TRADE_COVARIATES,
    YEAR,
)
from bayes_kfdi.exceptions import DataError
from bayes_kfdi.gmm.runner import EquationFit, fit_equation

__all__ = [
    "SWEEP_COLLAPSE",
    "SWEEP_MAX_LAGS",
    "SWEEP_MAX_LAGS_UNCOLLAPSED",
    "InstrumentConfig",
    "build_command",
    "correlations",
    "instrument_sweep",
    "lag_variants",
    "plot_sweep",
    "robustness_outputs",
    "static_panels",
    "vif",
]

#: Deepest instrument lag of the collapsed sweep (None = all available, Stata's ".").
SWEEP_MAX_LAGS: tuple[int | None, ...] = (2, 3, 4, 6, 10, None)
#: Deepest lags of the uncollapsed sweep. Uncollapsed, lag 2 alone gives ~170 columns
#: on 30 groups; deeper sets (270+ columns) take 2-3.5 s per fit and mostly fail to
#: factorise, so they would only add cost to ``bayes-kfdi paper``.
SWEEP_MAX_LAGS_UNCOLLAPSED: tuple[int | None, ...] = (2,)
SWEEP_COLLAPSE: tuple[bool, ...] = (True, False)
#: Coefficients traced in the sweep plot.
SWEEP_TERMS: tuple[str, ...] = ("L.fdi", "exports", "imports", "wage")


@dataclass(frozen=True, slots=True)
class InstrumentConfig:
    """Instrument layout of a generated command.

    ``fdi_lag``/``trade_lag`` are xtabond2 ``lag(a b)`` limits of ``gmm(L.fdi)`` and of
    ``gmm(exports exunit imports imunit)``; ``b = None`` is ``.`` (all lags).
    """

    fdi_lag: tuple[int, int | None] = (1, 3)
    trade_lag: tuple[int, int | None] = (2, None)
    collapse: bool = True
    y_lags: int = 1

    @property
    def label(self) -> str:
        """Short description, e.g. ``collapse, lags 2-., 1 lag of fdi``."""
        hi = "." if self.trade_lag[1] is None else str(self.trade_lag[1])
        return (
            f"{'collapse' if self.collapse else 'uncollapsed'}, trade lags "
            f"{self.trade_lag[0]}-{hi}, fdi lags {self.fdi_lag[0] + 1}-"
            f"{'.' if self.fdi_lag[1] is None else self.fdi_lag[1] + 1}, "
            f"{self.y_lags} lag(s) of fdi"
        )


def build_command(cfg: InstrumentConfig, columns: Sequence[str]) -> str:
    """Build an xtabond2 command of the paper's form for the covariates present in ``columns``."""
    host = [c for c in HOST_COVARIATES if c in columns]
    trade = [c for c in TRADE_COVARIATES if c in columns]
    ylag = "L.fdi" if cfg.y_lags == 1 else f"L(1/{cfg.y_lags}).fdi"
    col = " collapse" if cfg.collapse else ""

    def lag(a: int, b: int | None) -> str:
        return f"lag({a} {'.' if b is None else b})"

    parts = [
        f"xtabond2 fdi {ylag} {' '.join(host + trade)},",
        f"gmm(L.fdi, {lag(*cfg.fdi_lag)}{col})",
    ]
    if trade:
        parts.append(f"gmm({' '.join(trade)}, {lag(*cfg.trade_lag)}{col})")
    if host:
        parts.append(f"iv({' '.join(host)})")
    parts.append("twostep robust")
    return " ".join(parts)


def _fit(frame: pd.DataFrame, cmd: str) -> EquationFit:
    return fit_equation(frame, cmd)


def _series_frame(panel: pd.DataFrame, series: str) -> pd.DataFrame:
    sub = panel.loc[panel[SERIES] == series].drop(columns=[SERIES]).reset_index(drop=True)
    if sub.empty:
        raise DataError(
            f"series {series!r} not in the panel (it has {sorted(panel[SERIES].unique())})."
        )
    return sub


# ------------------------------------------------------------------ static panels
def static_panels(panel: pd.DataFrame, series: str) -> pd.DataFrame:
    """FE (PanelOLS entity effects), RE and first-difference OLS of fdi on the covariates.

    Returns
    -------
    pandas.DataFrame
        Long: ``series, estimator, variable, coef, se, nobs``; SEs clustered by host.
    """
    from linearmodels.panel import FirstDifferenceOLS, PanelOLS, RandomEffects

    sub = _series_frame(panel, series)
    xs = [c for c in COVARIATES if c in sub.columns and sub[c].notna().any()]
    d = sub[[COUNTRY, YEAR, OUTCOME, *xs]].dropna().set_index([COUNTRY, YEAR]).sort_index()
    y, x = d[OUTCOME], d[xs]
    fits = {
        "PanelOLS (entity effects)": lambda: PanelOLS(
            y, x.assign(const=1.0), entity_effects=True, drop_absorbed=True
        ),
        "RandomEffects": lambda: RandomEffects(y, x.assign(const=1.0)),
        "FirstDifferenceOLS": lambda: FirstDifferenceOLS(y, x),
    }
    rows = []
    for name, make in fits.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = make().fit(cov_type="clustered", cluster_entity=True)
        for v in xs:
            if v in res.params.index:
                rows.append(
                    {
                        "series": series,
                        "estimator": name,
                        "variable": v,
                        "coef": float(res.params[v]),
                        "se": float(res.std_errors[v]),
                        "nobs": int(res.nobs),
                    }
                )
    return pd.DataFrame(rows)


# ------------------------------------------------------------- correlations, VIF
def correlations(panel: pd.DataFrame, series: str) -> pd.DataFrame:
    """Pairwise Pearson correlations of fdi and the covariates (complete rows)."""
    sub = _series_frame(panel, series)
    cols = [OUTCOME, *[c for c in COVARIATES if c in sub.columns and sub[c].notna().any()]]
    return sub[cols].dropna().corr()


def vif(panel: pd.DataFrame, series: str) -> pd.DataFrame:
    """Variance inflation factors of the covariates: ``1 / (1 - R^2_j)``.

    ``R^2_j`` is from the OLS regression (with intercept) of covariate j on the others
    over complete rows, by least squares in numpy.
    """
    sub = _series_frame(panel, series)
    xs = [c for c in COVARIATES if c in sub.columns and sub[c].notna().any()]
    x = sub[xs].dropna().to_numpy(float)
    if x.shape[0] <= x.shape[1]:
        raise DataError(
            f"VIF needs more complete rows than covariates; got {x.shape[0]} rows "
            f"for {x.shape[1]} covariates in series {series!r}."
        )
    out = []
    for j, name in enumerate(xs):
        yj = x[:, j]
        others = np.column_stack([np.ones(len(yj)), np.delete(x, j, axis=1)])
        beta, *_ = np.linalg.lstsq(others, yj, rcond=None)
        resid = yj - others @ beta
        r2 = 1.0 - float(resid @ resid) / float(((yj - yj.mean()) ** 2).sum())
        out.append(
            {
                "series": series,
                "variable": name,
                "r2": r2,
                "vif": math.inf if r2 >= 1 else 1.0 / (1.0 - r2),
            }
        )
    return pd.DataFrame(out)


# ------------------------------------------------------------ GMM variants
def _summ(fit: EquationFit, series: str, cfg: InstrumentConfig,
          variant: str) -> list[dict[str, Any]]:
    with warnings.catch_warnings():
        # a non-positive Windmeijer variance gives NaN SEs; they stay NaN in the table
        warnings.simplefilter("ignore", RuntimeWarning)
        return _summ_rows(fit, series, cfg, variant)


def _summ_rows(fit: EquationFit, series: str, cfg: InstrumentConfig,
               variant: str) -> list[dict[str, Any]]:
    rows = []
    res = fit.result
    if res is None:
        return [
            {
                "series": series,
                "variant": variant,
                "config": cfg.label,
                "collapse": cfg.collapse,
                "max_lag": cfg.trade_lag[1],
                "variable": None,
                "coef": math.nan,
                "se": math.nan,
                "n_instruments": math.nan,
                "hansen_p": math.nan,
                "ar2_p": math.nan,
                "ok": False,
                "error": fit.error,
            }
        ]
    hp = getattr(res.hansen, "pval", math.nan)
    ar2 = getattr(res.ar_test(2), "pval", math.nan)
    for v in res.params.index:
        rows.append(
            {
                "series": series,
                "variant": variant,
                "config": cfg.label,
                "collapse": cfg.collapse,
                "max_lag": cfg.trade_lag[1],
                "variable": v,
                "coef": float(res.params[v]),
                "se": float(res.std_errors[v]),
                "n_instruments": int(res.n_instruments),
                "hansen_p": float(hp),
                "ar2_p": float(ar2),
                "ok": True,
                "error": None,
            }
        )
    return rows


def lag_variants(panel: pd.DataFrame, series: Sequence[str]) -> pd.DataFrame:
    """Run the paper's check 1: truncated instrument lags and up to three lags of FDI.

    Returns
    -------
    pandas.DataFrame
        Long: ``series, variant, config, variable, coef, se, n_instruments, hansen_p,
        ar2_p, ok``.
    """
    variants = {
        "truncated instruments (lags 2-3)": InstrumentConfig(fdi_lag=(1, 2), trade_lag=(2, 3)),
        "deep instruments (all lags)": InstrumentConfig(fdi_lag=(1, None), trade_lag=(2, None)),
        "2 lags of fdi": InstrumentConfig(y_lags=2),
        "3 lags of fdi": InstrumentConfig(y_lags=3),
    }
    rows: list[dict[str, Any]] = []
    for s in series:
        frame = _series_frame(panel, s)
        for name, cfg in variants.items():
            rows += _summ(_fit(frame, build_command(cfg, frame.columns)), s, cfg, name)
    return pd.DataFrame(rows)


def instrument_sweep(
    panel: pd.DataFrame,
    series: Sequence[str],
    *,
    max_lags: Sequence[int | None] = SWEEP_MAX_LAGS,
    max_lags_uncollapsed: Sequence[int | None] = SWEEP_MAX_LAGS_UNCOLLAPSED,
    collapse: Sequence[bool] = SWEEP_COLLAPSE,
) -> pd.DataFrame:
    """Roodman's (2009) sensitivity check: refit over collapse x lag limits.

    For a deepest lag m, fdi is instrumented by its lags 2..m and trade by lags 2..m.
    Returns the long frame of :func:`lag_variants` with ``variant = "sweep"``.
    """
    rows: list[dict[str, Any]] = []
    for s in series:
        frame = _series_frame(panel, s)
        for c in collapse:
            for m in max_lags if c else max_lags_uncollapsed:
                cfg = InstrumentConfig(
                    fdi_lag=(1, None if m is None else m - 1), trade_lag=(2, m), collapse=c
                )
                rows += _summ(_fit(frame, build_command(cfg, frame.columns)), s, cfg, "sweep")
    return pd.DataFrame(rows)


def plot_sweep(sweep: pd.DataFrame, *, n_groups: int | None = None) -> Figure:
    """Coefficients and Hansen's p against the instrument count, one row per series."""
    import matplotlib  # coefficients against instrument count: no arviz-plots counterpart

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = sweep[sweep["ok"]]
    series = list(dict.fromkeys(ok["series"]))
    fig, axes = plt.subplots(
        max(len(series), 1), 2, figsize=(10, 2.6 * max(len(series), 1)), squeeze=False
    )
    for i, s in enumerate(series):
        g = ok[ok["series"] == s]
        ax_c, ax_h = axes[i]
        for k, term in enumerate(SWEEP_TERMS):
            for c, marker in ((True, "o"), (False, "x")):
                t = g[(g["variable"] == term) & (g["collapse"] == c)].sort_values("n_instruments")
                if len(t):
                    ax_c.plot(
                        t["n_instruments"],
                        t["coef"],
                        marker=marker,
                        lw=0.8,
                        color=f"C{k}",
                        label=term if c else None,
                    )
        h = g.drop_duplicates(["config"]).sort_values("n_instruments")
        for c, marker in ((True, "o"), (False, "x")):
            hh = h[h["collapse"] == c]
            ax_h.plot(
                hh["n_instruments"],
                hh["hansen_p"],
                marker=marker,
                lw=0.8,
                label="collapsed" if c else "uncollapsed",
            )
        ax_h.set_ylim(-0.03, 1.03)
        for ax in (ax_c, ax_h):
            if n_groups:
                ax.axvline(n_groups, color="grey", ls=":", lw=0.8)
            ax.set_xlabel("instruments")
        ax_c.set_ylabel(f"{s}\ncoefficient")
        ax_h.set_ylabel("Hansen p")
        if i == 0:
            ax_c.legend(fontsize=6, ncol=2)
            ax_h.legend(fontsize=7)
    fig.suptitle(
        "Instrument sensitivity (Roodman 2009): o collapsed, x uncollapsed; "
        "dotted line = number of groups",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def robustness_outputs(panel: pd.DataFrame, run: Any) -> tuple[dict[str, str], Figure]:
    """Run every check on the series the paper run estimated (nothing is written).

    Returns
    -------
    (files, figure)
        CSV text by file name, and the instrument-sweep figure.
    """
    series = list(
        dict.fromkeys(
            er.equation.series for er in run.runs.values() if er.equation.variant == "baseline"
        )
    )
    files: dict[str, str] = {}
    static = pd.concat([static_panels(panel, s) for s in series], ignore_index=True)
    gmm_rows = []
    for er in run.runs.values():
        if er.equation.variant == "baseline" and er.result is not None:
            for v in er.result.params.index:
                if v in COVARIATES:
                    gmm_rows.append(
                        {
                            "series": er.equation.series,
                            "estimator": "System GMM (two-step)",
                            "variable": v,
                            "coef": float(er.result.params[v]),
                            "se": float(er.result.std_errors[v]),
                            "nobs": int(er.result.nobs),
                        }
                    )
    static = pd.concat([static, pd.DataFrame(gmm_rows)], ignore_index=True)
    files["static_panels.csv"] = static.to_csv(index=False)
    wide = static.pivot_table(
        index=["series", "variable"], columns="estimator", values="coef", sort=False
    )
    files["static_panels_wide.csv"] = wide.to_csv()
    files["lag_variants.csv"] = lag_variants(panel, series).to_csv(index=False)
    sectors = [s for s in ("textile", "steel", "electronics") if s in series] or series[:1]
    corr = pd.concat({s: correlations(panel, s) for s in sectors}, names=["series", "variable"])
    files["correlations.csv"] = corr.to_csv()
    v = pd.concat([vif(panel, s) for s in sectors], ignore_index=True)
    files["vif.csv"] = v.to_csv(index=False)
    sweep = instrument_sweep(panel, series)
    files["instrument_sweep.csv"] = sweep.to_csv(index=False)
    groups = [er.result.n_groups for er in run.runs.values() if er.result is not None]
    fig = plot_sweep(sweep, n_groups=int(np.median(groups)) if groups else None)
    return files, fig
