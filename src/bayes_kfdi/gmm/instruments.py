"""Panel frame, transformations and instrument blocks for xtabond2-style GMM.

Every array lives on a rectangular *frame* of shape ``(N, T)``: one row per group, one
column per time period from the sample's first to its last period (gaps are NaN). This
mirrors xtabond2's "filled out to NT rows" layout (Roodman 2009, sec. 4) and makes all
lags, differences and instrument blocks vectorised shifts along axis 1 -- no per-group
Python loops.

Stacked rows: difference GMM has ``R = T`` rows per group (the transformed equation);
system GMM has ``R = 2T`` (transformed rows ``0..T-1``, then levels rows ``T..2T-1``). Row
``g * R + eq * T + t`` is group ``g``, equation ``eq`` and period ``t``.

Instrument matrices are :mod:`scipy.sparse` CSC matrices over the *used* rows only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from bayes_kfdi._typing import BoolArray, Float64Array, IntArray
from bayes_kfdi.data.panel import check_grid
from bayes_kfdi.exceptions import DataError
from bayes_kfdi.gmm.syntax import GmmGroup, IvGroup, Term
from bayes_kfdi.validation import shorten

__all__ = [
    "Frame",
    "build_frame",
    "term_values",
    "first_difference",
    "forward_orthogonal",
    "InstrumentBlock",
    "iv_instruments",
    "gmm_instruments",
]


@dataclass(frozen=True, slots=True)
class Frame:
    """A panel on a rectangular (group x period) grid.

    Attributes
    ----------
    groups : (N,) object array of group labels (tuples when the entity has several columns)
    times : (T,) int array of calendar periods
    data : dict of column name -> (N, T) float array, NaN where missing or absent
    present : (N, T) bool, True where the data have a row
    """

    groups: np.ndarray
    times: IntArray
    data: dict[str, Float64Array]
    present: BoolArray

    @property
    def n(self) -> int:
        """Number of groups N."""
        return int(self.present.shape[0])

    @property
    def t(self) -> int:
        """Number of periods T."""
        return int(self.present.shape[1])

    def subset(self, keep: BoolArray) -> Frame:
        """Keep groups ``keep`` and trim periods to those groups' first..last period."""
        present = self.present[keep]
        cols = np.flatnonzero(present.any(axis=0))
        lo, hi = (cols[0], cols[-1] + 1) if cols.size else (0, 0)
        return Frame(
            groups=self.groups[keep],
            times=self.times[lo:hi],
            data={k: v[keep, lo:hi] for k, v in self.data.items()},
            present=present[:, lo:hi],
        )


