"""Fixtures of the job tests: the report tests' fixture run directory, loaded by path."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "report_fixtures", Path(__file__).resolve().parents[1] / "report" / "conftest.py"
)
_REPORT = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_REPORT)


@pytest.fixture(scope="session")
def make_run_dir():
    """The report tests' ``build_run_dir`` factory."""
    return _REPORT.build_run_dir
