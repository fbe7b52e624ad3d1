from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import integrate, stats

from bayes_kfdi.bayes.likelihoods import (
    censored_logp,
    censored_logp_for,
    hurdle_logp,
    log_ndtr,
)
from bayes_kfdi.bayes.model import build_model, prepare_data
from bayes_kfdi.bayes.spec import HierarchicalSpec
from bayes_kfdi.constants import FDI_FLOOR
from bayes_kfdi.exceptions import DataError, SpecificationError

#: The erfc-based log-CDF must match scipy's log_ndtr to float64 round-off in the body
#: and to ~1e-9 relative in the far tail where both use asymptotic forms.
LOGCDF_RTOL = 1e-9
#: The documented agreement of the hand-written Tobit density with pm.Censored.
CENSORED_ATOL = 1e-5
#: In the upper tail log(1 - tiny) loses relative precision; absolute error stays ~1e-16.
LOGCDF_ATOL = 1e-12


def _panel(series=("textile", "steel"), countries=("KOR", "USA", "JPN"), years=range(2000, 2006)):
    rng = np.random.default_rng(0)
    rows = []
    for s in series:
        for c in countries:
            for y in years:
                rows.append(
                    {
                        "series": s,
                        "country": c,
                        "year": y,
                        "fdi": max(FDI_FLOOR, rng.normal(2, 1)),
                        "gdp": rng.normal(10, 1),
                        "wage": rng.normal(9, 1),
                        "rd": rng.normal(0, 1),
                    }
                )
    return pd.DataFrame(rows)


def test_log_ndtr_matches_scipy_in_both_tails():
    # down to the documented clip at z = -37 (erfc still a normal double there)
    z = np.linspace(-37, 8, 500)
    got = pt.as_tensor_variable(z)
    np.testing.assert_allclose(
        log_ndtr(got).eval(), stats.norm.logcdf(z), rtol=LOGCDF_RTOL, atol=LOGCDF_ATOL
    )


def test_log_ndtr_below_clip_is_finite_with_zero_gradient():
    z = pt.dvector("z")
    val, grad = pytensor.function([z], [log_ndtr(z), pytensor.grad(log_ndtr(z).sum(), z)])(
        np.array([-40.0, -1e3])
    )
    assert np.all(np.isfinite(val)) and np.all(val < stats.norm.logcdf(-36.9))
    np.testing.assert_array_equal(grad, 0.0)


def test_censored_logp_matches_pm_censored():
    y = np.array([FDI_FLOOR, FDI_FLOOR, 1.5, 3.0, 7.0])
    mu = np.array([-3.0, 2.0, 1.0, 2.5, 4.0])
    sigma = np.array([0.5, 1.5, 1.0, 2.0, 0.7])
    ours = censored_logp(pt.as_tensor_variable(y), mu, sigma, FDI_FLOOR).eval()
    dist = pm.Censored.dist(pm.Normal.dist(mu, sigma), lower=FDI_FLOOR, upper=None)
    ref = pm.logp(dist, y).eval()
    np.testing.assert_allclose(ours, ref, atol=CENSORED_ATOL)


def test_split_censored_logp_matches_switch_form_with_gradient():
    y = np.array([FDI_FLOOR, 2.2, FDI_FLOOR, 1.5, FDI_FLOOR + 1e-9, 7.0])
    mu = pt.dvector("mu")
    sigma = pt.dvector("sigma")
    obs = pt.as_tensor_variable(y)
    split = censored_logp_for(y, FDI_FLOOR)(obs, mu, sigma, FDI_FLOOR)
    ref = censored_logp(obs, mu, sigma, FDI_FLOOR)
    f = pytensor.function(
        [mu, sigma],
        [split, ref, *pytensor.grad(split.sum(), [mu, sigma]),
         *pytensor.grad(ref.sum(), [mu, sigma])],
    )
    val, val_ref, g_mu, g_sig, g_mu_ref, g_sig_ref = f(
        np.array([-3.0, 2.0, 1.0, 2.5, 0.3, 4.0]), np.array([0.5, 1.5, 1.0, 2.0, 0.4, 0.7])
    )
    assert np.all(np.isfinite(val))
    for ours, ref_ in ((val, val_ref), (g_mu, g_mu_ref), (g_sig, g_sig_ref)):
        np.testing.assert_allclose(ours, ref_, rtol=0, atol=1e-12)