def build_frame(
    df: pd.DataFrame, entity: str | Sequence[str], time: str, variables: Sequence[str]
) -> Frame:
    """Put the long panel ``df`` on a (group x period) grid.

    Raises
    ------
    DataError
        Missing columns, non-integer or missing time values, duplicate (entity, time) keys.
    """
    ent = [entity] if isinstance(entity, str) else list(entity)
    if not ent:
        raise DataError("No entity column given. Expected at least one column name.")
    if time in ent:
        raise DataError(
            f"The time column {time!r} is also the group column (--entity {','.join(ent)} "
            f"--time {time}). Expected different columns, as in xtset id year. Pass e.g. "
            "--entity country --time year."
        )
    missing = [c for c in [*ent, time] if c not in df.columns]
    if missing:
        raise DataError(
            f"Column(s) {missing} not in the data. Expected entity {ent} and time {time!r} "
            f"among {list(df.columns)[:15]}. Pass the right --entity/--time names."
        )
    if len(df) == 0:
        raise DataError("The data frame has no rows. Expected a non-empty long panel.")
    tv = df[time]
    if pd.api.types.is_datetime64_any_dtype(tv) or isinstance(tv.dtype, pd.PeriodDtype):
        first = tv.dropna()
        raise DataError(
            f"Time column {time!r} holds dates (e.g. "
            f"{str(first.iloc[0])[:10] if len(first) else 'none'}). Expected integer periods "
            f"such as 1990. Store the year only (df[{time!r}].dt.year)."
        )
    tplain = _plain_numeric(tv)
    tmiss = np.isnan(tplain) if tplain is not None and tplain.dtype.kind == "f" else (
        tv.isna().to_numpy() if tplain is None else None)
    if tmiss is not None and tmiss.any():
        raise DataError(
            f"Time column {time!r} has {int(tmiss.sum())} missing values. "
            "Expected every row to have a period. Drop or fill those rows."
        )
    if tplain is not None:
        tarr = tplain.astype(float)
    else:
        try:
            tnum = pd.to_numeric(tv)
        except (TypeError, ValueError):
            raise DataError(
                f"Time column {time!r} is not numeric (saw e.g. {shorten(tv.iloc[0])}). Expected "
                "integer periods such as years. Convert the column."
            ) from None
        tarr = np.asarray(tnum, dtype=float)
    if not np.all(np.isfinite(tarr)) or not np.all(tarr == np.round(tarr)):
        raise DataError(
            f"Time column {time!r} has non-integer values. Expected integer periods."
        )
    tint = tarr.astype(np.int64)
    ecols = [df[c] for c in ent]
    for c, ec in zip(ent, ecols, strict=True):
        eplain = _plain_numeric(ec)
        emiss = (ec.isna().to_numpy() if eplain is None
                 else np.isnan(eplain) if eplain.dtype.kind == "f" else None)
        if emiss is not None and emiss.any():
            raise DataError(
                f"Entity column {c!r} has {int(emiss.sum())} missing values. "
                "Expected every row to belong to a group. Drop those rows."
            )
    if len(ent) > 1:
        gcodes, guniq = pd.factorize(pd.MultiIndex.from_arrays(ecols), sort=True)
    else:
        plain = _plain_numeric(ecols[0])
        gcodes, guniq = pd.factorize(pd.Index(ecols[0]) if plain is None else plain, sort=True)
    check_grid(len(guniq), pd.Series(tint), time=time)
    tmin = int(tint.min())
    tidx = tint - tmin
    n, t = len(guniq), int(tidx.max()) + 1
    flat = gcodes.astype(np.int64) * t + tidx
    if np.bincount(flat, minlength=n * t).max() > 1:
        dup = pd.Series(flat).duplicated(keep=False)
        ex = shorten(df.loc[dup.values, [*ent, time]].head(3).to_dict("records"), 160)
        raise DataError(
            f"Duplicate (entity, time) keys, e.g. {ex}. Expected one row per group and period. "
            "Aggregate or drop duplicates."
        )
    present = np.zeros(n * t, dtype=bool)
    present[flat] = True
    data: dict[str, Float64Array] = {}
    for v in variables:
        if v not in df.columns:
            raise DataError(f"Variable {v!r} is not a column of the data.")
        raw = df[v]
        vals = _plain_numeric(raw)
        if vals is None:
            col = pd.to_numeric(raw, errors="coerce")
            bad = col.isna() & raw.notna()
            if bad.any():
                seen = shorten(df.loc[bad, v].iloc[0])
                raise DataError(
                    f"Column {v!r} has non-numeric values (e.g. {seen}). "
                    "Expected numbers or empty cells. Clean the column."
                )
            vals = col.to_numpy(dtype=float)
        inf = np.isinf(vals)
        if inf.any():
            pos = int(np.flatnonzero(inf)[0])
            raise DataError(
                f"Column {v!r} has the infinite value {vals[pos]} in data row {pos + 1}. "
                "Expected finite numbers (log of zero?). Recode it or leave the cell empty."
            )
        arr = np.full(n * t, np.nan)
        arr[flat] = vals
        data[v] = arr.reshape(n, t)
    groups = np.asarray(guniq.tolist(), dtype=object)
    return Frame(groups, np.arange(tmin, tmin + t), data, present.reshape(n, t))


