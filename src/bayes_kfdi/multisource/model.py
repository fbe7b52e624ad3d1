"""One model per source, sampled as one block-diagonal PyMC model.

The pooled multi-source model is :func:`bayes_kfdi.bayes.model.build_model` with
``series`` = source economy: slopes and rho partially pooled across sources, host
effects shared across sources. Its LOO rival is "one model per source": the same
dynamic Tobit (or Normal) likelihood, the same Wooldridge (2005) initial conditions and
the same rows, fitted to each source alone.

Fitting twelve separate models costs twelve compilations. :func:`build_independent`
builds them as one PyMC model in which *no* parameter is shared between sources: every
parameter carries the ``series`` dim and its prior has fixed hyperparameters. The joint
posterior then factorises into the per-source posteriors, so each pointwise LOO term,
and hence the per-source ELPD and its sum, equals that of separate per-source fits
(up to Monte Carlo error). One compile instead of twelve.

Each per-source block is what the hierarchical model reduces to on a one-source panel:
a host effect is a unit effect (host and source-host effects coincide), and a slope's
prior is the pooled prior's marginal, ``N(0, sqrt(beta_sd^2 + beta_tau^2))`` in sd(fdi)
units of that source.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pymc as pm

from bayes_kfdi.bayes.likelihoods import censored_logp_for, censored_random
from bayes_kfdi.bayes.model import ModelData
from bayes_kfdi.bayes.spec import HierarchicalSpec
from bayes_kfdi.exceptions import SpecificationError

__all__ = ["build_independent", "host_level_history", "INDEPENDENT_LIKELIHOODS"]

#: Likelihoods the per-source model supports (the hurdle part is not mirrored yet).
INDEPENDENT_LIKELIHOODS = ("censored", "normal")


def host_level_history(md: ModelData) -> ModelData:
    """Drop the unit-level covariate history (Mundlak means and trends) from ``md``.

    In a multi-source panel every covariate is a *host* covariate, so a unit's
    within-unit mean and trend are host-level quantities (units of one host differ only
    in which years they are observed). The free host effect shared by all sources
    already absorbs any correlation between host covariates and host effects, and the
    source-specific ``delta`` coefficients on nearly identical host means form a ridge
    that the sampler crawls along (max R-hat 1.04, BFMI 0.42 on ``ofdi_real``). The
    initial-condition part of Wooldridge (2005), conditioning on ``y_i0``, is kept.

    Returns
    -------
    ModelData
        Copy with ``xbar`` and ``xtrend`` set to zero.
    """
    return replace(md, xbar=np.zeros_like(md.xbar), xtrend=np.zeros_like(md.xtrend))


def _per_source(values: np.ndarray, idx: np.ndarray, n: int, fn) -> np.ndarray:
    return np.array([fn(values[idx == s]) if np.any(idx == s) else 0.0 for s in range(n)])


def build_independent(spec: HierarchicalSpec, md: ModelData) -> pm.Model:
    """Build one independent dynamic panel model per source, as one PyMC model.

    Parameters
    ----------
    spec : HierarchicalSpec
        The pooled model's spec; its likelihood, floor, priors and initial conditions
        are used. Time-varying slopes are not mirrored: the multi-source spec keeps
        slopes constant.
    md : ModelData
        From :func:`bayes_kfdi.bayes.model.prepare_data` on the same panel as the pooled
        fit, so both models score the same rows.

    Returns
    -------
    pymc.Model
        Variables ``rho`` (series), ``beta`` (series, term) on the original covariate
        scale, ``sigma`` (series) and the observed ``fdi`` (obs).

    Raises
    ------
    SpecificationError
        For the hurdle likelihood or covariates with missing cells (complete-case only).
    """
    if spec.likelihood not in INDEPENDENT_LIKELIHOODS:
        raise SpecificationError(
            f"model.likelihood = {spec.likelihood!r}: the per-source comparison model "
            f"supports {INDEPENDENT_LIKELIHOODS}; use one of them or set "
            "multisource.compare_per_source = false"
        )
    if md.impute or (md.X.size and np.isnan(md.X).any()):
        raise SpecificationError(
            "the per-source comparison model needs complete covariates (it does not "
            "impute); set model.missing = \"complete_case\" or compare_per_source = false"
        )
    S, K = len(md.series), len(md.terms)
    s_i, u_s = md.series_idx, md.unit_series
    pr = spec.priors
    y_mean = _per_source(md.y, s_i, S, np.mean)
    y_sd = _per_source(md.y, s_i, S, np.std)
    y_sd = np.where(y_sd > 0, y_sd, 1.0)
    y0_mean = y_mean[u_s]
    coords = {
        "series": list(md.series),
        "term": list(md.terms),
        "obs": np.arange(md.n_rows),
        "unit": list(md.units),
    }
    slope_sd = math.hypot(pr.beta_sd, pr.beta_tau)
    with pm.Model(coords=coords) as model:
        rho = pm.Normal("rho", pr.rho_mu, math.hypot(pr.rho_sd, pr.rho_tau), dims="series")
        alpha = pm.Normal("alpha", y_mean, 2.0 * y_sd, dims="series")
        alpha_trend = pm.Normal("alpha_trend", 0.0, pr.trend_sd * y_sd, dims="series")
        sigma = pm.HalfNormal("sigma", pr.sigma * y_sd * 2.0, dims="series")
        eta = alpha[s_i] + alpha_trend[s_i] * md.tt + rho[s_i] * (md.ylag - y_mean[s_i])
        if K:
            z = pm.Normal("beta_z", 0.0, 1.0, dims=("series", "term"))
            beta_std = z * (slope_sd * y_sd)[:, None]
            pm.Deterministic("beta", beta_std / md.x_sd, dims=("series", "term"))
            eta = eta + (beta_std[s_i] * md.X).sum(axis=1)
        # effect_tau is in units of the residual sd in the pooled model; this model's unit
        # spread is on the log-FDI scale, at 0.71 x sd(fdi) for the default effect_tau
        # (the scale it was measured with).
        tau_u = pm.HalfNormal("tau_unit", pr.effect_tau * y_sd / math.sqrt(2.0), dims="series")
        u = pm.Normal("u_unit_z", 0.0, 1.0, dims="unit") * tau_u[u_s]
        if spec.initial_conditions == "wooldridge":
            gamma = pm.Normal("gamma_y0", 0.0, 1.0, dims="series")
            gamma_f = pm.Normal("gamma_y0_floor", 0.0, y_sd, dims="series")
            u = u + gamma[u_s] * (md.y0 - y0_mean) + gamma_f[u_s] * md.y0_floor
            if K and (np.any(md.xbar) or np.any(md.xtrend)):
                scale = (pr.beta_sd * y_sd)[:, None]
                delta = pm.Normal("delta_xbar_z", 0.0, 1.0, dims=("series", "term")) * scale
                delta_t = pm.Normal("delta_xtrend_z", 0.0, 1.0, dims=("series", "term")) * scale
                u = u + (delta[u_s] * md.xbar).sum(axis=1) + (delta_t[u_s] * md.xtrend).sum(axis=1)
        eta = eta + u[md.unit_idx]
        sig_i = sigma[s_i]
        if spec.likelihood == "normal":
            pm.Normal("fdi", eta, sig_i, observed=md.y, dims="obs")
        else:
            pm.CustomDist(
                "fdi", eta, sig_i, float(spec.floor),
                logp=censored_logp_for(md.y, spec.floor),
                random=censored_random,
                observed=md.y,
                dims="obs",
            )
    model.md = md  # type: ignore[attr-defined]
    return model
