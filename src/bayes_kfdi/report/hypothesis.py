"""Evaluation of the hypotheses by both methods, claim by claim.

Bayesian evaluation per claim: the latent slope's posterior mean, sd and HDI, the
posterior probability of the stated direction (of lying in the ROPE for a ``none``
claim), a ROPE decision in effect-per-sd units, power-scaling sensitivity, and the
``not identified`` rule (posterior sd above ``not_identified_sd_ratio`` x prior sd: the
data added little to the prior). GMM evaluation: the linear coefficient on floor-coded
log FDI, its Windmeijer interval, a one-sided test of the stated direction, or for a
``none`` claim an equivalence test (the interval inside the ROPE). Both methods also get
effects economists read (:mod:`bayes_kfdi.report.effects`), and, on simulated data, the
true value and whether each interval covers it.

Verdicts: ``supported``, ``contradicted``, ``practically zero`` (a sign claim whose HDI
lies inside the ROPE), ``inconclusive``, ``not identified``, ``not available``. The two
methods *agree* only when both reach a decision (supported or contradicted) and it is the
same one; two undecided verdicts are "no decision", never agreement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import arviz_stats as azs
import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from bayes_kfdi.constants import FDI_FLOOR
from bayes_kfdi.report.effects import (
    gmm_long_run,
    long_run_draws,
    observed_effect_draws,
)
from bayes_kfdi.report import hypothesis_spec
from bayes_kfdi.report.hypothesis_spec import (
    COMPONENTS,
    DIRECTIONS,
    Claim,
    Direction,
    Hypothesis,
    HypothesisSet,
    HypothesisSettings,
    WageEffectSpec,
    load_hypotheses,
    parse_hypotheses,
    validate_hypotheses,
)
from bayes_kfdi.report.inputs import (
    RunInputs,
    gmm_lookup,
    slope_draws,
    slope_prior_names,
)

__all__ = [  # the spec's names are re-exported for callers of this module
    *hypothesis_spec.__all__,
    "HypothesisResult",
    "evaluate_hypothesis",
    "evaluate_all",
    "psense_status",
    "DECISIONS",
    "NOT_IDENTIFIED",
]

#: Verdicts that are decisions; "agree" needs both methods to reach one.
DECISIONS: tuple[str, ...] = ("supported", "contradicted")
NOT_IDENTIFIED = "not identified"
#: Floor share above which censoring is named as a reason for disagreement: with a
#: quarter of the outcomes piled at one value a linear slope is visibly attenuated.
CENSORING_SHARE_NOTABLE = 0.25


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
        The hypothesis-level verdict of each method.
    joint_probability : float
        Posterior probability that every sign claim holds (NaN without a posterior).
    reasons : tuple of str
        Why the methods differ, claim by claim.
    power : str
        On simulated data: how many claims each method decided, and how many rightly.
    """

    hypothesis: Hypothesis
    table: pd.DataFrame
    text: str
    bayes_verdict: str
    gmm_verdict: str
    joint_probability: float
    reasons: tuple[str, ...] = field(default=())
    power: str = ""


RESULT_COLUMNS: tuple[str, ...] = (
    "hypothesis", "claim", "series", "term", "component", "direction", "cite",
    "x_sd", "rope_low", "rope_high",
    "bayes_mean", "bayes_sd", "prior_sd", "hdi_low", "hdi_high", "p_direction", "p_rope",
    "rope_decision", "prior_sensitivity", "likelihood_sensitivity", "sensitivity_diagnosis",
    "bayes_verdict",
    "bayes_effect_obs", "bayes_effect_obs_low", "bayes_effect_obs_high",
    "bayes_dprob_above", "bayes_dprob_above_low", "bayes_dprob_above_high",
    "bayes_long_run", "bayes_long_run_low", "bayes_long_run_high",
    "gmm_equation", "gmm_coef_name", "gmm_coef", "gmm_se", "gmm_ci_low", "gmm_ci_high",
    "gmm_p", "gmm_p_direction", "gmm_vce", "gmm_n_instruments", "gmm_n_groups",
    "gmm_hansen_p", "gmm_verdict",
    "gmm_effect_obs", "gmm_effect_obs_low", "gmm_effect_obs_high",
    "gmm_long_run", "gmm_long_run_low", "gmm_long_run_high",
    "truth", "bayes_covers", "gmm_covers", "agree",
)


