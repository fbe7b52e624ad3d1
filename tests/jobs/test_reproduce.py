"""The main job: validation before fitting, refusal to overwrite, atomic publication.

The Bayesian fit is replaced by a stub that returns the fixture posterior, so these tests
exercise the orchestration in seconds; one slow test runs the real job with --quick.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import xarray as xr

from bayes_kfdi import writer
from bayes_kfdi.exceptions import (
    DataError,
    OutputExistsError,
    SpecificationError,
)
from bayes_kfdi.jobs import reproduce as pipeline
from bayes_kfdi.jobs.reproduce import default_paths, reproduce
from bayes_kfdi.resources import data_dir, models_dir

MODELS_DIR = models_dir()
DATA_DIR = data_dir()

DATA = DATA_DIR / "korea_semisynthetic.csv"
SPEC = MODELS_DIR / "hierarchical.toml"


FIT_KWARGS: dict = {}


def _stub_bayes(monkeypatch, fixture_dir: Path | None, *, fit_error: BaseException | None = None):
    """Replace the Bayesian fit; record calls. ``fixture_dir`` supplies the outputs."""
    calls: list[str] = []

    def fit(spec, panel, *, data_sha256, progress, log_prior):  # noqa: ARG001
        calls.append("fit")
        FIT_KWARGS["log_prior"] = log_prior
        if fit_error is not None:
            raise fit_error
        tree = xr.open_datatree(fixture_dir / "posterior.nc", engine="h5netcdf").load()
        return SimpleNamespace(idata=tree,
                               posterior_summary=pd.read_csv(fixture_dir / "summary.csv"))

    def write_fit_files(result, out_dir):  # noqa: ARG001
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True)
        for name in ("posterior.nc", "summary.csv"):
            shutil.copy(fixture_dir / name, out_dir / name)

    monkeypatch.setattr(pipeline, "bayes_fit", fit)
    monkeypatch.setattr(pipeline, "write_fit_files", write_fit_files)
    return calls


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def fixture_outputs(tmp_path_factory, make_run_dir) -> Path:
    return make_run_dir(tmp_path_factory.mktemp("fixture_run"))


def test_defaults_point_at_shipped_files() -> None:
    d = default_paths()
    assert d["data"] == DATA and d["hypotheses"].name == "hypotheses.toml"
    assert d["out"] == Path("reports") / "latest"  # never the committed example


def test_refuses_existing_output_before_any_work(tmp_path: Path, monkeypatch) -> None:
    calls = _stub_bayes(monkeypatch, None)
    out = tmp_path / "rep"
    out.mkdir()
    (out / "report.html").write_text("OLD")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        reproduce(DATA, out, quick=True, overwrite=False, spec=SPEC, seed=1)
    assert (out / "report.html").read_text() == "OLD"
    assert calls == [] and _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("change", "error", "fragment"),
    [
        ("hypotheses", SpecificationError, "'cars' not in the data"),
        ("spec", SpecificationError, "does not exist"),
        ("data", DataError, "does not exist"),
        ("seed", SpecificationError, "non-negative integer"),
    ],
)
def test_everything_is_validated_before_fitting(tmp_path: Path, monkeypatch, change, error,
                                                fragment) -> None:
    calls = _stub_bayes(monkeypatch, None)
    hyp = tmp_path / "h.toml"
    hyp.write_text('[[hypothesis]]\nid = "X"\nclaims = [{ series = "cars", term = "gdp", '
                   'direction = ">" }]\n')
    args = {"data": DATA, "spec": SPEC, "hypotheses": None, "seed": 1}
    if change == "hypotheses":
        args["hypotheses"] = hyp
    elif change == "spec":
        args["spec"] = tmp_path / "absent.toml"
    elif change == "data":
        args["data"] = tmp_path / "absent.csv"
    else:
        args["seed"] = -3
    with pytest.raises(error, match=fragment):
        reproduce(args["data"], tmp_path / "rep", quick=True, overwrite=False,
                  spec=args["spec"], seed=args["seed"], hypotheses=args["hypotheses"])
    assert calls == []
    assert not (tmp_path / "rep").exists() and _leftovers(tmp_path) == []


def test_interrupted_run_leaves_previous_report_intact(tmp_path: Path, monkeypatch) -> None:
    calls = _stub_bayes(monkeypatch, None, fit_error=KeyboardInterrupt())
    out = tmp_path / "rep"
    out.mkdir()
    (out / "report.html").write_text("OLD")
    writer.mark_output_dir(out, adopt=True)  # an earlier run's output, which may be replaced
    with pytest.raises(KeyboardInterrupt):
        reproduce(DATA, out, quick=True, overwrite=True, spec=SPEC, seed=1)
    assert calls == ["fit"]
    assert (out / "report.html").read_text() == "OLD"
    assert sorted(p.name for p in out.iterdir()) == [writer.MARKER, "report.html"]
    assert _leftovers(tmp_path) == []


def test_full_job_with_stubbed_fit(tmp_path: Path, monkeypatch, fixture_outputs: Path) -> None:
    calls = _stub_bayes(monkeypatch, fixture_outputs)
    out = tmp_path / "rep"
    res = reproduce(DATA, out, quick=True, overwrite=False, spec=SPEC, seed=7)
    assert calls == ["fit"]
    assert res.html == out / "report.html" and res.html.is_file()
    assert [s.name for s in res.steps] == [
        "validate", "data check", "GMM tables", "Bayesian fit", "comparison", "reports",
    ]
    run = out / "run"
    gmm_files = sorted(p.name for p in (run / "gmm").glob("*.json"))
    failed = json.loads((run / "gmm_failures.json").read_text())
    assert len(gmm_files) + len(failed) == 12  # the paper's six series, baseline + trend
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["quick"] is True and manifest["seed"] == 7
    assert manifest["sampler"]["draws"] == pipeline.QUICK_SAMPLER["draws"]
    # the fit is asked for the slope priors' log density (power-scaling), nothing else
    chosen = FIT_KWARGS["log_prior"]
    assert chosen("beta_z") and chosen("trend_mu") and chosen("beta_motive")
    assert not chosen("sigma") and not chosen("u_unit_c") and not chosen("rho_tau")
    check = json.loads((run / "data_check.json").read_text())
    assert check["n_countries"] > 0 and set(check["floor_share"]) >= {"textile", "steel"}
    html = res.html.read_text()
    for h in ("H1", "H2", "H3"):
        assert f'id="{h}"' in html
    assert "quick smoke run" in html
    assert (out / "paper" / "table2.html").is_file() and 'href="paper/table2.html"' in html
    assert _leftovers(tmp_path) == []
    # A second run replaces the first only when asked to.
    with pytest.raises(OutputExistsError):
        reproduce(DATA, out, quick=True, overwrite=False, spec=SPEC, seed=7)
    (out / "notes.txt").write_text("the user's own file")
    with pytest.raises(OutputExistsError, match="did not write"):
        reproduce(DATA, out, quick=True, overwrite=True, spec=SPEC, seed=7)
    assert (out / "notes.txt").read_text() == "the user's own file"
    (out / "notes.txt").unlink()
    reproduce(DATA, out, quick=True, overwrite=True, spec=SPEC, seed=7)
    assert (out / writer.MARKER).is_file() and _leftovers(tmp_path) == []


def test_cli_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    out.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "bayes_kfdi.cli", "reproduce", "--out", str(out), "--quick"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 2
    assert "already exists" in proc.stderr and "--overwrite" in proc.stderr


@pytest.mark.slow
def test_real_quick_job_end_to_end(tmp_path: Path) -> None:
    res = reproduce(DATA, tmp_path / "rep", quick=True, overwrite=False, spec=SPEC, seed=1)
    html = res.html.read_text()
    for h in ("H1", "H2", "H3"):
        assert f'id="{h}"' in html
    assert (tmp_path / "rep" / "run" / "posterior.nc").is_file()
    assert "Power-scaling sensitivity is not available" not in html


def test_each_gmm_equation_is_fitted_once(tmp_path: Path, monkeypatch,
                                          fixture_outputs: Path) -> None:
    """One job fits each equation once: the report, run/gmm and paper/ share the fits."""
    from bayes_kfdi.gmm.model import SystemGMM

    _stub_bayes(monkeypatch, fixture_outputs)
    fits: list[str] = []
    sweep_fits: list[str] = []
    real_fit, real_sweep = SystemGMM.fit, pipeline.instrument_sweep
    in_sweep = [False]

    def counted(self):
        (sweep_fits if in_sweep[0] else fits).append("fit")
        return real_fit(self)

    def sweep(*args, **kwargs):  # the instrument sweep refits with other instrument sets
        in_sweep[0] = True
        try:
            return real_sweep(*args, **kwargs)
        finally:
            in_sweep[0] = False

    monkeypatch.setattr(SystemGMM, "fit", counted)
    monkeypatch.setattr(pipeline, "instrument_sweep", sweep)
    equations = pipeline.load_equations()[:2]
    monkeypatch.setattr(pipeline, "load_equations", lambda: equations)
    out = tmp_path / "rep"
    reproduce(DATA, out, quick=True, spec=SPEC, seed=3)
    assert len(fits) == 2
    assert len(sweep_fits) > 0  # the sweep runs, on its own instrument sets
    assert sorted(p.name for p in (out / "run" / "gmm").glob("*.json")) == sorted(
        f"{e.series}.json" if e.variant == "baseline" else f"{e.series}.{e.variant}.json"
        for e in equations
    )
    assert not (out / "paper" / "gmm").exists()  # stored once, in run/gmm


def test_a_failed_equation_is_a_failure_everywhere(tmp_path: Path, monkeypatch,
                                                   fixture_outputs: Path) -> None:
    """An equation the engine cannot estimate shows its message, never a number."""
    from bayes_kfdi.exceptions import IdentificationError
    from bayes_kfdi.gmm.model import SystemGMM

    _stub_bayes(monkeypatch, fixture_outputs)
    equations = pipeline.load_equations()[:2]
    monkeypatch.setattr(pipeline, "load_equations", lambda: equations)
    real_fit = SystemGMM.fit
    first = equations[0]

    calls: list[str] = []

    def failing(self):
        calls.append(self.command)
        if len(calls) == 1:  # the first equation in the list
            raise IdentificationError("no instrument left")
        return real_fit(self)

    monkeypatch.setattr(SystemGMM, "fit", failing)
    out = tmp_path / "rep"
    reproduce(DATA, out, quick=True, spec=SPEC, seed=3)
    failed = json.loads((out / "run" / "gmm_failures.json").read_text())
    name = f"{first.series}.json" if first.variant == "baseline" else \
        f"{first.series}.{first.variant}.json"
    assert failed == {name: "IdentificationError: no instrument left"}
    assert not (out / "run" / "gmm" / name).exists()
    table = pd.read_csv(out / "paper" / f"{first.table}.csv")
    rows = table[table["equation"] == first.name]
    assert rows["coef"].isna().all()  # footer rows only, every number missing
