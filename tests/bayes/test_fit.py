from __future__ import annotations

import io
import json
import warnings
from functools import partial
from types import SimpleNamespace

import arviz as az
import arviz_stats as azs
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from pymc.testing import mock_sample

from bayes_kfdi import etable
from bayes_kfdi.bayes import compare
from bayes_kfdi.bayes.compare import compare_fits
from bayes_kfdi.bayes.fit import MODEL_TYPE, fit
from bayes_kfdi.bayes.model import build_model
from bayes_kfdi.bayes.spec import HierarchicalSpec
from bayes_kfdi.bayes.summary import REPORTED, SUMMARY_COLUMNS, summarize
from bayes_kfdi.constants import FDI_FLOOR
from bayes_kfdi.exceptions import ConvergenceWarning, ProvenanceError, SpecificationError
from bayes_kfdi.jobs.fit import SamplingProgress
from bayes_kfdi.jobs.fitdir import load_fit, write_fit
from bayes_kfdi.tables import ResultTable

SCHEMA_COLUMNS = ("parameter", "series", "term", "mean", "sd", "q05", "q95", "r_hat", "ess_bulk")


def _panel(seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for s in ("textile", "steel"):
        for c in ("KOR", "USA", "JPN", "DEU"):
            y = 2.0
            for t in range(2000, 2008):
                gdp, wage = rng.normal(10, 1), rng.normal(9, 0.5)
                y = max(FDI_FLOOR, 0.5 * y + 0.3 * (gdp - 10) + rng.normal(1, 1))
                rows.append(
                    {"series": s, "country": c, "year": t, "fdi": y, "gdp": gdp, "wage": wage}
                )
    return pd.DataFrame(rows)


def _energy(size):
    return np.random.default_rng(0).normal(size=size)


def _mocked_fit(**kwargs):
    """A pipeline run with pm.sample replaced by prior draws (pymc.testing.mock_sample)."""
    stats = {"diverging": lambda size: np.zeros(size, dtype=bool), "energy": _energy}
    spec = HierarchicalSpec(
        time_varying={"wage": "linear"},
        centering={"country": "noncentered", "slopes": "noncentered"},
    ).with_sampler(sampler="pymc", draws=40, chains=2, seed=5)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pm, "sample", partial(mock_sample, sample_stats=stats))
        with pytest.warns(ConvergenceWarning, match="NOT converge"):
            return fit(spec, _panel(), progress=False, **kwargs)


@pytest.fixture(scope="module")
def mock_fit():
    return _mocked_fit()


def test_fit_pipeline_outputs_and_provenance(mock_fit, tmp_path):
    res = mock_fit
    idata = res.idata
    for grp in (
        "posterior", "sample_stats", "log_likelihood", "posterior_predictive", "observed_data"
    ):
        assert grp in idata.children
    assert idata.attrs["model_type"] == MODEL_TYPE
    assert idata.attrs["spec_hash"] == res.spec.model_hash()
    assert json.loads(idata.attrs["package_versions"])["pymc"] == pm.__version__
    assert idata.attrs["seed"] == 5
    assert len(idata.attrs["data_sha256"]) == 64
    # the mocked "posterior" is prior draws copied across chains: R-hat cannot pass
    assert idata.attrs["converged"] == 0
    assert not res.posterior_summary["converged"].any()
    # log-likelihood is one value per modelled row and matches the observed count
    assert idata["log_likelihood"]["fdi"].shape[-1] == idata.attrs["n_obs"]
    # summary: schema columns, slopes on the original scale
    assert set(SCHEMA_COLUMNS) <= set(res.posterior_summary.columns)
    assert list(res.posterior_summary.columns) == list(SUMMARY_COLUMNS)
    beta = res.posterior_summary.query("parameter == 'beta'")
    post = idata["posterior"]
    x_sd = json.loads(idata.attrs["x_sd"])
    for row in beta.itertuples():
        draws = post["beta"].sel(series=row.series, term=row.term).values
        assert row.mean == pytest.approx(draws.mean())
        assert row.q05 == pytest.approx(np.quantile(draws, 0.05))
        std = post["beta_z"].sel(series=row.series, term=row.term).values * 0  # exists
        assert std.shape == draws.shape
    # standardised -> original scale: beta * sd(x) is the standardised slope
    for per_term in x_sd.values():
        assert per_term["gdp"] == pytest.approx(_panel()["gdp"].std())
    wage_rows = res.posterior_summary.query("parameter == 'beta' and term == 'wage'")
    assert (wage_rows["year"] == idata.attrs["reference_year"]).all()
    assert len(res.posterior_summary.query("parameter == 'beta_t'")) == 2 * 7
    assert set(res.posterior_summary.query("parameter == 'rho'")["term"]) == {"lag"}
    # predictive checks per series
    assert set(res.ppc["statistic"]) == {"share_at_floor", "mean", "sd"}

    out = write_fit(res, tmp_path / "fit")
    assert sorted(p.name for p in out.iterdir()) == [
        ".bayes_kfdi-output.json",
        "diagnostics.json",
        "posterior.nc",
        "ppc.csv",
        "summary.csv",
    ]
    again = load_fit(out, spec=res.spec)
    assert again.attrs["spec_hash"] == res.spec.model_hash()
    np.testing.assert_allclose(
        again["posterior"]["rho"].values, idata["posterior"]["rho"].values
    )
    with pytest.raises(ProvenanceError, match="spec hash"):
        load_fit(out, spec=HierarchicalSpec(likelihood="normal"))
    csv = pd.read_csv(out / "summary.csv")
    assert len(csv) == len(res.posterior_summary)
    assert not list(tmp_path.glob(".fit.*"))  # no temp dirs left behind


