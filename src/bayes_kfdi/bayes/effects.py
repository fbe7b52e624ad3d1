"""Effect blocks: country and unit effects, series persistence, pooled slopes.

Each block chooses per group between a centred and a non-centred parameterisation
(``spec.centering``): centred where the likelihood pins the group down, non-centred
where the prior dominates (Betancourt and Girolami 2015).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayes_kfdi.bayes.arrays import series_means
from bayes_kfdi.bayes.prepare import ModelData
from bayes_kfdi.bayes.spec import HierarchicalSpec

__all__ = [
    "CENTER_MIN_ROWS",
    "UNIT_CENTER_ROWS",
    "SLOPE_CENTER_RATIO",
    "RHO_CENTER_ROWS",
    "TREND_TAU_SCALE",
    "HALFNORMAL_MEAN",
    "centered",
    "effect",
    "orthogonal_to_host_means",
    "unit_effects",
    "series_rho",
    "spread_prior",
    "slope_data_sd",
    "mixed_normal",
    "pooled_slopes",
]

#: Median informative rows per group from which "auto" centres a group: twenty rows make
#: the likelihood dominate a unit-scale prior.
CENTER_MIN_ROWS = 20
#: Informative dynamic rows from which "auto" centres a unit (country-series) effect.
UNIT_CENTER_ROWS = 5
#: "auto" centres a root slope whose data-only sd is below this multiple of the prior
#: mean of the between-series spread; nested slopes are always non-centred.
SLOPE_CENTER_RATIO = 1.0
#: Informative dynamic rows from which "auto" centres a series' rho.
RHO_CENTER_ROWS = 200
#: Prior mean of the trend slopes' between-series spread, as a share of the slopes': a
#: change per decade is a second-order effect.
TREND_TAU_SCALE = 0.5
#: Mean of a HalfNormal(1): a Gamma(2) spread prior with this mean replaces it.
HALFNORMAL_MEAN = float(np.sqrt(2.0 / np.pi))


def centered(spec: HierarchicalSpec, level: str, rows_per_group: np.ndarray) -> bool:
    """Whether ``level`` is centred: its choice, or under "auto" its median informative rows."""
    choice = spec.centering[level]
    if choice == "auto":
        return bool(rows_per_group.size) and float(np.median(rows_per_group)) >= CENTER_MIN_ROWS
    return choice == "centered"


def effect(name, sigma, dims, centered, shape, groups=None):
    """Build a zero-mean group effect with scale ``sigma`` (scalar or per group).

    ``centered`` is a bool or a per-group bool mask: masked groups are parameterised
    centred (``name_c``), the others non-centred (``name_z``).

    ``groups`` (an int code per element, or None) makes the effect sum to zero within
    each group by subtracting the group mean: the intercepts absorb those means, and the
    ridge between an intercept and the mean of its effects is gone.
    """
    mask = np.broadcast_to(np.asarray(centered, dtype=bool), (shape,))
    single = groups is not None and not np.any(np.asarray(groups))
    if mask.all() and single and pt.as_tensor_variable(sigma).ndim == 0:
        # one group, centred: PyMC's ZeroSumNormal has exactly n - 1 free dimensions
        return pm.ZeroSumNormal(name, sigma=sigma, dims=dims)
    if mask.all():
        raw = pm.Normal(f"{name}_c" if groups is not None else name, 0.0, sigma, dims=dims)
        if groups is None:
            return raw
    elif not mask.any():
        z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
        raw = z * sigma
    else:
        sig = pt.as_tensor_variable(sigma)
        sig = pt.broadcast_to(sig, (shape,)) if sig.ndim == 0 else sig
        ic, inc = np.flatnonzero(mask), np.flatnonzero(~mask)
        v_c = pm.Normal(f"{name}_c", 0.0, sig[ic], shape=len(ic))
        v_z = pm.Normal(f"{name}_z", 0.0, 1.0, shape=len(inc))
        raw = pt.zeros((shape,))
        raw = pt.set_subtensor(raw[ic], v_c)
        raw = pt.set_subtensor(raw[inc], v_z * sig[inc])
    if groups is not None:
        g = np.asarray(groups, dtype=np.int64)
        n_g = int(g.max()) + 1
        counts = np.bincount(g, minlength=n_g).astype(float)
        onehot = np.zeros((n_g, shape))
        onehot[g, np.arange(shape)] = 1.0 / counts[g]
        raw = raw - pt.dot(onehot, raw)[g]
    return pm.Deterministic(name, raw, dims=dims)


def unit_country_codes(md: ModelData) -> np.ndarray:
    """Country code of each unit (units are labelled ``series|country``)."""
    code = {c: i for i, c in enumerate(md.countries)}
    return np.array([code[u.split("|", 1)[1]] for u in md.units], dtype=np.int64)


def orthogonal_to_host_means(md: ModelData, u_c, host: list[int]):
    """Project the country effect off the country means of the host covariates.

    Host covariates vary by country only, so their Mundlak terms (``lambda_xbar``) and
    the shared country effect explain the same between-country variation. By Mundlak's
    assumption the country effect left after conditioning on the covariate means is
    uncorrelated with them, which the projection imposes in sample; its null space is
    prior-only.
    """
    C = len(md.countries)
    unit_country = unit_country_codes(md)
    n_uc = np.bincount(unit_country, minlength=C)
    zc = np.stack(
        [np.bincount(unit_country, weights=md.xbar[:, k], minlength=C) for k in host], axis=1
    ) / np.maximum(n_uc, 1)[:, None]
    Z = np.column_stack([np.ones(C), zc])
    rank = int(np.linalg.matrix_rank(Z))
    if rank >= C - 1:
        return u_c
    q, _ = np.linalg.qr(Z)
    proj = np.eye(C) - q[:, :rank] @ q[:, :rank].T
    return pm.Deterministic("u_country_orth", pt.dot(proj, u_c), dims="country")


def unit_effects(spec, md, tau_u, sigma, ic, rows_unit, country_eff=None, alpha=None):
    """Total effect of each unit: country effect + ``ic`` (Wooldridge mean) + deviation.

    ``centering.unit = "auto"`` centres a unit with at least :data:`UNIT_CENTER_ROWS`
    informative rows, sampling its whole effect (series intercept ``alpha``, country
    effect and Wooldridge mean ``ic`` included) as ``N(total mean, tau_unit)``; other
    units are non-centred, ``ic + tau_unit * z`` with ``z`` summing to zero within
    series. The country effect and the unit spread are in units of ``sigma``, the
    series' residual sd: unit ``(s, c)`` gets ``sigma_s * u_country[c]`` and spread
    ``tau_unit * sigma_s``, so one spread fits series whose scales differ.
    """
    U = len(md.units)
    us = md.unit_series
    scale = sigma[us]
    if country_eff is not None:
        c_u = country_eff[unit_country_codes(md)] * scale
    else:
        c_u = pt.zeros((U,))
    tau_u = tau_u * scale  # (U,)
    if alpha is not None:
        c_u = c_u + alpha[us]
    choice = spec.centering["unit"]
    if choice == "auto":
        mask = rows_unit >= UNIT_CENTER_ROWS
    else:
        mask = np.full(U, choice == "centered")
    if ic is None or not mask.any():
        u = effect("u_unit", tau_u, "unit", bool(mask.all()), U, groups=md.unit_series)
        return c_u + (u if ic is None else u + ic)
    ic_t = pt.as_tensor_variable(ic) + c_u
    cen, non = np.flatnonzero(mask), np.flatnonzero(~mask)
    total = pt.zeros((U,))
    v_c = pm.Normal("u_unit_c", ic_t[cen], tau_u[cen], shape=cen.size)
    total = pt.set_subtensor(total[cen], v_c)
    if non.size:
        z = pm.Normal("u_unit_z", 0.0, 1.0, shape=non.size)
        total = pt.set_subtensor(total[non], ic_t[non] + tau_u[non] * z)
    pm.Deterministic("u_unit", total - ic_t, dims="unit")
    return total


def series_rho(spec, md: ModelData, rho_mu, rho_tau, informative: np.ndarray):
    """Series persistence ``rho ~ N(rho_mu, rho_tau)``, centred or not per series.

    ``centering.rho = "auto"`` centres a series' rho when it has at least
    :data:`RHO_CENTER_ROWS` ``informative`` dynamic rows, and non-centres it otherwise.
    """
    S = len(md.series)
    choice = spec.centering["rho"]
    if choice == "auto":
        rows = np.bincount(md.series_idx[informative], minlength=S)
        mask = rows >= RHO_CENTER_ROWS
    else:
        mask = np.full(S, choice == "centered")
    if mask.all():
        return pm.Normal("rho", rho_mu, rho_tau, dims="series")
    cen, non = np.flatnonzero(mask), np.flatnonzero(~mask)
    rho = pt.zeros((S,))
    if cen.size:
        rho = pt.set_subtensor(rho[cen], pm.Normal("rho_c", rho_mu, rho_tau, shape=cen.size))
    z = pm.Normal("rho_z", 0.0, 1.0, shape=non.size)
    if non.size > 1:
        # deviations sum to zero, so that rho_mu is their mean rather than trading off
        z = z - z.mean()
    rho = pt.set_subtensor(rho[non], rho_mu + rho_tau * z)
    return pm.Deterministic("rho", rho, dims="series")


def spread_prior(name: str, mean: float):
    """Zero-avoiding Gamma(2) prior with the given mean for a between-series spread.

    A spread estimated from few groups is barely identified; the Gamma(2) prior keeps
    the sampler out of the funnel neck at zero (Chung et al. 2013).
    """
    return pm.Gamma(name, alpha=2.0, beta=2.0 / mean)


def slope_data_sd(md: ModelData, X: np.ndarray, informative: np.ndarray) -> np.ndarray:
    """(S, K) rough sd of each slope from its series' rows above the floor alone.

    The residual sd of a within-unit least-squares fit of the outcome on the lag and the
    regressors ``X`` (NaN read as 0), divided by each regressor's root sum of squares
    over those rows: the sd a slope would have if the data alone pinned it down. Only
    used to choose a parameterisation, never in the model. Infinite where a regressor
    does not move.
    """
    S, K = len(md.series), X.shape[1]
    out = np.full((S, K), np.inf)
    for s in range(S):
        rows = np.flatnonzero(informative & (md.series_idx == s))
        if rows.size == 0:
            continue
        u, U = md.unit_idx[rows], len(md.units)
        Z = np.column_stack([md.ylag[rows], np.nan_to_num(X[rows])])
        Zc = Z - series_means(Z, u, U)  # within-unit deviations
        yc = md.y[rows] - series_means(md.y[rows], u, U)
        dof = rows.size - np.unique(u).size - Z.shape[1]
        if dof <= 0:
            continue
        coef, *_ = np.linalg.lstsq(Zc, yc, rcond=None)
        sigma = np.sqrt(np.sum((yc - Zc @ coef) ** 2) / dof)
        ss = np.sqrt(np.sum(Zc[:, 1:] ** 2, axis=0))
        out[s] = np.where(ss > 0, sigma / np.where(ss > 0, ss, 1.0), np.inf)
    return out


def mixed_normal(name, loc, scale, centered: np.ndarray):
    """``N(loc, scale)`` elementwise, centred where ``centered`` and non-centred elsewhere.

    ``loc`` is a tensor of ``centered``'s shape and ``scale`` a scalar. All centred:
    one variable ``name``; all non-centred: ``loc + scale * name_z``; mixed: ``name_c``
    and ``name_z`` for the two parts and a deterministic ``name`` for the whole.
    """
    shape = centered.shape
    if centered.all():
        return pm.Normal(name, loc, scale, shape=shape)
    if not centered.any():
        return loc + scale * pm.Normal(f"{name}_z", 0.0, 1.0, shape=shape)
    flat = centered.ravel()
    ic, inc = np.flatnonzero(flat), np.flatnonzero(~flat)
    loc_f = pt.as_tensor_variable(loc).ravel()
    out = pt.zeros((flat.size,))
    out = pt.set_subtensor(out[ic], pm.Normal(f"{name}_c", loc_f[ic], scale, shape=ic.size))
    z = pm.Normal(f"{name}_z", 0.0, 1.0, shape=inc.size)
    out = pt.set_subtensor(out[inc], loc_f[inc] + scale * z)
    return pm.Deterministic(name, out.reshape(shape))


def pooled_slopes(name, md, prior_sd, tau_sd, centered, spec, dims):
    """Slopes (S, K): series partially pooled toward a term mean, nested ones to their parent.

    ``centered`` is a bool for every slope or an (S, K) bool mask; centred slopes are
    sampled around their parent, the others as the parent plus a scaled ``z``.
    Returns the (S, K) tensor on the standardised scale.
    """
    S = len(md.series)
    term_dim = dims[1]
    if spec.slopes == "unpooled":
        return pm.Normal(f"{name}_std", 0.0, 2.0 * prior_sd, dims=dims)
    mu = pm.Normal(f"{name}_mu", 0.0, prior_sd, dims=term_dim)
    K = len(pm.modelcontext(None).coords[term_dim])
    mask = np.broadcast_to(np.asarray(centered, dtype=bool), (S, K))
    # one spread shared by all terms (standardised covariates share a scale): a spread
    # per term rests on a few root series and is not identified
    tau = spread_prior(f"{name}_tau", tau_sd)
    is_child = md.parent >= 0
    if not is_child.any():
        if mask.all():
            return pm.Normal(f"{name}_std", mu, tau, dims=dims)
        if mask.any():
            loc = pt.repeat(mu[None, :], S, axis=0)
            return mixed_normal(f"{name}_std", loc, tau, mask)
        z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
        return mu + tau * z
    tau_child = spread_prior(f"{name}_tau_motive", tau_sd)
    if mask.any():
        # centred nesting: root series around the term mean, children around their parent
        roots, kids = np.flatnonzero(~is_child), np.flatnonzero(is_child)
        root_pos = {int(r): i for i, r in enumerate(roots)}
        loc_root = pt.repeat(mu[None, :], len(roots), axis=0)
        b_root = mixed_normal(f"{name}_root", loc_root, tau, mask[roots])
        loc_kid = b_root[[root_pos[int(p)] for p in md.parent[kids]]]
        b_kid = mixed_normal(f"{name}_motive", loc_kid, tau_child, mask[kids])
        full = pt.zeros((S, K))
        full = pt.set_subtensor(full[roots], b_root)
        return pt.set_subtensor(full[kids], b_kid)
    z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
    # root deviations sum to zero per term, so that mu is the roots' mean (their spread
    # around mu is then tau * sqrt(1 - 1/n_roots))
    roots = np.flatnonzero(~is_child)
    root = mu + tau * (z - z[roots].mean(axis=0))
    par = np.where(is_child, md.parent, np.arange(S))
    child = root[par] + tau_child * z
    return pt.where(is_child[:, None], child, root)
