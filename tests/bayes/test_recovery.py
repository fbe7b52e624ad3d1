"""Slow recovery tests: the default model on panels simulated with known truth.

Run with ``pytest tests/bayes/test_recovery.py -m slow``. Each fit takes 1-5 minutes on
2 cores (numba compilation included).
"""

from __future__ import annotations

import dataclasses
import warnings
from functools import cache

import numpy as np
import pandas as pd
import pytest

from bayes_kfdi.bayes.fit import fit
from bayes_kfdi.bayes.spec import HierarchicalSpec
from bayes_kfdi.constants import FDI_FLOOR
from bayes_kfdi.data.simulate import simulate_dynamic_panel

pytestmark = pytest.mark.slow

#: Acceptance: 90% intervals cover 85-95% of true slopes. With ~50 slopes per check the
#: binomial sd of the coverage is ~4 points, so the test band is widened by one sd.
COVERAGE_BAND = (0.81, 0.99)
#: Largest tolerated mean bias of rho for the Wooldridge model without censoring.
RHO_BIAS_MAX = 0.04
SCENARIOS = {
    "light_censoring": {"censor_share": 0.2},
    "heavy_censoring": {"censor_share": 0.6},
    "missing_covariates": {"censor_share": 0.2, "missing_share": 0.2},
}
SEEDS = (11, 12)
#: Initial conditions matter in short panels (Wooldridge 2005): the naive model treats
#: y0 as independent of the unit effect, a bias of order 1/T. At T = 20 it was smaller
#: than the sampling noise (measured: naive -0.002, Wooldridge -0.017), so the contrast
#: uses a short, wide panel with a strong unit effect.
SHORT_PANEL = {"n_years": 6, "n_countries": 60, "alpha_sd": 2.0}
TREND = {"wage": 0.02}


@cache
def _fit(scenario: str, seed: int, ic: str = "wooldridge", lag: str = "observed"):
    kw = SCENARIOS.get(scenario, {})
    if scenario == "short":
        kw = SHORT_PANEL
    sim = simulate_dynamic_panel(seed=seed, trend=TREND, **kw)
    frame = sim.frame.drop(columns=["fdi_latent"])
    lik = "censored" if kw.get("censor_share", 0) > 0 else "normal"
    spec = HierarchicalSpec(
        likelihood=lik,
        # an uncensored simulation has no floor; the Normal likelihood ignores it
        floor=sim.truth["floor"] if sim.truth.get("floor") is not None else FDI_FLOOR,
        initial_conditions=ic,
        lag=lag if lik == "censored" else "observed",
        time_varying={"wage": "linear"},
    ).with_sampler(draws=400, tune=400, chains=2, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(spec, frame, progress=False, predictive=False, log_likelihood=False)
    return res, sim.truth


def _slopes(res, truth) -> pd.DataFrame:
    ref = float(res.idata.attrs["reference_year"])
    b = res.posterior_summary.query("parameter == 'beta'").copy()
    b["truth"] = [
        truth["beta"][s][t] + truth["beta_trend"][s].get(t, 0.0) * (ref - truth["reference_year"])
        for s, t in zip(b["series"], b["term"], strict=True)
    ]
    b["covered"] = (b["q05"] <= b["truth"]) & (b["truth"] <= b["q95"])
    return b


def _rho_bias(res, truth) -> float:
    r = res.posterior_summary.query("parameter == 'rho'")
    errors = [m - truth["rho"][s] for s, m in zip(r["series"], r["mean"], strict=True)]
    return float(np.mean(errors))


def test_slope_coverage_across_scenarios_and_seeds():
    tables = []
    for sc in SCENARIOS:
        for seed in SEEDS:
            res, truth = _fit(sc, seed)
            tables.append(_slopes(res, truth).assign(scenario=sc, seed=seed))
    allb = pd.concat(tables)
    by = allb.groupby("scenario")["covered"].mean()
    print("\ncoverage by scenario:\n", by.to_string(), "\noverall", allb["covered"].mean())
    lo, hi = COVERAGE_BAND
    assert lo <= allb["covered"].mean() <= hi


def test_rho_without_initial_condition_bias_and_naive_contrast():
    biases = {}
    for ic in ("wooldridge", "naive"):
        biases[ic] = np.mean([_rho_bias(*_fit("short", seed, ic)) for seed in SEEDS])
    print("\nmean rho bias:", biases)
    assert abs(biases["wooldridge"]) < RHO_BIAS_MAX
    assert abs(biases["naive"]) > abs(biases["wooldridge"])


def test_small_simulation_based_calibration():
    """SBC (Talts et al. 2018) for rho_mu on a tiny panel: ranks must look uniform."""
    import pymc as pm

    from bayes_kfdi.bayes.model import build_model, prepare_data

    n_rep, n_draws = 12, 99
    base = simulate_dynamic_panel(seed=0, n_series=2, n_countries=8, n_years=8).frame
    base = base.drop(columns=["fdi_latent"])
    spec = HierarchicalSpec(likelihood="normal", time_varying={}).with_sampler(
        draws=n_draws, tune=300, chains=1, cores=1
    )
    md = prepare_data(spec, base)
    ranks = []
    rng = np.random.default_rng(1)
    for rep in range(n_rep):
        model = build_model(spec, md)
        prior = pm.sample_prior_predictive(model=model, draws=1, random_seed=rng)
        y = prior["prior_predictive"]["fdi"].values.ravel()
        true_rho = float(prior["prior"]["rho_mu"].values.ravel()[0])
        frame = base.copy()
        # replace the modelled outcomes by a prior-predictive draw (lags stay data)
        key = md.data_frame.set_index(["series", "country", "year"]).index
        idx = frame.set_index(["series", "country", "year"]).index.get_indexer(key)
        frame.loc[frame.index[idx], "fdi"] = y
        md_rep = prepare_data(spec, frame)
        md_rep = dataclasses.replace(md_rep, ylag=md.ylag, y0=md.y0, y0_floor=md.y0_floor)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with build_model(spec.with_sampler(seed=rep), md_rep):
                tr = pm.sample(
                    draws=n_draws,
                    tune=300,
                    chains=1,
                    random_seed=rep,
                    progressbar=False,
                    compute_convergence_checks=False,
                )
        ranks.append(int((tr["posterior"]["rho_mu"].values.ravel() < true_rho).sum()))
    ranks = np.array(ranks)
    print("\nSBC ranks of rho_mu:", ranks)
    # 12 ranks in 4 bins of 25: a chi-square over 3 df above 11.3 has p < 0.01
    counts = np.histogram(ranks, bins=4, range=(0, n_draws + 1))[0]
    chi2 = float(((counts - n_rep / 4) ** 2 / (n_rep / 4)).sum())
    assert chi2 < 11.3, (counts, chi2)
