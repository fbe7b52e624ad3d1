"""ESS per second of the default Bayesian model against a naive PyMC baseline.

Runs, one after the other on the Korean semi-synthetic panel (or --data FILE):

1. the default model (models/hierarchical.toml) sampled by nutpie, wall time counted
   from model build to the last draw, compilation included;
2. the naive baseline: the same likelihood with every effect non-centred, unscaled
   covariates and PyMC's default NUTS sampler as it comes (``pm.sample``'s defaults:
   4 chains x (1000 tune + 1000 draws), target_accept 0.8).

Each side runs at its own defaults unless --draws/--tune/--chains override both. Prints
wall time, compile time, min bulk ESS over every posterior variable, min-ESS per second
and the ratio. Usage::

    .venv/bin/python benchmarks/bayes_speed.py [--data FILE] [--draws N] [--tune N]
        [--chains N] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import replace
from pathlib import Path

import pymc as pm

from bayes_kfdi.bayes.diagnostics import diagnose
from bayes_kfdi.bayes.fit import sample_model
from bayes_kfdi.bayes.model import build_model, prepare_data
from bayes_kfdi.bayes.spec import load_spec
from bayes_kfdi.data import read_panel

ROOT = Path(__file__).resolve().parents[1]
#: pm.sample's own defaults: the baseline is PyMC's sampler as it comes.
PYMC_DEFAULTS = {"draws": 1000, "tune": 1000, "chains": 4, "target_accept": 0.8}


def run(label, spec, panel, *, standardize=True):
    t0 = time.perf_counter()
    md = prepare_data(spec, panel, standardize=standardize)
    model = build_model(spec, md)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata, timings = sample_model(model, spec, progress=False)
    wall = time.perf_counter() - t0
    diag = diagnose(idata)
    mean_steps = float(idata["sample_stats"]["n_steps"].mean()) if "n_steps" in idata[
        "sample_stats"
    ] else float("nan")
    return {
        "model": label,
        "rows": md.n_rows,
        "run": f"{spec.sampler.chains}x({spec.sampler.tune}+{spec.sampler.draws}) "
        f"ta {spec.sampler.target_accept}",
        "wall_s": wall,
        "compile_s": timings["compile"],
        "sample_s": timings["sample"],
        "min_ess_bulk": diag.min_ess_bulk,
        "max_rhat": diag.max_rhat,
        "divergences": diag.n_divergent,
        "leapfrog_per_draw": mean_steps,
        "min_ess_per_s": diag.min_ess_bulk / wall,
        "worst": diag.worst_ess,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "korea_semisynthetic.csv"))
    ap.add_argument("--spec", default=str(ROOT / "models" / "hierarchical.toml"))
    ap.add_argument("--draws", type=int, default=None)
    ap.add_argument("--tune", type=int, default=None)
    ap.add_argument("--chains", type=int, default=None)
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()
    panel = read_panel(args.data)
    override = {"draws": args.draws, "tune": args.tune, "chains": args.chains}
    override = {k: v for k, v in override.items() if v is not None}
    spec = load_spec(args.spec).with_sampler(**override)
    rows = [run("default (nutpie)", spec, panel)]
    print(rows[-1], flush=True)
    if not args.skip_baseline:
        naive = replace(
            spec,
            centering={
                "country": "noncentered", "unit": "noncentered", "slopes": "noncentered",
                "rho": "noncentered",
            },
        ).with_sampler(sampler="pymc", **{**PYMC_DEFAULTS, **override})
        rows.append(run("naive PyMC baseline", naive, panel, standardize=False))
        print(rows[-1], flush=True)
    print()
    print(f"{'model':24s} {'rows':>5s} {'draws':>22s} {'wall s':>7s} {'compile':>7s} "
          f"{'minESS':>7s} "
          f"{'R-hat':>6s} {'div':>4s} {'steps':>6s} {'ESS/s':>7s}")
    for r in rows:
        print(
            f"{r['model']:24s} {r['rows']:5d} {r['run']:>22s} {r['wall_s']:7.1f} "
            f"{r['compile_s']:7.1f} "
            f"{r['min_ess_bulk']:7.0f} {r['max_rhat']:6.3f} {r['divergences']:4d} "
            f"{r['leapfrog_per_draw']:6.1f} {r['min_ess_per_s']:7.2f}"
        )
    if len(rows) == 2 and rows[1]["min_ess_per_s"] > 0:
        ratio = rows[0]["min_ess_per_s"] / rows[1]["min_ess_per_s"]
        print(f"\nmin-ESS/s ratio default / baseline: {ratio:.1f}x")
    _ = pm  # the baseline uses pm.sample via sample_model(sampler="pymc")


if __name__ == "__main__":
    main()
