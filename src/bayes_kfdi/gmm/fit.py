"""Numeric core of one- and two-step GMM: arrays in, a frozen :class:`GmmFit` out.

Implements the estimator of Arellano and Bond (1991) and Blundell and Bond (1998) as
computed by xtabond2 (Roodman 2009, sec. 2 and 4): one-step weights from ``H``, two-step
weights from the clustered one-step moment covariance, Windmeijer (2005) correction,
Sargan (one-step, non-robust weights) and Hansen (two-step weights) statistics.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from bayes_kfdi._typing import BoolArray, Float64Array, IntArray
from bayes_kfdi.exceptions import IdentificationError, SingularMatrixWarning
from bayes_kfdi.gmm.covariance import (
    group_moments,
    moment_covariance,
    moment_index,
    onestep_robust,
    windmeijer,
)
from bayes_kfdi.gmm.diagnostics import chi2_sf as _chi2_sf
from bayes_kfdi.gmm.weights import XTABOND2_PIVOT, invsym

__all__ = ["GmmProblem", "GmmFit", "fit_gmm"]


@dataclass(frozen=True, slots=True)
class GmmProblem:
    """Stacked estimation arrays over the used rows (n of them).

    Attributes
    ----------
    z : (n, L) sparse instruments ; x : (n, k) regressors ; y : (n,) outcome
    h : (n, n) sparse block-diagonal one-step weighting matrix
    gid : (n,) group index 0..N-1 ; n_groups : N (groups in the frame)
    error_rows : (n,) bool, rows whose residuals estimate sigma^2 (transformed equation,
        or the levels equation when h=1 in system GMM)
    sig2_divisor : ``2`` for first differences with h>1, else ``1`` (xtabond2)
    wttot : number of rows of the equation used for sigma^2
    """

    z: sp.csc_matrix
    x: Float64Array
    y: Float64Array
    h: sp.csr_matrix
    gid: IntArray
    n_groups: int
    error_rows: BoolArray
    sig2_divisor: float
    wttot: int


@dataclass(frozen=True, slots=True)
class GmmFit:
    """Results of :func:`fit_gmm`.

    Attributes
    ----------
    beta : (k,) reported coefficients (one- or two-step)
    cov : (k, k) reported covariance (non-robust, robust, or Windmeijer), before ``small``
    cov_nonrobust : (k, k) non-robust covariance of the reported step (V1 or V2)
    weight : (L, L) weight matrix ``A`` of the reported step (A1 scaled by 1/sigma^2, or A2)
    e : (n,) residuals of the reported step ; e1 : (n,) one-step residuals
    g : (N, L) per-group ``Z_i'e_i`` of the reported step (None for one-step non-robust)
    s : (L, L) moment covariance used for difference-in-Sargan/Hansen
    zx : (L, k) Z'X ; zy : (L,) Z'y
    sigma2 : xtabond2's sigma^2 of the reported step
    j0 : instrument count (columns minus those dropped by the generalized inverse)
    sargan, hansen : statistics (hansen is NaN for one-step non-robust)
    a1_dropped : (L,) bool, instruments dropped by the generalized inverse of Z'HZ
    v2_dropped : count of zero diagonal entries in V2
    """

    beta: Float64Array
    cov: Float64Array
    cov_nonrobust: Float64Array
    weight: Float64Array
    e: Float64Array
    e1: Float64Array
    g: Float64Array | None
    s: Float64Array
    zx: Float64Array
    zy: Float64Array
    sigma2: float
    j0: int
    sargan: float
    hansen: float
    a1_dropped: BoolArray
    v2_dropped: int
    two_step_singular: bool


def _solve_identified(zx: Float64Array, a: Float64Array, what: str) -> Float64Array:
    v, dropped = invsym(zx.T @ a @ zx, pivot=XTABOND2_PIVOT)
    if dropped.any():
        raise IdentificationError(
            f"The {what} GMM problem is not identified: X'Z A Z'X has rank "
            f"{int((~dropped).sum())} < {dropped.size} regressors. Expected the instruments "
            "to identify every coefficient. Add instruments or drop regressors."
        )
    return v


def fit_gmm(p: GmmProblem, *, twostep: bool, robust: bool) -> GmmFit:
    r"""One- or two-step GMM as in xtabond2.

    Notes
    -----
    .. math::
        A_1 = (Z'HZ)^{-},\quad \hat\beta_1 = (X'ZA_1Z'X)^{-1}X'ZA_1Z'y,\quad
        A_2 = \Big(\sum_i Z_i'\hat e_{1i}\hat e_{1i}'Z_i\Big)^{-},\quad
        \hat\beta_2 = (X'ZA_2Z'X)^{-1}X'ZA_2Z'y.

    ``sigma^2 = e'e / divisor / wttot`` over the error rows (no degrees-of-freedom
    correction, as xtabond2). Sargan = :math:`\hat e_1'ZA_1Z'\hat e_1/\sigma^2`,
    Hansen = :math:`\hat e_2'ZA_2Z'\hat e_2` (computed even for one-step robust).
    """
    z, x, y = p.z, p.x, p.y
    zt = z.T.tocsr()
    zx = np.asarray(zt @ x)
    zy = np.asarray(zt @ y).ravel()
    zhz = np.asarray((zt @ (p.h @ z)).todense())
    a1u, a1_dropped = invsym(zhz, pivot=XTABOND2_PIVOT)
    j0 = int(zx.shape[0] - a1_dropped.sum())
    v1u = _solve_identified(zx, a1u, "one-step")
    b1 = v1u @ zx.T @ a1u @ zy
    e1 = y - x @ b1
    er = e1[p.error_rows]
    sig2 = float(er @ er) / p.sig2_divisor / max(p.wttot, 1)
    if not sig2 > 0:
        raise IdentificationError(
            f"One-step residual variance is {sig2}; the model fits the data exactly. "
            "Expected sigma^2 > 0. Check for a regressor identical to the outcome."
        )
    a1 = a1u / sig2
    v1 = v1u * sig2
    ze1 = np.asarray(zt @ e1).ravel()
    sargan = float(ze1 @ a1 @ ze1)
    onestep_nonrobust = not twostep and not robust
    if onestep_nonrobust:
        return GmmFit(b1, v1, v1, a1, e1, e1, None, zhz * sig2, zx, zy, sig2, j0, sargan,
                      float("nan"), a1_dropped, 0, False)
    if not z.has_sorted_indices:
        z = z.sorted_indices()
    index = moment_index(z, p.gid, p.n_groups)
    g1 = group_moments(z, e1, p.gid, p.n_groups, index=index)
    s = moment_covariance(g1)
    v1r = onestep_robust(v1, zx, a1, s) if robust else None
    a2, a2_dropped = invsym(s, pivot=XTABOND2_PIVOT)
    singular = bool(a2_dropped.any())
    if singular:
        warnings.warn(
            "Two-step estimated covariance matrix of moments is singular "
            f"({int(a2_dropped.sum())} of {a2_dropped.size} dependent); using a generalized "
            "inverse for the " + ("optimal two-step weighting matrix" if twostep
                                   else "robust weighting matrix of the Hansen test")
            + ". Difference-in-Sargan/Hansen statistics may be negative. "
            "Reduce the instrument count (collapse, lag limits).",
            SingularMatrixWarning,
            stacklevel=3,
        )
    v2, v2_dropped = invsym(zx.T @ a2 @ zx, pivot=XTABOND2_PIVOT)
    b2 = v2 @ zx.T @ a2 @ zy
    e2 = y - x @ b2
    ze2 = np.asarray(zt @ e2).ravel()
    hansen = float(ze2 @ a2 @ ze2)
    if twostep:
        if v2_dropped.any():
            raise IdentificationError(
                "The two-step GMM problem is not identified (X'Z A2 Z'X is singular). "
                "Add instruments or drop regressors."
            )
        er2 = e2[p.error_rows]
        sig2 = float(er2 @ er2) / p.sig2_divisor / max(p.wttot, 1)
        if robust:
            cov = windmeijer(v2=v2, v1_robust=v1r, zx=zx, a2=a2, ze2=ze2, g1=g1, z=z, x=x,
                             gid=p.gid, n_groups=p.n_groups)
        else:
            cov = v2
        g2 = group_moments(z, e2, p.gid, p.n_groups, index=index)
        return GmmFit(b2, (cov + cov.T) / 2, v2, a2, e2, e1, g2, s, zx, zy, sig2, j0, sargan,
                      hansen, a1_dropped, int(v2_dropped.sum()), singular)
    assert v1r is not None
    return GmmFit(b1, (v1r + v1r.T) / 2, v1, a1, e1, e1, g1, s, zx, zy, sig2, j0, sargan,
                  hansen, a1_dropped, int(v2_dropped.sum()), singular)


def chi2_sf(stat: float, df: float) -> float:
    """Upper tail of chi2(df); NaN when df <= 0 or the statistic is undefined."""
    if not np.isfinite(stat) or df <= 0:
        return float("nan")
    return _chi2_sf(stat, df)
