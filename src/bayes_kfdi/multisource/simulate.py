"""A simulated multi-source panel with known truth, for recovery and coverage tests.

Built on :func:`bayes_kfdi.data.simulate.simulate_dynamic_panel` (whose series become
source economies and whose covariates are host covariates shared by every source),
with source slopes and rho drawn from the hierarchical distribution the multi-source
model assumes, and an optional unbalanced design (some sources start reporting late).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from bayes_kfdi.constants import SERIES, YEAR
from bayes_kfdi.data.simulate import SimulatedPanel, simulate_dynamic_panel
from bayes_kfdi.exceptions import SpecificationError

__all__ = ["SIM_BETA_MU", "SIM_BETA_TAU", "simulate_multi_source"]

#: Mean slopes across sources (per sd of the standardised host covariate): a
#: market-size pull and a negative income-per-head effect (the paper's H1); the terms
#: of ``models/multi_source.toml``.
SIM_BETA_MU: dict[str, float] = {"gdp": 0.8, "gdppc": -0.4}
#: Between-source sd of each slope.
SIM_BETA_TAU: dict[str, float] = {"gdp": 0.3, "gdppc": 0.3}


def simulate_multi_source(
    *,
    seed: int,
    n_sources: int = 8,
    n_hosts: int = 25,
    n_years: int = 14,
    beta_mu: Mapping[str, float] | None = None,
    beta_tau: Mapping[str, float] | None = None,
    rho_mu: float = 0.4,
    rho_tau: float = 0.1,
    censor_share: float = 0.15,
    late_share: float = 0.25,
    first_year: int = 1999,
) -> SimulatedPanel:
    r"""Multi-source dynamic panel: source x host x year, with known source slopes.

    Parameters
    ----------
    seed : int
        Seed of ``np.random.default_rng``; the underlying DGP gets a seed drawn from it.
    n_sources, n_hosts, n_years : int
        Shape. Sources are named ``KOR`` (the reference) and ``S02..``.
    beta_mu, beta_tau : mapping term -> float, optional
        Mean and between-source sd of the slopes; default :data:`SIM_BETA_MU`,
        :data:`SIM_BETA_TAU`. ``beta[s, k] = beta_mu[k] + beta_tau[k] * z[s, k]``.
    rho_mu, rho_tau : float
        ``rho[s] = rho_mu + rho_tau * z[s]``, clipped to [0.05, 0.9].
    censor_share : float
        Share of latent outcomes censored at the floor (pooled quantile).
    late_share : float
        Share of sources whose first third of years is dropped (unbalanced design, as in
        the real data where CHN, TUR, RUS start reporting late).
    first_year : int

    Returns
    -------
    SimulatedPanel
        Frame with ``series`` = source, ``country`` = host, ``year``, ``fdi``,
        ``fdi_latent`` and the host covariates; ``truth["beta"][source][term]`` are the
        true slopes, ``truth["rho"][source]`` the true rho, ``truth["floor"]`` the
        censoring point.

    Notes
    -----
    The outcome follows :func:`~bayes_kfdi.data.simulate.simulate_dynamic_panel`:
    unit effects share a host component (``country_share`` of their variance) across
    sources, covariates correlate with the host effect, and the initial condition is
    drawn from the stationary distribution given the unit effect. A correctly specified
    model (censored at the floor, Wooldridge initial conditions, partially pooled
    slopes) should cover the true slopes with its 90% intervals about 90% of the time.
    """
    if n_sources < 2:
        raise SpecificationError(f"n_sources = {n_sources}; expected at least 2")
    if not 0.0 <= late_share < 1.0:
        raise SpecificationError(f"late_share = {late_share}; expected a value in [0, 1)")
    rng = np.random.default_rng(seed)
    mu = dict(SIM_BETA_MU if beta_mu is None else beta_mu)
    tau = dict(SIM_BETA_TAU if beta_tau is None else beta_tau)
    if set(mu) != set(tau):
        raise SpecificationError(
            f"beta_mu terms {sorted(mu)} and beta_tau terms {sorted(tau)} differ; give both "
            "for the same terms"
        )
    names = ["KOR", *[f"S{i + 2:02d}" for i in range(n_sources - 1)]]
    raw = [f"s{i + 1}" for i in range(n_sources)]
    beta = {
        r: {k: float(mu[k] + tau[k] * rng.standard_normal()) for k in mu} for r in raw
    }
    rho = {r: float(np.clip(rho_mu + rho_tau * rng.standard_normal(), 0.05, 0.9)) for r in raw}
    sim = simulate_dynamic_panel(
        seed=int(rng.integers(0, 2**31 - 1)),
        n_series=n_sources,
        n_countries=n_hosts,
        n_years=n_years,
        rho=rho,
        beta=beta,
        censor_share=censor_share,
        first_year=first_year,
    )
    rename = dict(zip(raw, names, strict=True))
    frame = sim.frame.copy()
    frame[SERIES] = frame[SERIES].map(rename)
    n_late = int(round(late_share * n_sources))
    late = [names[-(i + 1)] for i in range(n_late)]
    cut = first_year + n_years // 3
    frame = frame.loc[~(frame[SERIES].isin(late) & (frame[YEAR] < cut))].reset_index(drop=True)
    truth = dict(sim.truth)
    truth["dgp"] = "multi_source"
    truth["seed"] = int(seed)
    for key in ("rho", "beta", "beta_trend", "sigma"):
        truth[key] = {rename[s]: v for s, v in sim.truth[key].items()}
    truth["beta_mu"] = mu
    truth["beta_tau"] = tau
    truth["late_sources"] = late
    truth["notes"] = [*sim.truth["notes"], f"sources {late} start in {cut}."]
    return SimulatedPanel(frame=frame, truth=truth)
