"""Panel data: validation, gap-aware operators, readers, shipped data and simulators."""

from __future__ import annotations

from bayes_kfdi.data.panel import PanelData, validate_frame
from bayes_kfdi.data.readers import (
    apply_mapping,
    parse_mapping,
    read_panel,
    read_table,
    wide_to_long,
)

__all__ = [
    "PanelData",
    "validate_frame",
    "read_table",
    "read_panel",
    "apply_mapping",
    "parse_mapping",
    "wide_to_long",
]
