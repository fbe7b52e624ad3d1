"""Clustered moment covariance, one-step robust and Windmeijer-corrected covariances.

All functions take per-group moment contributions ``G`` with row ``i`` equal to
``Z_i' e_i`` (shape (N, L)), computed once by :func:`group_moments`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from bayes_kfdi._typing import Float64Array, IntArray

__all__ = ["group_moments", "moment_index", "moment_covariance", "onestep_robust",
           "windmeijer"]


def group_moments(
    z: sp.csc_matrix,
    e: Float64Array,
    gid: IntArray,
    n_groups: int,
    *,
    index: tuple[IntArray, IntArray] | None = None,
) -> Float64Array:
    """``G[i] = Z_i' e_i`` for every group, (N, L) dense.

    One weighted ``bincount`` over the stored entries of ``Z`` (column by column, rows in
    order), which adds each group's products in row order -- the same sums as the sparse
    product ``P (Z * e)`` with ``P`` the group indicator, without building ``P``.
    ``index`` is :func:`moment_index` of the same ``Z``, to share it between calls.
    """
    if not z.has_sorted_indices:
        z = z.sorted_indices()
        index = None
    rows, key = index if index is not None else moment_index(z, gid, n_groups)
    n_cols = z.shape[1]
    sums = np.bincount(key, weights=z.data * e[rows], minlength=n_cols * n_groups)
    return sums.reshape(n_cols, n_groups).T.copy()


def moment_index(z: sp.csc_matrix, gid: IntArray, n_groups: int) -> tuple[IntArray, IntArray]:
    """Row of each stored entry of ``Z`` (sorted CSC) and its (column, group) bin."""
    rows = z.indices.astype(np.int64)
    col = np.repeat(np.arange(z.shape[1], dtype=np.int64), np.diff(z.indptr))
    return rows, col * n_groups + gid[rows]


def moment_covariance(g: Float64Array) -> Float64Array:
    """Cluster-robust moment covariance ``S = sum_i Z_i'e_i e_i'Z_i = G'G`` (L, L)."""
    return g.T @ g


def onestep_robust(
    v1: Float64Array, zx: Float64Array, a1: Float64Array, s: Float64Array
) -> Float64Array:
    r"""Sandwich covariance of the one-step estimator.

    .. math:: V_{1r} = V_1 X'Z A_1 \, S \, A_1 Z'X V_1
    """
    vxza = v1 @ zx.T @ a1
    return vxza @ s @ vxza.T


def windmeijer(
    *,
    v2: Float64Array,
    v1_robust: Float64Array,
    zx: Float64Array,
    a2: Float64Array,
    ze2: Float64Array,
    g1: Float64Array,
    z: sp.csc_matrix,
    x: Float64Array,
    gid: IntArray,
    n_groups: int,
) -> Float64Array:
    r"""Windmeijer (2005) finite-sample corrected two-step covariance.

    Notes
    -----
    With :math:`c = A_2 Z'\hat e_2` and :math:`g_i = Z_i'\hat e_{1i}`,

    .. math::
        D = V_2 X'Z A_2 \sum_i \big[(g_i'c)\, Z_i'X_i + g_i\, c' Z_i'X_i\big],\qquad
        V_{2c} = V_2 + D V_2 + V_2 D' + D V_{1r} D'.

    This is xtabond2's arrangement (Roodman 2009, sec. 2.4); the per-group sums are a sparse
    product and weighted counts, so no group loop is needed.
    """
    c = a2 @ ze2
    s_i = g1 @ c  # (N,) e1_i'Z_i A2 Z'e2
    term1 = np.asarray(z.T @ (x * s_i[gid][:, None]))
    zc = np.asarray(z @ c).ravel()
    xzc = x * zc[:, None]
    # (N, k): c'Z_i'X_i, each group's rows added in order
    q = np.stack([np.bincount(gid, weights=xzc[:, j], minlength=n_groups)
                  for j in range(x.shape[1])], axis=1).reshape(n_groups, x.shape[1])
    term2 = g1.T @ q
    d = v2 @ zx.T @ a2 @ (term1 + term2)
    out = v2 + d @ v1_robust @ d.T + d @ v2 + v2 @ d.T
    return (out + out.T) / 2
