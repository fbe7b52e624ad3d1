"""Result tables shared by every estimator: one object, four renderings.

:class:`ResultTable` holds a table as display strings plus the numbers behind it. It
prints as a Stata-style text table in a terminal (``label |  cells``), renders as HTML in
a notebook (``_repr_html_``), and exports to LaTeX (booktabs) and Markdown;
``to_frame()`` gives the numbers. The renderers are written here rather than through
pandas Styler or great_tables: the text layout (xtabond2's) is not a grid those tools
draw, and one hand-written layout per format keeps the golden tests byte-stable across
library versions.

:func:`etable` puts several results side by side (as esttab, stargazer or pyfixest's
``etable``). Any object with the :class:`Estimates` face works: GMM results today, the
Bayesian fit once it grows the same face.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.formatting import format_number, md_escape

__all__ = ["ResultTable", "Estimates", "etable", "DEFAULT_STARS"]

#: Significance thresholds for stars: * p<0.10, ** p<0.05, *** p<0.01 (esttab's ``star``).
DEFAULT_STARS: tuple[float, ...] = (0.10, 0.05, 0.01)
#: Minimum text width, as Stata's 78-column output.
_MIN_WIDTH = 78
_RULE = "-"

Row = tuple[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True, repr=False)
class ResultTable:
    """A rendered results table.

    Attributes
    ----------
    title : str
        First line.
    columns : tuple of str
        Column headers; a newline splits a header over two lines.
    rows : tuple of (label, cells) or None
        Body rows as display strings; ``None`` draws a rule.
    corner : str
        Top-left cell (the dependent variable, as Stata prints it).
    info_left, info_right : tuple of (label, value)
        Header block in two columns (``label = value``, aligned; a label ending in
        ``:`` or ``=`` is followed by the value directly).
    footer : tuple of str
        Lines after the table; ``"-"`` draws a rule.
    notes : tuple of str
        Closing notes (interval kind, stars).
    frame : pandas.DataFrame
        The numbers behind the table (``to_frame``).
    min_widths : tuple of int
        Minimum text width of each column (default 10).
    """

    title: str
    columns: tuple[str, ...]
    rows: tuple[Row | None, ...]
    corner: str = ""
    info_left: tuple[tuple[str, str], ...] = ()
    info_right: tuple[tuple[str, str], ...] = ()
    footer: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    min_widths: tuple[int, ...] = ()

    # -- text -------------------------------------------------------------------
    def _widths(self) -> tuple[int, list[int]]:
        labels = [r[0] for r in self.rows if r is not None]
        lw = max([12, len(self.corner), *map(len, labels)])
        widths = []
        for j, col in enumerate(self.columns):
            cells = [r[1][j] for r in self.rows if r is not None and j < len(r[1])]
            least = self.min_widths[j] if j < len(self.min_widths) else 10
            widths.append(max([least, *map(len, col.split("\n")), *map(len, cells)]))
        return lw, widths

    def _info_lines(self, width: int) -> list[str]:
        def pair(label: str, value: str, lw: int, vw: int) -> str:
            if label.endswith((":", "=")):
                return f"{label} {value}"
            return f"{label:<{lw}} = {value:>{vw}}"

        def plain(label: str) -> bool:
            return not label.endswith((":", "="))

        left_lw = max([0, *(len(a) for a, _ in self.info_left if plain(a))])
        left_vw = max([9, *(len(b) for a, b in self.info_left if plain(a))])
        right_lw = max([0, *(len(a) for a, _ in self.info_right if plain(a))])
        right_vw = max([9, *(len(b) for _, b in self.info_right)])
        left = [pair(a, b, left_lw, left_vw) for a, b in self.info_left]
        right = [pair(a, b, right_lw, right_vw) for a, b in self.info_right]
        start = max([width - right_lw - right_vw - 3, *(len(s) + 2 for s in left)])
        n = max(len(left), len(right))
        left += [""] * (n - len(left))
        right += [""] * (n - len(right))
        return [(f"{a:<{start}}{b}" if b else a).rstrip() for a, b in zip(left, right,
                                                                           strict=True)]

    def to_text(self) -> str:
        """Render as a Stata-style text table."""
        lw, widths = self._widths()
        body_width = lw + 2 + sum(w + 1 for w in widths)
        info = self._info_lines(max(_MIN_WIDTH, body_width))
        width = max([_MIN_WIDTH, body_width, *map(len, info)])
        full = _RULE * width
        inner = _RULE * (lw + 1) + "+" + _RULE * (width - lw - 2)
        out = [self.title, full] if self.title else [full]
        if info:
            out += [*info, full]
        heads = [c.split("\n") for c in self.columns]
        depth = max([1, *map(len, heads)])
        for k in range(depth):
            cells = []
            for h, w in zip(heads, widths, strict=True):
                part = h[k - (depth - len(h))] if k >= depth - len(h) else ""
                cells.append(f" {part:>{w}}")
            label = self.corner if k == depth - 1 else ""
            out.append(f"{label:>{lw}} |" + "".join(cells).rstrip())
        out.append(inner)
        for row in self.rows:
            if row is None:
                out.append(inner)
                continue
            label, cells = row
            line = f"{label:>{lw}} |" + "".join(
                f" {c:>{w}}" for c, w in zip(cells, widths, strict=False))
            out.append(line.rstrip())
        out.append(full)
        for line in self.footer:
            out.append(full if line == _RULE else line)
        out += [f"Note: {n}" for n in self.notes]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and text in self.to_text()

    # -- HTML ---------------------------------------------------------------------
    def _repr_html_(self) -> str:
        return self.to_html()

    def to_html(self) -> str:
        """Render as an HTML table (the notebook face)."""
        e = html.escape
        n = len(self.columns) + 1
        td = 'style="text-align:right;padding:0 0.6em"'
        parts = ['<div class="bayes-kfdi-table">', '<table style="border-collapse:collapse">']
        if self.title:
            parts.append(f'<caption style="text-align:left"><b>{e(self.title)}</b></caption>')
        parts.append('<thead>')
        pairs = list(self.info_left) + list(self.info_right)
        for a, b in pairs:
            parts.append(f'<tr><td colspan="{n}" style="text-align:left">'
                         f'{e(_pair(a, b))}</td></tr>')
        heads = "".join(f"<th {td}>{'<br>'.join(e(p) for p in c.split(chr(10)))}</th>"
                        for c in self.columns)
        parts.append(f'<tr style="border-bottom:1px solid"><th style="text-align:left">'
                     f'{e(self.corner)}</th>{heads}</tr></thead><tbody>')
        rule = False
        for row in self.rows:
            if row is None:
                rule = True
                continue
            style = ' style="border-top:1px solid"' if rule else ""
            cells = "".join(f"<td {td}>{e(c)}</td>" for c in row[1])
            parts.append(f'<tr{style}><td style="text-align:left">{e(row[0])}</td>{cells}</tr>')
            rule = False
        parts.append("</tbody>")
        tail = [line for line in self.footer if line != _RULE] + [f"Note: {x}" for x in
                                                                  self.notes]
        if tail:
            parts.append('<tfoot style="border-top:1px solid">')
            for line in tail:
                parts.append(f'<tr><td colspan="{n}" style="text-align:left;'
                             f'white-space:pre">{e(line)}</td></tr>')
            parts.append("</tfoot>")
        parts.append("</table></div>")
        return "\n".join(parts)

    # -- LaTeX / Markdown -----------------------------------------------------------
    def to_latex(self) -> str:
        """Render as a booktabs LaTeX tabular (needs the booktabs package)."""
        n = len(self.columns) + 1
        lines = [f"\\begin{{tabular}}{{l{'r' * (n - 1)}}}", "\\toprule"]
        if self.title:
            lines.append(f"\\multicolumn{{{n}}}{{l}}{{{_tex(self.title)}}} \\\\")
            lines.append("\\midrule")
        heads = " & ".join(_tex(c.replace("\n", " ")) for c in self.columns)
        lines.append(f"{_tex(self.corner)} & {heads} \\\\")
        lines.append("\\midrule")
        for row in self.rows:
            if row is None:
                lines.append("\\midrule")
                continue
            lines.append(" & ".join([_tex(row[0]), *(_tex(c) for c in row[1])]) + " \\\\")
        extra = [_pair(a, b) for a, b in (*self.info_left, *self.info_right)]
        extra += [x for x in self.footer if x != _RULE and x.strip()]
        if extra:
            lines.append("\\midrule")
            lines += [f"\\multicolumn{{{n}}}{{l}}{{{_tex(x)}}} \\\\" for x in extra]
        lines.append("\\bottomrule")
        lines += [f"\\multicolumn{{{n}}}{{l}}{{\\footnotesize {_tex(x)}}} \\\\"
                  for x in self.notes]
        lines.append("\\end{tabular}")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """Render as a Markdown table with the header block and notes as text."""
        cols = [md_escape(self.corner), *(md_escape(c.replace("\n", " ")) for c in
                                          self.columns)]
        out = []
        if self.title:
            out += [f"**{md_escape(self.title)}**", ""]
        pairs = [*self.info_left, *self.info_right]
        if pairs:
            out += [f"{md_escape(_pair(a, b))}  " for a, b in pairs] + [""]
        out += ["| " + " | ".join(cols) + " |", "|---|" + "---:|" * len(self.columns)]
        for row in self.rows:
            if row is not None:
                out.append("| " + " | ".join([md_escape(row[0]),
                                              *(md_escape(c) for c in row[1])]) + " |")
        tail = [x for x in self.footer if x != _RULE and x.strip()]
        if tail or self.notes:
            out.append("")
        out += [f"{md_escape(x.strip())}  " for x in tail]
        out += [f"Note: {md_escape(x)}  " for x in self.notes]
        return "\n".join(out).rstrip()

    def to_frame(self) -> pd.DataFrame:
        """Return the numbers behind the table (a copy)."""
        return self.frame.copy()


def _pair(label: str, value: str) -> str:
    label = label.strip()
    return f"{label} {value}" if label.endswith((":", "=")) else f"{label} = {value}"


def _tex(text: str) -> str:
    table = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
             "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
             "^": r"\textasciicircum{}", "<": r"$<$", ">": r"$>$"}  # < > misprint in OT1
    return "".join(table.get(ch, ch) for ch in str(text))


# ---------------------------------------------------------------------------
# side-by-side tables


@runtime_checkable
class Estimates(Protocol):
    """The face a result needs to enter :func:`etable`.

    Required: ``params`` and ``std_errors`` (labelled Series; a posterior sd for a
    Bayesian fit), ``conf_int(level)`` (DataFrame with ``lower``/``upper``), ``nobs`` and
    ``model_label``. Optional: ``pvalues`` (stars are drawn only where they exist),
    ``depvar``, ``interval_kind`` (named in the note) and ``table_stats()`` (ordered
    ``{label: value}`` rows under the coefficients: N, groups, instruments, AR(2) and
    Hansen p for GMM; R-hat, ESS and divergences for a Bayesian fit).
    """

    @property
    def params(self) -> pd.Series: ...  # noqa: D102

    @property
    def std_errors(self) -> pd.Series: ...  # noqa: D102

    def conf_int(self, level: float = 0.95) -> pd.DataFrame: ...  # noqa: D102

    nobs: int
    model_label: str


def _stars(p: float, thresholds: Sequence[float]) -> str:
    if p is None or not math.isfinite(p):
        return ""
    return "*" * sum(p < t for t in thresholds)


def _check_results(results: Sequence[Any], names: Sequence[str] | None) -> list[str]:
    if isinstance(results, Estimates):
        results = [results]
    if not results:
        raise SpecificationError("etable() got no results. Pass a list of fitted results.")
    for i, r in enumerate(results):
        missing = [a for a in ("params", "std_errors", "conf_int", "nobs", "model_label")
                   if not hasattr(r, a)]
        if missing:
            raise SpecificationError(
                f"Result #{i + 1} ({type(r).__name__}) lacks {', '.join(missing)}; expected "
                "params, std_errors, conf_int, nobs and model_label. Pass fitted results."
            )
    if names is None:
        return [f"({i + 1})" for i in range(len(results))]
    if len(names) != len(results):
        raise SpecificationError(
            f"etable() got {len(names)} names for {len(results)} results. Give one name each."
        )
    return [str(n) for n in names]


def etable(
    results: Sequence[Any],
    names: Sequence[str] | None = None,
    *,
    show: str = "se",
    level: float = 0.95,
    stars: Sequence[float] | None = DEFAULT_STARS,
    digits: int = 3,
    keep: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str = "",
) -> ResultTable:
    """Put results side by side, one column each (as esttab or pyfixest's ``etable``).

    Parameters
    ----------
    results : sequence of Estimates
        Fitted results (GMM, or anything with the :class:`Estimates` face).
    names : sequence of str, optional
        Column titles; ``(1)``, ``(2)``, ... by default.
    show : {"se", "ci"}
        Under each estimate: the standard error (posterior sd) in parentheses, or the
        ``level`` interval in brackets.
    level : float
        Interval probability for ``show="ci"``.
    stars : sequence of float or None
        p-value thresholds; drawn only for results that have p-values (not Bayesian).
    digits : int
        Decimals.
    keep : sequence of str, optional
        Coefficients to show, in this order (default: all, in order of appearance).
    labels : mapping, optional
        Display names for coefficients.
    title : str
        Title line.

    Returns
    -------
    ResultTable
    """
    cols = _check_results(results, names)
    if isinstance(results, Estimates):
        results = [results]
    if show not in ("se", "ci"):
        raise SpecificationError(f"show={show!r}; expected 'se' or 'ci'.")
    terms = list(dict.fromkeys(t for r in results for t in r.params.index))
    if keep is not None:
        unknown = [k for k in keep if k not in terms]
        if unknown:
            raise SpecificationError(
                f"keep names {unknown} that no result has; coefficients are {terms[:12]}."
            )
        terms = list(keep)
    labels = dict(labels or {})
    rows: list[Row | None] = []
    numbers: dict[tuple[str, str], list[Any]] = {}
    deps = [str(getattr(r, "depvar", "")) for r in results]
    if any(deps):
        rows += [("Dependent variable", tuple(deps)), None]
    for term in terms:
        est, below = [], []
        for r in results:
            if term not in r.params.index:
                est.append("")
                below.append("")
                continue
            b = float(r.params[term])
            p = getattr(r, "pvalues", None)
            pv = float(p[term]) if p is not None and stars else float("nan")
            est.append(format_number(b, digits) + _stars(pv, stars or ()))
            if show == "se":
                below.append(f"({format_number(float(r.std_errors[term]), digits)})")
            else:
                ci = r.conf_int(level).loc[term]
                below.append(f"[{format_number(float(ci['lower']), digits)}, "
                             f"{format_number(float(ci['upper']), digits)}]")
        rows.append((labels.get(term, term), tuple(est)))
        rows.append(("", tuple(below)))
        numbers[(term, "estimate")] = [_get(r.params, term) for r in results]
        numbers[(term, "std_error")] = [_get(r.std_errors, term) for r in results]
    rows.append(None)
    stat_rows: dict[str, list[str]] = {"Estimator": [str(r.model_label) for r in results],
                                       "Observations": [str(int(r.nobs)) for r in results]}
    for i, r in enumerate(results):
        extra = r.table_stats() if hasattr(r, "table_stats") else {}
        for key, val in extra.items():
            stat_rows.setdefault(key, [""] * len(results))[i] = format_number(val, digits)
            numbers.setdefault(("stat", key), [None] * len(results))[i] = val
    rows += [(k, tuple(v)) for k, v in stat_rows.items()]
    notes = _notes(results, show, level, stars)
    frame = pd.DataFrame(numbers, index=cols).T
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["term", "statistic"])
    return ResultTable(title=title, columns=tuple(cols), rows=tuple(rows), notes=notes,
                       frame=frame)


def _get(series: pd.Series, term: str) -> float | None:
    return float(series[term]) if term in series.index else None


def _notes(results: Sequence[Any], show: str, level: float,
           stars: Sequence[float] | None) -> tuple[str, ...]:
    kinds = list(dict.fromkeys(str(getattr(r, "interval_kind", "")) for r in results))
    kinds = [k for k in kinds if k]
    if show == "se":
        text = "Standard errors (posterior sd for Bayesian fits) in parentheses."
    else:
        text = f"{level:.0%} intervals in brackets"
        text += f" ({'; '.join(kinds)})." if kinds else "."
    notes = [text]
    has_p = [getattr(r, "pvalues", None) is not None for r in results]
    if stars and any(has_p):
        marks = ", ".join(f"{'*' * (i + 1)} p<{t:g}" for i, t in enumerate(stars))
        notes.append(marks + ("" if all(has_p) else "; no stars for Bayesian results."))
    return tuple(notes)