def test_hurdle_density_integrates_to_one():
    mu, sigma, logit_p = 1.7, 0.9, 0.4
    at_floor = pt.as_tensor_variable(FDI_FLOOR)
    mass = np.exp(hurdle_logp(at_floor, mu, sigma, logit_p, FDI_FLOOR).eval())
    val = pt.dscalar("v")
    f = pm.pytensorf.compile([val], pt.exp(hurdle_logp(val, mu, sigma, logit_p, FDI_FLOOR)))
    cont, _ = integrate.quad(lambda v: float(f(v)), FDI_FLOOR + 1e-5, 40)
    assert mass + cont == pytest.approx(1.0, abs=1e-4)


def test_prepare_data_lags_gaps_and_initial_conditions():
    df = _panel()
    # a gap: remove textile/KOR 2003 -> 2004 has no lag and is dropped
    df = df[~((df.series == "textile") & (df.country == "KOR") & (df.year == 2003))]
    spec = HierarchicalSpec(terms=("gdp", "wage"), time_varying={"wage": "linear"})
    md = prepare_data(spec, df)
    n_units = 6
    assert md.n_initial == n_units
    assert md.n_rows == len(df) - n_units - 1
    assert md.n_dropped == 1
    # lag is the observed value of the previous year within the unit
    f = md.data_frame.assign(lag=md.ylag)
    src = df.set_index(["series", "country", "year"])["fdi"]
    for row in f.itertuples():
        assert row.lag == src[(row.series, row.country, row.year - 1)]
    # initial conditions are each unit's first outcome
    first = df.sort_values("year").groupby(["series", "country"]).fdi.first()
    for u, y0 in zip(md.units, md.y0, strict=True):
        s, c = u.split("|")
        assert y0 == first[(s, c)]
    # standardisation
    np.testing.assert_allclose(md.x_mean[:, 0], df.gdp.mean())
    np.testing.assert_allclose(md.x_sd[:, 1], df.wage.std())
    assert md.reference_year == pytest.approx(np.mean(range(2001, 2006)))


def test_sector_scale_standardises_trade_columns_within_their_sector():
    df = _panel(series=("electronics", "electronics_market", "textile", "steel"))
    rng = np.random.default_rng(3)
    elec = df.series.str.startswith("electronics")
    # one electronics value per country-year, as motives carry electronics trade
    cell = df.country + df.year.astype(str)
    df["exunit"] = cell.map({c: rng.normal(-4.0, 0.01) for c in cell.unique()}).where(
        elec, rng.normal(2.0, 0.7, len(df))
    )
    df.loc[df.series == "steel", "exunit"] = 5.0  # no variation within steel
    spec = HierarchicalSpec(terms=("gdp", "exunit"), time_varying={})
    panel_scale = prepare_data(spec, df)
    np.testing.assert_allclose(panel_scale.x_sd, [[df.gdp.std(), df.exunit.std()]] * 4)
    md = prepare_data(replace(spec, scale="sector"), df)
    k = md.terms.index("exunit")
    sd = dict(zip(md.series, md.x_sd[:, k], strict=True))
    mean = dict(zip(md.series, md.x_mean[:, k], strict=True))
    e = df.loc[elec, "exunit"]
    assert sd["electronics"] == sd["electronics_market"] == pytest.approx(e.std())
    assert mean["electronics"] == pytest.approx(e.mean())
    assert sd["textile"] == pytest.approx(df.loc[df.series == "textile", "exunit"].std())
    # a sector whose column does not move falls back to the panel-wide scale
    assert sd["steel"] == pytest.approx(df.exunit.std())
    assert mean["steel"] == pytest.approx(df.exunit.mean())
    # host covariates share one panel-wide scale
    np.testing.assert_allclose(md.x_sd[:, md.terms.index("gdp")], df.gdp.std())
    # the rows are standardised with their own series' statistics
    raw = md.data_frame.merge(df, on=["series", "country", "year"])["exunit"].to_numpy()
    np.testing.assert_allclose(
        md.X[:, k] * md.x_sd[md.series_idx, k] + md.x_mean[md.series_idx, k], raw
    )


