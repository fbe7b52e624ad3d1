"""Seeded dynamic-panel data-generating processes whose true parameters are known.

- :func:`simulate_korea` builds the semi-synthetic Korean panel shipped as
  ``korea_semisynthetic.csv``: the paper's six series x 33 real hosts x 1988-2014, with
  real host covariates, simulated sector trade (:mod:`bayes_kfdi.data.simulate_trade`)
  and simulated FDI whose slopes carry the paper's Tables 2 and 3 effects.
- :func:`simulate_dynamic_panel` and :func:`simulate_ar1_panel` (defined in
  :mod:`bayes_kfdi.data.simulate_generic`) are small generic DGPs for recovery tests.

Realism (default panel; real / simulated on the observed cells; targets in the shipped
``trade_calibration.json``): electronics log unit values (US$/kg) against Korea's HS85
trade 1989-1990, cross-host sd 0.599 / 0.599 (exports) and 1.142 / 1.142 (imports),
median |yearly change| 0.204 / 0.204 and 0.502 / 0.502; trade volumes against Korea's
AGTPA trade with the panel's hosts 1986-2006, within-host sd of yearly log changes 0.373
(exports) and 0.489 (imports) and cross-host sd of mean growth 0.109 and 0.098, matched
in every sector.

Every result is a :class:`SimulatedPanel` (canonical long frame plus a ``truth`` dict);
:func:`write_simulated` writes the CSV and ``<stem>.truth.json`` atomically.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from bayes_kfdi.constants import (
    COUNTRY,
    FDI_FLOOR,
    HOST_COVARIATES,
    OUTCOME,
    PAPER_SERIES,
    SECTOR_OF_SERIES,
    SECTORS,
    SERIES,
    TRADE_COVARIATES,
    YEAR,
)
from bayes_kfdi.data.simulate_generic import (
    COUNTRY_SHARE,
    SimulatedPanel,
    calibrate_censored,
    censored_moments,
    simulate_ar1_panel,
    simulate_dynamic_panel,
)
from bayes_kfdi.data.simulate_trade import simulate_trade
from bayes_kfdi.exceptions import DataError, NearConstantCovariateWarning, SpecificationError

__all__ = [
    "DEFAULT_SEED",
    "FIRST_YEAR",
    "LAST_YEAR",
    "REFERENCE_YEAR",
    "RHO_KOREA",
    "UNIT_VALUE_SCALES",
    "SimulatedPanel",
    "simulate_ar1_panel",
    "simulate_dynamic_panel",
    "simulate_korea",
    "write_simulated",
]

#: Seed of the shipped panel ``korea_semisynthetic.csv``.
DEFAULT_SEED = 20200127
FIRST_YEAR, LAST_YEAR = 1988, 2014
#: Average year of the panel; time-varying slopes equal beta here.
REFERENCE_YEAR = 2001
#: Scales of the electronics unit values: real-like log US$/kg, or Table 4's published
#: near-constant columns.
UNIT_VALUE_SCALES = ("hs85", "paper")

#: Persistence of each series. The paper does not report its lagged-outcome coefficient
#: (only that FDI is "highly persistent" and that GDP's effect shrinks once the lag is
#: included). We choose moderate values, higher for the sector aggregates than for the
#: motive sub-series (aggregates sum several persistent projects), low enough that
#: system GMM's instruments stay strong with T = 27.
RHO_KOREA: dict[str, float] = {
    "textile": 0.55,
    "steel": 0.60,
    "electronics": 0.65,
    "electronics_market": 0.50,
    "electronics_technology": 0.45,
    "electronics_efficiency": 0.40,
}
#: Standard deviation of the unit effect alpha[s,c] relative to sigma[s].
ALPHA_TO_SIGMA = 1.0
#: Smallest shock sd the calibration may choose (keeps every series noisy enough to be
#: a plausible outcome and its slopes identified by more than the covariates' path).
SIGMA_MIN = 1.0
#: Trade volumes that respond to lagged FDI in the feedback scenario.
FEEDBACK_TERMS = ("exports", "imports")
#: Largest allowed root rho + feedback*(beta_exports + beta_imports) of a sector's
#: FDI-trade loop: nearer 1 the panel drifts far from Table 4's moments.
MAX_FEEDBACK_ROOT = 0.95
#: Efficiency-seeking wage slope implied by the text (two-sd wage rise: FDI -14% in 1988,
#: -4% in 2014; Table 4 sd of WAGE 0.380): log(1 - 0.14)/0.76 and log(1 - 0.04)/0.76.
_WAGE_SD_PAPER = 0.380248
TEXT_WAGE_SLOPE_START = math.log(1 - 0.14) / (2 * _WAGE_SD_PAPER)
TEXT_WAGE_SLOPE_END = math.log(1 - 0.04) / (2 * _WAGE_SD_PAPER)
#: Change of the effect of a one-sd IMUNIT rise over 1988-2014 (log points). The text:
#: the import-unit-value effect is positive early, reverses mid-way, most strongly for
#: efficiency-seeking FDI. The paper prints no interaction coefficient, so these are ours.
IMUNIT_EFFECT_CHANGE = {s: -0.15 for s in PAPER_SERIES} | {"electronics_efficiency": -0.30}

_TERMS: tuple[str, ...] = HOST_COVARIATES + TRADE_COVARIATES
_SLOPE_KEYS = (
    "beta_paper beta_sim effect_per_sd beta_trend_paper beta_trend_sim effect_per_sd_trend "
    "sd_paper sd_sim"
).split()
_COLUMNS: tuple[str, ...] = (SERIES, COUNTRY, YEAR, OUTCOME, *_TERMS, "fdi_latent")


# ---------------------------------------------------------------------------- helpers
def _complete(values: np.ndarray) -> np.ndarray:
    """Fill a (countries, years) array for the DGP only.

    Interpolate within a country, hold the ends flat, and use the year's cross-country
    mean where a country has no value at all.
    """
    out = values.copy()
    years = np.arange(values.shape[1], dtype=float)
    for i in range(values.shape[0]):
        ok = np.isfinite(values[i])
        if ok.any():
            out[i] = np.interp(years, years[ok], values[i, ok])
    year_mean = np.nanmean(out, axis=0)
    empty = ~np.isfinite(out).any(axis=1)
    out[empty] = year_mean
    return out


def _load_host_covariates() -> pd.DataFrame:
    from bayes_kfdi.data.load import load_host_covariates

    return load_host_covariates()


def _paper_beta() -> dict[str, dict[str, float]]:
    from bayes_kfdi.data.paper import paper_coefficients

    coefs = paper_coefficients()
    return {
        s: {t: float(v) for t, v in zip(g["term"], g["coef"], strict=True) if t != "_cons"}
        for s, g in coefs.groupby("series", sort=False)
    }


def _paper_cons() -> dict[str, float]:
    from bayes_kfdi.data.paper import paper_coefficients

    c = paper_coefficients()
    c = c[c["term"] == "_cons"]
    return {s: float(v) for s, v in zip(c["series"], c["coef"], strict=True)}


def _table4_targets() -> pd.DataFrame:
    from bayes_kfdi.data.paper import table4

    return table4().set_index(["variable", "sector"])


# ------------------------------------------------------------------------ Korea DGP
def _host_inputs() -> tuple[list[str], np.ndarray, dict, dict, np.ndarray]:
    """Hosts, years, observed and completed host covariates, log distance per host."""
    hosts_df = _load_host_covariates()
    countries = sorted(hosts_df[COUNTRY].unique())
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    n_c, n_t = len(countries), len(years)
    if n_c != 33 or set(hosts_df[YEAR]) != set(years.tolist()):
        raise DataError(
            f"host_covariates has {n_c} hosts and years {sorted(set(hosts_df[YEAR]))[:3]}...; "
            "expected 33 hosts x 1988-2014. Rebuild it with data/build/build_host_covariates.py."
        )
    grid = hosts_df.set_index([COUNTRY, YEAR]).reindex(
        pd.MultiIndex.from_product([countries, years], names=[COUNTRY, YEAR])
    )
    host_obs = {v: grid[v].to_numpy(float).reshape(n_c, n_t) for v in HOST_COVARIATES}
    host_full = {v: _complete(a) for v, a in host_obs.items()}
    dist = np.log(grid["dist_kor_km"].to_numpy(float).reshape(n_c, n_t)[:, 0])
    return countries, years, host_obs, host_full, dist


def _slopes(
    targets: pd.DataFrame, host_obs: dict, trade_obs: dict
) -> dict[str, dict[str, dict[str, float]]]:
    """Paper slopes rescaled so that each effect per sd of our column is the paper's.

    ``beta_sim = beta_paper * sd_paper / sd_sim`` with sd_paper Table 4's sd of the
    column and sd_sim the sd of the panel's observed column (the same for trend terms).
    """
    beta_paper = _paper_beta()
    wage_trend = (TEXT_WAGE_SLOPE_END - TEXT_WAGE_SLOPE_START) / (LAST_YEAR - FIRST_YEAR)
    out: dict[str, dict[str, dict[str, float]]] = {k: {} for k in _SLOPE_KEYS}
    for s in PAPER_SERIES:
        sector = SECTOR_OF_SERIES[s]
        sd_p = {k: float(targets.loc[(k, ""), "sd"]) for k in HOST_COVARIATES}
        sd_p |= {k: float(targets.loc[(k, sector), "sd"]) for k in TRADE_COVARIATES}
        obs = {**host_obs, **trade_obs[sector]}
        sd_s = {k: float(np.nanstd(obs[k], ddof=1)) for k in _TERMS}
        trend_p = {
            "wage": wage_trend if s == "electronics_efficiency" else 0.0,
            "imunit": IMUNIT_EFFECT_CHANGE[s] / (sd_p["imunit"] * (LAST_YEAR - FIRST_YEAR)),
        }
        out["sd_paper"][s], out["sd_sim"][s] = sd_p, sd_s
        out["beta_paper"][s] = {k: beta_paper[s][k] for k in _TERMS}
        out["beta_sim"][s] = {k: beta_paper[s][k] * sd_p[k] / sd_s[k] for k in _TERMS}
        out["effect_per_sd"][s] = {k: out["beta_sim"][s][k] * sd_s[k] for k in _TERMS}
        out["beta_trend_paper"][s] = trend_p
        out["beta_trend_sim"][s] = {k: v * sd_p[k] / sd_s[k] for k, v in trend_p.items()}
        out["effect_per_sd_trend"][s] = {k: out["beta_trend_sim"][s][k] * sd_s[k] for k in trend_p}
    return out


def _xb(
    slope: dict[str, np.ndarray],
    x: dict[str, np.ndarray],
    center: dict[str, float],
    t: slice | int = slice(None),
) -> np.ndarray:
    """Covariate effect (x - center)'beta(t) at year index ``t`` (every year by default)."""
    return sum(slope[k][t] * (x[k][:, t] - center[k]) for k in _TERMS)


