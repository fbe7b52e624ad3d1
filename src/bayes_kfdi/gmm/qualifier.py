"""Stata ``if`` qualifiers for xtabond2 commands, parsed without ``eval``.

Supported: comparisons ``==  !=  ~=  <  <=  >  >=`` between columns, numbers, double-quoted
strings and ``.`` (missing); ``&``, ``|``, ``!``/``~`` and parentheses; a bare column
(true where non-zero); ``missing(var)``, ``inlist(var, v1, v2, ...)`` and
``inrange(var, lo, hi)``. Precedence is Stata's: ``!`` binds tightest, then comparisons,
then ``&``, then ``|``.

Semantics are Stata's: a missing number is larger than every number (so ``x > 5`` holds
where ``x`` is missing), a missing string equals ``""``. As in xtabond2, the qualifier
marks the estimation sample; lags and differences still read the rows it leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_kfdi._typing import BoolArray
from bayes_kfdi.exceptions import DataError, SpecificationError

__all__ = ["Condition", "parse_condition", "split_qualifier"]

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<num>\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)
      | (?P<str>"[^"]*")
      | (?P<op>==|!=|~=|>=|<=|>|<|&|\||!|~|\(|\)|,|-|\.)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<bad>\S)
    )""",
    re.VERBOSE,
)
_COMPARE = ("==", "!=", "~=", ">=", "<=", ">", "<")
_FUNCS = ("missing", "inlist", "inrange")
_ARITH = "+*/^="


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed ``if`` qualifier.

    Attributes
    ----------
    text : str
        The qualifier as written.
    tree : tuple
        Nested tuples: ``("or"|"and", a, b)``, ``("not", a)``, ``("cmp", op, a, b)``,
        ``("call", name, args)``, ``("truth", a)``; leaves ``("var", name)``,
        ``("num", x)``, ``("str", s)``, ``("miss",)``.
    variables : tuple of str
        Columns the qualifier reads.
    """

    text: str
    tree: tuple
    variables: tuple[str, ...]

    def mask(self, data: pd.DataFrame) -> BoolArray:
        """Rows of ``data`` where the qualifier holds."""
        hit = _truth(_eval(self.tree, data, self.text), self.text)
        return np.broadcast_to(np.asarray(hit, dtype=bool), (len(data),)).copy()


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            break
        kind = m.lastgroup or "bad"
        value = m.group(kind)
        if kind == "bad":
            what = "Arithmetic" if value in _ARITH else "The character"
            raise SpecificationError(
                f"{what} {value!r} in the if qualifier {text!r} is not supported. Expected "
                "comparisons (== != < <= > >=) joined by & and |, e.g. "
                "if year >= 1990 & series == \"electronics\"."
            )
        out.append((kind, value))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, columns: Sequence[str]) -> None:
        self.text = text
        self.columns = list(columns)
        self.toks = _tokens(text)
        self.i = 0
        self.used: list[str] = []

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            seen = "the end" if tok is None else repr(tok[1])
            want = repr(value) if value else "a value"
            raise SpecificationError(
                f"Malformed if qualifier {self.text!r}: expected {want}, saw {seen}. "
                "Write e.g. if year >= 1990 & series == \"electronics\"."
            )
        self.i += 1
        return tok

    def parse(self) -> tuple:
        if not self.toks:
            raise SpecificationError("Empty if qualifier. Write e.g. if year >= 1990.")
        tree = self.disjunction()
        tok = self.peek()
        if tok is not None:
            raise SpecificationError(
                f"Malformed if qualifier {self.text!r}: unexpected {tok[1]!r}. Join "
                "conditions with & or |, e.g. if year >= 1990 & series == \"electronics\"."
            )
        return tree

    def disjunction(self) -> tuple:
        node = self.conjunction()
        while self.peek() == ("op", "|"):
            self.take()
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> tuple:
        node = self.comparison()
        while self.peek() == ("op", "&"):
            self.take()
            node = ("and", node, self.comparison())
        return node

    def comparison(self) -> tuple:
        tok = self.peek()
        if tok in (("op", "!"), ("op", "~")):
            self.take()
            return ("not", self.comparison())
        left = self.operand()
        tok = self.peek()
        if tok is not None and tok[1] in _COMPARE:
            self.take()
            op = "!=" if tok[1] == "~=" else tok[1]
            return ("cmp", op, left, self.operand())
        return left if left[0] in ("or", "and", "not", "cmp", "call") else ("truth", left)

    def operand(self) -> tuple:
        kind, value = self.take()
        if kind == "num":
            return ("num", float(value))
        if kind == "str":
            return ("str", value[1:-1])
        if value == "-":
            k2, v2 = self.take()
            if k2 != "num":
                raise SpecificationError(
                    f"Arithmetic '-' in the if qualifier {self.text!r} is not supported. "
                    "Compare a column with a number, e.g. if x > -1."
                )
            return ("num", -float(v2))
        if value == ".":
            return ("miss",)
        if value == "(":
            node = self.disjunction()
            self.take(")")
            return node
        if kind == "name" and self.peek() == ("op", "("):
            return self.call(value)
        if kind == "name":
            return self.var(value)
        raise SpecificationError(
            f"Malformed if qualifier {self.text!r}: unexpected {value!r}. Write e.g. "
            "if year >= 1990 & series == \"electronics\"."
        )

    def var(self, name: str) -> tuple:
        if name not in self.columns:
            shown = ", ".join(self.columns[:12])
            raise SpecificationError(
                f"Unknown variable {name!r} in the if qualifier {self.text!r}. Expected a data "
                f"column; available columns include {shown}. Fix the name."
            )
        self.used.append(name)
        return ("var", name)

    def call(self, name: str) -> tuple:
        if name not in _FUNCS:
            raise SpecificationError(
                f"Function {name}() in the if qualifier {self.text!r} is not supported. "
                f"Expected one of {', '.join(f + '()' for f in _FUNCS)}."
            )
        self.take("(")
        args = [self.operand()]
        while self.peek() == ("op", ","):
            self.take()
            args.append(self.operand())
        self.take(")")
        need = {"missing": (1, 1), "inrange": (3, 3), "inlist": (2, 250)}[name]
        if not need[0] <= len(args) <= need[1] or args[0][0] != "var":
            raise SpecificationError(
                f"{name}() in the if qualifier {self.text!r} takes a column and "
                f"{need[0] - 1} to {need[1] - 1} value(s); saw {len(args)} argument(s)."
            )
        return ("call", name, tuple(args))


def parse_condition(text: str, columns: Sequence[str]) -> Condition:
    """Parse an ``if`` qualifier against the data's column names.

    Raises
    ------
    SpecificationError
        Unknown columns, unsupported operators or functions, malformed expressions.
    """
    p = _Parser(text.strip(), columns)
    tree = p.parse()
    return Condition(text.strip(), tree, tuple(dict.fromkeys(p.used)))


def split_qualifier(varpart: str, cmd: str,
                     columns: Sequence[str]) -> tuple[str, Condition | None]:
    """Split ``depvar regressors if <expr>`` into the varlist and the parsed condition.

    ``in`` ranges and weights are refused with a message naming them.
    """
    m = re.search(r"(?:^|\s)if(?:\s|\(|$)", varpart)
    text, condition = varpart, None
    if m:
        text = varpart[: m.start()]
        condition = parse_condition(varpart[m.end() - (varpart[m.end() - 1] == "("):], columns)
    for word in (" in ", "["):
        if word in f" {text} ":
            raise SpecificationError(
                f"'{word.strip()}' qualifiers and weights are not supported in {cmd!r}. "
                "Use an if qualifier (if year >= 1990) or subset the data frame instead."
            )
    return text, condition


# ---------------------------------------------------------------------------
# evaluation


def _value(node: tuple, data: pd.DataFrame, text: str) -> tuple[str, object]:
    """Evaluate a leaf to ``("num", float array or float)`` or ``("str", ...)``."""
    kind = node[0]
    if kind == "num":
        return "num", node[1]
    if kind == "str":
        return "str", node[1]
    if kind == "miss":
        return "num", np.inf
    if kind == "var":
        col = data[node[1]]
        if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col):
            return "num", np.nan_to_num(col.to_numpy(dtype=float), nan=np.inf)
        if pd.api.types.is_bool_dtype(col.dtype):
            return "num", col.to_numpy(dtype=float)
        return "str", col.fillna("").astype(str).to_numpy()
    raise SpecificationError(
        f"A comparison in the if qualifier {text!r} compares a condition, not a value. "
        "Compare columns with numbers or strings."
    )


def _compare(op: str, a: object, b: object) -> np.ndarray:
    fn = {"==": np.equal, "!=": np.not_equal, ">=": np.greater_equal, "<=": np.less_equal,
          ">": np.greater, "<": np.less}[op]
    return np.asarray(fn(a, b))


def _eval(node: tuple, data: pd.DataFrame, text: str) -> object:
    kind = node[0]
    if kind in ("or", "and"):
        a = _truth(_eval(node[1], data, text), text)
        b = _truth(_eval(node[2], data, text), text)
        return (a | b) if kind == "or" else (a & b)
    if kind == "not":
        return ~_truth(_eval(node[1], data, text), text)
    if kind == "truth":
        return _eval(node[1], data, text)
    if kind == "cmp":
        (ta, a), (tb, b) = _value(node[2], data, text), _value(node[3], data, text)
        if ta != tb:
            raise DataError(
                f"Type mismatch in the if qualifier {text!r}: a text value is compared with a "
                "number. Quote text values (\"...\") and compare numbers with numbers."
            )
        return _compare(node[1], a, b)
    if kind == "call":
        name, args = node[1], node[2]
        t0, x = _value(args[0], data, text)
        if name == "missing":
            return (x == np.inf) if t0 == "num" else (x == "")
        vals = [_value(a, data, text) for a in args[1:]]
        if any(t != t0 for t, _ in vals):
            raise DataError(
                f"Type mismatch in {name}() of the if qualifier {text!r}: expected values of "
                f"the same type as {args[0][1]!r}."
            )
        if name == "inrange":
            return (np.asarray(x) >= vals[0][1]) & (np.asarray(x) <= vals[1][1])
        return np.isin(np.asarray(x), [v for _, v in vals])
    return _value(node, data, text)[1]


def _truth(value: object, text: str) -> np.ndarray:
    if isinstance(value, tuple):  # pragma: no cover - defensive
        value = value[1]
    arr = np.asarray(value)
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind in "fiu":
        return arr != 0
    raise DataError(
        f"A text column is used as a condition in the if qualifier {text!r}. Compare it, "
        "e.g. series == \"electronics\"."
    )
