"""The main job: data check, GMM tables, Bayesian fit, comparison and reports.

Everything that can fail without computing is checked first (anchor: CausalPy's
``pipeline.py``, "all steps are validated before any fitting begins"): the data file,
the hypotheses, the Bayesian spec, the GMM equation specs, every component's
availability and the output directory. Only then does fitting start.

The report is built in a hidden directory next to the target and moved into place with
``os.replace`` at the very end, so an interrupted or failed run leaves the previous
report untouched.

Layout written to ``OUT`` (``reports/<name>``)::

    report.html  report.md  figures/*.png
    run/summary.csv  run/posterior.nc  run/ppc.csv  run/diagnostics.json   (Bayesian fit)
    run/gmm/<series>[.trend].json  run/gmm/coefficients.csv               (GMM)
    run/data_check.json  run/gmm_failures.json  run/hypotheses.csv  run/manifest.json
    paper/table2.{csv,md,html,tex}  paper/table3.*  paper/*_trend.*  (paper layout)
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from bayes_kfdi import __version__
from bayes_kfdi.constants import COUNTRY, COVARIATES, FDI_FLOOR, OUTCOME, SERIES, YEAR
from bayes_kfdi.data.panel import PanelData
from bayes_kfdi.data.readers import read_panel
from bayes_kfdi.exceptions import (
    DataError,
    EstimationError,
    OutputExistsError,
    SpecificationError,
    StepUnavailableError,
)
from bayes_kfdi.report import render
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
    is_slope_prior,
    load_run,
)
from bayes_kfdi.report.tables import FLOOR_TOL, claims_table
from bayes_kfdi.resources import data_dir, models_dir

__all__ = [
    "ReproduceResult",
    "StepRecord",
    "reproduce",
    "default_paths",
    "QUICK_SAMPLER",
    "RUN_DIR",
]

RUN_DIR = "run"
#: Folder (beside ``run/``) for the paper-layout GMM tables of ``bayes-kfdi paper``.
PAPER_DIR = "paper"
#: ``--quick``: a smoke run. Two short chains check that every step runs end to end;
#: the numbers are not for interpretation (the report says so).
QUICK_SAMPLER: dict[str, int] = {"draws": 100, "tune": 100, "chains": 2}


def default_paths() -> dict[str, Path]:
    """Repository defaults: embedded data, Bayesian spec, hypotheses and output dir."""
    return {
        "data": data_dir() / "korea_semisynthetic.csv",
        "spec": models_dir() / "hierarchical.toml",
        "hypotheses": models_dir() / "hypotheses.toml",
        "out": Path("reports") / "latest",
    }


@dataclass(frozen=True, slots=True)
class StepRecord:
    """What one step did: name, status (``done``/``skipped``), seconds and notes."""

    name: str
    status: str
    seconds: float
    notes: tuple[str, ...] = ()


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


# ------------------------------------------------------------------ component access
def _component(module: str, attr: str, step: str) -> Any:
    """Return ``module.attr``, or raise a clear error naming the missing step."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise StepUnavailableError(
            f"step '{step}' is not available yet: {module} cannot be imported ({exc}); "
            "expected it in this installation; update the package or skip this job"
        ) from None
    if not hasattr(mod, attr):
        raise StepUnavailableError(
            f"step '{step}' is not available yet: {module} has no {attr!r}; expected it "
            "in this installation; update the package"
        )
    return getattr(mod, attr)


def gmm_components() -> dict[str, Callable[..., Any]]:
    """Return the GMM engine and the paper's equation specs."""
    return {
        "xtabond2": _component("bayes_kfdi.gmm", "xtabond2", "GMM tables"),
        "load_equations": _component("bayes_kfdi.paper.equations", "load_equations",
                                     "GMM tables"),
        "equation_frame": _component("bayes_kfdi.paper.equations", "equation_frame",
                                     "GMM tables"),
        "paper_tables": _component("bayes_kfdi.paper", "reproduce", "GMM tables"),
    }


def bayes_components() -> dict[str, Callable[..., Any]]:
    """Return the Bayesian spec loader, fit, writer and model builder."""
    return {
        "load_spec": _component("bayes_kfdi.bayes.spec", "load_spec", "Bayesian fit"),
        "fit": _component("bayes_kfdi.bayes.fit", "fit", "Bayesian fit"),
        "write_fit": _component("bayes_kfdi.bayes.fit", "write_fit", "Bayesian fit"),
    }


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


