"""Time the multi-source job end to end, as a user runs it.

Runs ``bayes-kfdi reproduce --data ofdi_real --spec multi_source``
in a subprocess (compile, both fits, LOO, GMM and report included), then prints the
wall time against the 10-minute target, the per-step seconds from the run manifest,
the convergence diagnostics of both fits and the LOO verdict.

Usage: ``.venv/bin/python benchmarks/multi_source_runtime.py [--quick] [--out DIR]``.
The machine's load average is printed too: on shared cores the wall time depends on it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from bayes_kfdi.resources import data_dir, models_dir

MODELS_DIR = models_dir()
DATA_DIR = data_dir()

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 600.0


def main() -> int:
    """Run the job once and print the measurements."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run (short chains)")
    ap.add_argument("--out", type=Path, default=None, help="report directory (default: temp)")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="ms_bench_")) / "report"
    cmd = [str(REPO / ".venv" / "bin" / "bayes-kfdi"), "reproduce",
           "--data", str(DATA_DIR / "ofdi_real.csv"),
           "--spec", str(MODELS_DIR / "multi_source.toml"),
           "--out", str(out), "--overwrite"]
    if args.quick:
        cmd.append("--quick")
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr, sep="\n", file=sys.stderr)
        print(f"FAILED after {wall:.1f} s (exit {proc.returncode})")
        return 1
    run = out / "run"
    manifest = json.loads((run / "manifest.json").read_text())
    diag = json.loads((run / "diagnostics.json").read_text())
    print(f"wall time: {wall:.1f} s (target <= {TARGET_SECONDS:.0f} s: "
          f"{'met' if wall <= TARGET_SECONDS else 'NOT met'}); load average at start "
          f"{load0:.1f}, at end {os.getloadavg()[0]:.1f}, cpus {os.cpu_count()}")
    print("seconds by step:", {k: round(v, 1) for k, v in manifest["seconds"].items()})
    print("pooled fit:", {k: diag[k] for k in ("converged", "max_rhat", "min_ess_bulk",
                                                 "min_ess_tail", "n_divergent")})
    sep = run / "separate_diagnostics.json"
    if sep.is_file():
        d = json.loads(sep.read_text())
        print("per-source fit:", {k: d[k] for k in ("converged", "max_rhat", "min_ess_bulk",
                                                     "min_ess_tail", "n_divergent")})
    loo = run / "loo_pooled_vs_separate.csv"
    if loo.is_file():
        print(pd.read_csv(loo).round(2).to_string(index=False))
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
