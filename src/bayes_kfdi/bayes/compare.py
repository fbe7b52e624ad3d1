"""ELPD-LOO comparison of fitted variants, with Pareto-k diagnostics (arviz-stats).

LOO compares predictive densities of the *same* observations under the *same* dominating
measure. A Normal density at a floor-coded value and a Tobit point mass are not on one
scale, so a Normal model is never compared with a censored or hurdle one, and fits of
different rows (complete-case vs imputed) are refused as well.

PSIS-LOO is computed once per fit (:func:`fit_loo` keeps it while the fit's tree lives)
and the same result feeds the ranking and the Pareto-k counts. A Pareto k is "bad" above
the sample-size-aware threshold ``min(1 - 1/log10(S), 0.7)`` for S draws (Vehtari et al.
2024), the ``good_k`` that :func:`arviz_stats.loo` reports.
"""

from __future__ import annotations

import math
import warnings
import weakref
from collections.abc import Mapping

import arviz_stats as azs
import numpy as np
import pandas as pd
import xarray as xr

from bayes_kfdi.exceptions import ConvergenceWarning, ProvenanceError, SpecificationError

__all__ = [
    "compare_fits", "loo_table", "fit_loo", "bad_k_count", "pareto_k_threshold", "PARETO_K_MAX",
]

#: Large-sample limit of the Pareto-k threshold (Vehtari, Gelman and Gabry 2017).
PARETO_K_MAX = 0.7
#: Variable holding the pointwise log-likelihood.
_LL_VAR = "fdi"
#: LOO per live tree, keyed by id (a DataTree is unhashable); an entry dies with its tree.
_LOO_CACHE: dict[int, tuple[weakref.ref, azs.ELPDData]] = {}


def pareto_k_threshold(n_samples: int) -> float:
    """Pareto k above which PSIS-LOO is unreliable for ``n_samples`` draws.

    ``min(1 - 1/log10(S), 0.7)`` (Vehtari et al. 2024; arviz-stats' ``good_k``): 0.62
    at 400 draws, 0.7 from 2,154 draws on.
    """
    if n_samples <= 1:
        return PARETO_K_MAX
    return min(1 - 1 / math.log10(n_samples), PARETO_K_MAX)


def fit_loo(tree: xr.DataTree) -> azs.ELPDData:
    """Pointwise PSIS-LOO of a fit, computed once per tree and then reused."""
    key = id(tree)
    ref, hit = _LOO_CACHE.get(key, (None, None))
    if ref is not None and ref() is tree and hit is not None:
        return hit
    hit = azs.loo(tree, pointwise=True, var_name=_LL_VAR)
    _LOO_CACHE[key] = (weakref.ref(tree, lambda _r, k=key: _LOO_CACHE.pop(k, None)), hit)
    return hit


def bad_k_count(elpd: azs.ELPDData) -> tuple[int, float, float]:
    """Pareto-k values above the threshold, the threshold, and the largest k."""
    k = np.asarray(getattr(elpd.pareto_k, "values", elpd.pareto_k), dtype=float).ravel()
    good = elpd.good_k if elpd.good_k is not None else pareto_k_threshold(elpd.n_samples)
    return int(np.sum(k > good)), float(good), float(np.max(k))

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
    """Per-fit ELPD-LOO, its SE, p_loo and counts of Pareto-k above the threshold.

    Columns ``model, elpd_loo, se, p_loo, n_obs, n_pareto_k_bad, pareto_k_threshold,
    max_pareto_k, converged``; the threshold is :func:`pareto_k_threshold` of the fit's
    log-likelihood draws.
    """
    rows = []
    for name, dt in fits.items():
        res = fit_loo(dt)
        n_bad, good, k_max = bad_k_count(res)
        rows.append(
            {
                "model": name,
                "elpd_loo": float(res.elpd),
                "se": float(res.se),
                "p_loo": float(res.p),
                "n_obs": int(res.n_data_points),
                "n_pareto_k_bad": n_bad,
                "pareto_k_threshold": good,
                "max_pareto_k": k_max,
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
        ``arviz_stats.compare`` columns (rank, elpd, p, elpd_diff, weight, se, dse,
        warning) joined with Pareto-k counts, the threshold they use and the convergence
        flag, indexed by model name. LOO is computed once per fit for both.

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
    table = azs.compare({name: fit_loo(dt) for name, dt in fits.items()}, round_to=None)
    ks = loo_table(fits).set_index("model")[
        ["n_pareto_k_bad", "pareto_k_threshold", "max_pareto_k", "converged"]]
    return table.join(ks)