def _plain_numeric(col: pd.Series) -> np.ndarray | None:
    """Return the values of a plain NumPy integer/float column (no copy), else ``None``.

    Such columns need no coercion or non-numeric check; anything else (object, string,
    boolean, nullable extension dtypes) goes through :func:`pandas.to_numeric`.
    """
    dt = col.dtype
    if isinstance(dt, np.dtype) and dt.kind in "iuf":
        return col.to_numpy()
    return None


def shift(a: Float64Array, k: int, fill: float = np.nan) -> Float64Array:
    """Lag ``a`` by ``k`` periods along axis 1 (lead for ``k < 0``), within each group."""
    out = np.full_like(a, fill)
    if k == 0:
        return a.copy()
    if abs(k) >= a.shape[1]:
        return out
    if k > 0:
        out[:, k:] = a[:, :-k]
    else:
        out[:, :k] = a[:, -k:]
    return out


def term_values(frame: Frame, term: Term) -> Float64Array:
    """Evaluate ``L^lag D^diff var`` on the frame; (N, T) with NaN where undefined."""
    a = frame.data[term.var]
    for _ in range(term.diff):
        a = a - shift(a, 1)
    return shift(a, term.lag) if term.lag else a.copy()


def first_difference(a: Float64Array) -> Float64Array:
    """First difference along axis 1; NaN in the first period or after a gap."""
    return a - shift(a, 1)


def forward_orthogonal(a: Float64Array, complete: BoolArray) -> Float64Array:
    r"""Forward orthogonal deviations (Arellano-Bover 1995), stored one period late.

    Notes
    -----
    As in xtabond2, the deviation of period ``t`` uses the mean of all *later* complete
    observations of the group and is stored in period ``t + 1``, so that the transformed
    equation lines up with first differences for instrument lags:

    .. math:: x^*_{i,t+1} = \sqrt{n_{it}/(n_{it}+1)}\,(x_{it} - \bar x_{i,>t})
    """
    extra = a.shape[2:]
    mask = complete.reshape(complete.shape + (1,) * len(extra))
    vals = np.where(mask, np.nan_to_num(a), 0.0)
    csum = np.cumsum(vals[:, ::-1], axis=1)[:, ::-1]
    ccnt = np.cumsum(complete[:, ::-1], axis=1)[:, ::-1].astype(float)
    after_sum = np.zeros_like(vals)
    after_sum[:, :-1] = csum[:, 1:]
    after_cnt = np.zeros_like(ccnt)
    after_cnt[:, :-1] = ccnt[:, 1:]
    after_cnt = after_cnt.reshape(after_cnt.shape + (1,) * len(extra))
    with np.errstate(invalid="ignore", divide="ignore"):
        fod = np.sqrt(after_cnt / (after_cnt + 1.0)) * (a - after_sum / after_cnt)
    fod = np.where(after_cnt > 0, fod, np.nan)
    out = np.full_like(a, np.nan)
    out[:, 1:] = fod[:, :-1]
    return out


# ---------------------------------------------------------------------------
# instrument blocks


@dataclass(frozen=True, slots=True)
class InstrumentBlock:
    """Instrument columns on the stacked frame, before restriction to the sample.

    Attributes
    ----------
    rows, cols : (nnz,) int arrays of stacked-frame row and column positions
    vals : (nnz,) float values (missing values already zero-filled unless ``nan_rows``)
    n_cols : number of columns
    group : (n_cols,) int, index of the instrument option each column belongs to
    level_gmm : (n_cols,) bool, True for GMM columns of the levels equation
    names : list of column names (xtabond2 style, for display)
    """

    rows: IntArray
    cols: IntArray
    vals: Float64Array
    n_cols: int
    group: IntArray
    level_gmm: BoolArray
    names: list[str]


def _stack_index(n: int, t: int, r: int, eq: int) -> IntArray:
    """(N, T) array of stacked-frame row indices for equation block ``eq`` (0 or 1)."""
    return (np.arange(n)[:, None] * r + eq * t + np.arange(t)[None, :]).astype(np.int64)


