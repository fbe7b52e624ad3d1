"""The xtabond2 printout of a GMM result, as a :class:`~bayes_kfdi.tables.ResultTable`.

Layout follows ``xtabond2_output`` in xtabond2 3.7: header block (group and time
variables, observations, groups, obs per group min/avg/max, instrument count, Wald or F
test), the coefficient table with the dependent variable in its corner cell, the
instrument list by equation, the Arellano-Bond tests, Sargan/Hansen and the
difference-in-Hansen tests. Numbers use Stata's display formats (``%9.0g`` for
coefficients, standard errors and limits).
"""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING

import pandas as pd

from bayes_kfdi.gmm.diagnostics import InapplicableTest, TestStatistic
from bayes_kfdi.gmm.syntax import GmmCommand
from bayes_kfdi.tables import ResultTable

if TYPE_CHECKING:
    from bayes_kfdi.gmm.results import SystemGMMResults

__all__ = ["stata_g", "gmm_summary", "instrument_lines"]

_GMM_NOTE = "GMM-type (missing=0, separate instruments for each period unless collapsed)"


def stata_g(x: float) -> str:
    """Format ``x`` as xtabond2's coefficient table does (Stata ``%9.0g``).

    Seven decimals below 1 in absolute value, seven significant digits above, trailing
    zeros and the leading zero dropped (``.0591053``, ``1.000564``, ``-.0444599``).
    """
    if x is None or not math.isfinite(x):
        return "."
    ax = abs(x)
    if ax >= 1e7 or (0 < ax < 5e-8):
        return f"{x:.2e}".replace("e+0", "e+").replace("e-0", "e-")
    text = f"{x:.7f}" if ax < 1 else f"{x:.7g}"
    if "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace("0.", ".", 1) if text.lstrip("-").startswith("0.") else text


def _test_line(label: str, t: TestStatistic | InapplicableTest) -> str:
    if isinstance(t, InapplicableTest):
        return f"{label:<50} z =     --  Pr > z =     --"
    return f"{label:<50} z = {t.stat:6.2f}  Pr > z = {t.pval:6.3f}"


def _chi_line(label: str, t: TestStatistic | InapplicableTest, sw: int = 7) -> str:
    """One chi2 test line; ``=`` at column 49 as in xtabond2, statistics ``sw`` wide."""
    if isinstance(t, InapplicableTest):
        return f"{label} chi2 = --"
    head = f"{label:<36} chi2({int(t.df or 0)})"
    return f"{head:<47} = {t.stat:{sw}.2f}  Prob > chi2 = {t.pval:6.3f}"


def _stat_width(res: SystemGMMResults) -> int:
    """Width that fits every chi2 statistic of the printout (alignment for large values)."""
    tests = [res.sargan, res.hansen]
    for val in res.diff_hansen.values():
        if not isinstance(val, InapplicableTest):
            tests += list(val)
    stats = [len(f"{t.stat:.2f}") for t in tests if isinstance(t, TestStatistic)]
    return max([7, *stats])


def _lagtext(lo: int, hi: int | None) -> str:
    if hi is not None and hi == lo:
        return "" if lo == 0 else ("L" if lo == 1 else f"L{lo}")
    return f"L({lo}/{'.' if hi is None else hi})"


def _names(terms: tuple) -> str:
    names = [t.name for t in terms]
    return names[0] if len(names) == 1 else "(" + " ".join(names) + ")"


def _wrap(text: str) -> list[str]:
    """Indent an instrument line by four; pieces of 74 characters, as xtabond2 prints."""
    return ["    " + piece for piece in textwrap.wrap(text, 74, break_on_hyphens=False)]


def instrument_lines(cmd: GmmCommand) -> list[str]:
    """Instrument list by equation, as xtabond2 prints it under the coefficient table."""
    transform = "orthogonal deviations" if cmd.orthogonal else "first differences"
    prefix = "FOD." if cmd.orthogonal else "D."
    out: list[str] = []
    equations = [("diff", transform)] + ([("level", "levels")] if cmd.system else [])
    for eq, title in equations:
        std = [g for g in cmd.iv if g.equation in (eq, "both")]
        gmm = [g for g in cmd.gmm if g.equation in (eq, "both")]
        cons = eq == "level" and cmd.has_constant
        if not (std or gmm or cons):
            continue
        out.append(f"Instruments for {title} equation")
        if std or cons:
            out.append("  Standard")
            for g in std:
                plain = eq == "level" or g.passthru
                text = (" ".join(t.name for t in g.terms) if plain
                        else prefix + _names(g.terms))
                out += _wrap(text + (", missing recoded as zero" if g.mz else ""))
            if cons:
                out.append("    _cons")
        if gmm:
            out.append("  " + _GMM_NOTE)
            for g in gmm:
                lo, hi = g.lag
                if eq == "level" and g.equation == "both":
                    lag = _lagtext(lo - 1, lo - 1)
                    text = ("" if g.passthru else "D") + lag + "."
                else:
                    text = _lagtext(lo, hi) + "."
                text = text if text != "." else ""
                out += _wrap(text + _names(g.terms) + (" collapsed" if g.collapse else ""))
    return out


