"""Command-line interface: argument parsing and calls into the library, no logic.

A user error (any :class:`~bayes_kfdi.exceptions.BayesKfdiError`) becomes one line on
stderr and exit code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bayes_kfdi.exceptions import BayesKfdiError

app = typer.Typer(
    name="bayes-kfdi",
    help="Dynamic panel models of FDI: xtabond2-compatible system GMM and PyMC models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Inspect and validate panel data files.", no_args_is_help=True)
app.add_typer(data_app, name="data")

#: Piped output (a file, a pager) is not cut to 80 columns; a terminal keeps its own width.
console = Console(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 200)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

_STATE = {"debug": False}

DataOpt = Annotated[Path, typer.Option("--data", help="Panel file: CSV, Parquet, .dta or Excel.")]
MapOpt = Annotated[
    list[str] | None,
    typer.Option("--map", help="Rename a column, OLD=NEW; repeat for several."),
]
OverwriteOpt = Annotated[
    bool,
    typer.Option("--overwrite", help="Replace an output bayes-kfdi wrote earlier (never "
                 "other files)."),
]
#: Longest error line printed, ``error: `` included; the sources cut echoed values, this
#: is the last resort.
MAX_MESSAGE = 299


def _data(path: Path | None) -> Path | None:
    from bayes_kfdi.resources import resolve_data

    return None if path is None else resolve_data(path)


def _spec(path: Path | None) -> Path | None:
    from bayes_kfdi.resources import resolve_spec

    return None if path is None else resolve_spec(path)


def _error_line(exc: BaseException | str) -> str:
    """Return ``error: <message>`` on one line of at most :data:`MAX_MESSAGE` characters."""
    text = "error: " + (" ".join(str(exc).split()) or type(exc).__name__)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _STATE["debug"] = debug


def _frame_table(df, title: str) -> Table:
    table = Table(title=title, show_lines=False)
    for col in df.columns:
        table.add_column(str(col), justify="right" if df[col].dtype.kind in "fiu" else "left")
    for row in df.itertuples(index=False):
        table.add_row(
            *[
                ("" if v != v else f"{v:.4g}") if isinstance(v, float) else str(v)
                for v in row
            ]
        )
    return table


@data_app.command("validate")
def data_validate(data: DataOpt, mapping: MapOpt = None) -> None:
    """Check a panel file against the canonical schema and report its shape."""
    from bayes_kfdi.data import parse_mapping, read_panel

    panel = read_panel(_data(data), mapping=parse_mapping(mapping or []))
    bal = panel.balance()
    console.print(
        f"[green]valid[/green] {data}: {panel.nobs} rows, {len(bal)} units, "
        f"{int(bal['n_gaps'].sum())} gap years, {int((~bal['balanced']).sum())} unbalanced units"
    )
    console.print(_frame_table(panel.missingness(), "Missing values"))


@data_app.command("describe")
def data_describe(data: DataOpt, mapping: MapOpt = None) -> None:
    """Print summary statistics in the layout of the paper's Table 4."""
    from bayes_kfdi.constants import PAPER_SERIES
    from bayes_kfdi.data import parse_mapping, read_panel
    from bayes_kfdi.data.paper import compare_table4, format_table4_comparison, is_paper_shaped

    panel = read_panel(_data(data), mapping=parse_mapping(mapping or []))
    if is_paper_shaped(panel):
        table = compare_table4(panel)
        console.print(
            _frame_table(format_table4_comparison(table), f"Table 4, paper / ours: {data}")
        )
        bad = table[table["within_tol"].fillna(True) == False]  # noqa: E712
        console.print(
            f"calibrated rows within 15% of the paper (mean, sd, min): "
            f"{int(table['within_tol'].sum())}/{int(table['calibrated'].sum())}"
            + (f"; outside: {', '.join(bad['variable'] + '/' + bad['sector'])}" if len(bad) else "")
        )
        return
    table = panel.describe()
    if not set(panel.series) <= set(PAPER_SERIES):  # e.g. one series per source economy
        table = table.rename(columns={"sector": "series"})
    console.print(_frame_table(table, f"Summary statistics: {data}"))


