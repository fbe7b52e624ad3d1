"""Bad commands and bad panels: clear errors or documented warnings, never a silent number.

Each case runs through the Python API (exception type and message) and through the CLI
(exit 2, exactly one stderr line, no traceback, no JSON written).
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_kfdi.exceptions import (
    DataError,
    IdentificationError,
    InstrumentProliferationWarning,
    SingularMatrixWarning,
    SpecificationError,
)
from bayes_kfdi.gmm import xtabond2

ROOT = Path(__file__).resolve().parents[2]
OK = "xtabond2 n L.n w k, gmm(L.n) iv(w k) twostep robust"


def _ab(df: pd.DataFrame) -> pd.DataFrame:
    return df.copy()


def _short(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["year"] <= 1977].copy()


def _one_group(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["id"] == 1].copy()


def _dup_keys(df: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([df, df.head(3)])


def _text_time(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(year="y" + df["year"].astype(str))


def _missing_time(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(year=df["year"].where(df.index != 5))


def _allnan_inst(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(z=np.nan)


def _allnan_dep(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(n=np.nan)


def _text_var(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(w=df["w"].astype(object).where(df.index != 3, "abc"))


def _nonint_time(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(year=df["year"] + 0.5 * (df.index == 7))


def _nonint_factor(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(k=df["k"] + 0.25)


def _no_entity_col(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns="id")


# (id, data transform, command, expected exception, text expected in the message)
BAD: list[tuple[str, Callable[[pd.DataFrame], pd.DataFrame], str, type, str]] = [
    ("unknown_variable", _ab, "xtabond2 n L.n zz, gmm(L.n)", SpecificationError, "zz"),
    ("reversed_lag_range", _ab, "xtabond2 n L.n, gmm(L.n, lag(4 2))", SpecificationError,
     "Reversed lag range"),
    ("reversed_operator_range", _ab, "xtabond2 n L(2/1).n, gmm(L.n)", SpecificationError,
     "Reversed operator range"),
    ("reversed_var_range", _ab, "xtabond2 n L.n yr1984-yr1980, gmm(L.n)", SpecificationError,
     "Reversed variable range"),
    ("unknown_option", _ab, "xtabond2 n L.n, gmm(L.n) frobnicate", SpecificationError,
     "frobnicate"),
    ("unknown_suboption", _ab, "xtabond2 n L.n, gmm(L.n, frob)", SpecificationError, "frob"),
    ("unbalanced_open", _ab, "xtabond2 n L.n, gmm(L.n", SpecificationError, "Unbalanced"),
    ("unbalanced_close", _ab, "xtabond2 n L.n), gmm(L.n)", SpecificationError, "Unbalanced"),
    ("laglimits_one_arg", _ab, "xtabond2 n L.n, gmm(L.n, lag(2))", SpecificationError,
     "two arguments"),
    ("bad_equation", _ab, "xtabond2 n L.n, gmm(L.n, eq(up))", SpecificationError, "up"),
    ("flag_with_argument", _ab, "xtabond2 n L.n, gmm(L.n) robust(1)", SpecificationError,
     "robust(1)"),
    ("empty_command", _ab, "   ", SpecificationError, "Empty command"),
    ("wildcard_no_match", _ab, "xtabond2 n L.n q*, gmm(L.n)", SpecificationError, "q*"),
    ("passthru_both_system", _ab, "xtabond2 n L.n, gmm(L.n, passthru)", SpecificationError,
     "passthru"),
    ("bad_operator", _ab, "xtabond2 n S.n, gmm(L.n)", SpecificationError, "S.n"),
    ("two_commas", _ab, "xtabond2 n L.n, gmm(L.n), robust", SpecificationError, "commas"),
    ("T_below_3", _short, OK, DataError, "at least 3"),
    ("single_group", _one_group, OK, DataError, "at least 2"),
    ("duplicate_keys", _dup_keys, OK, DataError, "Duplicate"),
    ("text_time", _text_time, OK, DataError, "not numeric"),
    ("missing_time", _missing_time, OK, DataError, "missing values"),
    ("noninteger_time", _nonint_time, OK, DataError, "non-integer"),
    ("text_variable", _text_var, OK, DataError, "non-numeric"),
    ("no_entity_column", _no_entity_col, OK, DataError, "not in the data"),
    ("all_missing_iv_instrument", _allnan_inst, "xtabond2 n L.n w, gmm(L.n) iv(z)", DataError,
     "Variable 'z' named in the command has no non-missing value"),
    ("all_missing_gmm_instrument", _allnan_inst, "xtabond2 n L.n w, gmm(z) nolevel",
     DataError, "Variable 'z' named in the command has no non-missing value"),
    ("all_missing_outcome", _allnan_dep, OK, DataError,
     "Variable 'n' named in the command has no non-missing value"),
    ("if_selects_nothing", _ab, "xtabond2 n L.n w if year > 3000, gmm(L.n)", DataError,
     "No row satisfies"),
    ("if_unknown_column", _ab, "xtabond2 n L.n w if yaer > 1980, gmm(L.n)",
     SpecificationError, "yaer"),
    ("if_arithmetic", _ab, "xtabond2 n L.n w if year + 1 > 1980, gmm(L.n)",
     SpecificationError, "Arithmetic '+'"),
    ("if_type_mismatch", _ab, 'xtabond2 n L.n w if year == "1980", gmm(L.n)', DataError,
     "Type mismatch"),
    ("in_range", _ab, "xtabond2 n L.n w in 1/100, gmm(L.n)", SpecificationError, "'in'"),
    ("weights", _ab, "xtabond2 n L.n w [aw=k], gmm(L.n)", SpecificationError, "weights"),
    ("factor_interaction", _ab, "xtabond2 n L.n i.year#c.w, gmm(L.n)", SpecificationError,
     "Interactions"),
    ("factor_with_lag", _ab, "xtabond2 n L.n L.i.year, gmm(L.n)", SpecificationError,
     "factor variables"),
    ("factor_bad_base", _ab, "xtabond2 n L.n ib1990.year, gmm(L.n)", SpecificationError,
     "Base level 1990"),
    ("factor_noninteger", _nonint_factor, "xtabond2 n L.n i.k, gmm(L.n)", DataError,
     "non-negative integers"),
    ("factor_unknown_level", _ab, "xtabond2 n L.n i(1970/1980).year, gmm(L.n)",
     SpecificationError, "1970"),
    ("underidentified", _ab, "xtabond2 n L.n L2.n w k, gmm(L.n, lag(1 1) collapse) nolevel",
     IdentificationError, "not identified"),
]


@pytest.mark.parametrize(("case", "make", "cmd", "exc", "text"), BAD, ids=[b[0] for b in BAD])
def test_api_raises_clear_error(abdata, case, make, cmd, exc, text) -> None:  # noqa: ANN001
    df = make(abdata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc) as err:
            xtabond2(df, cmd, entity="id", time="year")
    assert text in str(err.value), str(err.value)


@pytest.mark.parametrize(("case", "make", "cmd", "exc", "text"), BAD, ids=[b[0] for b in BAD])
def test_cli_one_line_exit_2_no_json(abdata, tmp_path, monkeypatch, capsys, case, make, cmd,  # noqa: ANN001
                                     exc, text) -> None:
    from bayes_kfdi import cli

    data = tmp_path / "panel.csv"
    make(abdata).to_csv(data, index=False)
    out = tmp_path / "out.json"
    monkeypatch.setattr(sys, "argv", ["bayes-kfdi", "gmm", "--data", str(data), "--entity",
                                      "id", "--time", "year", "--cmd", cmd, "--json", str(out)])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    # the command checks the time column as `data validate` does, before the engine
    text = {"text_time": "non-numeric value 'y1977'", "missing_time": "empty cell"}.get(case, text)
    assert "Traceback" not in err and text in lines[0]
    assert not out.exists()


def test_cli_subprocess_error_contract(tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "o.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bayes_kfdi.cli", "gmm", "--data",
         str(ROOT / "tests" / "reference" / "abdata.csv"), "--entity", "id", "--time", "year",
         "--cmd", "xtabond2 n L.n zz, gmm(L.n)", "--json", str(out)],
        capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""},
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "zz" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


def test_perfect_collinearity_is_dropped_with_documented_warning(abdata) -> None:  # noqa: ANN001
    df = abdata.assign(w2=2 * abdata["w"])
    with pytest.warns(SingularMatrixWarning, match="w2 dropped due to collinearity"):
        res = xtabond2(df, "xtabond2 n L.n w w2 k, gmm(L.n) iv(w w2 k) twostep robust",
                       entity="id", time="year")
    assert "w2" not in res.params.index and "w" in res.params.index


def test_instrument_proliferation_warns_and_flags(abdata) -> None:  # noqa: ANN001
    small = abdata[abdata["id"] <= 25]
    with pytest.warns(InstrumentProliferationWarning):
        res = xtabond2(small, "xtabond2 n L.n w k, gmm(L.n w k) twostep robust",
                       entity="id", time="year")
    assert res.n_instruments > res.n_groups
    assert res.hansen_implausible == (res.hansen.pval > 0.99)


def test_multi_column_entity(abdata) -> None:  # noqa: ANN001
    df = abdata.assign(series="a", country=abdata["id"].astype(str))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = xtabond2(df, OK, entity=["series", "country"], time="year")
        b = xtabond2(abdata, OK, entity="id", time="year")
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