def run_gmm(
    panel: PanelData, equations: tuple[Any, ...], components: dict[str, Callable[..., Any]]
) -> tuple[dict[str, dict[str, Any]], list[str], dict[str, str]]:
    """Fit every equation; return results by file name, warnings, and failures.

    Results are SCHEMA section-2 dicts keyed by ``<series>[.<variant>].json``; an
    equation the engine cannot estimate goes to ``failures`` with its error message.

    Two keys beyond the SCHEMA contract are added: ``cov`` (the coefficient covariance,
    for delta-method intervals) and, for trend variants, ``trend_reference_year``.
    """
    frame = panel.frame
    out: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    failures: dict[str, str] = {}
    for eq in equations:
        name = f"{eq.series}.json" if eq.variant == "baseline" else f"{eq.series}.{eq.variant}.json"
        sub = components["equation_frame"](frame, eq)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = components["xtabond2"](sub, eq.command, entity=COUNTRY, time=YEAR)
            except (EstimationError, np.linalg.LinAlgError) as exc:
                # A failed equation is a finding: reported, never replaced by a number.
                failures[name] = f"{type(exc).__name__}: {exc}"
                continue
        notes.extend(f"{eq.name}: {w.category.__name__}: {w.message}" for w in caught)
        d = res.to_json_dict()
        cov = res.cov
        d["cov"] = {str(r): {str(c): float(cov.loc[r, c]) for c in cov.columns}
                    for r in cov.index}
        d["equation"] = eq.name
        if eq.variant == "trend":
            d["trend_reference_year"] = int(eq.reference_year)
        out[name] = d
    return out, notes, failures