# ------------------------------------------------------------------------ evaluation
def _x_sd(inputs: RunInputs, series: str, term: str) -> float:
    sd = ((inputs.data_check.get("covariate_sd") or {}).get(series) or {}).get(term)
    return float(sd) if sd is not None and float(sd) > 0 else math.nan


def _rope_for(claim: Claim, settings: HypothesisSettings, x_sd: float) -> tuple[float, float]:
    """Return the claim's ROPE on the raw slope scale (effect-per-sd band / covariate sd)."""
    if claim.rope is not None:
        return claim.rope
    half = settings.rope_sd if claim.component == "level" else settings.rope_trend_sd
    return (-half / x_sd, half / x_sd) if math.isfinite(x_sd) else (math.nan, math.nan)


def _interval(draws: np.ndarray, prob: float) -> tuple[float, float]:
    hdi = azs.hdi(xr.DataArray(np.asarray(draws), dims=("chain", "draw")), prob=prob)
    lo, hi = (float(v) for v in np.asarray(hdi.values).ravel()[:2])
    return lo, hi


def _rope_decision(lo: float, hi: float, r_lo: float, r_hi: float) -> str:
    if not (math.isfinite(r_lo) and math.isfinite(r_hi)):
        return "not available (no covariate sd)"
    if lo >= r_lo and hi <= r_hi:
        return "HDI inside ROPE"
    if hi < r_lo or lo > r_hi:
        return "HDI outside ROPE"
    return "HDI overlaps ROPE"


def _prior_sd(inputs: RunInputs, claim: Claim, series: str) -> float:
    s = inputs.summary
    if s is None or "prior_sd" not in s.columns:
        return math.nan
    param = "beta" if claim.component == "level" else "beta_trend"
    hit = s[(s["parameter"] == param) & (s["series"] == series) & (s["term"] == claim.term)]
    return float(hit["prior_sd"].iloc[0]) if len(hit) == 1 else math.nan


def _series_draws(inputs: RunInputs, name: str, series: str) -> np.ndarray | None:
    post = inputs.posterior["posterior"] if inputs.posterior is not None else None
    if post is None or name not in post or "series" not in post[name].dims:
        return None
    da = post[name]
    if series not in da["series"].values:
        return None
    return np.asarray(da.sel(series=series).transpose("chain", "draw").values, float)


def _bayes_verdict(claim: Claim, settings: HypothesisSettings, p_dir: float, rope: str,
                   identified: bool) -> str:
    if not identified:
        return NOT_IDENTIFIED
    if claim.direction == "none":
        return {"HDI inside ROPE": "supported", "HDI outside ROPE": "contradicted"}.get(
            rope, "inconclusive")
    if rope == "HDI inside ROPE":
        return "practically zero"
    if p_dir >= settings.prob_threshold:
        return "supported"
    if p_dir <= 1 - settings.prob_threshold:
        return "contradicted"
    return "inconclusive"


def _bayes_effects(inputs: RunInputs, claim: Claim, series: str, draws: np.ndarray,
                   x_sd: float, settings: HypothesisSettings) -> dict[str, float]:
    """Effect of ``effect_sd_multiple`` sds on the observed scale, and the long run."""
    out: dict[str, float] = {}
    if claim.component != "level":
        return out
    prob = settings.ci_prob
    sigma = _series_draws(inputs, "sigma", series)
    share = (inputs.data_check.get("floor_share") or {}).get(series)
    if sigma is not None and share is not None and math.isfinite(x_sd):
        eff = observed_effect_draws(draws, sigma, floor=FDI_FLOOR, share_above=1 - share,
                                    delta=settings.effect_sd_multiple * x_sd)
        for key, d in (("bayes_effect_obs", eff.d_expected), ("bayes_dprob_above", eff.d_p_above)):
            lo, hi = _interval(d, prob)
            out.update({key: float(d.mean()), f"{key}_low": lo, f"{key}_high": hi})
    rho = _series_draws(inputs, "rho", series)
    if rho is not None:
        lr = long_run_draws(draws, rho)
        if np.isfinite(lr).all():
            lo, hi = _interval(lr, prob)
            out.update(bayes_long_run=float(lr.mean()), bayes_long_run_low=lo,
                       bayes_long_run_high=hi)
    return out


