# ruff: noqa: E501
from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

from bayes_kfdi.constants import PAPER_SERIES
from bayes_kfdi.data.readers import read_panel
from bayes_kfdi.exceptions import DataError, SpecificationError
from bayes_kfdi.gmm import parse_xtabond2
from bayes_kfdi.gmm.runner import fit_equation
from bayes_kfdi.paper.equations import (
    add_trend_columns,
    equation_frame,
    load_equation,
    load_equations,
)
from bayes_kfdi.resources import data_dir


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


OK = 'name="x"\ntable="table2"\nseries="textile"\ncolumn="t"\ncommand="xtabond2 fdi L.fdi, gmm(L.fdi)"\n'
#: A broken equation file and a word its one-line message must hold.
BAD = {
    "missing_key": ('name = "x"\ntable = "table2"\nseries = "textile"\ncolumn = "t"\n', "neither"),
    "missing_column": (OK.replace('column="t"\n', ""), "missing key(s) column"),
    "bad_table": (OK.replace("table2", "tabel2"), "did you mean 'table2'"),
    "bad_series": (OK.replace('"textile"', '"cars"'), "expected one of"),
    "trend_not_in_command": (OK.replace('command="xtabond2 fdi L.fdi,', 'variant="trend"\ntrend=["wage"]\ncommand="xtabond2 fdi L.fdi wage,'), "wage_trend"),
    "trend_variant_without_terms": ('variant="trend"\n' + OK, "variant = 'trend'"),
    "unknown_key": ("lags=3\n" + OK, "unknown key 'lags'"),
    "misspelled_key": (OK.replace("series=", "serie="), "did you mean 'series'"),
    "number_for_string": (OK.replace('column="t"', "column=3"), "column = 3; expected a string"),
    "string_for_year": ('reference_year="2001"\n' + OK, "expected an integer"),
    "entity_key": ('entity="id"\n' + OK, "entity country"),
    "not_toml": ('name = = "x"\n', "not valid TOML"),
    "cp949": ("# 전자 산업\n".encode("cp949") + OK.encode(), "save it as UTF-8"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_specs_raise_one_line_specification_error(tmp_path, case):
    text, match = BAD[case]
    p = tmp_path / "bad.toml"
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(SpecificationError) as info:
        load_equation(p)
    assert "\n" not in str(info.value) and match in str(info.value), str(info.value)


def _cli(monkeypatch, argv):
    from bayes_kfdi import cli

    monkeypatch.setattr(sys, "argv", ["bayes-kfdi", *argv])
    try:
        cli.main()
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def test_cli_bad_equation_file_exits_2_with_one_line(tmp_path, monkeypatch, capsys):
    p = tmp_path / "bad.toml"
    p.write_text(BAD["misspelled_key"][0])
    out = tmp_path / "res.json"
    code = _cli(monkeypatch, ["gmm", "--data", "korea_semisynthetic", "--spec", str(p),
                              "--json", str(out)])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "did you mean 'series'" in lines[0], err
    assert "Traceback" not in err and not out.exists()


@pytest.mark.parametrize("name", ["electronics", "electronics_trend"])
def test_gmm_spec_on_a_paper_equation_equals_the_paper_run(tmp_path, monkeypatch, name):
    eq = next(e for e in load_equations() if e.name == name)
    out = tmp_path / f"{name}.json"
    monkeypatch.chdir(tmp_path)  # the checkout-relative spec path works from anywhere
    code = _cli(monkeypatch, ["gmm", "--data", "korea_semisynthetic", "--spec",
                              f"models/paper/{name}.toml", "--json", str(out)])
    assert code == 0
    panel = read_panel(data_dir() / "korea_semisynthetic.csv").frame
    fit = fit_equation(equation_frame(panel, eq), eq.command)
    assert json.loads(out.read_text()) == json.loads(json.dumps(fit.result.to_json_dict()))


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
