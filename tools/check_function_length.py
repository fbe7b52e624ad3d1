"""Fail when a function or module in ``src/`` is longer than the project allows.

A function (or method) may span at most ``MAX_FUNCTION_LINES`` lines, decorators and
docstring included; a module at most ``MAX_MODULE_LINES`` lines. Exceptions are listed
in ``ALLOWED`` with the reason each one is accepted; an exception that no longer
exceeds the limit is reported too, so that the list shrinks with the code.

Usage::

    .venv/bin/python tools/check_function_length.py [ROOT]

Exit status 0 when every rule holds, 1 otherwise (one line per violation).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_FUNCTION_LINES = 120
MAX_MODULE_LINES = 700

# Key: "bayes_kfdi/<module>.py" or "bayes_kfdi/<module>.py::Qualified.name"; value: why
# that module or function may exceed the limit.
ALLOWED: dict[str, str] = {}


def _span(node: ast.AST) -> int:
    """Return the number of source lines a definition covers, decorators included."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return node.end_lineno - first + 1


def _functions(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """Return every function and method in a module with its dotted qualified name."""
    found: list[tuple[str, ast.AST]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                found.append((name, child))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def check(root: Path) -> list[str]:
    """Return one message per violation of the length rules under ``root``."""
    problems: list[str] = []
    used: set[str] = set()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).as_posix()
        text = path.read_text(encoding="utf-8")
        n_lines = len(text.splitlines())
        if n_lines > MAX_MODULE_LINES:
            if rel in ALLOWED:
                used.add(rel)
            else:
                problems.append(f"{rel}: module has {n_lines} lines (max {MAX_MODULE_LINES})")
        for name, node in _functions(ast.parse(text, filename=str(path))):
            span = _span(node)
            key = f"{rel}::{name}"
            if span <= MAX_FUNCTION_LINES:
                continue
            if key in ALLOWED:
                used.add(key)
            else:
                problems.append(
                    f"{rel}:{node.lineno}: {name} has {span} lines (max {MAX_FUNCTION_LINES})"
                )
    for key in sorted(set(ALLOWED) - used):
        problems.append(f"{key}: listed in ALLOWED but within the limits now; remove it")
    return problems


def main(argv: list[str]) -> int:
    """Run the check on ``argv[0]`` (default ``src/bayes_kfdi``) and print violations."""
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[1] / "src" / "bayes_kfdi"
    problems = check(root)
    for line in problems:
        print(line)
    if problems:
        print(f"check_function_length: {len(problems)} violation(s)", file=sys.stderr)
        return 1
    print(
        f"check_function_length: every function <= {MAX_FUNCTION_LINES} lines, "
        f"every module <= {MAX_MODULE_LINES} lines"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
