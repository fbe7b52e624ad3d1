"""Write a rendered report, and re-render one from a run directory already on disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bayes_kfdi import writer
from bayes_kfdi.jobs.common import file_facts
from bayes_kfdi.report.hypothesis import HypothesisSet, evaluate_all
from bayes_kfdi.report.inputs import load_run
from bayes_kfdi.report.render import (
    DEFAULT_TITLE,
    FIGURE_DIR,
    HTML_NAME,
    MARKDOWN_NAME,
    RenderedReport,
    render_report,
)

__all__ = ["ReportPaths", "rerender", "write_rendered"]

#: Sibling folder whose ``table*.html`` files (paper layout) the report links to.
PAPER_TABLES_DIR = "paper"


@dataclass(frozen=True, slots=True)
class ReportPaths:
    """Files written by :func:`write_rendered`."""

    directory: Path
    html: Path
    markdown: Path
    figures: tuple[Path, ...]


def write_rendered(
    rendered: RenderedReport,
    out_dir: str | Path,
    *,
    html_name: str = HTML_NAME,
    markdown_name: str = MARKDOWN_NAME,
) -> ReportPaths:
    """Write ``report.html``, ``report.md`` and ``figures/<stem>.png`` into ``out_dir``."""
    out = Path(out_dir)
    figs = tuple(writer.write_bytes(out / FIGURE_DIR / f"{k}.png", png)
                 for k, png in rendered.figures.items())
    html = writer.write_text(out / html_name, rendered.html)
    md = writer.write_text(out / markdown_name, rendered.markdown)
    return ReportPaths(out, html, md, figs)


def rerender(
    run_dir: str | Path,
    out_dir: str | Path,
    *,
    hypotheses: HypothesisSet,
    name: str,
    title: str = DEFAULT_TITLE,
) -> ReportPaths:
    """Read a run directory back, evaluate the hypotheses and write the report.

    Parameters
    ----------
    run_dir : str or Path
        Run directory (see :mod:`bayes_kfdi.report.inputs`).
    out_dir : str or Path
        Where to write; created if absent, existing report files replaced. A directory
        whose marker listed every file keeps an up-to-date marker.
    hypotheses : HypothesisSet
        From :func:`bayes_kfdi.report.load_hypotheses`.
    name, title : str
        Shown in the header.

    Returns
    -------
    ReportPaths
    """
    run_dir, out = Path(run_dir), Path(out_dir)
    inputs = load_run(run_dir)
    results = evaluate_all(hypotheses, inputs)
    paper = out / PAPER_TABLES_DIR
    links = [p.relative_to(out).as_posix() for p in paper.glob("table*.html")] \
        if paper.is_dir() else []
    rendered = render_report(inputs, hypotheses, results, name=name, title=title,
                             sources=file_facts(run_dir, out), paper_tables=links)
    # a published output stays replaceable by --overwrite when it held only our files
    remark = (out / writer.MARKER).is_file() and not writer.foreign_files(out)
    paths = write_rendered(rendered, out)
    if remark:
        writer.mark_output_dir(out, adopt=True)
    return paths
