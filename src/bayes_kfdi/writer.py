"""The one place that writes files: atomic files, JSON, CSV tables and whole directories.

Every file is written to a temporary sibling and renamed into place (``os.replace``), so
a reader never sees half a file and a failed run never replaces a good result. A result
directory is built beside its target and swapped in at the end (:func:`publish_dir`).

The output policy of every command lives here too, checked before any work starts
(:func:`check_output_dir`, :func:`check_output_file`): an existing output is refused
unless ``--overwrite``; ``--overwrite`` replaces only what the package wrote, as listed
with each file's sha256 in the marker :data:`MARKER` that :func:`publish_dir` puts in
every directory it publishes; an output is never an input of the same run.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
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
    "MARKER",
    "check_output_dir",
    "check_output_file",
    "foreign_files",
    "mark_output_dir",
]

#: The file, in every directory the package publishes, listing what the package wrote.
MARKER = ".bayes_kfdi-output.json"
#: The ``written_by`` value of :data:`MARKER`.
WRITTEN_BY = "bayes-kfdi"


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
    half-written. The build gets the marker :data:`MARKER` listing its files.

    Raises
    ------
    OutputExistsError
        If ``target`` exists and ``overwrite`` is False, or it holds files the package
        did not write (see :func:`check_output_dir`).
    """
    build, target = Path(build), Path(target)
    # checked again here: files may have appeared in ``target`` while the job ran
    check_output_dir(target, overwrite=overwrite)
    mark_output_dir(build, adopt=True)
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


# ------------------------------------------------------------------ output policy
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _tree_files(directory: Path) -> list[str]:
    """Every non-directory entry below ``directory`` (links included), relative, sorted."""
    out = []
    for root, dirs, files in os.walk(directory):
        rel = Path(root).relative_to(directory)
        out += [(rel / f).as_posix() for f in files]
        out += [(rel / d).as_posix() for d in dirs if (Path(root) / d).is_symlink()]
    return sorted(p for p in out if p != MARKER)


def mark_output_dir(directory: str | Path, *, adopt: bool = False) -> Path:
    """Write :data:`MARKER` into ``directory``, listing each file below it with its sha256.

    ``publish_dir`` calls this on every build. Called by hand (``adopt=False``), it marks
    a tree written by an older version of the package, which had no marker: the tree
    must then hold ``run/manifest.json`` with the package's ``package_version``.

    Raises
    ------
    OutputExistsError
        If ``adopt`` is False and the tree shows no package provenance.
    """
    d = Path(directory)
    if not adopt:
        manifest = d / "run" / "manifest.json"
        try:
            known = "package_version" in json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            known = False
        if not known:
            raise OutputExistsError(
                f"{d} has no run/manifest.json naming a package_version; only a tree "
                "bayes-kfdi wrote can be marked as its output"
            )
    files = {rel: _sha256(d / rel) for rel in _tree_files(d)}
    return write_json(d / MARKER, {"written_by": WRITTEN_BY, "files": files})


def foreign_files(directory: str | Path) -> list[str]:
    """Files below ``directory`` that the package did not write, or that changed since.

    A directory without a readable :data:`MARKER` counts as entirely foreign; a changed
    file is listed as ``"<name> (changed)"``.
    """
    d = Path(directory)
    present = _tree_files(d)
    try:
        marker = json.loads((d / MARKER).read_text(encoding="utf-8"))
        listed = marker["files"] if marker.get("written_by") == WRITTEN_BY else None
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        listed = None
    if not isinstance(listed, dict):
        return present
    out = []
    for rel in present:
        p = d / rel
        if rel not in listed or p.is_symlink() or not p.is_file():
            out.append(rel)
        elif _sha256(p) != listed[rel]:
            out.append(f"{rel} (changed)")
    return out


def _resolved(path: str | Path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser())).resolve()


def _check_parents(out: Path, option: str) -> None:
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise OutputExistsError(
                f"{option} {out} is below {parent}, which is a file, not a folder; choose "
                f"another {option}"
            )


def _check_inputs(out: Path, inputs: Iterable[tuple[str, str | Path]], option: str,
                  *, directory: bool) -> None:
    target = _resolved(out)
    for role, path in inputs:
        p = _resolved(path)
        if p == target:
            raise OutputExistsError(
                f"{option} {out} is the {role} of this run; an output may never be an input; "
                f"choose another {option}"
            )
        if directory and target in p.parents:
            raise OutputExistsError(
                f"{option} {out} contains the {role} {path}; an output may never hold an "
                f"input of the same run; choose another {option}"
            )


def check_output_dir(
    out: str | Path,
    *,
    overwrite: bool,
    inputs: Iterable[tuple[str, str | Path]] = (),
    option: str = "--out",
) -> None:
    """Refuse an output directory a command may not write; call before any work.

    Parameters
    ----------
    out : path
        The directory the command will publish.
    overwrite : bool
        The user's ``--overwrite``: an existing ``out`` is replaced only with it, and only
        when every file in it is listed, unchanged, in its :data:`MARKER`.
    inputs : iterable of (role, path)
        The run's input files (e.g. ``("data file", path)``); none may be or lie in ``out``.
    option : str
        The option's name as the user typed it, for the message.

    Raises
    ------
    OutputExistsError
        One line naming the path and the fix.
    """
    out = Path(out)
    _check_parents(out, option)
    _check_inputs(out, inputs, option, directory=True)
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir() or out.is_symlink():
        raise OutputExistsError(
            f"{option} {out} is a file; expected a directory (this command writes a folder "
            f"of results); choose another {option}"
        )
    if not overwrite:
        raise OutputExistsError(
            f"output directory {out} already exists; expected a new directory; pass "
            f"--overwrite to replace it or choose another {option}"
        )
    foreign = foreign_files(out)
    if foreign:
        raise OutputExistsError(
            f"{out} holds files bayes-kfdi did not write (e.g. {foreign[0]}); --overwrite "
            f"replaces only the package's own output; choose another {option}"
        )


def check_output_file(
    out: str | Path,
    *,
    overwrite: bool,
    inputs: Iterable[tuple[str, str | Path]] = (),
    option: str = "--out",
    recognise: Callable[[Path], bool] | None = None,
    kind: str = "file",
) -> None:
    """Refuse an output file a command may not write; call before any work.

    ``recognise(path)`` says whether an existing file is the package's own output (e.g. a
    GMM JSON document); ``--overwrite`` replaces only such a file. Without it, any
    existing file is refused even with ``--overwrite``.

    Raises
    ------
    OutputExistsError
        One line naming the path and the fix.
    """
    out = Path(out)
    _check_parents(out, option)
    _check_inputs(out, inputs, option, directory=False)
    if out.is_dir():
        raise OutputExistsError(
            f"{option} {out} is a directory; expected a {kind} name such as "
            f"{out / ('results' + (out.suffix or '.json'))}; choose another {option}"
        )
    if not out.exists() and not out.is_symlink():
        return
    if not overwrite:
        raise OutputExistsError(
            f"{option} {out} already exists; pass --overwrite to replace it or choose "
            f"another {option}"
        )
    if out.is_symlink() or recognise is None or not recognise(out):
        raise OutputExistsError(
            f"{out} is not a {kind} bayes-kfdi wrote; --overwrite replaces only the "
            f"package's own output; choose another {option}"
        )