def _recursion(
    alpha: np.ndarray,
    rho: float,
    y0: np.ndarray,
    shocks: np.ndarray,
    xb_at: Callable[[int, np.ndarray], np.ndarray],
) -> np.ndarray:
    """``y[t] = alpha + rho*y[t-1] + xb_at(t, y[t-1]) + shocks[t]`` from ``y[0] = y0``."""
    y = np.empty_like(shocks)
    y[:, 0] = y0
    for t in range(1, shocks.shape[1]):
        y[:, t] = alpha + rho * y[:, t - 1] + xb_at(t, y[:, t - 1]) + shocks[:, t]
    return y


def _series(
    s: str,
    rng: np.random.Generator,
    a_c: np.ndarray,
    years: np.ndarray,
    x0: dict[str, np.ndarray],
    slope: dict[str, np.ndarray],
    target: pd.Series,
) -> dict[str, Any]:
    """Draw and calibrate one series on the no-feedback covariates ``x0``.

    Returns the parameters, the latent path and what a feedback path needs.
    """
    n_c, n_t = len(a_c), len(years)
    rho = RHO_KOREA[s]
    center = {k: float(x0[k].mean()) for k in _TERMS}
    xb = _xb(slope, x0, center)
    d_sc = rng.standard_normal(n_c)
    e0 = rng.standard_normal(n_c)
    eps = rng.standard_normal((n_c, n_t))
    v_sc = math.sqrt(COUNTRY_SHARE) * a_c + math.sqrt(1 - COUNTRY_SHARE) * d_sc
    # y* = mu/(1-rho) + sigma * noise + base, with noise and base from the recursion.
    # An offset in alpha, -lam * (country mean of xb), enters y* as -lam*xbar/(1-rho).
    xbar = xb.mean(axis=1)
    offset = np.repeat((xbar / (1 - rho))[:, None], n_t, axis=1)
    noise = np.empty((n_c, n_t))
    base = np.empty((n_c, n_t))
    noise[:, 0] = ALPHA_TO_SIGMA * v_sc / (1 - rho) + e0 / math.sqrt(1 - rho**2)
    base[:, 0] = xb[:, 0] / (1 - rho)
    for t in range(1, n_t):
        noise[:, t] = ALPHA_TO_SIGMA * v_sc + rho * noise[:, t - 1] + eps[:, t]
        base[:, t] = rho * base[:, t - 1] + xb[:, t]
    mu, sigma, lam = calibrate_censored(
        base,
        offset,
        noise,
        1.0 / (1 - rho),
        float(target["mean"]),
        float(target["sd"]),
        FDI_FLOOR,
        sigma_min=SIGMA_MIN,
    )
    tau = ALPHA_TO_SIGMA * sigma
    return {
        "rho": rho,
        "mu": mu,
        "sigma": sigma,
        "lam": lam,
        "tau": tau,
        "center": center,
        "xbar": xbar,
        "shocks": sigma * eps,
        "deviation": tau * math.sqrt(1 - COUNTRY_SHARE) * d_sc,
        "alpha": mu + tau * v_sc - lam * xbar,
        "latent": mu / (1 - rho) + sigma * noise + base - lam * offset,
        "sd_xb": float(xb.std(ddof=1)),
        "sd_xb_within": float((xb - xb.mean(axis=1, keepdims=True)).std(ddof=1)),
    }