def iv_instruments(
    frame: Frame,
    groups: Sequence[IvGroup],
    *,
    transform: str,
    complete: BoolArray,
    system: bool,
    constant: bool,
    group_offset: int = 0,
) -> tuple[Float64Array, Float64Array, list[str], IntArray]:
    """IV-style instruments (one column per variable), xtabond2 semantics.

    Returns dense ``(Zd, Zl, names, group)`` where ``Zd`` holds each column's values in
    the transformed equation and ``Zl`` in the levels equation, each (N, T, m) with NaN
    where the instrument is missing (a missing IV-style instrument drops the row unless
    ``mz``). Columns follow xtabond2's order: options last-to-first, then ``_cons``
    (levels equation only).
    """
    n, t = frame.n, frame.t
    zd, zl, names, grp = [], [], [], []
    for gi in range(len(groups) - 1, -1, -1):
        g = groups[gi]
        for term in g.terms:
            base = term_values(frame, term)
            if g.equation != "level":
                if g.passthru:
                    d = base.copy()
                elif transform == "fod":
                    d = forward_orthogonal(base, complete)
                else:
                    d = first_difference(base)
                if g.mz:
                    d = np.nan_to_num(d)
            else:
                d = np.zeros((n, t))
            if system and g.equation != "diff":
                lv = np.nan_to_num(base) if g.mz else base
            else:
                lv = np.zeros((n, t))
            zd.append(d)
            zl.append(lv)
            names.append(term.name)
            grp.append(group_offset + gi)
    if constant:
        zd.append(np.zeros((n, t)))
        zl.append(np.ones((n, t)))
        names.append("_cons")
        grp.append(-1)
    if zd:
        return np.stack(zd, axis=2), np.stack(zl, axis=2), names, np.asarray(grp, dtype=np.int64)
    empty = np.zeros((n, t, 0))
    return empty, empty.copy(), names, np.zeros(0, dtype=np.int64)


def _lagged_columns(
    base: Float64Array, lags: Sequence[int], collapse: bool, rows: IntArray, col0: int
) -> tuple[IntArray, IntArray, Float64Array, int, list[tuple[int, int]]]:
    """Columns ``base[i, t - lag]`` placed at stacked rows ``rows[i, t]``.

    Uncollapsed: one column per (lag, source period); collapsed: one column per lag. A lag
    that reaches outside the panel has no column. Entries come column by column, rows
    ascending within a column. Returns rows, columns, values, the number of columns and
    each column's (lag, period).
    """
    n, t = base.shape
    lags = [lag for lag in lags if abs(lag) < t]
    if not lags:
        none = np.zeros(0, dtype=np.int64)
        return none, none, np.zeros(0), 0, []
    if collapse:
        shifted = np.stack([shift(base, lag, fill=0.0) for lag in lags])
        ci, gi, ti = np.nonzero(shifted)
        return (rows[gi, ti], col0 + ci, shifted[ci, gi, ti], len(lags),
                [(lag, -1) for lag in lags])
    # uncollapsed: target periods tt whose source period tt - lag lies in the panel
    tgt = np.concatenate([np.arange(max(lag, 0), min(t, t + lag)) for lag in lags])
    src = tgt - np.repeat(lags, [min(t, t + lag) - max(lag, 0) for lag in lags])
    vals = base[:, src].T  # (columns, groups)
    ci, gi = np.nonzero(vals)
    meta = [(int(tt - sc), int(sc)) for tt, sc in zip(tgt, src, strict=True)]
    return rows[gi, tgt[ci]], col0 + ci, vals[ci, gi], int(tgt.size), meta


