"""Declarative specification of a hierarchical dynamic panel model (TOML or Python).

Every option is validated when the spec is built, before any data are read or any
sampling starts, so a typo in a TOML file fails in milliseconds rather than after a
two-minute compile.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from bayes_kfdi.constants import FDI_FLOOR, MOTIVES, SECTOR_OF_SERIES
from bayes_kfdi.validation import (
    check_choice,
    check_keys,
    check_number,
    read_toml,
    spec_error,
)

__all__ = [
    "HierarchicalSpec",
    "SamplerConfig",
    "PriorConfig",
    "load_spec",
    "spec_from_dict",
]

LIKELIHOODS = ("censored", "normal", "hurdle")
INITIAL_CONDITIONS = ("wooldridge", "naive")
SLOPE_POOLING = ("partial", "unpooled")
LAGS = ("observed", "latent")
MISSING = ("impute", "complete_case")
IMPUTATIONS = ("trend", "random_walk")
SCALES = ("panel", "sector")
TIME_FORMS = ("constant", "linear", "rw", "hsgp")
CENTERING = ("auto", "centered", "noncentered")
CENTERING_LEVELS = ("country", "unit", "slopes", "rho")
SAMPLERS = ("nutpie", "pymc", "numpyro")
#: nutpie mass-matrix adaptation: diagonal from the draws' and gradients' variances
#: (nutpie's "diag"), diagonal from the draws' variances alone (nutpie's "draw_diag",
#: as Stan and PyMC adapt), or low-rank-modified diagonal (nutpie's "low_rank", which
#: also adapts to the strongest posterior correlations). nutpie only.
ADAPTATIONS = ("diag", "draw_diag", "low_rank")


#: Series nested under another series (child = parent): the paper's electronics motives
#: under electronics. Nested series share their parent's trade columns (imputation
#: groups, sector scale) and, under ``nest_motives``, shrink their slopes toward it.
DEFAULT_NESTING: dict[str, str] = {m: SECTOR_OF_SERIES[m] for m in MOTIVES}
#: Default parameterisation per level (see ``bayes_kfdi.bayes.effects``).
DEFAULT_CENTERING: dict[str, str] = {
    "country": "centered",
    "unit": "auto",
    "slopes": "auto",
    "rho": "auto",
}
#: ``where`` of every message about a spec value.
WHERE = "spec"


def _check_literal(value: object, allowed: tuple[str, ...], name: str) -> None:
    check_choice(value, allowed, WHERE, name)


def _check_positive(value: object, name: str, *, integer: bool = False) -> None:
    kind = "a positive integer" if integer else "a positive number"
    check_number(value, WHERE, name, integer=integer, valid=lambda v: v > 0, expected=kind)


@dataclass(frozen=True, slots=True)
class PriorConfig:
    """Prior scales, on the standardised covariate scale and in units of sd(fdi).

    Attributes
    ----------
    rho_mu, rho_sd : float
        Normal prior of the mean lagged-outcome coefficient across series.
    rho_tau : float
        Prior mean of the between-series spread of rho (a zero-avoiding Gamma(2) prior).
    beta_sd : float
        Normal prior sd of the mean slope per term (x sd(fdi) per sd of the covariate).
    beta_tau : float
        Prior mean of the between-series spread of slopes and of trend slopes (a
        zero-avoiding Gamma(2) prior; x sd(fdi)).
    trend_sd : float
        Normal prior sd of a slope's change per decade (x sd(fdi) per sd of covariate).
    effect_tau : float
        Scale of the spreads of the country and country-series effects, in units of each
        series' residual sd (half-normal scale of ``tau_unit``; ``tau_country`` has a
        Gamma(2) prior with the same mean). The multi-source model's unit spread is on
        the log-FDI scale, at ``effect_tau / sqrt(2)`` x sd(fdi).
    sigma : float
        Half-normal scale of the residual sd (x sd(fdi)).
    """

    rho_mu: float = 0.3
    rho_sd: float = 0.5
    rho_tau: float = 0.3
    beta_sd: float = 0.5
    beta_tau: float = 0.3
    trend_sd: float = 0.3
    effect_tau: float = 1.0
    sigma: float = 0.5

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name != "rho_mu":
                _check_positive(getattr(self, f.name), f"priors.{f.name}")
        check_number(self.rho_mu, WHERE, "priors.rho_mu")


@dataclass(frozen=True, slots=True)
class SamplerConfig:
    """How to sample.

    Backend, draws, tuning steps, chains, seed, target acceptance, the largest NUTS tree
    depth (``max_treedepth``: at most ``2**max_treedepth - 1`` leapfrog steps per draw;
    10 is the usual default of Stan, PyMC and nutpie) and (nutpie only) the mass-matrix
    adaptation, ``"diag"``, ``"draw_diag"`` or ``"low_rank"`` (see ``ADAPTATIONS``).
    """

    sampler: Literal["nutpie", "pymc", "numpyro"] = "nutpie"
    draws: int = 1500
    tune: int = 300
    chains: int = 4
    cores: int = 2
    seed: int = 20260101
    target_accept: float = 0.95
    adaptation: Literal["diag", "draw_diag", "low_rank"] = "diag"
    max_treedepth: int = 10

    def __post_init__(self) -> None:
        _check_literal(self.sampler, SAMPLERS, "sampler.sampler")
        _check_literal(self.adaptation, ADAPTATIONS, "sampler.adaptation")
        for name in ("draws", "tune", "chains", "cores", "max_treedepth"):
            _check_positive(getattr(self, name), f"sampler.{name}", integer=True)
        check_number(
            self.seed, WHERE, "sampler.seed", integer=True, valid=lambda v: v >= 0,
            expected="a non-negative integer",
        )
        check_number(
            self.target_accept, WHERE, "sampler.target_accept", valid=lambda v: 0.5 <= v < 1,
            expected="a number in [0.5, 1) (0.8-0.95 is usual)",
        )


@dataclass(frozen=True, slots=True)
class HierarchicalSpec:
    r"""A hierarchical dynamic panel model of log FDI.

    The model for unit ``i = (series s, country c)`` in year ``t`` with an observed
    outcome in ``t - 1`` is

    .. math::

        y^*_{it} = \alpha_s + u_c + v_{sc} + \rho_s y_{i,t-1}
                   + \sum_k \beta_{sk}(t) x_{itk} + \varepsilon_{it},
        \qquad \varepsilon_{it} \sim N(0, \sigma_s^2)

    with ``y = max(y*, floor)`` under the censored likelihood. Under Wooldridge (2005)
    initial conditions the unit effect also depends on the unit's first observed outcome
    and on the within-unit covariate means (Mundlak-Chamberlain).

    Attributes
    ----------
    name : str
        Label stored with the fit.
    likelihood : {"censored", "normal", "hurdle"}
        Tobit at ``floor``; Gaussian; or a logit for P(y > floor) with a normal
        positive part truncated at the floor (lognormal flows).
    floor : float
        Value at which zero flows are coded (default log 3).
    initial_conditions : {"wooldridge", "naive"}
        Wooldridge (2005) conditioning, or unit effects independent of the initial
        outcome (biased upwards in rho; kept for comparison).
    lag : {"observed", "latent"}
        The regressor for last year's outcome: the observed, floor-coded value (data),
        or, under the censored likelihood, the latent uncensored outcome, sampled for
        floor-coded years (data augmentation; Chib 1992). "latent" is the Tobit dynamic
        model whose state is the latent flow.
    slopes : {"partial", "unpooled"}
        Partial pooling of slopes across series, or independent slopes per series.
    nest_motives : bool
        Slopes of a nested series (see ``nesting``) shrink toward its parent's slope
        rather than toward the grand mean, when both series are in the panel.
    nesting : mapping of series to series
        ``child = parent``: series that belong to another series' sector (default the
        electronics motives under electronics). A child carries its parent's trade
        columns (imputation group and sector scale) and, under ``nest_motives``,
        nests its slopes under the parent's.
    terms : tuple of str or None
        Covariates; ``None`` uses every canonical covariate present in the panel.
    time_varying : mapping of term to {"constant", "linear", "rw", "hsgp"}
        Per-term slope form over years: the paper's linear trend interaction, or a
        flexible path around the average-year slope, a Gaussian random walk or a
        Hilbert-space approximate Gaussian process (HSGP) over years.
    missing : {"impute", "complete_case"}
        Impute missing covariates inside the model, or drop rows with any missing term.
    imputation : {"trend", "random_walk"}
        The imputation model per covariate and country (sector-country for trade
        columns): a linear trend per country plus iid noise, which extrapolates that
        trend into unobserved years; or a driftless Gaussian random walk over years,
        which bridges a gap on the straight line between its observed neighbours and
        holds a series' ends flat.
    scale : {"panel", "sector"}
        Standardisation of the trade columns (host covariates always use the panel's
        mean and sd): one panel-wide scale per column, or each sector's own (motives
        share their parent's, see ``nesting``). The slopes are pooled on the
        standardised scale, so "sector" pools the effect of one sector-sd move, and a
        slope whose column barely moves in its sector gets a wide original-scale prior.
    centering : mapping of level to {"auto", "centered", "noncentered"}
        Parameterisation of country effects, country-series effects, slopes and rho.
        ``"auto"`` decides per group from the data (see ``bayes_kfdi.bayes.effects``):
        countries by their median informative rows, units by their own, rho per
        series, and root slopes by whether the data alone pin them more tightly than
        the pooling prior; nested slopes are non-centred.
    priors : PriorConfig
    sampler : SamplerConfig
    """

    name: str = "hierarchical"
    likelihood: Literal["censored", "normal", "hurdle"] = "censored"
    floor: float = FDI_FLOOR
    initial_conditions: Literal["wooldridge", "naive"] = "wooldridge"
    lag: Literal["observed", "latent"] = "observed"
    slopes: Literal["partial", "unpooled"] = "partial"
    nest_motives: bool = True
    nesting: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_NESTING))
    terms: tuple[str, ...] | None = None
    time_varying: Mapping[str, str] = field(
        default_factory=lambda: {"wage": "linear", "imunit": "linear"}
    )
    missing: Literal["impute", "complete_case"] = "impute"
    imputation: Literal["trend", "random_walk"] = "trend"
    scale: Literal["panel", "sector"] = "panel"
    centering: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CENTERING))
    priors: PriorConfig = field(default_factory=PriorConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise spec_error(WHERE, "model.name", self.name, "a non-empty string", "name it")
        _check_literal(self.likelihood, LIKELIHOODS, "model.likelihood")
        _check_literal(self.initial_conditions, INITIAL_CONDITIONS, "model.initial_conditions")
        _check_literal(self.slopes, SLOPE_POOLING, "model.slopes")
        _check_literal(self.lag, LAGS, "model.lag")
        if self.lag == "latent" and self.likelihood != "censored":
            raise spec_error(
                WHERE, "model.lag", self.lag, "likelihood = 'censored' with it",
                f"use lag = 'observed' with the {self.likelihood} likelihood",
            )
        _check_literal(self.missing, MISSING, "model.missing")
        _check_literal(self.imputation, IMPUTATIONS, "model.imputation")
        _check_literal(self.scale, SCALES, "model.scale")
        check_number(self.floor, WHERE, "model.floor")
        if not isinstance(self.nest_motives, bool):
            raise spec_error(
                WHERE, "model.nest_motives", self.nest_motives, "true or false", "set a boolean"
            )
        object.__setattr__(self, "nesting", _checked_nesting(self.nesting))
        if self.terms is not None:
            object.__setattr__(self, "terms", _checked_terms(self.terms))
        tv = dict(self.time_varying)
        for term, form in tv.items():
            _check_literal(form, TIME_FORMS, f"time_varying.{term}")
            if self.terms is not None and term not in self.terms and form != "constant":
                raise spec_error(
                    WHERE, f"time_varying.{term}", form,
                    f"a term of model.terms {list(self.terms)}",
                    "add it to terms or drop the time_varying entry (it is not in model.terms)",
                )
        object.__setattr__(self, "time_varying", tv)
        check_keys(self.centering, CENTERING_LEVELS, f"{WHERE} [centering]")
        cen = {**DEFAULT_CENTERING, **dict(self.centering)}
        for level, form in cen.items():
            _check_literal(form, CENTERING, f"centering.{level}")
        object.__setattr__(self, "centering", cen)
        if not isinstance(self.priors, PriorConfig):
            raise spec_error(WHERE, "priors", self.priors, "a PriorConfig", "pass PriorConfig()")
        if not isinstance(self.sampler, SamplerConfig):
            raise spec_error(
                WHERE, "sampler", self.sampler, "a SamplerConfig", "pass SamplerConfig()"
            )

    # ------------------------------------------------------------------ provenance
    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form of the spec (round-trips through :func:`spec_from_dict`)."""
        d = asdict(self)
        d["terms"] = list(self.terms) if self.terms is not None else None
        d["time_varying"] = dict(self.time_varying)
        d["centering"] = dict(self.centering)
        d["nesting"] = dict(self.nesting)
        return d

    def to_json(self) -> str:
        """Canonical JSON (sorted keys) used for the provenance hash."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def model_hash(self) -> str:
        """SHA-256 of the spec without the sampler block (the model, not the run)."""
        d = self.to_dict()
        d.pop("sampler")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()

    def with_sampler(self, **changes: Any) -> HierarchicalSpec:
        """Copy with some sampler settings replaced (``None`` values are ignored)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        return replace(self, sampler=replace(self.sampler, **changes))


