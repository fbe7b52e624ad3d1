"""Tables 2 and 3 in the paper's layout (Markdown, HTML, LaTeX), as text.

The layout copies the published tables: one column per series, one row per variable,
each cell ``coef*** (se)``; then the footer (observations, groups, AR(1) and AR(2) with
p-values, Hansen's J with its p-value, instruments).
"""

from __future__ import annotations

import html
import math

import pandas as pd

from bayes_kfdi.formatting import format_number
from bayes_kfdi.paper.equations import TREND_SUFFIX

__all__ = [
    "COLUMN_LABELS",
    "TABLE_TITLES",
    "VARIABLE_LABELS",
    "layout",
    "to_html",
    "to_latex",
    "to_markdown",
]

#: Paper row labels of the canonical terms.
VARIABLE_LABELS: dict[str, str] = {
    "gdp": "GDP",
    "gdppc": "GDPPC",
    "wage": "WAGE",
    "rd": "R&D",
    "edu": "EDU",
    "exports": "EXPORT",
    "exunit": "EXUNIT",
    "imports": "IMPORT",
    "imunit": "IMUNIT",
    "L.fdi": "FDI (t-1)",
    "_cons": "_cons",
}
_FOOTER_LABELS: dict[str, str] = {
    "obs": "No of observations",
    "groups": "Number of groups",
    "AR(1)": "AR(1) (p value)",
    "AR(2)": "AR(2) (p value)",
    "Hansen": "Hansen J (p value)",
    "instruments": "No of instruments",
}
_PAPER_FOOTER_LABELS = {**_FOOTER_LABELS, "Hansen": "ID test"}
#: Paper column headers per series.
COLUMN_LABELS: dict[str, str] = {
    "textile": "Textile product",
    "steel": "Steel and metal product",
    "electronics": "Electric and electronic product",
    "electronics_market": "Market",
    "electronics_technology": "Technology",
    "electronics_efficiency": "Efficiency",
}
#: Titles and dependent-variable lines of the published tables.
TABLE_TITLES: dict[str, tuple[str, str]] = {
    "table2": (
        "Table 2  FDI from South Korea by sector",
        "Dependent variable: FDI outflows from Korea for the given sector",
    ),
    "table3": (
        "Table 3  Electronics FDI from South Korea by motivation",
        "Dependent variable: FDI outflows from the Korean electronics sector, by motivation",
    ),
}
_NOTE = (
    "Two-step system GMM, Windmeijer-corrected standard errors in parentheses. "
    "*** p<0.01, ** p<0.05, * p<0.1."
)


def _label(var: str) -> str:
    if var.endswith(TREND_SUFFIX):
        base = var[: -len(TREND_SUFFIX)]
        return f"{VARIABLE_LABELS.get(base, base)} x trend"
    return VARIABLE_LABELS.get(var, var)


def _num(x: float, digits: int = 2) -> str:
    return format_number(x, digits, missing="")


def layout(table: pd.DataFrame, *, source: str = "estimate") -> pd.DataFrame:
    """Lay out a tidy table as the paper does (:func:`~bayes_kfdi.paper.tables.build_table`).

    Parameters
    ----------
    table : pandas.DataFrame
    source : {"estimate", "paper"}
        Our estimates with our stars, or the published numbers with the paper's stars.

    Returns
    -------
    pandas.DataFrame
        String cells; index = row labels, columns = the paper's column headers.
    """
    if source not in ("estimate", "paper"):
        raise ValueError(f"source={source!r}; expected 'estimate' or 'paper'.")
    series = list(dict.fromkeys(table["series"]))
    coef_key, se_key, star_key = (
        ("coef", "se", "stars")
        if source == "estimate"
        else ("paper_coef", "paper_se", "paper_stars")
    )
    coefs = table[table["kind"] == "coef"]
    order = [v for v in VARIABLE_LABELS if v not in ("L.fdi", "_cons")]
    extra = [v for v in dict.fromkeys(coefs["variable"]) if v not in VARIABLE_LABELS]
    variables = order + extra + ["L.fdi", "_cons"]
    if source == "paper":
        variables = [v for v in variables if v != "L.fdi" and not v.endswith(TREND_SUFFIX)]
    cells: dict[str, dict[str, str]] = {}
    for s in series:
        col: dict[str, str] = {}
        sub = coefs[coefs["series"] == s].set_index("variable")
        for v in variables:
            if v in sub.index and math.isfinite(float(sub.at[v, coef_key])):
                r = sub.loc[v]
                col[_label(v)] = (
                    f"{_num(float(r[coef_key]))}{r[star_key]} ({_num(float(r[se_key]))})"
                )
            else:
                col[_label(v)] = ""
        foot = table[(table["kind"] == "footer") & (table["series"] == s)].set_index("variable")
        labels = _PAPER_FOOTER_LABELS if source == "paper" else _FOOTER_LABELS
        for f, lab in labels.items():
            if f not in foot.index:
                col[lab] = ""
                continue
            stat = float(foot.at[f, coef_key])
            p = float(foot.at[f, se_key])
            if f in ("obs", "groups", "instruments"):
                col[lab] = "" if not math.isfinite(stat) else f"{int(round(stat))}"
            else:
                digits = 3 if f.startswith("AR") or source == "paper" else 2
                col[lab] = _num(stat, digits) + (f" ({_num(p, 3)})" if math.isfinite(p) else "")
        cells[COLUMN_LABELS.get(s, s)] = col
    out = pd.DataFrame(cells)
    out.index.name = ""
    return out


