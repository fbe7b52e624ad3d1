"""Time ``bayes-kfdi paper`` end to end (process start to exit); the target is under 30 s.

Usage: ``python benchmarks/paper_runtime.py [--data FILE] [--repeat N] [--no-robustness]``.
Prints each run's wall time, the median, and the machine's CPU count. Run it on a quiet
machine; other jobs on the same cores inflate the figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bayes_kfdi.resources import data_dir

DATA_DIR = data_dir()

TARGET_SECONDS = 30.0
REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=str(DATA_DIR / "korea_semisynthetic.csv"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-robustness", action="store_true")
    args = ap.parse_args()
    exe = shutil.which("bayes-kfdi", path=str(Path(sys.executable).parent)) or "bayes-kfdi"
    times = []
    for i in range(args.repeat):
        out = Path(tempfile.mkdtemp(prefix="paper_bench_"))
        cmd = [exe, "paper", "--data", args.data, "--out", str(out)]
        if args.no_robustness:
            cmd.append("--no-robustness")
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        shutil.rmtree(out, ignore_errors=True)
        if proc.returncode != 0:
            sys.exit(f"run {i + 1} failed ({proc.returncode}): {proc.stderr.strip()}")
        times.append(dt)
        print(f"run {i + 1}: {dt:.2f} s", flush=True)
    med = statistics.median(times)
    print(
        f"bayes-kfdi paper ({'no robustness' if args.no_robustness else 'full'}) on "
        f"{Path(args.data).name}: median {med:.2f} s, min {min(times):.2f} s over "
        f"{len(times)} runs; {os.cpu_count()} CPUs visible; target < {TARGET_SECONDS:.0f} s: "
        f"{'met' if med < TARGET_SECONDS else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