def test_write_is_atomic_on_failure(mock_fit, tmp_path, monkeypatch):
    out = write_fit(mock_fit, tmp_path / "fit")
    before = (out / "summary.csv").read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        write_fit(mock_fit, tmp_path / "fit")
    assert (out / "summary.csv").read_bytes() == before
    assert not list(tmp_path.glob(".fit.*"))


def _fake(lik: str, rows: str, seed: int) -> xr.DataTree:
    rng = np.random.default_rng(seed)
    ll = xr.Dataset({"fdi": (("chain", "draw", "obs"), rng.normal(-1, 0.1, (2, 100, 30)))})
    post = xr.Dataset({"rho": (("chain", "draw"), rng.normal(size=(2, 100)))})
    dt = xr.DataTree.from_dict({"posterior": post, "log_likelihood": ll})
    dt.attrs.update({"likelihood": lik, "likelihood_rows_sha256": rows, "converged": 1})
    return dt


def test_compare_refuses_normal_vs_censored_and_different_rows():
    with pytest.raises(SpecificationError, match="Normal likelihood with a censored"):
        compare_fits({"a": _fake("normal", "x", 0), "b": _fake("censored", "x", 1)})
    with pytest.raises(ProvenanceError, match="different observations"):
        compare_fits({"a": _fake("censored", "x", 0), "b": _fake("censored", "y", 1)})
    with pytest.raises(SpecificationError, match="at least two"):
        compare_fits({"a": _fake("censored", "x", 0)})


def test_compare_ranks_better_predictive_density_first():
    good, bad = _fake("censored", "x", 0), _fake("hurdle", "x", 1)
    bad["log_likelihood"]["fdi"] = bad["log_likelihood"]["fdi"] - 1.0
    table = compare_fits({"good": good, "bad": bad})
    assert table.index[0] == "good"
    assert abs(table.loc["bad", "elpd_diff"]) == pytest.approx(30.0, rel=0.05)
    assert "n_pareto_k_bad" in table.columns


# numpyro pays about 100 s of JAX compilation on 2 cores: run it with the slow tests
@pytest.mark.parametrize("sampler", [pytest.param("numpyro", marks=pytest.mark.slow), "nutpie"])
def test_selectable_samplers_run_end_to_end_and_reproduce_with_a_seed(sampler):
    pytest.importorskip(sampler)
    spec = HierarchicalSpec(terms=("gdp", "wage"), time_varying={"wage": "linear"})
    spec = spec.with_sampler(sampler=sampler, draws=60, tune=60, chains=2, cores=1, seed=11)
    with pytest.warns(ConvergenceWarning):  # far too few draws to pass the checks
        first = fit(spec, _panel(), progress=False, predictive=False)
    with pytest.warns(ConvergenceWarning):
        again = fit(spec, _panel(), progress=False, predictive=False)
    rho = first.idata["posterior"]["rho"]
    assert rho.sizes["chain"] == 2 and rho.sizes["draw"] == 60
    assert np.isfinite(rho.values).all()
    assert "fdi" in first.idata["log_likelihood"]
    np.testing.assert_array_equal(rho.values, again.idata["posterior"]["rho"].values)


