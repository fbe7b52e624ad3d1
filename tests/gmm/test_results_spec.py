from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.gmm import InapplicableTest, SystemGMM, TestStatistic, load_gmm_spec, xtabond2
from bayes_kfdi.gmm.spec import spec_to_command
from bayes_kfdi.resources import models_dir

MODELS_DIR = models_dir()

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((MODELS_DIR / "gmm_examples").glob("*.toml"))
SCHEMA_KEYS = ["command", "coef", "se", "vce", "nobs", "n_groups", "n_instruments", "ar",
               "sargan", "hansen", "diff_hansen"]
SYS = "xtabond2 n L(1/2).n w k, gmm(n, lag(2 4)) gmm(w, lag(1 3)) iv(k) twostep robust"


def _fit(df, cmd):  # noqa: ANN001, ANN202
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xtabond2(df, cmd, entity="id", time="year")


def test_json_follows_schema_section_2(abdata: pd.DataFrame) -> None:
    out = _fit(abdata, SYS).to_json_dict()
    assert list(out) == SCHEMA_KEYS
    assert out["vce"] == "windmeijer"
    assert list(out["coef"]) == ["L.n", "L2.n", "w", "k", "_cons"] == list(out["se"])
    assert set(out["ar"]) == {"1", "2"} and set(out["ar"]["1"]) == {"z", "p"}
    assert set(out["hansen"]) == {"chi2", "df", "p"}
    for label, val in out["diff_hansen"].items():
        assert label.startswith(("gmm(", "iv(", "GMM instruments for levels"))
        assert val is None or set(val) == {"excluded", "difference"}
    json.dumps(out, allow_nan=False)


def test_inapplicable_tests_are_null_and_objects(abdata: pd.DataFrame) -> None:
    res = _fit(abdata, "xtabond2 n L.n w k, gmm(L.n) iv(w k)")  # one-step non-robust
    assert isinstance(res.hansen, InapplicableTest) and res.to_json_dict()["hansen"] is None
    assert isinstance(res.ar_test(5), InapplicableTest)
    assert isinstance(res.ar_test(1), TestStatistic)
    assert "chi2 = --" in res.summary()
    # exactly identified: no overidentifying restrictions
    ex = _fit(abdata, "xtabond2 n L.n w, gmm(L.n, lag(1 1) collapse) iv(w) nolevel robust")
    assert ex.to_json_dict()["sargan"] is None and ex.to_json_dict()["hansen"] is None


def test_results_api(abdata: pd.DataFrame) -> None:
    res = _fit(abdata, SYS)
    assert list(res.params.index) == list(res.std_errors.index) == list(res.cov.index)
    np.testing.assert_allclose(res.tstats, res.params / res.std_errors)
    ci = res.conf_int(0.9)
    assert (ci["lower"] < res.params).all() and (ci["upper"] > res.params).all()
    tab = res.to_frame()
    assert list(tab.columns) == ["estimate", "std_error", "stat", "pvalue", "lower", "upper"]
    text = res.summary()
    assert "two-step system GMM" in text and "Number of instruments = 51" in text
    assert "Difference-in-Hansen" in text and "Group variable: id" in text
    with pytest.raises(SpecificationError):
        res.conf_int(95)


def test_diff_hansen_partitions(abdata: pd.DataFrame) -> None:
    res = _fit(abdata, SYS)
    out = res.diff_hansen
    assert list(out) == ["GMM instruments for levels", "gmm(n, lag(2 4))", "gmm(w, lag(1 3))",
                         "iv(k)"]
    full = res.hansen
    for val in out.values():
        if isinstance(val, InapplicableTest):
            continue
        excl, diff = val
        assert excl.stat + diff.stat == pytest.approx(full.stat)
        assert excl.df + diff.df == full.df
    # the levels group holds 7 + 7 instruments (D.L.n and D.w, one per levels period)
    assert out["GMM instruments for levels"][1].df == 14


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_toml_examples_equal_their_commands(abdata: pd.DataFrame, path: Path) -> None:
    spec = load_gmm_spec(path)
    header = [ln for ln in path.read_text().splitlines() if ln.startswith("#   xtabond2")]
    assert header, "each example documents its equivalent command"
    a = _fit(abdata, spec.command)
    b = _fit(abdata, header[0].lstrip("# ").strip())
    np.testing.assert_allclose(a.params, b.params, rtol=1e-12)
    assert (spec.entity, spec.time) == ("id", "year")


SYS_TOML = """name = "sys"
[gmm]
depvar = "n"
regressors = ["L.n", "w", "k"]
twostep = true

[[gmm.instruments.gmm]]
vars = ["n"]
lag = [2, 4]
"""

