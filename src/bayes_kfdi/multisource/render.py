"""Write the multi-source run directory and report (the only file I/O of this package).

The report is one Markdown and one self-contained HTML file (jinja2, autoescaped: source
and host codes come from user data). Every number shown is read from a table that is
also written to ``run/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import pandas as pd

from bayes_kfdi.report import render as report_render

if TYPE_CHECKING:
    from bayes_kfdi.multisource.pipeline import MultiSourceResult

__all__ = ["write_run", "write_report", "per_source_tables"]

HTML_NAME, MARKDOWN_NAME = "report.html", "report.md"


def per_source_tables(res: MultiSourceResult) -> dict[str, pd.DataFrame]:
    """One results table per source: Bayesian slope, contrast vs reference, GMM."""
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
        t["p_greater_than_ref"] = [con["p_greater"].get((s, k), nan) for k in t["term"]]
        if gmm is not None:
            t["gmm_coef"] = [gmm["gmm_coef"].get((s, k), nan) for k in t["term"]]
            t["gmm_se"] = [gmm["gmm_se"].get((s, k), nan) for k in t["term"]]
        out[s] = t.drop(columns=["source"]).reset_index(drop=True)
    return out


def write_run(res: MultiSourceResult, run_dir: str | Path, manifest: dict[str, Any]) -> Path:
    """Write the tidy tables, GMM JSON and manifest into ``run_dir``."""
    run = Path(run_dir)
    report_render.write_table(run / "selection.csv", res.selection.table())
    report_render.write_table(run / "slopes.csv", res.slopes)
    report_render.write_table(run / "contrasts.csv", res.contrasts)
    report_render.write_table(run / "h1.csv", res.h1)
    if res.loo is not None:
        report_render.write_table(run / "loo_pooled_vs_separate.csv", res.loo)
    if res.separate is not None:
        report_render.write_json(run / "separate_diagnostics.json",
                                 res.separate.diagnostics.to_attrs())
    if res.gmm is not None:
        for s, r in res.gmm.results.items():
            report_render.write_json(run / "gmm" / f"{s}.json", r)
        report_render.write_json(run / "gmm" / "skipped.json", res.gmm.skipped)
        from bayes_kfdi.multisource.analysis import gmm_table

        report_render.write_table(run / "gmm" / "coefficients.csv",
                                  gmm_table(res.gmm, res.pooled.summary["term"].unique()))
    report_render.write_json(run / "manifest.json",
                             {**manifest, "dropped_sources": res.selection.dropped_sources})
    return run


_MD = """# {{ title }}

{% if quick %}**Quick smoke run: too few draws to interpret.**
{% endif %}{% if not converged %}**WARNING: the pooled fit did NOT converge
({{ problems }}). Do not use its numbers.**
{% endif %}
Data: `{{ data }}`; {{ n_rows }} rows, {{ n_sources }} sources, {{ n_hosts }} hosts.
Pooled model: {{ model }} ({{ chains }} chains x {{ draws }} draws).
Diagnostics: max R-hat {{ rhat }}, min ESS bulk {{ ess }}, divergences {{ div }}.
{{ separate_line }}
{% for s, why in dropped.items() %}
- source {{ s }} left out: {{ why }}{% endfor %}

## Sources

{{ selection }}

## H1 by source: P(gdp slope > 0), P(gdppc slope < 0), joint

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
    if frame is None or frame.empty:
        return "(none)"
    cols = list(frame.columns)

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return "" if pd.isna(v) else f"{v:.3f}"
        return report_render.md_escape(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines)


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


def write_report(
    res: MultiSourceResult,
    out_dir: str | Path,
    *,
    name: str,
    quick: bool,
    manifest: dict[str, Any],
) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` into ``out_dir``; return their paths."""
    out = Path(out_dir)
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
    ctx = {
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
    }
    md = jinja2.Environment(autoescape=False, keep_trailing_newline=True).from_string(_MD)
    md_text = md.render(**ctx)
    html_env = jinja2.Environment(autoescape=True)
    html = html_env.from_string(
        "<!doctype html><html><head><meta charset='utf-8'><title>{{ title }}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "pre{white-space:pre-wrap}</style></head><body><h1>{{ title }}</h1>"
        "<pre>{{ body }}</pre></body></html>"
    ).render(title=ctx["title"], body=md_text)
    md_path, html_path = out / MARKDOWN_NAME, out / HTML_NAME
    md_path.write_text(md_text, encoding="utf-8")
    html_path.write_text(html, encoding="utf-8")
    (out / "run" / "report_context.json").write_text(
        json.dumps({k: v for k, v in ctx.items() if isinstance(v, str | int | float | bool)},
                   indent=2) + "\n", encoding="utf-8")
    return md_path, html_path
