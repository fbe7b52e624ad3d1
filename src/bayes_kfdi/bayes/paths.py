"""Flexible slope paths over years: Gaussian random walks and HSGP approximations."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.gp.hsgp_approx import approx_hsgp_hyperparams
from scipy import stats

from bayes_kfdi.bayes.prepare import YEAR_SCALE, ModelData

__all__ = ["HSGP_LS_MEAN", "HSGP_LS_SD", "flexible_paths"]

#: Prior of the HSGP length-scale (decades): InverseGamma with this mean and sd; its 95%
#: interval sets the basis size and box (``approx_hsgp_hyperparams``).
HSGP_LS_MEAN = 1.0
HSGP_LS_SD = 0.5


def flexible_paths(spec, md: ModelData, rw_terms, gp_terms, y_sd: float):
    """Year paths (S, n_rw + n_gp, T) of the flexible slopes, each centred over years.

    ``rw``: a Gaussian random walk, innovation sd ``rw_sigma`` per term. ``hsgp``: a
    Hilbert-space approximate Gaussian process (Riutort-Mayol et al. 2023) over years,
    exponentiated-quadratic kernel with amplitude ``gp_amplitude`` and length-scale
    ``gp_lengthscale`` (decades) per term; the basis size and box follow PyMC's
    ``approx_hsgp_hyperparams`` for the length-scale prior's 95% interval, and the basis
    comes from ``pymc.gp.HSGP``. Both paths are deviations from the average-year slope
    ``beta``, so they sum to zero over years, and their coefficients are non-centred.
    """
    parts = []
    if rw_terms:
        rw_sigma = pm.HalfNormal("rw_sigma", 0.1 * y_sd, dims="rw_term")
        innov = pm.Normal("rw_innov", 0.0, 1.0, dims=("series", "rw_term", "year"))
        parts.append(pt.cumsum(innov * rw_sigma[None, :, None], axis=2))
    if gp_terms:
        t = (np.asarray(md.years, dtype=float) - md.reference_year) / YEAR_SCALE
        a = HSGP_LS_MEAN**2 / HSGP_LS_SD**2 + 2.0
        ls_range = stats.invgamma(a, scale=HSGP_LS_MEAN * (a - 1.0)).ppf([0.025, 0.975])
        n_basis, c = approx_hsgp_hyperparams([t.min(), t.max()], list(ls_range), "expquad")
        pm.modelcontext(None).add_coord("gp_basis", np.arange(n_basis))
        amp = pm.HalfNormal("gp_amplitude", spec.priors.trend_sd * y_sd, dims="gp_term")
        ell = pm.InverseGamma("gp_lengthscale", mu=HSGP_LS_MEAN, sigma=HSGP_LS_SD, dims="gp_term")
        # one basis for all terms (same years, size and box); the spectral density per term
        lin = [
            pm.gp.HSGP(
                m=[n_basis], c=c, cov_func=amp[j] ** 2 * pm.gp.cov.ExpQuad(1, ls=ell[j])
            ).prior_linearized(X=t[:, None])
            for j in range(len(gp_terms))
        ]
        phi = lin[0][0]
        coef = pm.Normal("gp_coef_z", 0.0, 1.0, dims=("series", "gp_term", "gp_basis"))
        scaled = coef * pt.stack([psd for _, psd in lin])[None, :, :]
        parts.append((scaled[:, :, None, :] * pt.as_tensor_variable(phi)[None, None]).sum(-1))
    path = parts[0] if len(parts) == 1 else pt.concatenate(parts, axis=1)
    return path - path.mean(axis=2, keepdims=True)
