"""The multi-source job, and the one place a ``[multisource]`` spec changes what runs.

Layout written to ``OUT``::

    report.html  report.md  figures/forest.png  figures/contrasts.png
    run/summary.csv  run/posterior.nc  run/ppc.csv  run/diagnostics.json   (pooled fit)
    run/selection.csv  run/filters.csv  run/slopes.csv  run/contrasts.csv  run/h1.csv
    run/loo_pooled_vs_separate.csv  run/separate_diagnostics.json
    run/gmm/<source>.json  run/gmm/coefficients.csv  run/gmm/skipped.json
    run/manifest.json  run/report_context.json
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from bayes_kfdi import __version__, writer
from bayes_kfdi.data.readers import read_panel
from bayes_kfdi.jobs.common import check_data, check_new_output, check_seed
from bayes_kfdi.jobs.fitdir import write_fit_files
from bayes_kfdi.jobs.report import write_rendered
from bayes_kfdi.multisource.analysis import gmm_table
from bayes_kfdi.multisource.pipeline import (
    QUICK_SAMPLER,
    MultiSourceResult,
    run_multisource,
    select,
)
from bayes_kfdi.multisource.spec import (
    MultiSourceSpec,
    is_multisource_spec,
    load_multisource_spec,
)
from bayes_kfdi.report.multisource import render_multisource
from bayes_kfdi.resources import resolve_data

__all__ = ["multisource_spec", "reproduce_multisource", "write_run"]

RUN_DIR = "run"
#: Tables are written with ten significant digits.
FLOAT_FORMAT = "%.10g"


def multisource_spec(spec: str | Path | None) -> MultiSourceSpec | None:
    """Return the spec's ``[multisource]`` reading, or None for a plain Bayesian spec.

    Every command that takes ``--spec`` asks here, so a multi-source spec switches the
    job (``reproduce``) or the fitted data (``fit``) in one place.
    """
    if spec is None or not is_multisource_spec(spec):
        return None
    return load_multisource_spec(spec)


def write_run(res: MultiSourceResult, run_dir: str | Path, manifest: dict[str, Any]) -> Path:
    """Write the tidy tables, GMM JSON and manifest into ``run_dir``."""
    run = Path(run_dir)
    writer.write_csv(run / "selection.csv", res.selection.table(), float_format=FLOAT_FORMAT)
    writer.write_csv(run / "filters.csv", res.selection.filter_table())
    writer.write_csv(run / "slopes.csv", res.slopes, float_format=FLOAT_FORMAT)
    writer.write_csv(run / "contrasts.csv", res.contrasts, float_format=FLOAT_FORMAT)
    writer.write_csv(run / "h1.csv", res.h1, float_format=FLOAT_FORMAT)
    if res.loo is not None:
        writer.write_csv(run / "loo_pooled_vs_separate.csv", res.loo, float_format=FLOAT_FORMAT)
    if res.separate is not None:
        writer.write_json(run / "separate_diagnostics.json",
                          res.separate.diagnostics.to_attrs(), sort_keys=True)
    if res.gmm is not None:
        for s, r in res.gmm.results.items():
            writer.write_json(run / "gmm" / f"{s}.json", r, sort_keys=True)
        writer.write_json(run / "gmm" / "skipped.json", res.gmm.skipped, sort_keys=True)
        writer.write_csv(run / "gmm" / "coefficients.csv",
                         gmm_table(res.gmm, res.pooled.posterior_summary["term"].unique()),
                         float_format=FLOAT_FORMAT)
    writer.write_json(run / "manifest.json",
                      {**manifest, "dropped_sources": res.selection.dropped_sources,
                       "sources": list(res.selection.sources),
                       "hosts": list(res.selection.hosts),
                       "excluded_conduits": list(res.selection.excluded_conduits)},
                      sort_keys=True)
    return run


def reproduce_multisource(
    data: str | Path | None,
    out: str | Path,
    spec: str | Path,
    *,
    quick: bool = False,
    overwrite: bool = False,
    seed: int | None = None,
    console: Console | None = None,
) -> Path:
    """Run the multi-source job and publish ``out`` (report.html, report.md, run/).

    ``data`` None reads the spec's ``[multisource] data`` (default the shipped
    bilateral panel ``ofdi_bilateral``).

    Raises
    ------
    OutputExistsError, DataError, SpecificationError
        Before any fitting, when an input is invalid.
    """
    t_start = time.perf_counter()
    out_p, spec_p = Path(out), Path(spec)
    data_p = Path(data) if data is not None else resolve_data(load_multisource_spec(spec_p).data)
    console = console or Console(stderr=True)
    check_new_output(out_p, overwrite, [("data file", data_p), ("spec", spec_p)])
    check_data(data_p)
    check_seed(seed)
    mspec = load_multisource_spec(spec_p)
    sampler = mspec.model.sampler
    if quick:
        sampler = dataclasses.replace(sampler, **QUICK_SAMPLER)
    if seed is not None:
        sampler = dataclasses.replace(sampler, seed=seed)
    mspec = dataclasses.replace(mspec, model=dataclasses.replace(mspec.model, sampler=sampler))
    panel = read_panel(data_p)
    select(panel.frame, mspec)  # fail before sampling
    sha = hashlib.sha256(data_p.read_bytes()).hexdigest()
    console.print(f"[bold]multi-source job[/bold]: {data_p.name}, spec {spec_p.name}"
                  + (" (quick)" if quick else ""))
    res = run_multisource(panel.frame, mspec, data_sha256=sha)
    total = time.perf_counter() - t_start
    manifest: dict[str, Any] = {
        "package_version": __version__, "data": str(data_p), "data_sha256": sha,
        "spec": str(spec_p), "reference": mspec.selection.reference, "quick": quick,
        "include_conduits": mspec.selection.include_conduits,
        "missing_trade": mspec.selection.missing_trade,
        "likelihood": mspec.model.likelihood, "terms": list(mspec.model.terms or ()),
        "seed": sampler.seed,
        "sampler": dataclasses.asdict(sampler), "seconds": {**res.seconds, "total": total},
    }
    rendered, context = render_multisource(res, name=out_p.name, quick=quick,
                                           manifest=manifest)
    build = writer.make_build_dir(out_p)
    try:
        write_fit_files(res.pooled, build / RUN_DIR)
        write_run(res, build / RUN_DIR, manifest)
        writer.write_json(build / RUN_DIR / "report_context.json", context)
        write_rendered(rendered, build)
        writer.publish_dir(build, out_p, overwrite=overwrite)
    except BaseException:
        writer.discard_dir(build)
        raise
    console.print(f"report written to {out_p} in {total:.0f} s "
                  f"(converged: {res.pooled.diagnostics.converged})")
    return out_p