def _bayes_row(inputs: RunInputs, claim: Claim, series: str, settings: HypothesisSettings,
               x_sd: float) -> tuple[dict[str, Any], np.ndarray | None]:
    lo_r, hi_r = _rope_for(claim, settings, x_sd)
    row: dict[str, Any] = {"rope_low": lo_r, "rope_high": hi_r}
    if not inputs.has_bayes:
        row.update(bayes_verdict="not available", rope_decision="not available",
                   sensitivity_diagnosis="not available: no Bayesian fit")
        return row, None
    try:
        draws = slope_draws(inputs.posterior, series, claim.term, claim.component)
    except Exception as exc:  # noqa: BLE001  (any lookup failure is reported, not raised)
        row.update(bayes_verdict=f"not available: {exc}", rope_decision="not available",
                   sensitivity_diagnosis="not available")
        return row, None
    flat = draws.ravel()
    mean, sd = float(flat.mean()), float(flat.std(ddof=1))
    h_lo, h_hi = _interval(draws, settings.ci_prob)
    in_rope = (flat >= lo_r) & (flat <= hi_r)
    p_rope = float(np.mean(in_rope)) if math.isfinite(lo_r) else math.nan
    if claim.direction == "none":
        p_dir = p_rope
    else:
        p_dir = float(np.mean(flat > 0) if claim.direction == ">" else np.mean(flat < 0))
    rope = _rope_decision(h_lo, h_hi, lo_r, hi_r)
    prior_sd = _prior_sd(inputs, claim, series)
    identified = not (math.isfinite(prior_sd) and sd > settings.not_identified_sd_ratio * prior_sd)
    row.update(
        bayes_mean=mean, bayes_sd=sd, prior_sd=prior_sd, hdi_low=h_lo, hdi_high=h_hi,
        p_direction=p_dir, p_rope=p_rope, rope_decision=rope,
        bayes_verdict=_bayes_verdict(claim, settings, p_dir, rope, identified),
        _draws=draws,
    )
    row.update(_bayes_effects(inputs, claim, series, draws, x_sd, settings))
    signed = None
    if claim.direction == ">":
        signed = flat
    elif claim.direction == "<":
        signed = -flat
    return row, signed


def _gmm_long_run(eq: Any, name: str, coef: float, se: float, zc: float) -> dict[str, float]:
    cov = eq.result.get("cov") or {}
    rho = (eq.result.get("coef") or {}).get("L.fdi")
    try:
        c_bb, c_rr, c_br = cov[name][name], cov["L.fdi"]["L.fdi"], cov[name]["L.fdi"]
    except (KeyError, TypeError):
        c_bb, c_rr, c_br = se**2, math.nan, math.nan
    if rho is None or not math.isfinite(c_rr):
        return {}
    lr, lr_se = gmm_long_run(coef, float(rho), float(c_bb), float(c_rr), float(c_br))
    if not math.isfinite(lr):
        return {}
    return {"gmm_long_run": lr, "gmm_long_run_low": lr - zc * lr_se,
            "gmm_long_run_high": lr + zc * lr_se}


def _gmm_verdict(claim: Claim, settings: HypothesisSettings, coef: float, se: float,
                 lo: float, hi: float, rope: tuple[float, float]) -> tuple[str, float]:
    z = coef / se
    if claim.direction == "none":
        # equivalence (two one-sided tests at alpha): the (1 - 2 alpha) interval in the ROPE
        zc = float(stats.norm.ppf(1 - settings.alpha))
        e_lo, e_hi = coef - zc * se, coef + zc * se
        if not all(math.isfinite(v) for v in rope):
            return "not available (no covariate sd)", math.nan
        if e_lo >= rope[0] and e_hi <= rope[1]:
            return "supported", math.nan
        if e_hi < rope[0] or e_lo > rope[1]:
            return "contradicted", math.nan
        return "inconclusive", math.nan
    p_dir = float(stats.norm.sf(z) if claim.direction == ">" else stats.norm.cdf(z))
    if p_dir < settings.alpha:
        return "supported", p_dir
    if 1 - p_dir < settings.alpha:
        return "contradicted", p_dir
    return "inconclusive", p_dir


