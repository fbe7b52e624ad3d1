from __future__ import annotations

import math

import numpy as np
import pytest

from bayes_kfdi.paper.equations import PaperEquation
from bayes_kfdi.paper.tables import (
    COLUMNS,
    EquationRun,
    PaperRun,
    attenuation,
    build_table,
    read_truth,
    recovery,
    stars,
    truth_value,
)

TRUTH = {
    "reference_year": 2001,
    "rho": {"textile": 0.55},
    "beta": {"textile": {"gdp": 1.32, "wage": -1.12, "imunit": 0.01}},
    "beta_trend": {"textile": {"wage": 0.01, "imunit": -0.002}},
}


@pytest.mark.parametrize(
    ("p", "mark"),
    [
        (0.001, "***"),
        (0.0099, "***"),
        (0.03, "**"),
        (0.07, "*"),
        (0.1, ""),
        (0.5, ""),
        (math.nan, ""),
    ],
)
def test_stars_follow_the_papers_levels(p, mark):
    assert stars(p) == mark


def test_truth_value_rho_slopes_trends_and_constant():
    assert truth_value(TRUTH, "textile", "L.fdi", 2001) == 0.55
    assert truth_value(TRUTH, "textile", "gdp", 2001) == 1.32
    # a trend equation centred elsewhere: the slope in its own reference year
    assert truth_value(TRUTH, "textile", "wage", 2011) == pytest.approx(-1.12 + 0.01 * 10)
    assert truth_value(TRUTH, "textile", "wage_trend", 2001) == 0.01
    assert truth_value(TRUTH, "textile", "gdp_trend", 2001) == 0.0
    assert math.isnan(truth_value(TRUTH, "textile", "_cons", 2001))
    assert math.isnan(truth_value(None, "textile", "gdp", 2001))


def _run(fake_result):
    eq = PaperEquation(
        name="textile",
        table="table2",
        series="textile",
        column="textile",
        command="xtabond2 fdi L.fdi gdp, gmm(L.fdi) iv(gdp) twostep robust",
    )
    res = fake_result(
        ["L.fdi", "gdp", "wage", "imunit", "_cons"],
        [0.5, 1.0, -1.0, 0.02, 3.0],
        [0.1, 0.1, 0.5, 0.01, 2.0],
    )
    failed = EquationRun(
        PaperEquation(
            name="steel",
            table="table2",
            series="steel",
            column="steel",
            command="xtabond2 fdi L.fdi, gmm(L.fdi)",
        ),
        None,
        "boom",
    )
    return PaperRun(runs={"textile": EquationRun(eq, res), "steel": failed}, truth=TRUTH)


def test_build_table_joins_estimates_paper_and_truth(fake_result):
    t = build_table(_run(fake_result), "table2")
    assert list(t.columns[: len(COLUMNS)]) == list(COLUMNS)
    row = t[(t.series == "textile") & (t.variable == "gdp")].iloc[0]
    assert (row.coef, row.se) == (1.0, pytest.approx(0.1))
    assert (row.paper_coef, row.paper_se, row.paper_stars) == (1.32, 0.27, "***")
    assert row.truth == 1.32
    assert row.stars == "***"  # z = 10
    foot = t[(t.series == "textile") & (t.kind == "footer")].set_index("variable")
    assert list(foot.index) == ["obs", "groups", "AR(1)", "AR(2)", "Hansen", "instruments"]
    assert foot.loc["AR(2)", "coef"] == 0.4 and foot.loc["AR(2)", "se"] == 0.69
    assert foot.loc["AR(2)", "paper_coef"] == -1.729 and foot.loc["AR(2)", "paper_se"] == 0.084
    assert foot.loc["instruments", "paper_coef"] == 108
    # a failed equation keeps its footer rows, all NaN, so the table shows the gap
    steel = t[t.series == "steel"]
    assert set(steel.kind) == {"footer"} and steel.coef.isna().all()


def test_recovery_and_attenuation_by_hand(fake_result):
    t = build_table(_run(fake_result), "table2")
    rec = recovery(t)
    assert set(rec.variable) == {"gdp", "wage", "imunit"}
    z = rec.set_index("variable")["z"]
    assert z["gdp"] == pytest.approx((1.0 - 1.32) / 0.1)
    assert z["imunit"] == pytest.approx((0.02 - 0.01) / 0.01)
    att = attenuation(t).iloc[0]
    tr, co = np.array([1.32, -1.12, 0.01]), np.array([1.0, -1.0, 0.02])
    assert att.slope == pytest.approx(tr @ co / (tr @ tr))
    assert att.median_ratio == pytest.approx(np.median([1.0 / 1.32, -1.0 / -1.12]))
    assert att.share_within_2se == pytest.approx(2 / 3)
    assert (att.rho_hat, att.rho_true) == (0.5, 0.55)


def test_read_truth_beside_the_data(tmp_path):
    (tmp_path / "p.csv").write_text("x\n")
    assert read_truth(tmp_path / "p.csv") is None
    (tmp_path / "p.truth.json").write_text('{"rho": {"a": 0.5}}')
    assert read_truth(tmp_path / "p.csv") == {"rho": {"a": 0.5}}
