"""Hypotheses as declarative specs, and their evaluation by both methods.

A hypothesis is a set of *claims*; each claim states the sign of one slope quantity
(``level``: the slope; ``trend``: its change per year) for one or more series. The
hypothesis holds when every claim holds for every listed series.

Bayesian evaluation (per claim): posterior probability of the stated direction, the
highest-density interval, a ROPE decision and power-scaling prior/likelihood
sensitivity. The hypothesis as a whole gets the *joint* posterior probability that all
claims hold, computed draw by draw. GMM evaluation: estimate, Windmeijer interval, the
two-sided p-value and the one-sided p-value in the stated direction.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import arviz_stats as azs
import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from bayes_kfdi.constants import CI_PROB, FDI_FLOOR
from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.report.inputs import (
    Component,
    RunInputs,
    gmm_lookup,
    slope_draws,
    slope_prior_names,
)

__all__ = [
    "Direction",
    "Claim",
    "Hypothesis",
    "HypothesisSettings",
    "WageEffectSpec",
    "HypothesisSet",
    "HypothesisResult",
    "parse_hypotheses",
    "load_hypotheses",
    "validate_hypotheses",
    "evaluate_hypothesis",
    "evaluate_all",
    "psense_status",
]

Direction = Literal[">", "<"]
DIRECTIONS: tuple[str, ...] = (">", "<")
COMPONENTS: tuple[str, ...] = ("level", "trend")
_DIRECTION_WORD = {">": "positive", "<": "negative"}

#: Floor share above which censoring is named as a reason for disagreement: with a
#: quarter of the outcomes piled at one value, a linear estimator's slope is visibly
#: attenuated (Tobit 1958; `bayes-kfdi paper` measures it on the semi-synthetic panel).
CENSORING_SHARE_NOTABLE = 0.25


@dataclass(frozen=True, slots=True)
class Claim:
    """The sign of one slope quantity for one or more series.

    Attributes
    ----------
    series : tuple of str
        Series the claim applies to; it must hold for each.
    term : str
        Covariate name (SCHEMA section 1).
    direction : {">", "<"}
        Stated sign.
    component : {"level", "trend"}
        The slope itself, or its linear change per year.
    rope : tuple of float or None
        Practically-zero band for this claim; None uses the settings' band for the
        component.
    """

    series: tuple[str, ...]
    term: str
    direction: Direction
    component: Component = "level"
    rope: tuple[float, float] | None = None

    def label(self, series: str) -> str:
        """Short text such as ``gdp > 0 (textile)`` or ``trend of wage > 0 (...)``."""
        what = self.term if self.component == "level" else f"trend of {self.term}"
        return f"{what} {self.direction} 0 ({series})"


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """A named set of claims.

    Attributes
    ----------
    id : str
        Short identifier used as the report section anchor (``H1``).
    title : str
        One-line name.
    statement : str
        The hypothesis in words, quoted in the report.
    claims : tuple of Claim
    """

    id: str
    title: str
    statement: str
    claims: tuple[Claim, ...]


@dataclass(frozen=True, slots=True)
class WageEffectSpec:
    """The paper's wage-effect comparison (section 6: a 14% decline, then 4%).

    Attributes
    ----------
    series, term : str
        The slope whose trend is compared.
    sd_multiple : float
        Size of the covariate change in standard deviations.
    paper_start_pct, paper_end_pct : float or None
        The paper's effects in percent at the start and end of the period.
    source : str
        Where the paper's numbers come from.
    """

    series: str = "electronics_efficiency"
    term: str = "wage"
    sd_multiple: float = 2.0
    paper_start_pct: float | None = None
    paper_end_pct: float | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class HypothesisSettings:
    """Decision settings shared by every hypothesis.

    Attributes
    ----------
    ci_prob : float
        Probability of the HDI and of the GMM interval (default: ``CI_PROB``).
    prob_threshold : float
        Posterior probability of the direction at or above which a claim is supported
        (at or below ``1 - prob_threshold``: contradicted).
    alpha : float
        One-sided significance level of the GMM verdict.
    rope, rope_trend : tuple of float
        Practically-zero bands for level slopes (elasticities) and for trends (per year).
    psense_threshold : float
        Power-scaling sensitivity above which a claim is flagged (Kallioinen et al. 2024
        use 0.05).
    """

    ci_prob: float = CI_PROB
    prob_threshold: float = 0.95
    alpha: float = 0.05
    rope: tuple[float, float] = (-0.05, 0.05)
    rope_trend: tuple[float, float] = (-0.005, 0.005)
    psense_threshold: float = 0.05


@dataclass(frozen=True, slots=True)
class HypothesisSet:
    """Settings, hypotheses and the wage-effect comparison from one spec file."""

    settings: HypothesisSettings
    hypotheses: tuple[Hypothesis, ...]
    wage_effect: WageEffectSpec | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class HypothesisResult:
    """The evaluation of one hypothesis, as CausalPy's ``EffectSummary``.

    Attributes
    ----------
    hypothesis : Hypothesis
    table : pandas.DataFrame
        One row per claim and series; columns listed in :data:`RESULT_COLUMNS`.
    text : str
        Plain-language verdicts per method and, where they differ, why.
    bayes_verdict, gmm_verdict : str
        ``supported``, ``contradicted``, ``inconclusive`` or ``not available``.
    joint_probability : float
        Posterior probability that every claim holds (NaN without a posterior).
    """

    hypothesis: Hypothesis
    table: pd.DataFrame
    text: str
    bayes_verdict: str
    gmm_verdict: str
    joint_probability: float
    reasons: tuple[str, ...] = field(default=())


RESULT_COLUMNS: tuple[str, ...] = (
    "hypothesis",
    "claim",
    "series",
    "term",
    "component",
    "direction",
    "bayes_mean",
    "bayes_sd",
    "hdi_low",
    "hdi_high",
    "p_direction",
    "p_rope",
    "rope_low",
    "rope_high",
    "rope_decision",
    "prior_sensitivity",
    "likelihood_sensitivity",
    "sensitivity_diagnosis",
    "bayes_verdict",
    "gmm_equation",
    "gmm_coef_name",
    "gmm_coef",
    "gmm_se",
    "gmm_ci_low",
    "gmm_ci_high",
    "gmm_p",
    "gmm_p_direction",
    "gmm_vce",
    "gmm_verdict",
    "agree",
)


# --------------------------------------------------------------------------- parsing
def _fail(where: str, msg: str) -> SpecificationError:
    return SpecificationError(f"{where}: {msg}")


def _check_keys(obj: Mapping[str, Any], allowed: set[str], required: set[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise _fail(
            where,
            f"unknown key(s) {', '.join(unknown)}; expected only {', '.join(sorted(allowed))}; "
            "fix the spelling",
        )
    missing = sorted(required - set(obj))
    if missing:
        raise _fail(where, f"missing key(s) {', '.join(missing)}; add them")


def _prob(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise _fail(where, f"{value!r}; expected a number strictly between 0 and 1")
    return float(value)


def _band(value: Any, where: str) -> tuple[float, float]:
    ok = (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )
    if not ok or not value[0] < value[1]:
        raise _fail(
            where, f"{value!r}; expected [low, high] numbers with low < high, e.g. [-0.05, 0.05]"
        )
    return (float(value[0]), float(value[1]))


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"{value!r}; expected a non-empty string")
    return value.strip()


def _parse_settings(raw: Mapping[str, Any]) -> HypothesisSettings:
    where = "[settings]"
    allowed = {"ci_prob", "prob_threshold", "alpha", "rope", "rope_trend", "psense_threshold"}
    _check_keys(raw, allowed, set(), where)
    d = HypothesisSettings()
    thr = _prob(raw.get("prob_threshold", d.prob_threshold), f"{where} prob_threshold")
    if thr <= 0.5:
        raise _fail(f"{where} prob_threshold", f"{thr}; expected more than 0.5, e.g. 0.95")
    sens = raw.get("psense_threshold", d.psense_threshold)
    if isinstance(sens, bool) or not isinstance(sens, int | float) or sens <= 0:
        raise _fail(f"{where} psense_threshold", f"{sens!r}; expected a positive number, e.g. 0.05")
    return HypothesisSettings(
        ci_prob=_prob(raw.get("ci_prob", d.ci_prob), f"{where} ci_prob"),
        prob_threshold=thr,
        alpha=_prob(raw.get("alpha", d.alpha), f"{where} alpha"),
        rope=_band(raw.get("rope", list(d.rope)), f"{where} rope"),
        rope_trend=_band(raw.get("rope_trend", list(d.rope_trend)), f"{where} rope_trend"),
        psense_threshold=float(sens),
    )


def _parse_claim(raw: Any, where: str) -> Claim:
    if not isinstance(raw, Mapping):
        raise _fail(where, f"{raw!r}; expected a table with series, term and direction")
    _check_keys(raw, {"series", "term", "direction", "component", "rope"},
                {"series", "term", "direction"}, where)
    series = raw["series"]
    if isinstance(series, str):
        series = [series]
    if not isinstance(series, list) or not series or not all(
        isinstance(s, str) and s for s in series
    ):
        raise _fail(
            f"{where} series", f"{raw['series']!r}; expected a series name or a list of them"
        )
    if len(set(series)) != len(series):
        raise _fail(f"{where} series", f"{series!r} repeats a series; list each once")
    direction = raw["direction"]
    if direction not in DIRECTIONS:
        raise _fail(
            f"{where} direction",
            f"{direction!r}; expected one of {', '.join(map(repr, DIRECTIONS))} "
            "(sign of the slope)",
        )
    component = raw.get("component", "level")
    if component not in COMPONENTS:
        raise _fail(
            f"{where} component",
            f"{component!r}; expected one of {', '.join(map(repr, COMPONENTS))}",
        )
    rope = _band(raw["rope"], f"{where} rope") if "rope" in raw else None
    return Claim(tuple(series), _text(raw["term"], f"{where} term"), direction, component, rope)


def _parse_wage_effect(raw: Mapping[str, Any]) -> WageEffectSpec:
    where = "[wage_effect]"
    _check_keys(raw, {"series", "term", "sd_multiple", "paper_start_pct", "paper_end_pct",
                      "source"}, {"series", "term"}, where)
    mult = raw.get("sd_multiple", 2.0)
    if isinstance(mult, bool) or not isinstance(mult, int | float) or mult <= 0:
        raise _fail(f"{where} sd_multiple", f"{mult!r}; expected a positive number, e.g. 2")
    vals = {}
    for key in ("paper_start_pct", "paper_end_pct"):
        v = raw.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise _fail(f"{where} {key}", f"{v!r}; expected a number in percent")
        vals[key] = None if v is None else float(v)
    return WageEffectSpec(
        series=_text(raw["series"], f"{where} series"),
        term=_text(raw["term"], f"{where} term"),
        sd_multiple=float(mult),
        source=str(raw.get("source", "")),
        **vals,
    )


def parse_hypotheses(raw: Mapping[str, Any], *, source: str = "<dict>") -> HypothesisSet:
    """Validate a parsed hypotheses document and build a :class:`HypothesisSet`.

    Parameters
    ----------
    raw : Mapping
        The document: optional ``settings`` and ``wage_effect`` tables and a
        ``hypothesis`` array of tables, each with ``id``, ``title``, ``statement`` and a
        ``claims`` array.
    source : str
        Name used in error messages.

    Raises
    ------
    SpecificationError
        On any malformed entry; the message names the entry, the value seen and the fix.
    """
    try:
        _check_keys(raw, {"settings", "hypothesis", "wage_effect"}, {"hypothesis"}, source)
        settings = _parse_settings(raw.get("settings", {}))
        items = raw["hypothesis"]
        if not isinstance(items, list) or not items:
            raise _fail(source, "'hypothesis' must be a non-empty array of tables ([[hypothesis]])")
        hyps: list[Hypothesis] = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            where = f"hypothesis #{i + 1}"
            if not isinstance(item, Mapping):
                raise _fail(where, f"{item!r}; expected a table")
            _check_keys(item, {"id", "title", "statement", "claims"}, {"id", "claims"}, where)
            hid = _text(item["id"], f"{where} id")
            if not hid.replace("_", "").replace("-", "").isalnum():
                raise _fail(f"{where} id", f"{hid!r}; expected letters, digits, '-' or '_'")
            if hid in seen:
                raise _fail(
                    f"{where} id", f"{hid!r} is used twice; give each hypothesis its own id"
                )
            seen.add(hid)
            where = f"hypothesis {hid}"
            claims_raw = item["claims"]
            if not isinstance(claims_raw, list) or not claims_raw:
                raise _fail(f"{where} claims", "expected a non-empty array of claims")
            claims = tuple(
                _parse_claim(c, f"{where} claim #{j + 1}") for j, c in enumerate(claims_raw)
            )
            hyps.append(
                Hypothesis(
                    id=hid,
                    title=_text(item.get("title", hid), f"{where} title"),
                    statement=_text(item.get("statement", item.get("title", hid)),
                                    f"{where} statement"),
                    claims=claims,
                )
            )
        wage = _parse_wage_effect(raw["wage_effect"]) if "wage_effect" in raw else None
    except SpecificationError as exc:
        raise SpecificationError(f"{source}: {exc}") from None
    return HypothesisSet(settings, tuple(hyps), wage, source)


def load_hypotheses(path: str | Path) -> HypothesisSet:
    """Read and validate a hypotheses TOML file (see ``models/hypotheses.toml``).

    Raises
    ------
    SpecificationError
        If the file is missing, is not valid TOML, or any entry is malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise SpecificationError(
            f"hypotheses file {path} does not exist; expected a TOML file like "
            "models/hypotheses.toml; check the path"
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecificationError(f"{path} is not valid TOML ({exc}); fix the syntax") from None
    return parse_hypotheses(raw, source=str(path))


def validate_hypotheses(
    hset: HypothesisSet, *, series: Sequence[str], terms: Sequence[str]
) -> None:
    """Check every claim against the series and covariates a panel actually has.

    Call this before any fitting, so a typo fails in milliseconds.

    Parameters
    ----------
    hset : HypothesisSet
    series : sequence of str
        Series present in the panel.
    terms : sequence of str
        Covariates present in the panel.

    Raises
    ------
    SpecificationError
        Listing every claim that names an absent series or covariate.
    """
    problems: list[str] = []
    known_s, known_t = set(series), set(terms)
    for h in hset.hypotheses:
        for c in h.claims:
            bad = [s for s in c.series if s not in known_s]
            if bad:
                problems.append(f"{h.id}: series {', '.join(map(repr, bad))} not in the data")
            if c.term not in known_t:
                problems.append(f"{h.id}: covariate {c.term!r} not in the data")
    w = hset.wage_effect
    if w is not None:
        if w.series not in known_s:
            problems.append(f"wage_effect: series {w.series!r} not in the data")
        if w.term not in known_t:
            problems.append(f"wage_effect: covariate {w.term!r} not in the data")
    if problems:
        raise SpecificationError(
            f"{hset.source}: " + "; ".join(problems)
            + f"; the data have series {', '.join(sorted(known_s))} and covariates "
            f"{', '.join(sorted(known_t))}; fix the hypotheses file or pass other data"
        )


# ------------------------------------------------------------------------ evaluation
def _rope_for(claim: Claim, settings: HypothesisSettings) -> tuple[float, float]:
    if claim.rope is not None:
        return claim.rope
    return settings.rope if claim.component == "level" else settings.rope_trend


def psense_status(tree: xr.DataTree | None) -> str:
    """Why power-scaling sensitivity cannot be computed, or ``""`` when it can.

    Power-scaling (Kallioinen et al. 2024) reweights the posterior by the prior and by
    the likelihood raised to a power near 1, so it needs the pointwise log prior
    (``log_prior`` group) and log likelihood (``log_likelihood`` group) stored with the
    draws. Without them the report shows "not available" and the reason, never a number.
    """
    if tree is None:
        return "no posterior.nc"
    missing = [g for g in ("log_prior", "log_likelihood") if g not in tree.children]
    if missing:
        return f"posterior.nc has no {' or '.join(missing)} group"
    return ""


def _psense_groups(tree: xr.DataTree | None) -> dict[str, xr.Dataset] | None:
    """Log prior and log likelihood summed to one (chain, draw) total each.

    arviz-stats power-scales the *sum* of each group over all variables and dims, so
    summing first gives the same weights while avoiding its stacking of every variable's
    dims into one array (which fails beyond 32 distinct dims in large models).
    """
    if psense_status(tree):
        return None
    assert tree is not None

    def total(ds: xr.Dataset) -> xr.Dataset:
        parts = [
            da.sum(dim=[d for d in da.dims if d not in ("chain", "draw")])
            for da in ds.data_vars.values()
        ]
        return xr.Dataset({"total": sum(parts[1:], parts[0]).transpose("chain", "draw")})

    prior = tree["log_prior"].to_dataset()[list(slope_prior_names(tree))]
    return {
        "log_prior": total(prior),
        "log_likelihood": total(tree["log_likelihood"].to_dataset()),
    }


def _psense(
    tree: xr.DataTree,
    groups: dict[str, xr.Dataset] | None,
    draws: Sequence[np.ndarray],
    settings: HypothesisSettings,
) -> list[tuple[float, float, str]]:
    """Prior and likelihood sensitivity of each quantity (one psense call per group)."""
    if groups is None:
        return [(math.nan, math.nan, f"not available: {psense_status(tree)}")] * len(draws)
    if not draws:
        return []
    post = tree["posterior"]
    coords = {"chain": post["chain"].values, "draw": post["draw"].values}
    kept = groups["log_likelihood"]["draw"].values
    if kept.size != coords["draw"].size:
        # posterior.nc keeps the pointwise groups for every k-th draw only (see
        # bayes.fit.ROW_DRAWS): weight those draws
        pos = np.searchsorted(coords["draw"], kept)
        draws = [np.asarray(d)[:, pos] for d in draws]
        coords = {"chain": coords["chain"], "draw": kept}
    names = [f"q{i}" for i in range(len(draws))]
    small = xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset(
                {n: (("chain", "draw"), d) for n, d in zip(names, draws, strict=True)},
                coords=coords,
            ),
            "log_prior": groups["log_prior"].assign_coords(coords),
            "log_likelihood": groups["log_likelihood"].assign_coords(coords),
        }
    )
    prior = azs.psense(small, var_names=names, group="prior")
    lik = azs.psense(small, var_names=names, group="likelihood")
    thr = settings.psense_threshold
    out = []
    for n in names:
        p, li = float(prior[n].item()), float(lik[n].item())
        if p >= thr and li >= thr:
            diag = "potential prior-data conflict"
        elif p >= thr:
            diag = "potential strong prior / weak likelihood"
        else:
            diag = "ok"
        out.append((p, li, diag))
    return out


