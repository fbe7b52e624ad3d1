"""Per-series and per-unit array algebra on the model's inputs (numpy, one pytensor product)."""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt

__all__ = ["series_means", "series_nanmeans", "within_slopes", "series_qr", "series_rowdot"]


def series_means(values: np.ndarray, series: np.ndarray, n_series: int) -> np.ndarray:
    """Mean of ``values`` (rows, or rows x columns) within each series, per row."""
    v = np.asarray(values, dtype=float)
    counts = np.bincount(series, minlength=n_series).astype(float)
    if v.ndim == 1:
        sums = np.bincount(series, weights=v, minlength=n_series)
        return (sums / np.maximum(counts, 1.0))[series]
    sums = np.stack(
        [np.bincount(series, weights=v[:, j], minlength=n_series) for j in range(v.shape[1])],
        axis=1,
    )
    return (sums / np.maximum(counts, 1.0)[:, None])[series]


def series_nanmeans(values: np.ndarray, series: np.ndarray, n_series: int) -> np.ndarray:
    """(S, K) mean of the observed (non-NaN) values of each column within each series."""
    v = np.asarray(values, dtype=float)
    ok = ~np.isnan(v)
    out = np.zeros((n_series, v.shape[1]))
    for j in range(v.shape[1]):
        n = np.bincount(series[ok[:, j]], minlength=n_series)
        tot = np.bincount(series[ok[:, j]], weights=v[ok[:, j], j], minlength=n_series)
        out[:, j] = np.where(n > 0, tot / np.maximum(n, 1), 0.0)
    return out


def within_slopes(
    xdev: np.ndarray, tt: np.ndarray, unit: np.ndarray, series: np.ndarray, n_series: int
) -> np.ndarray:
    """(S, K) pooled within-unit OLS slope on ``tt`` of each column of ``xdev`` per series.

    ``xdev`` holds the regressors already demeaned (NaN where unobserved); time is
    demeaned within unit on the observed rows of each column.
    """
    n, K = xdev.shape
    out = np.zeros((n_series, K))
    for j in range(K):
        ok = ~np.isnan(xdev[:, j])
        if not ok.any():
            continue
        u, t, x, s = unit[ok], tt[ok], xdev[ok, j], series[ok]
        n_u = np.bincount(u, minlength=unit.max() + 1)
        t_bar = np.bincount(u, weights=t, minlength=unit.max() + 1) / np.maximum(n_u, 1)
        tc = t - t_bar[u]
        num = np.bincount(s, weights=tc * x, minlength=n_series)
        den = np.bincount(s, weights=tc * tc, minlength=n_series)
        out[:, j] = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return out


def series_qr(Z: np.ndarray, series: np.ndarray, n_series: int) -> tuple[np.ndarray, np.ndarray]:
    """Thin QR of the rows of ``Z`` within each series, scaled to unit-variance columns.

    Returns ``Q`` (rows x K) and ``Rinv`` (S x K x K) with ``Z[rows of s] @ Rinv[s] ==
    Q[rows of s]``; a coefficient ``theta`` on ``Q`` is ``Rinv[s] @ theta`` on ``Z``.
    Rank-deficient columns (fewer units than terms, a constant mean) get a zero column.
    """
    n, K = Z.shape
    Q = np.zeros((n, K))
    Rinv = np.zeros((n_series, K, K))
    for s in range(n_series):
        rows = np.flatnonzero(series == s)
        if rows.size == 0:
            continue
        if rows.size <= K:
            # too few units for a basis change: sample lambda directly
            Q[rows] = Z[rows]
            Rinv[s] = np.eye(K)
            continue
        scale = np.sqrt(rows.size - 1)
        q, r = np.linalg.qr(Z[rows])
        d = np.abs(np.diag(r))
        ok = d > 1e-8 * max(float(d.max(initial=0.0)), 1.0)
        if not ok.all():
            # keep the identified columns only: a zero column carries no regressor
            q = q * ok[None, : q.shape[1]]
            r = np.where(ok[:, None], r, 0.0) + np.diag(~ok).astype(float)
        Q[rows] = q * scale
        Rinv[s] = np.linalg.inv(r) * scale
    return Q, Rinv


def series_rowdot(coef, const: np.ndarray, s_i: np.ndarray):
    """``(coef[s_i] * const).sum(axis=1)`` as one matrix-vector product per series.

    ``coef`` is an (S, K) tensor and ``const`` an (n, K) array. Gathering ``coef`` to
    every row made the gradient a scatter-add over n x K cells, the costliest node of
    the default model's gradient; per-series blocks of rows make both directions dense
    products.
    """
    S = int(s_i.max()) + 1 if s_i.size else 0
    order = np.argsort(s_i, kind="stable")
    bounds = np.searchsorted(s_i[order], np.arange(S + 1))
    blocks = const[order]
    parts = [
        pt.dot(pt.as_tensor_variable(np.ascontiguousarray(blocks[a:b])), coef[s])
        for s, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
        if b > a
    ]
    out = pt.concatenate(parts) if len(parts) > 1 else parts[0]
    if np.array_equal(order, np.arange(order.size)):
        return out
    return out[np.argsort(order)]
