"""The data CLI: good files pass, every malformed file gives exit 2 and one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"

# file (or extra CLI args) -> a fragment the one-line message must contain
CORPUS: list[tuple[str, list[str], str]] = [
    ("missing_fdi_column.csv", [], "missing required column(s) fdi"),
    ("missing_country_column.csv", [], "missing required column(s) country"),
    ("duplicate_key.csv", [], "duplicate key"),
    ("non_numeric_fdi.csv", [], "non-numeric value 'abc' in data row 2"),
    ("non_numeric_gdp.csv", [], "non-numeric value '1,2'"),
    ("year_fractional.csv", [], "non-integer value 1990.5"),
    ("year_text.csv", [], "non-numeric value 'nineteen'"),
    ("year_implausible.csv", [], "implausible year 3015"),
    ("year_negative.csv", [], "implausible year -5"),
    ("infinite_fdi.csv", [], "infinite value inf"),
    ("infinite_gdp.csv", [], "infinite value -inf"),
    ("overflow_value.csv", [], "infinite value"),
    ("empty_panel.csv", [], "panel is empty"),
    ("empty_file.csv", [], "cannot parse 'empty_file.csv'"),
    ("empty_series_key.csv", [], "empty key"),
    ("empty_year.csv", [], "empty cell"),
    ("unknown_extension.foo", [], "unknown file type '.foo'"),
    ("corrupt.parquet", [], "cannot parse 'corrupt.parquet'"),
    ("corrupt.dta", [], "cannot parse 'corrupt.dta'"),
    ("corrupt.xlsx", [], "cannot parse 'corrupt.xlsx'"),
    ("ragged_row.csv", [], "cannot parse 'ragged_row.csv'"),
    ("does_not_exist.csv", [], "does not exist"),
    ("foreign_names.csv", [], "rename columns with --map"),
    ("foreign_names.csv", ["--map", "sector"], "malformed column mapping 'sector'"),
    ("foreign_names.csv", ["--map", "nation=country"], "unknown column(s) nation"),
    ("good_for_mapping.csv", ["--map", "gdp=fdi"], "duplicate column(s) fdi"),
]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bayes_kfdi.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "extra", "needle"), CORPUS, ids=[c[0] + str(c[1]) for c in CORPUS]
)
def test_bad_input_exits_2_with_one_line(name: str, extra: list[str], needle: str) -> None:
    res = _run("data", "validate", "--data", str(BAD / name), *extra)
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    assert needle in lines[0], lines[0]
    assert lines[0].startswith("error: ")


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 20


def test_good_file_and_mapping_pass() -> None:
    res = _run("data", "validate", "--data", str(BAD / "foreign_names.csv"), "--map",
               "sector=series", "--map", "host=country", "--map", "yr=year", "--map", "lfdi=fdi")
    assert res.returncode == 0, res.stderr
    assert "valid" in res.stdout


def test_debug_shows_traceback() -> None:
    res = _run("--debug", "data", "validate", "--data", str(BAD / "duplicate_key.csv"))
    assert res.returncode != 0
    assert "Traceback" in res.stderr


def test_usage_error_is_one_line() -> None:
    res = _run("data", "validate", "--dta", "x.csv")
    assert res.returncode == 2
    assert len([ln for ln in res.stderr.splitlines() if ln.strip()]) == 1
