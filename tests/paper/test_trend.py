from __future__ import annotations

import math

import numpy as np
import pytest

from bayes_kfdi.exceptions import EstimationError
from bayes_kfdi.paper.trend import two_sd_effect


def test_two_sd_effect_matches_hand_and_numerical_delta_method(fake_result):
    cov = np.array([[0.04, -0.001], [-0.001, 0.0001]])
    res = fake_result(
        ["wage", "wage_trend", "_cons"],
        [-0.12, 0.004, 1.0],
        None,
        cov=np.pad(cov, ((0, 1), (0, 1))) + np.diag([0, 0, 1.0]),
    )
    sd = 0.38
    eff = two_sd_effect(
        res,
        term="wage",
        series="s",
        sd=sd,
        years=(1988, 2014),
        reference_year=2001,
        paper=(-0.14, -0.04),
    )
    t = eff.table.set_index("year")
    for year in (1988, 2014):
        slope = -0.12 + 0.004 * (year - 2001)
        assert t.loc[year, "effect"] == pytest.approx(math.expm1(2 * sd * slope))
        # numerical gradient of the effect wrt (b, g)
        f = lambda b, g, year=year: math.expm1(2 * sd * (b + g * (year - 2001)))  # noqa: E731
        h = 1e-6
        grad = np.array(
            [
                (f(-0.12 + h, 0.004) - f(-0.12 - h, 0.004)) / (2 * h),
                (f(-0.12, 0.004 + h) - f(-0.12, 0.004 - h)) / (2 * h),
            ]
        )
        assert t.loc[year, "effect_se"] == pytest.approx(math.sqrt(grad @ cov @ grad), rel=1e-6)
        assert t.loc[year, "lower"] < t.loc[year, "effect"] < t.loc[year, "upper"]
    assert t.loc[1988, "paper"] == -0.14


def test_two_sd_effect_truth_and_errors(fake_result):
    res = fake_result(["wage", "wage_trend"], [-0.1, 0.0], [0.1, 0.01])
    truth = {
        "reference_year": 2001,
        "beta": {"s": {"wage": -0.72}},
        "beta_trend": {"s": {"wage": 0.0056}},
    }
    eff = two_sd_effect(
        res, term="wage", series="s", sd=0.38, years=(1988,), reference_year=2001, truth=truth
    )
    assert eff.table.truth.iloc[0] == pytest.approx(math.expm1(0.76 * (-0.72 - 0.0056 * 13)))
    with pytest.raises(EstimationError, match="gdp_trend"):
        two_sd_effect(res, term="gdp", series="s", sd=1.0, years=(1988,), reference_year=2001)
    with pytest.raises(EstimationError, match="sd="):
        two_sd_effect(res, term="wage", series="s", sd=0.0, years=(1988,), reference_year=2001)


def test_log_scale_interval_stays_above_minus_one(fake_result):
    res = fake_result(["wage", "wage_trend"], [-4.0, 0.0], [5.0, 0.1])
    t = two_sd_effect(
        res, term="wage", series="s", sd=0.38, years=(1988,), reference_year=2001
    ).table
    assert t.lower_log.iloc[0] > -1 and t.upper_log.iloc[0] > t.effect.iloc[0]
    assert t.lower_log.iloc[0] == pytest.approx(
        math.expm1(0.76 * (-4.0 - 1.959964 * math.sqrt(25 + 169 * 0.01))), rel=1e-5
    )