def _checked_nesting(nesting: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(nesting, Mapping):
        raise spec_error(WHERE, "nesting", nesting, "a table of child = parent series", "fix it")
    out = dict(nesting)
    for child, parent in out.items():
        if not isinstance(parent, str) or not parent or parent == child:
            raise spec_error(
                WHERE, f"nesting.{child}", parent, "the name of another series", "fix it"
            )
        if parent in out:
            raise spec_error(
                WHERE, f"nesting.{child}", parent, "a parent that is not itself nested",
                f"nest {child} under {out[parent]!r} or drop nesting.{parent}",
            )
    return out


def _checked_terms(terms: Any) -> tuple[str, ...]:
    terms = (terms,) if isinstance(terms, str) else tuple(terms)
    if not terms or not all(isinstance(t, str) and t for t in terms):
        raise spec_error(
            WHERE, "model.terms", terms, 'a non-empty list of column names or "auto"',
            "list the covariates",
        )
    if len(set(terms)) != len(terms):
        raise spec_error(
            WHERE, "model.terms", terms, "each term once", "remove the term that repeats"
        )
    return terms


_MODEL_KEYS = {
    "name",
    "likelihood",
    "floor",
    "initial_conditions",
    "lag",
    "slopes",
    "nest_motives",
    "terms",
    "missing",
    "imputation",
    "scale",
}
#: Sections whose keys are free (terms, levels, series), each a table of its own.
_TABLES = ("time_varying", "centering", "nesting")
_SECTIONS = {"model", "priors", "sampler", *_TABLES}
#: Sections that belong to other readers and do not change the model: ``[multisource]``
#: is the panel selection of :mod:`bayes_kfdi.multisource.spec` (validated there;
#: ``bayes-kfdi fit`` applies it before fitting).
FOREIGN_SECTIONS = {"multisource"}


def _section(d: Mapping[str, Any], name: str, allowed: Any = None) -> dict[str, Any]:
    table = d.get(name, {})
    if not isinstance(table, Mapping):
        raise spec_error(WHERE, f"[{name}]", table, "a table", f"write it as [{name}]")
    if allowed is not None:
        check_keys(table, allowed, f"{WHERE} [{name}]")
    return dict(table)


def spec_from_dict(d: Mapping[str, Any]) -> HierarchicalSpec:
    """Build a spec from a nested mapping with the TOML layout (or a flat ``to_dict``).

    A ``[multisource]`` section (:data:`FOREIGN_SECTIONS`) is accepted and ignored here:
    it selects the panel, not the model (see :mod:`bayes_kfdi.multisource.spec`).
    """
    d = dict(d)
    if "model" not in d and set(d) & _MODEL_KEYS:  # flat form of HierarchicalSpec.to_dict
        flat = dict(d)
        d = {
            "model": {k: flat.pop(k) for k in list(flat) if k in _MODEL_KEYS},
            **{k: flat.pop(k) for k in list(flat) if k in _SECTIONS},
        }
        check_keys(flat, _MODEL_KEYS | _SECTIONS, WHERE)
    d = {k: v for k, v in d.items() if k not in FOREIGN_SECTIONS}
    check_keys(d, _SECTIONS, WHERE)
    model = _section(d, "model", _MODEL_KEYS)
    if model.get("terms") == "auto":
        model["terms"] = None
    priors = PriorConfig(**_section(d, "priors", [f.name for f in fields(PriorConfig)]))
    sampler = SamplerConfig(**_section(d, "sampler", [f.name for f in fields(SamplerConfig)]))
    kwargs: dict[str, Any] = {**model, "priors": priors, "sampler": sampler}
    for name in _TABLES:
        if name in d:
            kwargs[name] = _section(d, name)
    return HierarchicalSpec(**kwargs)


def load_spec(path: str | Path) -> HierarchicalSpec:
    """Read and validate a model spec from a TOML file.

    Raises
    ------
    SpecificationError
        If the file is missing, is not valid TOML or has an invalid option.
    """
    return spec_from_dict(read_toml(path, "spec"))
