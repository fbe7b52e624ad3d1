"""Hypotheses as declarative specs: parsing and validation of ``hypotheses.toml``.

A hypothesis is a set of *claims*. A claim states, for one or more series, that one slope
quantity (``level``: the slope; ``trend``: its change per year) is positive (``>``),
negative (``<``) or practically zero (``none``), and cites the table cell or passage of
the paper it restates. Practically zero is judged in effect-per-sd units: a slope is
negligible when one sd of its covariate moves log FDI by less than ``rope_sd``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bayes_kfdi.constants import CI_PROB
from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.validation import (
    check_choice,
    check_keys,
    check_number,
    read_toml,
    shorten,
    spec_error,
)

__all__ = [
    "Direction",
    "DIRECTIONS",
    "COMPONENTS",
    "Claim",
    "Hypothesis",
    "HypothesisSettings",
    "WageEffectSpec",
    "HypothesisSet",
    "parse_hypotheses",
    "load_hypotheses",
    "validate_hypotheses",
]

Direction = Literal[">", "<", "none"]
DIRECTIONS: tuple[str, ...] = (">", "<", "none")
COMPONENTS: tuple[str, ...] = ("level", "trend")
_SYMBOL = {">": "> 0", "<": "< 0", "none": "= 0 (no effect)"}


@dataclass(frozen=True, slots=True)
class Claim:
    """The sign (or absence) of one slope quantity for one or more series.

    Attributes
    ----------
    series : tuple of str
        Series the claim applies to; it must hold for each.
    term : str
        Covariate name (canonical panel column).
    direction : {">", "<", "none"}
        Stated sign; ``none`` claims no effect (judged by the ROPE).
    component : {"level", "trend"}
        The slope itself, or its linear change per year.
    rope : tuple of float or None
        Practically-zero band on the raw slope scale for this claim; None derives it
        from the settings' effect-per-sd band and the covariate's sd.
    cite : str
        The table cell or passage of the paper the claim restates.
    """

    series: tuple[str, ...]
    term: str
    direction: Direction
    component: Literal["level", "trend"] = "level"
    rope: tuple[float, float] | None = None
    cite: str = ""

    def label(self, series: str) -> str:
        """Short text such as ``gdp > 0 (textile)`` or ``trend of wage = 0 (no effect)``."""
        what = self.term if self.component == "level" else f"trend of {self.term}"
        return f"{what} {_SYMBOL[self.direction]} ({series})"


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """A named set of claims, with the paper passage it restates."""

    id: str
    title: str
    statement: str
    claims: tuple[Claim, ...]
    source: str = ""


@dataclass(frozen=True, slots=True)
class WageEffectSpec:
    """The paper's wage-effect comparison (section 6: a 14% decline, then 4%).

    Attributes
    ----------
    series, term : str
        The slope whose trend is compared.
    sd_multiple : float
        Size of the covariate change in standard deviations.
    paper_sd : float or None
        The covariate's sd in the paper's data (Table 4), shown beside the panel's.
    paper_start_pct, paper_end_pct : float or None
        The paper's effects in percent at the start and end of the period.
    source : str
        Where the paper's numbers come from.
    """

    series: str = "electronics_efficiency"
    term: str = "wage"
    sd_multiple: float = 2.0
    paper_sd: float | None = None
    paper_start_pct: float | None = None
    paper_end_pct: float | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class HypothesisSettings:
    """Decision settings shared by every hypothesis.

    Attributes
    ----------
    ci_prob : float
        Probability of the HDI and of the GMM interval.
    prob_threshold : float
        Posterior probability of the direction at or above which a claim is supported.
    alpha : float
        One-sided level of the GMM test, and of its equivalence test for ``none`` claims.
    rope_sd, rope_trend_sd : float
        Practically-zero half-widths in effect-per-sd units: log FDI points per sd of the
        covariate (per year for trends).
    not_identified_sd_ratio : float
        A Bayesian slope whose posterior sd exceeds this share of its prior sd is
        ``not identified``: the data added little to the prior.
    psense_threshold : float
        Power-scaling sensitivity above which a claim is flagged (Kallioinen et al. 2024).
    effect_sd_multiple : float
        Size, in sds of the covariate, of the change whose effects the report shows.
    """

    ci_prob: float = CI_PROB
    prob_threshold: float = 0.95
    alpha: float = 0.05
    rope_sd: float = 0.1
    rope_trend_sd: float = 0.001
    not_identified_sd_ratio: float = 0.5
    psense_threshold: float = 0.05
    effect_sd_multiple: float = 2.0


@dataclass(frozen=True, slots=True)
class HypothesisSet:
    """Settings, hypotheses and the wage-effect comparison from one spec file."""

    settings: HypothesisSettings
    hypotheses: tuple[Hypothesis, ...]
    wage_effect: WageEffectSpec | None = None
    source: str = ""


def _prob(raw: Mapping[str, Any], key: str, default: float, where: str) -> float:
    return float(check_number(raw.get(key, default), where, key, valid=lambda v: 0 < v < 1,
                              expected="a number strictly between 0 and 1"))


def _positive(raw: Mapping[str, Any], key: str, default: float, where: str) -> float:
    return float(check_number(raw.get(key, default), where, key, valid=lambda v: v > 0,
                              expected="a positive number"))


def _text(raw: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise spec_error(where, key, value, "a non-empty string", f"give {key} as text")
    return value.strip()


def _band(value: Any, where: str, key: str) -> tuple[float, float]:
    ok = (isinstance(value, list | tuple) and len(value) == 2
          and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value))
    if not ok or not value[0] < value[1]:
        raise spec_error(where, key, value, "[low, high] numbers with low < high",
                         "write e.g. [-0.05, 0.05]")
    return (float(value[0]), float(value[1]))


_SETTINGS_KEYS = ("ci_prob", "prob_threshold", "alpha", "rope_sd", "rope_trend_sd",
                  "not_identified_sd_ratio", "psense_threshold", "effect_sd_multiple")


def _parse_settings(raw: Mapping[str, Any]) -> HypothesisSettings:
    where = "[settings]"
    check_keys(raw, _SETTINGS_KEYS, where)
    d = HypothesisSettings()
    thr = _prob(raw, "prob_threshold", d.prob_threshold, where)
    if thr <= 0.5:
        raise spec_error(where, "prob_threshold", thr, "more than 0.5", "use e.g. 0.95")
    return HypothesisSettings(
        ci_prob=_prob(raw, "ci_prob", d.ci_prob, where),
        prob_threshold=thr,
        alpha=_prob(raw, "alpha", d.alpha, where),
        rope_sd=_positive(raw, "rope_sd", d.rope_sd, where),
        rope_trend_sd=_positive(raw, "rope_trend_sd", d.rope_trend_sd, where),
        not_identified_sd_ratio=_positive(raw, "not_identified_sd_ratio",
                                          d.not_identified_sd_ratio, where),
        psense_threshold=_positive(raw, "psense_threshold", d.psense_threshold, where),
        effect_sd_multiple=_positive(raw, "effect_sd_multiple", d.effect_sd_multiple, where),
    )


def _parse_claim(raw: Any, where: str) -> Claim:
    if not isinstance(raw, Mapping):
        raise spec_error(where, None, raw, "a table with series, term and direction",
                         "write { series = ..., term = ..., direction = ... }")
    check_keys(raw, ("series", "term", "direction", "component", "rope", "cite"), where,
               required=("series", "term", "direction"))
    series = raw["series"]
    series = [series] if isinstance(series, str) else series
    if not isinstance(series, list) or not series or not all(
        isinstance(s, str) and s for s in series
    ):
        raise spec_error(where, "series", raw["series"], "a series name or a list of them",
                         'write series = "textile" or ["textile", "steel"]')
    if len(set(series)) != len(series):
        raise spec_error(where, "series", series, "each series once", "remove the repeat")
    direction = check_choice(raw["direction"], DIRECTIONS, where, "direction")
    component = check_choice(raw.get("component", "level"), COMPONENTS, where, "component")
    rope = _band(raw["rope"], where, "rope") if "rope" in raw else None
    cite = raw.get("cite", "")
    if not isinstance(cite, str):
        raise spec_error(where, "cite", cite, "text", "quote the table cell or passage")
    return Claim(tuple(series), _text(raw, "term", where), direction, component, rope,
                 cite.strip())


def _parse_wage_effect(raw: Mapping[str, Any]) -> WageEffectSpec:
    where = "[wage_effect]"
    check_keys(raw, ("series", "term", "sd_multiple", "paper_sd", "paper_start_pct",
                     "paper_end_pct", "source"), where, required=("series", "term"))
    vals: dict[str, float | None] = {}
    for key in ("paper_sd", "paper_start_pct", "paper_end_pct"):
        v = raw.get(key)
        vals[key] = None if v is None else float(check_number(v, where, key))
    return WageEffectSpec(
        series=_text(raw, "series", where),
        term=_text(raw, "term", where),
        sd_multiple=_positive(raw, "sd_multiple", 2.0, where),
        source=str(raw.get("source", "")),
        **vals,
    )


def _parse_hypothesis(item: Any, where: str, seen: set[str]) -> Hypothesis:
    if not isinstance(item, Mapping):
        raise spec_error(where, None, item, "a table", "write a [[hypothesis]] table")
    check_keys(item, ("id", "title", "statement", "claims", "source"), where,
               required=("id", "claims"))
    hid = _text(item, "id", where)
    if not hid.replace("_", "").replace("-", "").isalnum():
        raise spec_error(where, "id", hid, "letters, digits, '-' or '_'", "rename it")
    if hid in seen:
        raise spec_error(where, "id", hid, "a new id", "give each hypothesis its own id")
    seen.add(hid)
    where = f"hypothesis {hid}"
    claims_raw = item["claims"]
    if not isinstance(claims_raw, list) or not claims_raw:
        raise spec_error(where, "claims", claims_raw, "a non-empty array of claims",
                         "list at least one claim")
    claims = tuple(_parse_claim(c, f"{where} claim #{j + 1}") for j, c in enumerate(claims_raw))
    title = _text(item, "title", where, default=hid)
    return Hypothesis(
        id=hid, title=title, statement=_text(item, "statement", where, default=title),
        claims=claims, source=str(item.get("source", "")).strip(),
    )


def parse_hypotheses(raw: Mapping[str, Any], *, source: str = "<dict>") -> HypothesisSet:
    """Validate a parsed hypotheses document and build a :class:`HypothesisSet`.

    Raises
    ------
    SpecificationError
        On any malformed entry; the message names the entry, the value seen and the fix.
    """
    try:
        check_keys(raw, ("settings", "hypothesis", "wage_effect"), source,
                   required=("hypothesis",))
        settings = _parse_settings(raw.get("settings", {}))
        items = raw["hypothesis"]
        if not isinstance(items, list) or not items:
            raise spec_error(source, "hypothesis", items, "a non-empty array of tables",
                             "write [[hypothesis]] tables")
        seen: set[str] = set()
        hyps = tuple(_parse_hypothesis(it, f"hypothesis #{i + 1}", seen)
                     for i, it in enumerate(items))
        wage = _parse_wage_effect(raw["wage_effect"]) if "wage_effect" in raw else None
    except SpecificationError as exc:
        msg = str(exc)
        raise SpecificationError(msg if msg.startswith(source) else f"{source}: {msg}") from None
    return HypothesisSet(settings, hyps, wage, source)


def load_hypotheses(path: str | Path) -> HypothesisSet:
    """Read and validate a hypotheses TOML file (the shipped one: ``hypotheses``)."""
    return parse_hypotheses(read_toml(path, "hypotheses"), source=str(path))


def validate_hypotheses(
    hset: HypothesisSet, *, series: Sequence[str], terms: Sequence[str]
) -> None:
    """Check every claim against the series and covariates a panel actually has.

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
            f"{hset.source}: " + "; ".join(problems[:5])
            + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
            + f"; the data have series {shorten(', '.join(sorted(known_s)), 200)} and "
            f"covariates {', '.join(sorted(known_t))}; fix the hypotheses file or pass "
            "other data"
        )