#: Vectorised and per-draw evaluation run the same numpy operations in another order.
DETERMINISTICS_ATOL = 1e-10


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"imputation": "random_walk"},
        {"time_varying": {"wage": "rw"}},
        {"time_varying": {"wage": "hsgp"}},
        {"likelihood": "hurdle"},
        {"lag": "latent"},
        {"slopes": "unpooled", "initial_conditions": "naive"},
    ],
    ids=["default", "impute_rw", "rw", "hsgp", "hurdle", "latent", "unpooled_naive"],
)
def test_deterministics_evaluated_at_once_equal_the_per_draw_ones(changes, monkeypatch):
    from bayes_kfdi.bayes.fit import add_deterministics

    df = _panel(seed=2)
    df.loc[df.index[::6], "gdp"] = np.nan
    spec = HierarchicalSpec(**{"time_varying": {"wage": "linear"}, **changes})
    model = build_model(spec, df)
    # 2 chains x 12 draws of the free variables at random points of the sampler's space
    rvs = model.free_RVs
    to_rvs = model.compile_fn(model.replace_rvs_by_values(rvs), inputs=model.value_vars,
                              on_unused_input="ignore", point_fn=False)
    rng = np.random.default_rng(4)
    ip = model.initial_point()
    draws = [
        to_rvs(*[ip[v.name] + rng.normal(0, 0.3, np.shape(ip[v.name]))
                 for v in model.value_vars])
        for _ in range(24)
    ]
    post = xr.Dataset({
        rv.name: (("chain", "draw", *[f"{rv.name}_d{i}" for i in range(rv.ndim)]),
                  np.stack([d[j] for d in draws]).reshape(2, 12, *np.shape(draws[0][j])))
        for j, rv in enumerate(rvs)
    })
    ref = pm.compute_deterministics(post.copy(), model=model, extend_dataset=True,
                                    progressbar=False)
    # the vectorised path must be the one taken: the per-draw fallback now fails
    monkeypatch.setattr(pm, "compute_deterministics", None)
    got = add_deterministics(post, model)
    assert set(got.data_vars) == set(ref.data_vars)
    for name in ref.data_vars:
        assert got[name].dims == ref[name].dims, name
        for d in got[name].dims:
            np.testing.assert_array_equal(got[name][d].values, ref[name][d].values)
        np.testing.assert_allclose(got[name].values, ref[name].values, rtol=0,
                                   atol=DETERMINISTICS_ATOL, err_msg=name)


@pytest.mark.parametrize("sampler", ["nutpie", "pymc"])
def test_max_treedepth_caps_the_leapfrog_steps(sampler):
    pytest.importorskip(sampler)
    spec = HierarchicalSpec(terms=("gdp", "wage"), time_varying={})
    # depth 2: at most 3 leapfrog steps a draw, far below what this posterior asks for
    spec = spec.with_sampler(
        sampler=sampler, draws=30, tune=30, chains=1, cores=1, seed=3, max_treedepth=2
    )
    with pytest.warns(ConvergenceWarning):
        res = fit(spec, _panel(), progress=False, predictive=False, log_likelihood=False)
    # uncapped (depth 10), the same fit takes up to 63 (PyMC) or 255 (nutpie) steps
    assert int(res.idata["sample_stats"]["n_steps"].max()) == 3


