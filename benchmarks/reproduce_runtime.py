"""Wall time of the main job, as a user runs it: ``bayes-kfdi reproduce``.

Runs the CLI in a subprocess (so import and compile time count), once with ``--quick``
and once with the default settings, each into a fresh temporary directory, and prints
the wall time with the per-step times from the job's own output. Targets (issue 7):
<= 90 s with --quick and <= 300 s without, on 2 cores.

Usage: .venv/bin/python benchmarks/reproduce_runtime.py [--quick-only]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = REPO / ".venv" / "bin" / "bayes-kfdi"
TARGETS = {"quick": 90.0, "default": 300.0}


def run(label: str, extra: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        t0 = time.perf_counter()
        proc = subprocess.run([str(CLI), "reproduce", "--out", str(out), *extra],
                              capture_output=True, text=True, check=False, cwd=REPO)
        wall = time.perf_counter() - t0
    status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
    print(f"{label:8s} {wall:7.1f} s  target {TARGETS[label]:.0f} s  {status}")
    for line in proc.stdout.splitlines():
        if line.split(":")[0] in {"validate", "data check", "GMM tables", "Bayesian fit",
                                  "comparison", "reports"}:
            print(f"         {line}")
    if proc.returncode != 0:
        print(proc.stderr[-2000:])
    return wall


def main() -> None:
    run("quick", ["--quick"])
    if "--quick-only" not in sys.argv:
        run("default", [])


if __name__ == "__main__":
    main()