def _bayes_row(
    inputs: RunInputs,
    claim: Claim,
    series: str,
    settings: HypothesisSettings,
) -> tuple[dict[str, Any], np.ndarray | None]:
    lo, hi = _rope_for(claim, settings)
    row: dict[str, Any] = {"rope_low": lo, "rope_high": hi}
    if not inputs.has_bayes:
        row.update(bayes_verdict="not available", rope_decision="not available",
                   sensitivity_diagnosis="not available: no Bayesian fit in the run directory")
        return row, None
    assert inputs.posterior is not None and inputs.summary is not None
    try:
        draws = slope_draws(inputs.posterior, series, claim.term, claim.component)
    except SpecificationError as exc:
        row.update(bayes_verdict=f"not available: {exc}", rope_decision="not available",
                   sensitivity_diagnosis="not available")
        return row, None
    flat = draws.ravel()
    s = inputs.summary
    match = s[(s["parameter"] == "beta") & (s["series"] == series) & (s["term"] == claim.term)]
    if claim.component == "level" and len(match) == 1:
        mean, sd = float(match["mean"].iloc[0]), float(match["sd"].iloc[0])
    else:
        mean, sd = float(flat.mean()), float(flat.std(ddof=1))
    hdi = azs.hdi(xr.DataArray(draws, dims=("chain", "draw")), prob=settings.ci_prob)
    h_lo, h_hi = (float(v) for v in np.asarray(hdi.values).ravel()[:2])
    p_dir = float(np.mean(flat > 0) if claim.direction == ">" else np.mean(flat < 0))
    p_rope = float(np.mean((flat >= lo) & (flat <= hi)))
    if h_lo >= lo and h_hi <= hi:
        rope_decision = "HDI inside ROPE"
    elif h_hi < lo or h_lo > hi:
        rope_decision = "HDI outside ROPE"
    else:
        rope_decision = "HDI overlaps ROPE"
    thr = settings.prob_threshold
    if rope_decision == "HDI inside ROPE":
        verdict = "practically zero"
    elif p_dir >= thr:
        verdict = "supported"
    elif p_dir <= 1 - thr:
        verdict = "contradicted"
    else:
        verdict = "inconclusive"
    row.update(
        bayes_mean=mean, bayes_sd=sd, hdi_low=h_lo, hdi_high=h_hi, p_direction=p_dir,
        p_rope=p_rope, rope_decision=rope_decision, bayes_verdict=verdict,
        _draws=draws,
    )
    return row, flat if claim.direction == ">" else -flat