def _header(res: SystemGMMResults) -> tuple[tuple, tuple]:
    w = res.wald
    left: list[tuple[str, str]] = [("Group variable:", res.group_var),
                                   ("Time variable :", res.time_var),
                                   ("Number of instruments =", str(res.n_instruments))]
    if isinstance(w, InapplicableTest):
        left += [("Wald chi2", "--"), ("Prob > chi2", "--")]
    elif w.dist == "F":
        left += [(f"F({int(w.df or 0)}, {res.df_resid})", f"{w.stat:.2f}"),
                 ("Prob > F", f"{w.pval:.3f}")]
    else:
        left += [(f"Wald chi2({int(w.df or 0)})", f"{w.stat:.2f}"),
                 ("Prob > chi2", f"{w.pval:.3f}")]
    right = [("Number of obs", str(res.nobs)), ("Number of groups", str(res.n_groups)),
             ("Obs per group: min", str(res.g_min)), (f"{'avg':>18}", f"{res.g_avg:.2f}"),
             (f"{'max':>18}", str(res.g_max))]
    return tuple(left), tuple(right)


def gmm_summary(res: SystemGMMResults) -> ResultTable:
    """Build the xtabond2 printout of ``res``."""
    c = res.command
    kind = "system" if c.system else "difference"
    step = "two-step" if c.twostep else "one-step"
    se_head = {"windmeijer": "Corrected\nStd. Err.", "robust": "Robust\nStd. Err.",
               "nonrobust": "Std. Err."}[res.vce]
    stat = "t" if res.df_resid is not None else "z"
    level = c.level / 100
    tab = res.to_frame(level)
    rows = tuple(
        (str(name), (stata_g(r.estimate), stata_g(r.std_error), f"{r.stat:.2f}",
                     f"{r.pvalue:.3f}", stata_g(r.lower), stata_g(r.upper)))
        for name, r in tab.iterrows()
    )
    columns = ("Coef.", se_head, stat, f"P>|{stat}|", f"[{c.level:g}% Conf.", "Interval]")
    footer: list[str] = list(instrument_lines(c))
    if footer:
        footer.append("-")
    for i, t in enumerate(res.ar_tests, start=1):
        transform = "first differences"
        footer.append(_test_line(f"Arellano-Bond test for AR({i}) in {transform}:", t))
    footer.append("-")
    sw = _stat_width(res)
    footer.append(_chi_line("Sargan test of overid. restrictions:", res.sargan, sw))
    footer.append("  (Not robust, but not weakened by many instruments.)")
    footer.append(_chi_line("Hansen test of overid. restrictions:", res.hansen, sw))
    footer.append("  (Robust, but weakened by many instruments.)")
    if res.hansen_implausible:
        footer.append("  WARNING: Hansen p-value implausibly close to 1 (too many instruments?)")
    if res.diff_hansen:
        footer += ["", "Difference-in-Hansen tests of exogeneity of instrument subsets:"]
        for label, val in res.diff_hansen.items():
            footer.append(f"  {label}")
            if isinstance(val, InapplicableTest):
                footer.append("    --")
            else:
                footer.append(_chi_line("    Hansen test excluding group:", val[0], sw))
                footer.append(_chi_line("    Difference (null H = exogenous):", val[1], sw))
    dist = f"t({res.df_resid})" if res.df_resid is not None else "normal"
    notes = (f"{c.level:g}% intervals are Wald intervals (estimate +/- quantile x SE, "
             f"{dist}).",)
    if c.twostep and res.vce != "windmeijer":
        notes = ("Uncorrected two-step standard errors are unreliable.", *notes)
    left, right = _header(res)
    frame = pd.DataFrame(tab)
    return ResultTable(
        title=f"Dynamic panel-data estimation, {step} {kind} GMM", columns=columns,
        rows=rows, corner=c.depvar.name, info_left=left, info_right=right,
        footer=tuple(footer), notes=notes, frame=frame, min_widths=(10, 10, 7, 6, 11, 10),
    )
