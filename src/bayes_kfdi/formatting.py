"""The one number formatter and Markdown-table helper used by every renderer."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["format_number", "md_escape", "md_table"]


def format_number(value: Any, digits: int = 3, *, missing: str = "--") -> str:
    """Format a table cell: ``missing`` for None/NaN/inf, integers plain, floats fixed."""
    if value is None:
        return missing
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return missing if not math.isfinite(value) else f"{value:.{digits}f}"
    return str(value)


def md_escape(value: Any) -> str:
    """Escape a string for a Markdown table cell (HTML specials, pipes, newlines)."""
    text = str(value)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("\n", " ")):
        text = text.replace(a, b)
    return text


def md_table(frame: pd.DataFrame | None, digits: int = 3, *, missing: str = "") -> str:
    """Render ``frame`` as a Markdown table (``(none)`` when empty)."""
    if frame is None or frame.empty:
        return "(none)"
    cols = [md_escape(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = [
            format_number(v, digits, missing=missing)
            if isinstance(v, float | int | np.number) and not isinstance(v, bool)
            else md_escape(v)
            for v in row
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