def gmm_coefficients(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Tidy GMM coefficient table: ``equation, variable, coef, se`` for every equation."""
    rows = [
        {"equation": name, "variable": k, "coef": v, "se": r["se"].get(k)}
        for name, r in results.items()
        for k, v in r["coef"].items()
    ]
    return pd.DataFrame(rows, columns=["equation", "variable", "coef", "se"])


# ---------------------------------------------------------------------------- job
def _shown(path: Path) -> str:
    """Path as shown in reports: relative to the repository or working dir when inside."""
    p = path.resolve()
    for base in (data_dir().parent.resolve(), Path.cwd().resolve()):
        try:
            return p.relative_to(base).as_posix()
        except ValueError:
            continue
    return p.as_posix()


def _validate(
    data: Path, spec: Path, hypotheses: Path, out: Path, overwrite: bool
) -> tuple[PanelData, HypothesisSet, Any, tuple[Any, ...], dict[str, Any], dict[str, Any]]:
    if out.exists() and not overwrite:
        raise OutputExistsError(
            f"output directory {out} already exists; expected a new directory; pass "
            "--overwrite to replace it or choose another --out"
        )
    if not data.is_file():
        raise DataError(f"data file {data} does not exist; pass --data FILE")
    panel = read_panel(data)
    if SERIES not in panel.frame.columns:
        raise DataError(f"{data} has no 'series' column; expected the SCHEMA section-1 panel")
    hset = dataclasses.replace(load_hypotheses(hypotheses), source=_shown(hypotheses))
    present = [c for c in COVARIATES if c in panel.frame.columns]
    validate_hypotheses(hset, series=panel.series, terms=present)
    gmm_c = gmm_components()
    bayes_c = bayes_components()
    bspec = bayes_c["load_spec"](spec)
    # Panels with other series (e.g. one per source economy) get no GMM equations; the
    # report then shows GMM as "not available" rather than failing the whole job.
    equations = tuple(e for e in gmm_c["load_equations"]() if e.series in panel.series)
    return panel, hset, bspec, equations, gmm_c, bayes_c


def reproduce(
    data: str | Path | None,
    out: str | Path | None,
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
        Panel file (SCHEMA section 1); None uses ``data/korea_semisynthetic.csv``.
    out : str, Path or None
        Report directory; None uses ``reports/example``.
    quick : bool
        Smoke run: :data:`QUICK_SAMPLER` draws, tuning steps and chains.
    overwrite : bool
        Replace an existing ``out``; without it an existing directory is an error.
    spec : str, Path or None
        Bayesian model spec; None uses ``models/hierarchical.toml``.
    seed : int or None
        Sampler seed; None keeps the spec's.
    hypotheses : str, Path or None
        Hypotheses spec; None uses ``models/hypotheses.toml``.
    console : rich.console.Console, optional
        Where progress goes (default: stderr).

    Returns
    -------
    ReproduceResult

    Raises
    ------
    OutputExistsError, DataError, SpecificationError, StepUnavailableError
        Before any fitting, when an input is invalid or a component is missing.
    """
    t_start = time.perf_counter()
    d = default_paths()
    data_p = Path(data) if data is not None else d["data"]
    out_p = Path(out) if out is not None else d["out"]
    spec_p = Path(spec) if spec is not None else d["spec"]
    hyp_p = Path(hypotheses) if hypotheses is not None else d["hypotheses"]
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise SpecificationError(f"seed = {seed!r}; expected a non-negative integer")
    console = console or Console(stderr=True)
    from bayes_kfdi.multisource.spec import is_multisource_spec

    if is_multisource_spec(spec_p):
        # A spec with a [multisource] section (issue 8) switches to the multi-source job.
        from bayes_kfdi.multisource.pipeline import reproduce_multisource

        ms_out = reproduce_multisource(data_p, out_p, spec_p, quick=quick, overwrite=overwrite,
                                       seed=seed, console=console)
        total = time.perf_counter() - t_start
        return ReproduceResult(out=ms_out, html=ms_out / "report.html",
                               markdown=ms_out / "report.md",
                               steps=(StepRecord("multi-source job", "done", total),),
                               seconds=total)
    records: list[StepRecord] = []

    t0 = time.perf_counter()
    panel, hset, bspec, equations, gmm_c, bayes_c = _validate(
        data_p, spec_p, hyp_p, out_p, overwrite
    )
    sampler = bspec.sampler
    if quick:
        sampler = dataclasses.replace(sampler, **QUICK_SAMPLER)
    if seed is not None:
        sampler = dataclasses.replace(sampler, seed=seed)
    bspec = dataclasses.replace(bspec, sampler=sampler)
    records.append(StepRecord("validate", "done", time.perf_counter() - t0))

    build = render.make_build_dir(out_p)
    run_dir = build / RUN_DIR
    try:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
            console=console, transient=False,
        ) as progress:
            task = progress.add_task("data check", total=5)

            t0 = time.perf_counter()
            check = data_check(panel, data_p)
            records.append(StepRecord("data check", "done", time.perf_counter() - t0))
            progress.update(task, advance=1, description=f"GMM ({len(equations)} equations)")

            t0 = time.perf_counter()
            gmm_results, gmm_notes, gmm_failed = run_gmm(panel, equations, gmm_c)
            if equations:
                # The paper-layout tables (Tables 2-3, trend variants) beside the report.
                gmm_c["paper_tables"](data_p, build / PAPER_DIR, equations=equations,
                                      robustness=False)
            gmm_notes += [f"{k} failed: {v}" for k, v in gmm_failed.items()]
            if not equations:
                gmm_notes.append("no paper equation applies to the series in the data")
            status = "done" if not gmm_failed else f"done, {len(gmm_failed)} equation(s) failed"
            records.append(StepRecord("GMM tables", status, time.perf_counter() - t0,
                                      tuple(gmm_notes)))
            progress.update(task, advance=1, description=(
                f"Bayesian fit ({sampler.chains} chains x {sampler.draws} draws)"))

            t0 = time.perf_counter()
            fit_result = bayes_c["fit"](bspec, panel, data_sha256=check["data_sha256"],
                                        progress=False, log_prior=is_slope_prior)
            # only the slope priors are kept (element-wise, for power-scaling): every
            # random effect's and imputed cell's would add ~65 MB to posterior.nc
            # write_fit replaces its target directory, so it goes first into run/.
            bayes_c["write_fit"](fit_result, run_dir)
            records.append(StepRecord("Bayesian fit", "done", time.perf_counter() - t0))
            for name, result in gmm_results.items():
                render.write_json(run_dir / GMM_DIR / name, result)
            render.write_table(run_dir / GMM_DIR / "coefficients.csv",
                               gmm_coefficients(gmm_results))
            render.write_json(run_dir / DATA_CHECK_FILE, check)
            render.write_json(run_dir / GMM_FAILURES_FILE, gmm_failed)
            progress.update(task, advance=1, description="comparison")

            t0 = time.perf_counter()
            inputs = load_run(run_dir)
            results = evaluate_all(hset, inputs)
            render.write_table(run_dir / "hypotheses.csv", claims_table(results))
            records.append(StepRecord("comparison", "done", time.perf_counter() - t0))
            progress.update(task, advance=1, description="reports")

            t0 = time.perf_counter()
            manifest = {
                "package_version": __version__,
                "data": _shown(data_p),
                "spec": _shown(spec_p),
                "hypotheses": _shown(hyp_p),
                "quick": quick,
                "seed": sampler.seed,
                "sampler": dataclasses.asdict(sampler),
                "steps": [dataclasses.asdict(r) for r in records],
            }
            render.write_json(run_dir / "manifest.json", manifest)
            inputs = load_run(run_dir)
            title = "Korean outward FDI: Bayesian models vs system GMM"
            if quick:
                title += " (quick smoke run: too few draws to interpret)"
            paths = render.write_report(inputs, hset, results, build, name=out_p.name,
                                        title=title)
            records.append(StepRecord("reports", "done", time.perf_counter() - t0))
            progress.update(task, advance=1, description="done")
        render.publish_dir(build, out_p, overwrite=overwrite)
    except BaseException:
        render.discard_dir(build)
        raise
    total = time.perf_counter() - t_start
    return ReproduceResult(
        out=out_p,
        html=out_p / paths.html.name,
        markdown=out_p / paths.markdown.name,
        steps=tuple(records),
        seconds=total,
    )