def test_nesting_of_motives_and_plain_pooling_for_other_names():
    df = _panel(series=("electronics", "electronics_market", "steel"))
    md = prepare_data(HierarchicalSpec(terms=("gdp",), time_varying={}), df)
    assert md.parent[md.series.index("electronics_market")] == md.series.index("electronics")
    assert md.parent[md.series.index("steel")] == -1
    spec = HierarchicalSpec(terms=("gdp",), time_varying={})
    md2 = prepare_data(spec, _panel(series=("KOR", "JPN")))
    assert (md2.parent == -1).all()


def test_imputation_grid_is_per_country_year():
    df = _panel()
    df.loc[(df.country == "USA") & (df.year == 2003), "rd"] = np.nan
    md = prepare_data(HierarchicalSpec(terms=("gdp", "rd"), time_varying={}), df)
    (blk,) = md.impute
    assert blk.term == "rd"
    # one missing country-year cell, shared by both series' rows
    assert np.isnan(blk.values).sum() == 1
    cc = HierarchicalSpec(terms=("gdp", "rd"), time_varying={}, missing="complete_case")
    with pytest.warns(UserWarning, match="complete-case"):
        md_cc = prepare_data(cc, df)
    assert md_cc.n_rows == md.n_rows - 2
    assert md_cc.impute == ()


@pytest.mark.parametrize(
    ("likelihood", "ic", "lag"),
    [
        ("censored", "wooldridge", "observed"),
        ("censored", "wooldridge", "latent"),
        ("normal", "naive", "observed"),
        ("hurdle", "wooldridge", "observed"),
    ],
)
def test_build_model_dims_and_finite_logp(likelihood, ic, lag):
    df = _panel()
    df.loc[df.index[::7], "rd"] = np.nan
    spec = HierarchicalSpec(
        likelihood=likelihood,
        initial_conditions=ic,
        lag=lag,
        time_varying={"wage": "linear", "gdp": "rw", "rd": "hsgp"},
    )
    model = build_model(spec, df)
    assert set(("series", "country", "year", "term", "obs")) <= set(model.coords)
    assert list(model.coords["term"]) == ["gdp", "wage", "rd"]
    assert np.isfinite(model.compile_logp()(model.initial_point()))
    assert ("gamma_y0" in model.named_vars) == (ic == "wooldridge")
    assert "impute_missing" in model.named_vars
    assert list(model.coords["tv_term"]) == ["gdp", "wage", "rd"]
    assert {"rw_innov", "gp_coef_z"} <= set(model.named_vars)
    assert ("latent_gap" in model.named_vars) == (lag == "latent")


def test_runs_without_trade_columns_and_with_other_series_names():
    df = _panel(series=("CHN", "JPN", "USA")).drop(columns=["rd"])
    spec = HierarchicalSpec()  # default: auto terms, imunit trend silently not applicable
    model = build_model(spec, df)
    assert list(model.coords["term"]) == ["gdp", "wage"]
    assert list(model.coords["tv_term"]) == ["wage"]


def test_bad_terms_and_too_short_panels_are_reported():
    df = _panel()
    with pytest.raises(SpecificationError, match="imports"):
        prepare_data(HierarchicalSpec(terms=("gdp", "imports"), time_varying={}), df)
    one_year = df[df.year == 2000]
    with pytest.raises(DataError, match="previous-year"):
        prepare_data(HierarchicalSpec(terms=("gdp",), time_varying={}), one_year)


