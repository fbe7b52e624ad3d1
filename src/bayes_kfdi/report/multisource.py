"""Render the multi-source report from a :class:`MultiSourceResult` (nothing is written).

The report is one Markdown file, one self-contained HTML file and ``figures/*.png``.
The HTML is the jinja2 template ``report/templates/multisource.html.j2`` rendered with
the Korean report's environment (:func:`bayes_kfdi.report.render.template_env`:
autoescape, since source and host codes come from user data), with the figures of
:mod:`bayes_kfdi.report.figures` embedded as base64 PNG. Every number shown is read
from a table that is also written to ``run/``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from scipy import stats

from bayes_kfdi import __version__
from bayes_kfdi.constants import CI_PROB, ESS_MIN, RHAT_MAX
from bayes_kfdi.formatting import format_number, md_table
from bayes_kfdi.multisource.panel import conduit_reason
from bayes_kfdi.multisource.pipeline import MultiSourceResult
from bayes_kfdi.report import figures
from bayes_kfdi.report import render as report_render
from bayes_kfdi.report.render import RenderedReport

__all__ = ["render_multisource", "per_source_tables", "report_figures", "html_context"]

HTML_NAME, MARKDOWN_NAME = "report.html", "report.md"
HTML_TEMPLATE = "multisource.html.j2"
FIGURE_DIR = report_render.FIGURE_DIR
#: Normal quantile for the GMM interval at the report's CI_PROB (two-sided).
GMM_Z = float(stats.norm.ppf(0.5 + CI_PROB / 2))
#: Rows of the "largest R-hat" table in the diagnostics appendix.
N_WORST = 10


def per_source_tables(res: MultiSourceResult) -> dict[str, pd.DataFrame]:
    """One results table per source: Bayesian slope, contrast vs reference, GMM.

    Columns: the slope table's (``term, mean, sd, hdi_low, hdi_high, p_positive``), then
    ``diff_vs_ref, diff_hdi_low, diff_hdi_high, p_greater_than_ref`` (NaN for the reference) and,
    when GMM was run, ``gmm_coef, gmm_se, gmm_ci_low, gmm_ci_high`` (coef -/+ GMM_Z se;
    NaN where the source has no GMM estimate).
    """
    out = {}
    con = res.contrasts.set_index(["source", "term"])
    gmm = (
        pd.DataFrame(
            [{"source": s, "term": t, "gmm_coef": r["coef"].get(t), "gmm_se": r["se"].get(t)}
             for s, r in res.gmm.results.items() for t in r["coef"]]
        ).set_index(["source", "term"])
        if res.gmm is not None and res.gmm.results
        else None
    )
    for s in res.selection.sources:
        t = res.slopes.loc[res.slopes["source"] == s].copy()
        nan = float("nan")
        t["diff_vs_ref"] = [con["mean"].get((s, k), nan) for k in t["term"]]
        t["diff_hdi_low"] = [con["hdi_low"].get((s, k), nan) for k in t["term"]]
        t["diff_hdi_high"] = [con["hdi_high"].get((s, k), nan) for k in t["term"]]
        t["p_greater_than_ref"] = [con["p_greater"].get((s, k), nan) for k in t["term"]]
        if gmm is not None:
            t["gmm_coef"] = pd.to_numeric(
                pd.Series([gmm["gmm_coef"].get((s, k), nan) for k in t["term"]],
                          index=t.index), errors="coerce")
            t["gmm_se"] = pd.to_numeric(
                pd.Series([gmm["gmm_se"].get((s, k), nan) for k in t["term"]],
                          index=t.index), errors="coerce")
            t["gmm_ci_low"] = t["gmm_coef"] - GMM_Z * t["gmm_se"]
            t["gmm_ci_high"] = t["gmm_coef"] + GMM_Z * t["gmm_se"]
        out[s] = t.drop(columns=["source"]).reset_index(drop=True)
    return out


_MD = """# {{ title }}

{% if quick %}**Quick smoke run: too few draws to interpret.**
{% endif %}{% if not converged %}**WARNING: the pooled fit did NOT converge
({{ problems }}). Do not use its numbers.**
{% endif %}
**{{ data_statement }}**

Data: `{{ data }}`; {{ n_rows }} rows, {{ n_sources }} sources, {{ n_hosts }} hosts.
Sources: {{ sources_list }}. Hosts: {{ hosts_list }}.
{{ conduit_line }}
{{ trade_line }}
{{ outcome_line }}
Pooled model: {{ model }} ({{ chains }} chains x {{ draws }} draws).
Diagnostics: max R-hat {{ rhat }}, min ESS bulk {{ ess }}, divergences {{ div }}.
{{ separate_line }}
{% for s, why in dropped.items() %}
- source {{ s }} left out: {{ why }}{% endfor %}

