"""Panel keys for a GMM run: the group and time columns, with canonical-panel defaults.

xtabond2 reads them from ``xtset``; here they are arguments. On a canonical FDI panel
(``docs/contracts.md``: ``series``, ``country``, ``year``) they need not be given: the
time variable is ``year`` and the group is ``country``, or ``series`` + ``country`` when
the file holds more than one series (each series-country pair is its own panel unit).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from bayes_kfdi.constants import COUNTRY, SERIES, YEAR
from bayes_kfdi.exceptions import DataError

__all__ = ["panel_keys"]


def _split(entity: str | Sequence[str]) -> list[str]:
    if isinstance(entity, str):
        return [e.strip() for e in entity.split(",") if e.strip()]
    return [str(e).strip() for e in entity if str(e).strip()]


def panel_keys(
    frame: pd.DataFrame,
    entity: str | Sequence[str] | None = None,
    time: str | None = None,
) -> tuple[str | list[str], str]:
    """Resolve the group and time columns, defaulting on a canonical panel.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data (after any ``--map`` renaming).
    entity : str or sequence of str, optional
        Group column(s); ``"series,country"`` names two. Default: ``country``, or
        ``["series", "country"]`` when a ``series`` column holds several series.
    time : str, optional
        Period column. Default: ``year``.

    Returns
    -------
    (entity, time)
        ``entity`` is a string for one column, a list for several.

    Raises
    ------
    DataError
        A named column is missing, or no default applies.
    """
    cols = [str(c) for c in frame.columns]
    shown = ", ".join(cols[:15])
    if time is None:
        if YEAR not in cols:
            raise DataError(
                f"No time variable given and no '{YEAR}' column (columns: {shown}). Pass "
                "--time COL (the period column, as in xtset id year), or --map OLD=year."
            )
        time = YEAR
    elif time not in cols:
        raise DataError(f"Time column '{time}' is not in the data (columns: {shown}). "
                        "Fix --time or rename with --map OLD=NEW.")
    if entity is None or not _split(entity):
        if COUNTRY not in cols:
            raise DataError(
                f"No group variable given and no '{COUNTRY}' column (columns: {shown}). "
                "Pass --entity COL (the panel id, as in xtset id year), or --map OLD=country."
            )
        several = SERIES in cols and frame[SERIES].nunique(dropna=True) > 1
        return ([SERIES, COUNTRY] if several else COUNTRY), time
    ent = _split(entity)
    missing = [e for e in ent if e not in cols]
    if missing:
        raise DataError(f"Group column(s) {missing} not in the data (columns: {shown}). "
                        "Fix --entity or rename with --map OLD=NEW.")
    return (ent[0] if len(ent) == 1 else ent), time
