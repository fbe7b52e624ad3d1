"""Fast tests of the multi-source panel, spec, per-source model and summaries."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_kfdi.bayes.model import build_model, prepare_data
from bayes_kfdi.exceptions import DataError, SpecificationError
from bayes_kfdi.multisource import (
    SelectionConfig,
    build_independent,
    contrasts,
    h1_table,
    is_multisource_spec,
    load_multisource_spec,
    loo_pooled_vs_separate,
    per_source_gmm,
    select_panel,
    simulate_multi_source,
)
from bayes_kfdi.multisource.spec import spec_from_mapping
from bayes_kfdi.resources import models_dir

MODELS_DIR = models_dir()

REPO = Path(__file__).resolve().parents[2]
SPEC = MODELS_DIR / "multi_source.toml"
#: Monte Carlo probabilities below are exact fractions of the constructed draws.
PROB_TOL = 1e-12


@pytest.fixture(scope="module")
def sim():
    return simulate_multi_source(seed=3, n_sources=4, n_hosts=12, n_years=8)


def _toy() -> pd.DataFrame:
    rows = []
    for s, hosts, years in (("KOR", "ABCD", range(2000, 2010)), ("CHN", "ABC", range(2005, 2010)),
                            ("IND", "A", range(2010, 2012)), ("USA", "ABCDE", range(2000, 2010))):
        for h in hosts:
            for y in years:
                rows.append({"series": s, "country": h, "year": y, "fdi": 2.0})
    return pd.DataFrame(rows)


def test_select_panel_keeps_hosts_with_enough_sources_and_reports_drops():
    sel = select_panel(_toy(), SelectionConfig(sources=("KOR", "CHN", "IND", "BRA"),
                                               first_year=2001, last_year=2012,
                                               min_sources_per_host=2, min_rows_per_source=3))
    assert sel.sources == ("KOR", "CHN")
    assert sel.hosts == ("A", "B", "C")  # D is seen by KOR only; USA is not selected
    assert sel.frame["year"].min() == 2001
    assert sel.dropped_sources["BRA"] == "not in the data"
    assert "2 rows" in sel.dropped_sources["IND"]
    tab = sel.table()
    assert tab["source"].tolist() == ["KOR", "CHN"]
    assert tab["hosts"].tolist() == [3, 3]


@pytest.mark.parametrize(
    ("config", "error", "match"),
    [
        (dict(sources=("KOR",), reference="CHN"), SpecificationError, "reference"),
        (dict(first_year=2010, last_year=2000), SpecificationError, "swap"),
        (dict(min_sources_per_host=0), SpecificationError, "positive integer"),
        (dict(max_hosts=1), SpecificationError, "max_hosts"),
        (dict(sources=("KOR", "IND"), min_sources_per_host=2, min_rows_per_source=1), DataError,
         "at least two"),
        (dict(sources=("KOR", "IND"), min_sources_per_host=1, min_rows_per_source=50), DataError,
         "reference source"),
    ],
)
def test_selection_errors(config, error, match):
    with pytest.raises(error, match=match):
        select_panel(_toy(), SelectionConfig(**config))


def test_shipped_spec_loads_and_is_recognised():
    ms = load_multisource_spec(SPEC)
    assert ms.selection.reference == "KOR"
    assert {"KOR", "CHN", "MYS", "THA", "TWN", "MEX", "CHL", "TUR", "RUS", "BRA", "ZAF",
            "IND"} <= set(ms.selection.sources)
    assert ms.selection.min_years_per_source == 5
    assert ms.model.terms[:5] == ("pop", "gdppc", "wage", "rd", "edu")
    assert is_multisource_spec(SPEC)
    assert not is_multisource_spec(MODELS_DIR / "hierarchical.toml")


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"multisource": {"sourcez": ["KOR"]}}, "unknown key 'sourcez'"),
        ({"multisource": {"sourcez": ["KOR"]}}, "did you mean 'sources'"),
        ({"multisource": {"compare_per_source": "yes"}}, "true or false"),
        ({"multisource": {"first_year": "1995"}}, "first_year = '1995'; expected an integer"),
        ({"multisource": {"sources": "KOR"}}, "a list of source codes"),
        ({"multisource": {"reference": 1}}, "reference = 1; expected a source code string"),
        ({"multisource": {"covariate_history": "hots_effect"}}, "did you mean 'host_effect'"),
        ({"multisource": {"gmm_command": 3}}, "xtabond2 command string"),
        ({"multisource": 3}, "expected a table"),
        ({"multisource": {}, "model": {"likelihood": "poisson"}}, "likelihood"),
    ],
)
def test_bad_specs(raw, match):
    with pytest.raises(SpecificationError, match=re.escape(match)) as info:
        spec_from_mapping(raw)
    assert "\n" not in str(info.value)


def test_unreadable_spec_file_is_one_line(tmp_path):
    bad = tmp_path / "kr.toml"
    bad.write_bytes("# 다중 출처\n".encode("cp949") + SPEC.read_bytes())
    with pytest.raises(SpecificationError, match="save it as UTF-8"):
        load_multisource_spec(bad)
    with pytest.raises(SpecificationError, match="does not exist"):
        load_multisource_spec(tmp_path / "missing.toml")
    with pytest.raises(SpecificationError, match="is a directory"):
        load_multisource_spec(tmp_path)
    assert not is_multisource_spec(tmp_path)


def test_real_data_selection_covers_the_issue_sources():
    from bayes_kfdi.data.load import load_ofdi_real

    ms = load_multisource_spec(SPEC)
    sel = select_panel(load_ofdi_real(), ms.selection)
    assert {"KOR", "CHN", "TWN", "RUS", "TUR", "MEX"} <= set(sel.sources)
    assert "3 distinct years" in sel.dropped_sources["IND"]
    assert not sel.frame["country"].isin(sel.excluded_conduits).any()
    per_host = sel.frame.groupby("country")["series"].nunique()
    # hosts are chosen before small sources are dropped
    assert per_host.min() >= ms.selection.min_sources_per_host - len(sel.dropped_sources)
    assert sel.frame["year"].between(1995, 2012).all()


def test_simulator_truth_and_unbalanced_design(sim):
    f, t = sim.frame, sim.truth
    assert sorted(f["series"].unique()) == ["KOR", "S02", "S03", "S04"]
    assert set(t["beta"]) == set(f["series"].unique())
    assert set(t["beta"]["KOR"]) == {"gdp", "gdppc"}
    first = f.groupby("series")["year"].min()
    assert first[t["late_sources"]].gt(first["KOR"]).all()
    assert (f["fdi"] >= t["floor"] - 1e-12).all()
    assert (f["fdi"] <= t["floor"] + 1e-12).mean() > 0.05
    again = simulate_multi_source(seed=3, n_sources=4, n_hosts=12, n_years=8)
    pd.testing.assert_frame_equal(f, again.frame)


def _spec_for(sim):
    ms = load_multisource_spec(SPEC)
    import dataclasses

    # the shipped spec's terms are the bilateral panel's; the simulator has gdp and gdppc
    return dataclasses.replace(ms.model, floor=float(sim.truth["floor"]),
                               terms=("gdp", "gdppc"), likelihood="censored")


def test_pooled_model_has_source_dims_and_shared_host_effects(sim):
    spec = _spec_for(sim)
    md = prepare_data(spec, sim.frame)
    model = build_model(spec, md)
    assert list(model.coords["series"]) == sorted(sim.frame["series"].unique())
    assert model.named_vars_to_dims["beta"] == ("series", "term")
    assert "u_country" in model.named_vars  # host effects shared across sources


def test_independent_model_shares_no_parameter_across_sources(sim):
    spec = _spec_for(sim)
    md = prepare_data(spec, sim.frame)
    model = build_independent(spec, md)
    for rv in model.free_RVs:
        dims = model.named_vars_to_dims.get(rv.name, ())
        assert "series" in dims or "unit" in dims, rv.name
    # the joint log-density is a sum over sources: perturbing one source's slopes
    # changes only that source's observations' log-likelihood
    point = model.initial_point()
    f = model.compile_fn(model.logp(vars=model.observed_RVs, sum=False)[0], inputs=model.value_vars,
                         on_unused_input="ignore")
    base = f(point)
    pert = dict(point)
    z = pert["beta_z"].copy()
    z[0] += 0.5
    pert["beta_z"] = z
    changed = ~np.isclose(f(pert), base)
    assert changed.any()
    assert (md.series_idx[changed] == 0).all()


def test_independent_model_refuses_hurdle(sim):
    import dataclasses

    spec = dataclasses.replace(_spec_for(sim), likelihood="hurdle")
    with pytest.raises(SpecificationError, match="hurdle"):
        build_independent(spec, prepare_data(spec, sim.frame))


def _fake_idata(beta: np.ndarray, sources, terms) -> xr.DataTree:
    post = xr.Dataset(
        {"beta": (("chain", "draw", "series", "term"), beta)},
        coords={"chain": [0], "draw": np.arange(beta.shape[1]), "series": sources,
                "term": terms},
    )
    return xr.DataTree.from_dict({"posterior": post})


def test_contrasts_and_h1_from_known_draws():
    n = 1000
    draws = np.zeros((1, n, 2, 2))
    draws[0, :, 0, 0] = np.linspace(-0.1, 0.9, n)  # KOR gdp: 10% <= 0
    draws[0, :, 0, 1] = -1.0  # KOR gdppc < 0 always
    draws[0, :, 1, 0] = draws[0, :, 0, 0] + 0.5  # CHN gdp = KOR + 0.5
    draws[0, :, 1, 1] = 1.0
    idata = _fake_idata(draws, ["KOR", "CHN"], ["gdp", "gdppc"])
    con = contrasts(idata, "KOR").set_index(["source", "term"])
    assert con.loc[("CHN", "gdp"), "mean"] == pytest.approx(0.5)
    assert con.loc[("CHN", "gdp"), "sd"] == pytest.approx(0.0, abs=1e-9)
    assert con.loc[("CHN", "gdppc"), "p_greater"] == 1.0
    h1 = h1_table(idata).set_index("source")
    assert h1.loc["KOR", "p_gdp_positive"] == pytest.approx((draws[0, :, 0, 0] > 0).mean(),
                                                           abs=PROB_TOL)
    assert h1.loc["KOR", "p_h1"] == h1.loc["KOR", "p_gdp_positive"]
    assert h1.loc["CHN", "p_h1"] == 0.0
    with pytest.raises(SpecificationError, match="reference"):
        contrasts(idata, "BRA")
    with pytest.raises(SpecificationError, match="gdppc"):
        h1_table(_fake_idata(draws[:, :, :, :1], ["KOR", "CHN"], ["gdp"]))


def test_h1_maps_population_slopes_back_to_gdp_and_gdp_per_head():
    n = 1000
    draws = np.zeros((1, n, 1, 3))
    draws[0, :, 0, 0] = np.linspace(-0.1, 0.9, n)  # pop slope = the GDP slope
    draws[0, :, 0, 1] = 0.5  # gdppc slope at fixed population
    draws[0, :, 0, 2] = np.linspace(-1.0, 1.0, n)  # imports
    h1 = h1_table(_fake_idata(draws, ["KOR"], ["pop", "gdppc", "imports"])).iloc[0]
    pop = draws[0, :, 0, 0]
    assert h1["p_gdp_positive"] == pytest.approx((pop > 0).mean(), abs=PROB_TOL)
    # at fixed GDP the per-head slope is 0.5 - pop, negative only where pop > 0.5
    assert h1["p_gdppc_negative"] == pytest.approx((0.5 - pop < 0).mean(), abs=PROB_TOL)
    assert h1["p_h1"] == h1["p_gdppc_negative"]
    assert h1["p_imports_positive"] == pytest.approx(0.5, abs=1e-3)


def _ll_tree(ll: np.ndarray) -> xr.DataTree:
    ds = xr.Dataset({"fdi": (("chain", "draw", "obs"), ll)})
    return xr.DataTree.from_dict({"log_likelihood": ds, "posterior": xr.Dataset(
        {"mu": (("chain", "draw"), np.zeros(ll.shape[:2]))})})


def test_loo_table_sums_sources_and_signs_the_difference():
    rng = np.random.default_rng(0)
    ll = rng.normal(-1.0, 0.05, size=(2, 200, 30))
    src = np.repeat(["KOR", "CHN", "MYS"], 10)
    same = loo_pooled_vs_separate(_ll_tree(ll), _ll_tree(ll), src).set_index("source")
    assert same["diff"].abs().max() < 1e-9
    better = loo_pooled_vs_separate(_ll_tree(ll + 0.1), _ll_tree(ll), src).set_index("source")
    assert better.loc["TOTAL", "diff"] > 0
    assert better.loc["TOTAL", "elpd_pooled"] == pytest.approx(
        better.drop(index="TOTAL")["elpd_pooled"].sum())
    assert better.loc["KOR", "n_obs"] == 10
    with pytest.raises(SpecificationError, match="same rows"):
        loo_pooled_vs_separate(_ll_tree(ll), _ll_tree(ll[:, :, :20]), src)


def test_per_source_gmm_fits_where_possible_and_explains_where_not(sim):
    f = sim.frame.copy()
    short = f.loc[(f["series"] == "S02") & (f["year"] < f["year"].min() + 3)]
    few = f.loc[(f["series"] == "S03") & f["country"].isin(["C01", "C02", "C03"])]
    panel = pd.concat([f.loc[f["series"] == "KOR"], short, few], ignore_index=True)
    res = per_source_gmm(
        panel, "xtabond2 fdi L.fdi gdp gdppc, gmm(L.fdi, lag(2 4) collapse) "
        "iv(gdp gdppc) twostep robust")
    assert set(res.results) == {"KOR"}
    assert set(res.results["KOR"]["coef"]) >= {"L.fdi", "gdp", "gdppc"}
    assert "3 years" in res.skipped["S02"]
    assert "3 hosts" in res.skipped["S03"]


def test_host_level_history_drops_mundlak_terms_only(sim):
    from bayes_kfdi.multisource.model import host_level_history

    spec = _spec_for(sim)
    md = prepare_data(spec, sim.frame)
    assert np.abs(md.xbar).sum() > 0
    h = host_level_history(md)
    assert not h.xbar.any() and not h.xtrend.any()
    np.testing.assert_array_equal(h.y0, md.y0)  # the y0 conditioning stays
    np.testing.assert_array_equal(h.X, md.X)
    names = set(build_independent(spec, h).named_vars)
    assert "gamma_y0" in names and "delta_xbar_z" not in names


def test_covariate_history_option_is_validated():
    assert spec_from_mapping({"multisource": {}}).covariate_history == "host_effect"
    with pytest.raises(SpecificationError, match="covariate_history"):
        spec_from_mapping({"multisource": {"covariate_history": "country"}})