def gmm_instruments(
    frame: Frame,
    groups: Sequence[GmmGroup],
    *,
    system: bool,
    r: int,
    sample: BoolArray,
) -> InstrumentBlock:
    """GMM-style instrument columns (Holtz-Eakin, Newey and Rosen 1988; Roodman 2009).

    For ``gmm(x, lag(a b))``: the transformed equation gets ``x`` lagged ``a..b`` (one
    column per period and lag, or per lag when collapsed), missing values zero-filled.
    With ``eq(both)`` in system GMM the levels equation gets ``D.x`` lagged ``a-1``
    (xtabond2 default; if that column has no non-zero value in the sample, xtabond2 moves
    to deeper lags up to ``b-1``). With ``eq(level)`` the levels equation gets the full
    set of lagged differences (levels with ``passthru``).

    Parameters
    ----------
    sample : (N * r,) bool
        Stacked-frame rows in the estimation sample (used for the deeper-lag search).
    """
    n, t = frame.n, frame.t
    rows_d = _stack_index(n, t, r, 0)
    rows_l = _stack_index(n, t, r, 1) if system else rows_d
    rr: list[IntArray] = []
    cc: list[IntArray] = []
    vv: list[Float64Array] = []
    grp: list[int] = []
    lev: list[bool] = []
    names: list[str] = []
    col = 0
    for gi in range(len(groups) - 1, -1, -1):
        g = groups[gi]
        full_in_levels = g.equation == "level"
        full_diffed = g.equation == "level" and not g.passthru
        lag_max = t - 1 - int(full_in_levels and full_diffed)
        fwd_max = t - 2 + int(full_in_levels)
        a = max(-fwd_max, g.lag[0])
        b = lag_max if g.lag[1] is None else min(lag_max, g.lag[1])
        target = rows_l if full_in_levels else rows_d
        for term in g.terms:
            lvl = term_values(frame, term)
            base = np.nan_to_num(first_difference(lvl) if full_diffed else lvl)
            r_, c_, v_, ncol, meta = _lagged_columns(base, range(a, b + 1), g.collapse,
                                                      target, col)
            rr.append(r_)
            cc.append(c_)
            vv.append(v_)
            grp += [gi] * ncol
            lev += [full_in_levels] * ncol
            pre = "D." if full_diffed else ""
            names += [
                f"{'L' + str(lg) + '.' if lg > 0 else ('F' + str(-lg) + '.' if lg < 0 else '')}"
                f"{pre}{term.name}" + ("" if s < 0 else f"/{frame.times[s]}") for lg, s in meta
            ]
            col += ncol
        if g.equation == "both" and system:
            if g.lag[0] > 0:
                lag0, stop, step = g.lag[0] - 1, b - 1, 1
            elif b > 0:
                lag0, stop, step = 0, b - 1, 1
            else:
                lag0, stop, step = b - 1, a - 1, -1
            dbases = [np.nan_to_num(first_difference(term_values(frame, tm))) for tm in g.terms]
            r_, c_, v_, ncol, meta = _extra_level_columns(
                dbases, lag0, stop, step, g.collapse, rows_l, col, sample
            )
            rr.append(r_)
            cc.append(c_)
            vv.append(v_)
            grp += [gi] * ncol
            lev += [True] * ncol
            names += [
                f"{'L' + str(lg) + '.' if lg > 0 else ''}D.{g.terms[vi].name}"
                + ("" if s < 0 else f"/{frame.times[s]}") for lg, s, vi in meta
            ]
            col += ncol
    def cat(xs: list, dt: type) -> np.ndarray:
        return np.concatenate(xs).astype(dt) if xs else np.zeros(0, dtype=dt)

    return InstrumentBlock(
        rows=cat(rr, np.int64),
        cols=cat(cc, np.int64),
        vals=cat(vv, np.float64),
        n_cols=col,
        group=np.asarray(grp, dtype=np.int64),
        level_gmm=np.asarray(lev, dtype=bool),
        names=names,
    )


