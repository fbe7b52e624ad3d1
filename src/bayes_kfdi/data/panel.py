"""The validated long panel every estimator in the package takes as input."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bayes_kfdi.constants import (
    COUNTRY,
    FDI_FLOOR,
    HOST_COVARIATES,
    NUMERIC_COLUMNS,
    OUTCOME,
    SECTOR_OF_SERIES,
    SERIES,
    TRADE_COVARIATES,
    YEAR,
    YEAR_MAX,
    YEAR_MIN,
)
from bayes_kfdi.exceptions import DataError
from bayes_kfdi.validation import shorten

__all__ = [
    "MAX_GRID_CELLS",
    "MAX_PERIODS",
    "PanelData",
    "check_grid",
    "check_panel_keys",
    "validate_frame",
]

_MAX_SHOWN = 3
#: Longest time span accepted: every estimator puts a panel on a unit x period grid, so a
#: mistyped year (19800 for 1980) would otherwise allocate in proportion to the typo.
MAX_PERIODS = 500
#: Most unit x period cells accepted (160 MB per variable in float64).
MAX_GRID_CELLS = 20_000_000


def _as_tuple(cols: str | Sequence[str]) -> tuple[str, ...]:
    return (cols,) if isinstance(cols, str) else tuple(cols)


def _check_keys_filled(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Refuse an empty unit key, naming the column and the first rows."""
    for col in columns:
        if frame[col].isna().any():
            raise DataError(
                f"column '{col}' has an empty key in data row(s) "
                f"{_first_rows(frame[col].isna(), frame)}; expected a label in every row; "
                "fill or drop those rows"
            )


def _first_rows(mask: pd.Series | np.ndarray, frame: pd.DataFrame) -> str:
    """Describe the first offending rows as 1-based data-row numbers (header excluded)."""
    idx = np.flatnonzero(np.asarray(mask))[:_MAX_SHOWN]
    return ", ".join(str(i + 1) for i in idx)


