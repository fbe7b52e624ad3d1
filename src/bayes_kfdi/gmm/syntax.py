"""Parser for Stata ``xtabond2`` commands (Roodman 2009, "How to do xtabond2").

The parser turns a command string into a frozen :class:`GmmCommand`. Variable names are
expanded against the data's columns (wildcards ``yr*`` and ranges ``yr1980-yr1984`` in
column order), and time-series operators become :class:`Term` objects.

Options and their minimal abbreviations follow xtabond2's ``syntax`` statement: the
upper-case part of ``GMMstyle``, ``IVstyle``, ``Robust``, ``TWOstep``, ``noConstant``,
``noLeveleq``, ``ORthogonal``, ``SMall``, ``ARtests``, ``H``, ``noDiffsargan``,
``Level``; inside ``gmm()``: ``Equation``, ``Laglimits``, ``Collapse``, ``Passthru``;
inside ``iv()``: ``Equation``, ``Passthru``, ``MZ``. Anything else is a
:class:`~bayes_kfdi.exceptions.SpecificationError` naming the offending token.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.gmm.factors import FACTOR_RE, FactorDummy, expand_factor
from bayes_kfdi.gmm.qualifier import Condition, split_qualifier

__all__ = [
    "Term",
    "GmmGroup",
    "IvGroup",
    "GmmCommand",
    "parse_xtabond2",
]

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATTERN_RE = re.compile(r"^[A-Za-z_*?][A-Za-z0-9_*?~]*$")
# one operator letter with an optional count "2" or range "(0/2)"
_OP_RE = re.compile(r"([LlDdFf])(\d+|\(\s*-?\d+\s*/\s*-?\d+\s*\)|\(\s*\d+(?:\s+\d+)*\s*\))?")
_MAX_OPS_PER_TERM = 4


@dataclass(frozen=True, slots=True)
class Term:
    """One variable after time-series operators.

    Attributes
    ----------
    var : str
        Data column.
    lag : int
        Net lag (negative for leads, ``F.``).
    diff : int
        Order of differencing (``D.``).
    """

    var: str
    lag: int = 0
    diff: int = 0

    @property
    def name(self) -> str:
        """Stata ``e(b)`` name, e.g. ``L.n``, ``L2.n``, ``D.w``, ``F.k``, ``LD.w``."""
        prefix = ""
        if self.lag > 0:
            prefix += "L" + ("" if self.lag == 1 else str(self.lag))
        elif self.lag < 0:
            prefix += "F" + ("" if self.lag == -1 else str(-self.lag))
        if self.diff > 0:
            prefix += "D" + ("" if self.diff == 1 else str(self.diff))
        return f"{prefix}.{self.var}" if prefix else self.var


@dataclass(frozen=True, slots=True)
class GmmGroup:
    """One ``gmm()`` option: GMM-style instruments.

    ``lag = (a, b)`` with ``b = None`` for "as deep as the data allow" (Stata ``.``).
    ``equation`` is ``"diff"``, ``"level"`` or ``"both"`` (xtabond2's default).
    """

    terms: tuple[Term, ...]
    lag: tuple[int, int | None] = (1, None)
    collapse: bool = False
    equation: str = "both"
    passthru: bool = False

    @property
    def label(self) -> str:
        """Group label as xtabond2 prints it in the difference-in-Hansen table."""
        names = " ".join(t.name for t in self.terms)
        opts = ""
        if self.collapse:
            opts += " collapse"
        if self.passthru:
            opts += " passthru"
        if self.equation != "both":
            opts += f" eq({self.equation})"
        hi = "." if self.lag[1] is None else str(self.lag[1])
        return f"gmm({names},{opts} lag({self.lag[0]} {hi}))"


@dataclass(frozen=True, slots=True)
class IvGroup:
    """One ``iv()`` option: IV-style (one column per variable) instruments."""

    terms: tuple[Term, ...]
    equation: str = "both"
    passthru: bool = False
    mz: bool = False

    @property
    def label(self) -> str:
        """Group label as xtabond2 prints it in the difference-in-Hansen table."""
        names = " ".join(t.name for t in self.terms)
        extra = []
        if self.passthru:
            extra.append("passthru")
        if self.mz:
            extra.append("mz")
        if self.equation != "both":
            extra.append(f"eq({self.equation})")
        return f"iv({names}" + (", " + " ".join(extra) if extra else "") + ")"


@dataclass(frozen=True, slots=True)
class GmmCommand:
    """A parsed xtabond2 command.

    ``system`` is False under ``noleveleq`` (difference GMM). ``h`` is xtabond2's
    ``h()`` option for the one-step weighting matrix (default 3). ``factors`` lists the
    indicator columns that factor terms (``i.year``) stand for; ``variables`` names them
    as columns, so the data need them added (:func:`bayes_kfdi.gmm.factors.add_dummies`).
    ``condition`` is the ``if`` qualifier, if any.
    """

    command: str
    depvar: Term
    regressors: tuple[Term, ...]
    gmm: tuple[GmmGroup, ...] = ()
    iv: tuple[IvGroup, ...] = ()
    twostep: bool = False
    robust: bool = False
    small: bool = False
    orthogonal: bool = False
    system: bool = True
    constant: bool = True
    h: int = 3
    artests: int = 2
    diffsargan: bool = True
    level: float = 95.0
    variables: tuple[str, ...] = field(default=())
    factors: tuple[FactorDummy, ...] = ()
    condition: Condition | None = None

    @property
    def has_constant(self) -> bool:
        """xtabond2 adds ``_cons`` only in system GMM without ``noconstant``."""
        return self.system and self.constant


# ---------------------------------------------------------------------------
# tokenising


def _split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` at ``sep`` characters that are outside parentheses."""
    parts, depth, cur = [], 0, []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if quoted:
            cur.append(ch)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise SpecificationError(
                    f"Unbalanced parentheses: an unexpected ')' in {text!r}. "
                    "Expected every ')' to close an earlier '('. Fix the parentheses."
                )
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth != 0:
        raise SpecificationError(
            f"Unbalanced parentheses: {depth} unclosed '(' in {text!r}. "
            "Expected every '(' to be closed. Fix the parentheses."
        )
    parts.append("".join(cur))
    return parts


def _varlist_tokens(text: str) -> list[str]:
    """Whitespace-separated tokens, keeping ``L(0/1).(w k)`` and ``L(1 2).x`` together."""
    tokens, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch.isspace() and depth == 0:
            if cur:
                tokens.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
    if cur:
        tokens.append("".join(cur))
    return tokens


def _option_tokens(text: str) -> list[tuple[str, str | None, str]]:
    """Split an option string into ``(name, argument or None, raw token)`` triples."""
    out: list[tuple[str, str | None, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace() or text[i] == ",":
            i += 1
            continue
        m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[i:])
        if not m:
            raise SpecificationError(
                f"Malformed option at {text[i:]!r}. Expected an option name such as "
                "gmm(...), iv(...), twostep or robust. Fix the option list."
            )
        name = m.group(0)
        j = i + len(name)
        while j < n and text[j] == " ":
            j += 1
        if j < n and text[j] == "(":
            depth, k = 0, j
            while k < n:
                if text[k] == "(":
                    depth += 1
                elif text[k] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            if depth != 0:
                raise SpecificationError(
                    f"Unbalanced parentheses in option {text[i:]!r}. "
                    "Expected a closing ')'. Fix the parentheses."
                )
            out.append((name, text[j + 1 : k], text[i : k + 1]))
            i = k + 1
        else:
            out.append((name, None, name))
            i = j
    return out


def _abbrev(token: str, spec: str) -> bool:
    """Return True if ``token`` abbreviates Stata option ``spec`` (upper case = minimum)."""
    minimum = len(spec) - len(spec.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    if spec.startswith("no") and spec[2:3].isupper():
        minimum = 2 + len(spec[2:]) - len(spec[2:].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    minimum = max(minimum, 1)
    tok = token.lower()
    return len(tok) >= minimum and spec.lower().startswith(tok)


def _match_option(token: str, specs: Sequence[str], where: str) -> str:
    for spec in specs:
        if _abbrev(token, spec):
            return spec
    raise SpecificationError(
        f"Unknown option {token!r} in {where}. Expected one of "
        f"{', '.join(s.lower() for s in specs)} (or their Stata abbreviations). "
        "Remove or correct the option."
    )


# ---------------------------------------------------------------------------
# varlists


def _parse_ops(prefix: str, token: str) -> list[list[tuple[int, int]]]:
    """Expand an operator prefix such as ``L(0/2)D`` into alternatives of (lag, diff)."""
    choices: list[list[tuple[int, int]]] = [[(0, 0)]]
    pos = 0
    count = 0
    while pos < len(prefix):
        m = _OP_RE.match(prefix, pos)
        if not m or m.end() == pos:
            raise SpecificationError(
                f"Malformed time-series operator {prefix!r} in {token!r}. Expected L., L2., "
                "L(0/2)., D., F. or a combination such as LD.. Fix the operator."
            )
        count += 1
        if count > _MAX_OPS_PER_TERM:
            raise SpecificationError(f"Too many operators in {token!r}. Simplify the term.")
        letter, arg = m.group(1).upper(), m.group(2)
        if arg is None:
            values = [1]
        elif arg.startswith("("):
            inner = arg[1:-1].strip()
            if "/" in inner:
                lo, hi = (int(x) for x in inner.split("/"))
                if lo > hi:
                    raise SpecificationError(
                        f"Reversed operator range {arg!r} in {token!r}: {lo} > {hi}. Expected "
                        f"({hi}/{lo}). Write the smaller number first."
                    )
                values = list(range(lo, hi + 1))
            else:
                values = [int(x) for x in inner.split()]
        else:
            values = [int(arg)]
        new = []
        for alt in choices:
            for v in values:
                new.append(alt + [(v if letter == "L" else (-v if letter == "F" else 0),
                                   v if letter == "D" else 0)])
        choices = new
        pos = m.end()
    return choices


def _expand_names(pattern: str, columns: Sequence[str], token: str) -> list[str]:
    if "-" in pattern:
        lo, _, hi = pattern.partition("-")
        for end in (lo, hi):
            if end not in columns:
                raise SpecificationError(
                    f"Unknown variable {end!r} in range {token!r}. Expected a data column; "
                    f"available columns include {', '.join(list(columns)[:12])}. Fix the name."
                )
        i, j = list(columns).index(lo), list(columns).index(hi)
        if i > j:
            raise SpecificationError(
                f"Reversed variable range {token!r}: {lo!r} comes after {hi!r} in the data. "
                f"Expected {hi}-{lo}. Swap the two names."
            )
        return list(columns)[i : j + 1]
    if not _PATTERN_RE.match(pattern):
        raise SpecificationError(
            f"Malformed variable name {token!r}. Expected a name, a wildcard such as yr* "
            "or a range such as yr1980-yr1984. Fix the varlist."
        )
    if any(c in pattern for c in "*?~"):
        pat = pattern.replace("~", "?")
        hits = [c for c in columns if fnmatch.fnmatchcase(c, pat)]
        if not hits:
            raise SpecificationError(
                f"Wildcard {token!r} matches no data column. Expected at least one match. "
                "Fix the pattern."
            )
        return hits
    if pattern not in columns:
        raise SpecificationError(
            f"Unknown variable {pattern!r} in {token!r}. Expected a data column; available "
            f"columns include {', '.join(list(columns)[:12])}. Fix the name or add the column."
        )
    return [pattern]


def _factor_terms(token: str, columns: Sequence[str], data: object,
                  dummies: dict[str, FactorDummy] | None) -> list[Term] | None:
    """Terms of a factor token (``i.year``, ``ib1980.year``, ``i.(a b)``); None otherwise."""
    if "#" in token:
        raise SpecificationError(
            f"Interactions such as {token!r} are not supported. Create the product as a "
            "column and name it instead."
        )
    m = FACTOR_RE.match(token)
    if m is None:
        return None
    op, body = m.group(1), m.group(2)
    names = body[1:-1].split() if body.startswith("(") and body.endswith(")") else [body]
    if op == "c":
        return [Term(x) for n in names for x in _expand_names(n, columns, token)]
    out: list[Term] = []
    for name in names:
        if not _NAME_RE.match(name):
            raise SpecificationError(
                f"Malformed factor variable {token!r}. Expected i.name, e.g. i.year. "
                "Fix the term."
            )
        for d in expand_factor(op, name, data, token):  # type: ignore[arg-type]
            if dummies is not None:
                dummies[d.column] = d
            out.append(Term(d.column))
    return out


def parse_varlist(text: str, columns: Sequence[str], *, data: object = None,
                  dummies: dict[str, FactorDummy] | None = None) -> list[Term]:
    """Parse a Stata varlist with time-series operators into terms (order preserved).

    Factor terms (``i.year``) need ``data`` for their levels; their indicator columns
    are recorded in ``dummies``.
    """
    terms: list[Term] = []
    for token in _varlist_tokens(text):
        factor = _factor_terms(token, columns, data, dummies)
        if factor is not None:
            terms.extend(factor)
            continue
        prefix, body = "", token
        m = re.match(r"^((?:[LlDdFf](?:\d+|\([^()]*\))?)+)\.(.+)$", token)
        if m:
            prefix, body = m.group(1), m.group(2)
            if FACTOR_RE.match(body) and not body.startswith("c."):
                raise SpecificationError(
                    f"Time-series operators on factor variables ({token!r}) are not "
                    "supported. Write the factor term without the operator, e.g. i.year."
                )
        elif "." in token:
            raise SpecificationError(
                f"Malformed term {token!r}. Expected an operator such as L., L2., L(0/2)., D. "
                "or F. before the dot. Fix the term."
            )
        op_alts = _parse_ops(prefix, token) if prefix else [[(0, 0)]]
        if body.startswith("("):
            if not body.endswith(")"):
                raise SpecificationError(
                    f"Unbalanced parentheses in {token!r}. Expected a group such as "
                    "L(0/1).(w k). Fix the parentheses."
                )
            inner = parse_varlist(body[1:-1], columns, data=data, dummies=dummies)
        else:
            inner = [Term(n) for n in _expand_names(body, columns, token)]
        # Stata expands operator ranges outermost: L(0/1).(w k) -> w L.w k L.k
        for base in inner:
            for alt in op_alts:
                lag = base.lag + sum(a for a, _ in alt)
                diff = base.diff + sum(d for _, d in alt)
                terms.append(Term(base.var, lag, diff))
    return terms


# ---------------------------------------------------------------------------
# options

_MAIN_OPTIONS = (
    "GMMstyle",
    "IVstyle",
    "Robust",
    "TWOstep",
    "noConstant",
    "noLeveleq",
    "ORthogonal",
    "SMall",
    "ARtests",
    "H",
    "noDiffsargan",
    "Level",
)
_UNSUPPORTED = ("cluster", "pca", "components", "svmat", "svvar", "arlevels", "dpds2", "split")


def _equation(arg: str | None, token: str) -> str:
    if arg is None:
        raise SpecificationError(f"equation() needs an argument in {token!r}. Use eq(diff), "
                                 "eq(level) or eq(both).")
    words = arg.split()
    if len(words) != 1:
        raise SpecificationError(
            f"equation({arg}) invalid in {token!r}. Expected exactly one of diff, level, both."
        )
    return _match_option(words[0], ("Diff", "Level", "Both"), f"equation() of {token!r}").lower()


def _split_inner(arg: str, token: str) -> tuple[str, str]:
    parts = _split_top(arg, ",")
    if len(parts) > 2:
        raise SpecificationError(f"Too many commas in {token!r}. Expected varlist[, options].")
    varpart = parts[0].strip()
    if not varpart:
        raise SpecificationError(f"Empty varlist in {token!r}. Expected at least one variable.")
    return varpart, parts[1] if len(parts) == 2 else ""


def _parse_laglimits(arg: str | None, token: str) -> tuple[int, int | None]:
    if arg is None:
        raise SpecificationError(f"laglimits() needs two arguments in {token!r}, e.g. lag(2 4).")
    words = arg.replace(",", " ").split()
    if len(words) != 2:
        raise SpecificationError(
            f"Laglimits({arg}) must have two arguments in {token!r}; saw {len(words)}. "
            "Use lag(a b) with b = . for no upper limit."
        )
    vals: list[int | None] = []
    for w in words:
        if w == ".":
            vals.append(None)
            continue
        try:
            vals.append(int(w))
        except ValueError:
            raise SpecificationError(
                f"Laglimits({arg}) invalid in {token!r}: {w!r} is not an integer or '.'."
            ) from None
    a, b = vals
    if a is None:
        a = 1
    if b is not None and a > b:
        raise SpecificationError(
            f"Reversed lag range lag({arg}) in {token!r}: {a} > {b}. Expected lag({b} {a}). "
            "Write the shorter lag first (xtabond2 would silently swap them)."
        )
    return a, b


def _parse_gmm(arg: str | None, token: str, columns: Sequence[str], data: object,
               dummies: dict[str, FactorDummy]) -> GmmGroup:
    if arg is None:
        raise SpecificationError(f"gmm needs an argument: {token!r}. Use gmm(varlist, ...).")
    varpart, optpart = _split_inner(arg, token)
    terms = tuple(parse_varlist(varpart, columns, data=data, dummies=dummies))
    lag: tuple[int, int | None] = (1, None)
    collapse = passthru = False
    equation = "both"
    for name, sub, raw in _option_tokens(optpart):
        spec = _match_option(name, ("Equation", "Laglimits", "Collapse", "Passthru",
                                    "Orthogonal", "SPlit"), f"gmm() suboption {raw!r}")
        if spec == "Equation":
            equation = _equation(sub, token)
        elif spec == "Laglimits":
            lag = _parse_laglimits(sub, token)
        elif spec in ("Collapse", "Passthru") and sub is not None:
            raise SpecificationError(f"Suboption {raw!r} takes no argument in {token!r}.")
        elif spec == "Collapse":
            collapse = True
        elif spec == "Passthru":
            passthru = True
        else:
            raise SpecificationError(
                f"gmm() suboption {raw!r} is not supported by bayes_kfdi. Remove it."
            )
    return GmmGroup(terms, lag, collapse, equation, passthru)


def _parse_iv(arg: str | None, token: str, columns: Sequence[str], data: object,
              dummies: dict[str, FactorDummy]) -> IvGroup:
    if arg is None:
        raise SpecificationError(f"iv needs an argument: {token!r}. Use iv(varlist, ...).")
    varpart, optpart = _split_inner(arg, token)
    terms = tuple(parse_varlist(varpart, columns, data=data, dummies=dummies))
    equation, passthru, mz = "both", False, False
    for name, sub, raw in _option_tokens(optpart):
        spec = _match_option(name, ("Equation", "Passthru", "MZ"), f"iv() suboption {raw!r}")
        if spec == "Equation":
            equation = _equation(sub, token)
        elif sub is not None:
            raise SpecificationError(f"Suboption {raw!r} takes no argument in {token!r}.")
        elif spec == "Passthru":
            passthru = True
        else:
            mz = True
    return IvGroup(terms, equation, passthru, mz)


def _parse_options(opttext: str, columns: Sequence[str], data: object,
                   dummies: dict[str, FactorDummy]
                   ) -> tuple[dict[str, object], list[GmmGroup], list[IvGroup]]:
    """Parse the option list after the comma: flags, numbers, gmm() and iv() groups."""
    kw: dict[str, object] = {}
    gmm: list[GmmGroup] = []
    iv: list[IvGroup] = []
    for name, arg, raw in _option_tokens(opttext):
        if name.lower() in _UNSUPPORTED:
            raise SpecificationError(
                f"Option {raw!r} is not supported by bayes_kfdi. Remove it."
            )
        spec = _match_option(name, _MAIN_OPTIONS, f"option {raw!r}")
        takes_arg = spec in ("GMMstyle", "IVstyle", "ARtests", "H", "Level")
        if takes_arg and arg is None:
            raise SpecificationError(f"Option {raw!r} needs an argument, e.g. {spec.lower()}(...).")
        if not takes_arg and arg is not None:
            raise SpecificationError(f"Option {raw!r} takes no argument. Write {name} alone.")
        if spec == "GMMstyle":
            gmm.append(_parse_gmm(arg, raw, columns, data, dummies))
        elif spec == "IVstyle":
            iv.append(_parse_iv(arg, raw, columns, data, dummies))
        elif spec in ("ARtests", "H", "Level"):
            try:
                value = float(arg) if spec == "Level" else int(str(arg).strip())
            except ValueError:
                raise SpecificationError(f"Option {raw!r} needs a number; saw {arg!r}.") from None
            if spec == "H" and value not in (1, 2, 3):
                raise SpecificationError(f"h({arg}) invalid. Expected h(1), h(2) or h(3).")
            if spec == "ARtests" and not 1 <= value <= 20:
                raise SpecificationError(f"artests({arg}) invalid. Expected 1..20.")
            if spec == "Level" and not 10 <= value < 100:
                raise SpecificationError(f"level({arg}) invalid. Expected a number in [10, 100).")
            kw[{"ARtests": "artests", "H": "h", "Level": "level"}[spec]] = value
        else:
            key = {
                "Robust": "robust",
                "TWOstep": "twostep",
                "noConstant": "constant",
                "noLeveleq": "system",
                "ORthogonal": "orthogonal",
                "SMall": "small",
                "noDiffsargan": "diffsargan",
            }[spec]
            kw[key] = spec not in ("noConstant", "noLeveleq", "noDiffsargan")
    return kw, gmm, iv


def parse_xtabond2(cmd: str, columns: Sequence[str], data: object = None) -> GmmCommand:
    """Parse an xtabond2 command against the data's column names.

    Parameters
    ----------
    cmd : str
        The command, e.g. ``"xtabond2 n L.n w k i.year if year >= 1980, gmm(L.n)
        iv(w k i.year) twostep robust"``; the leading ``xtabond2`` is optional.
    columns : sequence of str
        Data columns in their order (for wildcards and ranges).
    data : pandas.DataFrame, optional
        The data; needed only for factor terms such as ``i.year`` (their levels).

    Returns
    -------
    GmmCommand

    Raises
    ------
    SpecificationError
        Unknown or malformed syntax; the message names the offending token.
    """
    if not isinstance(cmd, str) or not cmd.strip():
        raise SpecificationError(
            f"Empty command {cmd!r}. Expected 'xtabond2 depvar regressors, options'."
        )
    text = " ".join(cmd.strip().split())
    first = text.split(" ", 1)[0]
    if first.lower() in ("xtabond2", "xtabond", "xtab2"):
        if first.lower() != "xtabond2":
            raise SpecificationError(
                f"Command {first!r} is not supported. Expected 'xtabond2'."
            )
        text = text[len(first):].strip()
    parts = _split_top(text, ",")
    if len(parts) > 2:
        raise SpecificationError(
            f"Too many top-level commas in {cmd!r}; saw {len(parts) - 1}. Expected one comma "
            "between the varlist and the options."
        )
    varpart, condition = split_qualifier(parts[0].strip(), cmd, columns)
    dummies: dict[str, FactorDummy] = {}
    varlist = parse_varlist(varpart, columns, data=data, dummies=dummies)
    if not varlist:
        raise SpecificationError(f"No dependent variable in {cmd!r}. Expected 'depvar regressors'.")
    depvar, regressors = varlist[0], tuple(varlist[1:])
    names = [t.name for t in regressors]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SpecificationError(
            f"Regressor(s) {', '.join(dup)} listed twice in {cmd!r}. Expected each once."
        )
    if depvar.name in names:
        raise SpecificationError(
            f"Dependent variable {depvar.name!r} also appears among the regressors. Remove it."
        )

    kw, gmm, iv = _parse_options(parts[1] if len(parts) == 2 else "", columns, data, dummies)
    system = bool(kw.get("system", True))
    if system:
        for g in gmm:
            if g.passthru and g.equation == "both":
                raise SpecificationError(
                    f"passthru not valid with equation(both) in system GMM: {g.label}."
                )
        for v in iv:
            if v.passthru and v.equation == "both":
                raise SpecificationError(
                    f"passthru not valid with equation(both) in system GMM: {v.label}."
                )
    else:
        # xtabond2: "Instruments for levels equations only ignored since noleveleq specified."
        gmm = [g for g in gmm if g.equation != "level"]
        iv = [v for v in iv if v.equation != "level"]
    used = {depvar.var, *(t.var for t in regressors)}
    for g in gmm:
        used.update(t.var for t in g.terms)
    for v in iv:
        used.update(t.var for t in v.terms)
    return GmmCommand(
        command=" ".join(cmd.strip().split()),
        depvar=depvar,
        regressors=regressors,
        gmm=tuple(gmm),
        iv=tuple(iv),
        variables=tuple(sorted(used)),
        factors=tuple(dummies.values()),
        condition=condition,
        **kw,  # type: ignore[arg-type]
    )