def test_series_qr_basis_reproduces_the_mundlak_term():
    # theta on Q must equal lambda = Rinv theta on the original unit means, per series,
    # including a series with fewer units than terms and one with a collinear column
    from bayes_kfdi.bayes.arrays import series_qr as _series_qr

    rng = np.random.default_rng(3)
    series = np.repeat([0, 1, 2], [30, 3, 30])
    Z = rng.normal(size=(63, 4))
    Z[33:, 3] = 2.0 * Z[33:, 2]  # series 2: rank 3
    Q, Rinv = _series_qr(Z, series, 3)
    theta = rng.normal(size=(3, 4))
    lam = np.einsum("skj,sj->sk", Rinv, theta)
    np.testing.assert_allclose((Z * lam[series]).sum(1), (Q * theta[series]).sum(1), atol=1e-10)
    q0 = Q[series == 0]
    np.testing.assert_allclose(q0.T @ q0 / 29.0, np.eye(4), atol=1e-10)


def test_within_slopes_recover_a_known_common_trend():
    from bayes_kfdi.bayes.arrays import within_slopes as _within_slopes

    rng = np.random.default_rng(4)
    unit = np.repeat(np.arange(6), 10)
    series = unit // 3
    tt = np.tile(np.arange(10) / 10.0, 6)
    x = np.where(series == 0, 1.5, -0.5) * tt + rng.normal(size=6)[unit]
    x = x - np.array([x[unit == u].mean() for u in range(6)])[unit]
    x[5] = np.nan  # an unobserved cell is skipped
    slopes = _within_slopes(x[:, None], tt, unit, series, 2)
    np.testing.assert_allclose(slopes[:, 0], [1.5, -0.5], atol=1e-10)


def _impute_observed_at_random_point(df, imputation, seed):
    """ModelData, a random point and the observed cells' log-density there."""
    spec = HierarchicalSpec(terms=("gdp", "rd"), time_varying={}, imputation=imputation)
    md = prepare_data(spec, df)
    model = build_model(spec, md)
    rng = np.random.default_rng(seed)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in model.initial_point().items()}
    got = model.compile_logp(vars=[model["impute_observed"]], jacobian=False)(point)
    return md, point, got


def test_imputation_density_equals_one_normal_per_observed_cell():
    df = _panel()
    df.loc[df.index[::5], "rd"] = np.nan
    df.loc[df.index[::7], "gdp"] = np.nan
    md, point, got = _impute_observed_at_random_point(df, "trend", seed=3)
    level, trend = point["impute_level"], point["impute_trend"]
    sigma = np.exp(point["impute_sigma_log__"])
    expected, offset = 0.0, 0
    for j, blk in enumerate(md.impute):
        seen = ~np.isnan(blk.values)
        # every group of this small panel has observed cells, so all levels are sampled
        assert np.unique(blk.group[seen]).size == blk.n_groups
        g = blk.group[seen] + offset
        mu = level[g] + trend[g] * blk.tt[seen]
        expected += stats.norm.logpdf(blk.values[seen], mu, sigma[j]).sum()
        offset += blk.n_groups
    np.testing.assert_allclose(got, expected, rtol=1e-10)


#: Monte Carlo tolerance of a prior covariance from 3 series x 2000 draws (sd of a sample
#: covariance ~ amp^2 * sqrt(2 / 6000) ~ 0.005 at amp = 0.5), plus the HSGP
#: approximation error with 10 basis functions at a one-decade length-scale (< 1%).
HSGP_COV_ATOL = 0.02


def test_hsgp_slope_path_has_the_centred_exp_quad_covariance():
    df = _panel(series=("textile", "steel", "auto"), years=range(2000, 2016))
    spec = HierarchicalSpec(terms=("gdp", "wage"), time_varying={"wage": "hsgp"})
    model = build_model(spec, df)
    md = model.md
    amp, ell = 0.5, 1.0
    fixed = pm.do(model, {"gp_amplitude": np.array([amp]), "gp_lengthscale": np.array([ell])})
    with fixed:
        prior = pm.sample_prior_predictive(draws=2000, random_seed=7, var_names=["beta_t"])
    bt = prior["prior"]["beta_t"].sel(tv_term="wage").values[0]  # draw, series, year
    k = md.terms.index("wage")
    dev = (bt - bt.mean(axis=-1, keepdims=True)) * md.x_sd[None, :, k, None]
    dev = dev.reshape(-1, bt.shape[-1])
    t = (np.asarray(md.years, dtype=float) - md.reference_year) / 10.0
    K = amp**2 * np.exp(-0.5 * (t[:, None] - t[None, :]) ** 2 / ell**2)
    H = np.eye(t.size) - 1.0 / t.size
    np.testing.assert_allclose(dev.T @ dev / dev.shape[0], H @ K @ H, atol=HSGP_COV_ATOL)


