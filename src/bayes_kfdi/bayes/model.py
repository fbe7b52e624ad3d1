"""Build the PyMC graph of a :class:`HierarchicalSpec` on a panel.

Data preparation (lags, initial conditions, standardisation, imputation grids) happens in
:func:`prepare_data`, a pure function returning a frozen :class:`ModelData`; the PyMC
graph is assembled from it in :func:`build_model`.

Parameterisation (measured on the shipped Korean panel; see ``models/hierarchical.toml``)
------------------------------------------------------------------------------------------
- Unit (country-series) effects, ``centering.unit = "auto"``: a unit with at least
  :data:`UNIT_CENTER_ROWS` dynamic rows above the floor is centred, its whole effect
  sampled around everything above it (series intercept + country effect + Wooldridge
  mean); units with fewer informative rows (half the Korean units have none) are
  non-centred. Country effects: ``centering.country`` (the default spec centres them,
  as a zero-sum vector). Both are in units of each series' residual sd. Slopes,
  ``centering.slopes = "auto"``: a sector slope is centred where the data alone pin it
  more tightly than the pooling prior (:data:`SLOPE_CENTER_RATIO`), motive slopes are
  non-centred. Rho, ``centering.rho = "auto"``: centred for series with
  :data:`RHO_CENTER_ROWS` informative rows, non-centred otherwise.
- Regressors are centred so that no intercept trades off against a slope: the level
  as a deviation from the unit mean (within-between Mundlak form), less the series'
  pooled within-unit trend; the initial conditions within series; under Wooldridge
  initial conditions the lag as a deviation from the unit mean, that mean joining the
  unit effect's Wooldridge mean.
- The Mundlak coefficients are sampled in the per-series QR basis of the unit means;
  the country effect is projected off the country means of the host covariates.
Together these took the default fit from 63 to 31 leapfrog steps per draw and from
min ESS 71 to 460 per 4 x 1000 draws (``benchmarks/bayes_speed.py``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
from pymc.gp.hsgp_approx import approx_hsgp_hyperparams
from scipy import stats

from bayes_kfdi.bayes.likelihoods import (
    AT_FLOOR_TOL,
    LOG_SQRT_2PI,
    censored_logp_for,
    censored_random,
    hurdle_logp,
    hurdle_random,
    log_ndtr,
)
from bayes_kfdi.bayes.spec import HierarchicalSpec
from bayes_kfdi.constants import (
    COUNTRY,
    COVARIATES,
    HOST_COVARIATES,
    OUTCOME,
    SECTOR_OF_SERIES,
    SERIES,
    YEAR,
)
from bayes_kfdi.data.panel import PanelData
from bayes_kfdi.exceptions import (
    DataError,
    FloorCodingWarning,
    MissingValueWarning,
    SpecificationError,
)

__all__ = [
    "ModelData",
    "prepare_data",
    "build_model",
    "CENTER_MIN_ROWS",
    "UNIT_CENTER_ROWS",
    "RHO_CENTER_ROWS",
    "YEAR_SCALE",
    "HSGP_LS_MEAN",
    "IMPUTE_TREND_SD",
]

#: Median uncensored rows per group at or above which "auto" centring picks centred.
#: Centred effects mix well when the likelihood pins each group down (Betancourt and
#: Girolami 2015); twenty informative rows make the likelihood dominate a unit-scale prior.
CENTER_MIN_ROWS = 20
#: A unit (country-series) effect is centred under "auto" when it has at least this many
#: dynamic rows above the floor; see ``_unit_effects``. At 10, electronics units with
#: 7-9 such rows were non-centred, and their deviations formed the model's slowest
#: direction with the Wooldridge coefficients (lambda_xbar_qr, gamma_y0, u_unit_z: ESS
#: 260-340 of 2000 draws); at 5 none of them was among the ten lowest.
UNIT_CENTER_ROWS = 5
#: Under ``centering.slopes = "auto"`` a slope is centred (sampled around its parent)
#: when the data alone would pin it more tightly than the pooling prior: when its
#: data-only sd (``_slope_data_sd``) is below this multiple of the prior mean of the
#: between-series spread (``priors.beta_tau``), and non-centred otherwise, the rule of
#: thumb of Betancourt and Girolami (2015). Prior-dominated slopes, centred under their
#: parent, formed funnels with the spread: the electronics family's exunit and imunit
#: barely move, and motive slopes whose series has a large residual sd sat in a funnel
#: with beta_tau_motive. Motive slopes are therefore always non-centred under "auto"
#: (see ``build_model``). Measured, 4 x (300 + 1500), default seeds:
#: - every slope centred (the rule before): simulated floor panel 1003 R-hat 1.019 and
#:   ESS 347 at the electronics imunit slope, 2 divergent transitions; shipped panel
#:   min ESS 1063-1086;
#: - this rule: panel 1003 R-hat 1.008, ESS 715, 0 divergences; 1017 1.005, 847, 1;
#:   1019 1.007, 895, 0; shipped panel R-hat 1.007, ESS 1284, 0;
#: - motives also by their data sd: panel 1017 had 3 divergent transitions, all at
#:   beta_tau_motive's 0-0.13% quantiles.
SLOPE_CENTER_RATIO = 1.0

#: Under Wooldridge initial conditions with the observed lag, rho multiplies the lag's
#: deviation from its unit mean, and rho x that mean joins the unit effect's mean (see
#: ``build_model``). The same model as the plain lag; ``False`` builds the plain form,
#: kept as the reference the test of that identity compares against.
WITHIN_UNIT_LAG = True

#: Prior mean of the between-series spread of the trend slopes, as a share of the
#: slopes' own (``priors.beta_tau``): a change per decade is a second-order effect.
#: Measured (4 x (300 + 1500), simulated floor-coded panel seed 1001): at 1.0 the
#: divergent transitions (1-2 per fit) all fell in trend_tau's upper tail, at 1.4-2.0
#: against a posterior mean of 0.31; at 0.5 there were none, and the shipped panel's fit
#: was unchanged (min ESS 1054-1110 against 1001, 31 steps per draw).
TREND_TAU_SCALE = 0.5
#: Mean of a HalfNormal(1): a Gamma(2) spread prior given the mean of the half-normal
#: it replaces changes only the shape near zero.
HALFNORMAL_MEAN = float(np.sqrt(2.0 / np.pi))
#: Time-trend slopes are parameterised per decade so their scale matches the levels.
YEAR_SCALE = 10.0
#: Dynamic rows above the floor from which ``centering.rho = "auto"`` centres a series'
#: rho. On the shipped panel the rho posterior sd was 0.02 for the series with 408 such
#: rows and 0.06-0.125 for the series with 55-187, as wide as the between-series spread
#: rho_tau (~0.1 once a floor-coded lag has its own coefficient). Centring those put a
#: funnel neck where divergent transitions fell, at rho_tau's minimum: at a threshold of
#: 100 rows, 3 in one fit at target_accept 0.95 and 1 in one of three default fits at
#: 0.9 (seed 11; 0 at 200 rows with the same seed, where rho_mu had ESS 706 of 4000).
RHO_CENTER_ROWS = 200
#: Prior of the HSGP length-scale (decades): InverseGamma with this mean and sd, whose
#: 95% interval, 0.43-2.27 decades, sets the basis size and box through PyMC's
#: ``approx_hsgp_hyperparams`` (the Riutort-Mayol et al. 2023 rules).
HSGP_LS_MEAN = 1.0
HSGP_LS_SD = 0.5
#: Between-group sd of a covariate's linear trend in the imputation model, in sd of the
#: standardised covariate per decade. Fixed rather than estimated: it was not identified
#: next to the residual sd (see ``_covariates_with_imputation``). 0.5 lets a group's
#: trend differ from the pooled one by a full sd over two decades, wider than the spread
#: of the observed trends on the Korean panels.
IMPUTE_TREND_SD = 0.5
#: The motive series (``electronics_*``) nest under this sector when both are present.
NEST_PARENT = "electronics"


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


def _group_key(term: str, frame: pd.DataFrame) -> pd.Series:
    """Imputation group: the host country for host covariates, sector-country otherwise."""
    if term in HOST_COVARIATES:
        return frame[COUNTRY].astype(str)
    sector = frame[SERIES].map(lambda s: SECTOR_OF_SERIES.get(s, s))
    return sector.astype(str) + "|" + frame[COUNTRY].astype(str)


def _scale_group(term: str, series: pd.Series, scale: str) -> pd.Series:
    """Standardisation group of a covariate: the panel, or for trade columns the sector.

    Under ``scale = "panel"`` every covariate has one panel-wide scale. Under
    ``"sector"`` a trade column, which is a different variable per sector (electronics'
    export unit value is not textile's), is standardised within its sector (motives
    share electronics'); host covariates keep the panel's scale.

    Measured on the shipped floor-coded panel (4 x (300 + 1500) draws), where the
    panel-wide sd of ``exunit`` is 3.0 and electronics' own 0.008: "sector" covers
    44/54 true slopes (panel: 41/54) and recovers electronics' ``imunit`` slope (truth
    -22.8: -18.7, sd 2.6; panel: -0.27, sd 0.27), but the electronics family's
    ``exunit`` slopes, which the data cannot pin down, get original-scale posterior sds
    of 11-97 and means as far out as -160 (truth -8.7), so the slope RMSE of
    ``electronics_market`` went from 3.2 to 50.7 (GMM: 7.4). Hence "panel" by default.
    """
    if scale == "panel" or term in HOST_COVARIATES:
        return pd.Series("", index=series.index)
    return series.map(lambda s: SECTOR_OF_SERIES.get(s, s)).astype(str)


def _standardisation(frame: pd.DataFrame, terms, standardize: bool, scale: str):
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
        grp = _scale_group(term, frame[SERIES], scale)
        stats = col.groupby(grp).agg(["mean", "std"])
        ok = np.isfinite(stats["std"]) & (stats["std"] > 0) & (stats.index != "")
        # the panel group takes the Series statistics themselves (a grouped mean sums
        # in another order, which moved the log density in its last bits)
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
    miss_y = frame[OUTCOME].isna()
    if miss_y.any():
        warnings.warn(
            f"{int(miss_y.sum())} rows have no outcome and are dropped; the next year of "
            "those units has no lag and starts a new spell",
            MissingValueWarning,
            stacklevel=2,
        )
        frame = frame.loc[~miss_y].reset_index(drop=True)
    if spec.likelihood != "normal":
        below = frame[OUTCOME] < float(spec.floor) - AT_FLOOR_TOL
        if below.any():
            # A floor-coded panel has nothing below its floor; the likelihood reads such
            # values as floor-coded, which throws away their information.
            warnings.warn(
                f"{int(below.sum())} fdi values lie below the floor {float(spec.floor):.6g} "
                f"(lowest {float(frame.loc[below, OUTCOME].min()):.6g}); the "
                f"{spec.likelihood} likelihood reads them as floor-coded; set model.floor "
                "to the panel's floor code, or use likelihood = \"normal\" for a panel "
                "without one",
                FloorCodingWarning,
                stacklevel=2,
            )
            # ... everywhere: as outcome, lag and initial condition, and in the outcome
            # scale behind the priors. Before, only the likelihood clipped them; the lag
            # and y0 kept values down to -55 and y_sd was 10.4 where the clipped
            # outcome's is 2.35 (simulated panel 1001 without the floor), and none of 10
            # such panels converged (R-hat 1.014-1.188).
            frame = frame.assign(**{OUTCOME: frame[OUTCOME].clip(lower=float(spec.floor))})
    terms = _resolve_terms(spec, frame)
    pd_clean = PanelData(frame)
    frame = pd_clean.frame
    frame["_ylag"] = pd_clean.lag(OUTCOME).to_numpy()
    frame["_unit"] = frame[SERIES] + "|" + frame[COUNTRY]
    first = frame.groupby("_unit", sort=False)[YEAR].transform("min") == frame[YEAR]
    n_initial = int(first.sum())

    # standardisation uses every observed value of the panel (see _scale_group)
    row_mean, row_sd, group_stats = _standardisation(frame, terms, standardize, spec.scale)
    Xall = (frame[list(terms)].to_numpy(dtype=float) - row_mean) / row_sd if terms else np.zeros(
        (len(frame), 0)
    )

    # Mundlak-Chamberlain unit means over all of the unit's observed rows
    units_all = frame["_unit"].to_numpy()
    xbar_frame = pd.DataFrame(Xall, columns=list(terms)).groupby(units_all, sort=True).mean()
    xtrend_frame = _unit_trends(Xall, frame[YEAR].to_numpy(dtype=float), units_all, terms)

    dyn = frame["_ylag"].notna().to_numpy()
    if spec.missing == "complete_case" and terms:
        cc = ~np.isnan(Xall).any(axis=1)
        n_cc = int((dyn & ~cc).sum())
        if n_cc:
            warnings.warn(
                f"complete-case: {n_cc} dynamic rows with a missing covariate are dropped",
                MissingValueWarning,
                stacklevel=2,
            )
        dyn = dyn & cc
    if dyn.sum() < 2:
        raise DataError(
            f"only {int(dyn.sum())} rows have an observed previous-year outcome; a dynamic "
            "panel needs consecutive years per unit; check the year column and gaps"
        )
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
    tt = (d[YEAR].to_numpy(dtype=float) - reference_year) / YEAR_SCALE

    init = frame.loc[first.to_numpy()].set_index("_unit")
    y0 = init[OUTCOME].reindex(list(units)).to_numpy(dtype=float)
    y0_floor = y0 <= spec.floor + AT_FLOOR_TOL
    xbar = xbar_frame.reindex(list(units)).fillna(0.0).to_numpy(dtype=float)
    xtrend = xtrend_frame.reindex(list(units)).fillna(0.0).to_numpy(dtype=float)
    unit_series = np.array([s_code[u.split("|", 1)[0]] for u in units], dtype=np.int64)
    stats = np.stack([group_stats[s] for s in series])  # (S, 2, K)
    x_mean, x_sd = stats[:, 0, :], stats[:, 1, :]

    parent = np.full(len(series), -1, dtype=np.int64)
    if spec.nest_motives and spec.slopes == "partial" and NEST_PARENT in s_code:
        for s, i in s_code.items():
            if s.startswith(NEST_PARENT + "_"):
                parent[i] = s_code[NEST_PARENT]

    blocks = []
    if spec.missing == "impute":
        for k, term in enumerate(terms):
            if not np.isnan(X[:, k]).any():
                continue
            grp = _group_key(term, d).to_numpy()
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
    allr = frame.loc[frame["_unit"].isin(set(units))].reset_index(drop=True)
    pos = pd.Series(np.arange(len(allr)), index=pd.MultiIndex.from_frame(allr[["_unit", YEAR]]))
    dyn_pos = pos.reindex(pd.MultiIndex.from_arrays([d["_unit"], d[YEAR]])).to_numpy()
    lag_pos = pos.reindex(pd.MultiIndex.from_arrays([d["_unit"], d[YEAR] - 1])).to_numpy()
    first_year = allr.groupby("_unit")[YEAR].min()
    first_pos = pos.reindex(
        pd.MultiIndex.from_arrays([list(units), first_year.reindex(list(units)).to_numpy()])
    ).to_numpy()
    return ModelData(
        all_y=allr[OUTCOME].to_numpy(dtype=float),
        all_series=allr[SERIES].map(s_code).to_numpy(dtype=np.int64),
        dyn_pos=dyn_pos.astype(np.int64),
        lag_pos=lag_pos.astype(np.int64),
        first_pos=first_pos.astype(np.int64),
        y=d[OUTCOME].to_numpy(dtype=float),
        ylag=d["_ylag"].to_numpy(dtype=float),
        at_floor=d[OUTCOME].to_numpy(dtype=float) <= spec.floor + AT_FLOOR_TOL,
        series_idx=d[SERIES].map(s_code).to_numpy(dtype=np.int64),
        country_idx=d[COUNTRY].map(c_code).to_numpy(dtype=np.int64),
        unit_idx=d["_unit"].map(u_code).to_numpy(dtype=np.int64),
        year_idx=d[YEAR].map(y_code).to_numpy(dtype=np.int64),
        X=X,
        x_mean=x_mean,
        x_sd=x_sd,
        tt=tt,
        y0=y0,
        y0_floor=y0_floor,
        xbar=xbar,
        xtrend=xtrend,
        unit_series=unit_series,
        parent=parent,
        series=series,
        countries=countries,
        years=years,
        terms=tuple(terms),
        units=units,
        reference_year=reference_year,
        impute=tuple(blocks),
        n_initial=n_initial,
        n_dropped=int(n_all - dyn.sum() - n_initial),
        data_frame=d[[SERIES, COUNTRY, YEAR, OUTCOME]].copy(),
    )


def _series_means(values: np.ndarray, series: np.ndarray, n_series: int) -> np.ndarray:
    """Mean of ``values`` (rows, or rows x columns) within each series, per row."""
    v = np.asarray(values, dtype=float)
    counts = np.bincount(series, minlength=n_series).astype(float)
    if v.ndim == 1:
        sums = np.bincount(series, weights=v, minlength=n_series)
        return (sums / np.maximum(counts, 1.0))[series]
    sums = np.stack(
        [np.bincount(series, weights=v[:, j], minlength=n_series) for j in range(v.shape[1])],
        axis=1,
    )
    return (sums / np.maximum(counts, 1.0)[:, None])[series]


def _series_nanmeans(values: np.ndarray, series: np.ndarray, n_series: int) -> np.ndarray:
    """(S, K) mean of the observed (non-NaN) values of each column within each series."""
    v = np.asarray(values, dtype=float)
    ok = ~np.isnan(v)
    out = np.zeros((n_series, v.shape[1]))
    for j in range(v.shape[1]):
        n = np.bincount(series[ok[:, j]], minlength=n_series)
        tot = np.bincount(series[ok[:, j]], weights=v[ok[:, j], j], minlength=n_series)
        out[:, j] = np.where(n > 0, tot / np.maximum(n, 1), 0.0)
    return out


def _within_slopes(
    xdev: np.ndarray, tt: np.ndarray, unit: np.ndarray, series: np.ndarray, n_series: int
) -> np.ndarray:
    """(S, K) pooled within-unit OLS slope on ``tt`` of each column of ``xdev`` per series.

    ``xdev`` holds the regressors already demeaned (NaN where unobserved); time is
    demeaned within unit on the observed rows of each column.
    """
    n, K = xdev.shape
    out = np.zeros((n_series, K))
    for j in range(K):
        ok = ~np.isnan(xdev[:, j])
        if not ok.any():
            continue
        u, t, x, s = unit[ok], tt[ok], xdev[ok, j], series[ok]
        n_u = np.bincount(u, minlength=unit.max() + 1)
        t_bar = np.bincount(u, weights=t, minlength=unit.max() + 1) / np.maximum(n_u, 1)
        tc = t - t_bar[u]
        num = np.bincount(s, weights=tc * x, minlength=n_series)
        den = np.bincount(s, weights=tc * tc, minlength=n_series)
        out[:, j] = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return out


def _series_qr(Z: np.ndarray, series: np.ndarray, n_series: int) -> tuple[np.ndarray, np.ndarray]:
    """Thin QR of the rows of ``Z`` within each series, scaled to unit-variance columns.

    Returns ``Q`` (rows x K) and ``Rinv`` (S x K x K) with ``Z[rows of s] @ Rinv[s] ==
    Q[rows of s]``; a coefficient ``theta`` on ``Q`` is ``Rinv[s] @ theta`` on ``Z``.
    Rank-deficient columns (fewer units than terms, a constant mean) get a zero column.
    """
    n, K = Z.shape
    Q = np.zeros((n, K))
    Rinv = np.zeros((n_series, K, K))
    for s in range(n_series):
        rows = np.flatnonzero(series == s)
        if rows.size == 0:
            continue
        if rows.size <= K:
            # too few units for a basis change: sample lambda directly
            Q[rows] = Z[rows]
            Rinv[s] = np.eye(K)
            continue
        scale = np.sqrt(rows.size - 1)
        q, r = np.linalg.qr(Z[rows])
        d = np.abs(np.diag(r))
        ok = d > 1e-8 * max(float(d.max(initial=0.0)), 1.0)
        if not ok.all():
            # keep the identified columns only: a zero column carries no regressor
            q = q * ok[None, : q.shape[1]]
            r = np.where(ok[:, None], r, 0.0) + np.diag(~ok).astype(float)
        Q[rows] = q * scale
        Rinv[s] = np.linalg.inv(r) * scale
    return Q, Rinv


def _centered(spec: HierarchicalSpec, level: str, rows_per_group: np.ndarray) -> bool:
    choice = spec.centering[level]
    if choice == "auto":
        return bool(rows_per_group.size) and float(np.median(rows_per_group)) >= CENTER_MIN_ROWS
    return choice == "centered"


def _effect(name, sigma, dims, centered, shape, groups=None):
    """Build a zero-mean group effect with scale ``sigma`` (scalar or per group).

    ``centered`` is a bool or a per-group bool mask: masked groups are parameterised
    centred (``name_c``), the others non-centred (``name_z``).

    ``groups`` (an int code per element, or None) makes the effect sum to zero within
    each group by subtracting the group mean. The intercepts of the model absorb those
    means, so the fit is unchanged, but the ridge between an intercept and the mean of
    its effects is gone: without it ``alpha`` had the lowest ESS of the default model
    (71 of 600 draws; measured in ``models/hierarchical.toml``).
    """
    mask = np.broadcast_to(np.asarray(centered, dtype=bool), (shape,))
    single = groups is not None and not np.any(np.asarray(groups))
    if mask.all() and single and pt.as_tensor_variable(sigma).ndim == 0:
        # one group, centred: PyMC's ZeroSumNormal has exactly n - 1 free dimensions
        return pm.ZeroSumNormal(name, sigma=sigma, dims=dims)
    if mask.all():
        raw = pm.Normal(f"{name}_c" if groups is not None else name, 0.0, sigma, dims=dims)
        if groups is None:
            return raw
    elif not mask.any():
        z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
        raw = z * sigma
    else:
        sig = pt.as_tensor_variable(sigma)
        sig = pt.broadcast_to(sig, (shape,)) if sig.ndim == 0 else sig
        ic, inc = np.flatnonzero(mask), np.flatnonzero(~mask)
        v_c = pm.Normal(f"{name}_c", 0.0, sig[ic], shape=len(ic))
        v_z = pm.Normal(f"{name}_z", 0.0, 1.0, shape=len(inc))
        raw = pt.zeros((shape,))
        raw = pt.set_subtensor(raw[ic], v_c)
        raw = pt.set_subtensor(raw[inc], v_z * sig[inc])
    if groups is not None:
        g = np.asarray(groups, dtype=np.int64)
        n_g = int(g.max()) + 1
        counts = np.bincount(g, minlength=n_g).astype(float)
        onehot = np.zeros((n_g, shape))
        onehot[g, np.arange(shape)] = 1.0 / counts[g]
        raw = raw - pt.dot(onehot, raw)[g]
    return pm.Deterministic(name, raw, dims=dims)


def _unit_country(md: ModelData) -> np.ndarray:
    """Country code of each unit (units are labelled ``series|country``)."""
    code = {c: i for i, c in enumerate(md.countries)}
    return np.array([code[u.split("|", 1)[1]] for u in md.units], dtype=np.int64)


def _orthogonal_to_host_means(md: ModelData, u_c, host: list[int]):
    """Project the country effect off the country means of the host covariates.

    Host covariates vary by country only, so their Mundlak terms (``lambda_xbar``) and
    the shared country effect explain the same between-country variation: sampled
    together they formed a ridge (u_country and lambda_xbar had the highest R-hat, 1.014,
    and lowest ESS of the default fit). By Mundlak's assumption the country effect left
    after conditioning on the covariate means is uncorrelated with them, which is what
    the projection imposes in sample. The null space of the projection is prior-only.
    """
    C = len(md.countries)
    unit_country = _unit_country(md)
    n_uc = np.bincount(unit_country, minlength=C)
    zc = np.stack(
        [np.bincount(unit_country, weights=md.xbar[:, k], minlength=C) for k in host], axis=1
    ) / np.maximum(n_uc, 1)[:, None]
    Z = np.column_stack([np.ones(C), zc])
    rank = int(np.linalg.matrix_rank(Z))
    if rank >= C - 1:
        return u_c
    q, _ = np.linalg.qr(Z)
    proj = np.eye(C) - q[:, :rank] @ q[:, :rank].T
    return pm.Deterministic("u_country_orth", pt.dot(proj, u_c), dims="country")


def _unit_effects(spec, md, tau_u, sigma, ic, rows_unit, country_eff=None, alpha=None):
    """Total effect of each unit: country effect + ``ic`` (Wooldridge mean) + deviation.

    Parameterisation per unit. ``centering.unit = "auto"`` centres a unit when it has at
    least :data:`UNIT_CENTER_ROWS` dynamic rows above the floor, and then samples its
    whole effect around the Wooldridge mean, ``N(ic, tau_unit)``: the data pin that
    total, so the initial-condition and Mundlak coefficients enter only through its
    prior. Units with fewer informative rows (half the Korean units have none) are
    non-centred, ``ic + tau_unit * z``, with ``z`` summing to zero within series.

    The country effect and the unit spread are in units of ``sigma``, the series'
    residual sd: unit ``(s, c)`` gets ``sigma_s * u_country[c]`` and spread
    ``tau_unit * sigma_s`` (see ``build_model``).
    """
    U = len(md.units)
    us = md.unit_series
    scale = sigma[us]
    if country_eff is not None:
        c_u = country_eff[_unit_country(md)] * scale
    else:
        c_u = pt.zeros((U,))
    tau_u = tau_u * scale  # (U,)
    if alpha is not None:
        c_u = c_u + alpha[us]
    choice = spec.centering["unit"]
    if choice == "auto":
        mask = rows_unit >= UNIT_CENTER_ROWS
    else:
        mask = np.full(U, choice == "centered")
    if ic is None or not mask.any():
        u = _effect("u_unit", tau_u, "unit", bool(mask.all()), U, groups=md.unit_series)
        return c_u + (u if ic is None else u + ic)
    ic_t = pt.as_tensor_variable(ic) + c_u
    cen, non = np.flatnonzero(mask), np.flatnonzero(~mask)
    total = pt.zeros((U,))
    v_c = pm.Normal("u_unit_c", ic_t[cen], tau_u[cen], shape=cen.size)
    total = pt.set_subtensor(total[cen], v_c)
    if non.size:
        z = pm.Normal("u_unit_z", 0.0, 1.0, shape=non.size)
        total = pt.set_subtensor(total[non], ic_t[non] + tau_u[non] * z)
    pm.Deterministic("u_unit", total - ic_t, dims="unit")
    return total


def _series_rho(spec, md: ModelData, rho_mu, rho_tau, informative: np.ndarray):
    """Series persistence ``rho ~ N(rho_mu, rho_tau)``, centred or not per series.

    ``centering.rho = "auto"`` centres a series' rho when it has at least
    :data:`RHO_CENTER_ROWS` ``informative`` dynamic rows, and non-centres it otherwise.
    Measured on the shipped panel: all centred, a series with 55 informative rows (rho
    posterior sd 0.125, as wide as rho_tau) put a funnel neck in the posterior, where
    one divergent transition fell (rho_tau at 0.03); all non-centred, rho_mu and
    rho_tau had the lowest ESS of the model (138-145 of 2000 draws).
    """
    S = len(md.series)
    choice = spec.centering["rho"]
    if choice == "auto":
        rows = np.bincount(md.series_idx[informative], minlength=S)
        mask = rows >= RHO_CENTER_ROWS
    else:
        mask = np.full(S, choice == "centered")
    if mask.all():
        return pm.Normal("rho", rho_mu, rho_tau, dims="series")
    cen, non = np.flatnonzero(mask), np.flatnonzero(~mask)
    rho = pt.zeros((S,))
    if cen.size:
        rho = pt.set_subtensor(rho[cen], pm.Normal("rho_c", rho_mu, rho_tau, shape=cen.size))
    z = pm.Normal("rho_z", 0.0, 1.0, shape=non.size)
    if non.size > 1:
        # The non-centred deviations sum to zero, so that rho_mu is their series' mean
        # rather than trading off against it (rho_mu had correlations of -0.4 to -0.6
        # with every rho_z, the lowest ESS of the model and R-hat 1.011 at seed 7;
        # with the constraint, ESS >= 1000 and out of the ten lowest in two seeds).
        z = z - z.mean()
    rho = pt.set_subtensor(rho[non], rho_mu + rho_tau * z)
    return pm.Deterministic("rho", rho, dims="series")


def _spread_prior(name: str, mean: float):
    """Zero-avoiding Gamma(2) prior with the given mean for a between-series spread.

    With three root series and three motives a spread is barely identified, and a
    half-normal let the sampler into the funnel neck at zero (Chung et al. 2013 give the
    Gamma(2) prior for group-level sds estimated from few groups). Measured on the
    shipped panel (4 x (500 + 500) draws): trend_tau's ESS went from 268 to 428.
    """
    return pm.Gamma(name, alpha=2.0, beta=2.0 / mean)


def _slope_data_sd(md: ModelData, X: np.ndarray, informative: np.ndarray) -> np.ndarray:
    """(S, K) rough sd of each slope from its series' rows above the floor alone.

    The residual sd of a within-unit least-squares fit of the outcome on the lag and the
    regressors ``X`` (NaN read as 0), divided by each regressor's root sum of squares
    over those rows: the sd a slope would have if the data alone pinned it down. Only
    used to choose a parameterisation, never in the model. Infinite where a regressor
    does not move.
    """
    S, K = len(md.series), X.shape[1]
    out = np.full((S, K), np.inf)
    for s in range(S):
        rows = np.flatnonzero(informative & (md.series_idx == s))
        if rows.size == 0:
            continue
        u, U = md.unit_idx[rows], len(md.units)
        Z = np.column_stack([md.ylag[rows], np.nan_to_num(X[rows])])
        Zc = Z - _series_means(Z, u, U)  # within-unit deviations
        yc = md.y[rows] - _series_means(md.y[rows], u, U)
        dof = rows.size - np.unique(u).size - Z.shape[1]
        if dof <= 0:
            continue
        coef, *_ = np.linalg.lstsq(Zc, yc, rcond=None)
        sigma = np.sqrt(np.sum((yc - Zc @ coef) ** 2) / dof)
        ss = np.sqrt(np.sum(Zc[:, 1:] ** 2, axis=0))
        out[s] = np.where(ss > 0, sigma / np.where(ss > 0, ss, 1.0), np.inf)
    return out


def _mixed_normal(name, loc, scale, centered: np.ndarray):
    """``N(loc, scale)`` elementwise, centred where ``centered`` and non-centred elsewhere.

    ``loc`` is a tensor of ``centered``'s shape and ``scale`` a scalar. All centred:
    one variable ``name``; all non-centred: ``loc + scale * name_z``; mixed: ``name_c``
    and ``name_z`` for the two parts and a deterministic ``name`` for the whole.
    """
    shape = centered.shape
    if centered.all():
        return pm.Normal(name, loc, scale, shape=shape)
    if not centered.any():
        return loc + scale * pm.Normal(f"{name}_z", 0.0, 1.0, shape=shape)
    flat = centered.ravel()
    ic, inc = np.flatnonzero(flat), np.flatnonzero(~flat)
    loc_f = pt.as_tensor_variable(loc).ravel()
    out = pt.zeros((flat.size,))
    out = pt.set_subtensor(out[ic], pm.Normal(f"{name}_c", loc_f[ic], scale, shape=ic.size))
    z = pm.Normal(f"{name}_z", 0.0, 1.0, shape=inc.size)
    out = pt.set_subtensor(out[inc], loc_f[inc] + scale * z)
    return pm.Deterministic(name, out.reshape(shape))


def _pooled_slopes(name, md, prior_sd, tau_sd, centered, spec, dims):
    """Slopes (S, K): series partially pooled toward a term mean, motives toward their parent.

    ``centered`` is a bool for every slope or an (S, K) bool mask; centred slopes are
    sampled around their parent, the others as the parent plus a scaled ``z``.
    Returns the (S, K) tensor on the standardised scale.
    """
    S = len(md.series)
    term_dim = dims[1]
    if spec.slopes == "unpooled":
        return pm.Normal(f"{name}_std", 0.0, 2.0 * prior_sd, dims=dims)
    mu = pm.Normal(f"{name}_mu", 0.0, prior_sd, dims=term_dim)
    K = len(pm.modelcontext(None).coords[term_dim])
    mask = np.broadcast_to(np.asarray(centered, dtype=bool), (S, K))
    # One between-series spread shared by all terms (covariates are standardised, so
    # the slopes share a scale): a spread per term rests on three root series and was
    # not identified (beta_tau R-hat 1.06-1.10, ESS 40-60 on the shipped panel).
    tau = _spread_prior(f"{name}_tau", tau_sd)
    is_child = md.parent >= 0
    if not is_child.any():
        if mask.all():
            return pm.Normal(f"{name}_std", mu, tau, dims=dims)
        if mask.any():
            loc = pt.repeat(mu[None, :], S, axis=0)
            return _mixed_normal(f"{name}_std", loc, tau, mask)
        z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
        return mu + tau * z
    tau_child = _spread_prior(f"{name}_tau_motive", tau_sd)
    if mask.any():
        # Centred nesting: root series around the term mean, motives around their parent.
        roots, kids = np.flatnonzero(~is_child), np.flatnonzero(is_child)
        root_pos = {int(r): i for i, r in enumerate(roots)}
        loc_root = pt.repeat(mu[None, :], len(roots), axis=0)
        b_root = _mixed_normal(f"{name}_root", loc_root, tau, mask[roots])
        loc_kid = b_root[[root_pos[int(p)] for p in md.parent[kids]]]
        b_kid = _mixed_normal(f"{name}_motive", loc_kid, tau_child, mask[kids])
        full = pt.zeros((S, K))
        full = pt.set_subtensor(full[roots], b_root)
        return pt.set_subtensor(full[kids], b_kid)
    z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
    # The root deviations sum to zero per term, so that ``mu`` is the roots' mean and
    # does not trade off against it (the device ``_effect`` uses for country effects).
    # Measured on the shipped panel, seed 7: trend_mu's ESS went from 754 (the lowest
    # of the model, R-hat 1.011) to 1038 of 4000 draws. The roots' spread around mu is
    # then tau * sqrt(1 - 1/n_roots).
    roots = np.flatnonzero(~is_child)
    root = mu + tau * (z - z[roots].mean(axis=0))
    par = np.where(is_child, md.parent, np.arange(S))
    child = root[par] + tau_child * z
    return pt.where(is_child[:, None], child, root)


def _flexible_paths(spec, md: ModelData, rw_terms, gp_terms, y_sd: float):
    """Year paths (S, n_rw + n_gp, T) of the flexible slopes, each centred over years.

    ``rw``: a Gaussian random walk, innovation sd ``rw_sigma`` per term. ``hsgp``: a
    Hilbert-space approximate Gaussian process (Riutort-Mayol et al. 2023) over years,
    exponentiated-quadratic kernel with amplitude ``gp_amplitude`` and length-scale
    ``gp_lengthscale`` (decades) per term; the basis size and box follow PyMC's
    ``approx_hsgp_hyperparams`` for the length-scale prior's 95% interval, and the basis
    comes from ``pymc.gp.HSGP``. Both paths are deviations from the average-year slope
    ``beta``, so they sum to zero over years, and their coefficients are non-centred.
    """
    parts = []
    if rw_terms:
        rw_sigma = pm.HalfNormal("rw_sigma", 0.1 * y_sd, dims="rw_term")
        innov = pm.Normal("rw_innov", 0.0, 1.0, dims=("series", "rw_term", "year"))
        parts.append(pt.cumsum(innov * rw_sigma[None, :, None], axis=2))
    if gp_terms:
        t = (np.asarray(md.years, dtype=float) - md.reference_year) / YEAR_SCALE
        a = HSGP_LS_MEAN**2 / HSGP_LS_SD**2 + 2.0
        ls_range = stats.invgamma(a, scale=HSGP_LS_MEAN * (a - 1.0)).ppf([0.025, 0.975])
        n_basis, c = approx_hsgp_hyperparams([t.min(), t.max()], list(ls_range), "expquad")
        pm.modelcontext(None).add_coord("gp_basis", np.arange(n_basis))
        amp = pm.HalfNormal("gp_amplitude", spec.priors.trend_sd * y_sd, dims="gp_term")
        ell = pm.InverseGamma("gp_lengthscale", mu=HSGP_LS_MEAN, sigma=HSGP_LS_SD, dims="gp_term")
        # one basis for all terms (same years, size and box); the spectral density per term
        lin = [
            pm.gp.HSGP(
                m=[n_basis], c=c, cov_func=amp[j] ** 2 * pm.gp.cov.ExpQuad(1, ls=ell[j])
            ).prior_linearized(X=t[:, None])
            for j in range(len(gp_terms))
        ]
        phi = lin[0][0]
        coef = pm.Normal("gp_coef_z", 0.0, 1.0, dims=("series", "gp_term", "gp_basis"))
        scaled = coef * pt.stack([psd for _, psd in lin])[None, :, :]
        parts.append((scaled[:, :, None, :] * pt.as_tensor_variable(phi)[None, None]).sum(-1))
    path = parts[0] if len(parts) == 1 else pt.concatenate(parts, axis=1)
    return path - path.mean(axis=2, keepdims=True)


@dataclass(frozen=True)
class ImputedCells:
    """Covariate cells imputed inside the model: row, term and value (a tensor)."""

    row: np.ndarray
    term: np.ndarray
    value: pt.TensorVariable


def _series_rowdot(coef, const: np.ndarray, s_i: np.ndarray):
    """``(coef[s_i] * const).sum(axis=1)`` as one matrix-vector product per series.

    ``coef`` is an (S, K) tensor and ``const`` an (n, K) array. Gathering ``coef`` to
    every row made the gradient a scatter-add over n x K cells, the costliest node of
    the default model's gradient; per-series blocks of rows make both directions dense
    products.
    """
    S = int(s_i.max()) + 1 if s_i.size else 0
    order = np.argsort(s_i, kind="stable")
    bounds = np.searchsorted(s_i[order], np.arange(S + 1))
    blocks = const[order]
    parts = [
        pt.dot(pt.as_tensor_variable(np.ascontiguousarray(blocks[a:b])), coef[s])
        for s, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
        if b > a
    ]
    out = pt.concatenate(parts) if len(parts) > 1 else parts[0]
    if np.array_equal(order, np.arange(order.size)):
        return out
    return out[np.argsort(order)]


def _covariates_with_imputation(
    md: ModelData, imputation: str = "trend"
) -> tuple[np.ndarray, ImputedCells | None]:
    """Return the (n, K) covariates: a constant matrix and the cells imputed in the model.

    Every imputed covariate shares one vectorised block (one variable per role, indexed
    by term and group). Per-term blocks built the same model with ten times as many
    graph nodes: 48 s of cold compilation against ~20 s, and a slower gradient. The
    covariates come back as a constant matrix, 0 at every imputed position, and the
    imputed values with their (row, term) positions (:class:`ImputedCells`); a host
    covariate's cell is shared by the rows of every series in that country-year.

    Imputation model per term and group (country, or sector-country for trade terms):
    ``imputation = "random_walk"`` (:func:`_impute_random_walk`) or ``"trend"``
    (:func:`_impute_trend`).
    """
    n, K = md.X.shape
    base = np.nan_to_num(md.X).ravel()
    idx = np.arange(n * K, dtype=np.int64).reshape(n, K)
    if not md.impute:
        return np.nan_to_num(md.X), None
    blocks = md.impute
    g_off = np.cumsum([0] + [b.n_groups for b in blocks])
    c_off = np.cumsum([0] + [b.values.size for b in blocks])
    grp_term = np.concatenate([np.full(b.n_groups, j) for j, b in enumerate(blocks)])
    cell_grp = np.concatenate([b.group + g_off[j] for j, b in enumerate(blocks)])
    cell_term = np.concatenate([np.full(b.values.size, j) for j, b in enumerate(blocks)])
    cell_tt = np.concatenate([b.tt for b in blocks])
    vals = np.concatenate([b.values for b in blocks])
    miss = np.isnan(vals)
    obs_i, miss_i = np.flatnonzero(~miss), np.flatnonzero(miss)
    miss_rank = np.full(vals.size, -1, dtype=np.int64)
    miss_rank[miss_i] = np.arange(miss_i.size)
    for j, blk in enumerate(blocks):
        k = md.terms.index(blk.term)
        cell = blk.row_cell + c_off[j]
        idx[:, k] = np.where(
            miss[cell], base.size + vals.size + miss_rank[cell], base.size + cell
        )
    model = pm.modelcontext(None)
    model.add_coord("impute_term", [b.term for b in blocks])
    labels = np.concatenate(
        [[f"{b.term}#{c}" for c in range(b.values.size)] for b in blocks]
    )[miss_i]
    model.add_coord("impute_cell", list(labels))
    build = _impute_random_walk if imputation == "random_walk" else _impute_trend
    x_miss = build(blocks, vals, miss_i, obs_i, cell_term, cell_grp, cell_tt, grp_term)
    # Observed cells are constants (0 at an imputed position); the imputed values are
    # returned with their (row, term) positions, so that every linear term is a
    # constant matrix product plus a sparse correction at those positions.
    n_const = base.size + vals.size
    pos = np.flatnonzero(idx.ravel() >= n_const)
    cell = idx.ravel()[pos] - n_const
    const = np.concatenate([base, np.nan_to_num(vals)])[np.minimum(idx, n_const - 1)]
    const = const.reshape(n, K)
    const.ravel()[pos] = 0.0
    return const, ImputedCells(pos // K, pos % K, x_miss[cell])


def _impute_trend(blocks, vals, miss_i, obs_i, cell_term, cell_grp, cell_tt, grp_term):
    """Imputed cells under ``imputation = "trend"``: a line per group plus iid noise.

    ``x[g, t] ~ Normal(level[g] + trend[g] * t, sigma)``, levels centred around a term
    mean with a term spread, trends around a term trend with the fixed spread
    :data:`IMPUTE_TREND_SD`. Levels and trends are centred (each group has a median of
    13-26 observed cells on the Korean panels); missing cells are non-centred.
    """
    i_mu = pm.Normal("impute_mu", 0.0, 1.0, dims="impute_term")
    i_tau = pm.HalfNormal("impute_tau", 1.0, dims="impute_term")
    i_trend_mu = pm.Normal("impute_trend_mu", 0.0, 1.0, dims="impute_term")
    i_sigma = pm.HalfNormal("impute_sigma", 0.5, dims="impute_term")
    # A group with no observed cell (two hosts have no wage series, two no edu) has no
    # information on its level or trend but the outcome, where a level is confounded
    # with the country effect: sampled, such a level had ESS 33-52 of 1200 draws. Those
    # groups follow the term's mean line (level and trend at the term means) and their
    # cells scatter around it with the residual sd; the country effect absorbs the rest.
    seen = np.bincount(cell_grp[obs_i], minlength=grp_term.size) > 0
    sg = np.flatnonzero(seen)
    lev = pm.Normal("impute_level", i_mu[grp_term[sg]], i_tau[grp_term[sg]], shape=sg.size)
    trd = pm.Normal("impute_trend", i_trend_mu[grp_term[sg]], IMPUTE_TREND_SD, shape=sg.size)
    level = pt.set_subtensor(i_mu[grp_term][sg], lev)
    trend = pt.set_subtensor(i_trend_mu[grp_term][sg], trd)
    # The observed cells enter through each group's sufficient statistics of the line
    # x = level + trend * t: the same log-density as one Normal term per observed cell,
    # in per-group arithmetic (the per-cell form was a third of the gradient's time).
    ng = grp_term.size
    xo, to, go = vals[obs_i], cell_tt[obs_i], cell_grp[obs_i]
    n_g, s_x, s_t, s_xx, s_xt, s_tt = (
        np.bincount(go, weights=w, minlength=ng)
        for w in (None, xo, to, xo * xo, xo * to, to * to)
    )
    rss = (
        s_xx - 2.0 * level * s_x - 2.0 * trend * s_xt
        + n_g * level**2 + 2.0 * level * trend * s_t + trend**2 * s_tt
    )
    sig_g = i_sigma[grp_term]
    pm.Potential(
        "impute_observed",
        (-0.5 * rss / sig_g**2 - n_g * (pt.log(sig_g) + LOG_SQRT_2PI)).sum(),
    )
    cell_mu = level[cell_grp[miss_i]] + trend[cell_grp[miss_i]] * cell_tt[miss_i]
    z = pm.Normal("impute_missing_z", 0.0, 1.0, shape=miss_i.size)
    return pm.Deterministic(
        "impute_missing",
        cell_mu + i_sigma[cell_term[miss_i]] * z,
        dims="impute_cell",
    )


@dataclass(frozen=True, slots=True)
class RandomWalkGaps:
    """Conditional prior of the missing cells under a driftless random walk per group.

    Given the observed cells, the missing cells of a group split into gaps (maximal runs
    of missing years) that are independent of one another (the walk is Markov). A gap
    between two observed cells is a Brownian bridge: mean the straight line between
    them. A gap before the first or after the last observed cell is a walk from that
    cell: mean flat at its value. A group with no observed cell walks from the term's
    cross-group mean of observed cells in each year. Every gap's covariance is
    ``sigma**2`` times a known matrix ``C``; ``chol`` holds the entries of its Cholesky
    factor, so that ``x = mean + sigma * (L @ z)`` with ``z ~ N(0, 1)`` (non-centred).

    Attributes
    ----------
    mean : (m,) conditional mean of each missing cell
    row, col, val : Cholesky entries, ``(L @ z)[row] += val * z[col]``
    q, n_pairs : (J,) per term, sum of squared steps over their length in years between
        consecutive observed cells, and the number of such steps (the observed cells'
        own log-density is ``-0.5 q / sigma**2 - n_pairs log(sigma)`` plus a constant)
    """

    mean: np.ndarray
    row: np.ndarray
    col: np.ndarray
    val: np.ndarray
    q: np.ndarray
    n_pairs: np.ndarray


#: Added to the diagonal of a gap's covariance (in squared steps) before its Cholesky
#: factor; the covariances are positive definite, this only guards rounding.
RW_CHOL_JITTER = 1e-10


def _random_walk_gaps(
    vals: np.ndarray, cell_term: np.ndarray, cell_grp: np.ndarray, years: np.ndarray, n_terms: int
) -> RandomWalkGaps:
    """Gaps, conditional means and Cholesky entries of the missing cells (pure numpy).

    ``vals`` holds every cell's standardised value (NaN where missing), ``years`` its
    year; the missing cells are numbered in the order of ``np.flatnonzero(isnan(vals))``.
    """
    miss = np.isnan(vals)
    rank = np.full(vals.size, -1, dtype=np.int64)
    rank[miss] = np.arange(int(miss.sum()))
    mean = np.zeros(int(miss.sum()))
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vls: list[np.ndarray] = []
    q = np.zeros(n_terms)
    n_pairs = np.zeros(n_terms)
    # Cross-group mean of the observed cells per term and year (overall mean where a
    # year has none), the anchor of groups with no observed cell.
    obs = ~miss
    year_mean: dict[tuple[int, float], float] = {}
    term_mean = np.zeros(n_terms)
    for j in range(n_terms):
        sel = obs & (cell_term == j)
        term_mean[j] = vals[sel].mean() if sel.any() else 0.0
        for yr, v in pd.Series(vals[sel]).groupby(years[sel]).mean().items():
            year_mean[(j, float(yr))] = float(v)
    order = np.lexsort((years, cell_grp))
    bounds = np.flatnonzero(np.diff(cell_grp[order])) + 1
    for cells in np.split(order, bounds):
        j = int(cell_term[cells[0]])
        t = years[cells].astype(float)
        x = vals[cells]
        m = miss[cells]
        seen = np.flatnonzero(~m)
        if seen.size > 1:
            dx = np.diff(x[seen])
            dt = np.diff(t[seen])
            q[j] += float((dx * dx / dt).sum())
            n_pairs[j] += seen.size - 1
        if not m.any():
            continue
        run_id = np.cumsum(np.r_[True, np.diff(m.astype(int)) != 0])
        for r in np.unique(run_id[m]):
            pos = np.flatnonzero((run_id == r) & m)
            s = t[pos]
            left = pos[0] - 1 if pos[0] > 0 else None
            right = pos[-1] + 1 if pos[-1] + 1 < cells.size else None
            if left is not None and right is not None:
                ta, tb, a, b = t[left], t[right], x[left], x[right]
                mu = a + (b - a) * (s - ta) / (tb - ta)
                u = s - ta
                cov = np.minimum.outer(u, u) - np.outer(u, u) / (tb - ta)
            elif left is not None:
                mu = np.full(s.size, x[left])
                u = s - t[left]
                cov = np.minimum.outer(u, u)
            elif right is not None:
                mu = np.full(s.size, x[right])
                u = t[right] - s
                cov = np.minimum.outer(u, u)
            else:
                mu = np.array([year_mean.get((j, float(v)), term_mean[j]) for v in s])
                u = s - s[0] + 1.0
                cov = np.minimum.outer(u, u)
            chol = np.linalg.cholesky(cov + RW_CHOL_JITTER * np.eye(s.size))
            ii, jj = np.tril_indices(s.size)
            gi = rank[cells[pos]]
            mean[gi] = mu
            rows.append(gi[ii])
            cols.append(gi[jj])
            vls.append(chol[ii, jj])
    def cat(parts: list[np.ndarray], dtype) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    return RandomWalkGaps(
        mean=mean,
        row=cat(rows, np.int64),
        col=cat(cols, np.int64),
        val=cat(vls, float),
        q=q,
        n_pairs=n_pairs,
    )


def _impute_random_walk(blocks, vals, miss_i, obs_i, cell_term, cell_grp, cell_tt, grp_term):
    """Imputed cells under ``imputation = "random_walk"``: a driftless walk per group.

    ``x[g, t] - x[g, t - 1] ~ Normal(0, sigma_term)`` over years, one step sd per term
    (standardised units per year). The missing cells are sampled non-centred from their
    exact conditional prior given the observed ones (:class:`RandomWalkGaps`): a gap
    bridges its observed neighbours on a straight line and a series' ends are held flat,
    with uncertainty growing with the distance to the nearest observed year. The trend
    form (:func:`_impute_trend`) instead extrapolated a group's linear trend into its
    unobserved years (rd's 1996-2014 trend back to 1988 on the Korean panels).
    """
    years = cell_tt * YEAR_SCALE
    gaps = _random_walk_gaps(vals, cell_term, cell_grp, years, len(blocks))
    sigma = pm.HalfNormal("impute_sigma", 0.5, dims="impute_term")
    # The observed cells' own density: consecutive observed cells of a group differ by a
    # Normal step whose variance grows with the years between them.
    pm.Potential(
        "impute_observed",
        (-0.5 * gaps.q / sigma**2 - gaps.n_pairs * (pt.log(sigma) + LOG_SQRT_2PI)).sum(),
    )
    z = pm.Normal("impute_missing_z", 0.0, 1.0, shape=miss_i.size)
    lz = pt.zeros(miss_i.size)[gaps.row].inc(gaps.val * z[gaps.col])
    return pm.Deterministic(
        "impute_missing",
        gaps.mean + sigma[cell_term[miss_i]] * lz,
        dims="impute_cell",
    )


def build_model(spec: HierarchicalSpec, panel: PanelData | pd.DataFrame | ModelData) -> pm.Model:
    """Build the PyMC model of ``spec`` on ``panel``.

    Parameters
    ----------
    spec : HierarchicalSpec
    panel : PanelData, pandas.DataFrame or ModelData

    Returns
    -------
    pymc.Model
        Dims ``series, country, year, term, obs, unit``. Variables reported by the
        summary: ``rho`` (series), ``beta`` (series, term) on the original covariate
        scale at the reference (average) year, ``beta_trend`` (series, tv_term) per year,
        ``beta_t`` (series, tv_term, year), ``sigma`` (series). Under a censored or
        hurdle likelihood with the observed lag, ``lag_floor`` (series) is the
        coefficient of a floor-coded lag. ``model.md`` holds the :class:`ModelData`.
    """
    md = panel if isinstance(panel, ModelData) else prepare_data(spec, panel)
    K = len(md.terms)
    S = len(md.series)
    tv = {t: f for t, f in spec.time_varying.items() if t in md.terms and f != "constant"}
    tv_terms = tuple(t for t in md.terms if t in tv)
    lin_terms = tuple(t for t in tv_terms if tv[t] == "linear")
    rw_terms = tuple(t for t in tv_terms if tv[t] == "rw")
    gp_terms = tuple(t for t in tv_terms if tv[t] == "hsgp")
    flex_terms = rw_terms + gp_terms
    coords = {
        "series": list(md.series),
        "country": list(md.countries),
        "year": list(md.years),
        "term": list(md.terms),
        "obs": np.arange(md.n_rows),
        "unit": list(md.units),
    }
    if tv_terms:
        coords["tv_term"] = list(tv_terms)
    if lin_terms:
        coords["lin_term"] = list(lin_terms)
    if rw_terms:
        coords["rw_term"] = list(rw_terms)
    if gp_terms:
        coords["gp_term"] = list(gp_terms)

    pr = spec.priors
    y_sd = float(np.std(md.y)) or 1.0
    y_mean = float(np.mean(md.y))
    # Regressors paired with series-specific coefficients are centred within series, so
    # the series intercept alpha does not trade off against rho, the initial-condition
    # and the Mundlak coefficients (measured: alpha R-hat 1.085, ESS 41 with centring
    # over the whole panel, where a mostly floor-coded series' lag sits far below it).
    ylag_c = md.ylag - _series_means(md.ylag, md.series_idx, S)
    # Rows that carry a density (not only a probability) count toward the centring
    # rules: under the Normal likelihood every row does, floor-valued or not.
    informative = ~md.at_floor if spec.likelihood != "normal" else np.ones(md.n_rows, bool)
    rows_country = np.bincount(md.country_idx[informative], minlength=len(md.countries))
    rows_unit = np.bincount(md.unit_idx[informative], minlength=len(md.units))
    s_i = md.series_idx

    with pm.Model(coords=coords) as model:
        # ---- covariates, with imputation of missing cells
        Xc, imp = _covariates_with_imputation(md, spec.imputation) if K else (None, None)
        # Coefficient of each imputed cell's value in eta, summed over the linear terms
        # that use it (slope, trend interaction, flexible path).
        imp_coef = None

        # ---- dynamics
        rho_mu = pm.Normal("rho_mu", pr.rho_mu, pr.rho_sd)
        if S > 1:
            # Zero-avoiding Gamma(2) prior with mean rho_tau (Chung et al. 2013): with six
            # series and centred rho, a half-normal let rho_tau reach its 1.5% quantile
            # (0.03), where the centred funnel neck gave a divergent transition.
            rho_tau = pm.Gamma("rho_tau", alpha=2.0, beta=2.0 / pr.rho_tau)
            rho = _series_rho(spec, md, rho_mu, rho_tau, informative)
        else:
            rho = pm.Deterministic("rho", pt.stack([rho_mu]), dims="series")
        alpha = pm.Normal("alpha", y_mean, 2.0 * y_sd, dims="series")
        # A series-specific linear time trend: without it a slope interacted with time
        # depends on the covariate's origin (the standardisation), and trending
        # covariates absorb any common trend in the outcome.
        alpha_trend = pm.Normal("alpha_trend", 0.0, pr.trend_sd * y_sd, dims="series")
        sigma = pm.HalfNormal("sigma", pr.sigma * y_sd * 2.0, dims="series")

        # ---- slopes (standardised scale, at the reference year)
        y0_used = md.y0
        if spec.lag == "latent":
            # Data augmentation: a floor-coded outcome's latent value lies below the
            # floor; ystar is the full latent path of every modelled unit.
            cens = np.flatnonzero(md.all_y <= spec.floor + AT_FLOOR_TOL)
            gap = pm.HalfFlat("latent_gap", shape=len(cens))
            ystar = pt.set_subtensor(
                pt.as_tensor_variable(md.all_y)[cens], float(spec.floor) - gap
            )
            pm.Deterministic("fdi_latent_mean", ystar[cens].mean())
            ylag_c = ystar[md.lag_pos] - y_mean
            y0_used = ystar[md.first_pos]
            # rows outside the dynamic likelihood (first rows, rows after gaps) get a
            # per-series normal model, so that their latent values are proper
            nondyn = np.setdiff1d(np.arange(md.all_y.size), md.dyn_pos)
            mu0 = pm.Normal("initial_mu", y_mean, 2.0 * y_sd, dims="series")
            sd0 = pm.HalfNormal("initial_sigma", 2.0 * y_sd, dims="series")
            s_nd = md.all_series[nondyn]
            pm.Potential(
                "initial_density",
                pm.logp(pm.Normal.dist(mu0[s_nd], sd0[s_nd]), ystar[nondyn]).sum(),
            )
        # Terms linear in a per-series coefficient with a constant regressor are
        # collected as (coefficient (S, k), regressor (n, k)) pairs and enter eta as one
        # matrix product per series (see _series_rowdot).
        per_series = [(alpha_trend[:, None], md.tt[:, None])]
        if spec.lag == "latent":
            eta = rho[s_i] * ylag_c
        else:
            eta = pt.zeros((md.n_rows,))
            ylag_in = ylag_c
            if spec.initial_conditions == "wooldridge" and WITHIN_UNIT_LAG:
                # The lag enters as its deviation from the unit's own mean, and rho times
                # that mean (centred like ylag_c) joins the unit effect's Wooldridge mean
                # below: the same model (eta is unchanged for every parameter value; the
                # centred unit totals are sheared by rho * mean, unit Jacobian), but rho
                # is now identified from within-unit movement, no longer trading off
                # against the unit totals. Measured, 4 x (300 + 1500): min ESS 1284 ->
                # 1428 on the shipped panel; simulated floor panels 1000 and 1002 from
                # 668 / 760 (R-hat 1.008 / 1.013) to 940 / 1036 (1.006 / 1.007); 1001
                # stayed at R-hat 1.016 (ESS 501 -> 572).
                U = len(md.units)
                cnt = np.maximum(np.bincount(md.unit_idx, minlength=U), 1)
                lag_unit_mean = np.bincount(md.unit_idx, ylag_c, U) / cnt
                ylag_in = ylag_c - lag_unit_mean[md.unit_idx]
            per_series.append((rho[:, None], ylag_in[:, None]))
        if spec.lag == "observed" and spec.likelihood != "normal":
            # A floor-coded lag stands for a latent flow somewhere below the floor, not
            # at it. Its own coefficient per series (rho times the expected shortfall)
            # keeps rho identified from the lags above the floor. Measured on the
            # floor-coded panel (80% of rows at the floor): rho's error per series went
            # from +0.04..+0.25 to -0.03..+0.07; slope coverage was unchanged.
            lag_f = (md.ylag <= float(spec.floor) + AT_FLOOR_TOL).astype(float)
            lag_f = lag_f - _series_means(lag_f, s_i, S)[s_i]
            phi = pm.Normal("lag_floor", 0.0, y_sd, dims="series")
            per_series.append((phi[:, None], lag_f[:, None]))
        if K:
            # Regressors (see below) first: the slopes' parameterisation depends on them.
            wb = spec.initial_conditions == "wooldridge"
            shift = md.xbar[md.unit_idx] if wb else _series_nanmeans(md.X, s_i, S)[s_i]
            tt_mean = _series_means(md.tt, s_i, S)
            x_slope = _within_slopes(md.X - shift, md.tt, md.unit_idx, s_i, S)
            x_dev = x_slope[s_i] * (md.tt - tt_mean)[:, None]
            slopes_centered = _centered(spec, "slopes", np.array([md.n_rows / max(S, 1)]))
            if slopes_centered and spec.centering["slopes"] == "auto":
                data_sd = _slope_data_sd(md, md.X - shift - x_dev, informative)
                slopes_centered = data_sd < SLOPE_CENTER_RATIO * pr.beta_tau * y_sd
                # Motive slopes are non-centred around their sector whatever their data
                # (see SLOPE_CENTER_RATIO).
                slopes_centered[md.parent >= 0] = False
            beta_std = _pooled_slopes(
                "beta",
                md,
                pr.beta_sd * y_sd,
                pr.beta_tau * y_sd,
                slopes_centered,
                spec,
                ("series", "term"),
            )
            pm.Deterministic("beta", beta_std / md.x_sd, dims=("series", "term"))
            # Regressors are centred so that no intercept trades off against a slope:
            # with Wooldridge initial conditions the level enters as the deviation from
            # the unit's own mean (the within-between form of the Mundlak device, whose
            # between part is ``lambda_xbar`` below); otherwise it is centred within
            # series. The trend interaction x * t is centred within series. Every
            # shift is a constant per series or per unit, absorbed by ``alpha``,
            # ``alpha_trend`` and the unit effect, so the model is unchanged.
            # Host covariates grow steadily, so their within-unit variation is mostly a
            # common linear trend, collinear with the series trend ``alpha_trend``
            # (measured: the smallest posterior principal component, 1.2% of unit
            # variance, was beta[gdp] + beta[gdppc] + alpha_trend). Taking the series'
            # pooled within-unit trend out of each regressor removes that ridge; the
            # shift is a series-level line, absorbed by alpha and alpha_trend.
            X_lvl = Xc - shift - x_dev
            per_series.append((beta_std, X_lvl))
            if imp is not None:
                # flat (series, term) positions: a 1-d gather, whose gradient is a 1-d
                # scatter-add (the 2-d fancy index cost twice as much)
                imp_flat = s_i[imp.row] * K + imp.term
                imp_coef = beta_std.ravel()[imp_flat]
            if lin_terms:
                lin_idx = [md.terms.index(t) for t in lin_terms]
                trend_std = _pooled_slopes(
                    "trend",
                    md,
                    pr.trend_sd * y_sd,
                    pr.beta_tau * y_sd * TREND_TAU_SCALE,
                    False,
                    spec,
                    ("series", "lin_term"),
                )
                full = pt.zeros((S, K))
                full = pt.set_subtensor(full[:, lin_idx], trend_std)
                XT = Xc[:, lin_idx] * md.tt[:, None]
                xt_mean = _series_nanmeans(md.X[:, lin_idx] * md.tt[:, None], s_i, S)
                per_series.append((trend_std, XT - xt_mean[s_i]))
                if imp is not None:
                    imp_coef = imp_coef + full.ravel()[imp_flat] * md.tt[imp.row]
            if flex_terms:
                flex_idx = [md.terms.index(t) for t in flex_terms]
                path = _flexible_paths(spec, md, rw_terms, gp_terms, y_sd)
                fullrw = pt.zeros((S, K, len(md.years)))
                fullrw = pt.set_subtensor(fullrw[:, flex_idx, :], path)
                eta = eta + (fullrw[s_i, :, md.year_idx] * Xc).sum(axis=1)
                if imp is not None:
                    r = imp.row
                    imp_coef = imp_coef + fullrw[s_i[r], imp.term, md.year_idx[r]]
            if tv_terms:
                tv_idx = [md.terms.index(t) for t in tv_terms]
                years_tt = (np.asarray(md.years, dtype=float) - md.reference_year) / YEAR_SCALE
                bt = pt.repeat(beta_std[:, tv_idx][:, :, None], len(md.years), axis=2)
                trend_out = pt.zeros((S, len(tv_terms)))
                if lin_terms:
                    pos = [tv_terms.index(t) for t in lin_terms]
                    bt = pt.set_subtensor(
                        bt[:, pos, :], bt[:, pos, :] + trend_std[:, :, None] * years_tt
                    )
                    trend_out = pt.set_subtensor(trend_out[:, pos], trend_std)
                if flex_terms:
                    pos = [tv_terms.index(t) for t in flex_terms]
                    bt = pt.set_subtensor(bt[:, pos, :], bt[:, pos, :] + path)
                sd_tv = md.x_sd[:, tv_idx]
                pm.Deterministic(
                    "beta_trend",
                    trend_out / sd_tv / YEAR_SCALE,
                    dims=("series", "tv_term"),
                )
                pm.Deterministic(
                    "beta_t", bt / sd_tv[:, :, None], dims=("series", "tv_term", "year")
                )

            if imp is not None:
                eta = pt.inc_subtensor(eta[imp.row], imp_coef * imp.value)
        eta = eta + _series_rowdot(
            pt.concatenate([c for c, _ in per_series], axis=1),
            np.column_stack([x for _, x in per_series]),
            s_i,
        )

        # ---- country effects shared by series, plus country-series deviations
        if len(md.countries) > 1:
            tau_c = _spread_prior("tau_country", pr.effect_tau * HALFNORMAL_MEAN)
            u_c = _effect(
                "u_country",
                tau_c,
                "country",
                _centered(spec, "country", rows_country),
                len(md.countries),
                groups=np.zeros(len(md.countries), dtype=np.int64),
            )
            host = [k for k, t in enumerate(md.terms) if t in HOST_COVARIATES]
            if spec.initial_conditions == "wooldridge" and host and K:
                u_c = _orthogonal_to_host_means(md, u_c, host)
            country_eff = u_c
        else:
            country_eff = None
        # One country-series spread for all series: a per-series spread is not identified
        # for mostly floor-coded series, whose all-floor units only bound their effect
        # from above (measured: tau_unit[series] R-hat 1.13-1.20, ESS 16-24).
        # Both spreads are in units of each series' residual sd, so that one spread
        # fits series whose scales differ (see ``_unit_effects``): on a simulated
        # panel without the floor (seed 1000), where sigma runs from 1.0 to 8.4 across
        # series, spreads on the log-FDI scale left tau_country at R-hat 1.05-1.19 and
        # ESS 15-86 of 6000 draws; in residual-sd units, with the zero-avoiding prior,
        # its chains agreed (medians 0.31-0.33). The shipped panel's fit was unchanged.
        tau_u = pm.HalfNormal("tau_unit", pr.effect_tau)
        ic = None
        if spec.initial_conditions == "wooldridge":
            # Wooldridge (2005): the unit effect's mean depends on y_i0 and on the
            # within-unit covariate means (Mundlak 1978; Chamberlain 1984).
            # Every conditioning variable is centred over units so that the series
            # intercepts do not trade off against the initial-condition coefficients.
            us = md.unit_series
            if spec.lag == "latent":
                y0c = y0_used - y0_used.mean()
            else:
                y0c = md.y0 - _series_means(md.y0, us, S)
            y0f = md.y0_floor.astype(float)
            floor_c = y0f - _series_means(y0f, us, S)
            # y0 is regressed on the at-floor indicator within series and only its
            # residual enters next to the indicator, so that the two coefficients are
            # not correlated (they were, at +0.55 to +0.65); the indicator's coefficient
            # on the original pair is recovered as a deterministic.
            den = np.bincount(us, weights=floor_c * floor_c, minlength=S)
            num = (
                np.bincount(us, weights=floor_c * y0c, minlength=S)
                if spec.lag != "latent"
                else np.zeros(S)
            )
            b_f = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
            gamma = pm.Normal("gamma_y0", 0.0, 1.0, dims="series")
            gamma_fo = pm.Normal("gamma_y0_floor_orth", 0.0, y_sd, dims="series")
            pm.Deterministic("gamma_y0_floor", gamma_fo - gamma * b_f, dims="series")
            ic = gamma[us] * (y0c - b_f[us] * floor_c) + gamma_fo[us] * floor_c
            if spec.lag == "observed" and WITHIN_UNIT_LAG:
                ic = ic + rho[us] * lag_unit_mean
            if K:
                # Wooldridge (2005) and Mundlak (1978): the unit effect depends on the
                # within-unit covariate means, through the between-unit coefficient
                # lambda = beta + delta (within-between form). lambda is nearly
                # orthogonal to beta, where delta was not (delta_xbar had the lowest
                # ESS, 53 of 600 draws). A further term in the within-unit covariate
                # trends (Chamberlain's projection) doubled the unit-level regressors to
                # 20 for ~33 units per series and was not identified (ESS 37 of 1200).
                # The unit means are collinear (between countries, gdppc, wage, rd and
                # edu correlate at 0.6-0.9), so lambda is sampled in the basis of their
                # per-series QR decomposition (as brms' decomp = "QR"): theta = R lambda
                # has uncorrelated regressors. Measured: lambda_xbar had the lowest ESS
                # of the model (42-97 of 1200 draws) when sampled directly.
                xbar_c = md.xbar - _series_means(md.xbar, us, S)
                Qm, Rinv = _series_qr(xbar_c, us, S)
                theta = pm.Normal("lambda_xbar_qr", 0.0, pr.beta_sd * y_sd, dims=("series", "term"))
                lam = pm.Deterministic(
                    "lambda_xbar", (pt.as_tensor_variable(Rinv) * theta[:, None, :]).sum(axis=2),
                    dims=("series", "term"),
                )
                pm.Deterministic(
                    "delta_xbar", (lam - beta_std) / md.x_sd, dims=("series", "term")
                )
                ic = ic + (theta[us] * Qm).sum(axis=1)
        # The series intercept enters through the unit totals, so that a centred unit's
        # total is centred on everything above it (alpha + country effect + Wooldridge
        # mean): with alpha outside, alpha had the lowest ESS (33 of 1200).
        unit_eff = _unit_effects(spec, md, tau_u, sigma, ic, rows_unit, country_eff, alpha)
        eta = eta + unit_eff[md.unit_idx]

        # ---- likelihood
        sig_i = sigma[s_i]
        floor = float(spec.floor)
        if spec.lag == "latent":
            # fdi below carries log Phi((floor - eta)/sigma) for a floor-coded row; the
            # latent value's density given censoring completes N(ystar | eta, sigma).
            c_dyn = np.flatnonzero(md.at_floor)
            y_c = ystar[md.dyn_pos[c_dyn]]
            eta_c, sig_c = eta[c_dyn], sig_i[c_dyn]
            pm.Potential(
                "latent_density",
                (
                    pm.logp(pm.Normal.dist(eta_c, sig_c), y_c)
                    - log_ndtr((floor - eta_c) / sig_c)
                ).sum(),
            )
        if spec.likelihood == "normal":
            pm.Normal("fdi", eta, sig_i, observed=md.y, dims="obs")
        elif spec.likelihood == "censored":
            pm.CustomDist(
                "fdi",
                eta,
                sig_i,
                floor,
                logp=censored_logp_for(md.y, spec.floor),
                random=censored_random,
                observed=md.y,
                dims="obs",
            )
        else:
            h_alpha = pm.Normal("hurdle_alpha", 0.0, 2.0, dims="series")
            h_lag = pm.Normal("hurdle_lag_floor", 0.0, 2.0, dims="series")
            h_rho = pm.Normal("hurdle_rho", 0.0, 1.0, dims="series")
            logit_p = (
                h_alpha[s_i]
                + h_lag[s_i] * (md.ylag <= floor + AT_FLOOR_TOL)
                + h_rho[s_i] * ylag_c / y_sd
            )
            if K:
                h_beta = pm.Normal("hurdle_beta_std", 0.0, 1.0, dims=("series", "term"))
                pm.Deterministic("beta_hurdle", h_beta / md.x_sd, dims=("series", "term"))
                logit_p = logit_p + _series_rowdot(h_beta, Xc, s_i)
                if imp is not None:
                    logit_p = pt.inc_subtensor(
                        logit_p[imp.row], h_beta.ravel()[imp_flat] * imp.value
                    )
            pm.CustomDist(
                "fdi",
                eta,
                sig_i,
                logit_p,
                floor,
                logp=hurdle_logp,
                random=hurdle_random,
                observed=md.y,
                dims="obs",
            )
    model.md = md  # type: ignore[attr-defined]
    return model
