"""The main job: data check, GMM tables, Bayesian fit, comparison and reports.

Everything that can fail without computing is checked first (anchor: CausalPy's
``pipeline.py``, "all steps are validated before any fitting begins"): the data file,
the hypotheses, the Bayesian spec, the GMM equation specs and the output directory. Then
every GMM equation is fitted once, the Bayesian model once, the hypotheses are evaluated
on the results in memory, and everything is written once, into a hidden directory
beside the target that is swapped into place at the very end: an interrupted or failed
run leaves the previous report untouched.

Layout written to ``OUT`` (default ``reports/latest``)::

    report.html  report.md  figures/*.png
    run/summary.csv  run/posterior.nc  run/ppc.csv  run/diagnostics.json   (Bayesian fit)
    run/gmm/<series>[.trend].json  run/gmm/coefficients.csv               (GMM, stored once)
    run/data_check.json  run/gmm_failures.json  run/hypotheses.csv  run/manifest.json
    paper/table2.{csv,md,html,tex}  paper/table3.*  paper/*_trend.*  (paper layout)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from bayes_kfdi import __version__, writer
from bayes_kfdi.bayes.fit import fit as bayes_fit
from bayes_kfdi.bayes.spec import HierarchicalSpec, load_spec
from bayes_kfdi.constants import COUNTRY, COVARIATES, FDI_FLOOR, OUTCOME, SERIES, YEAR
from bayes_kfdi.data.panel import PanelData
from bayes_kfdi.data.readers import read_panel
from bayes_kfdi.exceptions import DataError
from bayes_kfdi.jobs.common import (
    StepRecord,
    check_data,
    check_new_output,
    check_seed,
    file_facts,
    shown,
)
from bayes_kfdi.jobs.fitdir import stored_tree, write_fit_files
from bayes_kfdi.jobs.paper import paper_panel, write_paper
from bayes_kfdi.jobs.report import ReportPaths, write_rendered
from bayes_kfdi.paper.equations import PaperEquation, load_equations
from bayes_kfdi.paper.pipeline import paper_outputs
from bayes_kfdi.paper.robustness import instrument_sweep
from bayes_kfdi.paper.tables import PaperRun, read_truth, run_equations
from bayes_kfdi.report.hypothesis import (
    HypothesisSet,
    evaluate_all,
    load_hypotheses,
    validate_hypotheses,
)
from bayes_kfdi.report.inputs import (
    DATA_CHECK_FILE,
    GMM_DIR,
    GMM_FAILURES_FILE,
    TRUTH_FILE,
    GmmEquation,
    RunInputs,
    check_inputs,
    is_slope_prior,
    summary_frame,
)
from bayes_kfdi.report.render import render_report
from bayes_kfdi.report.tables import FLOOR_TOL, claims_table
from bayes_kfdi.resources import data_dir, models_dir

__all__ = [
    "QUICK_SAMPLER",
    "RUN_DIR",
    "PAPER_DIR",
    "ReproduceResult",
    "data_check",
    "default_paths",
    "gmm_coefficients",
    "gmm_files",
    "reproduce",
]

RUN_DIR = "run"
#: Folder (beside ``run/``) for the paper-layout GMM tables.
PAPER_DIR = "paper"
#: ``--quick``: a smoke run. Two short chains check that every step runs end to end;
#: the numbers are not for interpretation (the report says so).
QUICK_SAMPLER: dict[str, int] = {"draws": 100, "tune": 100, "chains": 2}
TITLE = "Outward FDI panel: Bayesian models vs system GMM"
#: Title when the data carry a truth file: the report must never read as a finding.
SIMULATED_TITLE = "SIMULATED semi-synthetic panel: Bayesian models vs system GMM"


def default_paths() -> dict[str, Path]:
    """Return the defaults: bundled data, Bayesian spec, hypotheses and ``reports/latest``."""
    return {
        "data": data_dir() / "korea_semisynthetic.csv",
        "spec": models_dir() / "hierarchical.toml",
        "hypotheses": models_dir() / "hypotheses.toml",
        "out": Path("reports") / "latest",
    }


@dataclass(frozen=True, slots=True)
class ReproduceResult:
    """Outcome of :func:`reproduce`.

    Attributes
    ----------
    out : Path
        The published report directory.
    html, markdown : Path
        The report files.
    steps : tuple of StepRecord
    seconds : float
        Wall time of the whole job.
    """

    out: Path
    html: Path
    markdown: Path
    steps: tuple[StepRecord, ...]
    seconds: float


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything validated before any fitting."""

    data: Path
    spec: Path
    hypotheses: Path
    out: Path
    overwrite: bool
    panel: PanelData
    hset: HypothesisSet
    bspec: HierarchicalSpec
    equations: tuple[PaperEquation, ...]


