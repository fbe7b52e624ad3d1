"""Bayesian hierarchical dynamic panel models of log FDI (PyMC, nutpie, ArviZ)."""

from __future__ import annotations

from bayes_kfdi.bayes.compare import compare_fits
from bayes_kfdi.bayes.diagnostics import Diagnostics, diagnose, ppc_table
from bayes_kfdi.bayes.fit import FitResult, fit
from bayes_kfdi.bayes.model import ModelData, build_model, prepare_data
from bayes_kfdi.bayes.spec import HierarchicalSpec, PriorConfig, SamplerConfig, load_spec
from bayes_kfdi.bayes.summary import summarize

__all__ = [
    "HierarchicalSpec",
    "PriorConfig",
    "SamplerConfig",
    "load_spec",
    "ModelData",
    "prepare_data",
    "build_model",
    "FitResult",
    "fit",
    "Diagnostics",
    "diagnose",
    "ppc_table",
    "summarize",
    "compare_fits",
]