def test_rho_centring_rule_per_series(monkeypatch):
    import bayes_kfdi.bayes.effects as effects_mod

    df = _panel()
    df.loc[(df.series == "steel") & (df.year > 2001), "fdi"] = FDI_FLOOR
    md = prepare_data(HierarchicalSpec(terms=("gdp",), time_varying={}), df)
    rows = np.bincount(md.series_idx[~md.at_floor], minlength=2)
    steel, textile = md.series.index("steel"), md.series.index("textile")
    assert rows[steel] < rows[textile]
    monkeypatch.setattr(effects_mod, "RHO_CENTER_ROWS", int(rows[textile]))
    auto = build_model(HierarchicalSpec(terms=("gdp",), time_varying={}), md)
    assert auto["rho_c"].type.shape == (1,) and auto["rho_z"].type.shape == (1,)
    assert auto["rho"] in auto.deterministics
    # under the Normal likelihood a floor-valued row carries a density: every row counts
    normal = HierarchicalSpec(terms=("gdp",), time_varying={}, likelihood="normal")
    assert "rho" in {v.name for v in build_model(normal, df).free_RVs}
    for choice, free in (("centered", "rho"), ("noncentered", "rho_z")):
        spec = HierarchicalSpec(terms=("gdp",), time_varying={}, centering={"rho": choice})
        m = build_model(spec, md)
        assert free in {v.name for v in m.free_RVs}
        assert np.isfinite(m.compile_logp()(m.initial_point()))


