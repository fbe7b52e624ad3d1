"""Render the report to HTML and Markdown strings and PNG figures; nothing is written.

The HTML file is self-contained: figures are embedded as base64 PNG, styles are inline,
nothing is fetched. Every user-supplied string (hypothesis text, series and country
names, file names) passes through jinja2's autoescape in HTML and through
:func:`md_escape` in Markdown.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jinja2
import pandas as pd
from matplotlib.figure import Figure  # type of every report figure

from bayes_kfdi import __version__
from bayes_kfdi.formatting import format_number, md_escape
from bayes_kfdi.report import figures, tables
from bayes_kfdi.report.hypothesis import HypothesisResult, HypothesisSet, psense_status
from bayes_kfdi.report.inputs import RunInputs, slope_path, slope_prior_names

__all__ = [
    "RenderedReport",
    "render_report",
    "report_context",
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
DEFAULT_TITLE = "Korean outward FDI: Bayesian models vs system GMM"


@dataclass(frozen=True, slots=True)
class RenderedReport:
    """A rendered report: the two documents and the figures as PNG bytes by file stem."""

    html: str
    markdown: str
    figures: dict[str, bytes]


def template_env() -> jinja2.Environment:
    """Return the report's jinja2 environment (package templates, autoescape, filters).

    Templates named ``*.html.j2`` are autoescaped; ``*.md.j2`` templates use the ``md``
    filter for user strings. Undefined variables raise.
    """
    return _env()


def figure_png(fig: Figure, dpi: int = FIGURE_DPI) -> bytes:
    """Render a Figure to PNG bytes (at :data:`FIGURE_DPI` unless given) and close it."""
    return _png(fig, dpi)


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


def _png(fig: Figure, dpi: int = FIGURE_DPI) -> bytes:
    """Render a Figure to PNG bytes and close it."""
    import matplotlib.pyplot as plt  # figures are matplotlib Figures (arviz-plots' backend too)

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [dict(zip(frame.columns, row, strict=True)) for row in frame.itertuples(index=False)]


def simulation_facts(inputs: RunInputs) -> dict[str, Any] | None:
    """Return what the banner says when the data were simulated (a truth file exists)."""
    t = inputs.truth
    if not t:
        return None
    fb = t.get("feedback")
    fb = fb.get("coefficient") if isinstance(fb, Mapping) else fb
    return {
        "dgp": str(t.get("dgp", "")),
        "seed": t.get("seed"),
        "censored": t.get("censored"),
        "feedback": fb if isinstance(fb, int | float) and fb else None,
        "unit_value_scale": t.get("unit_value_scale"),
        "data_file": inputs.data_check.get("data_file", ""),
    }


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
                "summary_lines": [ln for ln in text_lines[1:]
                                  if not ln.startswith(("- ", "Power on this design"))],
                "power": r.power,
                "source": r.hypothesis.source,
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
        wt, wage_notes = tables.wage_effect_table(inputs, w, st.ci_prob,
                                                      st.not_identified_sd_ratio)
        wage_rows = _records(wt)
        figs["wage_effect"] = figures.wage_effect_plot(
            wt, title=f"{w.sd_multiple:g}-sd rise in {w.term}: {w.series}"
        )
    post = inputs.posterior
    for key, make, group in (("ppc_ecdf", figures.ppc_dist_plot, "posterior_predictive"),
                             ("pareto_k", figures.pareto_k_plot, "log_likelihood")):
        if post is not None and group in post.children:
            try:
                figs[key] = make(post, title={"ppc_ecdf": "Observed vs replicated log FDI (ECDF)",
                                              "pareto_k": "PSIS-LOO Pareto k"}[key])
            except Exception:  # noqa: BLE001 - a diagnostic figure never stops the report
                pass
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
        "has_ppc_ecdf": "ppc_ecdf" in figs,
        "has_pareto_k": "pareto_k" in figs,
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
        "simulated": simulation_facts(inputs),
        "has_bayes": inputs.has_bayes,
        "has_gmm": bool(inputs.gmm),
    }
    return context, figs


def render_report(
    inputs: RunInputs,
    hypotheses: HypothesisSet,
    results: Sequence[HypothesisResult],
    *,
    name: str,
    title: str = DEFAULT_TITLE,
    sources: Sequence[Mapping[str, Any]] = (),
    paper_tables: Sequence[str] = (),
    sweep: pd.DataFrame | None = None,
) -> RenderedReport:
    """Render ``report.html``, ``report.md`` and the figures of evaluated hypotheses.

    Parameters
    ----------
    inputs : RunInputs
        The run's numbers, in memory.
    hypotheses : HypothesisSet
        The spec the results were evaluated from.
    results : sequence of HypothesisResult
        From :func:`bayes_kfdi.report.evaluate_all`.
    name, title : str
        Shown in the header.
    sources : sequence of mapping
        The run's files (``path``, ``bytes``, ``sha256``), listed in the appendix.
    paper_tables : sequence of str
        Relative links to the paper-layout tables (``paper/table2.html``, ...).
    sweep : pandas.DataFrame, optional
        The GMM instrument sweep (series, config, n_instruments, hansen_p, ar2_p, rho).

    Returns
    -------
    RenderedReport
        Nothing is written.
    """
    context, figs = report_context(inputs, hypotheses, results, name=name, title=title)
    pngs = {k: _png(f) for k, f in figs.items()}
    context["sources"] = [dict(f) for f in sources]
    context["paper_tables"] = sorted(paper_tables)
    context["sweep"] = _records(sweep) if sweep is not None and len(sweep) else []
    env = _env()
    html = env.get_template("report.html.j2").render(
        **context,
        img={k: png_data_uri(v) for k, v in pngs.items()},
    )
    md = env.get_template("report.md.j2").render(
        **context, img={k: f"{FIGURE_DIR}/{k}.png" for k in pngs}
    )
    return RenderedReport(html=html, markdown=md, figures=pngs)
