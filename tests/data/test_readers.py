"""Readers: every supported format round-trips, mapping and reshaping work."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bayes_kfdi.data import parse_mapping, read_panel, wide_to_long
from bayes_kfdi.exceptions import DataError

FRAME = pd.DataFrame(
    {
        "series": ["textile", "textile", "steel"],
        "country": ["USA", "USA", "CHN"],
        "year": [1990, 1991, 1990],
        "fdi": [1.5, 2.0, 1.0986],
        "gdp": [10.0, None, 11.0],
    }
)


@pytest.mark.parametrize("ext", ["csv", "parquet", "dta", "xlsx"])
def test_formats_round_trip(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"panel.{ext}"
    writer = {
        "csv": lambda p: FRAME.to_csv(p, index=False),
        "parquet": lambda p: FRAME.to_parquet(p, index=False),
        "dta": lambda p: FRAME.to_stata(p, write_index=False),
        "xlsx": lambda p: FRAME.to_excel(p, index=False),
    }[ext]
    writer(path)
    panel = read_panel(path)
    assert panel.nobs == 3
    got = panel.frame.set_index(["series", "country", "year"]).sort_index()
    want = FRAME.set_index(["series", "country", "year"]).sort_index()
    pd.testing.assert_series_equal(got["fdi"], want["fdi"], check_dtype=False)
    assert got["gdp"].isna().sum() == 1


def test_mapping_renames_foreign_columns(tmp_path: Path) -> None:
    path = tmp_path / "foreign.csv"
    FRAME.rename(columns={"series": "sector", "year": "yr"}).to_csv(path, index=False)
    panel = read_panel(path, mapping=parse_mapping(["sector=series", "yr=year"]))
    assert panel.series == ["steel", "textile"]


@pytest.mark.parametrize(
    ("items", "needle"),
    [(["sector"], "OLD=NEW"), (["=series"], "OLD=NEW"), (["a="], "OLD=NEW")],
)
def test_malformed_mapping(items: list[str], needle: str) -> None:
    with pytest.raises(DataError, match=needle):
        parse_mapping(items)


def test_wide_to_long() -> None:
    wide = pd.DataFrame({"country": ["USA"], "year": [2000], "KOR": [1.0], "CHN": [2.0]})
    long = wide_to_long(wide, id_cols=["country", "year"])
    assert sorted(long["series"]) == ["CHN", "KOR"]
    assert long.set_index("series").loc["CHN", "fdi"] == 2.0
    with pytest.raises(DataError, match="id column"):
        wide_to_long(wide, id_cols=["host"])