@app.command("simulate")
def simulate(
    out: Annotated[
        Path, typer.Option("--out", help="Output CSV; the truth goes to <stem>.truth.json.")
    ],
    seed: Annotated[
        int | None, typer.Option("--seed", help="RNG seed; default: the shipped panel's seed.")
    ] = None,
    no_floor: Annotated[
        bool, typer.Option("--no-floor", help="Keep the latent outcome: no censoring at log(3).")
    ] = False,
    overwrite: OverwriteOpt = False,
) -> None:
    """Simulate the semi-synthetic Korean panel (6 series x 33 hosts x 1988-2014)."""
    from bayes_kfdi.jobs.simulate import simulate_job

    sim, csv, truth = simulate_job(out, seed=seed, floor=not no_floor, overwrite=overwrite)
    console.print(f"wrote {csv} ({len(sim.frame)} rows) and {truth}", markup=False)


@app.command("gmm")
def gmm(
    data: DataOpt,
    entity: Annotated[
        str | None, typer.Option("--entity", help="Group column(s); comma-separate several.")
    ] = None,
    time: Annotated[str | None, typer.Option("--time", help="Integer period column.")] = None,
    cmd: Annotated[
        str | None,
        typer.Option("--cmd", help='xtabond2 command, e.g. "xtabond2 n L.n w, gmm(L.n)".'),
    ] = None,
    spec: Annotated[
        Path | None, typer.Option("--spec", help="TOML model spec (instead of --cmd).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write results as JSON (docs/contracts.md).")
    ] = None,
    mapping: MapOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Difference/system GMM with xtabond2 syntax; prints the table, optionally writes JSON.

    On a canonical panel --entity and --time default to country (series,country when
    the file holds several series) and year.
    """
    from bayes_kfdi.jobs.gmm import run_gmm_command

    res, warns = run_gmm_command(
        data=_data(data), entity=entity, time=time, cmd=cmd, spec=_spec(spec),
        json_out=json_out, mapping=mapping, overwrite=overwrite,
    )
    for w in warns:
        err_console.print(f"warning: {w}", markup=False)
    console.print(res.summary(), markup=False, highlight=False, soft_wrap=True)
    if json_out is not None:
        console.print(f"wrote {json_out}", markup=False)


@app.command("paper")
def paper(
    data: DataOpt,
    out: Annotated[Path, typer.Option("--out", help="Output folder for tables, JSON and figures.")],
    no_robustness: Annotated[
        bool, typer.Option("--no-robustness", help="Skip the section 6 robustness checks.")
    ] = False,
    overwrite: OverwriteOpt = False,
) -> None:
    """Reproduce the paper's Tables 2 and 3, trend interactions and robustness checks."""
    from bayes_kfdi.jobs.paper import paper_job

    res = paper_job(_data(data), out, robustness=not no_robustness, overwrite=overwrite)
    for name, er in res.run.runs.items():
        if er.error:
            err_console.print(f"warning: {name}: {er.error}", markup=False)
    console.print(f"wrote {len(res.files)} files to {out} in {res.seconds:.1f} s", markup=False)


@app.command("fit")
def fit_cmd(
    data: DataOpt,
    spec: Annotated[
        Path, typer.Option("--spec", help="Model spec TOML or bundled name, e.g. hierarchical.")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Output directory (posterior.nc, summary.csv).")
    ],
    mapping: MapOpt = None,
    draws: Annotated[int | None, typer.Option("--draws", help="Draws per chain.")] = None,
    tune: Annotated[int | None, typer.Option("--tune", help="Tuning steps per chain.")] = None,
    chains: Annotated[int | None, typer.Option("--chains", help="Number of chains.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    sampler: Annotated[
        str | None, typer.Option("--sampler", help="nutpie (default), pymc or numpyro.")
    ] = None,
    target_accept: Annotated[
        float | None,
        typer.Option(
            "--target-accept",
            help="NUTS target acceptance in [0.5, 1); raise it (e.g. 0.95) against "
            "divergent transitions, at the cost of more steps per draw.",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with code 3 if the fit did not converge.")
    ] = False,
    overwrite: OverwriteOpt = False,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--quiet",
            help="Show draws done, divergences and time left on stderr while sampling "
            "(default: only when stderr is a terminal).",
        ),
    ] = None,
) -> None:
    """Fit a Bayesian hierarchical dynamic panel model and write DIR/posterior.nc, summary.csv."""
    from bayes_kfdi.jobs.fit import fit_job, load_fit_job

    job = load_fit_job(
        _data(data), _spec(spec), mapping=mapping,
        sampler={"draws": draws, "tune": tune, "chains": chains, "seed": seed,
                 "sampler": sampler, "target_accept": target_accept},
        out=out, overwrite=overwrite,
    )
    for note in job.notes:
        console.print(note, markup=False)
    model_spec = job.spec

    def keep(old: Path, new: Path) -> None:
        err_console.print(f"keeping the converged result in {old}; this unconverged fit goes "
                          f"to {new}")

    console.print(
        f"[bold]fitting {model_spec.name}[/bold] ({model_spec.likelihood}, "
        f"{model_spec.sampler.sampler}, {model_spec.sampler.chains}x{model_spec.sampler.draws} "
        "draws): compiling and sampling"
    )
    result, target = fit_job(job, out, overwrite=overwrite, on_keep=keep, progress=progress)
    beta = result.posterior_summary[result.posterior_summary["parameter"].isin(["rho", "beta"])]
    console.print(
        _frame_table(
            beta[["parameter", "series", "term", "mean", "sd", "hdi_low", "hdi_high", "r_hat",
                  "ess_bulk"]],
            f"Posterior summary ({model_spec.name}; 90% HDI)",
        )
    )
    t = result.timings
    console.print(
        f"compile {t.get('compile', 0):.1f}s, sample {t.get('sample', 0):.1f}s, "
        f"post-process {t.get('postprocess', 0):.1f}s; wrote {target}/posterior.nc, summary.csv"
    )
    if result.diagnostics.converged:
        console.print(f"[green]{result.diagnostics.describe()}[/green]")
    else:
        err_console.print(
            f"[bold red]WARNING: {result.diagnostics.describe()}. DO NOT USE these estimates."
            "[/bold red]",
            markup=True,
        )
        if strict:
            raise typer.Exit(3)


@app.command("compare")
def compare_cmd(
    dirs: Annotated[list[Path], typer.Argument(help="Fit directories written by `fit --out`.")],
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also write arviz-plots' comparison plot to this PNG."),
    ] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Compare fitted variants by ELPD-LOO with Pareto-k diagnostics."""
    from bayes_kfdi.jobs.compare import compare_job

    table = compare_job(dirs, plot=plot, overwrite=overwrite)
    console.print(_frame_table(table, "ELPD-LOO comparison (higher elpd is better)"))
    if plot is not None:
        err_console.print(f"wrote {plot}")


@app.command("reproduce")
def reproduce_cmd(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Panel file or bundled name; default: korea_semisynthetic."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Report directory; default: reports/latest.")
    ] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Smoke run: short chains.")] = False,
    overwrite: OverwriteOpt = False,
    spec: Annotated[
        Path | None,
        typer.Option("--spec", help="Bayesian model spec or bundled name; default: hierarchical."),
    ] = None,
    hypotheses: Annotated[
        Path | None,
        typer.Option("--hypotheses", help="Hypotheses spec; default: the bundled hypotheses."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Sampler seed.")] = None,
) -> None:
    """Run the main job: data check, GMM, Bayesian fit, comparison, HTML + Markdown report."""
    from bayes_kfdi.jobs.reproduce import reproduce

    res = reproduce(_data(data), out, quick=quick, overwrite=overwrite, spec=_spec(spec), seed=seed,
                    hypotheses=hypotheses, console=err_console)
    for step in res.steps:
        console.print(f"{step.name}: {step.status} ({step.seconds:.1f} s)", markup=False)
    console.print(f"wrote {res.html} and {res.markdown} in {res.seconds:.1f} s", markup=False)


def main() -> None:
    """Console-script entry point with user-error handling."""
    debug = "--debug" in sys.argv[1:]
    try:
        app(standalone_mode=False)
    except BayesKfdiError as exc:
        if debug:
            raise
        err_console.print(_error_line(exc), markup=False)
        raise SystemExit(2) from None
    except typer.Abort:
        err_console.print("aborted", markup=False)
        raise SystemExit(130) from None
    except Exception as exc:
        # typer vendors click; its usage errors carry exit_code and format_message.
        code = getattr(exc, "exit_code", None)
        if code is None or debug:
            raise
        if type(exc).__name__ == "NoArgsIsHelpError":
            app(["--help"], standalone_mode=True)
        message = getattr(exc, "format_message", None)
        if message is not None and code != 0:
            err_console.print(_error_line(message()), markup=False)
            raise SystemExit(2) from None
        raise SystemExit(code) from None


if __name__ == "__main__":
    main()