def _feedback_paths(
    par: dict[str, dict[str, Any]],
    slope: dict,
    host: dict,
    x0: dict,
    feedback: float,
    fdi_mean: dict,
) -> dict[str, dict[str, np.ndarray]]:
    """Re-run every series with trade volumes responding to lagged sector FDI.

    ``x[k,c,t] = x0[k,c,t] + feedback*(max(y*[agg,c,t-1], floor) - fdi_mean[agg])`` for
    k in :data:`FEEDBACK_TERMS`, agg the sector's aggregate series; mu, sigma and alpha
    stay those calibrated without feedback. Updates ``par[s]["latent"]`` in place and
    returns the sectors' trade.
    """
    trade = {sec: {k: v.copy() for k, v in x0[sec].items()} for sec in SECTORS}
    for s in PAPER_SERIES:
        sec, p = SECTOR_OF_SERIES[s], par[s]
        x = {**host, **trade[sec]}
        if s == sec:

            def xb_at(t: int, y_prev: np.ndarray, s=s, x=x, sec=sec, p=p) -> np.ndarray:
                push = feedback * (np.maximum(y_prev, FDI_FLOOR) - fdi_mean[s])
                for k in FEEDBACK_TERMS:
                    x[k][:, t] = x0[sec][k][:, t] + push
                return _xb(slope[s], x, p["center"], t)
        else:
            xb_fb = _xb(slope[s], x, p["center"])

            def xb_at(t: int, y_prev: np.ndarray, xb_fb=xb_fb) -> np.ndarray:
                return xb_fb[:, t]

        p["latent"] = _recursion(p["alpha"], p["rho"], p["latent"][:, 0], p["shocks"], xb_at)
    return trade


