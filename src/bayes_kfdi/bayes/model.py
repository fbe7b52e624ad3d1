"""Build the PyMC graph of a :class:`HierarchicalSpec` on a panel.

:func:`build_model` reads as the model's equations; the blocks live beside it: data
preparation in :mod:`~bayes_kfdi.bayes.prepare`, effects and slopes in
:mod:`~bayes_kfdi.bayes.effects`, imputation in :mod:`~bayes_kfdi.bayes.imputation`,
flexible slope paths in :mod:`~bayes_kfdi.bayes.paths`, the outcome's likelihood in
:mod:`~bayes_kfdi.bayes.likelihoods`.

Every regressor paired with a per-series or per-unit coefficient is centred (within
series or unit) so that no intercept trades off against a slope; each shift is constant
per series or unit and absorbed by ``alpha``, ``alpha_trend`` or the unit effect, so the
model is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from bayes_kfdi.bayes.arrays import (
    series_means,
    series_nanmeans,
    series_qr,
    series_rowdot,
    within_slopes,
)
from bayes_kfdi.bayes.effects import (
    CENTER_MIN_ROWS,
    HALFNORMAL_MEAN,
    RHO_CENTER_ROWS,
    SLOPE_CENTER_RATIO,
    TREND_TAU_SCALE,
    UNIT_CENTER_ROWS,
    centered,
    effect,
    orthogonal_to_host_means,
    pooled_slopes,
    series_rho,
    slope_data_sd,
    spread_prior,
    unit_effects,
)
from bayes_kfdi.bayes.imputation import IMPUTE_TREND_SD, covariates_with_imputation
from bayes_kfdi.bayes.likelihoods import AT_FLOOR_TOL, add_outcome
from bayes_kfdi.bayes.paths import HSGP_LS_MEAN, flexible_paths
from bayes_kfdi.bayes.prepare import YEAR_SCALE, ModelData, prepare_data
from bayes_kfdi.bayes.spec import HierarchicalSpec
from bayes_kfdi.constants import HOST_COVARIATES
from bayes_kfdi.data.panel import PanelData

__all__ = [
    "ModelData",
    "prepare_data",
    "build_model",
    "CENTER_MIN_ROWS",
    "UNIT_CENTER_ROWS",
    "RHO_CENTER_ROWS",
    "YEAR_SCALE",
    "HSGP_LS_MEAN",
    "IMPUTE_TREND_SD",
]

#: Under Wooldridge initial conditions rho multiplies the lag's deviation from its unit
#: mean, and rho x that mean joins the unit effect's mean: the same model as the plain lag
#: (``False``, kept as the reference of the test of that identity), with rho identified
#: from within-unit movement.
WITHIN_UNIT_LAG = True


@dataclass(frozen=True, slots=True)
class _Terms:
    """Covariates by slope form over years (constant ones are in ``md.terms`` only)."""

    tv: tuple[str, ...]
    linear: tuple[str, ...]
    rw: tuple[str, ...]
    gp: tuple[str, ...]

    @property
    def flexible(self) -> tuple[str, ...]:
        return self.rw + self.gp


@dataclass(frozen=True, slots=True)
class _Covariates:
    """The covariates as a constant matrix plus the imputed cells (``None`` if none)."""

    X: np.ndarray | None
    imp: object
    flat: np.ndarray | None


def _time_forms(spec: HierarchicalSpec, md: ModelData) -> _Terms:
    tv = {t: f for t, f in spec.time_varying.items() if t in md.terms and f != "constant"}
    tv_terms = tuple(t for t in md.terms if t in tv)
    return _Terms(
        tv=tv_terms,
        linear=tuple(t for t in tv_terms if tv[t] == "linear"),
        rw=tuple(t for t in tv_terms if tv[t] == "rw"),
        gp=tuple(t for t in tv_terms if tv[t] == "hsgp"),
    )


def _coords(md: ModelData, terms: _Terms) -> dict:
    coords = {
        "series": list(md.series),
        "country": list(md.countries),
        "year": list(md.years),
        "term": list(md.terms),
        "obs": np.arange(md.n_rows),
        "unit": list(md.units),
    }
    for name, values in (
        ("tv_term", terms.tv), ("lin_term", terms.linear), ("rw_term", terms.rw),
        ("gp_term", terms.gp),
    ):
        if values:
            coords[name] = list(values)
    return coords


def _covariates(spec: HierarchicalSpec, md: ModelData) -> _Covariates:
    if not md.terms:
        return _Covariates(None, None, None)
    Xc, imp = covariates_with_imputation(md, spec.imputation)
    # flat (series, term) positions: a 1-d gather, whose gradient is a 1-d scatter-add
    flat = None if imp is None else md.series_idx[imp.row] * len(md.terms) + imp.term
    return _Covariates(Xc, imp, flat)


def _persistence(spec: HierarchicalSpec, md: ModelData, informative: np.ndarray):
    """``rho`` (series): partially pooled around ``rho_mu``."""
    pr = spec.priors
    rho_mu = pm.Normal("rho_mu", pr.rho_mu, pr.rho_sd)
    if len(md.series) > 1:
        # zero-avoiding Gamma(2) spread: a half-normal lets a centred rho into its funnel
        rho_tau = pm.Gamma("rho_tau", alpha=2.0, beta=2.0 / pr.rho_tau)
        return series_rho(spec, md, rho_mu, rho_tau, informative)
    return pm.Deterministic("rho", pt.stack([rho_mu]), dims="series")


def _latent_outcome(spec: HierarchicalSpec, md: ModelData, y_mean: float, y_sd: float):
    """Latent path ``ystar`` of every modelled row: a floor-coded value lies below the floor.

    Returns ``ystar`` and the latent lag (centred on the outcome mean) and initial value.
    """
    cens = np.flatnonzero(md.all_y <= spec.floor + AT_FLOOR_TOL)
    gap = pm.HalfFlat("latent_gap", shape=len(cens))
    ystar = pt.set_subtensor(pt.as_tensor_variable(md.all_y)[cens], float(spec.floor) - gap)
    pm.Deterministic("fdi_latent_mean", ystar[cens].mean())
    # rows outside the dynamic likelihood (first rows, rows after gaps) get a per-series
    # normal model, so that their latent values are proper
    nondyn = np.setdiff1d(np.arange(md.all_y.size), md.dyn_pos)
    mu0 = pm.Normal("initial_mu", y_mean, 2.0 * y_sd, dims="series")
    sd0 = pm.HalfNormal("initial_sigma", 2.0 * y_sd, dims="series")
    s_nd = md.all_series[nondyn]
    pm.Potential(
        "initial_density",
        pm.logp(pm.Normal.dist(mu0[s_nd], sd0[s_nd]), ystar[nondyn]).sum(),
    )
    return ystar, ystar[md.lag_pos] - y_mean, ystar[md.first_pos]


def _lag_terms(spec: HierarchicalSpec, md: ModelData, rho, ylag_c, y_sd: float, per_series):
    """Start ``eta`` with the lag and append its (coefficient, regressor) pairs.

    Returns ``eta`` so far and the unit means of the centred lag (``None`` unless the
    lag enters within units).
    """
    s_i, S = md.series_idx, len(md.series)
    if spec.lag == "latent":
        return rho[s_i] * ylag_c, None
    eta = pt.zeros((md.n_rows,))
    ylag_in, lag_unit_mean = ylag_c, None
    if spec.initial_conditions == "wooldridge" and WITHIN_UNIT_LAG:
        U = len(md.units)
        cnt = np.maximum(np.bincount(md.unit_idx, minlength=U), 1)
        lag_unit_mean = np.bincount(md.unit_idx, ylag_c, U) / cnt
        ylag_in = ylag_c - lag_unit_mean[md.unit_idx]
    per_series.append((rho[:, None], ylag_in[:, None]))
    if spec.likelihood != "normal":
        # a floor-coded lag stands for a latent flow below the floor: its own coefficient
        # keeps rho identified from the lags above it
        lag_f = (md.ylag <= float(spec.floor) + AT_FLOOR_TOL).astype(float)
        lag_f = lag_f - series_means(lag_f, s_i, S)[s_i]
        phi = pm.Normal("lag_floor", 0.0, y_sd, dims="series")
        per_series.append((phi[:, None], lag_f[:, None]))
    return eta, lag_unit_mean


def _level_regressors(spec: HierarchicalSpec, md: ModelData) -> tuple[np.ndarray, np.ndarray]:
    """Shift and pooled within-unit trend to take off each covariate level.

    The shift is the unit mean (Wooldridge) or the series mean; the series' pooled
    within-unit trend would otherwise be collinear with ``alpha_trend``.
    """
    s_i, S = md.series_idx, len(md.series)
    wb = spec.initial_conditions == "wooldridge"
    shift = md.xbar[md.unit_idx] if wb else series_nanmeans(md.X, s_i, S)[s_i]
    tt_mean = series_means(md.tt, s_i, S)
    x_slope = within_slopes(md.X - shift, md.tt, md.unit_idx, s_i, S)
    return shift, x_slope[s_i] * (md.tt - tt_mean)[:, None]


def _slope_centring(spec: HierarchicalSpec, md: ModelData, X_lvl_data, informative, y_sd):
    """Centred mask of the slopes: fixed, or under "auto" root slopes the data pin down."""
    S = len(md.series)
    mask = centered(spec, "slopes", np.array([md.n_rows / max(S, 1)]))
    if mask and spec.centering["slopes"] == "auto":
        data_sd = slope_data_sd(md, X_lvl_data, informative)
        mask = data_sd < SLOPE_CENTER_RATIO * spec.priors.beta_tau * y_sd
        mask[md.parent >= 0] = False
    return mask


def _time_varying_slopes(md: ModelData, terms: _Terms, beta_std, trend_std, path) -> None:
    """Report ``beta_trend`` (per year) and ``beta_t`` (per year) on the original scale."""
    S = len(md.series)
    tv_idx = [md.terms.index(t) for t in terms.tv]
    years_tt = (np.asarray(md.years, dtype=float) - md.reference_year) / YEAR_SCALE
    bt = pt.repeat(beta_std[:, tv_idx][:, :, None], len(md.years), axis=2)
    trend_out = pt.zeros((S, len(terms.tv)))
    if terms.linear:
        pos = [terms.tv.index(t) for t in terms.linear]
        bt = pt.set_subtensor(bt[:, pos, :], bt[:, pos, :] + trend_std[:, :, None] * years_tt)
        trend_out = pt.set_subtensor(trend_out[:, pos], trend_std)
    if terms.flexible:
        pos = [terms.tv.index(t) for t in terms.flexible]
        bt = pt.set_subtensor(bt[:, pos, :], bt[:, pos, :] + path)
    sd_tv = md.x_sd[:, tv_idx]
    pm.Deterministic("beta_trend", trend_out / sd_tv / YEAR_SCALE, dims=("series", "tv_term"))
    pm.Deterministic("beta_t", bt / sd_tv[:, :, None], dims=("series", "tv_term", "year"))


def _slope_terms(spec, md: ModelData, cov: _Covariates, terms: _Terms, eta, per_series,
                 informative, y_sd):
    """Slopes at the reference year, their linear trends and flexible paths.

    Appends (coefficient, regressor) pairs to ``per_series`` and returns ``eta`` (with
    the flexible paths and the imputed cells' terms) and ``beta_std``.
    """
    pr, s_i, S, K = spec.priors, md.series_idx, len(md.series), len(md.terms)
    Xc, imp = cov.X, cov.imp
    shift, x_dev = _level_regressors(spec, md)
    mask = _slope_centring(spec, md, md.X - shift - x_dev, informative, y_sd)
    beta_std = pooled_slopes(
        "beta", md, pr.beta_sd * y_sd, pr.beta_tau * y_sd, mask, spec, ("series", "term")
    )
    pm.Deterministic("beta", beta_std / md.x_sd, dims=("series", "term"))
    per_series.append((beta_std, Xc - shift - x_dev))
    if imp is not None:
        imp_coef = beta_std.ravel()[cov.flat]
    trend_std = path = None
    if terms.linear:
        lin_idx = [md.terms.index(t) for t in terms.linear]
        trend_std = pooled_slopes(
            "trend", md, pr.trend_sd * y_sd, pr.beta_tau * y_sd * TREND_TAU_SCALE, False,
            spec, ("series", "lin_term"),
        )
        full = pt.set_subtensor(pt.zeros((S, K))[:, lin_idx], trend_std)
        XT = Xc[:, lin_idx] * md.tt[:, None]
        xt_mean = series_nanmeans(md.X[:, lin_idx] * md.tt[:, None], s_i, S)
        per_series.append((trend_std, XT - xt_mean[s_i]))
        if imp is not None:
            imp_coef = imp_coef + full.ravel()[cov.flat] * md.tt[imp.row]
    if terms.flexible:
        flex_idx = [md.terms.index(t) for t in terms.flexible]
        path = flexible_paths(spec, md, terms.rw, terms.gp, y_sd)
        fullrw = pt.set_subtensor(pt.zeros((S, K, len(md.years)))[:, flex_idx, :], path)
        eta = eta + (fullrw[s_i, :, md.year_idx] * Xc).sum(axis=1)
        if imp is not None:
            r = imp.row
            imp_coef = imp_coef + fullrw[s_i[r], imp.term, md.year_idx[r]]
    if terms.tv:
        _time_varying_slopes(md, terms, beta_std, trend_std, path)
    if imp is not None:
        eta = pt.inc_subtensor(eta[imp.row], imp_coef * imp.value)
    return eta, beta_std


def _country_effect(spec: HierarchicalSpec, md: ModelData, rows_country: np.ndarray):
    """``u_country`` (country): shared by all series, in units of each series' sigma."""
    if len(md.countries) < 2:
        return None
    tau_c = spread_prior("tau_country", spec.priors.effect_tau * HALFNORMAL_MEAN)
    u_c = effect(
        "u_country", tau_c, "country", centered(spec, "country", rows_country),
        len(md.countries), groups=np.zeros(len(md.countries), dtype=np.int64),
    )
    host = [k for k, t in enumerate(md.terms) if t in HOST_COVARIATES]
    if spec.initial_conditions == "wooldridge" and host and md.terms:
        u_c = orthogonal_to_host_means(md, u_c, host)
    return u_c


def _initial_conditions(spec, md: ModelData, y0_used, rho, lag_unit_mean, beta_std, y_sd):
    """Wooldridge (2005) mean of the unit effect.

    Linear in ``y_i0``, its floor indicator and the within-unit covariate means (Mundlak
    1978), each centred over the series' units.
    """
    us, S = md.unit_series, len(md.series)
    if spec.lag == "latent":
        y0c = y0_used - y0_used.mean()
    else:
        y0c = md.y0 - series_means(md.y0, us, S)
    y0f = md.y0_floor.astype(float)
    floor_c = y0f - series_means(y0f, us, S)
    # y0 enters as its residual on the floor indicator within series, so that the two
    # coefficients are uncorrelated; the indicator's coefficient on the pair is reported
    den = np.bincount(us, weights=floor_c * floor_c, minlength=S)
    num = (
        np.bincount(us, weights=floor_c * y0c, minlength=S)
        if spec.lag != "latent"
        else np.zeros(S)
    )
    b_f = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    gamma = pm.Normal("gamma_y0", 0.0, 1.0, dims="series")
    gamma_fo = pm.Normal("gamma_y0_floor_orth", 0.0, y_sd, dims="series")
    pm.Deterministic("gamma_y0_floor", gamma_fo - gamma * b_f, dims="series")
    ic = gamma[us] * (y0c - b_f[us] * floor_c) + gamma_fo[us] * floor_c
    if spec.lag == "observed" and WITHIN_UNIT_LAG:
        ic = ic + rho[us] * lag_unit_mean
    if md.terms:
        # between-unit coefficient lambda = beta + delta (within-between form), sampled
        # in the per-series QR basis of the collinear unit means
        xbar_c = md.xbar - series_means(md.xbar, us, S)
        Qm, Rinv = series_qr(xbar_c, us, S)
        theta = pm.Normal(
            "lambda_xbar_qr", 0.0, spec.priors.beta_sd * y_sd, dims=("series", "term")
        )
        lam = pm.Deterministic(
            "lambda_xbar", (pt.as_tensor_variable(Rinv) * theta[:, None, :]).sum(axis=2),
            dims=("series", "term"),
        )
        pm.Deterministic("delta_xbar", (lam - beta_std) / md.x_sd, dims=("series", "term"))
        ic = ic + (theta[us] * Qm).sum(axis=1)
    return ic


def build_model(spec: HierarchicalSpec, panel: PanelData | pd.DataFrame | ModelData) -> pm.Model:
    """Build the PyMC model of ``spec`` on ``panel``.

    Parameters
    ----------
    spec : HierarchicalSpec
    panel : PanelData, pandas.DataFrame or ModelData

    Returns
    -------
    pymc.Model
        Dims ``series, country, year, term, obs, unit``. Variables reported by the
        summary: ``rho`` (series), ``beta`` (series, term) on the original covariate
        scale at the reference (average) year, ``beta_trend`` (series, tv_term) per year,
        ``beta_t`` (series, tv_term, year), ``sigma`` (series). Under a censored or
        hurdle likelihood with the observed lag, ``lag_floor`` (series) is the
        coefficient of a floor-coded lag. ``model.md`` holds the :class:`ModelData`.
    """
    md = panel if isinstance(panel, ModelData) else prepare_data(spec, panel)
    terms = _time_forms(spec, md)
    pr, s_i, S = spec.priors, md.series_idx, len(md.series)
    y_sd = float(np.std(md.y)) or 1.0
    y_mean = float(np.mean(md.y))
    # centred within series, so that alpha does not trade off against rho and the
    # initial-condition coefficients
    ylag_c = md.ylag - series_means(md.ylag, md.series_idx, S)
    # rows that carry a density, not only a probability, count toward the centring rules
    informative = ~md.at_floor if spec.likelihood != "normal" else np.ones(md.n_rows, bool)
    rows_country = np.bincount(md.country_idx[informative], minlength=len(md.countries))
    rows_unit = np.bincount(md.unit_idx[informative], minlength=len(md.units))

    with pm.Model(coords=_coords(md, terms)) as model:
        cov = _covariates(spec, md)
        rho = _persistence(spec, md, informative)
        alpha = pm.Normal("alpha", y_mean, 2.0 * y_sd, dims="series")
        # a series trend, so that trending covariates do not absorb a common trend
        alpha_trend = pm.Normal("alpha_trend", 0.0, pr.trend_sd * y_sd, dims="series")
        sigma = pm.HalfNormal("sigma", pr.sigma * y_sd * 2.0, dims="series")
        ystar, y0_used = None, md.y0
        if spec.lag == "latent":
            ystar, ylag_c, y0_used = _latent_outcome(spec, md, y_mean, y_sd)
        # (coefficient (S, k), constant regressor (n, k)) pairs: one product per series
        per_series = [(alpha_trend[:, None], md.tt[:, None])]
        eta, lag_unit_mean = _lag_terms(spec, md, rho, ylag_c, y_sd, per_series)
        beta_std = None
        if md.terms:
            eta, beta_std = _slope_terms(
                spec, md, cov, terms, eta, per_series, informative, y_sd
            )
        eta = eta + series_rowdot(
            pt.concatenate([c for c, _ in per_series], axis=1),
            np.column_stack([x for _, x in per_series]),
            s_i,
        )
        country_eff = _country_effect(spec, md, rows_country)
        # one country-series spread for all series, in units of each series' sigma
        tau_u = pm.HalfNormal("tau_unit", pr.effect_tau)
        ic = None
        if spec.initial_conditions == "wooldridge":
            ic = _initial_conditions(spec, md, y0_used, rho, lag_unit_mean, beta_std, y_sd)
        unit_eff = unit_effects(spec, md, tau_u, sigma, ic, rows_unit, country_eff, alpha)
        eta = eta + unit_eff[md.unit_idx]
        add_outcome(
            spec, md, eta, sigma, ylag_c=ylag_c, y_sd=y_sd, Xc=cov.X, imp=cov.imp,
            imp_flat=cov.flat, ystar=ystar,
        )
    model.md = md  # type: ignore[attr-defined]
    return model
