"""Missing covariates imputed inside the model: a line per group, or a random walk.

Every imputed covariate shares one vectorised block (one variable per role, indexed by
term and group); the covariates come back as a constant matrix plus the imputed cells
and their (row, term) positions, so each linear term is a constant product plus a sparse
correction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from bayes_kfdi.bayes.likelihoods import LOG_SQRT_2PI
from bayes_kfdi.bayes.prepare import YEAR_SCALE, ModelData

__all__ = [
    "IMPUTE_TREND_SD",
    "RW_CHOL_JITTER",
    "ImputedCells",
    "RandomWalkGaps",
    "covariates_with_imputation",
    "random_walk_gaps",
]

#: Between-group sd of a covariate's linear trend (standardised units per decade), fixed
#: because it is not identified next to the residual sd.
IMPUTE_TREND_SD = 0.5


@dataclass(frozen=True)
class ImputedCells:
    """Covariate cells imputed inside the model: row, term and value (a tensor)."""

    row: np.ndarray
    term: np.ndarray
    value: pt.TensorVariable


def covariates_with_imputation(
    md: ModelData, imputation: str = "trend"
) -> tuple[np.ndarray, ImputedCells | None]:
    """Return the (n, K) covariates: a constant matrix and the cells imputed in the model.

    The covariates come back as a constant matrix, 0 at every imputed position, and the
    imputed values with their (row, term) positions (:class:`ImputedCells`); a host
    covariate's cell is shared by the rows of every series in that country-year.

    Imputation model per term and group (country, or sector-country for trade terms):
    ``imputation = "random_walk"`` (:func:`_impute_random_walk`) or ``"trend"``
    (:func:`_impute_trend`).
    """
    n, K = md.X.shape
    base = np.nan_to_num(md.X).ravel()
    idx = np.arange(n * K, dtype=np.int64).reshape(n, K)
    if not md.impute:
        return np.nan_to_num(md.X), None
    blocks = md.impute
    g_off = np.cumsum([0] + [b.n_groups for b in blocks])
    c_off = np.cumsum([0] + [b.values.size for b in blocks])
    grp_term = np.concatenate([np.full(b.n_groups, j) for j, b in enumerate(blocks)])
    cell_grp = np.concatenate([b.group + g_off[j] for j, b in enumerate(blocks)])
    cell_term = np.concatenate([np.full(b.values.size, j) for j, b in enumerate(blocks)])
    cell_tt = np.concatenate([b.tt for b in blocks])
    vals = np.concatenate([b.values for b in blocks])
    miss = np.isnan(vals)
    obs_i, miss_i = np.flatnonzero(~miss), np.flatnonzero(miss)
    miss_rank = np.full(vals.size, -1, dtype=np.int64)
    miss_rank[miss_i] = np.arange(miss_i.size)
    for j, blk in enumerate(blocks):
        k = md.terms.index(blk.term)
        cell = blk.row_cell + c_off[j]
        idx[:, k] = np.where(
            miss[cell], base.size + vals.size + miss_rank[cell], base.size + cell
        )
    model = pm.modelcontext(None)
    model.add_coord("impute_term", [b.term for b in blocks])
    labels = np.concatenate(
        [[f"{b.term}#{c}" for c in range(b.values.size)] for b in blocks]
    )[miss_i]
    model.add_coord("impute_cell", list(labels))
    build = _impute_random_walk if imputation == "random_walk" else _impute_trend
    x_miss = build(blocks, vals, miss_i, obs_i, cell_term, cell_grp, cell_tt, grp_term)
    # observed cells are constants (0 at an imputed position)
    n_const = base.size + vals.size
    pos = np.flatnonzero(idx.ravel() >= n_const)
    cell = idx.ravel()[pos] - n_const
    const = np.concatenate([base, np.nan_to_num(vals)])[np.minimum(idx, n_const - 1)]
    const = const.reshape(n, K)
    const.ravel()[pos] = 0.0
    return const, ImputedCells(pos // K, pos % K, x_miss[cell])


def _impute_trend(blocks, vals, miss_i, obs_i, cell_term, cell_grp, cell_tt, grp_term):
    """Imputed cells under ``imputation = "trend"``: a line per group plus iid noise.

    ``x[g, t] ~ Normal(level[g] + trend[g] * t, sigma)``, levels centred around a term
    mean with a term spread, trends around a term trend with the fixed spread
    :data:`IMPUTE_TREND_SD`. Levels and trends are centred (groups have many observed
    cells); missing cells are non-centred.
    """
    i_mu = pm.Normal("impute_mu", 0.0, 1.0, dims="impute_term")
    i_tau = pm.HalfNormal("impute_tau", 1.0, dims="impute_term")
    i_trend_mu = pm.Normal("impute_trend_mu", 0.0, 1.0, dims="impute_term")
    i_sigma = pm.HalfNormal("impute_sigma", 0.5, dims="impute_term")
    # a group with no observed cell follows the term's mean line: its level would be
    # confounded with the country effect
    seen = np.bincount(cell_grp[obs_i], minlength=grp_term.size) > 0
    sg = np.flatnonzero(seen)
    lev = pm.Normal("impute_level", i_mu[grp_term[sg]], i_tau[grp_term[sg]], shape=sg.size)
    trd = pm.Normal("impute_trend", i_trend_mu[grp_term[sg]], IMPUTE_TREND_SD, shape=sg.size)
    level = pt.set_subtensor(i_mu[grp_term][sg], lev)
    trend = pt.set_subtensor(i_trend_mu[grp_term][sg], trd)
    # observed cells enter through each group's sufficient statistics of the line
    # x = level + trend * t: one Normal term per cell, in per-group arithmetic
    ng = grp_term.size
    xo, to, go = vals[obs_i], cell_tt[obs_i], cell_grp[obs_i]
    n_g, s_x, s_t, s_xx, s_xt, s_tt = (
        np.bincount(go, weights=w, minlength=ng)
        for w in (None, xo, to, xo * xo, xo * to, to * to)
    )
    rss = (
        s_xx - 2.0 * level * s_x - 2.0 * trend * s_xt
        + n_g * level**2 + 2.0 * level * trend * s_t + trend**2 * s_tt
    )
    sig_g = i_sigma[grp_term]
    pm.Potential(
        "impute_observed",
        (-0.5 * rss / sig_g**2 - n_g * (pt.log(sig_g) + LOG_SQRT_2PI)).sum(),
    )
    cell_mu = level[cell_grp[miss_i]] + trend[cell_grp[miss_i]] * cell_tt[miss_i]
    z = pm.Normal("impute_missing_z", 0.0, 1.0, shape=miss_i.size)
    return pm.Deterministic(
        "impute_missing",
        cell_mu + i_sigma[cell_term[miss_i]] * z,
        dims="impute_cell",
    )


@dataclass(frozen=True, slots=True)
class RandomWalkGaps:
    """Conditional prior of the missing cells under a driftless random walk per group.

    Given the observed cells, the missing cells of a group split into gaps (maximal runs
    of missing years) that are independent of one another (the walk is Markov). A gap
    between two observed cells is a Brownian bridge: mean the straight line between
    them. A gap before the first or after the last observed cell is a walk from that
    cell: mean flat at its value. A group with no observed cell walks from the term's
    cross-group mean of observed cells in each year. Every gap's covariance is
    ``sigma**2`` times a known matrix ``C``; ``chol`` holds the entries of its Cholesky
    factor, so that ``x = mean + sigma * (L @ z)`` with ``z ~ N(0, 1)`` (non-centred).

    Attributes
    ----------
    mean : (m,) conditional mean of each missing cell
    row, col, val : Cholesky entries, ``(L @ z)[row] += val * z[col]``
    q, n_pairs : (J,) per term, sum of squared steps over their length in years between
        consecutive observed cells, and the number of such steps (the observed cells'
        own log-density is ``-0.5 q / sigma**2 - n_pairs log(sigma)`` plus a constant)
    """

    mean: np.ndarray
    row: np.ndarray
    col: np.ndarray
    val: np.ndarray
    q: np.ndarray
    n_pairs: np.ndarray


#: Added to the diagonal of a gap's covariance (in squared steps) before its Cholesky
#: factor; the covariances are positive definite, this only guards rounding.
RW_CHOL_JITTER = 1e-10


def random_walk_gaps(
    vals: np.ndarray, cell_term: np.ndarray, cell_grp: np.ndarray, years: np.ndarray, n_terms: int
) -> RandomWalkGaps:
    """Gaps, conditional means and Cholesky entries of the missing cells (pure numpy).

    ``vals`` holds every cell's standardised value (NaN where missing), ``years`` its
    year; the missing cells are numbered in the order of ``np.flatnonzero(isnan(vals))``.
    """
    miss = np.isnan(vals)
    rank = np.full(vals.size, -1, dtype=np.int64)
    rank[miss] = np.arange(int(miss.sum()))
    mean = np.zeros(int(miss.sum()))
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vls: list[np.ndarray] = []
    q = np.zeros(n_terms)
    n_pairs = np.zeros(n_terms)
    # Cross-group mean of the observed cells per term and year (overall mean where a
    # year has none), the anchor of groups with no observed cell.
    obs = ~miss
    year_mean: dict[tuple[int, float], float] = {}
    term_mean = np.zeros(n_terms)
    for j in range(n_terms):
        sel = obs & (cell_term == j)
        term_mean[j] = vals[sel].mean() if sel.any() else 0.0
        for yr, v in pd.Series(vals[sel]).groupby(years[sel]).mean().items():
            year_mean[(j, float(yr))] = float(v)
    order = np.lexsort((years, cell_grp))
    bounds = np.flatnonzero(np.diff(cell_grp[order])) + 1
    for cells in np.split(order, bounds):
        j = int(cell_term[cells[0]])
        t = years[cells].astype(float)
        x = vals[cells]
        m = miss[cells]
        seen = np.flatnonzero(~m)
        if seen.size > 1:
            dx = np.diff(x[seen])
            dt = np.diff(t[seen])
            q[j] += float((dx * dx / dt).sum())
            n_pairs[j] += seen.size - 1
        if not m.any():
            continue
        run_id = np.cumsum(np.r_[True, np.diff(m.astype(int)) != 0])
        for r in np.unique(run_id[m]):
            pos = np.flatnonzero((run_id == r) & m)
            s = t[pos]
            left = pos[0] - 1 if pos[0] > 0 else None
            right = pos[-1] + 1 if pos[-1] + 1 < cells.size else None
            if left is not None and right is not None:
                ta, tb, a, b = t[left], t[right], x[left], x[right]
                mu = a + (b - a) * (s - ta) / (tb - ta)
                u = s - ta
                cov = np.minimum.outer(u, u) - np.outer(u, u) / (tb - ta)
            elif left is not None:
                mu = np.full(s.size, x[left])
                u = s - t[left]
                cov = np.minimum.outer(u, u)
            elif right is not None:
                mu = np.full(s.size, x[right])
                u = t[right] - s
                cov = np.minimum.outer(u, u)
            else:
                mu = np.array([year_mean.get((j, float(v)), term_mean[j]) for v in s])
                u = s - s[0] + 1.0
                cov = np.minimum.outer(u, u)
            chol = np.linalg.cholesky(cov + RW_CHOL_JITTER * np.eye(s.size))
            ii, jj = np.tril_indices(s.size)
            gi = rank[cells[pos]]
            mean[gi] = mu
            rows.append(gi[ii])
            cols.append(gi[jj])
            vls.append(chol[ii, jj])
    def cat(parts: list[np.ndarray], dtype) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    return RandomWalkGaps(
        mean=mean,
        row=cat(rows, np.int64),
        col=cat(cols, np.int64),
        val=cat(vls, float),
        q=q,
        n_pairs=n_pairs,
    )


def _impute_random_walk(blocks, vals, miss_i, obs_i, cell_term, cell_grp, cell_tt, grp_term):
    """Imputed cells under ``imputation = "random_walk"``: a driftless walk per group.

    ``x[g, t] - x[g, t - 1] ~ Normal(0, sigma_term)`` over years, one step sd per term
    (standardised units per year). The missing cells are sampled non-centred from their
    exact conditional prior given the observed ones (:class:`RandomWalkGaps`): a gap
    bridges its observed neighbours on a straight line and a series' ends are held flat,
    with uncertainty growing with the distance to the nearest observed year (the trend
    form, :func:`_impute_trend`, extrapolates a group's line instead).
    """
    years = cell_tt * YEAR_SCALE
    gaps = random_walk_gaps(vals, cell_term, cell_grp, years, len(blocks))
    sigma = pm.HalfNormal("impute_sigma", 0.5, dims="impute_term")
    # The observed cells' own density: consecutive observed cells of a group differ by a
    # Normal step whose variance grows with the years between them.
    pm.Potential(
        "impute_observed",
        (-0.5 * gaps.q / sigma**2 - gaps.n_pairs * (pt.log(sigma) + LOG_SQRT_2PI)).sum(),
    )
    z = pm.Normal("impute_missing_z", 0.0, 1.0, shape=miss_i.size)
    lz = pt.zeros(miss_i.size)[gaps.row].inc(gaps.val * z[gaps.col])
    return pm.Deterministic(
        "impute_missing",
        gaps.mean + sigma[cell_term[miss_i]] * lz,
        dims="impute_cell",
    )
