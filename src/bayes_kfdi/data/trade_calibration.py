"""Trade statistics the simulator is calibrated to, and how they are measured.

One definition of each statistic serves three users: the build script that measures it
on real Korean trade (``data/build/build_trade_calibration.py``), the simulator that
matches it (:mod:`bayes_kfdi.data.simulate_trade`) and ``data describe``, which prints
real against simulated (:func:`bayes_kfdi.data.paper.compare_real_trade`).

Every statistic takes a (hosts, years) array of log values with NaN where a value is
missing; year-on-year changes use consecutive observed years only.

Real sources (copied into ``data/raw``; see the shipped ``PROVENANCE.md``):

- Comtrade HS85 (electrical machinery and electronics), Korea with 22 partners,
  1989-1990: unit value = sum of value / sum of quantity over the HS4 lines of a
  partner, year and direction (thousand US$ per tonne = US$/kg).
- AGTPA bilateral manufacturing trade, Korea with the panel's hosts, 1986-2006.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from bayes_kfdi.resources import data_dir

__all__ = [
    "TARGETS_FILE",
    "agtpa_volumes",
    "calibration_targets",
    "cross_host_sd",
    "growth_sd",
    "hs85_unit_values",
    "median_abs_yoy",
    "trade_statistics",
    "within_yoy_sd",
]

#: Shipped file of the measured targets (built from ``data/raw``).
TARGETS_FILE = "trade_calibration.json"
#: Direction of Korean trade -> (column holding KOR, column holding the partner).
_DIRECTIONS = {"exports": ("exporter", "importer"), "imports": ("importer", "exporter")}
#: Panel column of each direction's unit value.
UNIT_VALUE_TERMS = {"exports": "exunit", "imports": "imunit"}


def _yoy(a: np.ndarray) -> np.ndarray:
    """Year-on-year changes (hosts, years - 1); NaN unless both years are observed."""
    return np.diff(np.asarray(a, dtype=float), axis=1)


def median_abs_yoy(a: np.ndarray) -> float:
    """Median absolute year-on-year change over every host and pair of consecutive years."""
    d = _yoy(a)
    d = d[np.isfinite(d)]
    return float(np.median(np.abs(d))) if d.size else float("nan")


def within_yoy_sd(a: np.ndarray) -> float:
    """Within-host sd of year-on-year changes: pooled sd after removing each host's mean change.

    Degrees of freedom: changes minus hosts with at least one change.
    """
    d = _yoy(a)
    ok = np.isfinite(d)
    n = ok.sum(axis=1)
    keep = n > 0
    if not keep.any():
        return float("nan")
    mean = np.where(keep, np.nansum(np.where(ok, d, 0.0), axis=1) / np.maximum(n, 1), 0.0)
    dev = np.where(ok, d - mean[:, None], 0.0)
    dof = int(n.sum()) - int(keep.sum())
    return float(np.sqrt((dev**2).sum() / dof)) if dof > 0 else float("nan")


def growth_sd(a: np.ndarray) -> float:
    """Sd across hosts of each host's mean year-on-year change (hosts with 5+ changes)."""
    d = _yoy(a)
    ok = np.isfinite(d)
    n = ok.sum(axis=1)
    mean = np.nansum(np.where(ok, d, 0.0), axis=1) / np.maximum(n, 1)
    mean = mean[n >= 5]
    return float(mean.std(ddof=1)) if mean.size > 1 else float("nan")


def cross_host_sd(a: np.ndarray) -> float:
    """Cross-host sd of the level, averaged over years with at least 3 observed hosts."""
    a = np.asarray(a, dtype=float)
    sds = []
    for col in a.T:
        v = col[np.isfinite(col)]
        if v.size >= 3:
            sds.append(v.std(ddof=1))
    return float(np.mean(sds)) if sds else float("nan")


def trade_statistics(a: np.ndarray) -> dict[str, float]:
    """Every statistic of one (hosts, years) array of log values, plus its mean and counts."""
    a = np.asarray(a, dtype=float)
    v = a[np.isfinite(a)]
    return {
        "mean": float(v.mean()) if v.size else float("nan"),
        "cross_host_sd": cross_host_sd(a),
        "median_abs_yoy": median_abs_yoy(a),
        "within_yoy_sd": within_yoy_sd(a),
        "growth_sd": growth_sd(a),
        "n_hosts": int(np.isfinite(a).any(axis=1).sum()),
        "n_values": int(v.size),
    }


def hs85_unit_values(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Log HS85 unit values (US$/kg) of Korean exports and imports, partner x year.

    Parameters
    ----------
    raw : pandas.DataFrame
        Comtrade HS4 lines with ``year, exporter, importer, hs4, value, quantity``
        (value in thousand US$, quantity in tonnes).

    Returns
    -------
    dict
        ``{"exports": frame, "imports": frame}``, each indexed by partner with one
        column per year; lines without a positive quantity are left out.
    """
    hs = raw[raw["hs4"].astype(str).str.zfill(4).str[:2] == "85"]
    out = {}
    for direction, (kor, partner) in _DIRECTIONS.items():
        g = hs[(hs[kor] == "KOR") & (hs["quantity"] > 0)]
        tot = g.groupby([partner, "year"])[["value", "quantity"]].sum()
        luv = np.log(tot["value"] / tot["quantity"]).rename("log_unit_value")
        out[direction] = luv.unstack("year").sort_index()
    return out


def agtpa_volumes(raw: pd.DataFrame, hosts: list[str]) -> dict[str, pd.DataFrame]:
    """Log bilateral manufacturing trade of Korea with ``hosts``, partner x year.

    Non-positive values are treated as missing.
    """
    out = {}
    for direction, (kor, partner) in _DIRECTIONS.items():
        g = raw[(raw[kor] == "KOR") & raw[partner].isin(hosts) & (raw["trade"] > 0)]
        lv = np.log(g.set_index([partner, "year"])["trade"]).rename("log_trade")
        years = range(int(raw["year"].min()), int(raw["year"].max()) + 1)
        out[direction] = lv.unstack("year").reindex(columns=list(years)).sort_index()
    return out


@cache
def _read_targets() -> str:
    return (data_dir() / TARGETS_FILE).read_text(encoding="utf-8")


def calibration_targets() -> dict[str, Any]:
    """Return the measured real-trade targets (the shipped ``trade_calibration.json``).

    Returns
    -------
    dict
        ``{"hs85": {"exunit": stats, "imunit": stats}, "agtpa": {"exports": stats,
        "imports": stats}, "sources": ..., "definitions": ...}`` where ``stats`` is
        :func:`trade_statistics` of the real data.
    """
    return json.loads(_read_targets())
