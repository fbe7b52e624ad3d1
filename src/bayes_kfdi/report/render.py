"""Render the report to HTML and Markdown. The only module of the package that writes files.

The HTML file is self-contained: figures are embedded as base64 PNG, styles are inline,
nothing is fetched. Every user-supplied string (hypothesis text, series and country
names, file names) passes through jinja2's autoescape in HTML and through
:func:`md_escape` in Markdown.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayes_kfdi import __version__
from bayes_kfdi.exceptions import OutputExistsError
from bayes_kfdi.report import figures, tables
from bayes_kfdi.report.hypothesis import (
    HypothesisResult,
    HypothesisSet,
    evaluate_all,
    psense_status,
)
from bayes_kfdi.report.inputs import RunInputs, load_run, slope_path, slope_prior_names

__all__ = [
    "ReportPaths",
    "render_report",
    "write_report",
    "write_table",
    "make_build_dir",
    "publish_dir",
    "discard_dir",
    "report_context",
    "write_json",
    "format_number",
    "md_escape",
    "template_env",
    "figure_png",
    "png_data_uri",
    "HTML_NAME",
    "MARKDOWN_NAME",
    "FIGURE_DIR",
]

HTML_NAME = "report.html"
MARKDOWN_NAME = "report.md"
FIGURE_DIR = "figures"
#: Figure resolution: 100 dpi keeps the self-contained HTML well under 2 MB.
FIGURE_DPI = 100
#: Sibling folder whose ``table*.html`` files (``bayes-kfdi paper`` layout) are linked.
PAPER_TABLES_DIR = "paper"
DEFAULT_TITLE = "Korean outward FDI: Bayesian models vs system GMM"


@dataclass(frozen=True, slots=True)
class ReportPaths:
    """Files written by :func:`render_report`."""

    directory: Path
    html: Path
    markdown: Path
    figures: tuple[Path, ...]


def format_number(value: Any, digits: int = 3) -> str:
    """Format a table cell: ``--`` for missing, integers without decimals, else fixed."""
    if value is None:
        return "--"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return "--"
        return f"{value:.{digits}f}"
    return str(value)


def md_escape(value: Any) -> str:
    """Escape a string for a Markdown table cell (HTML specials, pipes, newlines)."""
    text = str(value)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("\n", " ")):
        text = text.replace(a, b)
    return text


def template_env() -> jinja2.Environment:
    """Return the report's jinja2 environment (package templates, autoescape, filters).

    Templates named ``*.html.j2`` are autoescaped; ``*.md.j2`` templates use the ``md``
    filter for user strings. Undefined variables raise.
    """
    return _env()


def figure_png(fig: Figure) -> bytes:
    """Render a Figure to PNG bytes at :data:`FIGURE_DPI` and close it."""
    return _png(fig)


def png_data_uri(png: bytes) -> str:
    """Return a ``data:image/png;base64,...`` URI, for embedding in a self-contained page."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bayes_kfdi.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = format_number
    env.filters["md"] = md_escape
    return env


def _png(fig: Figure) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIGURE_DPI)
    plt.close(fig)
    return buf.getvalue()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [dict(zip(frame.columns, row, strict=True)) for row in frame.itertuples(index=False)]


def _file_facts(run_dir: Path, out_dir: Path) -> list[dict[str, Any]]:
    facts = []
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        try:
            shown = path.relative_to(out_dir).as_posix()
        except ValueError:
            shown = path.as_posix()
        facts.append({"path": shown, "bytes": path.stat().st_size, "sha256": digest})
    return facts


