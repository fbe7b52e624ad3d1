"""``bayes-kfdi fit --spec models/multi_source.toml``: the [multisource] section (no sampling).

The bayes spec loader accepts the section and ignores it (it selects the panel, not the
model); the ``fit`` command applies the selection, so it fits the multi-source job's
pooled model on the same rows.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bayes_kfdi.bayes.model import ModelData
from bayes_kfdi.bayes.spec import load_spec
from bayes_kfdi.cli import app
from bayes_kfdi.data.readers import read_panel
from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.multisource.pipeline import fit_input
from bayes_kfdi.multisource.spec import load_multisource_spec
from bayes_kfdi.resources import data_dir, models_dir

MODELS_DIR = models_dir()
DATA_DIR = data_dir()

REPO = Path(__file__).resolve().parents[2]
SPEC = MODELS_DIR / "multi_source.toml"
DATA = DATA_DIR / "ofdi_bilateral.csv"


class _Stop(Exception):
    """Raised by the fake sampler once it has seen its input."""


def test_bayes_loader_accepts_multisource_section_and_builds_the_pooled_model():
    assert load_spec(SPEC) == load_multisource_spec(SPEC).model


def test_bayes_loader_still_rejects_unknown_sections(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(SPEC.read_text().replace("[multisource]", "[multisorce]"))
    with pytest.raises(SpecificationError, match="multisorce"):
        load_spec(bad)


def test_fit_command_applies_the_multisource_selection(tmp_path, monkeypatch):
    seen = {}

    def fake_fit(spec, data, **_):
        seen["spec"], seen["data"] = spec, data
        raise _Stop

    # the fit job calls the Bayesian fit through its own module-level name
    monkeypatch.setattr(importlib.import_module("bayes_kfdi.jobs.fit"), "bayes_fit", fake_fit)
    res = CliRunner().invoke(app, ["fit", "--data", str(DATA), "--spec", str(SPEC),
                                   "--out", str(tmp_path / "fit"), "--draws", "10"])
    assert isinstance(res.exception, _Stop), res.output
    assert "[multisource] selection applied" in res.output
    assert "IND left out" in res.output
    md = seen["data"]
    assert isinstance(md, ModelData)
    sel, expected = fit_input(read_panel(DATA).frame, load_multisource_spec(SPEC))
    assert len(md.y) == len(expected.y) > 0
    assert sorted(md.series) == sorted(sel.sources) and "IND" not in md.series
    assert md.xbar.shape == expected.xbar.shape
    assert seen["spec"].sampler.draws == 10
    assert seen["spec"].terms == load_multisource_spec(SPEC).model.terms


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.replace("min_years_per_source", "min_year_per_source"),
         "did you mean 'min_years_per_source'"),
        (lambda t: t.replace("first_year = 1995", 'first_year = "1995"'), "expected an integer"),
        (lambda t: "# 다중 출처\n".encode("cp949") + t.encode(), "UTF-8"),
    ],
    ids=["misspelled", "wrong_type", "cp949"],
)
def test_fit_cli_bad_multisource_section_exits_2_with_one_line(
    tmp_path, monkeypatch, capsys, edit, match
):
    from bayes_kfdi import cli

    bad = tmp_path / "bad.toml"
    text = edit(SPEC.read_text())
    bad.write_bytes(text if isinstance(text, bytes) else text.encode())
    out = tmp_path / "fit"
    monkeypatch.setattr(sys, "argv", ["bayes-kfdi", "fit", "--data", str(DATA), "--spec",
                                      str(bad), "--out", str(out)])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert stop.value.code == 2 and len(lines) == 1 and match in lines[0], err
    assert "Traceback" not in err and not out.exists()
