"""Multi-source hierarchical FDI model: several source economies, shared host effects.

A multi-source panel is a canonical long panel whose ``series`` column names the source
economy (ISO3) and ``country`` the host. The pooled model is
:func:`bayes_kfdi.bayes.model.build_model` on that panel; this subpackage adds the
selection of sources/hosts/years (:mod:`.panel`), the ``[multisource]`` spec section
(:mod:`.spec`), the one-model-per-source rival for LOO (:mod:`.model`), source-level
contrasts vs Korea, H1 probabilities and per-source GMM (:mod:`.analysis`), a simulated
panel with known truth (:mod:`.simulate`) and the computation (:mod:`.pipeline`). The
job is :mod:`bayes_kfdi.jobs.multisource`, the report :mod:`bayes_kfdi.report.multisource`.
"""

from __future__ import annotations

from bayes_kfdi.multisource.analysis import (
    GmmBaseline,
    contrasts,
    h1_table,
    loo_pooled_vs_separate,
    per_source_gmm,
    slope_table,
)
from bayes_kfdi.multisource.model import build_independent
from bayes_kfdi.multisource.panel import (
    DEFAULT_SOURCES,
    REFERENCE_SOURCE,
    Selection,
    SelectionConfig,
    select_panel,
)
from bayes_kfdi.multisource.pipeline import MultiSourceResult, run_multisource
from bayes_kfdi.multisource.simulate import simulate_multi_source
from bayes_kfdi.multisource.spec import (
    MultiSourceSpec,
    is_multisource_spec,
    load_multisource_spec,
)

__all__ = [
    "DEFAULT_SOURCES",
    "REFERENCE_SOURCE",
    "GmmBaseline",
    "MultiSourceResult",
    "MultiSourceSpec",
    "Selection",
    "SelectionConfig",
    "build_independent",
    "contrasts",
    "h1_table",
    "is_multisource_spec",
    "load_multisource_spec",
    "loo_pooled_vs_separate",
    "per_source_gmm",
    "run_multisource",
    "select_panel",
    "simulate_multi_source",
    "slope_table",
]
