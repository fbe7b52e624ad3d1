"""``bayes-kfdi fit`` sampler options and the advice printed with a failed fit."""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import numpy as np
import xarray as xr
from typer.testing import CliRunner

from bayes_kfdi.bayes.diagnostics import Diagnostics, diagnose, warn_if_not_converged
from bayes_kfdi.cli import app, main
from bayes_kfdi.resources import data_dir, models_dir

MODELS_DIR = models_dir()
DATA_DIR = data_dir()

REPO = Path(__file__).resolve().parents[2]
DATA = DATA_DIR / "korea_semisynthetic.csv"
SPEC = MODELS_DIR / "hierarchical.toml"


class _Stop(Exception):
    """Raised by the fake fit once it has seen its spec."""


def test_target_accept_option_reaches_the_sampler(tmp_path, monkeypatch):
    seen = {}

    def fake_fit(spec, data, **_):
        seen["spec"] = spec
        raise _Stop

    monkeypatch.setattr(importlib.import_module("bayes_kfdi.jobs.fit"), "bayes_fit", fake_fit)
    args = ["fit", "--data", str(DATA), "--spec", str(SPEC), "--out", str(tmp_path / "o")]
    res = CliRunner().invoke(app, [*args, "--target-accept", "0.97"])
    assert isinstance(res.exception, _Stop), res.output
    assert seen["spec"].sampler.target_accept == 0.97
    res = CliRunner().invoke(app, args)
    assert seen["spec"].sampler.target_accept == 0.95  # the spec's own value


def test_bad_target_accept_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, capsys):
    out = tmp_path / "o"
    monkeypatch.setattr(
        "sys.argv",
        ["bayes-kfdi", "fit", "--data", str(DATA), "--spec", str(SPEC), "--out", str(out),
         "--target-accept", "1.2"],
    )
    try:
        main()
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("expected exit 2")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "target_accept = 1.2" in err[0] and "[0.5, 1)" in err[0]
    assert not out.exists()


def _diag(**changes):
    base = {
        "max_rhat": 1.004, "min_ess_bulk": 900.0, "min_ess_tail": 900.0, "n_divergent": 0,
        "min_bfmi": 0.9, "worst_rhat": "a", "worst_ess": "a", "n_draws": 6000,
        "converged": False, "problems": (),
    }
    return Diagnostics(**{**base, **changes})


def _advice(diag) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_if_not_converged(diag)
    (w,) = caught
    return str(w.message).split("Do not use these estimates; ")[1]


def _fit_tree(chain_shift: float, n_divergent: int):
    """A 4 x 500 fit whose chains sit ``chain_shift`` apart, with some divergences."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 500)) + chain_shift * np.arange(4)[:, None]
    div = np.zeros((4, 500), bool)
    div.ravel()[:n_divergent] = True
    return xr.DataTree.from_dict({
        "posterior": xr.Dataset({"a": (("chain", "draw"), x)}),
        "sample_stats": xr.Dataset({"diverging": (("chain", "draw"), div)}),
    })


def test_advice_follows_the_checks_that_diagnose_failed():
    # the problems as diagnose words them, not as this test would
    rhat = _advice(diagnose(_fit_tree(1.0, 0)))
    # the R-hat remedy itself, not the catch-all for checks it cannot place
    assert "--draws/--tune" in rhat and "target" not in rhat and "centring" not in rhat
    div = _advice(diagnose(_fit_tree(0.0, 3)))
    assert "--target-accept" in div and "--draws" not in div


def test_advice_names_the_remedy_of_each_failed_check():
    div = _advice(_diag(n_divergent=1, problems=("1 divergent transitions",)))
    assert "--target-accept" in div and "--draws" not in div
    rhat = _advice(_diag(max_rhat=1.012, problems=("max R-hat 1.012 > 1.01 (trend_mu)",)))
    assert "--draws/--tune" in rhat and "target" not in rhat
    both = _advice(_diag(n_divergent=2, min_ess_bulk=300.0, problems=(
        "min ESS bulk 300 < 400 (tau)", "2 divergent transitions")))
    assert "--target-accept" in both and "--draws/--tune" in both
