"""Panel data: validation, gap-aware operators, readers, shipped data and simulators."""

from __future__ import annotations

from bayes_kfdi.data.load import data_dir, load  # ``data.load`` is the function
from bayes_kfdi.data.panel import PanelData, validate_frame
from bayes_kfdi.data.paper import compare_table4, paper_coefficients, table4
from bayes_kfdi.data.readers import (
    apply_mapping,
    parse_mapping,
    read_panel,
    read_table,
    wide_to_long,
)
from bayes_kfdi.data.simulate import (
    DEFAULT_SEED,
    SimulatedPanel,
    simulate_dynamic_panel,
    simulate_korea,
    write_simulated,
)

__all__ = [
    "PanelData",
    "validate_frame",
    "read_table",
    "read_panel",
    "apply_mapping",
    "parse_mapping",
    "wide_to_long",
    "load",
    "data_dir",
    "compare_table4",
    "paper_coefficients",
    "table4",
    "DEFAULT_SEED",
    "SimulatedPanel",
    "simulate_korea",
    "simulate_dynamic_panel",
    "write_simulated",
]