def validate_frame(
    frame: pd.DataFrame,
    *,
    entity: tuple[str, ...],
    time: str,
    required: tuple[str, ...],
    numeric: tuple[str, ...],
) -> pd.DataFrame:
    """Validate a long panel and return a cleaned copy with typed columns.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long panel, one row per entity and time.
    entity : tuple of str
        Columns that together identify a unit.
    time : str
        Integer time column.
    required : tuple of str
        Columns that must be present.
    numeric : tuple of str
        Columns that, when present, must be numeric and finite (NaN allowed).

    Returns
    -------
    pandas.DataFrame
        A copy with entity columns as ``str``, time as ``int64`` and numeric columns as
        ``float64``, in the input row order.

    Raises
    ------
    DataError
        On an empty panel, missing columns, non-numeric or infinite values, bad years or
        duplicate keys. The message names the value seen and how to fix it.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"panel data must be a pandas DataFrame, got {type(frame).__name__}; "
            "read files with bayes_kfdi.data.read_panel"
        )
    if frame.shape[0] == 0:
        raise DataError(
            "the panel is empty (0 rows); expected at least one row per unit and year; "
            "check the file and any filters applied"
        )
    _check_clash(entity, time)
    missing = [c for c in (*entity, time, *required) if c not in frame.columns]
    if missing:
        seen = ", ".join(_cut(c) for c in frame.columns[:12])
        raise DataError(
            f"missing required column(s) {', '.join(missing)}; columns seen: {seen}; "
            "rename columns with --map OLD=NEW (CLI) or mapping={'OLD': 'NEW'} (Python)"
        )
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    _check_keys_filled(out, entity)
    for col in entity:
        out[col] = out[col].astype(str).str.strip()
    out[time] = _clean_time(out[time], time)
    check_grid(out[list(entity)].drop_duplicates().shape[0], out[time], time=time)
    for col in numeric:
        if col in out.columns:
            out[col] = _clean_numeric(out[col], col)
    key = [*entity, time]
    dup = out.duplicated(subset=key, keep=False)
    if dup.any():
        first = out.loc[dup, key].iloc[0]
        shown = ", ".join(f"{k}={_cut(first[k])}" for k in key)
        raise DataError(
            f"duplicate key ({', '.join(key)}) = ({shown}) in {int(dup.sum())} rows; "
            "expected each unit-year once; aggregate or drop the duplicates"
        )
    return out


def _cut(value: object, limit: int = 40) -> str:
    text = str(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_clash(entity: tuple[str, ...], time: str) -> None:
    if time in entity:
        raise DataError(
            f"the time column '{time}' is also a unit column (--entity {','.join(entity)} "
            f"--time {time}); expected different columns for units and periods; pass e.g. "
            "--entity country --time year"
        )


def _check_datetime(col: pd.Series, name: str) -> None:
    """Refuse dates where integer periods are expected, showing a date, not nanoseconds."""
    if pd.api.types.is_datetime64_any_dtype(col) or isinstance(col.dtype, pd.PeriodDtype):
        first = col.dropna()
        seen = str(first.iloc[0])[:10] if len(first) else "an empty date"
        raise DataError(
            f"column '{name}' holds dates (e.g. {seen}); expected integer periods such as "
            f"1990; store the year only (pandas: df['{name}'] = df['{name}'].dt.year)"
        )


def check_grid(n_units: int, times: pd.Series, *, time: str) -> None:
    """Refuse a panel whose unit x period grid would exceed the stated limits.

    Raises
    ------
    DataError
        The span exceeds :data:`MAX_PERIODS` (the farthest period and its data row are
        named) or the grid exceeds :data:`MAX_GRID_CELLS`.
    """
    if len(times) == 0:
        return
    t = times.to_numpy(dtype=np.int64)
    lo, hi = int(t.min()), int(t.max())
    span = hi - lo + 1
    if span > MAX_PERIODS:
        med = int(np.median(t))
        pos = int(np.argmax(np.abs(t - med)))
        raise DataError(
            f"column '{time}' spans {span:,} periods ({lo}..{hi}), e.g. {int(t[pos])} in data "
            f"row {pos + 1}; expected at most {MAX_PERIODS} (each unit gets a row of every "
            "period); a mistyped year? fix that row"
        )
    if n_units * span > MAX_GRID_CELLS:
        raise DataError(
            f"the panel has {n_units:,} units x {span:,} periods = {n_units * span:,} grid "
            f"cells; expected at most {MAX_GRID_CELLS:,} (memory per variable); check the "
            "unit columns or split the file"
        )


def check_panel_keys(frame: pd.DataFrame, entity: str | Sequence[str], time: str) -> None:
    """Validate the unit and time columns as :func:`validate_frame` does, before any grid.

    Cheap on any input: nothing is allocated in proportion to the values of ``time``.

    Raises
    ------
    DataError
        A column is missing, a key is empty, the two options name the same column,
        periods are dates or not integers, a ``year`` is implausible, or the grid would
        exceed :data:`MAX_PERIODS` / :data:`MAX_GRID_CELLS`.
    """
    ent = _as_tuple(entity)
    _check_clash(ent, time)
    missing = [c for c in (*ent, time) if c not in frame.columns]
    if missing:
        seen = ", ".join(_cut(c) for c in frame.columns[:12])
        raise DataError(
            f"missing column(s) {', '.join(missing)}; columns seen: {seen}; fix --entity/"
            "--time or rename with --map OLD=NEW"
        )
    _check_keys_filled(frame, ent)
    times = _clean_time(frame[time], time)
    n_units = frame[list(ent)].drop_duplicates().shape[0] if len(ent) > 1 \
        else frame[ent[0]].nunique()
    check_grid(n_units, times, time=time)


def _clean_time(col: pd.Series, name: str) -> pd.Series:
    _check_datetime(col, name)
    values = pd.to_numeric(col, errors="coerce")
    bad = values.isna() & col.notna()
    if bad.any() or col.isna().any():
        where = bad | col.isna()
        pos = int(np.flatnonzero(where.to_numpy())[0])
        seen = "an empty cell" if pd.isna(col.iloc[pos]) else \
            f"non-numeric value {shorten(col.iloc[pos])}"
        raise DataError(
            f"column '{name}' has {seen} in data row {pos + 1}; expected an integer year; "
            "fix or drop that row"
        )
    frac = values != np.floor(values)
    if frac.any():
        pos = int(np.flatnonzero(frac.to_numpy())[0])
        raise DataError(
            f"column '{name}' has non-integer value {float(values.iloc[pos])} in data row "
            f"{pos + 1}; expected whole years such as 1995; round or recode it"
        )
    if name != YEAR:  # a generic period index (1, 2, ...) need not be a calendar year
        return values.astype(np.int64)
    out_of_range = (values < YEAR_MIN) | (values > YEAR_MAX)
    if out_of_range.any():
        pos = int(np.flatnonzero(out_of_range.to_numpy())[0])
        raise DataError(
            f"column '{name}' has implausible year {int(values.iloc[pos])} in data row "
            f"{pos + 1}; expected a year in {YEAR_MIN}..{YEAR_MAX}; check the column mapping"
        )
    return values.astype(np.int64)


def _clean_numeric(col: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(col):
        col = col.astype(float)
    if pd.api.types.is_numeric_dtype(col):
        values = col.astype(np.float64)
    else:
        stripped = col.astype("string").str.strip()
        blank = stripped.isna() | (stripped == "") | stripped.str.upper().isin(["NA", "NAN", "."])
        values = pd.to_numeric(stripped.where(~blank), errors="coerce").astype(np.float64)
        bad = values.isna() & ~blank
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"column '{name}' has non-numeric value {shorten(col.iloc[pos])} in data row "
                f"{pos + 1}; expected a number or an empty cell for missing; "
                "fix the value or leave the cell empty"
            )
    inf = np.isinf(values.to_numpy())
    if inf.any():
        pos = int(np.flatnonzero(inf)[0])
        raise DataError(
            f"column '{name}' has infinite value {values.iloc[pos]} in data row {pos + 1}; "
            "expected a finite number (log of zero?); code zero flows at a floor "
            "such as log(3) or leave the cell empty"
        )
    return values


class PanelData:
    """One validated long panel with gap-aware panel operators.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long panel, one row per unit and time period. Extra columns are kept.
    entity : str or sequence of str, default ("series", "country")
        Columns that together identify a unit. The canonical FDI panel's unit is a
        series-country pair.
    time : str, default "year"
        Integer time column. Periods within a unit may have gaps.
    required : sequence of str, optional
        Columns that must be present besides entity and time. Defaults to ``("fdi",)``
        for the canonical FDI panel and to none for other entity layouts.

    Notes
    -----
    Every operator works within units and by calendar time, not by row position: the lag
    of ``x`` at ``t`` is the unit's value at ``t - 1`` and is missing when that year is
    absent, even if an earlier year exists.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        entity: str | Sequence[str] = (SERIES, COUNTRY),
        time: str = YEAR,
        required: Sequence[str] | None = None,
    ) -> None:
        self.entity: tuple[str, ...] = _as_tuple(entity)
        self.time = time
        canonical = self.entity == (SERIES, COUNTRY) and time == YEAR
        if required is None:
            required = (OUTCOME,) if canonical else ()
        clean = validate_frame(
            frame,
            entity=self.entity,
            time=time,
            required=tuple(required),
            numeric=NUMERIC_COLUMNS if canonical else tuple(required),
        )
        self._frame = clean.sort_values([*self.entity, time], kind="mergesort").reset_index(
            drop=True
        )
        self._index = pd.MultiIndex.from_frame(self._frame[[*self.entity, time]])

    # ------------------------------------------------------------------ access
    @property
    def frame(self) -> pd.DataFrame:
        """The validated panel, sorted by entity then time (a copy)."""
        return self._frame.copy()

    @property
    def index(self) -> pd.MultiIndex:
        """(entity..., time) index aligned with every operator's output."""
        return self._index

    @property
    def nobs(self) -> int:
        """Number of rows."""
        return int(self._frame.shape[0])

    @property
    def units(self) -> pd.DataFrame:
        """Distinct units (entity columns), in sorted order."""
        return self._frame[list(self.entity)].drop_duplicates().reset_index(drop=True)

    @property
    def series(self) -> list[str]:
        """Distinct values of the ``series`` column (empty if there is none)."""
        if SERIES not in self._frame.columns:
            return []
        return sorted(self._frame[SERIES].unique().tolist())

    @property
    def columns(self) -> list[str]:
        """All column names, including extra columns."""
        return list(self._frame.columns)

    def __len__(self) -> int:
        return self.nobs

    def __repr__(self) -> str:
        n_units = len(self.units)
        t = self._frame[self.time]
        return (
            f"PanelData({self.nobs} rows, {n_units} units by {'/'.join(self.entity)}, "
            f"{self.time} {t.min()}-{t.max()})"
        )

    def _column(self, var: str) -> pd.Series:
        if var not in self._frame.columns:
            raise DataError(
                f"unknown variable '{var}'; expected one of {', '.join(self.columns)}; "
                "check the spelling or the column mapping"
            )
        return pd.Series(self._frame[var].to_numpy(dtype=np.float64), index=self._index, name=var)

    def _shifted_index(self, k: int) -> pd.MultiIndex:
        levels = [self._index.get_level_values(i) for i in range(len(self.entity))]
        t = self._index.get_level_values(len(self.entity)) - k
        return pd.MultiIndex.from_arrays([*levels, t], names=self._index.names)

    # ------------------------------------------------------------------ operators
    def lag(self, var: str, k: int = 1) -> pd.Series:
        """Value of ``var`` at ``t - k`` within the unit; NaN where that year is absent."""
        x = self._column(var)
        out = x.reindex(self._shifted_index(k))
        out.index = self._index
        out.name = f"L{k}.{var}" if k >= 0 else f"F{-k}.{var}"
        return out

    def lead(self, var: str, k: int = 1) -> pd.Series:
        """Value of ``var`` at ``t + k`` within the unit; NaN where that year is absent."""
        out = self.lag(var, -k)
        out.name = f"F{k}.{var}"
        return out

    def diff(self, var: str, k: int = 1) -> pd.Series:
        """First difference ``x[t] - x[t-k]``; NaN unless both years are present."""
        out = self._column(var) - self.lag(var, k)
        out.name = f"D{k}.{var}" if k != 1 else f"D.{var}"
        return out

    def fod(self, var: str) -> pd.Series:
        """Forward orthogonal deviation of ``var`` (Arellano and Bover, 1995).

        Returns
        -------
        pandas.Series
            ``sqrt(c / (c + 1)) * (x[t] - mean of x over the unit's later non-missing
            periods)``, where ``c`` is the number of those later periods. NaN where
            ``x[t]`` is missing or no later value exists.

        Notes
        -----
        Gaps do not break the transform: it uses every later available value, which is
        why it preserves observations in gapped panels (Roodman 2009, section 3.3).
        """
        x = self._column(var)
        gid = self._frame.groupby(list(self.entity), sort=False).ngroup().to_numpy()
        vals = x.to_numpy()
        present = ~np.isnan(vals)
        filled = np.where(present, vals, 0.0)
        frame = pd.DataFrame({"g": gid, "v": filled, "n": present.astype(np.float64)})
        # Reverse cumulative sums within unit give sums over the current and later rows.
        rev = frame.iloc[::-1].groupby("g", sort=False)[["v", "n"]].cumsum().iloc[::-1]
        later_sum = rev["v"].to_numpy() - filled
        later_n = rev["n"].to_numpy() - present
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_later = later_sum / later_n
            scale = np.sqrt(later_n / (later_n + 1.0))
            out = scale * (vals - mean_later)
        out[(later_n == 0) | ~present] = np.nan
        return pd.Series(out, index=self._index, name=f"FOD.{var}")

    # ------------------------------------------------------------------ reports
    def balance(self) -> pd.DataFrame:
        """Per-unit span and gaps: first, last, observed periods and missing periods."""
        t = self._frame.groupby(list(self.entity), sort=True)[self.time]
        out = pd.DataFrame(
            {"first": t.min(), "last": t.max(), "n_periods": t.size()}
        )
        out["n_gaps"] = out["last"] - out["first"] + 1 - out["n_periods"]
        out["balanced"] = out["n_gaps"].eq(0) & out["first"].eq(out["first"].min()) & out[
            "last"
        ].eq(out["last"].max())
        return out.reset_index()

    def missingness(self) -> pd.DataFrame:
        """Per numeric variable: observed count, missing count and missing share."""
        cols = [
            c
            for c in self._frame.columns
            if c not in (*self.entity, self.time)
            and pd.api.types.is_numeric_dtype(self._frame[c])
        ]
        obs = self._frame[cols].notna().sum()
        n = self.nobs
        return pd.DataFrame(
            {"variable": cols, "obs": obs.to_numpy(), "missing": n - obs.to_numpy()}
        ).assign(share_missing=lambda d: d["missing"] / n)

    def describe(self) -> pd.DataFrame:
        """Summary statistics in the layout of the paper's Table 4.

        Returns
        -------
        pandas.DataFrame
            Columns ``variable, sector, obs, mean, sd, min, max``. The outcome is
            described per series, host covariates once per country-year, and trade
            covariates per sector (the electronics motives carry the electronics
            sector's trade, so they are not counted twice). ``sd`` uses ``ddof=1``.
        """
        f = self._frame
        rows: list[dict[str, object]] = []

        def add(values: pd.Series, variable: str, sector: str) -> None:
            v = values.dropna()
            rows.append(
                {
                    "variable": variable,
                    "sector": sector,
                    "obs": int(v.size),
                    "mean": float(v.mean()) if v.size else np.nan,
                    "sd": float(v.std(ddof=1)) if v.size > 1 else np.nan,
                    "min": float(v.min()) if v.size else np.nan,
                    "max": float(v.max()) if v.size else np.nan,
                }
            )

        has_series = SERIES in f.columns
        series = self.series if has_series else [""]
        if OUTCOME in f.columns:
            for s in series:
                add(f.loc[f[SERIES] == s, OUTCOME] if has_series else f[OUTCOME], OUTCOME, s)
        host_cols = [c for c in HOST_COVARIATES if c in f.columns]
        if host_cols:
            unit = COUNTRY if COUNTRY in f.columns else self.entity[-1]
            host = f.drop_duplicates(subset=[unit, self.time])
            for c in host_cols:
                add(host[c], c, "")
        trade_cols = [c for c in TRADE_COVARIATES if c in f.columns]
        if trade_cols and has_series:
            sector_series = [s for s in series if SECTOR_OF_SERIES.get(s, s) == s]
            for c in trade_cols:
                for s in sector_series:
                    add(f.loc[f[SERIES] == s, c], c, s)
        return pd.DataFrame(rows, columns=["variable", "sector", "obs", "mean", "sd", "min", "max"])

    def floor_share(self, floor: float = FDI_FLOOR, *, tol: float = 1e-6) -> pd.Series:
        """Share of outcome values at the zero-flow floor, per series."""
        f = self._frame
        at = (f[OUTCOME] - floor).abs() <= tol
        if SERIES not in f.columns:
            return pd.Series({"": float(at.mean())})
        return at.groupby(f[SERIES]).mean()