def report_context(
    inputs: RunInputs,
    hset: HypothesisSet,
    results: Sequence[HypothesisResult],
    *,
    name: str,
    title: str,
) -> tuple[dict[str, Any], dict[str, Figure]]:
    """Assemble the template context and the figures (nothing is written).

    Returns
    -------
    (context, figures)
        ``figures`` maps a file stem to a Figure; the templates refer to the stems.
    """
    st = hset.settings
    figs: dict[str, Figure] = {}
    sections = []
    for r in results:
        key = f"forest_{r.hypothesis.id}"
        figs[key] = figures.forest_plot(r.table, title=f"{r.hypothesis.id}: {r.hypothesis.title}",
                                        ci_prob=st.ci_prob)
        text_lines = r.text.split("\n")
        sections.append(
            {
                "id": r.hypothesis.id,
                "title": r.hypothesis.title,
                "statement": r.hypothesis.statement,
                "bayes_verdict": r.bayes_verdict,
                "gmm_verdict": r.gmm_verdict,
                "joint_probability": r.joint_probability,
                "summary_lines": [ln for ln in text_lines[1:] if not ln.startswith("- ")],
                "reasons": list(r.reasons),
                "rows": _records(r.table),
                "figure": key,
            }
        )
    paths = []
    seen: set[tuple[str, str]] = set()
    wanted = [(s, c.term) for r in results for c in r.hypothesis.claims for s in c.series]
    if hset.wage_effect is not None:
        wanted.insert(0, (hset.wage_effect.series, hset.wage_effect.term))
    for series, term in wanted:
        if (series, term) in seen or inputs.posterior is None:
            continue
        seen.add((series, term))
        if slope_path(inputs.posterior, series, term) is None:
            continue
        frame = tables.slope_path_frame(inputs, series, term)
        key = f"path_{series}_{term}"
        figs[key] = figures.slope_path_plot(frame, title=f"{term} slope over time: {series}")
        paths.append({"series": series, "term": term, "figure": key,
                      "has_gmm": bool(frame["gmm"].notna().any())})
    ppc = tables.ppc_frame(inputs)
    if len(ppc):
        figs["ppc"] = figures.ppc_plot(ppc, title="Posterior predictive check by series")
    wage_rows, wage_notes = [], []
    if hset.wage_effect is not None:
        w = hset.wage_effect
        wt, wage_notes = tables.wage_effect_table(inputs, w, st.ci_prob)
        wage_rows = _records(wt)
        figs["wage_effect"] = figures.wage_effect_plot(
            wt, title=f"{w.sd_multiple:g}-sd rise in {w.term}: {w.series}"
        )
    loo, loo_note = tables.loo_table(inputs)
    conv = tables.convergence_table(inputs)
    problems = [
        f"{r.metric} = {format_number(r.value)} (threshold {format_number(r.threshold)})"
        for r in conv.itertuples(index=False) if not r.ok
    ]
    if inputs.posterior is not None and inputs.posterior.attrs.get("convergence_problems"):
        problems.append(str(inputs.posterior.attrs["convergence_problems"]))
    context = {
        "name": name,
        "title": title,
        "version": __version__,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "settings": st,
        "ci_pct": f"{st.ci_prob:.0%}",
        "hypotheses_source": hset.source,
        "overview": _records(tables.overview_table(results)),
        "sections": sections,
        "paths": paths,
        "ppc": _records(ppc),
        "has_ppc": "ppc" in figs,
        "wage": hset.wage_effect,
        "wage_rows": wage_rows,
        "wage_notes": wage_notes,
        "has_wage": "wage_effect" in figs,
        "convergence": _records(conv),
        "convergence_problems": problems,
        "prior_vars": list(slope_prior_names(inputs.posterior)) if inputs.posterior is not None
        else [],
        "worst": _records(tables.worst_parameters(inputs)),
        "loo": _records(loo),
        "loo_note": loo_note,
        "psense_note": psense_status(inputs.posterior),
        "gmm_diag": _records(tables.gmm_diagnostics_table(inputs)),
        "gmm_failures": dict(inputs.gmm_failures),
        "data_check": dict(inputs.data_check),
        "has_bayes": inputs.has_bayes,
        "has_gmm": bool(inputs.gmm),
    }
    return context, figs