@pytest.mark.parametrize("adaptation", ["diag", "draw_diag", "low_rank"])
def test_mass_matrix_adaptation_reaches_nutpie(monkeypatch, adaptation):
    nutpie = pytest.importorskip("nutpie")
    seen = {}
    real = nutpie.sample

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(nutpie, "sample", spy)
    spec = HierarchicalSpec(terms=("gdp",), time_varying={}).with_sampler(
        draws=20, tune=20, chains=1, cores=1, seed=3, adaptation=adaptation
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(spec, _panel(), progress=False, predictive=False, log_likelihood=False)
    assert seen["adaptation"] == adaptation
    assert res.idata["posterior"].sizes["draw"] == 20


def test_log_prior_is_on_the_log_likelihood_draws_and_follows_the_predicate():
    slopes = _mocked_fit(predictive=False, log_prior=lambda name: name.startswith("beta"))
    totals = _mocked_fit(predictive=False, log_prior=True)
    lp, ll = slopes.idata["log_prior"], slopes.idata["log_likelihood"]
    np.testing.assert_array_equal(lp["draw"].values, ll["draw"].values)
    assert set(lp.data_vars) == {"beta_mu", "beta_tau", "beta_z"}
    assert lp["beta_z"].dims == ("chain", "draw", "series", "term")
    # totals: one value per draw and variable, and the element-wise sum agrees
    tot = totals.idata["log_prior"]
    assert "sigma" in tot.data_vars and tot["beta_z"].dims == ("chain", "draw")
    np.testing.assert_allclose(
        tot["beta_z"].values, lp["beta_z"].sum(("series", "term")).values, rtol=1e-10
    )


# -- the results face, the ArviZ summary, LOO once per fit, progress -------------

#: The ArviZ summary and the former hand-assembled one run the same estimators.
SUMMARY_ATOL = 1e-12


@pytest.fixture(scope="module")
def res(mock_fit):
    return mock_fit


def _hand_summary(post: xr.Dataset, var: str) -> dict[str, np.ndarray]:
    """Statistics as the package assembled them before arviz_stats.summary."""
    ds = post[var].to_dataset(name=var)
    stacked = post[var].stack(sample=("chain", "draw"))
    q = stacked.quantile([0.05, 0.95], dim="sample")
    return {
        "mean": stacked.mean("sample").values, "sd": stacked.std("sample", ddof=1).values,
        "q05": q.sel(quantile=0.05).values, "q95": q.sel(quantile=0.95).values,
        "r_hat": az.rhat(ds)[var].values, "ess_bulk": az.ess(ds, method="bulk")[var].values,
        "ess_tail": az.ess(ds, method="tail")[var].values,
        "mcse_mean": az.mcse(ds, method="mean")[var].values,
    }


def test_arviz_summary_equals_the_hand_assembled_one(res):
    post = res.idata["posterior"].to_dataset()
    table = res.posterior_summary
    checked = 0
    for var, label, _ in REPORTED:
        if var not in post or post[var].dtype != np.float64:
            continue
        rows = table[table["parameter"] == label]
        for col, values in _hand_summary(post, var).items():
            np.testing.assert_allclose(rows[col].to_numpy(float), np.ravel(values),
                                       rtol=0, atol=SUMMARY_ATOL, err_msg=f"{var} {col}")
            checked += 1
    assert checked >= 3 * 8


def test_summary_keeps_quantiles_and_adds_the_hdi(res):
    s = res.posterior_summary
    assert {"q05", "q95", "hdi_low", "hdi_high"} <= set(s.columns)
    rho = res.idata["posterior"]["rho"].isel(series=0)
    lo, hi = np.asarray(azs.hdi(rho, prob=0.9).values, float)
    row = s[(s["parameter"] == "rho")].iloc[0]
    assert (row["hdi_low"], row["hdi_high"]) == pytest.approx((lo, hi), abs=1e-12)
    q = np.quantile(rho.values.ravel(), [0.05, 0.95])
    assert (row["q05"], row["q95"]) == pytest.approx(tuple(q), abs=1e-12)
    # a skewed posterior has different HDI and equal-tailed ends
    skew = xr.DataTree.from_dict({"posterior": xr.Dataset(
        {"sigma": (("chain", "draw"), np.random.default_rng(0).exponential(1, (2, 500)))})})
    srow = summarize(skew, converged=True).iloc[0]
    assert srow["hdi_low"] < srow["q05"]


def test_params_labels_and_intervals(res):
    p = res.params
    assert isinstance(p.index, pd.MultiIndex) and p.index.names == ["series", "term"]
    steel = res.for_series("steel")
    assert list(steel.params.index) == ["L.fdi", "gdp", "wage", "wage_trend"]
    s = res.posterior_summary
    beta = s[(s["parameter"] == "beta") & (s["series"] == "steel") & (s["term"] == "gdp")]
    assert steel.params["gdp"] == float(beta["mean"].iloc[0])
    assert steel.std_errors["gdp"] == float(beta["sd"].iloc[0])
    ci = steel.conf_int(0.9)
    assert ci.loc["gdp", "lower"] == pytest.approx(float(beta["hdi_low"].iloc[0]), abs=1e-12)
    assert ci.loc["gdp", "upper"] == pytest.approx(float(beta["hdi_high"].iloc[0]), abs=1e-12)
    wide = steel.conf_int(0.99)
    assert (wide["lower"] <= ci["lower"]).all() and (wide["upper"] >= ci["upper"]).all()
    assert res.nobs == res.idata.attrs["n_obs"] and steel.nobs == res.nobs
    with pytest.raises(SpecificationError, match="not in this fit"):
        res.for_series("autos")
    with pytest.raises(SpecificationError, match="level"):
        res.conf_int(90)


def test_summary_renders_everywhere(res):
    table = res.summary()
    assert isinstance(table, ResultTable)
    text = table.to_text()
    assert "L.fdi" in text and "steel" in text and "textile" in text
    assert "90% HDI" in text and "equal-tailed" in text and "NOT CONVERGED" in text
    assert "<table" in res._repr_html_()
    assert "\\begin{tabular}" in res.to_latex()
    frame = table.to_frame()
    assert list(frame.columns) == ["estimate", "std_error", "lower", "upper", "r_hat",
                                   "ess_bulk", "ess_tail"]
    r = repr(res)
    assert r.startswith("<FitResult:") and len(r) < 200 and "NOT CONVERGED" in r


def test_fit_enters_etable_beside_a_gmm_result(res):
    names = ["L.fdi", "gdp"]
    gmm = SimpleNamespace(
        params=pd.Series([0.5, 0.2], index=names), std_errors=pd.Series([0.1, 0.1], index=names),
        pvalues=pd.Series([0.001, 0.3], index=names), nobs=50, model_label="two-step system GMM",
        interval_kind="Wald, normal",
        conf_int=lambda level=0.95: pd.DataFrame({"lower": [0.3, 0.0], "upper": [0.7, 0.4]},
                                                 index=names))
    table = etable([gmm, res.for_series("steel")], ["GMM", "Bayes"], show="ci", level=0.9)
    text = table.to_text()
    assert "***" in text  # GMM's p < 0.01
    bayes_cells = [cells[1] for label, cells in (r for r in table.rows if r) if label == "gdp"]
    assert bayes_cells and "*" not in bayes_cells[0]
    assert "HDI" in text and "no stars for Bayesian results" in text
    assert "Max R-hat" in text and "Divergences" in text


def test_pareto_k_threshold_depends_on_the_draws():
    assert compare.pareto_k_threshold(400) == pytest.approx(1 - 1 / np.log10(400))
    assert compare.pareto_k_threshold(3000) == 0.7
    table = compare.loo_table({"a": _fake("censored", "x", 0)})  # 2 x 100 draws
    assert table["pareto_k_threshold"].iloc[0] == pytest.approx(1 - 1 / np.log10(200))


def test_compare_computes_loo_once_per_fit(monkeypatch):
    calls = []
    real = azs.loo

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(compare.azs, "loo", counting)
    fits = {"a": _fake("censored", "x", 0), "b": _fake("hurdle", "x", 1)}
    table = compare.compare_fits(fits)
    assert len(calls) == 2 and "pareto_k_threshold" in table.columns
    compare.compare_fits(fits)
    assert len(calls) == 2  # cached while the trees live


def _chain(done, total, div=(), tuning=False):
    return SimpleNamespace(finished_draws=done, total_draws=total, divergent_draws=list(div),
                           tuning=tuning, started=True)


def test_progress_line_counts_draws_divergences_and_time_left():
    rep = SamplingProgress(tune=100, stream=io.StringIO())
    chains = [_chain(150, 300, div=[20, 120]), _chain(150, 300, div=[130])]
    line = rep.line(chains, elapsed=30.0)
    assert "300/600 draws (50%)" in line
    assert "2 divergences" in line  # the one in tuning is not counted
    assert "30s elapsed" in line and "~30s left" in line
    rep(chains)
    rep.close()
    assert rep.stream.getvalue().endswith("\n")


def test_fit_job_is_silent_off_a_terminal(monkeypatch, tmp_path):
    from bayes_kfdi.jobs import fit as jobs_fit

    seen = {}

    def fake_fit(spec, data, *, data_sha256, progress):  # noqa: ARG001
        seen["progress"] = progress
        raise RuntimeError("stop")

    monkeypatch.setattr(jobs_fit, "bayes_fit", fake_fit)
    job = jobs_fit.FitJob(spec=SimpleNamespace(sampler=SimpleNamespace(sampler="nutpie",
                                                                         tune=10)),
                          data=None, data_sha256="0")
    with pytest.raises(RuntimeError):
        jobs_fit.fit_job(job, tmp_path / "out", stream=io.StringIO())
    assert seen["progress"] is False
    with pytest.raises(RuntimeError):
        jobs_fit.fit_job(job, tmp_path / "out", stream=io.StringIO(), progress=True)
    assert isinstance(seen["progress"], SamplingProgress)