## Sources

Shares of each source's rows: `floor_share` at the floor code, split into net
disinvestment (`negative_share`) and zero flows (`zero_share`); unreported flows are
absent rows, not floor-coded; `trade_missing_share` is imputed by the model.

{{ selection }}

Filters, in order (rows removed):

{{ filters }}

![Slopes by source]({{ figures.forest }})

![Difference from {{ reference }}]({{ figures.contrasts }})

## H1 by source: P(gdp slope > 0), P(gdppc slope < 0), joint

{{ h1_note }}

{{ h1 }}

## Pooling across sources vs one model per source (ELPD-LOO; diff > 0 favours pooling)

{{ loo }}

{{ loo_verdict }}

## Results per source (slopes per unit of the log covariate; contrast vs {{ reference }}; GMM)
{% for s, tab in per_source.items() %}
### {{ s }}

{{ tab }}
{% endfor %}
## GMM baseline per source

Command: `{{ gmm_command }}`
{% for s, why in gmm_skipped.items() %}
- {{ s }}: no GMM estimate: {{ why }}{% endfor %}

## Run time (s)

{{ seconds }}
"""


def _md_table(frame: pd.DataFrame | None) -> str:
    return md_table(frame, 3, missing="")


def _verdict(loo: pd.DataFrame | None) -> str:
    if loo is None:
        return "The per-source comparison was not run (compare_per_source = false)."
    tot = loo.loc[loo["source"] == "TOTAL"].iloc[0]
    d, se = float(tot["diff"]), float(tot["se_diff"])
    if abs(d) < 2 * se:
        return (f"Total ELPD difference {d:.1f} (SE {se:.1f}): within two standard errors, "
                "pooling neither clearly helps nor hurts prediction.")
    who = "pooling across sources predicts better" if d > 0 else "separate models predict better"
    return f"Total ELPD difference {d:.1f} (SE {se:.1f}): {who}."


#: What the outcome model says about flows at the floor, by likelihood.
OUTCOME_LINES = {
    "hurdle": (
        "Outcome: a hurdle model. Whether a flow is positive (logit) is modelled apart "
        "from the size of a positive flow (normal in log thousand US$ above the floor), "
        "so net disinvestment and zero flows are their own outcome, not small positive "
        "flows; unreported flows are absent rows. Slopes shown are those of the size of "
        "a positive flow."
    ),
    "censored": (
        "Outcome: a Tobit censored at the floor; net disinvestment, zero and tiny flows "
        "are read as latent flows below the floor."
    ),
    "normal": "Outcome: normal in log FDI; floor-coded flows are read as observed values.",
}


def _data_statement(data: str) -> tuple[bool, str]:
    """Whether the data file is real (no truth file beside it) and the sentence to say so."""
    p = Path(data)
    if p.with_name(p.stem + ".truth.json").is_file():
        return False, ("SIMULATED data: the data file carries a truth file; nothing here "
                       "is a finding about real investment.")
    return True, ("Real data: bilateral net FDI flows by source and host as reported "
                  f"(file {p.name}), not simulated.")


def _selection_lines(res: MultiSourceResult, manifest: dict[str, Any]) -> dict[str, str]:
    sel = res.selection
    if manifest.get("include_conduits"):
        conduit = "Conduit hosts are included (include_conduits = true)."
    else:
        excl = ", ".join(sel.excluded_conduits) or "none present"
        conduit = (f"Conduit hosts left out: {excl} (include them with [multisource] "
                   f"include_conduits = true). Why: {conduit_reason()}")
    mode = manifest.get("missing_trade", "impute")
    f = sel.frame
    miss = int(f["exports"].isna().sum()) if "exports" in f.columns else 0
    if mode == "restrict":
        trade = ("Rows without the pair's own trade (the trade data end in 2006) are left "
                 "out (missing_trade = restrict).")
    else:
        trade = (f"Rows without the pair's own trade (the trade data end in 2006) are kept: "
                 f"{miss} of {len(f)} rows have their exports and imports imputed inside "
                 f"the model (missing_trade = impute); {sel.rta_filled} rta cells carry the "
                 "pair's last observed value forward.")
    return {"conduit_line": conduit, "trade_line": trade,
            "outcome_line": OUTCOME_LINES.get(str(manifest.get("likelihood")), "")}


H1_NOTE = (
    "Market size enters as population and GDP per head (log GDP = log population + log "
    "GDP per head), so the GDP slope is the population slope and the GDP-per-head slope "
    "at fixed GDP is the GDP-per-head slope minus the population slope, both computed "
    "draw by draw. P(imports > 0) is the trade part of H3 (technology sourcing through "
    "imports from the host)."
)


def render_multisource(
    res: MultiSourceResult,
    *,
    name: str,
    quick: bool,
    manifest: dict[str, Any],
) -> tuple[RenderedReport, dict[str, Any]]:
    """Render the multi-source report (nothing is written).

    Returns
    -------
    (report, context)
        The two documents with their figures, and the scalar entries of the template
        context (kept beside the run as ``report_context.json``).
    """
    diag = res.pooled.diagnostics.to_attrs()
    tables = {s: _md_table(t) for s, t in per_source_tables(res).items()}
    if res.separate is None:
        separate_line = "One-model-per-source fit: not run."
    else:
        sd = res.separate.diagnostics.to_attrs()
        separate_line = (
            f"One-model-per-source fit: max R-hat {float(sd['max_rhat']):.3f}, min ESS bulk "
            f"{float(sd['min_ess_bulk']):.0f}, divergences {sd['n_divergent']}"
            + ("." if sd["converged"] else
               f"; **did NOT converge ({sd.get('convergence_problems', '')})**.")
        )
    real, statement = _data_statement(str(manifest["data"]))
    ctx = {
        **_selection_lines(res, manifest),
        "data_real": real,
        "data_statement": statement,
        "sources_list": ", ".join(res.selection.sources),
        "hosts_list": ", ".join(res.selection.hosts),
        "excluded_conduits": ", ".join(res.selection.excluded_conduits),
        "filters": _md_table(res.selection.filter_table()),
        "h1_note": H1_NOTE if "pop" in set(res.slopes["term"]) else "",
        "title": f"Outward FDI from {len(res.selection.sources)} source economies: "
                 f"a multi-source hierarchical model ({name})",
        "quick": quick,
        "converged": bool(diag["converged"]),
        "problems": diag.get("convergence_problems", ""),
        "data": manifest["data"],
        "n_rows": res.selection.rows_out,
        "n_sources": len(res.selection.sources),
        "n_hosts": len(res.selection.hosts),
        "model": res.pooled.spec.name,
        "chains": res.pooled.spec.sampler.chains,
        "draws": res.pooled.spec.sampler.draws,
        "rhat": f"{diag['max_rhat']:.3f}",
        "ess": f"{diag['min_ess_bulk']:.0f}",
        "div": diag["n_divergent"],
        "separate_line": separate_line,
        "dropped": res.selection.dropped_sources,
        "selection": _md_table(res.selection.table()),
        "h1": _md_table(res.h1),
        "loo": _md_table(res.loo),
        "loo_verdict": _verdict(res.loo),
        "reference": manifest.get("reference", "KOR"),
        "per_source": tables,
        "gmm_command": res.gmm.command if res.gmm is not None else "(not run)",
        "gmm_skipped": res.gmm.skipped if res.gmm is not None else {},
        "seconds": _md_table(pd.DataFrame([manifest["seconds"]])),
        "seconds_raw": dict(manifest["seconds"]),
        "name": name,
    }
    figs = report_figures(res, reference=ctx["reference"])
    pngs = {k: report_render.figure_png(f) for k, f in figs.items()}
    md = jinja2.Environment(autoescape=False, keep_trailing_newline=True).from_string(_MD)
    md_text = md.render(**ctx, figures={k: f"{FIGURE_DIR}/{k}.png" for k in pngs})
    html = report_render.template_env().get_template(HTML_TEMPLATE).render(
        **html_context(res, ctx), img={k: report_render.png_data_uri(v) for k, v in pngs.items()}
    )
    scalars = {k: v for k, v in ctx.items() if isinstance(v, str | int | float | bool)}
    return RenderedReport(html=html, markdown=md_text, figures=pngs), scalars


def _forest_frame(res: MultiSourceResult) -> pd.DataFrame:
    parts = [t.assign(source=s) for s, t in per_source_tables(res).items()]
    frame = pd.concat(parts, ignore_index=True)
    for c in ("gmm_coef", "gmm_ci_low", "gmm_ci_high"):
        if c not in frame:
            frame[c] = float("nan")
    return frame


def _in_selection_order(frame: pd.DataFrame, sources: tuple[str, ...]) -> pd.DataFrame:
    rank = {s: i for i, s in enumerate(sources)}
    return frame.sort_values("source", key=lambda c: c.map(rank), kind="stable")


def report_figures(res: MultiSourceResult, *, reference: str) -> dict[str, Any]:
    """Build the report's figures (matplotlib Figures keyed by name; nothing is written).

    ``forest``: per-source slopes, Bayes interval with the GMM estimate and CI overlaid;
    ``contrasts``: each source's slopes minus the reference's.
    """
    return {
        "forest": figures.source_forest_plot(
            _forest_frame(res), title="Slopes by source economy", ci_prob=CI_PROB),
        "contrasts": figures.contrast_plot(
            _in_selection_order(res.contrasts, res.selection.sources),
            title=f"Difference from {reference}", reference=reference, ci_prob=CI_PROB),
    }


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None:
        return []
    return [dict(zip(frame.columns, row, strict=True)) for row in frame.itertuples(index=False)]


def _diag_row(fit: str, attrs: dict[str, Any]) -> dict[str, Any]:
    nan = float("nan")
    return {"fit": fit, "max_rhat": attrs.get("max_rhat", nan),
            "min_ess_bulk": attrs.get("min_ess_bulk", nan),
            "min_ess_tail": attrs.get("min_ess_tail", nan),
            "n_divergent": attrs.get("n_divergent"), "min_bfmi": attrs.get("min_bfmi", nan),
            "converged": bool(attrs.get("converged")),
            "problems": attrs.get("convergence_problems", "") or ""}


def _gmm_facts(res: MultiSourceResult, source: str) -> tuple[str | None, str]:
    if res.gmm is None:
        return "the GMM baseline was not run (multisource.gmm_command is empty)", ""
    if source in res.gmm.skipped:
        return res.gmm.skipped[source], ""
    r = res.gmm.results.get(source)
    if r is None:
        return "no GMM result for this source", ""
    facts = (f"{r.get('nobs', '--')} observations, {r.get('n_groups', '--')} hosts, "
             f"{r.get('n_instruments', '--')} instruments")
    if "L.fdi" in r.get("coef", {}):
        facts += f"; L.fdi {format_number(r['coef']['L.fdi'])}"
    return None, facts


def html_context(res: MultiSourceResult, ctx: dict[str, Any]) -> dict[str, Any]:
    """Template context of the HTML report (from the Markdown context and the result)."""
    reference = ctx["reference"]
    per_source = []
    for s, t in per_source_tables(res).items():
        rows = _records(t)
        for r in rows:
            lo, hi = r.get("gmm_ci_low"), r.get("gmm_ci_high")
            r.setdefault("gmm_coef", float("nan"))
            r.setdefault("gmm_se", float("nan"))
            r["has_gmm_ci"] = lo is not None and hi is not None and pd.notna(lo) and pd.notna(hi)
        reason, facts = _gmm_facts(res, s)
        per_source.append({"source": s, "is_reference": s == reference, "rows": rows,
                           "gmm_reason": reason, "gmm_facts": facts})
    diagnostics = [_diag_row("pooled", res.pooled.diagnostics.to_attrs())]
    if res.separate is not None:
        diagnostics.append(_diag_row("one model per source",
                                     res.separate.diagnostics.to_attrs()))
    summ = res.pooled.posterior_summary
    worst: list[dict[str, Any]] = []
    if {"parameter", "r_hat", "ess_bulk"} <= set(summ.columns):
        w = summ.sort_values("r_hat", ascending=False).head(N_WORST)
        w = w.reindex(columns=["parameter", "series", "term", "mean", "r_hat", "ess_bulk",
                               "ess_tail"])
        worst = _records(w)
    sel = res.selection.table()
    return {
        **ctx,
        "name": ctx["name"],
        "version": __version__,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "ci_pct": f"{CI_PROB:.0%}",
        "selection_cols": list(sel.columns),
        "selection": _records(sel),
        "filters_rows": _records(res.selection.filter_table()),
        "has_imports": "p_imports_positive" in res.h1.columns,
        "h1": _records(res.h1),
        "loo": _records(res.loo),
        "per_source": per_source,
        "diagnostics": diagnostics,
        "worst": worst,
        "rhat_max": RHAT_MAX,
        "ess_min": ESS_MIN,
        "seconds": dict(ctx["seconds_raw"]),
    }
