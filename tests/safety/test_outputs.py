"""The output policy, the grid bounds and the GMM command's keys, on the good paths too."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bayes_kfdi import writer
from bayes_kfdi.cli import app
from bayes_kfdi.data.panel import MAX_GRID_CELLS, MAX_PERIODS, PanelData
from bayes_kfdi.exceptions import DataError, OutputExistsError
from bayes_kfdi.gmm.model import xtabond2

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "data" / "bad"
CMD = "xtabond2 n L.n w, gmm(L.n) iv(w)"


def _published(parent: Path, files: dict[str, str]) -> Path:
    build = writer.make_build_dir(parent / "out")
    for name, text in files.items():
        writer.write_text(build / name, text)
    return writer.publish_dir(build, parent / "out", overwrite=False)


def test_publish_writes_a_marker_listing_every_file(tmp_path: Path) -> None:
    out = _published(tmp_path, {"a.csv": "x\n", "run/b.json": "{}\n"})
    marker = json.loads((out / writer.MARKER).read_text())
    assert marker["written_by"] == "bayes-kfdi"
    assert sorted(marker["files"]) == ["a.csv", "run/b.json"]
    assert writer.foreign_files(out) == []


def test_overwrite_replaces_only_package_output(tmp_path: Path) -> None:
    out = _published(tmp_path, {"a.csv": "old\n"})
    with pytest.raises(OutputExistsError, match="--overwrite"):
        writer.check_output_dir(out, overwrite=False)
    writer.check_output_dir(out, overwrite=True)  # ours: may be replaced
    (out / "mine.txt").write_text("user")
    with pytest.raises(OutputExistsError, match=r"did not write \(e.g. mine.txt\)"):
        writer.check_output_dir(out, overwrite=True)
    (out / "mine.txt").unlink()
    (out / "a.csv").write_text("edited\n")
    with pytest.raises(OutputExistsError, match=r"a.csv \(changed\)"):
        writer.check_output_dir(out, overwrite=True)


def test_files_appearing_during_a_run_stop_the_publication(tmp_path: Path) -> None:
    out = _published(tmp_path, {"a.csv": "old\n"})
    build = writer.make_build_dir(out)
    writer.write_text(build / "a.csv", "new\n")
    (out / "late.txt").write_text("written while the job ran")
    with pytest.raises(OutputExistsError, match="late.txt"):
        writer.publish_dir(build, out, overwrite=True)
    assert (out / "late.txt").is_file() and (out / "a.csv").read_text() == "old\n"


def test_a_marker_needs_package_provenance(tmp_path: Path) -> None:
    d = tmp_path / "old_report"
    (d / "run").mkdir(parents=True)
    (d / "report.md").write_text("# report\n")
    with pytest.raises(OutputExistsError, match="package_version"):
        writer.mark_output_dir(d)
    (d / "run" / "manifest.json").write_text('{"package_version": "0.1.0"}\n')
    writer.mark_output_dir(d)
    writer.check_output_dir(d, overwrite=True)


def test_committed_example_report_can_be_rewritten() -> None:
    writer.check_output_dir(ROOT / "reports" / "example", overwrite=True)


def test_output_file_checks(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a\n")
    with pytest.raises(OutputExistsError, match="is the data file"):
        writer.check_output_file(tmp_path / "." / "d.csv", overwrite=True,
                                 inputs=[("data file", data)], option="--json")
    with pytest.raises(OutputExistsError, match="is a directory"):
        writer.check_output_file(tmp_path, overwrite=True)
    with pytest.raises(OutputExistsError, match="which is a file"):
        writer.check_output_file(data / "x.json", overwrite=True)
    with pytest.raises(OutputExistsError, match="not a file bayes-kfdi wrote"):
        writer.check_output_file(data, overwrite=True)
    writer.check_output_file(data, overwrite=True, recognise=lambda p: True)


def test_gmm_json_overwrite_replaces_its_own_json(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "r.json"
    args = ["gmm", "--cmd", CMD, "--data", str(BAD / "gmm_good.csv"), "--json", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    first = out.read_bytes()
    res = runner.invoke(app, args)
    assert isinstance(res.exception, OutputExistsError) and out.read_bytes() == first
    res = runner.invoke(app, [*args, "--overwrite"])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["coef"]


def test_gmm_map_and_default_keys(tmp_path: Path) -> None:
    renamed = tmp_path / "own.csv"
    pd.read_csv(BAD / "gmm_good.csv").rename(columns={"country": "firm", "year": "yr"}).to_csv(
        renamed, index=False)
    runner = CliRunner()
    base = runner.invoke(app, ["gmm", "--cmd", CMD, "--data", str(BAD / "gmm_good.csv")])
    mapped = runner.invoke(app, ["gmm", "--cmd", CMD, "--data", str(renamed), "--map",
                                 "firm=country", "--map", "yr=year"])
    assert base.exit_code == 0 and mapped.exit_code == 0, mapped.output
    assert base.output == mapped.output  # same fit, same printout
    missing = runner.invoke(app, ["gmm", "--cmd", CMD, "--data", str(renamed)])
    assert isinstance(missing.exception, DataError) and "--time" in str(missing.exception)


def test_engine_refuses_a_typo_before_building_its_grid() -> None:
    df = pd.read_csv(BAD / "gmm_period_typo.csv")
    with pytest.raises(DataError, match=f"17,821 periods.*at most {MAX_PERIODS}"):
        xtabond2(df, CMD, entity="country", time="period")
    good = pd.read_csv(BAD / "gmm_good.csv")
    with pytest.raises(DataError, match="also the group column"):
        xtabond2(good, CMD, entity="year", time="year")
    dated = good.assign(year=pd.to_datetime(good["year"].astype(str) + "-01-01"))
    with pytest.raises(DataError, match=r"holds dates \(e.g. 1980-01-01\)"):
        xtabond2(dated, CMD, entity="country", time="year")
    inf = good.assign(w=good["w"].where(good.index != 40, np.inf))
    with pytest.raises(DataError, match="infinite value inf in data row 41"):
        xtabond2(inf, CMD, entity="country", time="year")


def test_panel_grid_limit_names_cells() -> None:
    n = MAX_GRID_CELLS // 400 + 1
    df = pd.DataFrame({"unit": np.arange(n), "t": np.arange(n) % 400, "x": 0.0})
    with pytest.raises(DataError, match="grid cells"):
        PanelData(df, entity="unit", time="t")
    with pytest.raises(DataError, match="also a unit column"):
        PanelData(df, entity="t", time="t")


def test_describe_labels_source_economies_as_series(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    rows = [{"series": s, "country": c, "year": y, "fdi": 1.0 + i}
            for i, (s, c, y) in enumerate((s, c, y) for s in ("KOR", "CHN") for c in ("USA", "VNM")
                                          for y in (2000, 2001))]
    pd.DataFrame(rows).to_csv(path, index=False)
    res = CliRunner().invoke(app, ["data", "describe", "--data", str(path)],
                             env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    header = next(ln for ln in res.output.splitlines() if "variable" in ln)
    assert "series" in header and "sector" not in header
