"""ELPD-LOO comparison of fitted variants, with Pareto-k diagnostics (arviz-stats).

LOO compares predictive densities of the *same* observations under the *same* dominating
measure. A Normal density at a floor-coded value and a Tobit point mass are not on one
scale, so a Normal model is never compared with a censored or hurdle one, and fits of
different rows (complete-case vs imputed) are refused as well.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayes_kfdi.exceptions import ConvergenceWarning, ProvenanceError, SpecificationError

__all__ = ["compare_fits", "loo_table", "PARETO_K_MAX"]

#: Pareto-k above 0.7 makes the PSIS estimate of that observation unreliable
#: (Vehtari, Gelman and Gabry 2017; arviz-stats default threshold).
PARETO_K_MAX = 0.7

_MIXED_FAMILY = {"censored", "hurdle"}


def _check_comparable(fits: Mapping[str, xr.DataTree]) -> None:
    for name, dt in fits.items():
        if "log_likelihood" not in dt.children:
            raise ProvenanceError(
                f"fit '{name}' has no log_likelihood group; refit with log-likelihood "
                "enabled (the CLI always computes it)"
            )
        if not int(dt.attrs.get("converged", 0)):
            warnings.warn(
                f"fit '{name}' did NOT converge ({dt.attrs.get('convergence_problems', '')}); "
                "its LOO is not trustworthy",
                ConvergenceWarning,
                stacklevel=3,
            )
    liks = {n: dt.attrs.get("likelihood", "?") for n, dt in fits.items()}
    kinds = {"normal" if v == "normal" else "mixed" for v in liks.values()}
    if len(kinds) > 1:
        raise SpecificationError(
            f"cannot compare by LOO a Normal likelihood with a censored/hurdle one ({liks}): "
            "a density at floor-coded values and a point mass are on different scales; "
            "compare Normal fits with Normal fits, censored/hurdle with each other"
        )
    rows = {n: dt.attrs.get("likelihood_rows_sha256") for n, dt in fits.items()}
    if len(set(rows.values())) > 1:
        raise ProvenanceError(
            "the fits model different observations (e.g. complete-case vs imputed, or "
            f"different data files): row hashes {({k: str(v)[:12] for k, v in rows.items()})}; "
            "LOO can only compare fits of the same rows"
        )


def loo_table(fits: Mapping[str, xr.DataTree]) -> pd.DataFrame:
    """Per-fit ELPD-LOO, its SE, p_loo and counts of Pareto-k above the threshold."""
    rows = []
    for name, dt in fits.items():
        res = az.loo(dt, pointwise=True, var_name="fdi")
        k = np.asarray(res.pareto_k).ravel()
        rows.append(
            {
                "model": name,
                "elpd_loo": float(res.elpd),
                "se": float(res.se),
                "p_loo": float(res.p),
                "n_obs": int(k.size),
                "n_pareto_k_bad": int(np.sum(k > PARETO_K_MAX)),
                "max_pareto_k": float(np.max(k)),
                "converged": bool(int(dt.attrs.get("converged", 0))),
            }
        )
    return pd.DataFrame(rows)


def compare_fits(fits: Mapping[str, xr.DataTree]) -> pd.DataFrame:
    """Rank fits by ELPD-LOO.

    Parameters
    ----------
    fits : mapping of name to xarray.DataTree
        At least two fits of the same rows with the same likelihood family.

    Returns
    -------
    pandas.DataFrame
        ``az.compare`` columns (rank, elpd, p, elpd_diff, weight, se, dse, warning)
        joined with Pareto-k counts and the convergence flag, indexed by model name.

    Raises
    ------
    SpecificationError
        If a Normal fit is compared with a censored or hurdle fit.
    ProvenanceError
        If the fits model different rows or lack a log-likelihood.
    """
    if len(fits) < 2:
        raise SpecificationError(
            f"compare needs at least two fits, got {len(fits)}; pass several directories"
        )
    _check_comparable(fits)
    table = az.compare(dict(fits), var_name="fdi", round_to=None)
    ks = loo_table(fits).set_index("model")[["n_pareto_k_bad", "max_pareto_k", "converged"]]
    return table.join(ks)
