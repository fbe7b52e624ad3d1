"""Per-hypothesis reports comparing the Bayesian models with system GMM."""

from __future__ import annotations

from bayes_kfdi.report.hypothesis import (
    Claim,
    Hypothesis,
    HypothesisResult,
    HypothesisSet,
    HypothesisSettings,
    evaluate_all,
    evaluate_hypothesis,
    load_hypotheses,
    parse_hypotheses,
    validate_hypotheses,
)
from bayes_kfdi.report.inputs import GmmEquation, RunInputs, load_run
from bayes_kfdi.report.pipeline import ReproduceResult, reproduce
from bayes_kfdi.report.render import ReportPaths, render_report, write_report

__all__ = [
    "Claim",
    "Hypothesis",
    "HypothesisResult",
    "HypothesisSet",
    "HypothesisSettings",
    "evaluate_all",
    "evaluate_hypothesis",
    "load_hypotheses",
    "parse_hypotheses",
    "validate_hypotheses",
    "GmmEquation",
    "RunInputs",
    "load_run",
    "ReproduceResult",
    "reproduce",
    "ReportPaths",
    "render_report",
    "write_report",
]
