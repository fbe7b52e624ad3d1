"""Fast checks of the multi-source job: dispatch from ``reproduce`` and fail-before-fit."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bayes_kfdi.cli import app
from bayes_kfdi.exceptions import DataError, OutputExistsError, SpecificationError
from bayes_kfdi.jobs.reproduce import reproduce
from bayes_kfdi.resources import data_dir, models_dir

MODELS_DIR = models_dir()
DATA_DIR = data_dir()

REPO = Path(__file__).resolve().parents[2]
SPEC = MODELS_DIR / "multi_source.toml"
DATA = DATA_DIR / "ofdi_bilateral.csv"


def test_existing_output_is_refused_before_fitting(tmp_path):
    out = tmp_path / "rep"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        reproduce(DATA, out, spec=SPEC)
    assert (out / "keep.txt").read_text() == "x"


@pytest.mark.parametrize(
    ("edit", "error", "match"),
    [
        (lambda s: s.replace('reference = "KOR"', 'reference = "XXX"'), SpecificationError,
         "reference"),
        (lambda s: s.replace("min_sources_per_host = 6", "min_sources_per_host = 99"),
         DataError, "left out"),
        (lambda s: s.replace('likelihood = "hurdle"', 'likelihood = "tobit"'),
         SpecificationError, "likelihood"),
    ],
)
def test_bad_multisource_spec_fails_before_fitting(tmp_path, edit, error, match):
    spec = tmp_path / "ms.toml"
    text = edit(SPEC.read_text())
    assert text != SPEC.read_text(), "the edit no longer matches the shipped spec"
    spec.write_text(text)
    with pytest.raises(error, match=match):
        reproduce(DATA, tmp_path / "out", spec=spec)
    assert not (tmp_path / "out").exists()


def test_cli_reports_missing_data_in_one_line(tmp_path):
    res = CliRunner().invoke(app, ["reproduce", "--data", str(tmp_path / "nope.csv"),
                                   "--spec", str(SPEC), "--out", str(tmp_path / "o")])
    assert res.exit_code != 0
    assert not (tmp_path / "o").exists()