def test_series_rowdot_equals_the_row_gather_in_value_and_gradient():
    from bayes_kfdi.bayes.arrays import series_rowdot as _series_rowdot

    rng = np.random.default_rng(5)
    s_i = rng.integers(0, 3, size=40)  # unsorted rows: the un-permutation is exercised
    const = rng.normal(size=(40, 4))
    coef = pt.matrix("coef")
    w = rng.normal(size=40)
    got = _series_rowdot(coef, const, s_i)
    ref = (coef[s_i] * const).sum(axis=1)
    f = pytensor.function([coef], [got, pytensor.grad((got * w).sum(), coef)])
    g = pytensor.function([coef], [ref, pytensor.grad((ref * w).sum(), coef)])
    c = rng.normal(size=(3, 4))
    for a, b in zip(f(c), g(c), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


#: Variance of the diffuse start of the proper random walk the gap formulas are checked
#: against; the conditional moments differ from the driftless walk's by O(1 / variance).
RW_DIFFUSE_VAR = 1e9
RW_DIFFUSE_ATOL = 1e-6


def _conditional_moments(x, years, miss, start_var):
    """Moments of the missing cells of a random walk with a N(0, start_var) start."""
    u = years - years[0] + 1.0
    cov = start_var + np.minimum.outer(u, u)
    o = ~miss
    c_oo, c_mo = cov[np.ix_(o, o)], cov[np.ix_(miss, o)]
    mean = c_mo @ np.linalg.solve(c_oo, x[o])
    return mean, cov[np.ix_(miss, miss)] - c_mo @ np.linalg.solve(c_oo, c_mo.T)


def test_random_walk_gaps_are_the_walks_conditional_given_observed_cells():
    from bayes_kfdi.bayes.imputation import random_walk_gaps as _random_walk_gaps

    rng = np.random.default_rng(11)
    # term 0 has two groups with leading, interior (one spanning a year absent from the
    # grid) and trailing gaps; term 1 has an observed group and one with no observed cell
    years0 = np.array([1990, 1991, 1992, 1993, 1995, 1996, 1997, 1998, 1999, 2000.0])
    miss0 = np.array([1, 1, 0, 1, 1, 0, 0, 1, 0, 1], bool)
    years1 = np.arange(1990, 1998.0)
    miss1 = np.array([0, 1, 1, 1, 0, 0, 1, 0], bool)
    x0, x1 = rng.normal(size=years0.size).cumsum(), rng.normal(size=years1.size).cumsum()
    obs2 = np.array([0.3, -0.2, 0.5])  # term 1, observed group, years 1990-1992
    vals = np.concatenate([np.where(miss0, np.nan, x0), np.where(miss1, np.nan, x1),
                           obs2, np.full(3, np.nan)])
    years = np.concatenate([years0, years1, [1990, 1991, 1992], [1990, 1991, 1992.0]])
    term = np.repeat([0, 0, 1, 1], [10, 8, 3, 3])
    group = np.repeat([0, 1, 2, 3], [10, 8, 3, 3])
    perm = rng.permutation(vals.size)  # cells need not come sorted
    gaps = _random_walk_gaps(vals[perm], term[perm], group[perm], years[perm], 2)
    rank = np.full(vals.size, -1)
    rank[perm[np.isnan(vals[perm])]] = np.arange(int(np.isnan(vals).sum()))
    m = rank.max() + 1
    chol = np.zeros((m, m))
    chol[gaps.row, gaps.col] = gaps.val
    cov = chol @ chol.T
    for lo, hi, x, yr, ms in ((0, 10, x0, years0, miss0), (10, 18, x1, years1, miss1)):
        idx = rank[lo:hi][ms]
        mean, c = _conditional_moments(x, yr, ms, RW_DIFFUSE_VAR)
        np.testing.assert_allclose(gaps.mean[idx], mean, atol=RW_DIFFUSE_ATOL)
        np.testing.assert_allclose(cov[np.ix_(idx, idx)], c, atol=RW_DIFFUSE_ATOL)
    # gaps of one group are independent of the other group's
    assert np.all(cov[np.ix_(rank[0:10][miss0], rank[10:18][miss1])] == 0.0)
    # a group with no observed cell walks from the term's observed mean of each year
    idx = rank[21:24]
    np.testing.assert_allclose(gaps.mean[idx], obs2)
    np.testing.assert_allclose(cov[np.ix_(idx, idx)], np.minimum.outer([1, 2, 3.0], [1, 2, 3.0]),
                               atol=1e-9)
    # observed steps: squared step over its length in years, per term
    o0, o1 = ~miss0, ~miss1
    q0 = sum((np.diff(x[o]) ** 2 / np.diff(yr[o])).sum()
             for x, yr, o in ((x0, years0, o0), (x1, years1, o1)))
    np.testing.assert_allclose(gaps.q, [q0, (np.diff(obs2) ** 2).sum()], rtol=1e-12)
    np.testing.assert_array_equal(gaps.n_pairs, [o0.sum() - 1 + o1.sum() - 1, 2])


def test_random_walk_imputation_density_is_the_observed_steps():
    df = _panel()
    df.loc[df.index[::5], "rd"] = np.nan
    md, point, got = _impute_observed_at_random_point(df, "random_walk", seed=4)
    (blk,) = md.impute
    sigma = float(np.exp(point["impute_sigma_log__"])[0])
    years = md.reference_year + blk.tt * 10.0
    expected = 0.0
    for g in range(blk.n_groups):
        sel = (blk.group == g) & ~np.isnan(blk.values)
        order = np.argsort(years[sel])
        x, t = blk.values[sel][order], years[sel][order]
        expected += stats.norm.logpdf(np.diff(x), 0.0, sigma * np.sqrt(np.diff(t))).sum()
    # the Potential omits the -0.5 log(step length) constant; every step here is 1 year
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_imputed_cells_are_exactly_the_missing_covariate_cells():
    from bayes_kfdi.bayes.imputation import (
        covariates_with_imputation as _covariates_with_imputation,
    )

    df = _panel()
    host = ["gdp", "wage", "rd"]
    df[host] = df.groupby(["country", "year"])[host].transform("first")
    # host covariates are per country-year: blank a cell in every series' row
    df.loc[df.year.isin([2001, 2004]) & (df.country == "USA"), "rd"] = np.nan
    df.loc[(df.year == 2002) & df.country.isin(["KOR", "JPN"]), "gdp"] = np.nan
    md = prepare_data(HierarchicalSpec(terms=("gdp", "rd"), time_varying={}), df)
    with pm.Model():
        const, imp = _covariates_with_imputation(md)
        missing = np.isnan(md.X)
        assert {(int(r), int(k)) for r, k in zip(imp.row, imp.term, strict=True)} == set(
            zip(*np.nonzero(missing), strict=True)
        )
        np.testing.assert_array_equal(const[~missing], md.X[~missing])
        assert np.all(const[missing] == 0.0)
        # a host covariate is one cell per country-year, shared by every series' row
        vals = pm.draw(imp.value, random_seed=1)
        rows_by_cell = pd.DataFrame(
            {"c": md.country_idx[imp.row], "y": md.year_idx[imp.row], "k": imp.term, "v": vals}
        )
        assert (rows_by_cell.groupby(["c", "y", "k"])["v"].nunique() == 1).all()


def test_noncentred_rho_deviations_sum_to_zero():
    df = _panel(series=("textile", "steel", "electronics"))
    spec = HierarchicalSpec(terms=("gdp",), time_varying={}, centering={"rho": "noncentered"})
    m = build_model(spec, df)
    rng = np.random.default_rng(2)
    point = {k: v + rng.normal(0, 0.5, np.shape(v)) for k, v in m.initial_point().items()}
    out = m.replace_rvs_by_values([m["rho"]])[0]
    rho = m.compile_fn(out, inputs=m.value_vars, on_unused_input="ignore")(point)
    np.testing.assert_allclose(rho.mean(), point["rho_mu"], rtol=1e-12)


#: Relative error allowed on a standard deviation estimated from UNIT_SD_DRAWS prior draws
#: (the standard error of a sample sd is sd / sqrt(2 n), 1.6% at 2000 draws: 5 se).
UNIT_SD_DRAWS = 2000
UNIT_SD_RTOL = 0.08


def test_unit_spread_is_in_units_of_the_series_residual_sd():
    df = _panel()
    spec = HierarchicalSpec(terms=("gdp",), time_varying={})
    md = prepare_data(spec, df)
    sigma = np.array([1.0, 4.0])
    fixed = pm.do(build_model(spec, md), {"tau_unit": 0.5, "sigma": sigma})
    draws = pm.draw(fixed["u_unit"], draws=UNIT_SD_DRAWS, random_seed=3)
    np.testing.assert_allclose(draws.std(axis=0), 0.5 * sigma[md.unit_series], rtol=UNIT_SD_RTOL)


def test_slope_centring_rule_non_centres_slopes_without_within_variation():
    df = _panel(years=range(1990, 2015))  # enough rows per series for centred slopes
    # rd constant within each country for textile: its textile slope has no data
    for c in df.country.unique():
        sel = (df.series == "textile") & (df.country == c)
        df.loc[sel, "rd"] = df.loc[sel, "rd"].iloc[0]
    spec = HierarchicalSpec(
        terms=("gdp", "rd"), time_varying={}, centering={"slopes": "auto"}
    )
    md = prepare_data(spec, df)
    m = build_model(spec, md)
    free = {v.name: v for v in m.free_RVs}
    assert free["beta_std_c"].type.shape == (3,) and free["beta_std_z"].type.shape == (1,)
    assert np.isfinite(m.compile_logp()(m.initial_point()))
    # "centered" keeps every slope centred
    cen = build_model(
        HierarchicalSpec(terms=("gdp", "rd"), time_varying={}, centering={"slopes": "centered"}),
        md,
    )
    assert "beta_std" in {v.name for v in cen.free_RVs}
    # motive slopes are non-centred around their sector, sector slopes by their data
    nested = _panel(series=("electronics", "electronics_market"), years=range(1990, 2015))
    m = build_model(spec, prepare_data(spec, nested))
    free = {v.name: v for v in m.free_RVs}
    assert free["beta_root"].type.shape == (1, 2) and free["beta_motive_z"].type.shape == (1, 2)


#: Prior draws of the mixed centred/non-centred slopes; the mean and sd of 4000 draws
#: of a N(loc, 2) are within 0.15 and 8% of the truth with probability > 0.999.
MIXED_DRAWS = 4000
MIXED_MEAN_ATOL = 0.15
MIXED_SD_RTOL = 0.08


def test_mixed_slope_parameterisation_has_the_same_prior():
    from bayes_kfdi.bayes.effects import mixed_normal as _mixed_normal

    loc = np.array([[0.0, 5.0], [-3.0, 10.0]])
    mask = np.array([[True, False], [False, True]])
    with pm.Model():
        x = _mixed_normal("b", pt.as_tensor_variable(loc), 2.0, mask)
    draws = pm.draw(x, draws=MIXED_DRAWS, random_seed=5)
    np.testing.assert_allclose(draws.mean(axis=0), loc, atol=MIXED_MEAN_ATOL)
    np.testing.assert_allclose(draws.std(axis=0), 2.0, rtol=MIXED_SD_RTOL)


def test_outcomes_below_the_floor_of_a_censored_model_are_reported():
    from bayes_kfdi.exceptions import FloorCodingWarning

    df = _panel()
    df.loc[3, "fdi"] = -2.5
    spec = HierarchicalSpec(terms=("gdp",), time_varying={})
    with pytest.warns(FloorCodingWarning, match=r"1 fdi values lie below the floor 1.09861 "
                      r"\(lowest -2.5\)"):
        md = prepare_data(spec, df)
    # ... and reads it as floor-coded everywhere: outcome, lag and initial condition
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FloorCodingWarning)
        clipped = prepare_data(spec, df.assign(fdi=df.fdi.clip(lower=FDI_FLOOR)))
    for a in ("y", "ylag", "y0", "all_y"):
        np.testing.assert_array_equal(getattr(md, a), getattr(clipped, a))
    assert md.ylag.min() == md.y.min() == pytest.approx(FDI_FLOOR)
    # a Normal likelihood has no floor to check
    with warnings.catch_warnings():
        warnings.simplefilter("error", FloorCodingWarning)
        prepare_data(HierarchicalSpec(terms=("gdp",), time_varying={}, likelihood="normal"), df)


