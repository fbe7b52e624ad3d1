"""``bayes-kfdi simulate``: check the output paths, simulate, write the CSV and its truth."""

from __future__ import annotations

import json
from pathlib import Path

from bayes_kfdi import writer
from bayes_kfdi.data.simulate import DEFAULT_SEED, SimulatedPanel, simulate_korea, write_simulated
from bayes_kfdi.exceptions import DataError
from bayes_kfdi.jobs.common import truth_path

__all__ = ["simulate_job"]


def _is_truth(path: Path) -> bool:
    """Whether ``path`` is a truth file the simulator wrote (a JSON object)."""
    try:
        return isinstance(json.loads(path.read_bytes()), dict)
    except (OSError, ValueError):
        return False


def _is_simulated(path: Path) -> bool:
    """Whether ``path`` is a simulated panel: its truth file lies beside it."""
    return _is_truth(truth_path(path))


def simulate_job(
    out: str | Path, *, seed: int | None = None, floor: bool = True, overwrite: bool = False
) -> tuple[SimulatedPanel, Path, Path]:
    """Simulate the semi-synthetic panel and write ``out`` and ``<stem>.truth.json``.

    Both paths follow the output policy (checked before simulating); ``--overwrite``
    replaces them only when they are a simulated panel and its truth.
    """
    out = Path(out)
    if out.suffix.lower() != ".csv" and not out.is_dir():
        raise DataError(f"--out {out} has suffix {out.suffix!r}; expected a .csv file name")
    writer.check_output_file(out, overwrite=overwrite, recognise=_is_simulated,
                             kind="simulated panel")
    writer.check_output_file(truth_path(out), overwrite=overwrite, recognise=_is_truth,
                             option="--out's truth file", kind="truth file")
    if not out.parent.is_dir():
        raise DataError(f"output folder {out.parent} does not exist; create it first")
    sim = simulate_korea(DEFAULT_SEED if seed is None else seed, floor=floor)
    csv, truth = write_simulated(sim, out)
    return sim, csv, truth
