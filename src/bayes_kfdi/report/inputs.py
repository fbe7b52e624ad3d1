"""The report's inputs (:class:`RunInputs`) and uniform access to their numbers.

A job builds :class:`RunInputs` from its in-memory results; :func:`load_run` is the one
adapter that reads them back from a run directory, to re-render a report. A run
directory holds everything a report quotes, so every number traces to a file:

``summary.csv``
    Posterior summary, ``docs/contracts.md`` (written by ``bayes-kfdi fit``).
``posterior.nc``
    Full posterior, an ArviZ DataTree in NetCDF (written by ``bayes-kfdi fit``).
``gmm/<series>.json``, ``gmm/<series>.<variant>.json``
    GMM results, ``docs/contracts.md``; ``<variant>`` names a variant of the
    baseline equation, e.g. ``trend`` for the trend-interaction equations.
``data_check.json``
    Facts about the panel the report cites: year range, countries, floor share and the
    standard deviation of each covariate per series.

Every access to posterior variable names goes through :func:`slope_draws` and
:func:`slope_path`; when the Bayesian model renames a variable, only the constants and
those two functions change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from bayes_kfdi.exceptions import DataError, ProvenanceError, SpecificationError

__all__ = [
    "Component",
    "GmmEquation",
    "RunInputs",
    "load_run",
    "check_inputs",
    "summary_frame",
    "slope_draws",
    "slope_path",
    "observation_series",
    "slope_prior_names",
    "is_slope_prior",
    "gmm_coef_names",
    "gmm_lookup",
    "SUMMARY_FILE",
    "POSTERIOR_FILE",
    "GMM_DIR",
    "DATA_CHECK_FILE",
    "GMM_FAILURES_FILE",
    "TRUTH_FILE",
]

Component = Literal["level", "trend"]

SUMMARY_FILE = "summary.csv"
POSTERIOR_FILE = "posterior.nc"
GMM_DIR = "gmm"
DATA_CHECK_FILE = "data_check.json"
GMM_FAILURES_FILE = "gmm_failures.json"
TRUTH_FILE = "truth.json"
SUMMARY_COLUMNS: tuple[str, ...] = (
    "parameter",
    "series",
    "term",
    "mean",
    "sd",
    "q05",
    "q95",
    "r_hat",
    "ess_bulk",
)

# ---- posterior layout: the one place that knows the Bayesian model's names ----------
#: Constant (or average-year) slope on the original covariate scale.
SLOPE_VAR = "beta"
#: Linear trend of a slope, per year (the paper's trend interaction).
TREND_VARS: tuple[str, ...] = ("beta_trend",)
#: Year-by-year slope path of a time-varying slope.
PATH_VARS: tuple[str, ...] = ("beta_t", "beta_year", "beta_time")
SERIES_DIMS: tuple[str, ...] = ("series",)
TERM_DIMS: tuple[str, ...] = ("term", "coef", "tv_term")
YEAR_DIMS: tuple[str, ...] = ("year", "time")
SAMPLE_DIMS: tuple[str, ...] = ("chain", "draw")
#: ``log_prior`` variables power-scaled for prior sensitivity: the slope hierarchy
#: (``beta_mu``, ``beta_tau``, ``beta_z``, ``trend_*``). Scaling every prior term would
#: also rescale the random-effect and imputation models, which are part of the model
#: structure rather than prior beliefs about the slopes (Kallioinen et al. 2024, sec. 3).
SLOPE_PRIOR_PREFIXES: tuple[str, ...] = ("beta", "trend")

#: summary.csv and posterior.nc are written from the same draws; summary values may be
#: rounded, so agreement is checked to within a fraction of the posterior sd.
SUMMARY_MATCH_SD_FRACTION = 0.05
SUMMARY_MATCH_ABS = 1e-6


@dataclass(frozen=True, slots=True)
class GmmEquation:
    """One GMM equation's results as stored in ``gmm/<series>[.<variant>].json``.

    Attributes
    ----------
    series : str
        Series the equation explains.
    variant : str
        ``"baseline"`` or the variant name from the file stem.
    result : Mapping[str, Any]
        The GMM JSON dictionary (docs/contracts.md), unchanged.
    path : Path
        File it was read from (for citations in the report).
    """

    series: str
    variant: str
    result: Mapping[str, Any]
    path: Path


@dataclass(frozen=True, slots=True)
class RunInputs:
    """Everything a report is built from.

    Attributes
    ----------
    run_dir : Path
        Directory all numbers come from.
    summary : pandas.DataFrame or None
        ``summary.csv`` with at least :data:`SUMMARY_COLUMNS`; ``series`` and ``term``
        are strings (empty for shared parameters). None when no Bayesian fit exists.
    posterior : xarray.DataTree or None
        ``posterior.nc``; None when absent.
    gmm : tuple of GmmEquation
        Every GMM equation found, sorted by series then variant.
    data_check : Mapping[str, Any]
        ``data_check.json`` (empty mapping when absent).
    gmm_failures : Mapping[str, str]
        ``gmm_failures.json``: equation file name -> error message, for equations the
        GMM step could not estimate (empty when absent).
    truth : Mapping or None
        ``truth.json``: the true parameters when the data were simulated; None for real
        data. Its presence makes the report say the data are simulated.
    """

    run_dir: Path
    summary: pd.DataFrame | None
    posterior: xr.DataTree | None
    gmm: tuple[GmmEquation, ...]
    data_check: Mapping[str, Any]
    gmm_failures: Mapping[str, str] = field(default_factory=dict)
    truth: Mapping[str, Any] | None = None

    @property
    def has_bayes(self) -> bool:
        """Whether both the posterior summary and the full posterior are present."""
        return self.summary is not None and self.posterior is not None

    def gmm_for(self, series: str, variant: str = "baseline") -> GmmEquation | None:
        """Return the GMM equation of ``series`` and ``variant``, or None."""
        for eq in self.gmm:
            if eq.series == series and eq.variant == variant:
                return eq
        return None


def summary_frame(frame: pd.DataFrame, source: str = "summary") -> pd.DataFrame:
    """Check a posterior summary's columns; make ``parameter, series, term`` strings.

    Raises
    ------
    DataError
        If a column of :data:`SUMMARY_COLUMNS` is missing.
    """
    missing = [c for c in SUMMARY_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{source} lacks column(s) {', '.join(missing)}; expected the posterior summary "
            f"columns {', '.join(SUMMARY_COLUMNS)}; re-run `bayes-kfdi fit`"
        )
    frame = frame.copy()
    for col in ("parameter", "series", "term"):
        frame[col] = frame[col].fillna("").astype(str)
    return frame


def _read_summary(path: Path) -> pd.DataFrame:
    return summary_frame(pd.read_csv(path, keep_default_na=False, na_values=[""]), str(path))


def _read_gmm(gmm_dir: Path) -> tuple[GmmEquation, ...]:
    if not gmm_dir.is_dir():
        return ()
    out = []
    for path in sorted(gmm_dir.glob("*.json")):
        stem = path.stem
        series, _, variant = stem.partition(".")
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{path} is not valid JSON ({exc}); expected a GMM JSON result; "
                "re-run the GMM step"
            ) from None
        for key in ("coef", "se", "n_groups", "n_instruments"):
            if key not in result:
                raise DataError(
                    f"{path} has no {key!r} key; expected the GMM JSON of docs/contracts.md; "
                    "re-run the GMM step"
                )
        out.append(GmmEquation(series, variant or "baseline", result, path))
    return tuple(sorted(out, key=lambda e: (e.series, e.variant)))


def load_run(run_dir: str | Path) -> RunInputs:
    """Read a run directory (see the module docstring for its layout).

    Parameters
    ----------
    run_dir : str or Path
        Directory with ``summary.csv``, ``posterior.nc``, ``gmm/*.json`` and
        ``data_check.json``; any of them may be absent, not all of them.

    Returns
    -------
    RunInputs

    Raises
    ------
    DataError
        If the directory holds none of the expected files, or a file is malformed.
    ProvenanceError
        If ``summary.csv`` and ``posterior.nc`` disagree about a slope's mean.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(
            f"run directory {run_dir} does not exist; expected the output directory of "
            "`bayes-kfdi reproduce`; check the path"
        )
    summary_path = run_dir / SUMMARY_FILE
    post_path = run_dir / POSTERIOR_FILE
    summary = _read_summary(summary_path) if summary_path.is_file() else None
    posterior = (
        xr.open_datatree(post_path, engine="h5netcdf").load() if post_path.is_file() else None
    )
    gmm = _read_gmm(run_dir / GMM_DIR)
    check_path = run_dir / DATA_CHECK_FILE
    data_check = json.loads(check_path.read_text(encoding="utf-8")) if check_path.is_file() else {}
    fail_path = run_dir / GMM_FAILURES_FILE
    failures = json.loads(fail_path.read_text(encoding="utf-8")) if fail_path.is_file() else {}
    if summary is None and posterior is None and not gmm:
        raise DataError(
            f"run directory {run_dir} holds no {SUMMARY_FILE}, {POSTERIOR_FILE} or "
            f"{GMM_DIR}/*.json; expected the outputs of `bayes-kfdi fit` and the GMM step; "
            "run them first"
        )
    truth_path = run_dir / TRUTH_FILE
    truth = json.loads(truth_path.read_text(encoding="utf-8")) if truth_path.is_file() else None
    return check_inputs(RunInputs(run_dir, summary, posterior, gmm, data_check, failures, truth))


def check_inputs(inputs: RunInputs) -> RunInputs:
    """Return ``inputs`` after checking that the summary comes from the posterior's draws.

    Raises
    ------
    ProvenanceError
        If ``summary`` and ``posterior`` disagree about a slope's mean.
    """
    if inputs.has_bayes:
        _check_summary_matches(inputs)
    return inputs


def _check_summary_matches(inputs: RunInputs) -> None:
    """Raise if summary.csv's slope means do not come from posterior.nc's draws."""
    assert inputs.summary is not None and inputs.posterior is not None
    rows = inputs.summary[inputs.summary["parameter"] == SLOPE_VAR]
    post = inputs.posterior["posterior"]
    if SLOPE_VAR not in post.data_vars:
        return
    for row in rows.itertuples(index=False):
        try:
            draws = slope_draws(inputs.posterior, row.series, row.term, "level")
        except SpecificationError:
            continue
        m = float(np.mean(draws))
        tol = SUMMARY_MATCH_ABS + SUMMARY_MATCH_SD_FRACTION * float(np.std(draws))
        if abs(m - float(row.mean)) > tol:
            raise ProvenanceError(
                f"summary.csv gives beta[{row.series}, {row.term}] mean {row.mean:.6g} but "
                f"posterior.nc's draws average {m:.6g}; expected both from the same fit; "
                "re-run `bayes-kfdi fit` so both files come from one run"
            )


def _dim(da: xr.DataArray, candidates: tuple[str, ...], what: str) -> str:
    for name in candidates:
        if name in da.dims:
            return name
    raise SpecificationError(
        f"posterior variable {da.name!r} has dims {tuple(da.dims)}; expected a {what} dim "
        f"named one of {candidates}; update bayes_kfdi.report.inputs to the model's names"
    )


def _has(da: xr.DataArray, series: str, term: str) -> bool:
    sdim = _dim(da, SERIES_DIMS, "series")
    tdim = _dim(da, TERM_DIMS, "term")
    return series in da[sdim].values.tolist() and term in da[tdim].values.tolist()


def _select(da: xr.DataArray, series: str, term: str) -> xr.DataArray:
    sdim = _dim(da, SERIES_DIMS, "series")
    tdim = _dim(da, TERM_DIMS, "term")
    for dim, value in ((sdim, series), (tdim, term)):
        if value not in da[dim].values.tolist():
            raise SpecificationError(
                f"posterior variable {da.name!r} has no {dim} {value!r}; its {dim} values "
                f"are {', '.join(map(str, da[dim].values.tolist()))}; fix the hypothesis "
                "or fit a model that includes it"
            )
    return da.sel({sdim: series, tdim: term})


def slope_path(tree: xr.DataTree, series: str, term: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Year-by-year slope of a time-varying term, or None if the slope is constant.

    Parameters
    ----------
    tree : xarray.DataTree
        The posterior DataTree.
    series, term : str
        Which slope.

    Returns
    -------
    (years, draws) or None
        ``years`` has shape (T,); ``draws`` has shape (chain * draw, T).
    """
    post = tree["posterior"]
    for name in PATH_VARS:
        if name in post.data_vars:
            if not _has(post[name], series, term):
                return None
            da = _select(post[name], series, term)
            ydim = _dim(da, YEAR_DIMS, "year")
            da = da.transpose(*SAMPLE_DIMS, ydim)
            values = da.values.reshape(-1, da.sizes[ydim])
            if np.all(np.isnan(values)):
                return None
            return np.asarray(da[ydim].values, dtype=float), values
    return None


def slope_draws(tree: xr.DataTree, series: str, term: str, component: Component) -> np.ndarray:
    """Posterior draws of one slope quantity, shape (chain, draw).

    Parameters
    ----------
    tree : xarray.DataTree
        The posterior DataTree.
    series, term : str
        Which slope.
    component : {"level", "trend"}
        ``"level"``: the slope (at its average year when it varies over time, as
        summary.csv summarises it). ``"trend"``: its change per year, read from a
        linear-trend variable or, for a flexible path, the least-squares slope of each
        draw's path over the years.

    Raises
    ------
    SpecificationError
        If the posterior does not hold the requested quantity.
    """
    post = tree["posterior"]
    if component == "level":
        if SLOPE_VAR not in post.data_vars:
            raise SpecificationError(
                f"posterior.nc has no {SLOPE_VAR!r} variable (it has "
                f"{', '.join(map(str, post.data_vars))}); expected slopes named {SLOPE_VAR!r}; "
                "update bayes_kfdi.report.inputs to the model's names"
            )
        da = _select(post[SLOPE_VAR], series, term).transpose(*SAMPLE_DIMS)
        return np.asarray(da.values, dtype=float)
    for name in TREND_VARS:
        if name in post.data_vars and _has(post[name], series, term):
            da = _select(post[name], series, term).transpose(*SAMPLE_DIMS)
            values = np.asarray(da.values, dtype=float)
            if not np.all(np.isnan(values)):
                return values
    path = slope_path(tree, series, term)
    if path is None:
        raise SpecificationError(
            f"the posterior has no time-varying slope for {term!r} in series {series!r} "
            f"(looked for {', '.join(TREND_VARS + PATH_VARS)}); expected a model with a "
            "time-varying slope for that term; make it time-varying in the model spec or "
            "drop the trend claim from the hypothesis"
        )
    years, draws = path
    yc = years - years.mean()
    trend = (draws - draws.mean(axis=1, keepdims=True)) @ yc / float(yc @ yc)
    n_chain = post.sizes["chain"]
    return trend.reshape(n_chain, -1)


def gmm_coef_names(term: str, component: Component) -> tuple[str, ...]:
    """Candidate GMM coefficient names for a slope quantity, most likely first.

    Level slopes carry the covariate's name. Trend interactions follow the two ways a
    Stata user writes them: a generated variable (``wage_trend``) or factor-variable
    notation (``c.wage#c.trend``).
    """
    if component == "level":
        return (term,)
    return (f"{term}_trend", f"c.{term}#c.trend", f"{term}Xtrend", f"{term}_x_trend")


def gmm_lookup(
    inputs: RunInputs, series: str, term: str, component: Component
) -> tuple[GmmEquation, str] | None:
    """Find the GMM equation and coefficient name that estimate a slope quantity.

    Level slopes come from the baseline equation when it has the term, otherwise from any
    variant that has it; trend slopes from the first equation of the series that has an
    interaction coefficient. Returns None when no equation estimates it.
    """
    names = gmm_coef_names(term, component)
    equations = sorted(
        (e for e in inputs.gmm if e.series == series),
        key=lambda e: (e.variant != "baseline", e.variant),
    )
    for eq in equations:
        for name in names:
            if name in eq.result.get("coef", {}) and eq.result["coef"][name] is not None:
                return eq, name
    return None


def observation_series(tree: xr.DataTree, obs_dim: str) -> np.ndarray | None:
    """Return the series of each observation along ``obs_dim``, or None if not recorded.

    Looked up as a ``series`` coordinate of ``observed_data`` first, then as a
    ``series`` variable of ``constant_data`` (where ``bayes_kfdi.bayes.fit`` stores it).
    """
    obs = tree["observed_data"]
    if "series" in obs.coords and obs["series"].dims == (obs_dim,):
        return np.asarray(obs["series"].values).astype(str)
    if "constant_data" in tree.children:
        const = tree["constant_data"]
        if "series" in const.variables and const["series"].dims == (obs_dim,):
            return np.asarray(const["series"].values).astype(str)
    return None


def slope_prior_names(tree: xr.DataTree) -> tuple[str, ...]:
    """Names of the ``log_prior`` variables that belong to the slope priors.

    All ``log_prior`` variables when none matches :data:`SLOPE_PRIOR_PREFIXES` (e.g. a
    model with other names); empty when there is no ``log_prior`` group.
    """
    if "log_prior" not in tree.children:
        return ()
    names = tuple(str(v) for v in tree["log_prior"].data_vars)
    chosen = tuple(n for n in names if is_slope_prior(n))
    return chosen or names


def is_slope_prior(name: str) -> bool:
    """Whether a variable's prior is power-scaled (:data:`SLOPE_PRIOR_PREFIXES`)."""
    return name.split("_")[0] in SLOPE_PRIOR_PREFIXES
