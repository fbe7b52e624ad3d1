# ruff: noqa: E501
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_kfdi.constants import PAPER_SERIES
from bayes_kfdi.exceptions import DataError, SpecificationError
from bayes_kfdi.gmm import parse_xtabond2
from bayes_kfdi.paper.equations import (
    add_trend_columns,
    equation_frame,
    load_equation,
    load_equations,
)


def test_shipped_specs_cover_both_tables_and_trend_variants():
    eqs = load_equations()
    base = [e for e in eqs if e.variant == "baseline"]
    trend = [e for e in eqs if e.variant == "trend"]
    assert [e.series for e in base] == list(PAPER_SERIES)
    assert sorted(e.series for e in trend) == sorted(PAPER_SERIES)
    assert {e.table for e in base if e.series in ("textile", "steel", "electronics")} == {"table2"}
    targets = {e.series: e.target_instruments for e in base}
    assert targets == {
        "textile": 108,
        "steel": 141,
        "electronics": 206,
        "electronics_market": 91,
        "electronics_technology": 112,
        "electronics_efficiency": 95,
    }
    eff = next(e for e in trend if e.series == "electronics_efficiency")
    assert "wage" in eff.trend
    assert any("gdp" in e.trend for e in trend if e.series == "electronics_market")
    assert all("imunit" in e.trend for e in trend)


@pytest.mark.parametrize("eq", load_equations(), ids=lambda e: e.name)
def test_every_command_parses_as_twostep_robust_system_gmm(eq):
    cols = [
        "country",
        "year",
        "fdi",
        "gdp",
        "gdppc",
        "wage",
        "rd",
        "edu",
        "exports",
        "exunit",
        "imports",
        "imunit",
        *eq.trend_columns,
    ]
    cmd = parse_xtabond2(eq.command, cols)
    assert cmd.twostep and cmd.robust
    assert cmd.system and cmd.has_constant
    gmm_vars = {t.var for g in cmd.gmm for t in g.terms}
    iv_vars = {t.var for g in cmd.iv for t in g.terms}
    assert {"exports", "exunit", "imports", "imunit"} <= gmm_vars
    assert {"gdp", "gdppc", "wage", "rd", "edu"} <= iv_vars
    assert not ({"gdp", "gdppc", "wage", "rd", "edu"} & gmm_vars)


BAD = {
    "missing_key": 'name = "x"\ntable = "table2"\nseries = "textile"\ncolumn = "t"\n',
    "bad_table": 'name="x"\ntable="table9"\nseries="textile"\ncolumn="t"\ncommand="xtabond2 fdi L.fdi, gmm(L.fdi)"\n',
    "bad_series": 'name="x"\ntable="table2"\nseries="cars"\ncolumn="t"\ncommand="xtabond2 fdi L.fdi, gmm(L.fdi)"\n',
    "trend_not_in_command": 'name="x"\ntable="table2"\nseries="textile"\ncolumn="t"\nvariant="trend"\ntrend=["wage"]\ncommand="xtabond2 fdi L.fdi wage, gmm(L.fdi)"\n',
    "trend_variant_without_terms": 'name="x"\ntable="table2"\nseries="textile"\ncolumn="t"\nvariant="trend"\ncommand="xtabond2 fdi L.fdi, gmm(L.fdi)"\n',
    "unknown_key": 'name="x"\ntable="table2"\nseries="textile"\ncolumn="t"\nlags=3\ncommand="xtabond2 fdi L.fdi, gmm(L.fdi)"\n',
    "not_toml": 'name = = "x"\n',
}


@pytest.mark.parametrize("text", list(BAD.values()), ids=list(BAD))
def test_bad_specs_raise_specification_error(tmp_path, text):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(SpecificationError):
        load_equation(p)


def test_trend_columns_are_centred_products():
    df = pd.DataFrame(
        {"series": "textile", "country": "A", "year": [1988, 2001, 2014], "wage": [1.0, 2.0, 3.0]}
    )
    out = add_trend_columns(df, ["wage"], 2001)
    np.testing.assert_allclose(out["wage_trend"], [1.0 * -13, 0.0, 3.0 * 13])
    assert "wage_trend" not in df.columns
    with pytest.raises(DataError, match="gdp"):
        add_trend_columns(df, ["gdp"], 2001)


def test_equation_frame_needs_the_series():
    eq = next(e for e in load_equations() if e.name == "textile")
    with pytest.raises(DataError, match="textile"):
        equation_frame(pd.DataFrame({"series": ["steel"], "country": ["A"], "year": [2000]}), eq)
