"""The compare job: ELPD-LOO table and arviz-plots' comparison plot under the output policy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from bayes_kfdi.exceptions import OutputExistsError
from bayes_kfdi.jobs import compare as compare_job_module
from bayes_kfdi.jobs.compare import PLOT_TAG, compare_job


def _tree(seed: int, shift: float) -> xr.DataTree:
    rng = np.random.default_rng(seed)
    ll = rng.normal(-1, 0.1, (2, 100, 30)) - shift
    dt = xr.DataTree.from_dict({
        "posterior": xr.Dataset({"rho": (("chain", "draw"), rng.normal(size=(2, 100)))}),
        "log_likelihood": xr.Dataset({"fdi": (("chain", "draw", "obs"), ll)}),
    })
    dt.attrs.update({"likelihood": "censored", "likelihood_rows_sha256": "x", "converged": 1})
    return dt


@pytest.fixture
def fits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    trees = {"good": _tree(0, 0.0), "bad": _tree(1, 1.0)}
    dirs = []
    for name in trees:
        (tmp_path / name).mkdir()
        dirs.append(tmp_path / name)
    monkeypatch.setattr(compare_job_module, "load_fit", lambda d: trees[Path(d).name])
    return dirs


def test_compare_writes_the_arviz_plot_and_ranks(fits: list[Path], tmp_path: Path) -> None:
    plot = tmp_path / "cmp.png"
    table = compare_job(fits, plot=plot)
    assert list(table["model"]) == ["good", "bad"]
    data = plot.read_bytes()
    assert data.startswith(b"\x89PNG") and PLOT_TAG.encode() in data[:4096]
    with pytest.raises(OutputExistsError, match="already exists"):
        compare_job(fits, plot=plot)
    compare_job(fits, plot=plot, overwrite=True)  # our own plot may be replaced


def test_compare_never_replaces_a_foreign_file(fits: list[Path], tmp_path: Path) -> None:
    plot = tmp_path / "mine.png"
    plot.write_bytes(b"\x89PNG\r\n\x1a\nnot ours")
    with pytest.raises(OutputExistsError, match="not a PNG file bayes-kfdi wrote"):
        compare_job(fits, plot=plot, overwrite=True)
    assert plot.read_bytes() == b"\x89PNG\r\n\x1a\nnot ours"
