"""Stata habits: if qualifiers, factor variables, canonical panel keys, duplicate columns."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from bayes_kfdi.data.readers import read_table
from bayes_kfdi.exceptions import DataError, SpecificationError
from bayes_kfdi.gmm import panel_keys, parse_xtabond2, xtabond2
from bayes_kfdi.gmm.qualifier import parse_condition

SMALL = pd.DataFrame({
    "x": [1.0, 5.0, np.nan, 10.0],
    "s": ["a", "b", None, "electronics"],
    "year": [1989, 1990, 1991, 1992],
})


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("x > 4", [False, True, True, True]),  # Stata: missing is larger than any number
        ("x > 4 & !missing(x)", [False, True, False, True]),
        ("x == .", [False, False, True, False]),
        ('s == "electronics" | year < 1990', [True, False, False, True]),
        ('s == ""', [False, False, True, False]),
        ("year >= 1990 & x < 6 | year == 1992", [False, True, False, True]),
        ("!(year >= 1990)", [True, False, False, False]),
        ("~(year ~= 1990)", [False, True, False, False]),
        ("inlist(year, 1989, 1992)", [True, False, False, True]),
        ('inlist(s, "a", "b")', [True, True, False, False]),
        ("inrange(year, 1990, 1991)", [False, True, True, False]),
        ("x", [True, True, True, True]),  # non-zero (missing counts) is true
        ("year > -1", [True, True, True, True]),
        ('s == "a,b"', [False, False, False, False]),
    ],
)
def test_if_semantics_follow_stata(expr: str, expected: list[bool]) -> None:
    cond = parse_condition(expr, list(SMALL.columns))
    assert cond.mask(SMALL).tolist() == expected


@pytest.mark.parametrize(("expr", "text"), [
    ("x >", "expected a value"),
    ("x > 1 y", "unexpected 'y'"),
    ("x * 2 > 1", "Arithmetic '*'"),
    ("z > 1", "Unknown variable 'z'"),
    ("log(x) > 1", "log()"),
    ("inrange(x, 1)", "inrange()"),
    ("(x > 1", "')'"),
])
def test_if_errors_name_the_problem(expr: str, text: str) -> None:
    with pytest.raises(SpecificationError) as err:
        parse_condition(expr, list(SMALL.columns))
    assert text in str(err.value)


def test_text_column_as_condition_is_refused() -> None:
    with pytest.raises(DataError, match="text column"):
        parse_condition("s", list(SMALL.columns)).mask(SMALL)


def test_if_with_a_quoted_comma_and_string_column(abdata) -> None:  # noqa: ANN001
    df = abdata.assign(sector=np.where(abdata["ind"] <= 4, "a,b", "c"))
    cmd = 'xtabond2 n L.n w k if sector == "a,b", gmm(L.n) iv(w k) twostep robust'
    c = parse_xtabond2(cmd, list(df.columns))
    assert c.condition is not None and c.condition.text == 'sector == "a,b"'
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        marked = xtabond2(df, cmd, entity="id", time="year")
        subset = xtabond2(df[df["sector"] == "a,b"], cmd.replace(' if sector == "a,b"', ""),
                          entity="id", time="year")
    np.testing.assert_allclose(marked.params, subset.params, rtol=1e-10)


def test_factor_variants(abdata) -> None:  # noqa: ANN001
    cols = list(abdata.columns)

    def names(text: str) -> list[str]:
        return [t.name for t in parse_xtabond2(f"n {text}", cols, data=abdata).regressors]

    years = [f"{y}.year" for y in range(1976, 1985)]
    assert names("i.year") == years[1:]
    assert names("ib1980.year") == [y for y in years if y != "1980.year"]
    assert names("ib(last).year") == years[:-1]
    assert names("ibn.year") == years
    assert names("i(1976 1980/1981).year") == ["1980.year", "1981.year"]
    assert names("i(1978(2)1982).year") == ["1978.year", "1980.year", "1982.year"]
    assert names("c.w i.(ind)")[0] == "w" and names("i.ind")[0] == "2.ind"
    c = parse_xtabond2("n L.n i.year, gmm(L.n) iv(i.year)", cols, data=abdata)
    assert [d.column for d in c.factors] == years[1:]
    assert [t.name for t in c.iv[0].terms] == years[1:]


def test_factor_on_a_text_column(abdata) -> None:  # noqa: ANN001
    df = abdata.assign(size=np.where(abdata["k"] > 0, "big", "small"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = xtabond2(df, "xtabond2 n L.n w i.size, gmm(L.n) iv(w i.size)", entity="id",
                        time="year")
        num = xtabond2(df.assign(small=(df["size"] == "small").astype(float)),
                       "xtabond2 n L.n w small, gmm(L.n) iv(w small)", entity="id",
                       time="year")
    assert list(text.params.index) == ["L.n", "w", "small.size", "_cons"]
    np.testing.assert_allclose(text.params.to_numpy(), num.params.to_numpy(), rtol=1e-10)


def test_panel_keys_defaults() -> None:
    one = pd.DataFrame({"series": ["a", "a"], "country": ["x", "y"], "year": [1, 1]})
    two = pd.DataFrame({"series": ["a", "b"], "country": ["x", "x"], "year": [1, 1]})
    assert panel_keys(one) == ("country", "year")
    assert panel_keys(two) == (["series", "country"], "year")
    assert panel_keys(two, "series, country", "year") == (["series", "country"], "year")
    assert panel_keys(two, ["country"]) == ("country", "year")
    other = pd.DataFrame({"id": [1], "t": [1]})
    with pytest.raises(DataError, match="--entity COL"):
        panel_keys(other, time="t")
    with pytest.raises(DataError, match="--time COL"):
        panel_keys(other, entity="id")
    with pytest.raises(DataError, match=r"\['firm'\]"):
        panel_keys(other, "firm", "t")
    assert panel_keys(other, "id", "t") == ("id", "t")


def test_csv_with_duplicate_column_names_is_refused(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "dup.csv"
    path.write_text("country,year,gdp,fdi,gdp\nk,1990,1,2,3\n")
    with pytest.raises(DataError) as err:
        read_table(path)
    msg = str(err.value)
    assert "two columns named 'gdp'" in msg and "columns 3 and 5" in msg and "\n" not in msg


def test_cli_duplicate_columns_one_line(tmp_path, monkeypatch, capsys) -> None:  # noqa: ANN001
    from bayes_kfdi import cli

    path = tmp_path / "dup.csv"
    path.write_text("id,year,n,n\n1,1990,1,2\n")
    monkeypatch.setattr(sys, "argv", ["bayes-kfdi", "gmm", "--data", str(path), "--entity",
                                      "id", "--time", "year", "--cmd", "n L.n, gmm(L.n)"])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert stop.value.code == 2 and len(err) == 1 and "two columns named 'n'" in err[0]