def _gmm_row(
    inputs: RunInputs, claim: Claim, series: str, settings: HypothesisSettings
) -> dict[str, Any]:
    found = gmm_lookup(inputs, series, claim.term, claim.component)
    if found is None:
        failed = [f"{k} ({v})" for k, v in inputs.gmm_failures.items()
                  if k.split(".")[0] == series]
        why = f": estimation failed for {'; '.join(failed)}" if failed else ""
        return {"gmm_verdict": f"not available{why}", "gmm_equation": ""}
    eq, name = found
    coef = float(eq.result["coef"][name])
    se_raw = eq.result.get("se", {}).get(name)
    row: dict[str, Any] = {
        "gmm_equation": eq.path.name,
        "gmm_coef_name": name,
        "gmm_coef": coef,
        "gmm_vce": str(eq.result.get("vce") or ""),
    }
    if se_raw is None or not float(se_raw) > 0:
        row.update(gmm_verdict="not available (no standard error)")
        return row
    se = float(se_raw)
    z = coef / se
    zc = float(stats.norm.ppf(0.5 + settings.ci_prob / 2))
    p_two = float(2 * stats.norm.sf(abs(z)))
    p_dir = float(stats.norm.sf(z) if claim.direction == ">" else stats.norm.cdf(z))
    if p_dir < settings.alpha:
        verdict = "supported"
    elif 1 - p_dir < settings.alpha:
        verdict = "contradicted"
    else:
        verdict = "inconclusive"
    row.update(gmm_se=se, gmm_ci_low=coef - zc * se, gmm_ci_high=coef + zc * se,
               gmm_p=p_two, gmm_p_direction=p_dir, gmm_verdict=verdict)
    return row


