"""Posterior summary table in the layout of SCHEMA section 3 (``summary.csv``).

Slopes are on the original covariate scale (per unit of the log covariate), so they
compare with GMM coefficients. A time-varying slope is summarised at the average year of
the modelled rows in its ``beta`` row (``year`` holds that average year) and in full in
``beta_t`` rows, one per year; its per-year change is the ``beta_trend`` row.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayes_kfdi.constants import CI_PROB

__all__ = ["SUMMARY_COLUMNS", "summarize", "REPORTED"]

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
)

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
        Central interval probability; the defaults give ``q05`` and ``q95``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`.
    """
    post = idata["posterior"].to_dataset()
    prior = idata["prior"].to_dataset() if "prior" in idata.children else None
    ref_year = float(idata.attrs.get("reference_year", np.nan))
    lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
    rows = []
    for var, label, fixed_term in REPORTED:
        if var not in post:
            continue
        da = post[var]
        ds = da.to_dataset(name=var)
        rhat = az.rhat(ds)[var]
        ess_b = az.ess(ds, method="bulk")[var]
        ess_t = az.ess(ds, method="tail")[var]
        mcse = az.mcse(ds, method="mean")[var]
        stacked = da.stack(sample=("chain", "draw"))
        mean = stacked.mean("sample")
        sd = stacked.std("sample", ddof=1)
        q = stacked.quantile([lo, hi], dim="sample")
        prior_sd = (
            prior[var].stack(sample=("chain", "draw")).std("sample", ddof=1)
            if prior is not None and var in prior else None
        )
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        index = (
            [{}]
            if not extra
            else [
                dict(zip(extra, combo, strict=True))
                for combo in np.ndindex(*[da.sizes[d] for d in extra])
            ]
        )
        for pos in index:
            sel = {d: i for d, i in pos.items()}
            labels = {d: da[d].values[i] for d, i in pos.items()}
            term = fixed_term
            if term is None:
                term = next(
                    (str(labels[d]) for d in ("term", "tv_term") if d in labels), ""
                )
            year = labels.get("year", np.nan)
            if label == "beta" and "beta_t" in post and "tv_term" in post["beta_t"].dims:
                if term in [str(t) for t in post["beta_t"]["tv_term"].values]:
                    year = ref_year
            rows.append(
                {
                    "parameter": label,
                    "series": str(labels.get("series", "")),
                    "term": term,
                    "year": year,
                    "mean": float(mean.isel(sel)),
                    "sd": float(sd.isel(sel)),
                    "q05": float(q.isel(sel).sel(quantile=lo)),
                    "q95": float(q.isel(sel).sel(quantile=hi)),
                    "r_hat": float(rhat.isel(sel)),
                    "ess_bulk": float(ess_b.isel(sel)),
                    "ess_tail": float(ess_t.isel(sel)),
                    "mcse_mean": float(mcse.isel(sel)),
                    "converged": bool(converged),
                    "prior_sd": np.nan if prior_sd is None else float(prior_sd.isel(sel)),
                }
            )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