def _gmm_row(inputs: RunInputs, claim: Claim, series: str, settings: HypothesisSettings,
             x_sd: float, rope: tuple[float, float]) -> dict[str, Any]:
    found = gmm_lookup(inputs, series, claim.term, claim.component)
    if found is None:
        failed = [f"{k} ({v})" for k, v in inputs.gmm_failures.items()
                  if k.split(".")[0] == series]
        why = f": estimation failed for {'; '.join(failed)}" if failed else ""
        return {"gmm_verdict": f"not available{why}", "gmm_equation": ""}
    eq, name = found
    coef = float(eq.result["coef"][name])
    se_raw = eq.result.get("se", {}).get(name)
    hansen = eq.result.get("hansen") or {}
    row: dict[str, Any] = {
        "gmm_equation": eq.path.name, "gmm_coef_name": name, "gmm_coef": coef,
        "gmm_vce": str(eq.result.get("vce") or ""),
        "gmm_n_instruments": eq.result.get("n_instruments"),
        "gmm_n_groups": eq.result.get("n_groups"), "gmm_hansen_p": hansen.get("p"),
    }
    if se_raw is None or not float(se_raw) > 0:
        row.update(gmm_verdict="not available (no standard error)")
        return row
    se = float(se_raw)
    zc = float(stats.norm.ppf(0.5 + settings.ci_prob / 2))
    lo, hi = coef - zc * se, coef + zc * se
    verdict, p_dir = _gmm_verdict(claim, settings, coef, se, lo, hi, rope)
    row.update(gmm_se=se, gmm_ci_low=lo, gmm_ci_high=hi,
               gmm_p=float(2 * stats.norm.sf(abs(coef / se))), gmm_p_direction=p_dir,
               gmm_verdict=verdict)
    if claim.component == "level" and math.isfinite(x_sd):
        k = settings.effect_sd_multiple * x_sd
        row.update(gmm_effect_obs=k * coef, gmm_effect_obs_low=k * lo,
                   gmm_effect_obs_high=k * hi)
        row.update(_gmm_long_run(eq, name, coef, se, zc))
    return row


def _truth(inputs: RunInputs, claim: Claim, series: str) -> float:
    """Return the true slope (at the Bayesian reference year) or trend of simulated data."""
    t = inputs.truth
    if not t:
        return math.nan
    trend = ((t.get("beta_trend") or {}).get(series) or {}).get(claim.term, 0.0)
    if claim.component == "trend":
        return float(trend)
    beta = ((t.get("beta") or {}).get(series) or {}).get(claim.term)
    if beta is None:
        return math.nan
    ref = t.get("reference_year")
    if inputs.posterior is not None and "reference_year" in inputs.posterior.attrs:
        ref_b = float(inputs.posterior.attrs["reference_year"])
        return float(beta + trend * (ref_b - float(ref)))
    return float(beta)


def _covers(lo: Any, hi: Any, truth: float) -> bool | None:
    if not math.isfinite(truth) or _isnan(lo) or _isnan(hi):
        return None
    return bool(lo <= truth <= hi)


def _agree(b: str, g: str) -> bool | None:
    """True/False only when both methods reached a decision; None otherwise."""
    if b in DECISIONS and g in DECISIONS:
        return b == g
    return None


def _isnan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


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




_TRADE_TERMS = ("exports", "exunit", "imports", "imunit")


