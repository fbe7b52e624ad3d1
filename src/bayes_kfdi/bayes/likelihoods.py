"""The outcome's likelihood: Normal, Tobit (censored at the floor) and hurdle.

Log-densities and random generators, and :func:`add_outcome`, which adds the observed
outcome to a model. The Tobit density is written with erfc arithmetic rather than
through ``pm.Censored`` (same values to 1e-5, a faster gradient).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayes_kfdi.bayes.arrays import series_rowdot

if TYPE_CHECKING:
    from bayes_kfdi.bayes.imputation import ImputedCells
    from bayes_kfdi.bayes.prepare import ModelData
    from bayes_kfdi.bayes.spec import HierarchicalSpec

__all__ = [
    "AT_FLOOR_TOL",
    "LOG_SQRT_2PI",
    "add_outcome",
    "censored_logp",
    "censored_logp_for",
    "censored_random",
    "hurdle_logp",
    "hurdle_random",
    "log_ndtr",
]

#: An observed outcome within this distance of the floor counts as floor-coded. The
#: paper's floor log(3) is stored with ~16 digits; CSV round trips keep at least 1e-9.
AT_FLOOR_TOL = 1e-6

_LOG_HALF = float(np.log(0.5))
_SQRT_HALF = float(np.sqrt(0.5))
LOG_SQRT_2PI = float(0.5 * np.log(2.0 * np.pi))
#: Lower clip of log_ndtr's argument: erfc(37 / sqrt 2) ~ 6e-300 is a normal double.
_Z_MIN = -37.0


def log_ndtr(z: pt.TensorVariable) -> pt.TensorVariable:
    """Log of the standard normal CDF, stable in both tails.

    ``log(erfc(-z/sqrt2)/2)`` with ``z`` clipped below at :data:`_Z_MIN`, where
    ``erfc`` is still a normal double (about 6e-300). Below the clip (a floor-coded
    row 37 sd above its mean, probability e^-684) value and gradient stay at the
    clip's. One special function on every row, for a fast gradient.
    """
    z = pt.maximum(pt.as_tensor_variable(z), _Z_MIN)
    return pt.log(pt.erfc(-z * _SQRT_HALF)) + _LOG_HALF


def _normal_logpdf(value, mu, sigma):
    return -0.5 * ((value - mu) / sigma) ** 2 - pt.log(sigma) - LOG_SQRT_2PI


def censored_logp(value, mu, sigma, floor):
    """Tobit log-likelihood: ``log Phi((floor - mu)/sigma)`` at the floor, Normal above."""
    at_floor = value <= floor + AT_FLOOR_TOL
    return pt.switch(
        at_floor, log_ndtr((floor - mu) / sigma), _normal_logpdf(value, mu, sigma)
    )


def censored_logp_for(observed: np.ndarray, floor: float):
    """Tobit log-density specialised to one fixed observed vector.

    Same values as :func:`censored_logp`, but the rows at the floor and above it are
    split once, from ``observed``, so each row evaluates only its own branch (the
    ``switch`` form computes both branches and their gradients on every row).

    The returned function is valid only for ``observed`` (the observed data of the
    ``CustomDist`` it is given to); the ``value`` it receives is used only on the rows
    above the floor.
    """
    y = np.asarray(observed, dtype=float)
    low = np.flatnonzero(y <= float(floor) + AT_FLOOR_TOL)
    high = np.flatnonzero(y > float(floor) + AT_FLOOR_TOL)

    def logp(value, mu, sigma, floor_):
        mu = pt.broadcast_to(mu, (y.size,))
        sigma = pt.broadcast_to(sigma, (y.size,))
        out = pt.zeros((y.size,))
        out = pt.set_subtensor(out[low], log_ndtr((floor_ - mu[low]) / sigma[low]))
        return pt.set_subtensor(
            out[high], _normal_logpdf(value[high], mu[high], sigma[high])
        )

    return logp


def censored_random(mu, sigma, floor, rng=None, size=None):
    """Draw ``max(N(mu, sigma), floor)``."""
    draw = rng.normal(mu, sigma, size=size)
    return np.maximum(draw, floor)


def hurdle_logp(value, mu, sigma, logit_p, floor):
    """Hurdle log-likelihood.

    ``log(1 - p)`` at the floor; above it ``log p`` plus a Normal(mu, sigma) density
    truncated to ``(floor, inf)`` (a lognormal flow above the floor).
    """
    at_floor = value <= floor + AT_FLOOR_TOL
    log_p = -pt.softplus(-logit_p)
    log_1mp = -pt.softplus(logit_p)
    pos = _normal_logpdf(value, mu, sigma) - log_ndtr((mu - floor) / sigma)
    return pt.switch(at_floor, log_1mp, log_p + pos)


def hurdle_random(mu, sigma, logit_p, floor, rng=None, size=None):
    """Draw floor with prob ``1 - p``, else a Normal(mu, sigma) truncated above the floor."""
    from scipy import stats

    mu_b, sig_b, lp_b = np.broadcast_arrays(mu, sigma, logit_p)
    if size is not None:
        mu_b = np.broadcast_to(mu_b, size)
        sig_b = np.broadcast_to(sig_b, size)
        lp_b = np.broadcast_to(lp_b, size)
    p = 1.0 / (1.0 + np.exp(-lp_b))
    positive = rng.uniform(size=mu_b.shape) < p
    a = (floor - mu_b) / sig_b
    lower = stats.norm.cdf(a)
    u = lower + rng.uniform(size=mu_b.shape) * (1.0 - lower)
    u = np.clip(u, 1e-12, 1 - 1e-12)
    pos = mu_b + sig_b * stats.norm.ppf(u)
    return np.where(positive, np.maximum(pos, floor + 2 * AT_FLOOR_TOL), floor)


def _latent_density(md: ModelData, ystar, eta, sig_i, floor: float) -> None:
    """Density of a floor-coded row's latent value given censoring (data augmentation).

    ``fdi`` carries ``log Phi((floor - eta)/sigma)`` for such a row; this completes it
    to ``N(ystar | eta, sigma)``.
    """
    c_dyn = np.flatnonzero(md.at_floor)
    y_c = ystar[md.dyn_pos[c_dyn]]
    eta_c, sig_c = eta[c_dyn], sig_i[c_dyn]
    pm.Potential(
        "latent_density",
        (
            pm.logp(pm.Normal.dist(eta_c, sig_c), y_c)
            - log_ndtr((floor - eta_c) / sig_c)
        ).sum(),
    )


def _hurdle_logit(
    md: ModelData, floor: float, ylag_c, y_sd: float, Xc, imp: ImputedCells | None, imp_flat
):
    """Logit of P(y > floor): series intercept, floor-coded lag, lag, covariates."""
    s_i = md.series_idx
    floor_lag = md.ylag <= floor + AT_FLOOR_TOL
    h_alpha = pm.Normal("hurdle_alpha", 0.0, 2.0, dims="series")
    h_lag = pm.Normal("hurdle_lag_floor", 0.0, 2.0, dims="series")
    h_rho = pm.Normal("hurdle_rho", 0.0, 1.0, dims="series")
    logit_p = h_alpha[s_i] + h_lag[s_i] * floor_lag + h_rho[s_i] * ylag_c / y_sd
    if md.terms:
        h_beta = pm.Normal("hurdle_beta_std", 0.0, 1.0, dims=("series", "term"))
        pm.Deterministic("beta_hurdle", h_beta / md.x_sd, dims=("series", "term"))
        logit_p = logit_p + series_rowdot(h_beta, Xc, s_i)
        if imp is not None:
            logit_p = pt.inc_subtensor(logit_p[imp.row], h_beta.ravel()[imp_flat] * imp.value)
    return logit_p


def add_outcome(
    spec: HierarchicalSpec, md: ModelData, eta, sigma, *, ylag_c, y_sd, Xc, imp, imp_flat,
    ystar=None,
) -> None:
    """Add the observed outcome ``fdi`` (dims ``obs``) given its linear predictor ``eta``.

    ``sigma`` is the (S,) residual sd; the hurdle likelihood adds its own logit model
    (``hurdle_*``, ``beta_hurdle``) and the latent lag (``ystar``) its latent density.
    """
    sig_i = sigma[md.series_idx]
    floor = float(spec.floor)
    if spec.lag == "latent":
        _latent_density(md, ystar, eta, sig_i, floor)
    if spec.likelihood == "normal":
        pm.Normal("fdi", eta, sig_i, observed=md.y, dims="obs")
    elif spec.likelihood == "censored":
        pm.CustomDist(
            "fdi", eta, sig_i, floor,
            logp=censored_logp_for(md.y, spec.floor), random=censored_random,
            observed=md.y, dims="obs",
        )
    else:
        logit_p = _hurdle_logit(md, floor, ylag_c, y_sd, Xc, imp, imp_flat)
        pm.CustomDist(
            "fdi", eta, sig_i, logit_p, floor,
            logp=hurdle_logp, random=hurdle_random, observed=md.y, dims="obs",
        )
