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


def test_toml_spec_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[gmm]\ndepvar = "n"\nregressor = ["L.n"]\n')
    with pytest.raises(SpecificationError, match="regressor"):
        load_gmm_spec(bad)
    bad.write_text("[gmm\n")
    with pytest.raises(SpecificationError, match="not valid TOML"):
        load_gmm_spec(bad)
    with pytest.raises(SpecificationError, match="not found"):
        load_gmm_spec(tmp_path / "missing.toml")
    with pytest.raises(SpecificationError, match="twostep"):
        spec_to_command({"depvar": "n", "twostep": "yes"})


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
