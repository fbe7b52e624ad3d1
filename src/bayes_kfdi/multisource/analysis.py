"""Source-level answers from a multi-source posterior: contrasts, H1, LOO, GMM per source.

All functions take a fitted ``xarray.DataTree`` (posterior with ``beta`` over
``series`` x ``term``) or plain frames, and return tidy pandas tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayes_kfdi.bayes.results import hdi_interval
from bayes_kfdi.constants import CI_PROB, COUNTRY, OUTCOME, SERIES, YEAR
from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.gmm.runner import fit_equation

__all__ = [
    "H1_TERMS",
    "GMM_MIN_PERIODS",
    "GMM_MIN_HOSTS",
    "GmmBaseline",
    "contrasts",
    "h1_table",
    "slope_table",
    "loo_pooled_vs_separate",
    "per_source_gmm",
    "gmm_table",
]

#: The paper's H1 (market-seeking vs income): gdp slope > 0 and gdppc slope < 0.
H1_TERMS = {"gdp": ">", "gdppc": "<"}
#: System GMM with an AR(2) test needs first differences at t-1 and t-3: four
#: consecutive years per host at the very least.
GMM_MIN_PERIODS = 4
#: The two-step weight matrix is estimated from host clusters; with fewer hosts than
#: this the Windmeijer covariance and the Hansen test are meaningless (Roodman 2009).
GMM_MIN_HOSTS = 10


def _draws(idata: xr.DataTree, var: str) -> xr.DataArray:
    post = idata["posterior"].to_dataset() if isinstance(idata, xr.DataTree) else idata.posterior
    if var not in post:
        raise SpecificationError(
            f"the posterior has no '{var}' variable; variables seen: {list(post.data_vars)[:10]}"
            "; expected a fit of the multi-source model"
        )
    return post[var].stack(sample=("chain", "draw"))


def _interval(x: np.ndarray, prob: float) -> tuple[float, float]:
    """HDI (the package's one interval kind) of a pooled sample."""
    return hdi_interval(np.asarray(x), prob)


def slope_table(idata: xr.DataTree, *, prob: float = CI_PROB) -> pd.DataFrame:
    """Posterior of every source's slopes: ``source, term, mean, sd, hdi_low, hdi_high, p_positive``."""
    beta = _draws(idata, "beta")
    rows = []
    for s in beta["series"].values:
        for t in beta["term"].values:
            x = beta.sel(series=s, term=t).values
            lo, hi = _interval(x, prob)
            rows.append({"source": str(s), "term": str(t), "mean": float(x.mean()),
                         "sd": float(x.std(ddof=1)), "hdi_low": lo, "hdi_high": hi,
                         "p_positive": float((x > 0).mean())})
    return pd.DataFrame(rows)


def contrasts(idata: xr.DataTree, reference: str, *, prob: float = CI_PROB) -> pd.DataFrame:
    """Posterior of ``beta[source, term] - beta[reference, term]`` for every other source.

    Returns
    -------
    pandas.DataFrame
        ``source, term, mean, sd, hdi_low, hdi_high, p_greater`` (posterior probability that the
        source's slope exceeds the reference's).
    """
    beta = _draws(idata, "beta")
    sources = [str(s) for s in beta["series"].values]
    if reference not in sources:
        raise SpecificationError(
            f"reference source {reference!r} is not in the fit (sources: {sources}); "
            "choose one of them"
        )
    ref = beta.sel(series=reference)
    rows = []
    for s in sources:
        if s == reference:
            continue
        for t in beta["term"].values:
            d = (beta.sel(series=s, term=t) - ref.sel(term=t)).values
            lo, hi = _interval(d, prob)
            rows.append({"source": s, "term": str(t), "mean": float(d.mean()),
                         "sd": float(d.std(ddof=1)), "hdi_low": lo, "hdi_high": hi,
                         "p_greater": float((d > 0).mean())})
    return pd.DataFrame(rows)


def _h1_draws(beta: xr.DataArray, source: object) -> tuple[np.ndarray, np.ndarray]:
    """Draws of the GDP slope and the GDP-per-head slope at fixed GDP for one source.

    With ``pop`` and ``gdppc`` as terms, ``b_pop * pop + b_pc * gdppc`` equals
    ``b_pop * gdp + (b_pc - b_pop) * gdppc`` (``gdp = pop + gdppc`` in logs), so the
    paper's GDP slope is ``b_pop`` and its GDP-per-head slope ``b_pc - b_pop``.
    """
    b = beta.sel(series=source)
    terms = [str(t) for t in beta["term"].values]
    if "gdp" in terms:
        return b.sel(term="gdp").values, b.sel(term="gdppc").values
    pop = b.sel(term="pop").values
    return pop, b.sel(term="gdppc").values - pop


def h1_table(idata: xr.DataTree) -> pd.DataFrame:
    """Return the paper's H1 (and with imports H3's trade part) as probabilities.

    H1 is stated on GDP and GDP per head; under the population parameterisation the
    slopes are mapped back draw by draw (:func:`_h1_draws`).

    Returns
    -------
    pandas.DataFrame
        ``source, p_gdp_positive, p_gdppc_negative, p_h1`` where ``p_h1`` is the joint
        posterior probability that both hold (computed draw by draw, not a product);
        with an ``imports`` term also ``p_imports_positive`` (technology sourcing
        through imports from the host).
    """
    beta = _draws(idata, "beta")
    terms = [str(t) for t in beta["term"].values]
    if "gdppc" not in terms or not ({"gdp", "pop"} & set(terms)):
        raise SpecificationError(
            f"H1 needs the slopes of gdppc and of gdp or pop but the fit has terms {terms}; "
            "add them to model.terms"
        )
    rows = []
    for s in beta["series"].values:
        gdp, pc = _h1_draws(beta, s)
        g, p = gdp > 0, pc < 0
        row = {"source": str(s), "p_gdp_positive": float(g.mean()),
               "p_gdppc_negative": float(p.mean()), "p_h1": float((g & p).mean())}
        if "imports" in terms:
            row["p_imports_positive"] = float(
                (beta.sel(series=s, term="imports").values > 0).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def _pointwise_loo(idata: xr.DataTree) -> tuple[np.ndarray, np.ndarray]:
    res = az.loo(idata, pointwise=True, var_name="fdi")
    return np.asarray(res.elpd_i).ravel(), np.asarray(res.pareto_k).ravel()


def loo_pooled_vs_separate(
    pooled: xr.DataTree, separate: xr.DataTree, sources: np.ndarray
) -> pd.DataFrame:
    """ELPD-LOO of the pooled model vs one model per source, per source and in total.

    Parameters
    ----------
    pooled, separate : xarray.DataTree
        Fits of the *same rows* with a ``log_likelihood`` group for ``fdi``.
    sources : (n_obs,) array of source labels, aligned with the observations.

    Returns
    -------
    pandas.DataFrame
        One row per source plus ``TOTAL``: ``n_obs, elpd_pooled, elpd_separate, diff``
        (pooled minus separate; > 0 favours pooling), ``se_diff`` (from the pointwise
        differences), ``max_k_pooled``, ``max_k_separate``.
    """
    ep, kp = _pointwise_loo(pooled)
    es, ks = _pointwise_loo(separate)
    sources = np.asarray(sources).astype(str)
    if not (ep.size == es.size == sources.size):
        raise SpecificationError(
            f"pooled ({ep.size}), separate ({es.size}) and source labels ({sources.size}) "
            "differ in length; both fits must score the same rows"
        )
    rows = []
    for s in [*pd.unique(sources), "TOTAL"]:
        m = np.ones_like(sources, dtype=bool) if s == "TOTAL" else sources == s
        d = ep[m] - es[m]
        rows.append({
            "source": s, "n_obs": int(m.sum()),
            "elpd_pooled": float(ep[m].sum()), "elpd_separate": float(es[m].sum()),
            "diff": float(d.sum()),
            "se_diff": float(np.sqrt(m.sum() * d.var(ddof=1))) if m.sum() > 1 else np.nan,
            "max_k_pooled": float(kp[m].max()), "max_k_separate": float(ks[m].max()),
        })
    return pd.DataFrame(rows)


@dataclass(frozen=True, slots=True)
class GmmBaseline:
    """Per-source system GMM: fitted results (GMM JSON dicts (docs/contracts.md)) and refusals.

    Attributes
    ----------
    results : dict of str to dict
        Source -> GMM JSON dict.
    skipped : dict of str to str
        Source -> why no estimate is given (too few periods or hosts, or the engine's
        error message).
    command : str
        The xtabond2 command used for every source.
    """

    results: dict[str, dict]
    skipped: dict[str, str]
    command: str


def _longest_run(years: np.ndarray) -> int:
    years = np.sort(np.unique(years))
    best = run = 1
    for a, b in zip(years[:-1], years[1:], strict=True):
        run = run + 1 if b == a + 1 else 1
        best = max(best, run)
    return best if years.size else 0


def per_source_gmm(frame: pd.DataFrame, command: str) -> GmmBaseline:
    """Fit ``command`` by system GMM on each source's own host x year panel.

    A source is skipped, with the reason, when no host has :data:`GMM_MIN_PERIODS`
    consecutive years, when fewer than :data:`GMM_MIN_HOSTS` hosts do, or when the
    engine raises.
    """
    results: dict[str, dict] = {}
    skipped: dict[str, str] = {}
    for s, sub in frame.groupby(SERIES, sort=False):
        sub = sub.drop(columns=[SERIES]).dropna(subset=[OUTCOME])
        runs = sub.groupby(COUNTRY)[YEAR].apply(lambda y: _longest_run(y.to_numpy()))
        n_ok = int((runs >= GMM_MIN_PERIODS).sum())
        n_years = int(sub[YEAR].nunique())
        if n_years < GMM_MIN_PERIODS or n_ok < GMM_MIN_HOSTS:
            skipped[str(s)] = (
                f"panel too small for system GMM: {n_years} years, {n_ok} hosts with "
                f">= {GMM_MIN_PERIODS} consecutive years; expected >= {GMM_MIN_PERIODS} "
                f"years and >= {GMM_MIN_HOSTS} such hosts"
            )
            continue
        fit = fit_equation(sub, command)
        if fit.result is None:
            skipped[str(s)] = f"GMM failed: {fit.error}"
            continue
        results[str(s)] = fit.result.to_json_dict()
    return GmmBaseline(results=results, skipped=skipped, command=command)


def gmm_table(baseline: GmmBaseline, terms: tuple[str, ...]) -> pd.DataFrame:
    """Tidy per-source GMM slopes: ``source, term, coef, se, nobs, n_groups, n_instruments``."""
    rows = []
    for s, r in baseline.results.items():
        for t in ("L.fdi", *terms):
            if t in r["coef"]:
                rows.append({"source": s, "term": t, "coef": r["coef"][t], "se": r["se"].get(t),
                             "nobs": r["nobs"], "n_groups": r["n_groups"],
                             "n_instruments": r["n_instruments"]})
    return pd.DataFrame(rows, columns=["source", "term", "coef", "se", "nobs", "n_groups",
                                       "n_instruments"])
