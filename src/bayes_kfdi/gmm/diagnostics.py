"""Specification tests: Arellano-Bond AR(m), Sargan/Hansen J, difference-in-Hansen, Wald.

Test objects follow ``linearmodels.shared.hypotheses``: a :class:`TestStatistic` when the
test applies, an :class:`InapplicableTest` with the reason when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import special

from bayes_kfdi._typing import BoolArray, Float64Array, IntArray
from bayes_kfdi.gmm.weights import XTABOND2_PIVOT, invsym

__all__ = [
    "TestStatistic",
    "InapplicableTest",
    "ar_statistic",
    "diff_hansen_stat",
    "wald_stat",
    "chi2_sf",
    "f_sf",
    "norm_sf",
]


# Upper-tail probabilities through scipy.special, the functions scipy.stats' ``chi2``,
# ``f`` and ``norm`` evaluate internally (bit-identical values), without the generic
# argument checking of ``rv_continuous.sf`` (~0.2 ms a call; a fit makes a dozen).
def chi2_sf(stat: float, df: float) -> float:
    """``scipy.stats.chi2.sf(stat, df)``: NaN when ``df <= 0``, 1 below the support."""
    if not df > 0:
        return float("nan")
    if stat < 0:
        return 1.0
    return float(special.chdtrc(df, stat))


def f_sf(stat: float, dfn: float, dfd: float) -> float:
    """``scipy.stats.f.sf(stat, dfn, dfd)``: NaN for non-positive df, 1 below the support."""
    if not (dfn > 0 and dfd > 0):
        return float("nan")
    if stat < 0:
        return 1.0
    return float(special.fdtrc(dfn, dfd, stat))


def norm_sf(z: float) -> float:
    """``scipy.stats.norm.sf(z)``."""
    return float(special.ndtr(-z))


@dataclass(frozen=True, slots=True)
class TestStatistic:
    """A test statistic: ``stat`` with ``df`` (None for z tests) and p-value ``pval``."""

    __test__ = False  # not a pytest test class

    stat: float
    pval: float
    df: float | None = None
    name: str = ""
    null: str = ""
    dist: str = "chi2"

    def to_dict(self) -> dict[str, float]:
        """JSON form: ``{"z", "p"}`` for z tests, ``{"chi2", "df", "p"}`` otherwise."""
        if self.dist == "z":
            return {"z": float(self.stat), "p": float(self.pval)}
        if self.dist == "F":
            return {"F": float(self.stat), "df": self.df, "p": float(self.pval)}  # type: ignore[dict-item]
        df = self.df
        if df is not None and float(df).is_integer():
            df = int(df)  # chi2(46), as xtabond2 prints it
        return {"chi2": float(self.stat), "df": df, "p": float(self.pval)}


@dataclass(frozen=True, slots=True)
class InapplicableTest:
    """A test that does not apply to this fit; ``reason`` says why (JSON ``null``)."""

    reason: str
    name: str = ""

    def to_dict(self) -> None:
        """JSON form: ``null``."""
        return None


def ar_statistic(
    *,
    w: Float64Array,
    order: int,
    x_tested: Float64Array,
    g: Float64Array | None,
    z: sp.csc_matrix,
    psi_w: Float64Array | None,
    h_ar: Float64Array | None,
    touse_tested: BoolArray,
    m2vzxa: Float64Array,
    v: Float64Array,
    rows_of_frame: IntArray,
    n_rows: int,
) -> TestStatistic | InapplicableTest:
    r"""Arellano-Bond (1991) test for AR(``order``) in the transformed residuals.

    Parameters
    ----------
    w : (N, T) residuals of the tested (differenced) equation on the frame, 0 if unused
    x_tested : (N, T, k) regressors of the tested equation on the frame, 0 if unused
    g : (N, L) per-group ``Z_i'e_i`` (robust / two-step); None for one-step non-robust
    psi_w : (T, R) xtabond2's ``psi'`` (one-step non-robust only)
    h_ar : (T, T) ``H * sigma^2`` of the differenced equation (one-step non-robust only)
    m2vzxa : (k, L) ``-2 V X'Z A`` ; v : (k, k) covariance of the estimates
    rows_of_frame : (n,) stacked-frame index of each used row

    Notes
    -----
    With :math:`w_l` the residuals lagged ``order`` periods and
    :math:`s_i = \sum_t w_{it} w_{l,it}`, xtabond2 (after Arellano and Bond 1991, eq. 8)
    computes :math:`z = \sum_i s_i / \sqrt{\sum_i s_i^2 + q'(-2VX'ZA\,\sum_i Z_i'e_i s_i
    + V q)}` with :math:`q = X'w_l`; one-step non-robust replaces the first terms by their
    homoskedastic counterparts built from ``H``.
    """
    n, t = w.shape
    wl = np.zeros_like(w)
    if order < t:
        wl[:, order:] = w[:, :-order]
    s_i = (w * wl).sum(axis=1)
    if not np.any(s_i):
        return InapplicableTest(
            f"no group has residuals {order} periods apart in the transformed equation",
            name=f"AR({order})",
        )
    q = np.einsum("itk,it->k", x_tested, wl)
    if g is None:
        assert psi_w is not None and h_ar is not None
        wli = wl * touse_tested
        whw = float(((wli @ h_ar) * wli).sum())
        psiw = wli @ psi_w  # (N, R)
        vec = np.zeros(n_rows)
        vec[: psiw.size] = psiw.ravel()
        zhw = np.asarray(z.T @ vec[rows_of_frame]).ravel()
    else:
        whw = float(s_i @ s_i)
        zhw = g.T @ s_i
    var = whw + float(q @ (m2vzxa @ zhw + v @ q))
    if not var > 0:
        return InapplicableTest(f"variance of the AR({order}) statistic is {var:.3g} <= 0",
                                name=f"AR({order})")
    zstat = float(s_i.sum() / np.sqrt(var))
    return TestStatistic(zstat, 2 * norm_sf(abs(zstat)), None,
                         f"Arellano-Bond AR({order})", f"no AR({order}) in differences", "z")


def diff_hansen_stat(
    *,
    other: BoolArray,
    j0: int,
    k: int,
    a1_dropped: BoolArray,
    s: Float64Array,
    zx: Float64Array,
    zy: Float64Array,
    zt: sp.csr_matrix,
    x: Float64Array,
    y: Float64Array,
    full_stat: float,
    full_df: int,
    v_dropped: int,
    v2_dropped: int,
) -> tuple[TestStatistic, TestStatistic] | InapplicableTest:
    """Difference-in-Sargan/Hansen for one instrument group (Roodman 2009, sec. 2.3).

    ``other`` marks the instruments *not* in the group; ``zt`` is ``Z'`` as CSR. The
    model is re-estimated with those only, using the sub-block of the moment covariance
    ``S``; the restricted J and its difference from the full J are returned as
    (excluded, difference).
    """
    n_other = int((other & ~a1_dropped).sum())
    if not (n_other >= k and n_other < j0):
        return InapplicableTest(
            f"{n_other} instruments remain without the group; need >= {k} and < {j0}"
        )
    idx = np.flatnonzero(other)
    app, _ = invsym(s[np.ix_(idx, idx)], pivot=XTABOND2_PIVOT)
    zxp = zx[idx]
    vr, vr_dropped = invsym(zxp.T @ app @ zxp, pivot=XTABOND2_PIVOT)
    if int(vr_dropped.sum()) != v_dropped:
        return InapplicableTest("coefficients are not identified without the group")
    b = vr @ zxp.T @ app @ zy[idx]
    e = y - x @ b
    zep = np.asarray(zt @ e).ravel()[idx]  # = Z[:, idx]'e without slicing Z
    excl = float(zep @ app @ zep)
    diff = full_stat - excl
    df_diff = j0 - n_other - v2_dropped
    df_excl = full_df - df_diff
    return (
        TestStatistic(excl, _chi2_sf(excl, df_excl), float(df_excl), "excluding group"),
        TestStatistic(diff, _chi2_sf(diff, df_diff), float(df_diff), "difference",
                      "group is exogenous"),
    )


def _chi2_sf(stat: float, df: float) -> float:
    if df <= 0 or not np.isfinite(stat):
        return float("nan")
    return chi2_sf(stat, df)


def wald_stat(
    beta: Float64Array, cov: Float64Array, df_m: int, *, small: bool, df_r: int | None
) -> TestStatistic | InapplicableTest:
    """Wald test that all coefficients are zero, as xtabond2 reports it.

    ``chi2 = b' V^- b`` with ``df_m = rank(X) - 1{constant}``; with ``small`` an
    ``F(df_m, df_r) = chi2 / df_m``.
    """
    if df_m <= 0:
        return InapplicableTest("no slope coefficients to test", name="Wald")
    vinv, _ = invsym(cov, pivot=XTABOND2_PIVOT)
    chi2 = float(beta @ vinv @ beta)
    if small:
        f = chi2 / df_m
        assert df_r is not None
        return TestStatistic(f, f_sf(f, df_m, df_r), float(df_m), "F", "", "F")
    return TestStatistic(chi2, chi2_sf(chi2, df_m), float(df_m), "Wald chi2")
