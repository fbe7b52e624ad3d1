"""The multi-source computation: select, fit pooled and per-source models, compare, GMM.

:func:`run_multisource` computes and writes nothing; the job that validates, runs it and
publishes the report is :mod:`bayes_kfdi.jobs.multisource`.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import pandas as pd
import pymc as pm
import xarray as xr

from bayes_kfdi.bayes.diagnostics import Diagnostics, diagnose
from bayes_kfdi.bayes.fit import FitResult, fit, sample_model
from bayes_kfdi.bayes.model import ModelData, prepare_data
from bayes_kfdi.multisource.analysis import (
    GmmBaseline,
    contrasts,
    h1_table,
    loo_pooled_vs_separate,
    per_source_gmm,
    slope_table,
)
from bayes_kfdi.multisource.model import build_independent, host_level_history
from bayes_kfdi.multisource.panel import Selection, select_panel
from bayes_kfdi.multisource.spec import MultiSourceSpec

__all__ = [
    "select",
    "MultiSourceResult",
    "SeparateFit",
    "QUICK_SAMPLER",
    "fit_separate",
    "fit_input",
    "model_data",
    "run_multisource",
]

#: ``--quick``: two short chains, a smoke run (the report says so).
QUICK_SAMPLER: dict[str, int] = {"draws": 150, "tune": 150, "chains": 2}


@dataclass(frozen=True, slots=True)
class SeparateFit:
    """The one-model-per-source fit: trace (with log-likelihood) and diagnostics."""

    idata: xr.DataTree
    diagnostics: Diagnostics
    seconds: float


@dataclass(frozen=True, slots=True)
class MultiSourceResult:
    """Everything the multi-source report shows.

    Attributes
    ----------
    selection : Selection
    pooled : FitResult
    separate : SeparateFit or None
    slopes, contrasts, h1 : pandas.DataFrame
        From :mod:`bayes_kfdi.multisource.analysis`.
    loo : pandas.DataFrame or None
        Pooled vs separate ELPD per source and in total.
    gmm : GmmBaseline or None
    seconds : dict of str to float
    """

    selection: Selection
    pooled: FitResult
    separate: SeparateFit | None
    slopes: pd.DataFrame
    contrasts: pd.DataFrame
    h1: pd.DataFrame
    loo: pd.DataFrame | None
    gmm: GmmBaseline | None
    seconds: dict[str, float]


def select(frame: pd.DataFrame, mspec: MultiSourceSpec) -> Selection:
    """Return the spec's panel selection, with the model's terms (gravity and trade filters)."""
    return select_panel(frame, mspec.selection, terms=tuple(mspec.model.terms or ()))


def model_data(mspec: MultiSourceSpec, frame: pd.DataFrame) -> ModelData:
    """Model arrays of the selected panel, with the spec's covariate-history choice."""
    md = prepare_data(mspec.model, frame)
    return host_level_history(md) if mspec.covariate_history == "host_effect" else md


def fit_input(frame: pd.DataFrame, mspec: MultiSourceSpec) -> tuple[Selection, ModelData]:
    """Return the pooled model's data: what ``bayes-kfdi fit`` fits for a multi-source spec.

    Applies the ``[multisource]`` panel selection and covariate-history choice, so the
    plain ``fit`` command reproduces the pooled fit of the multi-source job (without the
    per-source rival, LOO comparison, GMM or report).

    Returns
    -------
    (Selection, ModelData)
    """
    sel = select(frame, mspec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return sel, model_data(mspec, sel.frame)


def fit_separate(mspec: MultiSourceSpec, md: ModelData) -> SeparateFit:
    """Sample one model per source (as one block-diagonal model) with log-likelihood."""
    t0 = time.perf_counter()
    model = build_independent(mspec.model, md)
    idata, _ = sample_model(model, mspec.model, progress=False)
    pm.compute_log_likelihood(idata, var_names=["fdi"], model=model,
                              extend_inferencedata=True, progressbar=False)
    for grp in ("warmup_posterior", "warmup_sample_stats"):
        if grp in idata.children:
            del idata[grp]
    diag = diagnose(idata)
    idata.attrs.update({"likelihood": mspec.model.likelihood, **diag.to_attrs()})
    return SeparateFit(idata=idata, diagnostics=diag, seconds=time.perf_counter() - t0)


def run_multisource(
    frame: pd.DataFrame, mspec: MultiSourceSpec, *, data_sha256: str | None = None
) -> MultiSourceResult:
    """Select the panel, fit the pooled model, the per-source rival and per-source GMM.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long panel with ``series`` = source economy.
    mspec : MultiSourceSpec
    data_sha256 : str, optional
        Recorded in the pooled fit's provenance.

    Returns
    -------
    MultiSourceResult
    """
    secs: dict[str, float] = {}
    sel = select(frame, mspec)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        md = model_data(mspec, sel.frame)
        pooled = fit(mspec.model, md, data_sha256=data_sha256, progress=False)
    secs["pooled"] = time.perf_counter() - t0
    separate = loo = None
    if mspec.compare_per_source:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            separate = fit_separate(mspec, md)
        secs["separate"] = separate.seconds
        src = pooled.idata["constant_data"]["series"].values
        loo = loo_pooled_vs_separate(pooled.idata, separate.idata, src)
    gmm = None
    if mspec.gmm_command is not None:
        t0 = time.perf_counter()
        gmm = per_source_gmm(sel.frame, mspec.gmm_command)
        secs["gmm"] = time.perf_counter() - t0
    h1 = h1_table(pooled.idata)
    return MultiSourceResult(
        selection=sel,
        pooled=pooled,
        separate=separate,
        slopes=slope_table(pooled.idata),
        contrasts=contrasts(pooled.idata, mspec.selection.reference),
        h1=h1,
        loo=loo,
        gmm=gmm,
        seconds=secs,
    )
