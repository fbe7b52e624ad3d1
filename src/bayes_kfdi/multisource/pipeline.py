"""The multi-source job: select, fit pooled and per-source models, compare, GMM, report.

:func:`run_multisource` computes (no file I/O); :func:`reproduce_multisource` is what
``bayes-kfdi reproduce --spec models/multi_source.toml`` runs: it validates everything
first, builds the report beside the target and publishes it with ``os.replace``
(the helpers of :mod:`bayes_kfdi.report.render`), so an interrupted run leaves the
previous report intact.

Layout written to ``OUT``::

    report.html  report.md  figures/forest.png  figures/contrasts.png
    run/summary.csv  run/posterior.nc  run/ppc.csv  run/diagnostics.json   (pooled fit)
    run/selection.csv  run/slopes.csv  run/contrasts.csv  run/h1.csv
    run/loo_pooled_vs_separate.csv  run/separate_diagnostics.json
    run/gmm/<source>.json  run/gmm/coefficients.csv  run/gmm/skipped.json
    run/manifest.json
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pymc as pm
import xarray as xr
from rich.console import Console

from bayes_kfdi import __version__
from bayes_kfdi.bayes.diagnostics import Diagnostics, diagnose
from bayes_kfdi.bayes.fit import FitResult, fit, sample_model, write_fit
from bayes_kfdi.bayes.model import ModelData, prepare_data
from bayes_kfdi.data.readers import read_panel
from bayes_kfdi.exceptions import DataError, OutputExistsError, SpecificationError
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
from bayes_kfdi.multisource.spec import MultiSourceSpec, load_multisource_spec

__all__ = [
    "MultiSourceResult",
    "SeparateFit",
    "QUICK_SAMPLER",
    "fit_separate",
    "fit_input",
    "model_data",
    "run_multisource",
    "reproduce_multisource",
]

#: ``--quick``: two short chains, a smoke run (the report says so).
QUICK_SAMPLER: dict[str, int] = {"draws": 150, "tune": 150, "chains": 2}
RUN_DIR = "run"


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
    sel = select_panel(frame, mspec.selection)
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
    sel = select_panel(frame, mspec.selection)
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


def reproduce_multisource(
    data: str | Path,
    out: str | Path,
    spec: str | Path,
    *,
    quick: bool = False,
    overwrite: bool = False,
    seed: int | None = None,
    console: Console | None = None,
) -> Path:
    """Run the multi-source job and publish ``out`` (report.html, report.md, run/).

    Raises
    ------
    OutputExistsError, DataError, SpecificationError
        Before any fitting, when an input is invalid.
    """
    from bayes_kfdi.multisource import render

    t_start = time.perf_counter()
    data_p, out_p, spec_p = Path(data), Path(out), Path(spec)
    console = console or Console(stderr=True)
    if out_p.exists() and not overwrite:
        raise OutputExistsError(
            f"output directory {out_p} already exists; expected a new directory; pass "
            "--overwrite to replace it or choose another --out"
        )
    if not data_p.is_file():
        raise DataError(f"data file {data_p} does not exist; pass --data FILE")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise SpecificationError(f"seed = {seed!r}; expected a non-negative integer")
    mspec = load_multisource_spec(spec_p)
    sampler = mspec.model.sampler
    if quick:
        sampler = dataclasses.replace(sampler, **QUICK_SAMPLER)
    if seed is not None:
        sampler = dataclasses.replace(sampler, seed=seed)
    mspec = dataclasses.replace(mspec, model=dataclasses.replace(mspec.model, sampler=sampler))
    panel = read_panel(data_p)
    select_panel(panel.frame, mspec.selection)  # fail before sampling
    sha = hashlib.sha256(data_p.read_bytes()).hexdigest()
    console.print(f"[bold]multi-source job[/bold]: {data_p.name}, spec {spec_p.name}"
                  + (" (quick)" if quick else ""))
    res = run_multisource(panel.frame, mspec, data_sha256=sha)
    total = time.perf_counter() - t_start
    manifest: dict[str, Any] = {
        "package_version": __version__, "data": str(data_p), "data_sha256": sha,
        "spec": str(spec_p), "reference": mspec.selection.reference, "quick": quick,
        "seed": sampler.seed,
        "sampler": dataclasses.asdict(sampler), "seconds": {**res.seconds, "total": total},
    }
    from bayes_kfdi.report import render as report_render

    build = report_render.make_build_dir(out_p)
    try:
        write_fit(res.pooled, build / RUN_DIR)
        render.write_run(res, build / RUN_DIR, manifest)
        render.write_report(res, build, name=out_p.name, quick=quick, manifest=manifest)
        report_render.publish_dir(build, out_p, overwrite=overwrite)
    except BaseException:
        report_render.discard_dir(build)
        raise
    console.print(f"report written to {out_p} in {total:.0f} s "
                  f"(converged: {res.pooled.diagnostics.converged})")
    return out_p


