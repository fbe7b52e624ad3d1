"""Wall time of the main job, as a user runs it: ``bayes-kfdi reproduce``.

Runs the CLI in a subprocess (so import and compile time count), once with ``--quick``
and once with the default settings, each into a fresh temporary directory, and prints
the wall time with the per-step times from the job's own output. Targets:
<= 90 s with --quick and <= 300 s without, on 2 cores.

Usage: .venv/bin/python benchmarks/reproduce_runtime.py [--quick-only] [--cold]

``--cold`` points PyTensor's compile cache (``base_compiledir``, which holds the numba
cache) at an empty temporary directory for each run, as on a fresh machine: the first
compile of the default model then takes about a minute instead of 15-30 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = REPO / ".venv" / "bin" / "bayes-kfdi"
TARGETS = {"quick": 90.0, "default": 300.0}


def run(label: str, extra: list[str], *, cold: bool = False) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        env = dict(os.environ)
        if cold:
            env["PYTENSOR_FLAGS"] = f"base_compiledir={Path(tmp) / 'pytensor'}"
        t0 = time.perf_counter()
        proc = subprocess.run([str(CLI), "reproduce", "--out", str(out), *extra],
                              capture_output=True, text=True, check=False, cwd=REPO, env=env)
        wall = time.perf_counter() - t0
    status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
    cache = "cold cache" if cold else "warm cache"
    print(f"{label:8s} {wall:7.1f} s  target {TARGETS[label]:.0f} s  {status}  ({cache})")
    for line in proc.stdout.splitlines():
        if line.split(":")[0] in {"validate", "data check", "GMM tables", "Bayesian fit",
                                  "comparison", "reports"}:
            print(f"         {line}")
    if proc.returncode != 0:
        print(proc.stderr[-2000:])
    return wall


def main() -> None:
    cold = "--cold" in sys.argv
    run("quick", ["--quick"], cold=cold)
    if "--quick-only" not in sys.argv:
        run("default", [], cold=cold)


if __name__ == "__main__":
    main()
