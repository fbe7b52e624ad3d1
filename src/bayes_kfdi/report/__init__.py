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
from bayes_kfdi.report.render import RenderedReport, render_report

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
    "RenderedReport",
    "render_report",
]
