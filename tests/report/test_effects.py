import numpy as np
import pytest
from scipy import stats

from bayes_kfdi.report.effects import (
    censored_mean,
    gmm_long_run,
    long_run_draws,
    observed_effect_draws,
    typical_latent_mean,
)

#: Monte Carlo error of a 400,000-draw mean of a unit-variance variable is about 0.0016.
MC_TOL = 0.01


def test_censored_mean_matches_simulation():
    rng = np.random.default_rng(0)
    for mu, sigma, c in [(0.0, 1.0, 0.5), (2.0, 0.7, 1.1), (-1.0, 2.0, 1.1)]:
        y = np.maximum(rng.normal(mu, sigma, 400_000), c)
        assert censored_mean(np.array(mu), np.array(sigma), c) == pytest.approx(
            y.mean(), abs=MC_TOL * sigma)


def test_typical_mean_reproduces_share_above_floor():
    sigma = np.array([0.5, 1.0, 3.0])
    mu = typical_latent_mean(sigma, 1.1, 0.3)
    np.testing.assert_allclose(stats.norm.sf((1.1 - mu) / sigma), 0.3)


def test_observed_effect_is_smaller_than_latent_when_mostly_censored():
    beta, sigma = np.full(4, 1.0), np.full(4, 1.0)
    eff = observed_effect_draws(beta, sigma, floor=1.1, share_above=0.1, delta=0.5)
    assert np.all(eff.d_expected > 0) and np.all(eff.d_expected < 0.5)
    assert np.all(eff.d_p_above > 0)
    # with almost nothing censored the observed effect is the latent one
    eff = observed_effect_draws(beta, sigma, floor=-50.0, share_above=0.995, delta=0.5)
    np.testing.assert_allclose(eff.d_expected, 0.5, rtol=0.01)


def test_long_run_and_delta_method():
    lr = long_run_draws(np.array([1.0, 1.0]), np.array([0.5, 1.2]))
    assert lr[0] == pytest.approx(2.0) and np.isnan(lr[1])
    rng = np.random.default_rng(1)
    b = rng.normal(0.4, 0.01, 200_000)
    r = rng.normal(0.6, 0.01, 200_000)
    est, se = gmm_long_run(0.4, 0.6, 0.01**2, 0.01**2, 0.0)
    assert est == pytest.approx(1.0)
    assert se == pytest.approx(np.std(b / (1 - r)), rel=0.05)