def _agree(b: str, g: str) -> bool | None:
    if b.startswith("not available") or g.startswith("not available"):
        return None
    return b == g


def _why(inputs: RunInputs, row: Mapping[str, Any]) -> list[str]:
    """Reasons the two methods can reach different verdicts for one claim, with numbers."""
    reasons: list[str] = []
    series, term = row["series"], row["term"]
    eq = next((e for e in inputs.gmm if e.path.name == row.get("gmm_equation")), None)
    if eq is not None:
        j, g = eq.result.get("n_instruments"), eq.result.get("n_groups")
        hansen = eq.result.get("hansen") or {}
        hp = hansen.get("p")
        if j is not None and g is not None and j > g:
            hp_txt = f" (here p = {hp:.3f})" if hp is not None else ""
            reasons.append(
                f"instrument count: the GMM equation uses {j} instruments for {g} groups. "
                f"With more instruments than groups the two-step weight matrix is poorly "
                f"estimated, Hansen's test loses power{hp_txt}, and the estimates drift "
                f"toward the biased non-instrumented ones (Roodman 2009)."
            )
        elif j is not None and g is not None:
            reasons.append(
                f"instrument count: {j} instruments for {g} groups, so instrument "
                "proliferation is not the main suspect."
            )
    share = (inputs.data_check.get("floor_share") or {}).get(series)
    if share is not None and share >= CENSORING_SHARE_NOTABLE:
        lik = ""
        if inputs.posterior is not None:
            lik = str(inputs.posterior.attrs.get("likelihood", ""))
        lik_txt = f" (the Bayesian fit's likelihood: {lik})" if lik else ""
        reasons.append(
            f"censoring: {share:.0%} of {series} flows sit at the log(3) = {FDI_FLOOR:.4f} "
            f"floor. Linear GMM treats them as exact values, which pulls slopes toward "
            f"zero; a censored likelihood treats them as 'at most the floor'{lik_txt}."
        )
    if inputs.summary is not None and "gmm_coef" in row and not _isnan(row.get("bayes_mean")):
        s = inputs.summary
        same = s[(s["parameter"] == "beta") & (s["term"] == term)]
        if row["component"] == "level" and len(same) > 1:
            pool = float(same["mean"].mean())
            b, gm = float(row["bayes_mean"]), float(row["gmm_coef"])
            if abs(b - pool) < abs(gm - pool):
                reasons.append(
                    f"pooling: the hierarchical prior pulls the {series} {term} slope toward "
                    f"the cross-series average {pool:.3f} (Bayes {b:.3f}, GMM {gm:.3f}); "
                    "GMM estimates each series on its own."
                )
        if not _isnan(row.get("gmm_se")) and not _isnan(row.get("bayes_sd")):
            reasons.append(
                f"precision: posterior sd {row['bayes_sd']:.3f} against GMM standard error "
                f"{row['gmm_se']:.3f}."
            )
    return reasons