# --------------------------------------------------------------------------- steps
def data_check(panel: PanelData, data_path: Path) -> dict[str, Any]:
    """Facts about the panel that the report cites (written to ``data_check.json``).

    Returns
    -------
    dict
        File name and sha256, rows, countries, series, year range, share of outcomes at
        the log(3) floor per series, and the standard deviation of each covariate per
        series (for the paper's "two-sd" effects).
    """
    f = panel.frame
    floor = ((f[OUTCOME] - FDI_FLOOR).abs() <= FLOOR_TOL).groupby(f[SERIES]).mean()
    covs = [c for c in COVARIATES if c in f.columns]
    sd = f.groupby(SERIES)[covs].std(ddof=1)
    return {
        "data_file": data_path.name,
        "data_sha256": hashlib.sha256(data_path.read_bytes()).hexdigest(),
        "nobs": int(len(f)),
        "n_countries": int(f[COUNTRY].nunique()),
        "countries": sorted(f[COUNTRY].astype(str).unique().tolist()),
        "series": sorted(f[SERIES].astype(str).unique().tolist()),
        "year_min": int(f[YEAR].min()),
        "year_max": int(f[YEAR].max()),
        "floor_share": {str(k): float(v) for k, v in floor.items()},
        "covariate_sd": {
            str(s): {c: (None if pd.isna(v) else float(v)) for c, v in row.items()}
            for s, row in sd.iterrows()
        },
        "missing": {c: int(f[c].isna().sum()) for c in (OUTCOME, *covs)},
    }


def gmm_files(run: PaperRun | None) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Return the GMM JSON documents by file name and the failures, from one run.

    Files are ``<series>[.<variant>].json``. Two keys beyond the GMM JSON contract are
    added: ``cov`` (the coefficient covariance, for delta-method intervals) and, for
    trend variants, ``trend_reference_year``. A failed equation appears only in the
    failures, with its message.
    """
    out: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    for er in (run.runs.values() if run is not None else ()):
        eq = er.equation
        name = f"{eq.series}.json" if eq.variant == "baseline" else f"{eq.series}.{eq.variant}.json"
        if er.result is None:
            failures[name] = str(er.error)
            continue
        d = er.result.to_json_dict()
        cov = er.result.cov
        d["cov"] = {str(r): {str(c): float(cov.loc[r, c]) for c in cov.columns}
                    for r in cov.index}
        d["equation"] = eq.name
        if eq.variant == "trend":
            d["trend_reference_year"] = int(eq.reference_year)
        out[name] = d
    return out, failures


def gmm_coefficients(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Tidy GMM coefficient table: ``equation, variable, coef, se`` for every equation."""
    rows = [
        {"equation": name, "variable": k, "coef": v, "se": r["se"].get(k)}
        for name, r in results.items()
        for k, v in r["coef"].items()
    ]
    return pd.DataFrame(rows, columns=["equation", "variable", "coef", "se"])


