"""Command-line interface: argument parsing and calls into the library, no logic.

A user error (any :class:`~bayes_kfdi.exceptions.BayesKfdiError`) becomes one line on
stderr and exit code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

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

console = Console()
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

_STATE = {"debug": False}

DataOpt = Annotated[Path, typer.Option("--data", help="Panel file: CSV, Parquet, .dta or Excel.")]
MapOpt = Annotated[
    list[str] | None,
    typer.Option("--map", help="Rename a column, OLD=NEW; repeat for several."),
]


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

    panel = read_panel(data, mapping=parse_mapping(mapping or []))
    bal = panel.balance()
    console.print(
        f"[green]valid[/green] {data}: {panel.nobs} rows, {len(bal)} units, "
        f"{int(bal['n_gaps'].sum())} gap years, {int((~bal['balanced']).sum())} unbalanced units"
    )
    console.print(_frame_table(panel.missingness(), "Missing values"))


@data_app.command("describe")
def data_describe(data: DataOpt, mapping: MapOpt = None) -> None:
    """Print summary statistics in the layout of the paper's Table 4."""
    from bayes_kfdi.data import parse_mapping, read_panel

    panel = read_panel(data, mapping=parse_mapping(mapping or []))
    console.print(_frame_table(panel.describe(), f"Summary statistics: {data}"))


def main() -> None:
    """Console-script entry point with user-error handling."""
    debug = "--debug" in sys.argv[1:]
    try:
        app(standalone_mode=False)
    except BayesKfdiError as exc:
        if debug:
            raise
        err_console.print(f"error: {exc}", markup=False)
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
            err_console.print(f"error: {message()}", markup=False)
            raise SystemExit(2) from None
        raise SystemExit(code) from None

if __name__ == "__main__":
    main()
