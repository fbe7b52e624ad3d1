"""Tests of the bilateral OFDI panel (each source's own trade and gravity) and the conduit lists."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_kfdi.data.conduits import (
    CONDUIT_LISTS,
    OFFSHORE_FSF,
    PASS_THROUGH,
    conduit_hosts,
    is_conduit,
)
from bayes_kfdi.resources import data_dir

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data" / "raw"  # build inputs, not shipped
BUILD = ROOT / "data" / "build" / "build_ofdi_bilateral.py"

#: The file is written with 10 significant digits, so derived columns agree to this.
ROUNDING_ATOL = 1e-8

EXPECTED_COLUMNS = [
    "series", "country", "year", "fdi", "gdp", "gdppc", "pop", "wage", "rd", "edu",
    "src_gdppc", "exports", "imports", "dist", "contig", "comlang", "colony", "rta",
    "agtpa_pair", "trade_obs", "conduit", "source_conduit", "flow_sign", "fdi_positive",
    "floor_coded", "flow_musd", "flow_unctad_musd",
]  # fmt: skip


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(data_dir() / "ofdi_bilateral.csv")


@pytest.fixture(scope="module")
def agtpa() -> pd.DataFrame:
    raw = pd.read_csv(RAW / "agtpa_trade_1986_2006.csv.gz")
    return raw.set_index(["exporter", "importer", "year"])


def test_columns_and_keys(panel):
    assert list(panel.columns) == EXPECTED_COLUMNS
    assert not panel.duplicated(["series", "country", "year"]).any()


def test_rows_are_those_of_ofdi_real(panel):
    real = pd.read_csv(data_dir() / "ofdi_real.csv")
    keys = ["series", "country", "year"]
    assert len(panel) == len(real) == 26_933
    pd.testing.assert_frame_equal(panel[keys], real[keys])
    np.testing.assert_allclose(panel["fdi"], real["fdi"], atol=ROUNDING_ATOL)
    assert panel["series"].nunique() == 39 and panel["country"].nunique() == 122


def test_trade_match_counts(panel):
    upto = panel[panel["year"] <= 2006]
    assert len(upto) == 17_418
    assert int(upto["trade_obs"].sum()) == 11_767
    assert upto.loc[upto["trade_obs"], "series"].nunique() == 33
    assert upto.loc[upto["trade_obs"], "country"].nunique() == 57
    assert not panel.loc[panel["year"] > 2006, "trade_obs"].any()
    assert panel.loc[panel["trade_obs"], ["exports", "imports", "rta"]].notna().all().all()
    assert panel.loc[~panel["trade_obs"], ["exports", "imports", "rta"]].isna().all().all()
    assert int(panel["agtpa_pair"].sum()) == 17_465
    gravity = panel.loc[panel["agtpa_pair"], ["dist", "contig", "comlang", "colony"]]
    assert gravity.notna().all().all()
    assert panel.loc[~panel["agtpa_pair"], "dist"].isna().all()


def test_pop_is_gdp_minus_gdppc(panel):
    have = panel["gdp"].notna()
    assert have.sum() > 25_000
    np.testing.assert_allclose(
        panel.loc[have, "pop"], panel.loc[have, "gdp"] - panel.loc[have, "gdppc"],
        atol=ROUNDING_ATOL, rtol=0,
    )  # fmt: skip
    assert panel["pop"].isna().equals(panel["gdp"].isna())


def test_pair_distance_depends_on_the_source(panel, agtpa):
    usa = panel[(panel["country"] == "USA") & panel["agtpa_pair"]]
    per_source = usa.groupby("series")["dist"].agg(["min", "max"])
    assert (per_source["max"] - per_source["min"]).abs().max() < ROUNDING_ATOL
    assert per_source["min"].nunique() == len(per_source) >= 25
    kor = usa.loc[usa["series"] == "KOR", "dist"].iloc[0]
    mex = usa.loc[usa["series"] == "MEX", "dist"].iloc[0]
    assert kor == pytest.approx(math.log(agtpa.loc[("KOR", "USA", 2000), "dist"]))
    assert mex < kor - 1.0  # Mexico is far closer to the US than Korea is
    assert panel.loc[(panel["series"] == "MEX") & (panel["country"] == "USA"), "contig"].eq(1).all()


def test_one_row_equals_raw_agtpa(panel, agtpa):
    row = panel.set_index(["series", "country", "year"]).loc[("KOR", "USA", 2000)]
    exports_musd = agtpa.loc[("KOR", "USA", 2000), "trade"]
    imports_musd = agtpa.loc[("USA", "KOR", 2000), "trade"]
    assert row["exports"] == pytest.approx(math.log(1000 * exports_musd))
    assert row["imports"] == pytest.approx(math.log(1000 * imports_musd))
    assert row["rta"] == agtpa.loc[("KOR", "USA", 2000), "rta"]
    assert row["trade_obs"] and row["agtpa_pair"]


def test_romania_recoded_to_match_agtpa(panel):
    rou = panel[(panel["country"] == "ROU") & (panel["year"] <= 2006)]
    assert rou["trade_obs"].any()


def test_conduits_flagged(panel):
    flagged = set(panel.loc[panel["conduit"], "country"])
    assert flagged == {"CHE", "CRI", "IRL", "LUX", "MUS", "NLD", "SYC"}
    assert panel["conduit"].equals(is_conduit(panel["country"]))
    assert set(panel.loc[panel["source_conduit"], "series"]) == {"CHE", "IRL", "LUX", "NLD"}
    assert not panel.loc[panel["country"].isin(["USA", "DEU", "CHN", "BEL"]), "conduit"].any()


def test_disinvestment_is_not_floor_coded_with_small_positives(panel):
    sign = panel["flow_sign"]
    assert set(sign) == {"negative", "zero", "below_floor", "positive"}
    assert (sign == "negative").equals(panel["flow_musd"] < 0)
    assert (sign == "zero").equals(panel["flow_musd"] == 0)
    small = (panel["flow_musd"] > 0) & (1000 * panel["flow_musd"] < 3)
    assert (sign == "below_floor").equals(small)
    assert panel["floor_coded"].equals(sign != "positive")
    positive = panel["flow_musd"] > 0
    assert panel.loc[~positive, "fdi_positive"].isna().all()
    np.testing.assert_allclose(
        panel.loc[positive, "fdi_positive"], np.log(1000 * panel.loc[positive, "flow_musd"]),
        atol=ROUNDING_ATOL,
    )  # fmt: skip
    assert (sign == "negative").mean() == pytest.approx(0.212, abs=0.001)


def test_conduit_lists_are_cited_data():
    for lst in CONDUIT_LISTS.values():
        assert lst.reason and lst.source and len(set(lst.hosts)) == len(lst.hosts)
        assert all(len(h) == 3 and h.isupper() for h in lst.hosts)
    assert len(PASS_THROUGH.hosts) == 10 and "Damgaard" in PASS_THROUGH.source
    assert len(OFFSHORE_FSF.hosts) == 41  # the FSF's 42 less Labuan, part of Malaysia
    assert conduit_hosts(["pass_through"]) == frozenset(PASS_THROUGH.hosts)
    assert "BEL" not in conduit_hosts() and "BEL" in conduit_hosts(extra=["bel"])
    with pytest.raises(ValueError, match="expected names from"):
        conduit_hosts(["tax_havens"])


def test_rebuild_is_identical(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("build_ofdi_bilateral", BUILD)
    assert spec is not None and spec.loader is not None
    monkeypatch.syspath_prepend(str(BUILD.parent))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / module.OUT_NAME
    module.write_csv(out, module.build(), float_format=module.FLOAT_FORMAT)
    assert out.read_bytes() == (data_dir() / module.OUT_NAME).read_bytes()