#: A valid spec, the edit that breaks it, and a word the one-line message must hold.
BAD_SPECS = {
    "misspelled_gmm_key": (SYS_TOML.replace("regressors", "regresors"),
                           "did you mean 'regressors'"),
    "misspelled_top_key": ('descripton = "x"\n' + SYS_TOML, "did you mean 'description'"),
    "misspelled_group_key": (SYS_TOML.replace("lag =", "lags ="), "did you mean 'lag'"),
    "number_for_string": (SYS_TOML.replace('depvar = "n"', "depvar = 3"), "a variable name"),
    "string_for_bool": (SYS_TOML.replace("twostep = true", 'twostep = "yes"'), "true or false"),
    "number_for_name": (SYS_TOML.replace('name = "sys"', "name = 5"), "a string"),
    "bad_lag": (SYS_TOML.replace("[2, 4]", '["2", 4]'), "lag limits"),
    "bad_equation": (SYS_TOML.replace("lag = [2, 4]", 'equation = "lvl"'), "did you mean"),
    "h_out_of_range": (SYS_TOML.replace("twostep = true", "h = 4"), "1, 2 or 3"),
    "both_models": ('command = "xtabond2 n L.n, gmm(L.n)"\n' + SYS_TOML, "both"),
    "no_model": ('name = "x"\n', "neither"),
    "trend_unused": ('trend = ["w"]\ncommand = "xtabond2 n L.n w, gmm(L.n)"\n', "w_trend"),
    "not_toml": ("[gmm\n", "not valid TOML"),
}


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _one_line_error(path: Path, match: str) -> str:
    with pytest.raises(SpecificationError) as info:
        load_gmm_spec(path)
    msg = str(info.value)
    assert "\n" not in msg and match in msg, msg
    return msg


@pytest.mark.parametrize("case", list(BAD_SPECS), ids=list(BAD_SPECS))
def test_bad_spec_is_one_line_naming_the_fix(tmp_path: Path, case: str) -> None:
    text, match = BAD_SPECS[case]
    _one_line_error(_write(tmp_path / "bad.toml", text), match)


def test_unreadable_spec_files(tmp_path: Path) -> None:
    cp949 = _write(tmp_path / "kr.toml", "# 전자 산업\n".encode("cp949") + SYS_TOML.encode())
    assert "save it as UTF-8" in _one_line_error(cp949, "UTF-8")
    _one_line_error(tmp_path / "missing.toml", "does not exist")
    _one_line_error(tmp_path, "is a directory")
    assert load_gmm_spec(_write(tmp_path / "ok.toml", SYS_TOML)).command == (
        "xtabond2 n L.n w k, gmm(n, lag(2 4)) twostep")


def test_spec_to_command_checks_types() -> None:
    with pytest.raises(SpecificationError, match="twostep = 'yes'; expected true or false"):
        spec_to_command({"depvar": "n", "twostep": "yes"})


def _cli(monkeypatch, argv: list[str]) -> int:  # noqa: ANN001
    from bayes_kfdi import cli

    monkeypatch.setattr(sys, "argv", ["bayes-kfdi", *argv])
    try:
        cli.main()
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


@pytest.mark.parametrize("case", ["misspelled_gmm_key", "number_for_string", "cp949"])
def test_cli_bad_spec_exits_2_with_one_line(tmp_path, monkeypatch, capsys, case) -> None:  # noqa: ANN001
    if case == "cp949":
        spec = _write(tmp_path / "bad.toml", "# 전자\n".encode("cp949") + SYS_TOML.encode())
        match = "UTF-8"
    else:
        spec = _write(tmp_path / "bad.toml", BAD_SPECS[case][0])
        match = BAD_SPECS[case][1]
    out = tmp_path / "res.json"
    code = _cli(monkeypatch, ["gmm", "--data", str(ROOT / "tests" / "reference" / "abdata.csv"),
                              "--entity", "id", "--time", "year", "--spec", str(spec),
                              "--json", str(out)])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert match in lines[0] and "Traceback" not in err and not out.exists()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_cli_example_spec_equals_its_command(abdata, tmp_path, monkeypatch, path) -> None:  # noqa: ANN001
    out = tmp_path / "res.json"
    code = _cli(monkeypatch, ["gmm", "--data", str(ROOT / "tests" / "reference" / "abdata.csv"),
                              "--spec", str(path), "--json", str(out)])
    assert code == 0
    header = [ln for ln in path.read_text().splitlines() if ln.startswith("#   xtabond2")]
    ref = _fit(abdata, header[0].lstrip("# ").strip())
    got = json.loads(out.read_text())["coef"]
    np.testing.assert_allclose([got[k] for k in ref.params.index], ref.params, rtol=1e-12)


def test_cli_spec_writes_json_atomically(abdata, tmp_path, monkeypatch, capsys) -> None:  # noqa: ANN001
    from bayes_kfdi import cli

    out = tmp_path / "sub" / "res.json"
    monkeypatch.setattr(sys, "argv", [
        "bayes-kfdi", "gmm", "--data", str(ROOT / "tests" / "reference" / "abdata.csv"),
        "--spec", str(MODELS_DIR / "gmm_examples" / "abdata_system_twostep.toml"),
        "--json", str(out)])
    cli.main()
    printed = capsys.readouterr().out
    assert "two-step system GMM" in printed
    data = json.loads(out.read_text())
    assert data["n_instruments"] == 51 and data["nobs"] == 751
    assert [p.name for p in out.parent.iterdir()] == ["res.json"]  # no temp files left


def test_model_object_and_parsed_command(abdata: pd.DataFrame) -> None:
    model = SystemGMM(abdata, SYS, entity="id", time="year")
    assert model.command.twostep and model.command.system
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit()
    assert res.n_instruments == 51
