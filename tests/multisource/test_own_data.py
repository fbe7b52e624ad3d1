"""The README's "Your own data" example runs and reproduces the shipped panel's values."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_kfdi.data import PanelData, load, read_table

REPO = Path(__file__).resolve().parents[2]
#: ofdi_real stores fdi at full precision; the wide example rounds flows to 0.01 million
#: US$ = 10 thousand US$, so logs of flows >= 1 million agree to about 1e-2.
LOG_TOL = 1e-2


def _readme_block() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Your own data", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_wide_example_csv_and_xlsx_agree():
    a = read_table(REPO / "examples" / "tha_ofdi_by_host_wide.csv")
    b = read_table(REPO / "examples" / "tha_ofdi_by_host_wide.xlsx")
    assert a.shape == b.shape
    assert a.columns[0] == "Host economy (ISO3)"
    assert list(a.columns[1:]) == [str(y) for y in range(1995, 2013)]


def test_readme_example_runs_and_matches_ofdi_real(tmp_path, monkeypatch):
    code = _readme_block().replace(
        '"examples/', f'"{REPO.as_posix()}/examples/'
    )
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)  # noqa: S102 - our own README
    panel = pd.read_csv(tmp_path / "my_panel.csv", dtype={"series": str, "country": str})
    PanelData(panel)  # validates
    mine = ns["mine"].set_index(["country", "year"])
    real = load("ofdi_real")
    tha = real.loc[(real["series"] == "THA") & real["year"].between(1995, 2012)]
    tha = tha.set_index(["country", "year"])
    assert set(mine.index) == set(tha.index)
    big = tha["flow_musd"].abs() >= 1.0
    np.testing.assert_allclose(mine.loc[tha.index[big], "fdi"], tha.loc[big, "fdi"],
                               atol=LOG_TOL)
    assert (mine.loc[tha.index, "floor_coded"].to_numpy() == tha["floor_coded"].to_numpy()).all()
    assert (panel["series"] == "THA").sum() == len(mine)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_cli_validate_with_map(tmp_path, suffix):
    from typer.testing import CliRunner

    from bayes_kfdi.cli import app

    long = load("ofdi_real").query("series == 'THA'").rename(
        columns={"series": "reporter", "country": "partner"})
    path = tmp_path / f"theirs{suffix}"
    if suffix == ".csv":
        long.to_csv(path, index=False)
    else:
        long.head(200).to_excel(path, index=False)
    res = CliRunner().invoke(app, ["data", "validate", "--data", str(path), "--map",
                                   "reporter=series", "--map", "partner=country"])
    assert res.exit_code == 0, res.output
    assert "valid" in res.output
