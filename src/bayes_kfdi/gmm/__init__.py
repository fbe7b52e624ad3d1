"""xtabond2-compatible difference and system GMM (Roodman 2009)."""

from __future__ import annotations

from bayes_kfdi.gmm.diagnostics import InapplicableTest, TestStatistic
from bayes_kfdi.gmm.keys import panel_keys
from bayes_kfdi.gmm.model import HANSEN_P_IMPLAUSIBLE, SystemGMM, xtabond2
from bayes_kfdi.gmm.results import SystemGMMResults
from bayes_kfdi.gmm.spec import GmmSpec, load_gmm_spec
from bayes_kfdi.gmm.syntax import GmmCommand, parse_xtabond2

__all__ = [
    "xtabond2",
    "SystemGMM",
    "SystemGMMResults",
    "GmmCommand",
    "GmmSpec",
    "parse_xtabond2",
    "load_gmm_spec",
    "TestStatistic",
    "InapplicableTest",
    "HANSEN_P_IMPLAUSIBLE",
    "panel_keys",
]
