"""Readers for user files: CSV, Parquet, Stata ``.dta`` and Excel, with column mapping."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from bayes_kfdi.exceptions import DataError
from bayes_kfdi.validation import shorten

__all__ = ["read_table", "read_panel", "apply_mapping", "parse_mapping", "wide_to_long"]

_READERS = {
    ".csv": "csv",
    ".txt": "csv",
    ".gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".dta": "stata",
    ".xlsx": "excel",
    ".xls": "excel",
}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a table from CSV, Parquet, Stata or Excel, chosen by the file extension.

    Raises
    ------
    DataError
        If the file is missing, has an unknown extension or cannot be parsed.
    """
    p = Path(path)
    if p.is_dir():
        raise DataError(f"data file '{p}' is a directory; expected a data file; name the file")
    if not p.is_file():
        raise DataError(f"data file '{p}' does not exist; expected a readable file; check the path")
    kind = _READERS.get(p.suffix.lower())
    if kind is None:
        raise DataError(
            f"unknown file type '{p.suffix}' for '{p.name}'; expected one of "
            f"{', '.join(sorted(_READERS))}; convert the file or rename it"
        )
    try:
        if kind == "csv":
            # A data row longer than the header must fail, not shift columns silently.
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                header = pd.read_csv(p, header=None, nrows=1, dtype=str, index_col=False)
                _check_unique_header(p, [str(h) for h in header.iloc[0].tolist()]
                                     if len(header) else [])
                return pd.read_csv(p, dtype={"series": str, "country": str}, index_col=False)
        if kind == "parquet":
            return pd.read_parquet(p)
        if kind == "stata":
            return pd.read_stata(p, convert_categoricals=False)
        return pd.read_excel(p)
    except DataError:
        raise
    except UnicodeDecodeError as exc:
        raise DataError(
            f"'{p.name}' is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start}, a legacy encoding such as CP949 or Latin-1?); expected UTF-8; save "
            "it as UTF-8"
        ) from None
    except MemoryError:
        raise DataError(f"'{p.name}' is too large to read into memory; split the file") from None
    except Exception as exc:  # each reader fails in its own way on a corrupt file
        raise DataError(
            f"cannot parse '{p.name}' as {kind}: {_first_line(exc)}; expected a well-formed "
            f"{kind} file; re-export it from its source"
        ) from exc


def _name(value: object, limit: int = 40) -> str:
    """Return a column name for a message, without quotes, cut to ``limit`` characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_line(exc: BaseException, limit: int = 120) -> str:
    """Return the first line of an exception's message, cut to ``limit`` characters."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if len(first) <= limit else first[: limit - 3] + "..."


def _check_unique_header(path: Path, names: list[str]) -> None:
    """Refuse a CSV header that repeats a name (pandas would rename it ``name.1``)."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        if name in seen:
            name = _name(name)
            raise DataError(
                f"'{path.name}' has two columns named '{name}' (columns {seen[name]} and {i}; "
                f"pandas would silently rename the second '{name}.1'); expected unique column "
                "names; rename or drop one of them"
            )
        seen[name] = i


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """Turn CLI ``OLD=NEW`` strings into a mapping dict."""
    out: dict[str, str] = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise DataError(
                f"malformed column mapping {shorten(item)}; expected OLD=NEW such as "
                "--map reporter=series"
            )
        out[old.strip()] = new.strip()
    return out


def apply_mapping(frame: pd.DataFrame, mapping: Mapping[str, str] | None) -> pd.DataFrame:
    """Rename columns with ``mapping`` (old name to canonical name).

    Raises
    ------
    DataError
        If a mapping key is not a column of ``frame``.
    """
    if not mapping:
        return frame
    unknown = [k for k in mapping if k not in frame.columns]
    if unknown:
        seen = ", ".join(_name(c) for c in frame.columns[:12])
        unknown = [_name(k) for k in unknown]
        raise DataError(
            f"column mapping names unknown column(s) {', '.join(unknown)}; columns seen: "
            f"{seen}; use a name from the file on the left of OLD=NEW"
        )
    renamed = frame.rename(columns=dict(mapping))
    dup = [_name(c) for c in renamed.columns[renamed.columns.duplicated()].unique()]
    if dup:
        raise DataError(
            f"column mapping creates duplicate column(s) {', '.join(map(str, dup))}; "
            "expected each canonical name once; drop or rename the existing column first"
        )
    return renamed


def read_panel(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    entity: str | Sequence[str] | None = None,
    time: str | None = None,
):
    """Read a file into a validated :class:`~bayes_kfdi.data.PanelData`.

    Parameters
    ----------
    path : str or Path
        CSV, Parquet, Stata ``.dta`` or Excel file in long format.
    mapping : mapping, optional
        Old-to-new column names applied before validation.
    entity, time : optional
        Unit and time columns; default to the canonical ``(series, country)`` and ``year``.
    """
    from bayes_kfdi.data.panel import PanelData

    frame = apply_mapping(read_table(path), mapping)
    kwargs = {}
    if entity is not None:
        kwargs["entity"] = entity
    if time is not None:
        kwargs["time"] = time
    return PanelData(frame, **kwargs)


def wide_to_long(
    frame: pd.DataFrame,
    *,
    id_cols: Sequence[str],
    value_name: str = "fdi",
    var_name: str = "series",
    value_cols: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Reshape a file with one column per series (or per year) into long format.

    Parameters
    ----------
    frame : pandas.DataFrame
        Wide table.
    id_cols : sequence of str
        Columns kept as identifiers (e.g. ``country``, ``year``).
    value_name : str
        Name of the stacked value column.
    var_name : str
        Name of the column that receives the former column headers.
    value_cols : sequence of str, optional
        Columns to stack; default all columns not in ``id_cols``.
    """
    missing = [c for c in id_cols if c not in frame.columns]
    if missing:
        raise DataError(
            f"wide_to_long: id column(s) {', '.join(missing)} not in the table; columns "
            f"seen: {', '.join(map(str, frame.columns[:12]))}; pass existing id_cols"
        )
    cols = list(value_cols) if value_cols is not None else [
        c for c in frame.columns if c not in id_cols
    ]
    if not cols:
        raise DataError(
            "wide_to_long: no value columns left to stack; expected at least one column "
            "besides the id columns; check id_cols"
        )
    long = frame.melt(id_vars=list(id_cols), value_vars=cols, var_name=var_name,
                      value_name=value_name)
    long[var_name] = long[var_name].astype(str)
    return long
