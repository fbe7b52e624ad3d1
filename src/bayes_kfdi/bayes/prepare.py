"""Numpy data preparation: a canonical panel turned into the model's arrays (no PyMC).

:func:`prepare_data` is a pure function returning a frozen :class:`ModelData`: the
dynamic rows (those whose previous year is observed), their lags and initial
conditions, the standardised covariates, the within-unit means and trends of the
Wooldridge initial conditions, the slope nesting and the imputation grids.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_kfdi.bayes.likelihoods import AT_FLOOR_TOL
from bayes_kfdi.bayes.spec import HierarchicalSpec
from bayes_kfdi.constants import COUNTRY, COVARIATES, HOST_COVARIATES, OUTCOME, SERIES, YEAR
from bayes_kfdi.data.panel import PanelData
from bayes_kfdi.exceptions import (
    DataError,
    FloorCodingWarning,
    MissingValueWarning,
    SpecificationError,
)

__all__ = ["ImputeBlock", "ModelData", "prepare_data", "YEAR_SCALE"]

#: Time-trend slopes are parameterised per decade so their scale matches the levels.
YEAR_SCALE = 10.0


@dataclass(frozen=True, slots=True)
class ImputeBlock:
    """Imputation grid of one covariate (standardised scale).

    Attributes
    ----------
    term : str
    values : (n_cells,) observed standardised values, NaN where missing
    group : (n_cells,) int group index (country, or sector-country for trade terms)
    tt : (n_cells,) year offset from the reference year, in decades
    row_cell : (n_rows,) cell index of each dynamic row
    n_groups : int
    """

    term: str
    values: np.ndarray
    group: np.ndarray
    tt: np.ndarray
    row_cell: np.ndarray
    n_groups: int


@dataclass(frozen=True, slots=True)
class ModelData:
    """Arrays the PyMC model is built from; every per-row array has ``n_rows`` entries.

    Attributes
    ----------
    y : (n,) outcome of dynamic rows (rows whose previous year is observed)
    ylag : (n,) observed, floor-coded outcome in the previous year
    at_floor : (n,) bool, outcome at the floor
    series_idx, country_idx, unit_idx, year_idx : (n,) int codes
    X : (n, K) standardised covariates, NaN where missing (filled by imputation)
    x_mean, x_sd : (S, K) original-scale mean and sd used for standardisation, per
        series (equal across series for host covariates, per sector for trade columns)
    tt : (n,) (year - reference_year) / YEAR_SCALE
    y0 : (U,) first observed outcome of each unit (initial condition)
    y0_floor : (U,) bool, initial outcome at the floor
    xbar : (U, K) within-unit means of the standardised covariates (0 if none observed)
    xtrend : (U, K) within-unit OLS time slopes of the standardised covariates, per decade
        (0 if fewer than three observed years)
    unit_series : (U,) series code of each unit
    parent : (S,) index of the series each series' slopes shrink toward, -1 for none
    series, countries, years, terms, units : coordinate labels
    reference_year : float, the average year at which ``beta`` is reported
    impute : tuple of ImputeBlock
    n_initial : int, rows used only as initial conditions
    n_dropped : int, rows dropped (missing outcome, gap without lag, complete-case)
    data_frame : the dynamic rows (series, country, year, fdi) for output alignment
    all_y : (R,) outcome of every row of the modelled units (dynamic or not)
    all_series : (R,) series code of those rows
    dyn_pos, lag_pos : (n,) position in ``all_y`` of each dynamic row and of its lag
    first_pos : (U,) position in ``all_y`` of each unit's first row
    """

    y: np.ndarray
    ylag: np.ndarray
    at_floor: np.ndarray
    series_idx: np.ndarray
    country_idx: np.ndarray
    unit_idx: np.ndarray
    year_idx: np.ndarray
    X: np.ndarray
    x_mean: np.ndarray
    x_sd: np.ndarray
    tt: np.ndarray
    y0: np.ndarray
    y0_floor: np.ndarray
    xbar: np.ndarray
    xtrend: np.ndarray
    unit_series: np.ndarray
    parent: np.ndarray
    series: tuple[str, ...]
    countries: tuple[str, ...]
    years: tuple[int, ...]
    terms: tuple[str, ...]
    units: tuple[str, ...]
    reference_year: float
    impute: tuple[ImputeBlock, ...]
    n_initial: int
    n_dropped: int
    data_frame: pd.DataFrame
    all_y: np.ndarray
    all_series: np.ndarray
    dyn_pos: np.ndarray
    lag_pos: np.ndarray
    first_pos: np.ndarray

    @property
    def n_rows(self) -> int:
        """Number of dynamic rows entering the likelihood."""
        return int(self.y.shape[0])


def _resolve_terms(spec: HierarchicalSpec, frame: pd.DataFrame) -> tuple[str, ...]:
    if spec.terms is not None:
        absent = [t for t in spec.terms if t not in frame.columns]
        if absent:
            raise SpecificationError(
                f"model.terms lists {absent} but the panel has no such column(s); columns "
                f"seen: {list(frame.columns)}; set terms = \"auto\" or remove them"
            )
        return spec.terms
    terms = []
    for c in COVARIATES:
        if c not in frame.columns:
            continue
        v = frame[c].dropna()
        if v.size < 2 or float(v.std()) == 0.0:
            warnings.warn(
                f"covariate '{c}' has {v.size} observed values and no variation; "
                "it is left out of the model",
                MissingValueWarning,
                stacklevel=3,
            )
            continue
        terms.append(c)
    return tuple(terms)


def _sector(series: pd.Series, nesting: Mapping[str, str]) -> pd.Series:
    """Sector of each series: its parent under ``nesting``, else the series itself."""
    return series.map(lambda s: nesting.get(s, s))


def _group_key(term: str, frame: pd.DataFrame, nesting: Mapping[str, str]) -> pd.Series:
    """Imputation group: the host country for host covariates, sector-country otherwise."""
    if term in HOST_COVARIATES:
        return frame[COUNTRY].astype(str)
    sector = _sector(frame[SERIES], nesting)
    return sector.astype(str) + "|" + frame[COUNTRY].astype(str)


def _scale_group(
    term: str, series: pd.Series, scale: str, nesting: Mapping[str, str]
) -> pd.Series:
    """Standardisation group of a covariate: the panel, or for trade columns the sector.

    Under ``scale = "sector"`` a trade column, a different variable per sector, is
    standardised within its sector (nested series share their parent's); host
    covariates keep the panel's scale.
    """
    if scale == "panel" or term in HOST_COVARIATES:
        return pd.Series("", index=series.index)
    return _sector(series, nesting).astype(str)


def _standardisation(frame: pd.DataFrame, terms, standardize: bool, spec: HierarchicalSpec):
    """Row-wise (n, K) mean and sd of the covariates, and each series' (mean, sd) per term.

    Statistics are the mean and sd of the observed values in each term's standardisation
    group (``_scale_group``). A group whose values do not vary (fewer than two, or all
    equal) falls back to the term's panel-wide statistics.
    """
    n, K = len(frame), len(terms)
    row_mean, row_sd = np.zeros((n, K)), np.ones((n, K))
    per_series: dict[str, np.ndarray] = {
        s: np.tile([[0.0], [1.0]], (1, K)) for s in frame[SERIES].unique()
    }
    if not standardize:
        return row_mean, row_sd, per_series
    for k, term in enumerate(terms):
        col = frame[term]
        pooled_mean, pooled_sd = float(col.mean()), float(col.std())
        if not (np.isfinite(pooled_sd) and pooled_sd > 0):
            raise DataError(
                f"covariate '{term}' has no variation (sd {pooled_sd}); drop it from "
                "model.terms"
            )
        grp = _scale_group(term, frame[SERIES], spec.scale, spec.nesting)
        stats = col.groupby(grp).agg(["mean", "std"])
        ok = np.isfinite(stats["std"]) & (stats["std"] > 0) & (stats.index != "")
        # the panel group takes the Series statistics themselves: a grouped mean sums in
        # another order
        means = stats["mean"].where(ok, pooled_mean)
        sds = stats["std"].where(ok, pooled_sd)
        row_mean[:, k] = grp.map(means).to_numpy(dtype=float)
        row_sd[:, k] = grp.map(sds).to_numpy(dtype=float)
        for s, g in dict(zip(frame[SERIES], grp, strict=True)).items():
            per_series[s][:, k] = means[g], sds[g]
    return row_mean, row_sd, per_series


def _unit_trends(
    X: np.ndarray, year: np.ndarray, units: np.ndarray, terms: tuple[str, ...]
) -> pd.DataFrame:
    """Per-unit OLS slope of each covariate on time (per decade), on observed values."""
    out = {}
    t = year / YEAR_SCALE
    for k, term in enumerate(terms):
        ok = ~np.isnan(X[:, k])
        df = pd.DataFrame({"u": units[ok], "t": t[ok], "x": X[ok, k]})
        g = df.groupby("u", sort=True)
        tc = df["t"] - g["t"].transform("mean")
        xc = df["x"] - g["x"].transform("mean")
        num = (tc * xc).groupby(df["u"]).sum()
        den = (tc * tc).groupby(df["u"]).sum()
        n = g.size()
        slope = (num / den.where(den > 0)).where(n >= 3)
        out[term] = slope
    return pd.DataFrame(out)


def _clean_outcome(spec: HierarchicalSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """Drop rows without an outcome; clip values below the floor to it (with a warning)."""
    miss_y = frame[OUTCOME].isna()
    if miss_y.any():
        warnings.warn(
            f"{int(miss_y.sum())} rows have no outcome and are dropped; the next year of "
            "those units has no lag and starts a new spell",
            MissingValueWarning,
            stacklevel=3,
        )
        frame = frame.loc[~miss_y].reset_index(drop=True)
    if spec.likelihood != "normal":
        below = frame[OUTCOME] < float(spec.floor) - AT_FLOOR_TOL
        if below.any():
            warnings.warn(
                f"{int(below.sum())} fdi values lie below the floor {float(spec.floor):.6g} "
                f"(lowest {float(frame.loc[below, OUTCOME].min()):.6g}); the "
                f"{spec.likelihood} likelihood reads them as floor-coded; set model.floor "
                "to the panel's floor code, or use likelihood = \"normal\" for a panel "
                "without one",
                FloorCodingWarning,
                stacklevel=3,
            )
            # clipped everywhere (outcome, lag, initial condition, the priors' y scale),
            # not only in the likelihood
            frame = frame.assign(**{OUTCOME: frame[OUTCOME].clip(lower=float(spec.floor))})
    return frame


def _dynamic_rows(spec: HierarchicalSpec, frame: pd.DataFrame, Xall: np.ndarray) -> np.ndarray:
    """Rows with an observed previous-year outcome (and, complete-case, every covariate)."""
    dyn = frame["_ylag"].notna().to_numpy()
    if spec.missing == "complete_case" and Xall.shape[1]:
        cc = ~np.isnan(Xall).any(axis=1)
        n_cc = int((dyn & ~cc).sum())
        if n_cc:
            warnings.warn(
                f"complete-case: {n_cc} dynamic rows with a missing covariate are dropped",
                MissingValueWarning,
                stacklevel=3,
            )
        dyn = dyn & cc
    if dyn.sum() < 2:
        raise DataError(
            f"only {int(dyn.sum())} rows have an observed previous-year outcome; a dynamic "
            "panel needs consecutive years per unit; check the year column and gaps"
        )
    return dyn


def _nesting_parents(spec: HierarchicalSpec, s_code: Mapping[str, int]) -> np.ndarray:
    """(S,) code of the series each series' slopes shrink toward, -1 for a root series."""
    parent = np.full(len(s_code), -1, dtype=np.int64)
    if spec.nest_motives and spec.slopes == "partial":
        for s, i in s_code.items():
            p = spec.nesting.get(s)
            if p in s_code:
                parent[i] = s_code[p]
    return parent


def _impute_blocks(
    spec: HierarchicalSpec, d: pd.DataFrame, X: np.ndarray, terms, reference_year: float
) -> tuple[ImputeBlock, ...]:
    """One imputation grid (group x year cells) per covariate with a missing value."""
    blocks = []
    if spec.missing != "impute":
        return ()
    for k, term in enumerate(terms):
        if not np.isnan(X[:, k]).any():
            continue
        grp = _group_key(term, d, spec.nesting).to_numpy()
        cell = pd.Series(grp).astype(str) + "#" + d[YEAR].astype(str).to_numpy()
        codes, uniq = pd.factorize(cell, sort=True)
        vals = pd.Series(X[:, k]).groupby(codes).first().to_numpy()
        cell_grp = np.array([u.split("#")[0] for u in uniq])
        g_codes, g_uniq = pd.factorize(cell_grp, sort=True)
        cell_year = np.array([float(u.split("#")[1]) for u in uniq])
        blocks.append(
            ImputeBlock(
                term=term,
                values=vals,
                group=g_codes.astype(np.int64),
                tt=(cell_year - reference_year) / YEAR_SCALE,
                row_cell=codes.astype(np.int64),
                n_groups=len(g_uniq),
            )
        )
    return tuple(blocks)


def _unit_rows(frame: pd.DataFrame, d: pd.DataFrame, units: tuple[str, ...]) -> dict:
    """Every row of the modelled units, and where each dynamic row, lag and first row sit."""
    allr = frame.loc[frame["_unit"].isin(set(units))].reset_index(drop=True)
    pos = pd.Series(np.arange(len(allr)), index=pd.MultiIndex.from_frame(allr[["_unit", YEAR]]))
    dyn_pos = pos.reindex(pd.MultiIndex.from_arrays([d["_unit"], d[YEAR]])).to_numpy()
    lag_pos = pos.reindex(pd.MultiIndex.from_arrays([d["_unit"], d[YEAR] - 1])).to_numpy()
    first_year = allr.groupby("_unit")[YEAR].min()
    first_pos = pos.reindex(
        pd.MultiIndex.from_arrays([list(units), first_year.reindex(list(units)).to_numpy()])
    ).to_numpy()
    return {
        "all_y": allr[OUTCOME].to_numpy(dtype=float),
        "all_series": allr[SERIES],
        "dyn_pos": dyn_pos.astype(np.int64),
        "lag_pos": lag_pos.astype(np.int64),
        "first_pos": first_pos.astype(np.int64),
    }


def prepare_data(
    spec: HierarchicalSpec, panel: PanelData | pd.DataFrame, *, standardize: bool = True
) -> ModelData:
    """Turn a canonical panel into model arrays.

    Parameters
    ----------
    spec : HierarchicalSpec
    panel : PanelData or pandas.DataFrame
        Canonical long panel (``series, country, year, fdi`` plus covariates).
    standardize : bool, default True
        Standardise covariates internally. ``False`` exists only for the naive speed
        baseline in ``benchmarks/bayes_speed.py``.

    Returns
    -------
    ModelData

    Notes
    -----
    - The regressor ``y[t-1]`` is the *observed*, floor-coded value: the lagged outcome
      is data, so a floor-coded lag enters at the floor value, as in the paper's GMM.
    - A row enters the dynamic likelihood only if the unit's previous calendar year is
      observed. A unit's first row is its initial condition (``y0``); a row after a gap
      has no lag and is dropped from the likelihood (counted in ``n_dropped``).
    - Covariates are standardised with the mean and sd of their observed values, over
      the panel or, for trade columns under ``scale = "sector"``, within their sector
      (``_scale_group``); slopes are reported back on the original scale by dividing by
      that sd.
    """
    if not isinstance(panel, PanelData):
        panel = PanelData(panel)
    frame = panel.frame
    for col in (SERIES, COUNTRY, YEAR, OUTCOME):
        if col not in frame.columns:
            raise DataError(f"the panel has no '{col}' column; expected the canonical layout")
    n_all = len(frame)
    frame = _clean_outcome(spec, frame)
    terms = _resolve_terms(spec, frame)
    pd_clean = PanelData(frame)
    frame = pd_clean.frame
    frame["_ylag"] = pd_clean.lag(OUTCOME).to_numpy()
    frame["_unit"] = frame[SERIES] + "|" + frame[COUNTRY]
    first = frame.groupby("_unit", sort=False)[YEAR].transform("min") == frame[YEAR]
    n_initial = int(first.sum())

    # standardisation uses every observed value of the panel (see _scale_group)
    row_mean, row_sd, group_stats = _standardisation(frame, terms, standardize, spec)
    Xall = (frame[list(terms)].to_numpy(dtype=float) - row_mean) / row_sd if terms else np.zeros(
        (len(frame), 0)
    )
    # Mundlak-Chamberlain unit means over all of the unit's observed rows
    units_all = frame["_unit"].to_numpy()
    xbar_frame = pd.DataFrame(Xall, columns=list(terms)).groupby(units_all, sort=True).mean()
    xtrend_frame = _unit_trends(Xall, frame[YEAR].to_numpy(dtype=float), units_all, terms)

    dyn = _dynamic_rows(spec, frame, Xall)
    d = frame.loc[dyn].reset_index(drop=True)
    X = Xall[dyn]
    series = tuple(sorted(d[SERIES].unique()))
    countries = tuple(sorted(d[COUNTRY].unique()))
    years = tuple(int(y) for y in sorted(d[YEAR].unique()))
    units = tuple(sorted(d["_unit"].unique()))
    s_code = {s: i for i, s in enumerate(series)}
    c_code = {c: i for i, c in enumerate(countries)}
    y_code = {y: i for i, y in enumerate(years)}
    u_code = {u: i for i, u in enumerate(units)}
    reference_year = float(np.mean(years))

    init = frame.loc[first.to_numpy()].set_index("_unit")
    y0 = init[OUTCOME].reindex(list(units)).to_numpy(dtype=float)
    stats = np.stack([group_stats[s] for s in series])  # (S, 2, K)
    rows = _unit_rows(frame, d, units)
    return ModelData(
        **{**rows, "all_series": rows["all_series"].map(s_code).to_numpy(dtype=np.int64)},
        y=d[OUTCOME].to_numpy(dtype=float),
        ylag=d["_ylag"].to_numpy(dtype=float),
        at_floor=d[OUTCOME].to_numpy(dtype=float) <= spec.floor + AT_FLOOR_TOL,
        series_idx=d[SERIES].map(s_code).to_numpy(dtype=np.int64),
        country_idx=d[COUNTRY].map(c_code).to_numpy(dtype=np.int64),
        unit_idx=d["_unit"].map(u_code).to_numpy(dtype=np.int64),
        year_idx=d[YEAR].map(y_code).to_numpy(dtype=np.int64),
        X=X,
        x_mean=stats[:, 0, :],
        x_sd=stats[:, 1, :],
        tt=(d[YEAR].to_numpy(dtype=float) - reference_year) / YEAR_SCALE,
        y0=y0,
        y0_floor=y0 <= spec.floor + AT_FLOOR_TOL,
        xbar=xbar_frame.reindex(list(units)).fillna(0.0).to_numpy(dtype=float),
        xtrend=xtrend_frame.reindex(list(units)).fillna(0.0).to_numpy(dtype=float),
        unit_series=np.array([s_code[u.split("|", 1)[0]] for u in units], dtype=np.int64),
        parent=_nesting_parents(spec, s_code),
        series=series,
        countries=countries,
        years=years,
        terms=tuple(terms),
        units=units,
        reference_year=reference_year,
        impute=_impute_blocks(spec, d, X, terms, reference_year),
        n_initial=n_initial,
        n_dropped=int(n_all - dyn.sum() - n_initial),
        data_frame=d[[SERIES, COUNTRY, YEAR, OUTCOME]].copy(),
    )