def write_json(path: str | Path, obj: Mapping[str, Any]) -> Path:
    """Write a JSON document (UTF-8, sorted keys, NaN as null) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def clean(v: Any) -> Any:
        if isinstance(v, float | np.floating):
            return None if math.isnan(v) else float(v)
        if isinstance(v, np.integer):
            return int(v)
        if isinstance(v, Mapping):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    path.write_text(json.dumps(clean(obj), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def write_report(
    inputs: RunInputs,
    hypotheses: HypothesisSet,
    results: Sequence[HypothesisResult],
    out_dir: str | Path,
    *,
    name: str,
    title: str = DEFAULT_TITLE,
) -> ReportPaths:
    """Write ``report.html``, ``report.md`` and ``figures/*.png`` for evaluated hypotheses.

    Parameters
    ----------
    inputs : RunInputs
        The run directory's contents (:func:`bayes_kfdi.report.load_run`).
    hypotheses : HypothesisSet
        The spec the results were evaluated from.
    results : sequence of HypothesisResult
        From :func:`bayes_kfdi.report.evaluate_all`.
    out_dir : str or Path
        Directory to write into; created if absent. Existing report files are replaced.
    name : str
        Report name shown in the header.
    title : str
        Report title.

    Returns
    -------
    ReportPaths
    """
    out_dir = Path(out_dir)
    context, figs = report_context(inputs, hypotheses, results, name=name, title=title)
    pngs = {k: _png(f) for k, f in figs.items()}
    fig_dir = out_dir / FIGURE_DIR
    fig_dir.mkdir(parents=True, exist_ok=True)
    fig_paths = []
    for key, data in pngs.items():
        p = fig_dir / f"{key}.png"
        p.write_bytes(data)
        fig_paths.append(p)
    context["sources"] = _file_facts(inputs.run_dir, out_dir)
    paper_dir = out_dir / PAPER_TABLES_DIR
    context["paper_tables"] = (
        sorted(p.relative_to(out_dir).as_posix() for p in paper_dir.glob("table*.html"))
        if paper_dir.is_dir() else []
    )
    env = _env()
    html = env.get_template("report.html.j2").render(
        **context,
        img={k: png_data_uri(v) for k, v in pngs.items()},
    )
    md = env.get_template("report.md.j2").render(
        **context, img={k: f"{FIGURE_DIR}/{k}.png" for k in pngs}
    )
    html_path, md_path = out_dir / HTML_NAME, out_dir / MARKDOWN_NAME
    _atomic_write(html_path, html)
    _atomic_write(md_path, md)
    return ReportPaths(out_dir, html_path, md_path, tuple(fig_paths))


def render_report(
    run_dir: str | Path,
    out_dir: str | Path,
    *,
    hypotheses: HypothesisSet,
    name: str,
    title: str = DEFAULT_TITLE,
) -> ReportPaths:
    """Load a run directory, evaluate the hypotheses and write the report.

    Parameters
    ----------
    run_dir : str or Path
        Run directory (see :mod:`bayes_kfdi.report.inputs`).
    out_dir : str or Path
        Where to write (see :func:`write_report`).
    hypotheses : HypothesisSet
        From :func:`bayes_kfdi.report.load_hypotheses`.
    name, title : str
        Shown in the header.

    Returns
    -------
    ReportPaths
    """
    inputs = load_run(run_dir)
    results = evaluate_all(hypotheses, inputs)
    return write_report(inputs, hypotheses, results, out_dir, name=name, title=title)


def write_table(path: str | Path, frame: pd.DataFrame) -> Path:
    """Write a tidy table as CSV (full float precision) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.10g")
    return path


def make_build_dir(target: str | Path) -> Path:
    """Create an empty hidden directory next to ``target`` to build it in.

    Building beside the target keeps both on one file system, so
    :func:`publish_dir` can swap them with ``os.replace``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.build-", dir=target.parent))


def publish_dir(build: str | Path, target: str | Path, *, overwrite: bool) -> Path:
    """Move a finished build directory to ``target``, replacing it only if allowed.

    The previous ``target`` is first renamed aside, then the build takes its place,
    then the old copy is deleted; if the swap fails the old copy is moved back. The
    target is therefore never half-written.

    Raises
    ------
    OutputExistsError
        If ``target`` exists and ``overwrite`` is False.
    """
    build, target = Path(build), Path(target)
    if target.exists() and not overwrite:
        raise OutputExistsError(
            f"output directory {target} already exists; expected a new directory; pass "
            "--overwrite to replace it or choose another --out"
        )
    # mkdtemp makes 0700 directories; publish with the permissions of a normal mkdir.
    umask = os.umask(0)
    os.umask(umask)
    for d in (build, *(p for p in build.rglob("*") if p.is_dir())):
        os.chmod(d, 0o777 & ~umask)
    aside = None
    if target.exists():
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, aside / "previous")
    try:
        os.replace(build, target)
    except BaseException:
        if aside is not None:
            os.replace(aside / "previous", target)
            shutil.rmtree(aside, ignore_errors=True)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    return target


def discard_dir(path: str | Path) -> None:
    """Delete a build directory (after a failed or interrupted run)."""
    shutil.rmtree(Path(path), ignore_errors=True)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