def _isnan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _method_verdict(verdicts: Sequence[str]) -> str:
    if not verdicts or any(v.startswith("not available") for v in verdicts):
        return "not available"
    if all(v == "supported" for v in verdicts):
        return "supported"
    if any(v == "contradicted" for v in verdicts):
        return "contradicted"
    return "inconclusive"


def evaluate_hypothesis(
    hypothesis: Hypothesis, inputs: RunInputs, settings: HypothesisSettings
) -> HypothesisResult:
    """Evaluate one hypothesis with both methods.

    Parameters
    ----------
    hypothesis : Hypothesis
    inputs : RunInputs
        From :func:`bayes_kfdi.report.inputs.load_run`.
    settings : HypothesisSettings

    Returns
    -------
    HypothesisResult
    """
    rows: list[dict[str, Any]] = []
    signed: list[np.ndarray] = []
    groups = _psense_groups(inputs.posterior) if inputs.has_bayes else None
    # One psense call per hypothesis: the power-scaling weights are shared by all claims.
    for claim in hypothesis.claims:
        for series in claim.series:
            row: dict[str, Any] = {
                "hypothesis": hypothesis.id,
                "claim": claim.label(series),
                "series": series,
                "term": claim.term,
                "component": claim.component,
                "direction": claim.direction,
            }
            brow, s = _bayes_row(inputs, claim, series, settings)
            row.update(brow)
            if s is not None:
                signed.append(s)
            row.update(_gmm_row(inputs, claim, series, settings))
            row["agree"] = _agree(row["bayes_verdict"], row["gmm_verdict"])
            rows.append(row)
    with_draws = [r for r in rows if "_draws" in r]
    if inputs.posterior is not None:
        sens = _psense(inputs.posterior, groups, [r.pop("_draws") for r in with_draws],
                       settings)
        for r, (p, li, diag) in zip(with_draws, sens, strict=True):
            r.update(prior_sensitivity=p, likelihood_sensitivity=li, sensitivity_diagnosis=diag)
    table = pd.DataFrame(rows).reindex(columns=list(RESULT_COLUMNS))
    joint = float(np.mean(np.all(np.vstack(signed) > 0, axis=0))) if signed and len(
        signed
    ) == len(rows) else math.nan
    bayes_v = _method_verdict(table["bayes_verdict"].tolist())
    if bayes_v != "not available" and joint >= settings.prob_threshold:
        bayes_v = "supported"
    gmm_v = _method_verdict(table["gmm_verdict"].tolist())
    reasons: list[str] = []
    for row in rows:
        if row["agree"] is False:
            reasons.extend(f"{row['claim']}: {r}" for r in _why(inputs, row))
    text = _hypothesis_text(hypothesis, table, bayes_v, gmm_v, joint, settings, reasons)
    return HypothesisResult(hypothesis, table, text, bayes_v, gmm_v, joint, tuple(reasons))


