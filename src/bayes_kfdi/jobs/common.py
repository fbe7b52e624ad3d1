"""What every job shares: step records, argument checks, shown paths, PNG bytes, file facts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure  # type only: figures come from report/ and paper/

from bayes_kfdi import writer
from bayes_kfdi.report import render as report_render
from bayes_kfdi.exceptions import DataError, SpecificationError
from bayes_kfdi.resources import data_dir

__all__ = [
    "StepRecord",
    "check_data",
    "check_new_output",
    "check_seed",
    "file_facts",
    "png_bytes",
    "shown",
    "truth_path",
]


@dataclass(frozen=True, slots=True)
class StepRecord:
    """What one step did: name, status (``done``/``skipped``), seconds and notes."""

    name: str
    status: str
    seconds: float
    notes: tuple[str, ...] = ()


def check_seed(seed: Any) -> None:
    """Refuse a seed that is not a non-negative integer (None keeps the spec's)."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise SpecificationError(
            f"seed = {seed!r}; expected a non-negative integer; pass --seed 0 or above"
        )


def check_new_output(
    out: Path, overwrite: bool, inputs: Iterable[tuple[str, str | Path | None]] = ()
) -> None:
    """Apply the output policy to a result directory (before any work).

    See :func:`bayes_kfdi.writer.check_output_dir`; ``inputs`` are ``(role, path)``
    pairs (None paths are skipped) that may not be or lie inside ``out``.
    """
    writer.check_output_dir(out, overwrite=overwrite,
                            inputs=[(r, p) for r, p in inputs if p is not None])


def truth_path(data: Path) -> Path:
    """Return the ``<stem>.truth.json`` path a simulated panel carries beside it."""
    return data.with_name(data.stem + ".truth.json")


def check_data(path: Path) -> None:
    """Refuse a data path that is not a file."""
    if path.is_dir():
        raise DataError(f"data file {path} is a directory; expected a file; pass --data FILE")
    if not path.is_file():
        raise DataError(f"data file {path} does not exist; pass --data FILE")


def shown(path: Path) -> str:
    """Path as shown in reports: relative to the package data or working dir when inside."""
    p = path.resolve()
    for base in (data_dir().parent.resolve(), Path.cwd().resolve()):
        try:
            return p.relative_to(base).as_posix()
        except ValueError:
            continue
    return p.as_posix()


def png_bytes(fig: Figure, dpi: int) -> bytes:
    """Render a Figure to PNG bytes and close it (the report's renderer)."""
    return report_render.figure_png(fig, dpi)


def file_facts(run_dir: Path, out_dir: Path) -> list[dict[str, Any]]:
    """Every file under ``run_dir``: path (relative to ``out_dir``), size, short sha256."""
    facts = []
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        try:
            rel = path.relative_to(out_dir).as_posix()
        except ValueError:
            rel = path.as_posix()
        facts.append({"path": rel, "bytes": path.stat().st_size, "sha256": digest})
    return facts