#: The within-unit lag is an exact reparameterisation: with non-centred unit effects the
#: free variables are the same and the log density equal up to rounding.
WITHIN_LAG_LOGP_ATOL = 1e-8


def test_within_unit_lag_is_the_plain_lag_reparameterised(monkeypatch):
    import bayes_kfdi.bayes.model as model_mod

    df = _panel(countries=("KOR", "USA", "JPN", "CHN"), years=range(2000, 2010))
    df.loc[df.index % 4 == 0, "fdi"] = FDI_FLOOR  # floor-coded lags as well
    spec = HierarchicalSpec(
        terms=("gdp", "wage"),
        time_varying={"wage": "linear"},
        centering={"country": "noncentered", "unit": "noncentered", "slopes": "noncentered"},
    )

    def logp_at_points(within):
        monkeypatch.setattr(model_mod, "WITHIN_UNIT_LAG", within)
        model = build_model(spec, df)
        f = model.compile_logp()
        ip = model.initial_point(0)
        rng = np.random.default_rng(4)
        pts = [{k: v + 0.3 * rng.standard_normal(np.shape(v)) for k, v in ip.items()}
               for _ in range(3)]
        return np.array([f(p) for p in pts])

    within, plain = logp_at_points(True), logp_at_points(False)
    np.testing.assert_allclose(within, plain, rtol=0, atol=WITHIN_LAG_LOGP_ATOL)
    # the points are far enough apart for the check to bite
    assert np.ptp(within) > 1.0