def _as_stored(doc: dict[str, Any]) -> dict[str, Any]:
    """Return the document exactly as reading its JSON file back would give it."""
    return json.loads(json.dumps(writer.to_jsonable(doc), sort_keys=True, allow_nan=False))


def instrument_sweep_table(flat: pd.DataFrame, run: PaperRun) -> pd.DataFrame:
    """Roodman's instrument sweep, one row per series and instrument set (GMM credibility).

    Columns ``series, config, n_instruments, hansen_p, ar2_p, rho`` (the L.fdi estimate).
    """
    series = list(dict.fromkeys(er.equation.series for er in run.runs.values()
                                if er.equation.variant == "baseline"))
    sweep = instrument_sweep(flat, series)
    if sweep.empty:
        return sweep
    keep = sweep[(sweep["variable"] == "L.fdi") | ~sweep["ok"]].copy()
    keep["rho"] = keep["coef"]
    return keep[["series", "config", "n_instruments", "hansen_p", "ar2_p", "rho"]]


def _run_inputs(run_dir: Path, fit_result: Any, gmm: dict[str, dict[str, Any]],
                failures: dict[str, str], check: dict[str, Any],
                truth: dict[str, Any] | None = None) -> RunInputs:
    """Build the report's inputs from the results in memory, as the run files hold them."""
    equations = []
    for name, doc in gmm.items():
        series, _, variant = name.removesuffix(".json").partition(".")
        equations.append(GmmEquation(series, variant or "baseline", _as_stored(doc),
                                     run_dir / GMM_DIR / name))
    return check_inputs(RunInputs(
        run_dir=run_dir,
        summary=summary_frame(fit_result.posterior_summary),
        posterior=stored_tree(fit_result),
        gmm=tuple(sorted(equations, key=lambda e: (e.series, e.variant))),
        data_check=_as_stored(check),
        gmm_failures=dict(failures),
        truth=_as_stored(truth) if truth else None,
    ))


# ---------------------------------------------------------------------------- job
def _plan(data: Path, spec: Path, hypotheses: Path, out: Path, overwrite: bool) -> _Plan:
    check_new_output(out, overwrite, [("data file", data), ("spec", spec),
                                      ("hypotheses", hypotheses)])
    check_data(data)
    panel = read_panel(data)
    if SERIES not in panel.frame.columns:
        raise DataError(f"{data} has no 'series' column; expected the canonical long panel")
    hset = dataclasses.replace(load_hypotheses(hypotheses), source=shown(hypotheses))
    present = [c for c in COVARIATES if c in panel.frame.columns]
    validate_hypotheses(hset, series=panel.series, terms=present)
    bspec = load_spec(spec)
    # Panels with other series (e.g. one per source economy) get no GMM equations; the
    # report then shows GMM as "not available" rather than failing the whole job.
    equations = tuple(e for e in load_equations() if e.series in panel.series)
    return _Plan(data, spec, hypotheses, out, overwrite, panel, hset, bspec, equations)


def _with_sampler(bspec: HierarchicalSpec, quick: bool, seed: int | None) -> HierarchicalSpec:
    sampler = bspec.sampler
    if quick:
        sampler = dataclasses.replace(sampler, **QUICK_SAMPLER)
    if seed is not None:
        sampler = dataclasses.replace(sampler, seed=seed)
    return dataclasses.replace(bspec, sampler=sampler)


def _fit_gmm(plan: _Plan, flat: pd.DataFrame) -> tuple[PaperRun | None, StepRecord]:
    t0 = time.perf_counter()
    if not plan.equations:
        return None, StepRecord("GMM tables", "done", time.perf_counter() - t0,
                                ("no paper equation applies to the series in the data",))
    run = run_equations(flat, plan.equations, truth=read_truth(plan.data), data_path=plan.data)
    notes = [f"{name}: {w}" for name, er in run.runs.items() for w in er.warnings]
    failed = [name for name, er in run.runs.items() if er.result is None]
    notes += [f"{name} failed: {run.runs[name].error}" for name in failed]
    status = "done" if not failed else f"done, {len(failed)} equation(s) failed"
    return run, StepRecord("GMM tables", status, time.perf_counter() - t0, tuple(notes))


