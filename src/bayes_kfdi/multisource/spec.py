"""The multi-source spec: a hierarchical model spec plus a ``[multisource]`` section.

``models/multi_source.toml`` is an ordinary :mod:`bayes_kfdi.bayes.spec` file (sections
``model``, ``time_varying``, ``centering``, ``priors``, ``sampler``) with one extra
section that says which sources, years and hosts to use, the reference source, whether
to fit the one-model-per-source rival for LOO, and the per-source GMM command.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bayes_kfdi.bayes.spec import HierarchicalSpec, spec_from_dict
from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.multisource.panel import SelectionConfig

__all__ = ["MultiSourceSpec", "DEFAULT_GMM_COMMAND", "is_multisource_spec", "load_multisource_spec"]

SECTION = "multisource"
#: Per-source baseline: lagged outcome GMM-style (collapsed lags 2-4, Roodman 2009's
#: advice against instrument proliferation on small panels), host covariates IV-style.
DEFAULT_GMM_COMMAND = (
    "xtabond2 fdi L.fdi gdp gdppc, gmm(L.fdi, lag(2 4) collapse) iv(gdp gdppc) "
    "twostep robust"
)
_KEYS = {
    "sources", "reference", "first_year", "last_year", "min_sources_per_host",
    "min_rows_per_source", "min_years_per_source", "max_hosts", "compare_per_source", "gmm_command",
    "covariate_history",
}
HISTORY = ("host_effect", "unit")


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
    """

    model: HierarchicalSpec
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    compare_per_source: bool = True
    gmm_command: str | None = DEFAULT_GMM_COMMAND
    covariate_history: str = "host_effect"

    def __post_init__(self) -> None:
        if self.covariate_history not in HISTORY:
            raise SpecificationError(
                f"multisource.covariate_history = {self.covariate_history!r}; expected one "
                f"of {HISTORY}"
            )
        if not isinstance(self.compare_per_source, bool):
            raise SpecificationError(
                f"multisource.compare_per_source = {self.compare_per_source!r}; expected "
                "true or false"
            )
        if self.gmm_command is not None and (
            not isinstance(self.gmm_command, str) or not self.gmm_command.strip()
        ):
            raise SpecificationError(
                f"multisource.gmm_command = {self.gmm_command!r}; expected an xtabond2 "
                'command string or "" to skip GMM'
            )


def _read(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise SpecificationError(
            f"spec file '{p}' does not exist; expected a TOML file such as "
            "models/multi_source.toml"
        )
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecificationError(f"spec file '{p}' is not valid TOML: {exc}") from None


def is_multisource_spec(path: str | Path) -> bool:
    """Return whether the TOML file at ``path`` has a ``[multisource]`` section."""
    p = Path(path)
    return p.is_file() and SECTION in _read(p)


def spec_from_mapping(raw: dict[str, Any]) -> MultiSourceSpec:
    """Build a :class:`MultiSourceSpec` from the TOML layout."""
    raw = dict(raw)
    ms = dict(raw.pop(SECTION, {}))
    bad = set(ms) - _KEYS
    if bad:
        raise SpecificationError(
            f"unknown key(s) {sorted(bad)} in [{SECTION}]; expected {sorted(_KEYS)}"
        )
    compare = ms.pop("compare_per_source", True)
    gmm = ms.pop("gmm_command", DEFAULT_GMM_COMMAND)
    history = ms.pop("covariate_history", "host_effect")
    if "sources" in ms and isinstance(ms["sources"], list):
        ms["sources"] = tuple(ms["sources"])
    try:
        selection = SelectionConfig(**ms)
    except TypeError as exc:
        raise SpecificationError(f"bad [{SECTION}] entry: {exc}") from None
    return MultiSourceSpec(
        model=spec_from_dict(raw),
        selection=selection,
        compare_per_source=compare,
        gmm_command=gmm if gmm != "" else None,
        covariate_history=history,
    )


def load_multisource_spec(path: str | Path) -> MultiSourceSpec:
    """Read and validate a multi-source spec (see ``models/multi_source.toml``)."""
    return spec_from_mapping(_read(path))
