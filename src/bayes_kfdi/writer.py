"""The one place that writes files: atomic files, JSON, CSV tables and whole directories.

Every file is written to a temporary sibling and renamed into place (``os.replace``), so
a reader never sees half a file and a failed run never replaces a good result. A result
directory is built beside its target and swapped in at the end (:func:`publish_dir`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_kfdi.exceptions import OutputExistsError

__all__ = [
    "to_jsonable",
    "write_text",
    "write_bytes",
    "write_json",
    "write_csv",
    "write_via",
    "make_build_dir",
    "publish_dir",
    "discard_dir",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def to_jsonable(obj: Any) -> Any:
    """Return ``obj`` with NaN/inf as None, numpy scalars as Python, keys as strings."""
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [to_jsonable(v) for v in obj]
    return obj


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_via(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Let ``write`` fill a temporary sibling of ``path``, then rename it into place.

    For files a library writes itself (``to_netcdf``, ``savefig``): ``write`` receives
    the temporary path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` (newlines kept as given) atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any, *, sort_keys: bool = False) -> Path:
    """Write ``obj`` as indented JSON with a final newline; NaN and inf become null."""
    text = json.dumps(to_jsonable(obj), indent=2, sort_keys=sort_keys, allow_nan=False)
    return write_text(path, text + "\n")


def write_csv(path: str | Path, frame: pd.DataFrame, *, float_format: str | None = None) -> Path:
    """Write a tidy table as CSV without the index (full precision unless told)."""
    text = frame.to_csv(index=False, float_format=float_format, lineterminator="\n")
    return write_text(path, text)


def make_build_dir(target: str | Path) -> Path:
    """Create an empty hidden directory beside ``target`` to build a result in.

    Building on the target's file system lets :func:`publish_dir` swap it in atomically.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.build-", dir=target.parent))


def publish_dir(build: str | Path, target: str | Path, *, overwrite: bool) -> Path:
    """Move a finished build directory to ``target``, replacing it only if allowed.

    The previous ``target`` is renamed aside, the build takes its place, then the old copy
    is deleted; if the swap fails the old copy is moved back, so ``target`` is never
    half-written.

    Raises
    ------
    OutputExistsError
        If ``target`` exists and ``overwrite`` is False.
    """
    build, target = Path(build), Path(target)
    if target.exists() and not overwrite:
        raise OutputExistsError(
            f"output directory {target} already exists; expected a new directory; pass "
            "--overwrite to replace it or choose another --out"
        )
    mode = 0o777 & ~_umask()  # mkdtemp makes 0700 directories
    for d in (build, *(p for p in build.rglob("*") if p.is_dir())):
        os.chmod(d, mode)
    aside = None
    if target.exists():
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, aside / "previous")
    try:
        os.replace(build, target)
    except BaseException:
        if aside is not None:
            os.replace(aside / "previous", target)
            shutil.rmtree(aside, ignore_errors=True)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    return target


def discard_dir(path: str | Path) -> None:
    """Delete a build directory (after a failed or interrupted run)."""
    shutil.rmtree(Path(path), ignore_errors=True)
