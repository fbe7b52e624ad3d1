"""Test-local dynamic panel simulator with known truth.

Used until/unless ``bayes_kfdi.data.simulate`` is available; the truth layout follows
the project's simulator contract: ``{"rho": {series: float}, "beta": {series: {term:
float}} (slope at reference_year), "beta_trend": {series: {term: float}} (per year),
"reference_year": int, "floor": float, "censored": bool}``.

DGP (per unit i = (series s, country c), year t)::

    y*_it = alpha_s + c_i + rho_s * y_{i,t-1} + sum_k beta_sk(t) x_itk + e_it,
    e_it ~ N(0, sigma^2),  y_it = max(y*_it, floor) if censored
    c_i   = 0.6 * mean_t(gdp_ct) + N(0, 0.5^2)          (correlated with covariates)
    y_i0  drawn after a 30-year burn-in                 (initial conditions endogenous)

The lag regressor is the observed (floor-coded) outcome, as in the model. A naive random
effects model that ignores the dependence of c_i on y_i0 overstates rho.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BURN_IN = 30


def simulate(
    *,
    seed: int,
    n_series: int = 3,
    n_countries: int = 25,
    n_years: int = 20,
    rho: float = 0.5,
    censor_share: float = 0.0,
    missing_share: float = 0.0,
    floor: float = float(np.log(3.0)),
    wage_trend: float = 0.02,
    sigma: float = 0.6,
    series_names: tuple[str, ...] | None = None,
):
    rng = np.random.default_rng(seed)
    names = series_names or tuple(f"s{i}" for i in range(n_series))
    S = len(names)
    C, T = n_countries, n_years
    TT = T + BURN_IN
    years = np.arange(2000 - BURN_IN, 2000 + T)
    countries = [f"C{i:02d}" for i in range(C)]
    host_terms = ("gdp", "wage", "rd")
    # host covariates: country level + trend + AR noise
    host = {}
    for k, term in enumerate(host_terms):
        lvl = rng.normal(0, 1.0, size=C)
        tr = rng.normal(0.03, 0.02, size=C)
        noise = rng.normal(0, 0.3, size=(C, TT))
        host[term] = lvl[:, None] + tr[:, None] * (np.arange(TT) - TT + T / 2) + noise + 2 * k
    trade = rng.normal(0, 1.0, size=(S, C, 1)) + rng.normal(0, 0.5, size=(S, C, TT))
    terms = (*host_terms, "exports")
    mu_b = {"gdp": 0.5, "wage": -0.4, "rd": 0.2, "exports": 0.3}
    beta = {s: {t: mu_b[t] + rng.normal(0, 0.1) for t in terms} for s in names}
    rhos = {s: float(np.clip(rho + rng.normal(0, 0.05), 0.05, 0.95)) for s in names}
    alpha0 = rng.normal(0, 0.3, size=S)
    ref_year = int(2000 + T // 2)
    gdp_mean = host["gdp"][:, BURN_IN:].mean(axis=1)
    ceff = 0.6 * (gdp_mean[None, :] - gdp_mean.mean()) + rng.normal(0, 0.5, size=(S, C))
    eps = rng.normal(0, sigma, size=(S, C, TT))

    def run(shift: float):
        y = np.empty((S, C, TT))
        prev = np.full((S, C), floor + 3.0)
        for t in range(TT):
            yr = years[t]
            xb = np.zeros((S, C))
            for si, s in enumerate(names):
                for term in terms:
                    b = beta[s][term]
                    if term == "wage":
                        b = b + wage_trend * (yr - ref_year)
                    x = host[term][:, t] if term in host else trade[si, :, t]
                    xb[si] += b * x
            r = np.array([rhos[s] for s in names])[:, None]
            ystar = (alpha0[:, None] + shift) + ceff + r * prev + xb + eps[:, :, t]
            yt = np.maximum(ystar, floor) if censor_share > 0 else ystar
            y[:, :, t] = yt
            prev = yt
        return y

    shift = 0.0
    if censor_share > 0:
        lo, hi = -30.0, 30.0
        for _ in range(40):
            shift = 0.5 * (lo + hi)
            share = np.mean(run(shift)[:, :, BURN_IN:] <= floor + 1e-9)
            if share > censor_share:
                lo = shift
            else:
                hi = shift
    y = run(shift)
    rows = []
    for si, s in enumerate(names):
        for ci, c in enumerate(countries):
            for t in range(BURN_IN, TT):
                row = {"series": s, "country": c, "year": int(years[t]), "fdi": y[si, ci, t]}
                for term in host_terms:
                    row[term] = host[term][ci, t]
                row["exports"] = trade[si, ci, t]
                rows.append(row)
    frame = pd.DataFrame(rows)
    if missing_share > 0:
        for term in ("gdp", "rd"):
            cells = frame[["country", "year"]].drop_duplicates()
            drop = cells.sample(frac=missing_share, random_state=int(rng.integers(1 << 31)))
            key = frame.set_index(["country", "year"]).index
            mask = key.isin(pd.MultiIndex.from_frame(drop))
            frame.loc[mask, term] = np.nan
    truth = {
        "rho": rhos,
        "beta": beta,
        "beta_trend": {s: {"wage": wage_trend} for s in names},
        "reference_year": ref_year,
        "floor": floor,
        "censored": censor_share > 0,
        "sigma": sigma,
    }
    return frame, truth


def slope_at(truth: dict, series: str, term: str, year: float) -> float:
    """True slope of ``term`` for ``series`` at ``year``."""
    b = truth["beta"][series][term]
    tr = truth.get("beta_trend", {}).get(series, {}).get(term, 0.0)
    return float(b + tr * (year - truth["reference_year"]))
