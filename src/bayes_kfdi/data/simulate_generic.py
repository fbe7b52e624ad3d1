"""Small generic dynamic-panel DGPs with known parameters, for estimator recovery tests.

Both are re-exported by :mod:`bayes_kfdi.data.simulate`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize

from bayes_kfdi.constants import COUNTRY, OUTCOME, SERIES, YEAR
from bayes_kfdi.exceptions import DataError, SpecificationError

__all__ = [
    "COUNTRY_SHARE",
    "SimulatedPanel",
    "calibrate_censored",
    "censored_moments",
    "simulate_ar1_panel",
    "simulate_dynamic_panel",
]

#: Share of the unit effect's variance that is the country effect shared by all series.
COUNTRY_SHARE = 0.6


def censored_moments(y: np.ndarray, floor: float) -> tuple[float, float]:
    """Mean and sd of ``max(y, floor)``."""
    c = np.maximum(y, floor)
    return float(c.mean()), float(c.std(ddof=1))


def calibrate_censored(
    base: np.ndarray,
    offset: np.ndarray,
    noise: np.ndarray,
    scale_mu: float,
    target_mean: float,
    target_sd: float,
    floor: float,
    sigma_min: float = 1.0,
) -> tuple[float, float, float]:
    """Solve (mu, sigma, lam) so that ``max(y, floor)`` has the target mean and sd.

    Here ``y = mu*scale_mu + sigma*noise + base - lam*offset``.

    The censored mean increases in mu and the censored sd in sigma; nested Brent root
    finding is deterministic, so the same draws give the same parameters bit for bit.
    lam stays 0 unless even sigma = ``sigma_min`` gives too large an sd (the
    covariates alone vary more than the paper's outcome); then sigma = sigma_min and
    lam in (0, 1] is the share of the between-country covariate effect that the unit
    effect offsets.
    """

    def mu_for(sigma: float, lam: float) -> float:
        def f(mu: float) -> float:
            y = mu * scale_mu + sigma * noise + base - lam * offset
            return censored_moments(y, floor)[0] - target_mean

        return optimize.brentq(f, -500.0, 500.0, xtol=1e-12)

    def g(sigma: float, lam: float) -> float:
        mu = mu_for(sigma, lam)
        y = mu * scale_mu + sigma * noise + base - lam * offset
        return censored_moments(y, floor)[1] - target_sd

    if g(sigma_min, 0.0) <= 0:
        sigma = optimize.brentq(lambda v: g(v, 0.0), sigma_min, 50.0, xtol=1e-12)
        return mu_for(sigma, 0.0), sigma, 0.0
    if g(sigma_min, 1.0) > 0:
        raise DataError(
            f"cannot calibrate: even with the unit effect offsetting all between-country "
            f"covariate variation the censored sd exceeds the target {target_sd}."
        )
    lam = optimize.brentq(lambda v: g(sigma_min, v), 0.0, 1.0, xtol=1e-12)
    return mu_for(sigma_min, lam), sigma_min, lam


@dataclass(frozen=True, slots=True)
class SimulatedPanel:
    """A simulated panel and the parameters that generated it.

    Attributes
    ----------
    frame : pandas.DataFrame
        Canonical long panel (``series, country, year, fdi`` and covariates) plus
        ``fdi_latent``, the uncensored outcome. With ``floor=False``, ``fdi`` equals
        ``fdi_latent``.
    truth : dict
        Every parameter, JSON-serialisable (see
        :func:`bayes_kfdi.data.simulate.simulate_korea` for the layout).
    """

    frame: pd.DataFrame
    truth: dict[str, Any]


def simulate_dynamic_panel(
    *,
    seed: int,
    n_series: int = 3,
    n_countries: int = 25,
    n_years: int = 20,
    rho: float | Mapping[str, float] = 0.5,
    beta: Mapping[str, float] | Mapping[str, Mapping[str, float]] | None = None,
    trend: Mapping[str, float] | None = None,
    sigma: float = 1.0,
    alpha_sd: float = 1.0,
    country_share: float = COUNTRY_SHARE,
    censor_share: float = 0.0,
    missing_share: float = 0.0,
    missing: Literal["mcar", "mar"] = "mcar",
    first_year: int = 2000,
) -> SimulatedPanel:
    r"""Small dynamic-panel DGP with known parameters, for estimator recovery tests.

    Parameters
    ----------
    seed : int
        Seed of ``np.random.default_rng``.
    n_series, n_countries, n_years : int
        Panel shape; series are named ``s1..``, countries ``C01..``, years start at
        ``first_year``.
    rho : float or mapping series -> float, default 0.5
        Autoregressive coefficient, |rho| < 1.
    beta : mapping, optional
        Slopes at the reference year (the middle year), either ``{term: value}`` for every
        series or ``{series: {term: value}}``. Default ``{"gdp": 1.0, "wage": -0.5,
        "exports": 0.3}``. Terms name the covariate columns.
    trend : mapping term -> float, optional
        Per-year change of a slope (same for every series): slope(t) = beta +
        trend*(t - reference_year).
    sigma : float, default 1.0
        Sd of the idiosyncratic shock.
    alpha_sd : float, default 1.0
        Sd of the unit effect alpha[s,c] = alpha_sd*(sqrt(country_share)*a_c +
        sqrt(1-country_share)*d_sc), mean 0.
    censor_share : float, default 0.0
        If > 0, ``fdi`` is censored from below at the ``censor_share`` quantile of the
        latent outcome (the floor is stored in ``truth["floor"]``).
    missing_share : float, default 0.0
        Share of covariate cells set missing.
    missing : {"mcar", "mar"}, default "mcar"
        "mcar": completely at random. "mar": the probability of a missing covariate
        rises with the previous year's observed outcome (logistic in its z-score), so
        missingness depends on observed data only.

    Returns
    -------
    SimulatedPanel
        Frame with ``series, country, year, fdi``, the covariates and ``fdi_latent``;
        truth with the same layout as :func:`simulate_korea` (``alpha`` holds the unit
        effects).

    Notes
    -----
    Each covariate is x_ct = 0.7*b_c + 0.7*w_ct (standardised), a country part b_c that is
    correlated with the unit effect (corr about 0.5 with a_c) and a within-country AR(1)
    part (phi 0.5); covariates are shared by all series. The outcome is

    .. math::

        y^*_{sct} = \alpha_{sc} + \rho_s y^*_{sc,t-1} + x_{ct}'\beta_s(t) + \varepsilon_{sct}

    with the initial condition y*_{sc,0} = (alpha_sc + x_c0'beta)/(1-rho) +
    sigma/sqrt(1-rho^2) e_sc, i.e. drawn from (approximately) the stationary distribution
    given the unit effect: it is correlated with alpha, so treating y_0 as exogenous is
    wrong. Expected biases of naive estimators (no censoring, no missingness):

    - pooled OLS of y on y_{-1} and x: rho biased upwards (y_{-1} absorbs alpha; with
      alpha_sd = sigma = 1 and rho = 0.5 the bias is roughly +0.2 to +0.3), and beta biased
      because x is correlated with alpha;
    - within (fixed effects) estimator: Nickell bias in rho of about -(1+rho)/(T-1),
      about -0.08 for rho = 0.5, T = 20;
    - difference GMM is consistent but weak when rho is near 1; system GMM is consistent
      here because the initial condition is mean-stationary;
    - with censoring, any linear estimator on the censored fdi attenuates rho and beta.
    """
    rng = np.random.default_rng(seed)
    _check_shares(censor_share, missing_share, missing)
    series = [f"s{i + 1}" for i in range(n_series)]
    countries = [f"C{i + 1:02d}" for i in range(n_countries)]
    years = np.arange(first_year, first_year + n_years)
    ref_year = int(years[len(years) // 2])
    beta_s, rho_s = _series_parameters(series, beta, rho)
    terms = list(next(iter(beta_s.values())).keys())
    trend = dict(trend or {})
    a_c = rng.standard_normal(n_countries)
    x_full = _draw_covariates(rng, terms, a_c, n_years)
    latent_all, alpha_out = {}, {}
    for s in series:
        d = rng.standard_normal(n_countries)
        alpha = alpha_sd * (math.sqrt(country_share) * a_c + math.sqrt(1 - country_share) * d)
        slope = {k: beta_s[s][k] + trend.get(k, 0.0) * (years - ref_year) for k in terms}
        xb = sum(slope[k][None, :] * x_full[k] for k in terms)
        latent_all[s] = _stationary_recursion(rng, alpha, rho_s[s], xb, sigma)
        alpha_out[s] = dict(zip(countries, alpha.tolist(), strict=True))
    pooled = np.concatenate([v.ravel() for v in latent_all.values()])
    floor_value = float(np.quantile(pooled, censor_share)) if censor_share > 0 else None
    frame = _panel_frame(latent_all, x_full, countries, years, floor_value)
    if missing_share > 0:
        _mask_covariates(rng, frame, terms, missing_share, missing)
    truth = _dynamic_truth(
        seed=seed,
        floor_value=floor_value,
        ref_year=ref_year,
        rho_s=rho_s,
        beta_s=beta_s,
        trend=trend,
        sigma=sigma,
        alpha={"sd": alpha_sd, "country_share": country_share, "a_c": a_c, "by": alpha_out},
        countries=countries,
        notes=f"missing_share={missing_share} ({missing}) on every covariate; "
        f"censor_share={censor_share}.",
    )
    return SimulatedPanel(frame=frame, truth=truth)


def _check_shares(censor_share: float, missing_share: float, missing: str) -> None:
    """Refuse shares outside [0, 1) and unknown missingness mechanisms."""
    if not 0.0 <= censor_share < 1.0 or not 0.0 <= missing_share < 1.0:
        raise SpecificationError(
            f"censor_share={censor_share}, missing_share={missing_share}; both must be in [0, 1)."
        )
    if missing not in ("mcar", "mar"):
        raise SpecificationError(f"missing={missing!r}; expected 'mcar' or 'mar'.")


def _series_parameters(
    series: list[str],
    beta: Mapping[str, float] | Mapping[str, Mapping[str, float]] | None,
    rho: float | Mapping[str, float],
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Per-series slopes and autoregressive coefficients; refuse |rho| >= 1."""
    beta = {"gdp": 1.0, "wage": -0.5, "exports": 0.3} if beta is None else beta
    if all(isinstance(v, Mapping) for v in beta.values()) and beta:
        beta_s = {s: dict(beta[s]) for s in series}  # type: ignore[index]
    else:
        beta_s = {s: {k: float(v) for k, v in beta.items()} for s in series}  # type: ignore[arg-type]
    rho_s = (
        {s: float(rho[s]) for s in series}
        if isinstance(rho, Mapping)
        else dict.fromkeys(series, float(rho))
    )
    if any(abs(r) >= 1 for r in rho_s.values()):
        raise SpecificationError(f"rho={rho_s}; every |rho| must be < 1 for the stationary start.")
    return beta_s, rho_s


def _draw_covariates(
    rng: np.random.Generator, terms: list[str], a_c: np.ndarray, n_years: int
) -> dict[str, np.ndarray]:
    """Country-by-year covariates: a part correlated with a_c plus a within-country AR(1)."""
    n_countries = len(a_c)
    x_full: dict[str, np.ndarray] = {}
    for k in terms:
        b = 0.5 * a_c + math.sqrt(0.75) * rng.standard_normal(n_countries)
        w = np.empty((n_countries, n_years))
        innov = rng.standard_normal((n_countries, n_years))
        w[:, 0] = innov[:, 0]
        for t in range(1, n_years):
            w[:, t] = 0.5 * w[:, t - 1] + math.sqrt(0.75) * innov[:, t]
        x_full[k] = 0.7 * b[:, None] + 0.7 * w
    return x_full


def _stationary_recursion(
    rng: np.random.Generator, alpha: np.ndarray, r: float, xb: np.ndarray, sigma: float
) -> np.ndarray:
    """Latent outcome of one series, started from the stationary distribution given alpha."""
    n_countries, n_years = xb.shape
    e0 = rng.standard_normal(n_countries)
    eps = sigma * rng.standard_normal((n_countries, n_years))
    y = np.empty((n_countries, n_years))
    y[:, 0] = (alpha + xb[:, 0]) / (1 - r) + sigma / math.sqrt(1 - r * r) * e0
    for t in range(1, n_years):
        y[:, t] = alpha + r * y[:, t - 1] + xb[:, t] + eps[:, t]
    return y


def _panel_frame(
    latent_all: dict[str, np.ndarray],
    x_full: dict[str, np.ndarray],
    countries: list[str],
    years: np.ndarray,
    floor_value: float | None,
) -> pd.DataFrame:
    """Long frame of every series, ``fdi`` censored at ``floor_value`` when given."""
    frames = []
    for s, y in latent_all.items():
        fdi = np.maximum(y, floor_value) if floor_value is not None else y
        cols: dict[str, Any] = {
            SERIES: s,
            COUNTRY: np.repeat(countries, len(years)),
            YEAR: np.tile(years, len(countries)),
            OUTCOME: fdi.ravel(),
        }
        for k, x in x_full.items():
            cols[k] = x.ravel().copy()
        cols["fdi_latent"] = y.ravel()
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)


def _mask_covariates(
    rng: np.random.Generator,
    frame: pd.DataFrame,
    terms: list[str],
    missing_share: float,
    missing: str,
) -> None:
    """Set covariate cells missing in place, completely at random or driven by y_{t-1}."""
    n = len(frame)
    for k in terms:
        if missing == "mcar":
            drop = rng.random(n) < missing_share
        else:
            prev = frame.groupby([SERIES, COUNTRY])[OUTCOME].shift(1).to_numpy()
            z = (prev - np.nanmean(prev)) / np.nanstd(prev)
            z = np.nan_to_num(z, nan=0.0)
            logit0 = math.log(missing_share / (1 - missing_share))
            p = 1 / (1 + np.exp(-(logit0 + 1.0 * z)))
            drop = rng.random(n) < p
        frame.loc[drop, k] = np.nan


def _dynamic_truth(
    *,
    seed: int,
    floor_value: float | None,
    ref_year: int,
    rho_s: dict[str, float],
    beta_s: dict[str, dict[str, float]],
    trend: dict[str, float],
    sigma: float,
    alpha: dict[str, Any],
    countries: list[str],
    notes: str,
) -> dict[str, Any]:
    """Every parameter of :func:`simulate_dynamic_panel`, JSON-serialisable."""
    terms = list(next(iter(beta_s.values())).keys())
    return {
        "dgp": "dynamic_panel",
        "seed": int(seed),
        "censored": floor_value is not None,
        "floor": floor_value,
        "reference_year": ref_year,
        "rho": rho_s,
        "beta": beta_s,
        "beta_trend": {s: {k: float(trend.get(k, 0.0)) for k in terms} for s in beta_s},
        "sigma": dict.fromkeys(beta_s, float(sigma)),
        "alpha": {
            "sd": alpha["sd"],
            "country_share": alpha["country_share"],
            "country": dict(zip(countries, alpha["a_c"].tolist(), strict=True)),
            "alpha": alpha["by"],
        },
        "notes": [
            notes,
            "Covariates are correlated with the unit effect (corr(b_c, a_c) = 0.5).",
            "Initial condition drawn from the stationary distribution given alpha.",
        ],
        "paper_conflicts": {},
    }


def simulate_ar1_panel(n: int, t: int, *, seed: int, burn: int = 50) -> pd.DataFrame:
    """Balanced, mean-stationary dynamic panel for GMM checks and benchmarks.

    ``y[i,t] = 0.5 y[i,t-1] + 0.3 x[i,t] + mu[i] + e[i,t]`` with
    ``x[i,t] = 0.5 x[i,t-1] + 0.5 mu[i] + u[i,t]``; ``mu``, ``e`` and ``u`` are iid
    standard normal. True parameters: rho = 0.5, beta = 0.3. ``x`` is correlated with the
    unit effect, so pooled OLS is biased upward in rho; the ``burn`` discarded periods make
    the initial conditions mean-stationary, so system GMM (Blundell-Bond) is consistent.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, year, y, x``; ``n * t`` rows, years 2000 .. 2000 + t - 1.
    """
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=n)
    tt = t + burn
    x = np.zeros((n, tt))
    y = np.zeros((n, tt))
    for s in range(1, tt):
        x[:, s] = 0.5 * x[:, s - 1] + 0.5 * mu + rng.normal(size=n)
        y[:, s] = 0.5 * y[:, s - 1] + 0.3 * x[:, s] + mu + rng.normal(size=n)
    return pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), t),
            "year": np.tile(np.arange(2000, 2000 + t), n),
            "y": y[:, burn:].ravel(),
            "x": x[:, burn:].ravel(),
        }
    )