def simulate_korea(
    seed: int = DEFAULT_SEED,
    *,
    floor: bool = True,
    unit_value_scale: Literal["hs85", "paper"] = "hs85",
    feedback: float = 0.0,
) -> SimulatedPanel:
    r"""Simulate the semi-synthetic Korean FDI panel (6 series x 33 hosts x 1988-2014).

    Parameters
    ----------
    seed : int, default DEFAULT_SEED
        Seed of ``np.random.default_rng``.
    floor : bool, default True
        Censor ``fdi`` at the paper's floor log(3). ``False`` returns the same draws
        uncensored (``fdi == fdi_latent``).
    unit_value_scale : {"hs85", "paper"}, default "hs85"
        Electronics ``exunit``/``imunit``: log US$/kg calibrated to Korea's HS85 trade
        (varies within hosts), or Table 4's published columns (sd 0.0086 and 0.046 around
        1.1; warns :class:`~bayes_kfdi.exceptions.NearConstantCovariateWarning`: their
        slopes are barely learnable).
    feedback : float, default 0.0
        Response of log exports and imports at t to the sector's floor-coded log FDI at
        t-1 (minus its Table 4 mean). 0 keeps trade strictly exogenous.

    Returns
    -------
    SimulatedPanel
        ``frame`` has 5,346 rows; ``truth`` has keys ``dgp, seed, censored, floor,
        reference_year, unit_value_scale, feedback, rho, beta, beta_trend, beta_paper,
        beta_sim, effect_per_sd, beta_trend_paper, beta_trend_sim, effect_per_sd_trend,
        x_sd, sigma, alpha, x_center, calibration, trade_calibration, paper_cons, notes,
        paper_conflicts``. ``beta``/``beta_trend`` generate the data (= ``beta_sim``/
        ``beta_trend_sim``).

    Notes
    -----
    For series s, host c and year t (t* = :data:`REFERENCE_YEAR`):

    .. math::

        y^*_{sct} = \alpha_{sc} + \rho_s y^*_{sc,t-1}
                   + (x_{ct} - \bar x)'\beta_s(t) + \varepsilon_{sct},\qquad
        \varepsilon_{sct} \sim N(0, \sigma_s^2)

        \beta_{s,k}(t) = \beta_{s,k} + \gamma_{s,k}(t - t^*),\quad k \in
        \{\text{wage}, \text{imunit}\}

        \alpha_{sc} = \mu_s + \tau_s(\sqrt{0.6}\,a_c + \sqrt{0.4}\,d_{sc}),\quad
        \tau_s = \sigma_s

        \text{fdi}_{sct} = \max(y^*_{sct}, \log 3)

    - beta: Table 2 (sectors) and Table 3 (motives), rescaled per column so that the
      effect of one sd of our observed column equals the paper's coefficient times the
      sd of its Table 4 column (``beta_paper``, ``beta_sim``, ``effect_per_sd``, ``x_sd``).
      Electronics IMUNIT -22.77 x 0.046 = -1.06 log points per sd in both.
    - gamma: efficiency-seeking wage from the text's two-sd effect (-14% in 1988, -4% in
      2014, see ``paper_conflicts``); imunit for every series such that a one-sd IMUNIT
      rise changes its effect by :data:`IMUNIT_EFFECT_CHANGE` over the period. Rescaled
      like beta.
    - mu_s and sigma_s are solved so that the censored fdi has Table 4's mean and sd
      (without feedback); the floor share is in ``truth["calibration"]``.
    - Host covariates are the real ones with their real missingness; the DGP uses a
      completed copy and masks the missing cells in the output.
    - Trade: :mod:`bayes_kfdi.data.simulate_trade` (volumes calibrated to AGTPA, Table 4's
      moments and observation counts; electronics unit values to HS85; targets and
      achieved statistics in ``truth["trade_calibration"]``).
    """
    _check_korea_options(unit_value_scale, feedback)
    rng = np.random.default_rng(seed)
    countries, years, host_obs, host_full, dist = _host_inputs()
    targets = _table4_targets()
    trade_full, trade_obs, trade_report = simulate_trade(
        rng,
        host_full=host_full,
        dist=dist,
        years=years,
        table4=targets,
        reference_year=REFERENCE_YEAR,
        unit_value_scale=unit_value_scale,
    )
    sl = _slopes(targets, host_obs, trade_obs)
    slope, roots = _slope_paths(sl, years, feedback)
    a_c = rng.standard_normal(len(countries))
    x0 = {s: {**host_full, **trade_full[SECTOR_OF_SERIES[s]]} for s in PAPER_SERIES}
    par = {
        s: _series(s, rng, a_c, years, x0[s], slope[s], targets.loc[(OUTCOME, s)])
        for s in PAPER_SERIES
    }
    trade_out = trade_obs
    if feedback != 0.0:
        fdi_mean = {s: float(targets.loc[(OUTCOME, s), "mean"]) for s in SECTORS}
        trade_fb = _feedback_paths(par, slope, host_full, trade_full, feedback, fdi_mean)
        trade_out = {
            sec: {k: np.where(np.isnan(trade_obs[sec][k]), np.nan, v) for k, v in d.items()}
            for sec, d in trade_fb.items()
        }
    frame = _korea_frame(par, countries, years, host_obs, trade_out, floor)
    truth = _korea_truth(
        seed,
        floor,
        unit_value_scale,
        (feedback, roots),
        countries,
        a_c,
        par,
        sl,
        targets,
        trade_report,
    )
    return SimulatedPanel(frame=frame, truth=truth)