def _write_and_render(build: Path, plan: _Plan, *, quick: bool, run: PaperRun | None,
                      flat: pd.DataFrame, fit_result: Any, check: dict[str, Any],
                      records: list[StepRecord], t_gmm: float) -> ReportPaths:
    """Evaluate the hypotheses in memory, then write run/, paper/ and the report."""
    run_dir = build / RUN_DIR
    t0 = time.perf_counter()
    write_fit_files(fit_result, run_dir)
    gmm, failures = gmm_files(run)
    for name, doc in gmm.items():
        writer.write_json(run_dir / GMM_DIR / name, doc, sort_keys=True)
    writer.write_csv(run_dir / GMM_DIR / "coefficients.csv", gmm_coefficients(gmm),
                     float_format="%.10g")
    writer.write_json(run_dir / DATA_CHECK_FILE, check, sort_keys=True)
    writer.write_json(run_dir / GMM_FAILURES_FILE, failures, sort_keys=True)
    paper_links: list[str] = []
    if run is not None:
        outputs = paper_outputs(run, flat)
        write_paper(build / PAPER_DIR, outputs, flat, seconds=t_gmm, gmm_json=False,
                    robustness=False)
        paper_links = [f"{PAPER_DIR}/{n}" for n in outputs.files
                       if n.startswith("table") and n.endswith(".html")]
    truth = read_truth(plan.data)
    if truth:
        writer.write_json(run_dir / TRUTH_FILE, truth, sort_keys=True)
    inputs = _run_inputs(run_dir, fit_result, gmm, failures, check, truth)
    results = evaluate_all(plan.hset, inputs)
    writer.write_csv(run_dir / "hypotheses.csv", claims_table(results), float_format="%.10g")
    records.append(StepRecord("comparison", "done", time.perf_counter() - t0))
    t0 = time.perf_counter()
    sampler = plan.bspec.sampler
    manifest = {
        "package_version": __version__,
        "data": shown(plan.data),
        "spec": shown(plan.spec),
        "hypotheses": shown(plan.hypotheses),
        "quick": quick,
        "seed": sampler.seed,
        "sampler": dataclasses.asdict(sampler),
        "steps": [dataclasses.asdict(r) for r in records],
    }
    writer.write_json(run_dir / "manifest.json", manifest, sort_keys=True)
    title = (SIMULATED_TITLE if truth else TITLE) + (
        " (quick smoke run: too few draws to interpret)" if quick else "")
    data_fact = {"path": shown(plan.data), "bytes": plan.data.stat().st_size,
                 "sha256": check["data_sha256"][:16]}
    sweep = instrument_sweep_table(flat, run) if run is not None else None
    rendered = render_report(inputs, plan.hset, results, name=plan.out.name, title=title,
                             sources=[data_fact, *file_facts(run_dir, build)],
                             paper_tables=paper_links, sweep=sweep)
    paths = write_rendered(rendered, build)
    records.append(StepRecord("reports", "done", time.perf_counter() - t0))
    return paths


