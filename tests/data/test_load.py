"""Tests of the shipped-data loaders and the paper tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import bayes_kfdi.data as bkd
from bayes_kfdi.constants import PAPER_SERIES
from bayes_kfdi.data import PanelData, load
from bayes_kfdi.data.load import DATASETS, data_dir
from bayes_kfdi.data.paper import (
    compare_table4,
    format_table4_comparison,
    paper_coefficients,
    table4,
    table_footers,
)
from bayes_kfdi.exceptions import DataError

#: Everything under data/ must stay below this (issue 3 acceptance).
MAX_DATA_BYTES = 15 * 1024 * 1024


def test_load_is_the_function():
    assert callable(bkd.load)
    assert {"load", "simulate_korea", "compare_table4"} <= set(bkd.__all__)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_loads_with_docstring(name):
    frame = load(name)
    assert isinstance(frame, pd.DataFrame) and len(frame) > 0
    fn = bkd.load.__globals__["_LOADERS"][name].__doc__
    assert "Licence" in fn and "rovenance" in fn or "PWT" in fn


def test_panels_validate():
    PanelData(load("korea_semisynthetic"))
    PanelData(load("ofdi_real"))
    host = load("host_covariates")
    assert len(host) == 33 * 27 and not host.duplicated(["country", "year"]).any()


def test_unknown_dataset_message():
    with pytest.raises(DataError, match="expected one of"):
        load("korea")  # type: ignore[arg-type]


def test_shipped_data_size_and_provenance():
    root = data_dir()
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert total < MAX_DATA_BYTES
    prov = (root / "PROVENANCE.md").read_text()
    raw = Path(__file__).resolve().parents[2] / "data" / "raw"  # build inputs, not shipped
    for p in raw.iterdir():
        if p.name != "SOURCE_PROVENANCE.md":
            assert p.name in prov, f"{p.name} is not listed in data/PROVENANCE.md"


def test_paper_tables():
    coefs = paper_coefficients()
    assert len(coefs) == 6 * 10
    assert set(coefs["series"]) == set(PAPER_SERIES)
    c = coefs.set_index(["series", "term"])
    assert c.loc[("electronics", "imunit"), "coef"] == -22.77
    assert c.loc[("electronics_efficiency", "wage"), "se"] == 0.27
    t4 = table4().set_index(["variable", "sector"])
    assert t4.loc[("fdi", "electronics_efficiency"), "mean"] == pytest.approx(1.307649)
    assert t4.loc[("gdp", ""), "obs"] == 630
    assert table_footers().loc["n_obs", "textile"] == 312


def test_compare_table4_flags_miscalibration():
    frame = load("korea_semisynthetic")
    ok = compare_table4(PanelData(frame))
    assert ok.loc[ok["calibrated"], "within_tol"].all()
    shifted = frame.assign(fdi=frame["fdi"] + 1.0)
    bad = compare_table4(PanelData(shifted))
    assert not bad.loc[bad["variable"] == "fdi", "within_tol"].any()
    text = format_table4_comparison(bad)
    assert (text["ok"] == "NO").sum() >= 6