def _check_korea_options(unit_value_scale: str, feedback: float) -> None:
    """Refuse unknown unit-value scales and non-finite feedback; warn on the paper's scale."""
    if unit_value_scale not in UNIT_VALUE_SCALES:
        raise SpecificationError(
            f"unit_value_scale={unit_value_scale!r}; expected one of {UNIT_VALUE_SCALES}."
        )
    if not math.isfinite(feedback):
        raise SpecificationError(f"feedback={feedback}; expected a finite number (0 = off).")
    if unit_value_scale == "paper":
        warnings.warn(
            NearConstantCovariateWarning(
                "unit_value_scale='paper' copies Table 4's electronics EXUNIT/IMUNIT (sd 0.0086 "
                "and 0.046 around 1.1): they barely vary within hosts, so their slopes are "
                "nearly unlearnable. Use the default 'hs85' for log US$/kg unit values."
            ),
            stacklevel=3,
        )


def _slope_paths(
    sl: dict, years: np.ndarray, feedback: float
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, float]]:
    """Yearly slopes of every series and each sector's FDI-trade root; refuse explosive roots."""
    slope = {
        s: {
            k: sl["beta_sim"][s][k] + sl["beta_trend_sim"][s].get(k, 0.0) * (years - REFERENCE_YEAR)
            for k in _TERMS
        }
        for s in PAPER_SERIES
    }
    roots = {
        sec: RHO_KOREA[sec] + feedback * sum(sl["beta_sim"][sec][k] for k in FEEDBACK_TERMS)
        for sec in SECTORS
    }
    if max(abs(r) for r in roots.values()) > MAX_FEEDBACK_ROOT:
        raise SpecificationError(
            f"feedback={feedback} makes FDI and trade (nearly) explosive: rho + feedback*"
            f"(beta_exports + beta_imports) = {roots}; choose a feedback that keeps every root "
            f"within {MAX_FEEDBACK_ROOT}."
        )
    return slope, roots


