import importlib.util
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "check_function_length.py"


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("check_function_length", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _function(name: str, body_lines: int, indent: str = "") -> str:
    body = "".join(f"{indent}    x{i} = {i}\n" for i in range(body_lines))
    return f"{indent}def {name}():\n{body}"


def _package(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "pkg"
    root.mkdir(parents=True)
    (root / "mod.py").write_text(text)
    return root


def test_function_at_the_limit_passes_and_one_line_more_fails(tool, tmp_path):
    root = _package(tmp_path, _function("ok", 119) + _function("long", 120))
    problems = tool.check(root)
    assert problems == ["pkg/mod.py:121: long has 121 lines (max 120)"]


def test_methods_and_decorators_count(tool, tmp_path):
    text = "class C:\n    @staticmethod\n" + _function("m", 119, indent="    ")
    problems = tool.check(_package(tmp_path, text))
    assert problems == ["pkg/mod.py:3: C.m has 121 lines (max 120)"]


def test_long_module_fails(tool, tmp_path):
    text = "".join(f"x{i} = {i}\n" for i in range(701))
    assert tool.check(_package(tmp_path, text)) == ["pkg/mod.py: module has 701 lines (max 700)"]


def test_allow_list_exempts_and_stale_entries_are_reported(tool, tmp_path, monkeypatch):
    root = _package(tmp_path, _function("long", 130))
    monkeypatch.setattr(tool, "ALLOWED", {"pkg/mod.py::long": "reason"})
    assert tool.check(root) == []
    monkeypatch.setattr(tool, "ALLOWED", {"pkg/mod.py::gone": "reason"})
    problems = tool.check(root)
    assert any("long has 131 lines" in p for p in problems)
    assert any(p.startswith("pkg/mod.py::gone: listed in ALLOWED") for p in problems)


def test_main_exit_status(tool, tmp_path, capsys):
    assert tool.main([str(_package(tmp_path, _function("f", 3)))]) == 0
    assert tool.main([str(_package(tmp_path / "b", _function("g", 200)))]) == 1
