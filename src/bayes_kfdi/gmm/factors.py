"""Stata factor variables (``i.year``) for xtabond2 commands.

A factor term becomes one indicator column per level, named as Stata names the
coefficient (``1977.year``). Levels come from the whole data set and the base level is
left out, as ``fvexpand`` does before xtabond2 sees the varlist: ``i.`` omits the lowest
level, ``ib#.`` level ``#``, ``ib(first|last|freq).`` the first, last or most frequent,
``ibn.`` none, and ``i(numlist).`` keeps only the listed levels (omitting the lowest
level of the variable if it is listed). A level that is empty in the estimation sample
is dropped later as collinear, as xtabond2 does.

Numeric factor columns must hold non-negative integers (Stata's rule); text columns
are accepted too, their levels sorted as text (or in categorical order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayes_kfdi.exceptions import DataError, SpecificationError

__all__ = ["FactorDummy", "FACTOR_RE", "expand_factor", "add_dummies"]

#: ``i.``, ``ib1980.``, ``ibn.``, ``ib(last).``, ``i(1980/1984).`` or ``c.`` before a name.
FACTOR_RE = re.compile(r"^(i|ibn|ib\d+|ib\(\s*[^()]*\)|i\((?:[^()]|\([^()]*\))*\)|c)\.(.+)$")


@dataclass(frozen=True, slots=True)
class FactorDummy:
    """One indicator column of a factor variable.

    Attributes
    ----------
    column : str
        Stata coefficient name, ``"<level>.<var>"``, e.g. ``"1977.year"``.
    var : str
        The factor column in the data.
    level : float or str
        The level the indicator marks.
    """

    column: str
    var: str
    level: Any


def _numlist(text: str, token: str) -> list[float]:
    """Stata numlist: ``1980/1984``, ``1980 1982``, ``1980(2)1984``."""
    out: list[float] = []
    for part in text.replace(",", " ").split():
        m = re.fullmatch(r"(-?\d+)(?:/(-?\d+)|\((\d+)\)(-?\d+))?", part)
        if not m:
            raise SpecificationError(
                f"Malformed level list {text!r} in {token!r}. Expected integers such as "
                "i(1980/1984).year or i(1980 1982).year. Fix the list."
            )
        lo = int(m.group(1))
        if m.group(2) is not None:
            hi, step = int(m.group(2)), 1
        elif m.group(4) is not None:
            hi, step = int(m.group(4)), int(m.group(3))
        else:
            hi, step = lo, 1
        if hi < lo or step < 1:
            raise SpecificationError(
                f"Reversed or empty level range {part!r} in {token!r}. Write the smaller "
                "level first, e.g. i(1980/1984).year."
            )
        out.extend(float(v) for v in range(lo, hi + 1, step))
    if not out:
        raise SpecificationError(f"Empty level list in {token!r}. Expected i(1980/1984).var.")
    return out


def _levels(col: pd.Series, var: str, token: str) -> tuple[list[Any], bool]:
    """Sorted non-missing levels of ``col`` and whether they are numeric."""
    values = col.dropna()
    if values.empty:
        raise DataError(
            f"Factor variable {var!r} in {token!r} has no non-missing value. Expected at "
            "least one level. Fill the column or drop the term."
        )
    if isinstance(col.dtype, pd.CategoricalDtype):
        present = set(values.unique())
        return [c for c in col.cat.categories if c in present], False
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and not pd.api.types.is_string_dtype(values.dtype):
        arr = numeric.to_numpy(dtype=float)
        if np.any(arr < 0) or np.any(arr != np.round(arr)):
            bad = arr[(arr < 0) | (arr != np.round(arr))][0]
            raise DataError(
                f"Factor variable {var!r} in {token!r} has the value {bad:g}; expected "
                "non-negative integers, as Stata requires. Recode the column (or use a "
                "text column)."
            )
        return sorted(set(arr.tolist())), True
    return sorted({str(v) for v in values}), False


def _label(level: Any, var: str, numeric: bool) -> str:
    return f"{int(level)}.{var}" if numeric else f"{level}.{var}"


def _base(op: str, levels: list[Any], counts: pd.Series, numeric: bool,
          token: str) -> Any:
    """Return the omitted level, or None for ``ibn.``."""
    if op in ("i", "c") or op.startswith("i("):
        return levels[0]
    if op == "ibn":
        return None
    arg = op[2:].strip("()").strip()
    if arg in ("first", "last"):
        return levels[0] if arg == "first" else levels[-1]
    if arg == "freq":
        return counts.idxmax()
    try:
        want: Any = float(arg.lstrip("#")) if numeric else arg
    except ValueError:
        raise SpecificationError(
            f"Base level {arg!r} in {token!r} is not a number. Expected ib#., ib(first), "
            "ib(last), ib(freq) or ibn.. Fix the operator."
        ) from None
    if want not in levels:
        shown = ", ".join(_label(v, "", numeric).rstrip(".") for v in levels[:8])
        raise SpecificationError(
            f"Base level {arg} in {token!r} is not a level of the variable; its levels "
            f"include {shown}. Pick one of them."
        )
    return want


def expand_factor(op: str, var: str, data: pd.DataFrame | None, token: str) -> list[FactorDummy]:
    """Expand one factor term such as ``i.year`` into its indicator columns.

    Parameters
    ----------
    op : str
        The operator before the dot: ``i``, ``ib1980``, ``ibn``, ``ib(last)``,
        ``i(1980/1984)``.
    var : str
        The data column.
    data : pandas.DataFrame or None
        The data; factor terms need it for their levels.
    token : str
        The command token, for messages.

    Returns
    -------
    list of FactorDummy
        One per non-base level, in level order.
    """
    if data is None:
        raise SpecificationError(
            f"Factor variable {token!r} needs the data to find its levels. Pass the data "
            "frame (xtabond2(df, cmd, ...) does)."
        )
    if var not in data.columns:
        cols = ", ".join(str(c) for c in list(data.columns)[:12])
        raise SpecificationError(
            f"Unknown variable {var!r} in {token!r}. Expected a data column; available "
            f"columns include {cols}. Fix the name."
        )
    col = data[var]
    levels, numeric = _levels(col, var, token)
    counts = (pd.to_numeric(col, errors="coerce") if numeric else col.astype(str)).value_counts(
        sort=False).sort_index()
    base = _base(op, levels, counts, numeric, token)
    keep = levels
    if op.startswith("i("):
        wanted = _numlist(op[2:-1], token)
        missing = [w for w in wanted if w not in levels]
        if missing or not numeric:
            raise SpecificationError(
                f"Level(s) {', '.join(f'{m:g}' for m in missing) or op[2:-1]} in {token!r} "
                f"are not numeric levels of {var!r}. Expected levels present in the data."
            )
        keep = [v for v in levels if v in wanted]
    return [FactorDummy(_label(v, var, numeric), var, v) for v in keep if v != base]


def add_dummies(frame: pd.DataFrame, dummies: tuple[FactorDummy, ...]) -> pd.DataFrame:
    """Return ``frame`` with the indicator columns added (NaN where the factor is missing)."""
    if not dummies:
        return frame
    cols: dict[str, np.ndarray] = {}
    for d in dummies:
        col = frame[d.var]
        if isinstance(d.level, str):
            hit = col.astype(str).to_numpy() == d.level
        else:
            hit = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float) == d.level
        cols[d.column] = np.where(col.isna().to_numpy(), np.nan, hit.astype(float))
    return pd.concat([frame, pd.DataFrame(cols, index=frame.index)], axis=1)