def _korea_frame(
    par: dict[str, dict[str, Any]],
    countries: list[str],
    years: np.ndarray,
    host_obs: dict[str, np.ndarray],
    trade_out: dict[str, dict[str, np.ndarray]],
    floor: bool,
) -> pd.DataFrame:
    """Canonical long frame of :func:`simulate_korea`, observed covariates masked."""
    frames = []
    for s in PAPER_SERIES:
        latent = par[s]["latent"]
        cols: dict[str, Any] = {
            SERIES: s,
            COUNTRY: np.repeat(countries, len(years)),
            YEAR: np.tile(years, len(countries)),
            OUTCOME: (np.maximum(latent, FDI_FLOOR) if floor else latent).ravel(),
        }
        cols |= {k: host_obs[k].ravel() for k in HOST_COVARIATES}
        cols |= {k: trade_out[SECTOR_OF_SERIES[s]][k].ravel() for k in TRADE_COVARIATES}
        cols["fdi_latent"] = latent.ravel()
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)[list(_COLUMNS)]


def _korea_truth(
    seed: int,
    floor: bool,
    unit_value_scale: str,
    feedback: tuple[float, dict[str, float]],
    countries: list[str],
    a_c: np.ndarray,
    par: dict[str, dict[str, Any]],
    sl: dict,
    targets: pd.DataFrame,
    trade_report: dict,
) -> dict[str, Any]:
    """Every parameter of :func:`simulate_korea`, JSON-serialisable."""
    feedback, roots = feedback

    def by_country(v: np.ndarray) -> dict[str, float]:
        return dict(zip(countries, v.tolist(), strict=True))

    calib = {}
    for s, p in par.items():
        tg = targets.loc[(OUTCOME, s)]
        cm, csd = censored_moments(p["latent"], FDI_FLOOR)
        calib[s] = {
            "target_mean": float(tg["mean"]),
            "target_sd": float(tg["sd"]),
            "censored_mean": cm,
            "censored_sd": csd,
            "floor_share": float((p["latent"] <= FDI_FLOOR).mean()),
            "latent_mean": float(p["latent"].mean()),
            "latent_sd": float(p["latent"].std(ddof=1)),
            "sd_xb": p["sd_xb"],
            "sd_xb_within": p["sd_xb_within"],
        }
    return {
        "dgp": "korea_semisynthetic",
        "seed": int(seed),
        "censored": bool(floor),
        "floor": FDI_FLOOR,
        "reference_year": REFERENCE_YEAR,
        "unit_value_scale": unit_value_scale,
        "feedback": {
            "coefficient": float(feedback),
            "terms": list(FEEDBACK_TERMS),
            "ar_root": roots,
            "driver": {s: s for s in SECTORS},
            "driver_mean": {s: float(targets.loc[(OUTCOME, s), "mean"]) for s in SECTORS},
            "equation": "x[k,c,t] = x0[k,c,t] + coefficient*(max(fdi_latent[driver,c,t-1], "
            "floor) - driver_mean[driver]) for k in terms, per sector; x0 is the trade "
            "without feedback. Trade is strictly exogenous when coefficient = 0.",
        },
        "rho": {s: p["rho"] for s, p in par.items()},
        "beta": sl["beta_sim"],
        "beta_trend": sl["beta_trend_sim"],
        "beta_paper": sl["beta_paper"],
        "beta_sim": sl["beta_sim"],
        "effect_per_sd": sl["effect_per_sd"],
        "beta_trend_paper": sl["beta_trend_paper"],
        "beta_trend_sim": sl["beta_trend_sim"],
        "effect_per_sd_trend": sl["effect_per_sd_trend"],
        "x_sd": {"paper": sl["sd_paper"], "sim": sl["sd_sim"]},
        "sigma": {s: p["sigma"] for s, p in par.items()},
        "alpha": {
            "mu": {s: p["mu"] for s, p in par.items()},
            "tau": {s: p["tau"] for s, p in par.items()},
            "country_share": COUNTRY_SHARE,
            "xb_offset": {s: p["lam"] for s, p in par.items()},
            "country": by_country(a_c),
            "country_note": "alpha[s,c] = mu[s] + tau[s]*(sqrt(country_share)*country[c] "
            "+ sqrt(1-country_share)*z[s,c]) - xb_offset[s]*mean_t(x[c,t]'beta[s](t)); "
            "deviation[s][c] = tau[s]*sqrt(1-country_share)*z[s,c]; alpha[s][c] is the total.",
            "deviation": {s: by_country(p["deviation"]) for s, p in par.items()},
            "alpha": {s: by_country(p["alpha"]) for s, p in par.items()},
        },
        "x_center": {s: p["center"] for s, p in par.items()},
        "calibration": calib,
        "trade_calibration": trade_report,
        "paper_cons": _paper_cons(),
        "notes": [
            "beta[s][k] is the slope at reference_year; "
            "slope(t) = beta + beta_trend*(t - reference_year).",
            "beta = beta_sim = beta_paper * x_sd.paper / x_sd.sim: the effect of one sd of "
            "the panel's observed column (effect_per_sd) is the paper's coefficient times "
            "the sd of its Table 4 column; the same rescaling for beta_trend.",
            "Covariates enter centred at x_center[s] (grand means of the completed covariates, "
            "without feedback), so alpha.mu absorbs the level; paper_cons are not used.",
            "rho is our choice (the paper does not report it): 0.40-0.65, see RHO_KOREA.",
            "Host covariates are real (host_covariates.csv) with real missingness; the DGP "
            "uses a completed copy, the output masks the missing cells.",
            "Trade volumes: Table 4's moments and observation counts, within-host volatility "
            "and growth spread of real Korean trade (AGTPA). Electronics unit values: log "
            "US$/kg calibrated to Korea's HS85 trade (unit_value_scale='hs85') or Table 4's "
            "columns ('paper'). See trade_calibration.",
            "The six series are simulated separately (sharing the country effect): electronics is "
            "not the sum of the three motives.",
            "mu and sigma are solved so the censored fdi matches Table 4's mean and sd exactly "
            "without feedback (the no-floor and feedback variants keep the same mu and sigma).",
        ],
        "paper_conflicts": _PAPER_CONFLICTS,
    }


