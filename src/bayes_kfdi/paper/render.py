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
from bayes_kfdi.tables import ResultTable

__all__ = [
    "COLUMN_LABELS",
    "TABLE_TITLES",
    "VARIABLE_LABELS",
    "layout",
    "paper_table",
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


def paper_table(table: pd.DataFrame, *, variant: str = "baseline",
                source: str = "estimate") -> ResultTable:
    """One part of Table 2 or 3 as a :class:`~bayes_kfdi.tables.ResultTable`.

    The object :func:`bayes_kfdi.tables.etable` returns, rendered by the same text, HTML,
    LaTeX and Markdown writers; the cells keep the paper's ``coef*** (se)`` form and its
    footer (AR and Hansen statistics with their p-values).
    """
    lay = layout(table, source=source)
    footer = set(_FOOTER_LABELS.values()) | set(_PAPER_FOOTER_LABELS.values())
    rows: list[tuple[str, tuple[str, ...]] | None] = []
    for lab, row in lay.iterrows():
        if lab in footer and None not in rows:
            rows.append(None)
        rows.append((str(lab), tuple(row.tolist())))
    title = "This panel" if source == "estimate" else "As published"
    if variant == "trend":
        title += " (with time-trend interactions)"
    note = _NOTE if source == "estimate" else "The paper's numbers and stars."
    return ResultTable(title=title, columns=tuple(lay.columns), rows=tuple(rows),
                       notes=(note,), frame=lay)


def _parts(table: pd.DataFrame, variant: str) -> list[ResultTable]:
    sources = ["estimate"] + (["paper"] if variant == "baseline" else [])
    return [paper_table(table, variant=variant, source=src) for src in sources]


def _title(table_name: str, variant: str) -> tuple[str, str]:
    title, dep = TABLE_TITLES[table_name]
    return title + (" (with time-trend interactions)" if variant == "trend" else ""), dep


def to_markdown(table: pd.DataFrame, table_name: str, *, variant: str = "baseline") -> str:
    """Markdown: our estimates in the paper's layout, then the published table."""
    title, dep = _title(table_name, variant)
    body = "\n\n".join(t.to_markdown() for t in _parts(table, variant))
    return f"## {title}\n\n*{dep}*\n\n{body}\n"


def to_html(table: pd.DataFrame, table_name: str, *, variant: str = "baseline") -> str:
    """Render a standalone HTML page: our estimates, then the published table."""
    title, dep = _title(table_name, variant)
    body = [f"<h2>{html.escape(title)}</h2>", f'<p class="dep">{html.escape(dep)}</p>']
    body += [t.to_html() for t in _parts(table, variant)]
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def to_latex(table: pd.DataFrame, table_name: str, *, variant: str = "baseline") -> str:
    """Render a LaTeX ``table`` (booktabs) of our estimates in the paper's layout."""
    title, dep = _title(table_name, variant)
    tabular = paper_table(table, variant=variant).to_latex()
    for mark in ("***", "**", "*"):  # stars as superscripts, as the paper prints them
        tabular = tabular.replace(f"{mark} (", f"$^{{{mark}}}$ (")
    return "\n".join([
        r"\begin{table}[htbp]", r"\centering",
        rf"\caption{{{_tex(title)}}}", rf"\small\textit{{{_tex(dep)}}}\\[4pt]",
        tabular, r"\end{table}",
    ]) + "\n"


_CSS = """
body { font-family: "Times New Roman", Times, serif; margin: 2em auto; max-width: 60em; }
p.dep { font-style: italic; }
"""


def _tex(s: str) -> str:
    return (
        s.replace("\\", r"\textbackslash{}")
        .replace("&", r"\&")
        .replace("%", r"\%")
        .replace("_", r"\_")
        .replace("#", r"\#")
    )