def _extra_level_columns(
    dbases: Sequence[Float64Array],
    lag0: int,
    stop: int,
    step: int,
    collapse: bool,
    rows_l: IntArray,
    col0: int,
    sample: BoolArray,
) -> tuple[IntArray, IntArray, Float64Array, int, list[tuple[int, int, int]]]:
    """Levels-equation columns ``D.x`` at lag ``lag0`` (xtabond2's "extra" instruments).

    Columns are ordered by source period, then variable. Following xtabond2, a column
    with no non-zero value on a sample row is moved one period later (one lag deeper)
    while a *single counter shared by all columns of the group* is short of ``stop``; the
    counter is not reset between columns, so at most ``|stop - lag0|`` moves happen.
    Entries come column by column, rows ascending within a column.
    """
    n, t = dbases[0].shape
    in_sample = sample[rows_l]  # (N, T): levels rows in the estimation sample
    lagged: dict[tuple[int, int], Float64Array] = {}  # (variable, lag) -> shifted D.x
    hits: dict[tuple[int, int], np.ndarray] = {}  # ... -> a non-zero on a sample row

    def hit(vi: int, lag: int) -> np.ndarray:
        if (vi, lag) not in hits:
            lagged[vi, lag] = shift(dbases[vi], lag, fill=0.0)
            on = (lagged[vi, lag] != 0) & in_sample
            hits[vi, lag] = on.any() if collapse else on.any(axis=0)
        return hits[vi, lag]

    meta: list[tuple[int, int, int]] = []
    counter = lag0
    for s in [-1] if collapse else range(t):
        for vi in range(len(dbases)):
            lag = lag0
            while True:
                found = bool(hit(vi, lag)) if collapse else (
                    0 <= s + lag < t and bool(hit(vi, lag)[s + lag]))
                more = counter < stop if step > 0 else counter > stop
                if found or not more:
                    break
                lag += step
                counter += step
            if collapse or 0 <= s + lag < t:
                meta.append((lag, s, vi))
    if not meta:
        none = np.zeros(0, dtype=np.int64)
        return none, none, np.zeros(0), 0, meta
    if collapse:
        cols = np.stack([lagged[vi, lag] for lag, _, vi in meta])
        ci, gi, ti = np.nonzero(cols)
        return rows_l[gi, ti], col0 + ci, cols[ci, gi, ti], len(meta), meta
    lag_a, s_a, vi_a = (np.asarray(v, dtype=np.int64) for v in zip(*meta, strict=True))
    vals = np.stack(dbases)[vi_a, :, s_a]  # (columns, groups): D.x at the source period
    ci, gi = np.nonzero(vals)
    return rows_l[gi, (s_a + lag_a)[ci]], col0 + ci, vals[ci, gi], len(meta), meta


def instrument_matrix(
    ziv: Float64Array, block: InstrumentBlock, used_rows: IntArray, n_stacked: int
) -> tuple[sp.csc_matrix, IntArray]:
    """``[Z_iv, Z_gmm]`` on the stacked rows ``used_rows`` (in that order), as CSC.

    ``ziv`` holds the IV-style values on the used rows (missing already zero). Columns
    without a non-zero value are left out; returns the matrix and the positions of the
    kept columns among all ``m + block.n_cols``. The result is the canonical CSC matrix
    (rows ascending, no duplicates) whatever the order of the block's entries.
    """
    n, m = ziv.shape
    ivc, ivr = np.nonzero(ziv.T)
    pos = np.full(n_stacked, -1, dtype=np.int64)
    pos[used_rows] = np.arange(n)
    prow = pos[block.rows]
    on = prow >= 0
    rows = np.concatenate([ivr, prow[on]])
    cols = np.concatenate([ivc, block.cols[on] + m])
    vals = np.concatenate([ziv.T[ivc, ivr], block.vals[on]])
    n_cols = m + block.n_cols
    key = cols * max(n, 1) + rows
    if key.size > 1 and not (key[1:] > key[:-1]).all():
        # entries out of column order or repeated: let scipy sort and sum them
        z = sp.csc_matrix((vals, (rows, cols)), shape=(n, n_cols))
        z.sum_duplicates()
        cols = np.repeat(np.arange(n_cols), np.diff(z.indptr))
        rows, vals = z.indices, z.data
    kept = np.bincount(cols[vals != 0], minlength=n_cols) > 0
    nz_cols = np.flatnonzero(kept)
    if nz_cols.size < n_cols:
        on = kept[cols]
        rows, vals = rows[on], vals[on]
        cols = np.cumsum(kept)[cols[on]] - 1
    indptr = np.zeros(nz_cols.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=nz_cols.size), out=indptr[1:])
    return sp.csc_matrix((vals, rows, indptr), shape=(n, nz_cols.size)), nz_cols