def to_markdown(table: pd.DataFrame, table_name: str, *, variant: str = "baseline") -> str:
    """Markdown: our estimates in the paper's layout, then the published table."""
    title, dep = TABLE_TITLES[table_name]
    parts = [
        f"## {title}" + (" (with time-trend interactions)" if variant == "trend" else ""),
        "",
        f"*{dep}*",
        "",
    ]
    sources = [("This panel", "estimate")]
    if variant == "baseline":
        sources.append(("As published", "paper"))
    for heading, src in sources:
        lay = layout(table, source=src)
        parts += [
            f"**{heading}**",
            "",
            "| | " + " | ".join(lay.columns) + " |",
            "|---|" + "---:|" * len(lay.columns),
        ]
        for lab, row in lay.iterrows():
            parts.append(f"| {lab} | " + " | ".join(row.tolist()) + " |")
        parts.append("")
    parts.append(_NOTE)
    return "\n".join(parts) + "\n"


_CSS = """
body { font-family: "Times New Roman", Times, serif; margin: 2em auto; max-width: 60em; }
table.paper { border-collapse: collapse; margin: 1em 0 2em 0; }
table.paper caption { text-align: left; font-weight: bold; padding-bottom: .3em; }
table.paper th, table.paper td { padding: .15em .9em; text-align: right; white-space: nowrap; }
table.paper th:first-child, table.paper td:first-child { text-align: left; }
table.paper thead tr.top th { border-top: 1.5px solid black; }
table.paper thead tr:last-child th { border-bottom: 1px solid black; }
table.paper tbody tr.first-footer td { border-top: 1px solid black; }
table.paper tbody tr:last-child td { border-bottom: 1.5px solid black; }
p.dep { font-style: italic; } p.note { font-size: .9em; }
"""


def _html_table(lay: pd.DataFrame, caption: str, group: str) -> str:
    esc = html.escape
    out = [
        f'<table class="paper"><caption>{esc(caption)}</caption><thead>',
        f'<tr class="top"><th></th><th colspan="{len(lay.columns)}" style="text-align:center">'
        f"{esc(group)}</th></tr>",
        "<tr><th></th>" + "".join(f"<th>{esc(c)}</th>" for c in lay.columns) + "</tr>",
        "</thead><tbody>",
    ]
    footer_labels = set(_FOOTER_LABELS.values()) | set(_PAPER_FOOTER_LABELS.values())
    first = True
    for lab, row in lay.iterrows():
        cls = ""
        if lab in footer_labels and first:
            cls, first = ' class="first-footer"', False
        out.append(
            f"<tr{cls}><td>{esc(str(lab))}</td>"
            + "".join(f"<td>{esc(v)}</td>" for v in row.tolist())
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "\n".join(out)


def to_html(table: pd.DataFrame, table_name: str, *, variant: str = "baseline") -> str:
    """Render a standalone HTML page: our estimates, then the published table."""
    title, dep = TABLE_TITLES[table_name]
    if variant == "trend":
        title += " (with time-trend interactions)"
    group = "FDI industry" if table_name == "table2" else "Electric and electronic FDI motives"
    body = [
        f"<h2>{html.escape(title)}</h2>",
        f'<p class="dep">{html.escape(dep)}</p>',
        _html_table(layout(table, source="estimate"), "This panel", group),
    ]
    if variant == "baseline":
        body.append(_html_table(layout(table, source="paper"), "As published", group))
    body.append(f'<p class="note">{html.escape(_NOTE)}</p>')
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _tex(s: str) -> str:
    return (
        s.replace("\\", r"\textbackslash{}")
        .replace("&", r"\&")
        .replace("%", r"\%")
        .replace("_", r"\_")
        .replace("#", r"\#")
        .replace("<", r"$<$")
    )


def _tex_cell(s: str) -> str:
    s = _tex(s)
    for mark in ("***", "**", "*"):
        if mark in s:
            return s.replace(mark, f"$^{{{mark}}}$", 1)
    return s


def to_latex(table: pd.DataFrame, table_name: str, *, variant: str = "baseline") -> str:
    """Render a LaTeX ``table`` (booktabs) of our estimates in the paper's layout."""
    title, dep = TABLE_TITLES[table_name]
    lay = layout(table, source="estimate")
    n = len(lay.columns)
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        rf"\caption{{{_tex(title)}{' (time-trend interactions)' if variant == 'trend' else ''}}}",
        rf"\small\textit{{{_tex(dep)}}}\\[4pt]",
        r"\begin{tabular}{l" + "r" * n + "}",
        r"\toprule",
        " & " + " & ".join(_tex(c) for c in lay.columns) + r" \\",
        r"\midrule",
    ]
    footer = set(_FOOTER_LABELS.values())
    ruled = False
    for lab, row in lay.iterrows():
        if lab in footer and not ruled:
            lines.append(r"\midrule")
            ruled = True
        lines.append(
            _tex(str(lab)) + " & " + " & ".join(_tex_cell(v) for v in row.tolist()) + r" \\"
        )
    lines += [r"\bottomrule", r"\end{tabular}", rf"\par\footnotesize {_tex(_NOTE)}", r"\end{table}"]
    return "\n".join(lines) + "\n"