_PAPER_CONFLICTS: dict[str, Any] = {
    "efficiency_wage_slope": {
        "table3": -0.72,
        "text_two_sd_effect": {"1988": -0.14, "2014": -0.04},
        "text_implied_slope": {
            "1988": TEXT_WAGE_SLOPE_START,
            "2014": TEXT_WAGE_SLOPE_END,
            str(REFERENCE_YEAR): 0.5 * (TEXT_WAGE_SLOPE_START + TEXT_WAGE_SLOPE_END),
        },
        "used": "beta_paper = Table 3's -0.72 at the reference year (the estimate the paper "
        "reports, with SE 0.27); beta_trend_paper = the text's change in the slope per year, "
        "(slope_2014 - slope_1988)/26; both rescaled to our wage sd. The text's level (-0.12 "
        "mid-period) is 6 times smaller than Table 3 and cannot be reconciled without the "
        "unreported interaction coefficients.",
    },
    "table4_gdppc": {
        "table4": {"mean": 5.418324, "sd": 0.999401, "min": 0.0, "max": 6.418365},
        "ours": "log GDP per capita PPP in current international $ (mean about 9.5)",
        "used": "Table 1's definition; Table 4's GDPPC cannot be log dollars (max $613, "
        "min 0) and is not matched; its sd still sets the effect per sd.",
    },
    "table4_electronics_unit_values": {
        "table4": {
            "exunit": {"mean": 1.107097, "sd": 0.008639, "min": 1.098748},
            "imunit": {"mean": 1.132291, "sd": 0.046471, "min": 1.098612},
        },
        "reading": "min log 3 = 1.0986 suggests log(3 + unit value in thousand US$/kg): a "
        "near-constant column",
        "used": "log US$/kg calibrated to HS85 (default) or Table 4's columns "
        "(unit_value_scale='paper'); the slopes keep the paper's effect per Table 4 sd.",
    },
    "sample_period": {
        "table_titles": "1981-2014",
        "table4_years": "1988-2014",
        "used": "1988-2014 (Table 4: 891 = 33 x 27 rows).",
    },
}


# ---------------------------------------------------------------------------- writing
def _truth_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.truth.json")


def _atomic_write_text(path: Path, text: str) -> None:
    from bayes_kfdi.writer import write_text

    write_text(path, text)


def write_simulated(sim: SimulatedPanel, path: str | Path) -> tuple[Path, Path]:
    """Write ``sim.frame`` as CSV at ``path`` and ``sim.truth`` as ``<stem>.truth.json``.

    Both files are written to temporary files in the target folder and renamed into
    place, so a reader never sees a half-written pair. Floats are written at full
    precision (round-trip exact).

    Returns
    -------
    tuple of Path
        The CSV path and the truth-file path.
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise DataError(f"output {path} has suffix {path.suffix!r}; expected .csv.")
    if not path.parent.is_dir():
        raise DataError(f"output folder {path.parent} does not exist; create it first.")
    truth_path = _truth_path(path)
    csv_text = sim.frame.to_csv(index=False, lineterminator="\n")
    json_text = json.dumps(sim.truth, indent=2, allow_nan=False) + "\n"
    _atomic_write_text(truth_path, json_text)
    _atomic_write_text(path, csv_text)
    return path, truth_path
