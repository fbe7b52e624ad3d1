"""PanelData: gap-aware operators, reports and validation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayes_kfdi.data import PanelData
from bayes_kfdi.exceptions import DataError

# Hand-computed expectations are exact sums of a few doubles.
EXACT = 1e-12


@pytest.fixture
def gapped() -> PanelData:
    """Two units; textile/USA has years 1990, 1991, 1993, 1994 (1992 missing)."""
    rows = [
        ("textile", "USA", 1990, 1.0),
        ("textile", "USA", 1991, 3.0),
        ("textile", "USA", 1993, 4.0),
        ("textile", "USA", 1994, 8.0),
        ("steel", "USA", 1991, 2.0),
        ("steel", "USA", 1992, np.nan),
        ("steel", "USA", 1993, 5.0),
    ]
    frame = pd.DataFrame(rows, columns=["series", "country", "year", "fdi"])
    # shuffled on purpose: operators must not depend on row order
    return PanelData(frame.sample(frac=1.0, random_state=3))


def _get(series: pd.Series, s: str, t: int) -> float:
    return float(series.loc[(s, "USA", t)])


def test_lag_respects_gaps(gapped: PanelData) -> None:
    lag = gapped.lag("fdi")
    assert math.isnan(_get(lag, "textile", 1990))
    assert _get(lag, "textile", 1991) == 1.0
    assert math.isnan(_get(lag, "textile", 1993))  # 1992 absent: not the previous row
    assert _get(lag, "textile", 1994) == 4.0
    assert math.isnan(_get(lag, "steel", 1993))  # 1992 present but missing
    lag2 = gapped.lag("fdi", 2)
    assert _get(lag2, "textile", 1993) == 3.0
    assert math.isnan(_get(lag2, "textile", 1994))


def test_lead_and_diff(gapped: PanelData) -> None:
    lead = gapped.lead("fdi")
    assert _get(lead, "textile", 1990) == 3.0
    assert math.isnan(_get(lead, "textile", 1991))
    assert _get(lead, "textile", 1993) == 8.0
    d = gapped.diff("fdi")
    assert _get(d, "textile", 1991) == 2.0
    assert math.isnan(_get(d, "textile", 1993))
    assert _get(d, "textile", 1994) == 4.0


def test_forward_orthogonal_deviation_by_hand(gapped: PanelData) -> None:
    fod = gapped.fod("fdi")
    # textile: values 1, 3, 4, 8 (gap in 1992 does not break the transform)
    assert abs(_get(fod, "textile", 1990) - math.sqrt(3 / 4) * (1 - 5.0)) < EXACT
    assert abs(_get(fod, "textile", 1991) - math.sqrt(2 / 3) * (3 - 6.0)) < EXACT
    assert abs(_get(fod, "textile", 1993) - math.sqrt(1 / 2) * (4 - 8.0)) < EXACT
    assert math.isnan(_get(fod, "textile", 1994))
    # steel: 2, NaN, 5: the missing year is skipped among later values
    assert abs(_get(fod, "steel", 1991) - math.sqrt(1 / 2) * (2 - 5.0)) < EXACT
    assert math.isnan(_get(fod, "steel", 1992))
    assert math.isnan(_get(fod, "steel", 1993))


def test_fod_preserves_sum_of_squares_on_balanced_unit() -> None:
    # For iid errors FOD is an orthonormal transform of the demeaned data (T-1 rows).
    x = np.array([2.0, -1.0, 4.0, 0.5, 3.0])
    frame = pd.DataFrame(
        {"series": "s", "country": "c", "year": np.arange(2000, 2005), "fdi": x}
    )
    fod = PanelData(frame).fod("fdi").dropna().to_numpy()
    assert fod.size == 4
    assert abs((fod**2).sum() - ((x - x.mean()) ** 2).sum()) < 1e-10


def test_balance_and_missingness(gapped: PanelData) -> None:
    bal = gapped.balance().set_index("series")
    assert bal.loc["textile", "n_gaps"] == 1
    assert bal.loc["steel", "n_gaps"] == 0
    assert not bal["balanced"].any()
    miss = gapped.missingness().set_index("variable")
    assert miss.loc["fdi", "obs"] == 6
    assert miss.loc["fdi", "missing"] == 1


def test_describe_table4_layout() -> None:
    rows = []
    for s, shift in [("textile", 0.0), ("electronics", 10.0), ("electronics_market", 20.0)]:
        for c, g in [("USA", 10.0), ("CHN", 12.0)]:
            for y in (2000, 2001):
                rows.append(
                    dict(series=s, country=c, year=y, fdi=shift + (y - 2000),
                         gdp=g + (y - 2000), exports=shift + g)
                )
    desc = PanelData(pd.DataFrame(rows)).describe().set_index(["variable", "sector"])
    assert list(desc.columns) == ["obs", "mean", "sd", "min", "max"]
    # outcome per series
    assert desc.loc[("fdi", "electronics"), "obs"] == 4
    assert desc.loc[("fdi", "electronics"), "mean"] == 10.5
    # host covariate once per country-year, not once per series
    assert desc.loc[("gdp", ""), "obs"] == 4
    assert desc.loc[("gdp", ""), "mean"] == 11.5
    assert abs(desc.loc[("gdp", ""), "sd"] - np.std([10, 11, 12, 13], ddof=1)) < EXACT
    # trade per sector only: the motive series carries electronics trade
    assert ("exports", "electronics_market") not in desc.index
    assert desc.loc[("exports", "textile"), "min"] == 10.0


def test_extra_columns_are_kept() -> None:
    frame = pd.DataFrame(
        {"series": ["a"], "country": ["X"], "year": [2000], "fdi": [1.0], "note": ["n"]}
    )
    assert "note" in PanelData(frame).columns


def test_generic_entity_layout() -> None:
    frame = pd.DataFrame({"id": [1, 1, 2], "t": [1, 2, 1], "n": [1.0, 2.0, 3.0]})
    panel = PanelData(frame, entity="id", time="t")
    assert panel.lag("n").isna().tolist() == [True, False, True]


@pytest.mark.parametrize(
    ("frame", "needle"),
    [
        (pd.DataFrame(), "empty"),
        (pd.DataFrame({"series": ["a"], "country": ["X"], "year": [2000]}), "fdi"),
        (
            pd.DataFrame({"series": ["a"], "country": ["X"], "year": [2000], "fdi": [np.inf]}),
            "infinite",
        ),
    ],
)
def test_python_api_validation(frame: pd.DataFrame, needle: str) -> None:
    with pytest.raises(DataError, match=needle):
        PanelData(frame)


def test_unknown_variable_names_choices(gapped: PanelData) -> None:
    with pytest.raises(DataError, match="unknown variable 'gpd'"):
        gapped.lag("gpd")


# ---------------------------------------------------------------- properties
@st.composite
def unbalanced_panels(draw: st.DrawFn) -> pd.DataFrame:
    n_units = draw(st.integers(1, 4))
    rows = []
    for u in range(n_units):
        years = draw(st.sets(st.integers(1990, 2005), min_size=1, max_size=10))
        for y in years:
            v = draw(st.one_of(st.none(), st.floats(-50, 50, allow_nan=False)))
            rows.append(("s", f"C{u}", y, np.nan if v is None else v))
    return pd.DataFrame(rows, columns=["series", "country", "year", "fdi"])


@settings(max_examples=60, deadline=None)
@given(unbalanced_panels(), st.randoms(use_true_random=False))
def test_diff_is_x_minus_lag_and_order_free(frame: pd.DataFrame, rnd) -> None:
    panel = PanelData(frame)
    x = panel.frame.set_index(["series", "country", "year"])["fdi"]
    d, lag = panel.diff("fdi"), panel.lag("fdi")
    both = x.notna().to_numpy() & lag.notna().to_numpy()
    np.testing.assert_allclose(d.to_numpy()[both], (x.to_numpy() - lag.to_numpy())[both])
    assert d.isna().to_numpy()[~both].all()
    # lag of x at t equals x at t-1 whenever that year exists
    for (s, c, t), value in lag.dropna().items():
        assert x.loc[(s, c, t - 1)] == value
    shuffled = frame.sample(frac=1.0, random_state=rnd.randint(0, 10_000))
    other = PanelData(shuffled)
    for op in ("lag", "lead", "diff", "fod"):
        pd.testing.assert_series_equal(getattr(panel, op)("fdi"), getattr(other, op)("fdi"))


@settings(max_examples=40, deadline=None)
@given(unbalanced_panels())
def test_lead_inverts_lag(frame: pd.DataFrame) -> None:
    panel = PanelData(frame)
    lead = panel.lead("fdi")
    x = panel.frame.set_index(["series", "country", "year"])["fdi"]
    for (s, c, t), value in lead.dropna().items():
        assert x.loc[(s, c, t + 1)] == value
