r"""Effects economists read, from a latent (Tobit) slope or a linear GMM coefficient.

Three scales, always named in the report:

- **latent slope**: the coefficient itself; for the censored model the change in latent
  log FDI per unit of the covariate.
- **effect on expected FDI**: the change in the expected *observed* (floor-coded) log FDI
  and in the probability of a flow above the floor, for a change of ``k`` sds of the
  covariate at a typical host. For a left-censored normal outcome with floor :math:`c`,

  .. math::

      E[y] = c\,\Phi(a) + \mu\,(1 - \Phi(a)) + \sigma\,\phi(a),\qquad a = (c - \mu)/\sigma,

  and :math:`P(y > c) = 1 - \Phi(a)`. The typical host's latent mean :math:`\mu` is set,
  draw by draw, so that :math:`P(y > c)` equals the series' observed share of flows above
  the floor. A linear GMM coefficient on floor-coded log FDI already is an effect on the
  observed scale: ``k * sd * beta``.
- **long-run effect**: :math:`\beta / (1 - \rho)`, the effect once the lagged outcome has
  adjusted (only for :math:`\rho < 1`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "ObservedEffect",
    "censored_mean",
    "typical_latent_mean",
    "observed_effect_draws",
    "long_run_draws",
    "gmm_long_run",
]

#: Shares of flows above the floor are clipped into this band before the normal quantile.
_SHARE_CLIP = (0.005, 0.995)


@dataclass(frozen=True, slots=True)
class ObservedEffect:
    """Draws of an effect on the observed scale.

    Attributes
    ----------
    d_expected : ndarray
        Change in expected observed log FDI, one value per draw.
    d_p_above : ndarray
        Change in the probability of a flow above the floor, one value per draw.
    """

    d_expected: np.ndarray
    d_p_above: np.ndarray


def censored_mean(mu: np.ndarray, sigma: np.ndarray, floor: float) -> np.ndarray:
    """Return the expected value of ``max(y*, floor)`` for ``y* ~ N(mu, sigma^2)``."""
    a = (floor - mu) / sigma
    return floor * stats.norm.cdf(a) + mu * stats.norm.sf(a) + sigma * stats.norm.pdf(a)


def typical_latent_mean(sigma: np.ndarray, floor: float, share_above: float) -> np.ndarray:
    """Latent mean at which ``P(y* > floor)`` equals the observed share above the floor."""
    p = float(np.clip(share_above, *_SHARE_CLIP))
    return floor + np.asarray(sigma) * stats.norm.ppf(p)


def observed_effect_draws(
    beta: np.ndarray,
    sigma: np.ndarray,
    *,
    floor: float,
    share_above: float,
    delta: float,
) -> ObservedEffect:
    """Effect of moving the covariate by ``delta`` (e.g. two sds) at a typical host.

    Parameters
    ----------
    beta, sigma : ndarray
        Posterior draws of the latent slope and the residual sd (same shape).
    floor : float
        The censoring floor on the log scale.
    share_above : float
        The series' observed share of flows above the floor.
    delta : float
        The change in the covariate, in its own units.
    """
    beta, sigma = np.asarray(beta, float), np.asarray(sigma, float)
    mu0 = typical_latent_mean(sigma, floor, share_above)
    mu1 = mu0 + beta * delta
    d_e = censored_mean(mu1, sigma, floor) - censored_mean(mu0, sigma, floor)
    d_p = stats.norm.sf((floor - mu1) / sigma) - stats.norm.sf((floor - mu0) / sigma)
    return ObservedEffect(d_expected=d_e, d_p_above=d_p)


def long_run_draws(beta: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """``beta / (1 - rho)`` per draw; NaN where ``rho >= 1`` (no long run)."""
    beta, rho = np.asarray(beta, float), np.asarray(rho, float)
    out = np.full(np.broadcast(beta, rho).shape, np.nan)
    ok = np.broadcast_to(rho < 1, out.shape)
    np.divide(beta, 1 - rho, out=out, where=ok)
    return out


def gmm_long_run(
    beta: float, rho: float, var_beta: float, var_rho: float, cov_beta_rho: float
) -> tuple[float, float]:
    """Long-run effect ``beta / (1 - rho)`` and its delta-method standard error."""
    if not rho < 1:
        return float("nan"), float("nan")
    lr = beta / (1 - rho)
    g = np.array([1 / (1 - rho), beta / (1 - rho) ** 2])
    v = np.array([[var_beta, cov_beta_rho], [cov_beta_rho, var_rho]])
    return float(lr), float(np.sqrt(max(g @ v @ g, 0.0)))