def _shared_reasons(inputs: RunInputs, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Reasons that apply to every differing claim of a hypothesis, said once each."""
    reasons = [
        "estimand: a Bayesian slope is a latent (Tobit) coefficient on log FDI before the "
        "floor coding; a GMM coefficient is linear on floor-coded log FDI. Compare them on "
        "the observed scale (the effects table), not slope against slope."
    ]
    trade = sorted({r["term"] for r in rows if r["term"] in _TRADE_TERMS})
    if trade:
        reasons.append(
            f"exogeneity: the Bayesian model treats {', '.join(trade)} as exogenous; GMM "
            "instruments them with their own lags, as the paper does because trade and FDI "
            "may be co-determined."
        )
    crowded = sorted({
        (r["gmm_equation"], int(r["gmm_n_instruments"]), int(r["gmm_n_groups"]))
        for r in rows
        if not _isnan(r.get("gmm_n_instruments")) and not _isnan(r.get("gmm_n_groups"))
        and r["gmm_n_instruments"] > r["gmm_n_groups"]
    })
    if crowded:
        eqs = ", ".join(f"{e} ({j} for {g} groups)" for e, j, g in crowded)
        reasons.append(
            f"instrument proliferation: more instruments than groups in {eqs}; Hansen's test "
            "is then uninformative and the estimates drift toward the non-instrumented ones "
            "(Roodman 2009)."
        )
    shares = (inputs.data_check.get("floor_share") or {})
    heavy = sorted({r["series"] for r in rows
                    if (shares.get(r["series"]) or 0) >= CENSORING_SHARE_NOTABLE})
    if heavy:
        reasons.append(
            "censoring: " + ", ".join(f"{s} {shares[s]:.0%}" for s in heavy) + " of flows "
            "sit at the log(3) floor; a linear estimator treats them as exact values, the "
            "censored likelihood as 'at most the floor'."
        )
    return reasons


def _claim_reasons(inputs: RunInputs, row: Mapping[str, Any]) -> list[str]:
    """Reasons specific to one claim: pooling, precision, identification."""
    term = row["term"]
    reasons: list[str] = []
    if inputs.summary is not None and row["component"] == "level" \
            and not _isnan(row.get("gmm_coef")) and not _isnan(row.get("bayes_mean")):
        s = inputs.summary
        same = s[(s["parameter"] == "beta") & (s["term"] == term)]
        if len(same) > 1:
            pool = float(same["mean"].mean())
            b, gm = float(row["bayes_mean"]), float(row["gmm_coef"])
            if abs(b - pool) < abs(gm - pool):
                reasons.append(f"pooling toward the cross-series average {pool:.3f} "
                               f"(Bayes {b:.3f}, GMM {gm:.3f})")
    if not _isnan(row.get("gmm_se")) and not _isnan(row.get("bayes_sd")):
        reasons.append(f"precision: posterior sd {row['bayes_sd']:.3f}, GMM se "
                       f"{row['gmm_se']:.3f}")
    if row.get("bayes_verdict") == NOT_IDENTIFIED:
        reasons.append(f"not identified: posterior sd {row['bayes_sd'] / row['prior_sd']:.2f}"
                       " of the prior sd")
    return reasons


def _reasons(inputs: RunInputs, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    differ = [r for r in rows
              if r["agree"] is not True and r["bayes_verdict"] != r["gmm_verdict"]]
    if not differ:
        return []
    out = _shared_reasons(inputs, differ)
    for r in differ:
        specific = _claim_reasons(inputs, r)
        if specific:
            out.append(f"{r['claim']}: " + "; ".join(specific) + ".")
    return out


_ORDER = ("contradicted", "practically zero", NOT_IDENTIFIED, "inconclusive")


def _method_verdict(verdicts: Sequence[str]) -> str:
    """Hypothesis-level verdict from the claims a method could evaluate."""
    usable = [v for v in verdicts if not v.startswith("not available")]
    if not usable:
        return "not available"
    for v in _ORDER:
        if v in usable:
            return "contradicted" if v == "practically zero" else v
    return "supported"


def _claim_true(row: Mapping[str, Any]) -> bool | None:
    truth = row.get("truth")
    if _isnan(truth):
        return None
    lo, hi = row.get("rope_low"), row.get("rope_high")
    inside = (not _isnan(lo)) and lo <= truth <= hi
    if row["direction"] == "none":
        return bool(inside)
    return bool(truth > 0 if row["direction"] == ">" else truth < 0) and not inside


def _power(table: pd.DataFrame) -> str:
    """One line on what each method decided, and rightly, against the known truth."""
    truths = [_claim_true(r) for r in table.to_dict("records")]
    if not table.size or any(t is None for t in truths):
        return ""
    parts = [f"{sum(truths)} of {len(truths)} claims hold in the simulated truth"]
    for method, col in (("Bayes", "bayes_verdict"), ("GMM", "gmm_verdict")):
        decided = right = 0
        for v, t in zip(table[col].astype(str), truths, strict=True):
            if v in DECISIONS or v == "practically zero":
                decided += 1
                right += (v == "supported") == t
        parts.append(f"{method} decided {decided} ({right} rightly)")
    n_ni = int((table["bayes_verdict"] == NOT_IDENTIFIED).sum())
    if n_ni:
        parts.append(f"{n_ni} not identified by the Bayesian model")
    return "Power on this design: " + "; ".join(parts) + "."


def _claim_rows(hypothesis: Hypothesis, inputs: RunInputs, settings: HypothesisSettings
                ) -> tuple[list[dict[str, Any]], list[np.ndarray]]:
    rows: list[dict[str, Any]] = []
    holds: list[np.ndarray] = []
    for claim in hypothesis.claims:
        for series in claim.series:
            x_sd = _x_sd(inputs, series, claim.term)
            row: dict[str, Any] = {
                "hypothesis": hypothesis.id, "claim": claim.label(series), "series": series,
                "term": claim.term, "component": claim.component,
                "direction": claim.direction, "cite": claim.cite, "x_sd": x_sd,
            }
            brow, signed = _bayes_row(inputs, claim, series, settings, x_sd)
            row.update(brow)
            if signed is not None:
                holds.append(signed > 0)
            elif "_draws" in row:
                d = row["_draws"].ravel()
                holds.append((d >= row["rope_low"]) & (d <= row["rope_high"]))
            row.update(_gmm_row(inputs, claim, series, settings, x_sd,
                                (row["rope_low"], row["rope_high"])))
            truth = _truth(inputs, claim, series)
            row.update(truth=truth,
                       bayes_covers=_covers(row.get("hdi_low"), row.get("hdi_high"), truth),
                       gmm_covers=_covers(row.get("gmm_ci_low"), row.get("gmm_ci_high"), truth),
                       agree=_agree(row["bayes_verdict"], row["gmm_verdict"]))
            rows.append(row)
    return rows, holds


def evaluate_hypothesis(
    hypothesis: Hypothesis, inputs: RunInputs, settings: HypothesisSettings
) -> HypothesisResult:
    """Evaluate one hypothesis with both methods (see the module docstring)."""
    rows, holds = _claim_rows(hypothesis, inputs, settings)
    with_draws = [r for r in rows if "_draws" in r]
    if inputs.posterior is not None and with_draws:
        groups = _psense_groups(inputs.posterior)
        sens = _psense(inputs.posterior, groups, [r.pop("_draws") for r in with_draws],
                       settings)
        for r, (p, li, diag) in zip(with_draws, sens, strict=True):
            r.update(prior_sensitivity=p, likelihood_sensitivity=li, sensitivity_diagnosis=diag)
    table = pd.DataFrame(rows).reindex(columns=list(RESULT_COLUMNS))
    joint = float(np.mean(np.all(np.vstack(holds), axis=0))) if holds else math.nan
    bayes_v = _method_verdict(table["bayes_verdict"].astype(str).tolist())
    gmm_v = _method_verdict(table["gmm_verdict"].astype(str).tolist())
    reasons = _reasons(inputs, rows)
    power = _power(table) if inputs.truth else ""
    text = _hypothesis_text(hypothesis, table, bayes_v, gmm_v, (joint, len(holds)), settings,
                            power)
    return HypothesisResult(hypothesis, table, text, bayes_v, gmm_v, joint, tuple(reasons),
                            power)


def _hypothesis_text(h: Hypothesis, table: pd.DataFrame, bayes_v: str, gmm_v: str,
                     joint_k: tuple[float, int], settings: HypothesisSettings,
                     power: str) -> str:
    n = len(table)
    joint, k = joint_k
    lines = [f"{h.id}: {h.statement}"]
    if bayes_v == "not available":
        lines.append("Bayesian: not available.")
    else:
        n_sup = int((table["bayes_verdict"] == "supported").sum())
        n_ni = int((table["bayes_verdict"] == NOT_IDENTIFIED).sum())
        ni = f"; {n_ni} not identified (the data add little to the prior)" if n_ni else ""
        n_na = int(table["bayes_verdict"].astype(str).str.startswith("not available").sum())
        na = f"; {n_na} not available" if n_na else ""
        lines.append(f"Bayesian: {bayes_v}. {n_sup} of {n} claims supported{ni}{na}; the "
                     f"posterior probability that all {k} evaluated claims hold together is "
                     f"{joint:.3f}.")
    if gmm_v == "not available":
        lines.append("GMM: not available (no GMM estimate for any claim).")
    else:
        n_sup = int((table["gmm_verdict"] == "supported").sum())
        n_na = int(table["gmm_verdict"].astype(str).str.startswith("not available").sum())
        na = f" ({n_na} not available)" if n_na else ""
        lines.append(f"GMM: {gmm_v}. {n_sup} of {n} claims supported{na} at the one-sided "
                     f"{settings.alpha:g} level (equivalence test for 'no effect' claims).")
    agree = table["agree"]
    n_yes, n_no = int((agree == True).sum()), int((agree == False).sum())  # noqa: E712
    lines.append(f"The methods agree on {n_yes} claim(s), disagree on {n_no}; on the other "
                 f"{n - n_yes - n_no} at least one method reached no decision.")
    if power:
        lines.append(power)
    return "\n".join(lines)


def evaluate_all(hset: HypothesisSet, inputs: RunInputs) -> tuple[HypothesisResult, ...]:
    """Evaluate every hypothesis of a set, in file order."""
    return tuple(evaluate_hypothesis(h, inputs, hset.settings) for h in hset.hypotheses)