def _hypothesis_text(
    h: Hypothesis,
    table: pd.DataFrame,
    bayes_v: str,
    gmm_v: str,
    joint: float,
    settings: HypothesisSettings,
    reasons: Sequence[str],
) -> str:
    n = len(table)
    lines = [f"{h.id}: {h.statement}"]
    if bayes_v == "not available":
        lines.append("Bayesian: not available (no Bayesian fit in the run directory).")
    else:
        n_sup = int((table["bayes_verdict"] == "supported").sum())
        lines.append(
            f"Bayesian: {bayes_v}. The posterior probability that all {n} claims hold "
            f"together is {joint:.3f}; {n_sup} of {n} claims individually reach "
            f"P(direction) >= {settings.prob_threshold:g}."
        )
    if gmm_v == "not available":
        lines.append("GMM: not available (no GMM estimate for every claim).")
    else:
        n_sup = int((table["gmm_verdict"] == "supported").sum())
        lines.append(
            f"GMM: {gmm_v}. {n_sup} of {n} claims are significant in the stated direction "
            f"at the one-sided {settings.alpha:g} level."
        )
    disagree = table[table["agree"] == False]  # noqa: E712  (agree holds True/False/None)
    if len(disagree):
        lines.append(
            "The methods disagree on "
            + "; ".join(
                f"{r.claim} (Bayes: {r.bayes_verdict}, GMM: {r.gmm_verdict})"
                for r in disagree.itertuples(index=False)
            )
            + ". Why:"
        )
        lines.extend(f"- {r}" for r in reasons)
    elif bayes_v != "not available" and gmm_v != "not available":
        lines.append("The two methods reach the same verdict on every claim.")
    return "\n".join(lines)


def evaluate_all(hset: HypothesisSet, inputs: RunInputs) -> tuple[HypothesisResult, ...]:
    """Evaluate every hypothesis of a set, in file order."""
    return tuple(evaluate_hypothesis(h, inputs, hset.settings) for h in hset.hypotheses)
