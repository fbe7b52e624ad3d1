"""Tidy tables for the report: every number is computed here, formatting happens later.

Each function takes :class:`~bayes_kfdi.report.inputs.RunInputs` (or evaluation results)
and returns a :class:`pandas.DataFrame` with numeric columns; the templates in
``render.py`` only format them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bayes_kfdi.bayes.compare import PARETO_K_MAX, bad_k_count, fit_loo
from bayes_kfdi.bayes.results import hdi_interval
from bayes_kfdi.constants import ESS_MIN, FDI_FLOOR, RHAT_MAX
from bayes_kfdi.report.hypothesis import DECISIONS, HypothesisResult, WageEffectSpec
from bayes_kfdi.report.inputs import (
    RunInputs,
    gmm_lookup,
    observation_series,
    slope_draws,
    slope_path,
)

__all__ = [
    "overview_table",
    "claims_table",
    "convergence_table",
    "worst_parameters",
    "loo_table",
    "gmm_diagnostics_table",
    "slope_path_frame",
    "ppc_frame",
    "wage_effect_table",
    "FLOOR_TOL",
]

#: Outcomes within this distance of log(3) count as floor-coded (CSV round trips keep at
#: least 6 decimals).
FLOOR_TOL = 1e-6
#: Large-S limit of the Pareto-k threshold; the table uses the fit's sample-size-aware
#: threshold min(1 - 1/log10(S), 0.7) (Vehtari et al. 2024; :func:`pareto_k_threshold`).
PARETO_K_BAD = PARETO_K_MAX


def _agree_word(bayes: str, gmm: str) -> str:
    """``yes``/``no`` only when both methods reached a decision; else ``no decision``."""
    if bayes in DECISIONS and gmm in DECISIONS:
        return "yes" if bayes == gmm else "no"
    return "no decision"


def overview_table(results: Sequence[HypothesisResult]) -> pd.DataFrame:
    """One row per hypothesis: verdict of each method and the joint posterior probability."""
    return pd.DataFrame(
        [
            {
                "hypothesis": r.hypothesis.id,
                "title": r.hypothesis.title,
                "joint_probability": r.joint_probability,
                "bayes_verdict": r.bayes_verdict,
                "gmm_verdict": r.gmm_verdict,
                "agree": _agree_word(r.bayes_verdict, r.gmm_verdict),
            }
            for r in results
        ]
    )


def claims_table(results: Sequence[HypothesisResult]) -> pd.DataFrame:
    """All claim rows of all hypotheses stacked (the ``HypothesisResult.table`` columns)."""
    return pd.concat([r.table for r in results], ignore_index=True)


def convergence_table(inputs: RunInputs) -> pd.DataFrame:
    """Sampler diagnostics against the package thresholds.

    Columns ``metric, value, threshold, ok``. R-hat and ESS come from ``summary.csv``;
    divergences from ``posterior.nc``'s ``sample_stats`` group.
    """
    rows: list[dict[str, Any]] = []
    if inputs.summary is not None:
        s = inputs.summary
        rows.append({"metric": "parameters summarised", "value": float(len(s)),
                     "threshold": math.nan, "ok": True})
        r = float(s["r_hat"].max())
        rows.append({"metric": "max R-hat", "value": r, "threshold": RHAT_MAX,
                     "ok": bool(r <= RHAT_MAX)})
        e = float(s["ess_bulk"].min())
        rows.append({"metric": "min ESS bulk", "value": e, "threshold": float(ESS_MIN),
                     "ok": bool(e >= ESS_MIN)})
    tree = inputs.posterior
    if tree is not None and "sample_stats" in tree.children:
        ss = tree["sample_stats"]
        if "diverging" in ss.data_vars:
            n = float(np.asarray(ss["diverging"].values).sum())
            rows.append({"metric": "divergent transitions", "value": n, "threshold": 0.0,
                         "ok": bool(n == 0)})
        post = tree["posterior"]
        rows.append({"metric": "chains x draws",
                     "value": float(post.sizes["chain"] * post.sizes["draw"]),
                     "threshold": math.nan, "ok": True})
    return pd.DataFrame(rows, columns=["metric", "value", "threshold", "ok"])


def worst_parameters(inputs: RunInputs, n: int = 10) -> pd.DataFrame:
    """Return the ``n`` summary rows with the highest R-hat (ties: lowest ESS first)."""
    if inputs.summary is None:
        return pd.DataFrame(columns=["parameter", "series", "term", "r_hat", "ess_bulk"])
    s = inputs.summary.sort_values(["r_hat", "ess_bulk"], ascending=[False, True])
    return s[["parameter", "series", "term", "mean", "sd", "r_hat", "ess_bulk"]].head(n)


def loo_table(inputs: RunInputs) -> tuple[pd.DataFrame, str]:
    """PSIS-LOO of the Bayesian fit, or an empty table and the reason it is missing.

    Returns
    -------
    (table, note)
        ``table`` has columns ``quantity, value``: elpd_loo, its se, p_loo, the number of
        observations, the sample-size-aware Pareto-k threshold for the fit's draws and the
        count of Pareto-k values above it (LOO from :func:`bayes_kfdi.bayes.compare.fit_loo`,
        computed once per tree).
    """
    tree = inputs.posterior
    if tree is None or "log_likelihood" not in tree.children:
        return pd.DataFrame(columns=["quantity", "value"]), (
            "not available: posterior.nc has no log_likelihood group"
        )
    elpd = fit_loo(tree)
    n_bad, good, _ = bad_k_count(elpd)
    rows = [
        ("elpd_loo", float(elpd.elpd)),
        ("se(elpd_loo)", float(elpd.se)),
        ("p_loo", float(elpd.p)),
        ("observations", float(elpd.n_data_points)),
        (f"Pareto k threshold ({elpd.n_samples} draws)", good),
        (f"Pareto k > {good:.2f}", float(n_bad)),
    ]
    return pd.DataFrame(rows, columns=["quantity", "value"]), ""


def _stat(d: Any, key: str) -> float:
    if not isinstance(d, dict) or d.get(key) is None:
        return math.nan
    return float(d[key])


def gmm_diagnostics_table(inputs: RunInputs) -> pd.DataFrame:
    """One row per GMM equation: observations, groups, instruments, AR(1), AR(2), Hansen."""
    rows = []
    for eq in inputs.gmm:
        r = eq.result
        ar = r.get("ar") or {}
        j, g = r.get("n_instruments"), r.get("n_groups")
        rows.append(
            {
                "equation": eq.path.name,
                "series": eq.series,
                "variant": eq.variant,
                "nobs": r.get("nobs"),
                "n_groups": g,
                "n_instruments": j,
                "instruments_per_group": (j / g) if j is not None and g else math.nan,
                "ar1_z": _stat(ar.get("1"), "z"),
                "ar1_p": _stat(ar.get("1"), "p"),
                "ar2_z": _stat(ar.get("2"), "z"),
                "ar2_p": _stat(ar.get("2"), "p"),
                "hansen_chi2": _stat(r.get("hansen"), "chi2"),
                "hansen_df": _stat(r.get("hansen"), "df"),
                "hansen_p": _stat(r.get("hansen"), "p"),
                "vce": r.get("vce") or "",
            }
        )
    return pd.DataFrame(rows)


def _trend_reference(inputs: RunInputs, eq_result: Any) -> tuple[float, str]:
    """Year at which a GMM trend-interaction term is zero, and where that came from."""
    if isinstance(eq_result, dict) and eq_result.get("trend_reference_year") is not None:
        return float(eq_result["trend_reference_year"]), "GMM JSON trend_reference_year"
    ref = inputs.data_check.get("trend_reference_year")
    if ref is not None:
        return float(ref), "data_check.json trend_reference_year"
    y0 = inputs.data_check.get("year_min")
    if y0 is not None:
        return float(y0), "assumed: first panel year (no trend_reference_year recorded)"
    return math.nan, "unknown: no trend_reference_year or year range recorded"


def slope_path_frame(inputs: RunInputs, series: str, term: str) -> pd.DataFrame:
    """Posterior bands of a time-varying slope by year, with the GMM trend line.

    Columns ``year, hdi90_low, hdi50_low, median, hdi50_high, hdi90_high, gmm`` (90% and
    50% HDIs; ``gmm``: coefficient plus the trend interaction times years since the
    reference year; NaN without a GMM trend equation).
    Empty when the posterior has no year-by-year path for this slope.
    """
    cols = ["year", "hdi90_low", "hdi50_low", "median", "hdi50_high", "hdi90_high", "gmm"]
    if inputs.posterior is None:
        return pd.DataFrame(columns=cols)
    path = slope_path(inputs.posterior, series, term)
    if path is None:
        return pd.DataFrame(columns=cols)
    years, draws = path
    # bands are 90% and 50% HDIs per year (the report's one interval kind)
    outer = np.array([hdi_interval(draws[:, j], 0.9) for j in range(draws.shape[1])]).T
    inner = np.array([hdi_interval(draws[:, j], 0.5) for j in range(draws.shape[1])]).T
    frame = pd.DataFrame({"year": years.astype(int), "hdi90_low": outer[0],
                          "hdi50_low": inner[0], "median": np.median(draws, axis=0),
                          "hdi50_high": inner[1], "hdi90_high": outer[1],
                          "gmm": math.nan})
    trend = gmm_lookup(inputs, series, term, "trend")
    if trend is not None:
        eq, tname = trend
        base = eq.result["coef"].get(term)
        if base is not None:
            ref, _ = _trend_reference(inputs, eq.result)
            frame["gmm"] = float(base) + float(eq.result["coef"][tname]) * (years - ref)
    return frame


def ppc_frame(inputs: RunInputs, var: str = "fdi") -> pd.DataFrame:
    """Posterior predictive check by series: floor share, mean and sd, observed vs replicated.

    Columns ``series, statistic, observed, rep_q05, rep_median, rep_q95``. Series come
    from a ``series`` coordinate on the observation dim when present; otherwise the whole
    sample is one group ``all``. Empty when ``posterior_predictive`` or ``observed_data``
    is missing.
    """
    cols = ["series", "statistic", "observed", "rep_q05", "rep_median", "rep_q95"]
    tree = inputs.posterior
    if tree is None or not {"posterior_predictive", "observed_data"} <= set(tree.children):
        return pd.DataFrame(columns=cols)
    if any(var not in tree[g].data_vars for g in ("observed_data", "posterior_predictive")):
        return pd.DataFrame(columns=cols)
    obs = tree["observed_data"][var]
    rep = tree["posterior_predictive"][var]
    obs_dims = [d for d in obs.dims]
    if len(obs_dims) != 1:
        obs = obs.stack(_obs=obs_dims)
        rep = rep.stack(_obs=obs_dims)
        odim = "_obs"
    else:
        odim = obs_dims[0]
    y = np.asarray(obs.values, dtype=float)
    yrep = np.asarray(rep.transpose("chain", "draw", odim).values, dtype=float)
    yrep = yrep.reshape(-1, yrep.shape[-1])
    groups = observation_series(tree, odim) if odim != "_obs" else None
    if groups is None or groups.shape != y.shape:
        groups = np.full(y.shape, "all")
    rows = []
    for g in sorted(set(groups.tolist())):
        m = (groups == g) & np.isfinite(y)
        yo, yr = y[m], yrep[:, m]
        for name, fo, fr in (
            ("floor share", np.mean(np.abs(yo - FDI_FLOOR) <= FLOOR_TOL),
             np.mean(yr <= FDI_FLOOR + FLOOR_TOL, axis=1)),
            ("mean", yo.mean(), yr.mean(axis=1)),
            # population sd (ddof 0), the convention of the fit's ppc.csv
            ("sd", yo.std(), yr.std(axis=1)),
        ):
            q = np.quantile(fr, [0.05, 0.5, 0.95])
            rows.append({"series": g, "statistic": name, "observed": float(fo),
                         "rep_q05": q[0], "rep_median": q[1], "rep_q95": q[2]})
    return pd.DataFrame(rows, columns=cols)


def _pct(x: np.ndarray | float) -> np.ndarray | float:
    return 100.0 * np.expm1(x)


def wage_effect_table(
    inputs: RunInputs, spec: WageEffectSpec, ci_prob: float, not_identified_ratio: float = 0.5
) -> tuple[pd.DataFrame, list[str]]:
    """Compare the paper's wage effect: percent change in FDI after a k-sd rise.

    The effect at year ``t`` of raising the log covariate by ``k`` standard deviations
    is ``100 * (exp(k * sd * beta(t)) - 1)`` percent, where ``beta(t)`` is the slope in
    year ``t``: the posterior path (Bayes) or ``b + c * (t - t0)`` from the GMM trend
    equation, with a delta-method interval on the log scale.

    Returns
    -------
    (table, notes)
        ``table`` has columns ``method, period, year, effect_pct, low_pct, high_pct,
        source``; ``notes`` lists the assumptions used (empty when none).
    """
    cols = ["method", "period", "year", "effect_pct", "low_pct", "high_pct", "source"]
    notes: list[str] = []
    sd = ((inputs.data_check.get("covariate_sd") or {}).get(spec.series) or {}).get(spec.term)
    y0, y1 = inputs.data_check.get("year_min"), inputs.data_check.get("year_max")
    rows: list[dict[str, Any]] = []
    if spec.paper_start_pct is not None and spec.paper_end_pct is not None:
        for period, v in (("start", spec.paper_start_pct), ("end", spec.paper_end_pct)):
            rows.append({"method": "paper", "period": period, "year": math.nan, "effect_pct": v,
                         "low_pct": math.nan, "high_pct": math.nan, "source": spec.source})
    if sd is None or y0 is None or y1 is None:
        notes.append(
            f"no sd of {spec.term} for {spec.series} or no year range in data_check.json; "
            "only the paper's figures are shown"
        )
        return pd.DataFrame(rows, columns=cols), notes
    k = spec.sd_multiple * float(sd)
    paper_sd = f"; the paper's Table 4 sd is {spec.paper_sd:.3f}" if spec.paper_sd else ""
    notes.append(
        f"a {spec.sd_multiple:g}-sd rise uses the sd of {spec.term} for {spec.series} in these "
        f"data ({float(sd):.3f}){paper_sd}. Effects are on latent FDI, "
        "100 x (exp(k x sd x slope) - 1)."
    )
    if inputs.truth:
        notes.append("the data are simulated: their slopes were rescaled so that one sd of "
                     "each simulated column has the paper's effect per Table 4 sd.")
    s_ = inputs.summary
    if s_ is not None and "prior_sd" in s_.columns:
        hit = s_[(s_["parameter"] == "beta") & (s_["series"] == spec.series)
                 & (s_["term"] == spec.term)]
        if len(hit) == 1 and float(hit["sd"].iloc[0]) > not_identified_ratio * float(
                hit["prior_sd"].iloc[0]):
            notes.append(
                f"the Bayesian {spec.term} slope for {spec.series} is not identified "
                f"(posterior sd {float(hit['sd'].iloc[0]) / float(hit['prior_sd'].iloc[0]):.2f}"
                " of its prior sd): its interval reflects the prior, not the data."
            )
    hi_q = 0.5 + ci_prob / 2
    if inputs.posterior is not None:
        path = slope_path(inputs.posterior, spec.series, spec.term)
        if path is not None:
            years, draws = path
            for period, idx in (("start", 0), ("end", -1)):
                d = draws[:, idx]
                rows.append({
                    "method": "Bayes", "period": period, "year": float(years[idx]),
                    "effect_pct": float(np.median(_pct(k * d))),
                    "low_pct": hdi_interval(_pct(k * d), ci_prob)[0],
                    "high_pct": hdi_interval(_pct(k * d), ci_prob)[1],
                    "source": "posterior.nc slope path (median, HDI)",
                })
        else:
            try:
                lvl = slope_draws(inputs.posterior, spec.series, spec.term, "level").ravel()
                tr = slope_draws(inputs.posterior, spec.series, spec.term, "trend").ravel()
            except Exception as exc:  # noqa: BLE001 - any missing piece is reported as a note
                notes.append(f"Bayes: {exc}")
            else:
                mid = (float(y0) + float(y1)) / 2
                for period, yr in (("start", float(y0)), ("end", float(y1))):
                    d = lvl + tr * (yr - mid)
                    rows.append({
                        "method": "Bayes", "period": period, "year": yr,
                        "effect_pct": float(np.median(_pct(k * d))),
                        "low_pct": hdi_interval(_pct(k * d), ci_prob)[0],
                        "high_pct": hdi_interval(_pct(k * d), ci_prob)[1],
                        "source": "posterior.nc slope and trend at the average year",
                    })
    found = gmm_lookup(inputs, spec.series, spec.term, "trend")
    if found is None:
        notes.append(f"GMM: no trend-interaction equation for {spec.term} in {spec.series}")
    else:
        eq, tname = found
        r = eq.result
        b, c = float(r["coef"][spec.term]), float(r["coef"][tname])
        sb, sc = float(r["se"][spec.term]), float(r["se"][tname])
        cov = (r.get("cov") or {}).get(spec.term, {}).get(tname)
        if cov is None:
            cov = 0.0
            notes.append(
                f"GMM: {eq.path.name} has no covariance of {spec.term} and {tname}; the "
                "delta-method interval assumes it is zero"
            )
        ref, ref_src = _trend_reference(inputs, r)
        if ref_src.startswith(("assumed", "unknown")):
            notes.append(f"GMM trend reference year: {ref_src}")
        zc = float(stats.norm.ppf(hi_q))
        for period, yr in (("start", float(y0)), ("end", float(y1))):
            dt = yr - ref
            est = b + c * dt
            se = math.sqrt(max(sb**2 + dt**2 * sc**2 + 2 * dt * float(cov), 0.0))
            rows.append({
                "method": "GMM", "period": period, "year": yr,
                "effect_pct": float(_pct(k * est)),
                "low_pct": float(_pct(k * (est - zc * se))),
                "high_pct": float(_pct(k * (est + zc * se))),
                "source": f"{eq.path.name}: {spec.term} + {tname} x (year - {ref:g})",
            })
    return pd.DataFrame(rows, columns=cols), notes
