"""The multi-source spec: a hierarchical model spec plus a ``[multisource]`` section.

``models/multi_source.toml`` is an ordinary :mod:`bayes_kfdi.bayes.spec` file (sections
``model``, ``time_varying``, ``centering``, ``priors``, ``sampler``) with one extra
section that says which sources, years and hosts to use, the reference source, whether
to fit the one-model-per-source rival for LOO, and the per-source GMM command.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bayes_kfdi.bayes.spec import HierarchicalSpec, spec_from_dict
from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.multisource.panel import MISSING_TRADE, SelectionConfig
from bayes_kfdi.validation import (
    check_choice,
    check_keys,
    check_number,
    check_type,
    read_toml,
    shorten,
    spec_error,
)

__all__ = [
    "MultiSourceSpec", "DEFAULT_DATA", "DEFAULT_GMM_COMMAND", "is_multisource_spec",
    "load_multisource_spec",
]

SECTION = "multisource"
#: Per-source baseline: lagged outcome GMM-style (collapsed lags 2-4, Roodman 2009's
#: advice against instrument proliferation on small panels), host covariates IV-style.
DEFAULT_GMM_COMMAND = (
    "xtabond2 fdi L.fdi gdp gdppc, gmm(L.fdi, lag(2 4) collapse) iv(gdp gdppc) "
    "twostep robust"
)
#: The shipped panel a multi-source job reads when no data file is given.
DEFAULT_DATA = "ofdi_bilateral"
_KEYS = {
    "sources", "reference", "first_year", "last_year", "min_sources_per_host",
    "min_rows_per_source", "min_years_per_source", "max_hosts", "compare_per_source", "gmm_command",
    "covariate_history", "include_conduits", "missing_trade", "data",
}
_INT_KEYS = ("first_year", "last_year", "min_sources_per_host", "min_rows_per_source",
             "min_years_per_source", "max_hosts")
HISTORY = ("host_effect", "unit")
#: ``where`` of every message about the section.
WHERE = f"spec [{SECTION}]"


@dataclass(frozen=True, slots=True)
class MultiSourceSpec:
    """A multi-source job.

    Attributes
    ----------
    model : HierarchicalSpec
        The pooled model (``series`` = source economy).
    selection : SelectionConfig
        Sources, years and hosts.
    compare_per_source : bool
        Also fit one model per source and compare by LOO.
    gmm_command : str or None
        xtabond2 command fitted on each source's panel; None skips the GMM baseline.
    covariate_history : {"host_effect", "unit"}
        "host_effect": the shared host effect carries the covariate history and the
        unit-level Mundlak terms are dropped
        (:func:`bayes_kfdi.multisource.model.host_level_history`); "unit": keep them as
        in the single-source model.
    data : str
        Shipped data set (stem) or path read when the job is given no data file.
    """

    model: HierarchicalSpec
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    compare_per_source: bool = True
    gmm_command: str | None = DEFAULT_GMM_COMMAND
    covariate_history: str = "host_effect"
    data: str = DEFAULT_DATA

    def __post_init__(self) -> None:
        check_type(self.data, str, WHERE, "data", "a shipped data set name or a path")
        check_choice(self.covariate_history, HISTORY, WHERE, "covariate_history")
        check_type(self.compare_per_source, bool, WHERE, "compare_per_source", "true or false")
        if self.gmm_command is not None and (
            not isinstance(self.gmm_command, str) or not self.gmm_command.strip()
        ):
            raise spec_error(WHERE, "gmm_command", self.gmm_command,
                             'an xtabond2 command string or "" to skip GMM',
                             'write gmm_command = "xtabond2 ..."')


def is_multisource_spec(path: str | Path) -> bool:
    """Return whether the TOML file at ``path`` has a ``[multisource]`` section."""
    p = Path(path)
    return p.is_file() and SECTION in read_toml(p, "spec")


def _check_section_keys(ms: dict[str, Any]) -> None:
    """Refuse unknown keys; a near miss is named first (the full list would cut it off)."""
    for key in ms:
        close = difflib.get_close_matches(str(key), sorted(_KEYS), n=1, cutoff=0.6)
        if key not in _KEYS and close:
            raise SpecificationError(
                f"{WHERE}: unknown key {shorten(str(key))}; did you mean '{close[0]}'? "
                "(the keys are listed in models/multi_source.toml)"
            )
    check_keys(ms, _KEYS, WHERE)


def _check_selection(ms: dict[str, Any]) -> None:
    """Check the selection keys' types; :class:`SelectionConfig` checks their values."""
    if "sources" in ms:
        src = ms["sources"]
        if not isinstance(src, list) or not all(isinstance(s, str) for s in src):
            raise spec_error(WHERE, "sources", src, "a list of source codes",
                             'write sources = ["KOR", "CHN"]')
        ms["sources"] = tuple(src)
    for key in _INT_KEYS:
        if key in ms:
            check_number(ms[key], WHERE, key, integer=True)
    if "include_conduits" in ms:
        check_type(ms["include_conduits"], bool, WHERE, "include_conduits", "true or false")
    if "missing_trade" in ms:
        check_choice(ms["missing_trade"], MISSING_TRADE, WHERE, "missing_trade")
    if "reference" in ms:
        check_type(ms["reference"], str, WHERE, "reference", "a source code string")


def spec_from_mapping(raw: dict[str, Any]) -> MultiSourceSpec:
    """Build a :class:`MultiSourceSpec` from the TOML layout."""
    raw = dict(raw)
    ms = raw.pop(SECTION, {})
    if not isinstance(ms, dict):
        raise spec_error("spec", SECTION, ms, "a table", f"write it as [{SECTION}]")
    ms = dict(ms)
    _check_section_keys(ms)
    compare = ms.pop("compare_per_source", True)
    gmm = ms.pop("gmm_command", DEFAULT_GMM_COMMAND)
    history = ms.pop("covariate_history", "host_effect")
    data = ms.pop("data", DEFAULT_DATA)
    _check_selection(ms)
    return MultiSourceSpec(
        model=spec_from_dict(raw),
        selection=SelectionConfig(**ms),
        compare_per_source=compare,
        gmm_command=gmm if gmm != "" else None,
        covariate_history=history,
        data=data,
    )


def load_multisource_spec(path: str | Path) -> MultiSourceSpec:
    """Read and validate a multi-source spec (see ``models/multi_source.toml``)."""
    return spec_from_mapping(read_toml(path, "spec"))
