"""One-step weighting matrix H and generalized inverses.

References
----------
Arellano, M. and Bond, S. (1991); Blundell, R. and Bond, S. (1998); Roodman, D. (2009),
"How to do xtabond2", Stata Journal 9(1), sec. 3.4 and 4 (the ``h()`` option).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from bayes_kfdi._typing import BoolArray, Float64Array, IntArray
from bayes_kfdi.exceptions import SingularMatrixWarning

__all__ = ["transform_matrix", "h_matrix", "stacked_h", "invsym", "XTABOND2_PIVOT"]

#: Relative pivot below which a column counts as linearly dependent on earlier columns.
#: Stata's invsym() drops such columns (sets their rows/columns to zero).
#: Exact collinearities leave pivots at the rounding floor, which grows with the matrix
#: size (measured up to ~1e-10 for 113 x 113 moment matrices of rank 40), while genuine
#: pivots in those matrices were >= 1e-6; 1e-9 separates the two.
INVSYM_TOL = 1e-9
#: Eigenvalues below ``RANK_RTOL * k * max eigenvalue`` count as zero when capping the
#: number of kept columns at the numerical rank.
RANK_RTOL = 1e-12
#: Column choice of the generalized inverses in the estimator and its tests (Stata's).
XTABOND2_PIVOT = "largest"

_POTRS = sla.get_lapack_funcs("potrs", (np.zeros((1, 1)),))
_POTRF = sla.get_lapack_funcs("potrf", (np.zeros((1, 1)),))


def transform_matrix(transform: str, t: int) -> Float64Array:
    """Columns of ``M`` map a group's T level errors to its transformed errors.

    First differences: column ``c`` is ``e_c - e_{c-1}``. Forward orthogonal deviations
    (stored one period late): column ``c`` is the scaled ``e_{c-1} - mean(e_c..e_{T-1})``.
    Column 0 is zero in both cases (no transformed observation in the first period).
    """
    m = np.zeros((t, t))
    if transform == "fd":
        idx = np.arange(1, t)
        m[idx, idx] = 1.0
        m[idx - 1, idx] = -1.0
        return m
    for c in range(1, t):
        m[c - 1, c] = 1.0
        m[c:, c] = -1.0 / (t - c)
    norms = np.sqrt((m**2).sum(axis=0))
    norms[norms == 0] = 1.0
    return m / norms


def h_matrix(
    h: int, transform: str, system: bool, t: int, *, left: str | None = None
) -> Float64Array:
    r"""xtabond2's one-step weighting matrix for one group.

    Notes
    -----
    With ``M`` from :func:`transform_matrix` and ``I`` the identity,

    .. math::
        H = M'M \text{ (difference GMM)},\qquad
        H_{h=3} = [M, I]'[M, I] = \begin{pmatrix} M'M & M' \\ M & I \end{pmatrix},\qquad
        H_{h=2} = \operatorname{diag}(M'M, I),\qquad H_{h=1} = I.

    ``h=3`` (xtabond2's default) is the covariance of the transformed and levels errors
    when the idiosyncratic errors are i.i.d. and the fixed effects are ignored.
    ``left`` (default: ``transform``) lets the AR test mix a differenced left side with an
    orthogonal-deviations right side, as xtabond2 does.
    """
    if h == 1:
        ml = mr = np.eye(t)
    else:
        ml = transform_matrix(left or transform, t)
        mr = transform_matrix(transform, t)
    if system and h == 3:
        ml = np.hstack([ml, np.eye(t)])
        mr = np.hstack([mr, np.eye(t)])
        out = ml.T @ mr
    elif system:
        out = sla.block_diag(ml.T @ mr, np.eye(t))
    else:
        out = ml.T @ mr
    out[np.abs(out) < 1e-14] = 0.0
    return out


def stacked_h(h_group: Float64Array, used_rows: IntArray, rows_per_group: int) -> sp.csr_matrix:
    """Block-diagonal ``I_N (x) H`` restricted to the stacked rows ``used_rows``."""
    g = used_rows // rows_per_group
    p = used_rows % rows_per_group
    h_row, h_col = np.nonzero(h_group)
    # every (group, nonzero of H) pair at once: (N, nnz) stacked positions, -1 if unused
    local = np.full((g.max() + 1 if used_rows.size else 0, rows_per_group), -1, dtype=np.int64)
    local[g, p] = np.arange(used_rows.size)
    ra, rb = local[:, h_row], local[:, h_col]
    ok = (ra >= 0) & (rb >= 0)
    vals = np.broadcast_to(h_group[h_row, h_col], ra.shape)[ok]
    n = used_rows.size
    # groups in order, H's nonzeros row by row and used rows ascending: already CSR order
    rows, cols = ra[ok], rb[ok]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return sp.csr_matrix((vals, cols, indptr), shape=(n, n))


def invsym(
    a: Float64Array, *, what: str = "", warn: bool = False, pivot: str = "order"
) -> tuple[Float64Array, BoolArray]:
    """Inverse of a symmetric PSD matrix, or Stata-``invsym`` generalized inverse.

    A column whose scaled pivot (its residual variance given the kept columns, relative
    to its own variance) is below :data:`INVSYM_TOL` is dropped: its row and column of
    the result are zero, as in Stata's ``invsym()``. Which columns are kept when the
    matrix is singular depends on ``pivot``:

    - ``"order"``: columns are swept left to right (``_rmcoll``'s choice of regressors);
    - ``"largest"``: each step sweeps the remaining column with the largest residual
      variance (leftmost on ties), the choice Stata's ``invsym()`` makes for xtabond2's
      weighting matrices and variances. With more instruments than groups the two-step
      estimate depends on it (``tests/reference/test_cigar.py``).

    Returns
    -------
    inverse : (k, k) array
    dropped : (k,) bool, True for dropped columns (``diag0cnt`` = ``dropped.sum()``)
    """
    if pivot not in ("order", "largest"):
        raise ValueError(f"pivot={pivot!r}; expected 'order' or 'largest'")
    a = np.asarray(a, dtype=float)
    k = a.shape[0]
    a = (a + a.T) / 2
    d = a.diagonal()
    dropped = ~(d > 0)
    if dropped.any():
        scale = np.where(dropped, 1.0, 1.0 / np.sqrt(np.where(dropped, 1.0, d)))
    else:
        scale = 1.0 / np.sqrt(d)
    s = a * scale[:, None] * scale[None, :]
    keep = ~dropped
    chol = None
    if keep.any():
        sub = s if keep.all() else s[np.ix_(keep, keep)]
        chol = _cholesky_lower(sub)
        if chol is None or np.min(chol.diagonal()) ** 2 <= INVSYM_TOL:
            if pivot == "largest":
                keep = _largest_pivot_keep(s, d, keep)
                chol = _cholesky_lower(s[np.ix_(keep, keep)]) if keep.any() else None
                if chol is None and keep.any():  # rounding left the kept block not PD
                    keep, chol = _sequential_keep(s, keep)
            else:
                keep, chol = _sequential_keep(s, keep)
    dropped = ~keep
    if chol is not None and keep.any():
        # what sla.cho_solve runs, minus its batching and validation wrappers
        inv, info = _POTRS(chol, np.eye(int(keep.sum())), lower=True)
        if info != 0:  # pragma: no cover - only for malformed arguments
            raise np.linalg.LinAlgError(f"LAPACK potrs failed with info={info}")
        if dropped.any():
            out = np.zeros((k, k))
            out[np.ix_(keep, keep)] = inv
        else:
            out = inv
        out = out * scale[:, None] * scale[None, :]
    else:
        out = np.zeros((k, k))
    if warn and dropped.any():
        warnings.warn(
            f"The {what or 'matrix'} is singular ({int(dropped.sum())} of {k} dimensions "
            "dependent); a generalized inverse is used instead.",
            SingularMatrixWarning,
            stacklevel=3,
        )
    return (out + out.T) / 2, dropped


def _cholesky_lower(s: Float64Array) -> Float64Array | None:
    """Lower Cholesky factor of ``s`` (None if not positive definite).

    The factor is bit-for-bit ``sla.cho_factor(s, lower=True)``'s: LAPACK's upper
    factorization of ``s'`` read in place, without that function's batching wrappers.
    """
    c, info = _POTRF(s.T, lower=False, clean=False)
    if info < 0:  # pragma: no cover - only for malformed arguments
        raise np.linalg.LinAlgError(f"LAPACK potrf failed with info={info}")
    return c.T if info == 0 else None


def _largest_pivot_keep(s: Float64Array, d: Float64Array, keep0: BoolArray) -> BoolArray:
    """Columns a pivoted sweep keeps: largest residual variance first, leftmost on ties.

    ``s`` is the unit-diagonal scaling of the matrix and ``d`` its diagonal, so the
    residual variance of column j is ``resid[j, j] * d[j]``; a column stays open while its
    relative residual ``resid[j, j]`` exceeds :data:`INVSYM_TOL`.
    """
    resid = s.copy()
    keep = np.zeros(s.shape[0], dtype=bool)
    while True:
        r = resid.diagonal()
        open_ = keep0 & ~keep & (r > INVSYM_TOL)
        if not open_.any():
            return keep
        cand = np.flatnonzero(open_)
        j = int(cand[np.argmax(r[cand] * d[cand])])
        keep[j] = True
        col = resid[:, j] / np.sqrt(resid[j, j])
        resid -= np.outer(col, col)


def _sequential_keep(s: Float64Array, keep0: BoolArray) -> tuple[BoolArray, Float64Array]:
    """Keep columns in order while their pivots exceed the tolerance, up to the rank.

    Returns the kept mask and the lower Cholesky factor of the kept sub-matrix.
    """
    k = s.shape[0]
    sub = s[np.ix_(keep0, keep0)]
    ev = np.linalg.eigvalsh(sub) if sub.size else np.zeros(0)
    rank = int((ev > RANK_RTOL * max(k, 1) * (ev.max() if ev.size else 0.0)).sum())
    keep = np.zeros(k, dtype=bool)
    idx: list[int] = []
    chol = np.zeros((k, k))
    for j in range(k):
        if not keep0[j] or len(idx) >= rank:
            continue
        m = len(idx)
        if m:
            v = sla.solve_triangular(chol[:m, :m], s[idx, j], lower=True, check_finite=False)
            piv = s[j, j] - v @ v
        else:
            v = np.zeros(0)
            piv = s[j, j]
        if piv > INVSYM_TOL:
            chol[m, :m] = v
            chol[m, m] = np.sqrt(piv)
            idx.append(j)
            keep[j] = True
    m = len(idx)
    return keep, chol[:m, :m].copy()