def reproduce(
    data: str | Path | None = None,
    out: str | Path | None = None,
    *,
    quick: bool = False,
    overwrite: bool = False,
    spec: str | Path | None = None,
    seed: int | None = None,
    hypotheses: str | Path | None = None,
    console: Console | None = None,
) -> ReproduceResult:
    """Run the whole job and publish the report directory.

    Parameters
    ----------
    data : str, Path or None
        Panel file; None uses the bundled ``korea_semisynthetic.csv``.
    out : str, Path or None
        Report directory; None uses ``reports/latest``.
    quick : bool
        Smoke run: :data:`QUICK_SAMPLER` draws, tuning steps and chains.
    overwrite : bool
        Replace an existing ``out``; without it an existing directory is an error.
    spec : str, Path or None
        Bayesian model spec; None uses the bundled ``hierarchical.toml``. A spec with a
        ``[multisource]`` section runs the multi-source job instead.
    seed : int or None
        Sampler seed; None keeps the spec's.
    hypotheses : str, Path or None
        Hypotheses spec; None uses the bundled ``hypotheses.toml``.
    console : rich.console.Console, optional
        Where progress goes (default: stderr).

    Returns
    -------
    ReproduceResult

    Raises
    ------
    OutputExistsError, DataError, SpecificationError
        Before any fitting, when an input is invalid.
    """
    from bayes_kfdi.jobs.multisource import multisource_spec, reproduce_multisource

    t_start = time.perf_counter()
    d = default_paths()
    data_p = Path(data) if data is not None else d["data"]
    out_p = Path(out) if out is not None else d["out"]
    spec_p = Path(spec) if spec is not None else d["spec"]
    hyp_p = Path(hypotheses) if hypotheses is not None else d["hypotheses"]
    check_seed(seed)
    console = console or Console(stderr=True)
    mspec = multisource_spec(spec_p)
    if mspec is not None:
        ms_out = reproduce_multisource(data, out_p, spec_p, quick=quick, overwrite=overwrite,
                                       seed=seed, console=console)
        total = time.perf_counter() - t_start
        return ReproduceResult(out=ms_out, html=ms_out / "report.html",
                               markdown=ms_out / "report.md",
                               steps=(StepRecord("multi-source job", "done", total),),
                               seconds=total)
    t0 = time.perf_counter()
    plan = _plan(data_p, spec_p, hyp_p, out_p, overwrite)
    plan = dataclasses.replace(plan, bspec=_with_sampler(plan.bspec, quick, seed))
    records = [StepRecord("validate", "done", time.perf_counter() - t0)]
    paths = _run(plan, quick=quick, records=records, console=console)
    return ReproduceResult(out=out_p, html=out_p / paths.html.name,
                           markdown=out_p / paths.markdown.name, steps=tuple(records),
                           seconds=time.perf_counter() - t_start)


def _run(plan: _Plan, *, quick: bool, records: list[StepRecord],
         console: Console) -> ReportPaths:
    sampler = plan.bspec.sampler
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
        TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
        console=console, transient=False,
    ) as progress:
        task = progress.add_task("data check", total=4)
        t0 = time.perf_counter()
        check = data_check(plan.panel, plan.data)
        flat = paper_panel(plan.panel)
        records.append(StepRecord("data check", "done", time.perf_counter() - t0))
        progress.update(task, advance=1, description=f"GMM ({len(plan.equations)} equations)")
        run, rec = _fit_gmm(plan, flat)
        records.append(rec)
        progress.update(task, advance=1, description=(
            f"Bayesian fit ({sampler.chains} chains x {sampler.draws} draws)"))
        t0 = time.perf_counter()
        # only the slope priors' log density is kept (element-wise, for power-scaling):
        # every random effect's and imputed cell's would add ~65 MB to posterior.nc
        fit_result = bayes_fit(plan.bspec, plan.panel, data_sha256=check["data_sha256"],
                               progress=False, log_prior=is_slope_prior)
        records.append(StepRecord("Bayesian fit", "done", time.perf_counter() - t0))
        progress.update(task, advance=1, description="comparison and reports")
        build = writer.make_build_dir(plan.out)
        try:
            paths = _write_and_render(build, plan, quick=quick, run=run, flat=flat,
                                      fit_result=fit_result, check=check, records=records,
                                      t_gmm=rec.seconds)
            progress.update(task, advance=1, description="done")
            writer.publish_dir(build, plan.out, overwrite=plan.overwrite)
        except BaseException:
            writer.discard_dir(build)
            raise
    return paths
