"""Posterior summary table in the layout of docs/contracts.md (``summary.csv``).

Slopes are on the original covariate scale (per unit of the log covariate), so they
compare with GMM coefficients. A time-varying slope is summarised at the average year of
the modelled rows in its ``beta`` row (``year`` holds that average year) and in full in
``beta_t`` rows, one per year; its per-year change is the ``beta_trend`` row.

Interval kinds: ``q05``/``q95`` are equal-tailed quantiles (the file's contract);
``hdi_low``/``hdi_high`` are the highest-density interval of the same probability, the
interval the report, :meth:`bayes_kfdi.bayes.fit.FitResult.conf_int` and the tables use.
Every statistic comes from one :func:`arviz_stats.summary` call per kind of interval.
"""

from __future__ import annotations

import arviz_stats as azs
import numpy as np
import pandas as pd
import xarray as xr

from bayes_kfdi.constants import CI_PROB

__all__ = ["SUMMARY_COLUMNS", "summarize", "posterior_stats", "REPORTED", "INTERVAL_KIND"]

SUMMARY_COLUMNS = (
    "parameter",
    "series",
    "term",
    "year",
    "mean",
    "sd",
    "q05",
    "q95",
    "r_hat",
    "ess_bulk",
    "ess_tail",
    "mcse_mean",
    "converged",
    "prior_sd",
    "hdi_low",
    "hdi_high",
)
#: Interval kind of ``hdi_low``/``hdi_high`` and of every interval shown beside a fit.
INTERVAL_KIND = "HDI"
_SAMPLE_DIMS = ("chain", "draw")

#: (posterior variable, parameter label, fixed term label or None = use the term dim)
REPORTED: tuple[tuple[str, str, str | None], ...] = (
    ("rho", "rho", "lag"),
    ("beta", "beta", None),
    ("beta_trend", "beta_trend", None),
    ("beta_t", "beta_t", None),
    ("beta_hurdle", "beta_hurdle", None),
    ("sigma", "sigma", ""),
    ("gamma_y0", "gamma_y0", "y0"),
    ("rho_mu", "rho_mu", "lag"),
    ("rho_tau", "rho_tau", "lag"),
    ("tau_country", "tau_country", ""),
    ("tau_unit", "tau_unit", ""),
)


def posterior_stats(ds: xr.Dataset, prob: float = CI_PROB) -> xr.Dataset:
    """Mean, sd, equal-tailed and HDI bounds, R-hat, ESS and MCSE of every variable.

    Parameters
    ----------
    ds : xarray.Dataset
        Draws with ``chain`` and ``draw`` dims.
    prob : float
        Interval probability.

    Returns
    -------
    xarray.Dataset
        The variables of ``ds`` with a ``summary`` dim: ``mean, sd, eti_lb, eti_ub,
        ess_bulk, ess_tail, r_hat, mcse_mean, mcse_sd, hdi_lb, hdi_ub``.
    """
    common = {"fmt": "xarray", "ci_prob": prob, "round_to": "none", "sample_dims": _SAMPLE_DIMS}
    full = azs.summary(ds, kind="all", ci_kind="eti", **common)
    hdi = azs.summary(ds, kind="stats", ci_kind="hdi", **common)
    # arviz names the bounds after the probability in percent (eti90_lb); drop the number
    rename = {str(v): str(v)[:3] + str(v)[-3:] for v in full["summary"].values
              if str(v).startswith(("eti", "hdi"))}
    full = full.assign_coords(summary=[rename.get(str(v), str(v)) for v in full["summary"].values])
    bounds = hdi.sel(summary=[v for v in hdi["summary"].values if str(v).startswith("hdi")])
    bounds = bounds.assign_coords(summary=["hdi_lb", "hdi_ub"])
    return xr.concat([full, bounds], dim="summary")


def _index(da: xr.DataArray) -> list[dict[str, int]]:
    extra = [d for d in da.dims if d not in _SAMPLE_DIMS]
    if not extra:
        return [{}]
    return [dict(zip(extra, combo, strict=True))
            for combo in np.ndindex(*[da.sizes[d] for d in extra])]


def summarize(idata: xr.DataTree, *, converged: bool, prob: float = CI_PROB) -> pd.DataFrame:
    """One row per scalar reported parameter.

    Parameters
    ----------
    idata : xarray.DataTree
        Fit with a ``posterior`` group written by :func:`bayes_kfdi.bayes.fit.fit`.
    converged : bool
        Fit-level convergence flag, copied into every row so that no consumer of the
        CSV can miss a failed fit.
    prob : float
        Interval probability; the defaults give ``q05`` and ``q95`` (equal-tailed) and
        the 90% ``hdi_low``/``hdi_high``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`.
    """
    post = idata["posterior"].to_dataset()
    prior = idata["prior"].to_dataset() if "prior" in idata.children else None
    ref_year = float(idata.attrs.get("reference_year", np.nan))
    names = [var for var, _, _ in REPORTED if var in post]
    if not names:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    table = posterior_stats(post[names], prob)
    tv_terms = (
        {str(t) for t in post["beta_t"]["tv_term"].values}
        if "beta_t" in post and "tv_term" in post["beta_t"].dims else set()
    )
    rows = []
    for var, label, fixed_term in REPORTED:
        if var not in post:
            continue
        da = post[var]
        stat = table[var]
        prior_sd = (
            prior[var].stack(sample=_SAMPLE_DIMS).std("sample", ddof=1)
            if prior is not None and var in prior else None
        )
        for sel in _index(da):
            labels = {d: da[d].values[i] for d, i in sel.items()}
            term = fixed_term
            if term is None:
                term = next((str(labels[d]) for d in ("term", "tv_term") if d in labels), "")
            year = labels.get("year", np.nan)
            if label == "beta" and term in tv_terms:
                year = ref_year
            cell = stat.isel(sel)
            value = {str(k): float(v) for k, v in zip(cell["summary"].values, cell.values,
                                                       strict=True)}
            rows.append(
                {
                    "parameter": label,
                    "series": str(labels.get("series", "")),
                    "term": term,
                    "year": year,
                    "mean": value["mean"],
                    "sd": value["sd"],
                    "q05": value["eti_lb"],
                    "q95": value["eti_ub"],
                    "r_hat": value["r_hat"],
                    "ess_bulk": value["ess_bulk"],
                    "ess_tail": value["ess_tail"],
                    "mcse_mean": value["mcse_mean"],
                    "converged": bool(converged),
                    "prior_sd": np.nan if prior_sd is None else float(prior_sd.isel(sel)),
                    "hdi_low": value["hdi_lb"],
                    "hdi_high": value["hdi_ub"],
                }
            )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
