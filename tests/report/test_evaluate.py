"""Evaluation of hypotheses on the fixture run directory, checked against the raw files."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from bayes_kfdi.exceptions import ProvenanceError
from bayes_kfdi.report.hypothesis import (
    HypothesisSettings,
    evaluate_all,
    load_hypotheses,
    parse_hypotheses,
)
from bayes_kfdi.report.inputs import load_run, slope_draws
from bayes_kfdi.report.tables import wage_effect_table

#: summary.csv is written with full float precision by the fixture.
EXACT = 1e-9


@pytest.fixture(scope="module")
def results(run_dir: Path, hypotheses_path: Path):
    hs = load_hypotheses(hypotheses_path)
    return {r.hypothesis.id: r for r in evaluate_all(hs, load_run(run_dir))}


def _row(results, hid: str, claim: str) -> pd.Series:
    t = results[hid].table
    return t.loc[t["claim"] == claim].iloc[0]


def test_bayes_numbers_trace_to_the_posterior(run_dir: Path, results) -> None:
    tree = xr.open_datatree(run_dir / "posterior.nc", engine="h5netcdf")
    summary = pd.read_csv(run_dir / "summary.csv")
    row = _row(results, "H1", "gdppc < 0 (steel)")
    draws = tree["posterior"]["beta"].sel(series="steel", term="gdppc").values.ravel()
    assert row["p_direction"] == pytest.approx(np.mean(draws < 0), abs=EXACT)
    s = summary[(summary.parameter == "beta") & (summary.series == "steel")
                & (summary.term == "gdppc")].iloc[0]
    assert row["bayes_mean"] == pytest.approx(s["mean"], abs=EXACT)
    assert row["hdi_low"] < row["bayes_mean"] < row["hdi_high"]
    inside = np.mean((draws >= row["hdi_low"]) & (draws <= row["hdi_high"]))
    assert inside == pytest.approx(0.90, abs=0.01)
    assert row["p_rope"] == pytest.approx(np.mean(np.abs(draws) <= 0.05), abs=EXACT)


def test_gmm_numbers_trace_to_the_json(run_dir: Path, results) -> None:
    g = json.loads((run_dir / "gmm" / "textile.json").read_text())
    row = _row(results, "H1", "gdp > 0 (textile)")
    b, se = g["coef"]["gdp"], g["se"]["gdp"]
    assert row["gmm_coef"] == b and row["gmm_se"] == se
    assert row["gmm_p"] == pytest.approx(2 * stats.norm.sf(abs(b / se)))
    assert row["gmm_p_direction"] == pytest.approx(stats.norm.sf(b / se))
    z = stats.norm.ppf(0.95)
    assert row["gmm_ci_low"] == pytest.approx(b - z * se)
    assert row["gmm_equation"] == "textile.json"
    trend = _row(results, "H2", "trend of wage > 0 (electronics_efficiency)")
    assert trend["gmm_equation"] == "electronics_efficiency.trend.json"
    assert trend["gmm_coef_name"] == "wage_trend"


def test_verdicts_and_why_they_disagree(results) -> None:
    h1 = results["H1"]
    assert h1.bayes_verdict == "supported" and h1.gmm_verdict == "inconclusive"
    # supported against inconclusive is "no decision", never disagreement or agreement
    undecided = set(h1.table.loc[h1.table["agree"].isna(), "claim"])
    assert undecided == {"gdp > 0 (textile)", "gdppc < 0 (steel)"}
    assert not (h1.table["agree"] == False).any()  # noqa: E712
    text = " ".join(h1.reasons)
    assert "textile.json (91 for 42 groups)" in text
    assert "textile 62%" in text
    assert "estimand" in text and "pooling" in text
    assert "Bayesian: supported" in h1.text and "GMM: inconclusive" in h1.text
    for hid in ("H2", "H3"):
        assert results[hid].bayes_verdict == results[hid].gmm_verdict == "supported"
        assert results[hid].reasons == ()


def test_joint_probability_is_drawwise(run_dir: Path, results) -> None:
    tree = xr.open_datatree(run_dir / "posterior.nc", engine="h5netcdf")
    b = tree["posterior"]["beta"]
    ok = np.ones(b.sizes["chain"] * b.sizes["draw"], bool)
    for s in ("textile", "steel"):
        ok &= b.sel(series=s, term="gdp").values.ravel() > 0
        ok &= b.sel(series=s, term="gdppc").values.ravel() < 0
    assert results["H1"].joint_probability == pytest.approx(ok.mean(), abs=EXACT)
    assert results["H1"].joint_probability <= results["H1"].table["p_direction"].min()


def test_rope_decision_practically_zero(run_dir: Path) -> None:
    doc = {"hypothesis": [{"id": "Z", "claims": [
        {"series": "textile", "term": "rd", "direction": ">", "rope": [-1.0, 1.0]},
        {"series": "textile", "term": "gdp", "direction": ">"},
    ]}]}
    (r,) = evaluate_all(parse_hypotheses(doc), load_run(run_dir))
    zero, gdp = r.table.iloc[0], r.table.iloc[1]
    assert zero["rope_decision"] == "HDI inside ROPE"
    assert zero["bayes_verdict"] == "practically zero"
    assert gdp["rope_decision"] == "HDI outside ROPE"
    assert zero["gmm_verdict"] == "not available"  # textile.json has no rd coefficient
    # the hypothesis-level verdict rests on the claims GMM could evaluate
    assert r.gmm_verdict == gdp["gmm_verdict"]


def test_trend_from_path_when_no_linear_trend_variable(run_dir: Path, tmp_path: Path) -> None:
    tree = xr.open_datatree(run_dir / "posterior.nc", engine="h5netcdf").load()
    expected = slope_draws(tree, "electronics_efficiency", "wage", "trend")
    post = tree["posterior"].to_dataset().drop_vars("beta_trend")
    tree["posterior"] = xr.DataTree(post)
    # The fixture's paths are exactly linear, so the least-squares slope recovers the trend.
    got = slope_draws(tree, "electronics_efficiency", "wage", "trend")
    np.testing.assert_allclose(got, expected, atol=1e-10)


def test_psense_absent_without_log_prior(tmp_path: Path, hypotheses_path: Path,
                                         make_run_dir) -> None:
    d = make_run_dir(tmp_path / "nolp", with_log_prior=False)
    (r, *_) = evaluate_all(load_hypotheses(hypotheses_path), load_run(d))
    assert r.table["prior_sensitivity"].isna().all()
    assert (r.table["sensitivity_diagnosis"]
            == "not available: posterior.nc has no log_prior group").all()
    assert r.bayes_verdict == "supported"  # the rest of the evaluation is unaffected


def test_psense_values_present_with_log_prior(results) -> None:
    t = results["H1"].table
    assert t["prior_sensitivity"].notna().all() and (t["prior_sensitivity"] >= 0).all()


def test_mismatched_summary_is_a_provenance_error(run_dir: Path, tmp_path: Path) -> None:
    d = tmp_path / "bad"
    shutil.copytree(run_dir, d)
    s = pd.read_csv(d / "summary.csv")
    s.loc[(s.parameter == "beta") & (s.series == "steel") & (s.term == "gdp"), "mean"] += 1.0
    s.to_csv(d / "summary.csv", index=False)
    with pytest.raises(ProvenanceError, match=r"beta\[steel, gdp\]"):
        load_run(d)


def test_gmm_only_run_marks_bayes_unavailable(run_dir: Path, tmp_path: Path,
                                              hypotheses_path: Path) -> None:
    d = tmp_path / "gmmonly"
    shutil.copytree(run_dir / "gmm", d / "gmm")
    (r, *_) = evaluate_all(load_hypotheses(hypotheses_path), load_run(d))
    assert r.bayes_verdict == "not available" and math.isnan(r.joint_probability)
    assert r.gmm_verdict == "inconclusive"


def test_wage_effect_matches_hand_computation(run_dir: Path, hypotheses_path: Path) -> None:
    hs = load_hypotheses(hypotheses_path)
    inputs = load_run(run_dir)
    table, notes = wage_effect_table(inputs, hs.wage_effect, 0.90)
    g = json.loads((run_dir / "gmm" / "electronics_efficiency.trend.json").read_text())
    check = json.loads((run_dir / "data_check.json").read_text())
    k = 2 * check["covariate_sd"]["electronics_efficiency"]["wage"]
    start = table[(table.method == "GMM") & (table.period == "start")].iloc[0]
    ref = check["year_min"]  # the fixture records no trend_reference_year
    est = g["coef"]["wage"] + g["coef"]["wage_trend"] * (check["year_min"] - ref)
    assert start["effect_pct"] == pytest.approx(100 * np.expm1(k * est))
    assert any("assumes it is zero" in n for n in notes)
    assert any("first panel year" in n for n in notes)
    paper = table[table.method == "paper"].set_index("period")["effect_pct"]
    assert paper["start"] == -14 and paper["end"] == -4
    bayes = table[table.method == "Bayes"]
    assert len(bayes) == 2 and (bayes["low_pct"] <= bayes["effect_pct"]).all()


def test_settings_defaults_match_schema_quantiles() -> None:
    assert HypothesisSettings().ci_prob == pytest.approx(0.90)


def test_no_effect_claim_is_judged_by_the_rope(run_dir: Path) -> None:
    doc = {"settings": {"rope_sd": 0.025}, "hypothesis": [{"id": "N", "claims": [
        {"series": "textile", "term": "rd", "direction": "none", "rope": [-1.0, 1.0]},
        {"series": "textile", "term": "gdp", "direction": "none"},
    ]}]}
    (r,) = evaluate_all(parse_hypotheses(doc), load_run(run_dir))
    rd, gdp = r.table.iloc[0], r.table.iloc[1]
    assert rd["rope_low"] == pytest.approx(-1.0) and rd["rope_high"] == pytest.approx(1.0)
    assert rd["rope_decision"] == "HDI inside ROPE" and rd["bayes_verdict"] == "supported"
    assert gdp["rope_low"] == pytest.approx(-0.05)  # 0.025 per sd, covariate sd 0.5
    assert gdp["rope_decision"] == "HDI outside ROPE"
    assert gdp["bayes_verdict"] == "contradicted"


def test_prior_dominated_slope_is_not_identified(run_dir: Path, tmp_path: Path) -> None:
    d = tmp_path / "prior"
    shutil.copytree(run_dir, d)
    s = pd.read_csv(d / "summary.csv")
    s["prior_sd"] = 100 * s["sd"]  # the data narrowed every slope a hundredfold
    hit = (s.parameter == "beta") & (s.series == "textile") & (s.term == "gdp")
    s.loc[hit, "prior_sd"] = 1.2 * s.loc[hit, "sd"]  # ...but not this one
    s.to_csv(d / "summary.csv", index=False)
    r = {x.hypothesis.id: x for x in evaluate_all(
        load_hypotheses(Path(__file__).with_name("fixture_hypotheses.toml")), load_run(d))}
    t = r["H1"].table.set_index("claim")
    assert t.loc["gdp > 0 (textile)", "bayes_verdict"] == "not identified"
    assert t.loc["gdp > 0 (steel)", "bayes_verdict"] == "supported"
    assert r["H1"].bayes_verdict == "not identified"
    assert "not identified" in " ".join(r["H1"].reasons)


def test_two_undecided_verdicts_never_agree(results) -> None:
    for r in results.values():
        t = r.table
        undecided = ~t["bayes_verdict"].isin(["supported", "contradicted"]) | ~t[
            "gmm_verdict"].isin(["supported", "contradicted"])
        assert t.loc[undecided, "agree"].isna().all()
        both = ~undecided
        assert (t.loc[both, "agree"] == (t.loc[both, "bayes_verdict"]
                                         == t.loc[both, "gmm_verdict"])).all()
