"""Reproduce the paper's system GMM Tables 2 and 3, its trend interactions and checks."""

from __future__ import annotations

from bayes_kfdi.paper.equations import PaperEquation, load_equation, load_equations
from bayes_kfdi.paper.pipeline import PaperOutputs, paper_manifest, paper_outputs
from bayes_kfdi.paper.tables import PaperRun, attenuation, build_table, recovery, run_equations
from bayes_kfdi.paper.trend import TrendEffect, two_sd_effect

__all__ = [
    "PaperEquation",
    "PaperOutputs",
    "PaperRun",
    "TrendEffect",
    "attenuation",
    "build_table",
    "load_equation",
    "load_equations",
    "recovery",
    "paper_manifest",
    "paper_outputs",
    "run_equations",
    "two_sd_effect",
]
