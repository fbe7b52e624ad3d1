"""Simulated sector trade of the semi-synthetic Korean panel.

Per sector (textile, steel, electronics; the electronics motives share electronics
trade) four log variables: ``exports, exunit, imports, imunit``.

- Volumes (``exports, imports``): between-host gravity part + host growth trend +
  within-host AR(1), mapped to Table 4's mean, sd and minimum. The size of the AR(1)
  part and of the trend are solved on the realised draws so that the within-host sd of
  year-on-year changes and the cross-host sd of mean growth equal real Korean bilateral
  manufacturing trade (AGTPA, the panel's hosts, 1986-2006: 0.373 and 0.109 for exports,
  0.489 and 0.098 for imports).
- Electronics unit values (``exunit, imunit``, log US$/kg, ``unit_value_scale="hs85"``):
  between-host part (tied to GDP per capita) + within-host AR(1) + composition noise
  (half the within-host variance of yearly changes) + a common random-walk year shock,
  solved on the realised draws so that the median absolute year-on-year change and the
  cross-host sd equal Korea's HS85 trade in 1989-1990 (exports 0.204 and 0.599, mean
  2.34; imports 0.502 and 1.142, mean 3.21). Both statistics match to 1e-6 on the
  observed cells.
- Textile and steel unit values, and electronics unit values with
  ``unit_value_scale="paper"``: the previous construction, mapped to Table 4's moments
  (electronics then varies by 0.0086 and 0.046 around 1.1: nearly constant).

Statistics are defined in :mod:`bayes_kfdi.data.trade_calibration`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from bayes_kfdi.constants import SECTORS, TRADE_COVARIATES
from bayes_kfdi.data.trade_calibration import (
    calibration_targets,
    cross_host_sd,
    growth_sd,
    median_abs_yoy,
    within_yoy_sd,
)

__all__ = ["TRADE_PHI", "simulate_trade"]

#: Share of a Table-4-scaled trade variable's variance that is between-country.
TRADE_BETWEEN_SHARE = 0.6
#: AR(1) coefficient of the within-country part of simulated trade and unit values.
TRADE_PHI = 0.8
#: Ratio (mean - min) / sd below which a Table 4 variable is drawn skewed (shifted
#: lognormal) rather than normal: the paper's electronics unit values sit on their floor.
SKEW_RATIO = 2.5
#: Share of the variance of yearly unit-value changes that is composition noise
#: (iid product-mix shifts); the rest comes from the persistent AR(1) part.
UV_COMPOSITION_SHARE = 0.5
#: Sd of the yearly innovation of the common unit-value shock (a random walk): our choice,
#: the two real years give a single common change (-0.005 exports, -0.077 imports).
UV_YEAR_SHOCK_SD = 0.05
#: Unit-value terms of each trade direction.
_UV = {"exunit": "exports", "imunit": "imports"}


def _standardize(z: np.ndarray) -> np.ndarray:
    return (z - z.mean()) / z.std(ddof=1)


def _to_moments(z: np.ndarray, mean: float, sd: float, vmin: float) -> np.ndarray:
    """Map draws to a variable with Table 4's mean and sd, bounded by its minimum.

    Normal shape, clipped at the minimum (the paper's data use it as a floor code), unless
    the minimum is within :data:`SKEW_RATIO` sd of the mean; then a shifted lognormal
    above the minimum. Either way the result is rescaled to the exact mean and sd before
    the clip.
    """
    z = _standardize(z)
    gap = mean - vmin
    if gap / sd >= SKEW_RATIO:
        x = z
    else:
        s = math.sqrt(math.log1p((sd / gap) ** 2))
        x = np.exp(s * z)
    x = mean + sd * (x - x.mean()) / x.std(ddof=1)
    return np.maximum(x, vmin)


def _pin_minimum(x: np.ndarray, observed: np.ndarray, vmin: float) -> np.ndarray:
    """Set the lowest observed value to ``vmin``.

    Table 4's minima are single outliers or floor codes (textile EXUNIT 11 sd below its
    mean, textile IMUNIT 0, log 6 for trade values) that a smooth distribution does not
    reach.
    """
    out = x.copy()
    flat = out.ravel()
    idx = np.flatnonzero(observed.ravel())
    flat[idx[np.argmin(flat[idx])]] = vmin
    return flat.reshape(x.shape)


def _ar1(rng: np.random.Generator, n_c: int, n_t: int) -> np.ndarray:
    """Stationary AR(1) paths with unit variance and coefficient :data:`TRADE_PHI`."""
    innov = rng.standard_normal((n_c, n_t))
    w = np.empty((n_c, n_t))
    w[:, 0] = innov[:, 0]
    for t in range(1, n_t):
        w[:, t] = TRADE_PHI * w[:, t - 1] + math.sqrt(1 - TRADE_PHI**2) * innov[:, t]
    return w


def _solve(f: Callable[[float], float], lo: float, hi: float) -> float:
    """Root of an increasing ``f`` in [lo, hi]; the nearer end if there is none."""
    flo, fhi = f(lo), f(hi)
    if flo >= 0:
        return lo
    if fhi <= 0:
        return hi
    return float(optimize.brentq(f, lo, hi, xtol=1e-10))


def _volume(
    between: np.ndarray,
    w: np.ndarray,
    trend: np.ndarray,
    mask: np.ndarray,
    t4: pd.Series,
    target: dict[str, float],
) -> tuple[np.ndarray, dict[str, float]]:
    """Table-4-scaled log trade volume with AGTPA's within-host volatility and growth spread.

    ``z = between + r*w + q*trend``: for a growth scale q the AR(1) scale r is solved so that
    the observed cells' within-host sd of yearly changes equals the target; q is then
    updated (fixed point) until the cross-host sd of mean growth matches.
    """
    mean, sd, vmin = float(t4["mean"]), float(t4["sd"]), float(t4["min"])

    def build(r: float, q: float) -> np.ndarray:
        x = _to_moments(between[:, None] + r * w + q * trend, mean, sd, vmin)
        x = _pin_minimum(x, ~mask, vmin)
        return np.where(mask, np.nan, x)

    q = 0.1
    for _ in range(30):
        r = _solve(
            lambda v, q=q: within_yoy_sd(build(v, q)) - target["within_yoy_sd"], 1e-4, 5.0
        )
        got = growth_sd(build(r, q))
        if not got > 0 or abs(got / target["growth_sd"] - 1) < 1e-6:
            break
        q *= target["growth_sd"] / got
    x = _to_moments(between[:, None] + r * w + q * trend, mean, sd, vmin)
    x = _pin_minimum(x, ~mask, vmin)
    return x, {"ar1_scale": r, "trend_scale": q}


def _unit_value(
    rng: np.random.Generator, between: np.ndarray, mask: np.ndarray, target: dict[str, float]
) -> tuple[np.ndarray, dict[str, float]]:
    """Log unit value (US$/kg) with HS85's median yearly change and cross-host sd.

    ``x = m + s_b*between + k*(w + s_e*e) + g``: w AR(1) with unit variance, e iid,
    g a common random walk. s_e makes composition noise :data:`UV_COMPOSITION_SHARE` of
    the variance of changes; k is solved for the median |change| (between drops out of
    changes), then s_b for the cross-host sd, then m for the mean.
    """
    n_c, n_t = mask.shape
    w = _ar1(rng, n_c, n_t)
    e = rng.standard_normal((n_c, n_t))
    g = np.cumsum(UV_YEAR_SHOCK_SD * rng.standard_normal(n_t))
    g -= g.mean()
    var_dw = 2 * (1 - TRADE_PHI)
    s_e = math.sqrt(UV_COMPOSITION_SHARE / (1 - UV_COMPOSITION_SHARE) * var_dw / 2)
    within = w + s_e * e

    def obs(x: np.ndarray) -> np.ndarray:
        return np.where(mask, np.nan, x)

    k = _solve(
        lambda v: median_abs_yoy(obs(v * within + g[None, :])) - target["median_abs_yoy"],
        1e-4,
        10.0,
    )
    s_b = _solve(
        lambda v: cross_host_sd(obs(v * between[:, None] + k * within)) - target["cross_host_sd"],
        0.0,
        10.0,
    )
    x = s_b * between[:, None] + k * within + g[None, :]
    x += target["mean"] - np.nanmean(obs(x))
    return x, {
        "within_scale": k,
        "composition_sd": k * s_e,
        "between_sd": s_b,
        "year_shock_sd": UV_YEAR_SHOCK_SD,
    }


def simulate_trade(
    rng: np.random.Generator,
    *,
    host_full: dict[str, np.ndarray],
    dist: np.ndarray,
    years: np.ndarray,
    table4: pd.DataFrame,
    reference_year: int,
    unit_value_scale: str = "hs85",
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]], dict[str, Any]]:
    """Draw every sector's trade variables.

    Parameters
    ----------
    rng : numpy.random.Generator
        Consumed in a fixed order (sector, then variable).
    host_full : dict
        Completed host covariates, (hosts, years) arrays (``gdp`` and ``gdppc`` used).
    dist : numpy.ndarray
        Log distance from Korea per host.
    years : numpy.ndarray
        Panel years.
    table4 : pandas.DataFrame
        Table 4 indexed by ``(variable, sector)``.
    reference_year : int
        Year where the host growth trends cross zero.
    unit_value_scale : {"hs85", "paper"}
        Scale of the electronics unit values.

    Returns
    -------
    tuple
        ``(full, observed, report)``: completed and masked arrays per sector and variable,
        and per sector and variable the targets, the solved scales and the statistics the
        observed cells reach.
    """
    targets = calibration_targets()
    n_c, n_t = len(dist), len(years)
    z_gdp = _standardize(host_full["gdp"].mean(axis=1))
    z_gdppc = _standardize(host_full["gdppc"].mean(axis=1))
    z_dist = _standardize(dist)
    tt = (years - reference_year) / (years[-1] - reference_year)
    full: dict[str, dict[str, np.ndarray]] = {}
    observed: dict[str, dict[str, np.ndarray]] = {}
    report: dict[str, Any] = {}
    for sector in SECTORS:
        full[sector], observed[sector], report[sector] = {}, {}, {}
        for v in TRADE_COVARIATES:
            t4 = table4.loc[(v, sector)]
            u = rng.standard_normal(n_c)
            mask = np.zeros(n_c * n_t, dtype=bool)
            mask[rng.choice(n_c * n_t, size=n_c * n_t - int(t4["obs"]), replace=False)] = True
            mask = mask.reshape(n_c, n_t)
            if v in ("exports", "imports"):
                between = math.sqrt(TRADE_BETWEEN_SHARE) * _standardize(
                    0.6 * z_gdp - 0.4 * z_dist + 0.69 * u
                )
                w = _ar1(rng, n_c, n_t)
                trend = rng.standard_normal(n_c)[:, None] * (years - reference_year)[None, :]
                target = targets["agtpa"][v]
                x, scales = _volume(between, w, trend, mask, t4, target)
                keys = ("within_yoy_sd", "growth_sd")
            elif sector == "electronics" and unit_value_scale == "hs85":
                target = targets["hs85"][v]
                x, scales = _unit_value(rng, _standardize(0.5 * z_gdppc + 0.87 * u), mask, target)
                keys = ("mean", "cross_host_sd", "median_abs_yoy")
            else:
                w = _ar1(rng, n_c, n_t)
                w += 0.5 * rng.standard_normal(n_c)[:, None] * tt[None, :]
                z = math.sqrt(TRADE_BETWEEN_SHARE) * _standardize(0.5 * z_gdppc + 0.87 * u)[
                    :, None
                ] + math.sqrt(1 - TRADE_BETWEEN_SHARE) * _standardize(w)
                x = _to_moments(z, float(t4["mean"]), float(t4["sd"]), float(t4["min"]))
                x = _pin_minimum(x, ~mask, float(t4["min"]))
                target, scales, keys = {}, {}, ()
            obs = np.where(mask, np.nan, x)
            full[sector][v], observed[sector][v] = x, obs
            got = {
                "cross_host_sd": cross_host_sd(obs),
                "median_abs_yoy": median_abs_yoy(obs),
                "within_yoy_sd": within_yoy_sd(obs),
                "growth_sd": growth_sd(obs),
                "mean": float(np.nanmean(obs)),
            }
            report[sector][v] = {
                "targets": {k: target[k] for k in keys},
                "scales": scales,
                "simulated": got,
            }
    return full, observed, report
