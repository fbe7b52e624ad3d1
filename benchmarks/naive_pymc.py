"""The default model's structure written as a PyMC user would write it by hand.

The second baseline of ``bayes_speed.py``. It has the default model's terms: a
series-specific rho, a coefficient on a floor-coded lag, series intercepts and trends,
slopes pooled across series with motives nested under their sector, linear trend
interactions, country and country-series effects, Wooldridge initial conditions
(first outcome, its floor indicator and the within-unit covariate means), missing
covariates imputed, and a Tobit likelihood. It makes the plain choices this package
avoids:

- every hierarchical effect non-centred;
- covariates on their original (log) scale, unscaled and uncentred;
- ``pm.Censored`` for the Tobit likelihood;
- missing covariates imputed row by row, as PyMC's automatic imputation does (one free
  value per missing row and term, ``x ~ Normal(mu_k, sd_k)``), so a host-year cell
  shared by six series is imputed six times;
- half-normal spreads;
- ``pm.sample`` with its defaults.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayes_kfdi.bayes.likelihoods import AT_FLOOR_TOL

#: Slopes interacted with the linear time trend, as in the bundled hierarchical spec.
TREND_TERMS = ("wage", "imunit")


def build_naive_model(md, floor: float) -> pm.Model:
    """Build the hand-written baseline on ``md`` (``prepare_data(..., standardize=False)``)."""
    S = len(md.series)
    s_i, u_s = md.series_idx, md.unit_series
    y_mean, y_sd = float(md.y.mean()), float(md.y.std())
    lin = [k for k, t in enumerate(md.terms) if t in TREND_TERMS]
    coords = {
        "series": list(md.series),
        "country": list(md.countries),
        "unit": list(md.units),
        "term": list(md.terms),
        "lin_term": [md.terms[k] for k in lin],
    }
    roots = md.parent < 0
    par = np.where(roots, np.arange(S), md.parent)
    with pm.Model(coords=coords) as model:
        cols = []
        for k, term in enumerate(md.terms):
            x = md.X[:, k]
            miss = np.isnan(x)
            if not miss.any():
                cols.append(pt.as_tensor_variable(x))
                continue
            mu_k = pm.Normal(f"x_mu_{term}", 0.0, 10.0)
            sd_k = pm.HalfNormal(f"x_sd_{term}", 5.0)
            pm.Normal(f"x_obs_{term}", mu_k, sd_k, observed=x[~miss])
            x_miss = pm.Normal(f"x_miss_{term}", mu_k, sd_k, shape=int(miss.sum()))
            full = pt.as_tensor_variable(np.nan_to_num(x))
            cols.append(pt.set_subtensor(full[np.flatnonzero(miss)], x_miss))
        X = pt.stack(cols, axis=1)

        rho_mu = pm.Normal("rho_mu", 0.0, 1.0)
        rho_tau = pm.HalfNormal("rho_tau", 0.5)
        rho = pm.Deterministic(
            "rho", rho_mu + rho_tau * pm.Normal("rho_z", 0.0, 1.0, dims="series"), dims="series"
        )
        alpha = pm.Normal("alpha", y_mean, 2.0 * y_sd, dims="series")
        alpha_trend = pm.Normal("alpha_trend", 0.0, y_sd, dims="series")
        lag_floor = pm.Normal("lag_floor", 0.0, y_sd, dims="series")
        sigma = pm.HalfNormal("sigma", 2.0 * y_sd, dims="series")

        def pooled(name, dims):
            mu = pm.Normal(f"{name}_mu", 0.0, y_sd, dims=dims[1])
            tau = pm.HalfNormal(f"{name}_tau", y_sd)
            tau_m = pm.HalfNormal(f"{name}_tau_motive", y_sd)
            z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
            root = mu + tau * z
            return pm.Deterministic(
                name,
                pt.where(roots[:, None], root, root[par] + tau_m * z),
                dims=dims,
            )

        beta = pooled("beta", ("series", "term"))
        eta = alpha[s_i] + alpha_trend[s_i] * md.tt + rho[s_i] * md.ylag
        eta = eta + lag_floor[s_i] * (md.ylag <= floor + AT_FLOOR_TOL)
        eta = eta + (beta[s_i] * X).sum(axis=1)
        if lin:
            trend = pooled("trend", ("series", "lin_term"))
            eta = eta + (trend[s_i] * X[:, lin] * md.tt[:, None]).sum(axis=1)

        tau_c = pm.HalfNormal("tau_country", y_sd)
        u_c = pm.Deterministic(
            "u_country", tau_c * pm.Normal("u_country_z", 0.0, 1.0, dims="country"),
            dims="country",
        )
        tau_u = pm.HalfNormal("tau_unit", y_sd)
        gamma = pm.Normal("gamma_y0", 0.0, 1.0, dims="series")
        gamma_f = pm.Normal("gamma_y0_floor", 0.0, y_sd, dims="series")
        lam = pm.Normal("lambda_xbar", 0.0, y_sd, dims=("series", "term"))
        u_unit = (
            gamma[u_s] * md.y0
            + gamma_f[u_s] * md.y0_floor
            + (lam[u_s] * md.xbar).sum(axis=1)
            + tau_u * pm.Normal("u_unit_z", 0.0, 1.0, dims="unit")
        )
        eta = eta + u_c[md.country_idx] + u_unit[md.unit_idx]
        pm.Censored(
            "fdi",
            pm.Normal.dist(eta, sigma[s_i]),
            lower=floor,
            upper=None,
            observed=md.y,
        )
    return model
