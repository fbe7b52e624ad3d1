"""ESS per second of the default Bayesian model against a naive PyMC baseline.

Runs, one after the other on the Korean semi-synthetic panel (or --data FILE):

1. the default model (the bundled ``hierarchical`` spec) sampled by nutpie, wall time counted
   from model build to the last draw, compilation included;
2. the package baseline: this package's model code (same graph, same Tobit density)
   with every effect non-centred, unscaled covariates and PyMC's own NUTS
   (``nuts_sampler="pymc"``) at ``pm.sample``'s defaults: 4 chains x (1000 tune + 1000
   draws), target_accept 0.8;
3. the hand-written baseline (``naive_pymc.py``): the same model structure written as
   a PyMC user would write it, every effect non-centred, unscaled covariates,
   ``pm.Censored``, PyMC's row-by-row imputation, and ``pm.sample()`` exactly as it
   comes, which in PyMC 6.4 runs nutpie when nutpie is installed (as here).

A baseline that does not converge has a min ESS that is itself unreliable; the table
prints its R-hat and divergences, and the ratio line says so when a fit failed the
package's convergence checks.

The package baseline shares every gradient-level improvement of the default model
(one graph, one likelihood code path), so its ratio isolates parameterisation and
sampler; the hand-written one is what the package replaces.

Each side runs at its own defaults unless --draws/--tune/--chains override both. Prints
wall time, compile time, min bulk ESS over every posterior variable, min-ESS per second
and the ratio. Usage::

    .venv/bin/python benchmarks/bayes_speed.py [--data FILE] [--draws N] [--tune N]
        [--chains N] [--skip-baseline] [--skip-handwritten]
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import replace
from pathlib import Path

import pymc as pm
from naive_pymc import build_naive_model

from bayes_kfdi.bayes.diagnostics import diagnose
from bayes_kfdi.bayes.fit import sample_model
from bayes_kfdi.bayes.model import build_model, prepare_data
from bayes_kfdi.bayes.spec import load_spec
from bayes_kfdi.data import read_panel
from bayes_kfdi.resources import data_dir, models_dir

MODELS_DIR = models_dir()
DATA_DIR = data_dir()

ROOT = Path(__file__).resolve().parents[1]
#: pm.sample's own defaults (draws, tuning, chains, target acceptance, tree depth).
PYMC_DEFAULTS = {
    "draws": 1000, "tune": 1000, "chains": 4, "target_accept": 0.8, "max_treedepth": 10
}


def run(label, spec, panel, *, standardize=True):
    t0 = time.perf_counter()
    md = prepare_data(spec, panel, standardize=standardize)
    model = build_model(spec, md)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata, timings = sample_model(model, spec, progress=False)
    wall = time.perf_counter() - t0
    run_str = (f"{spec.sampler.chains}x({spec.sampler.tune}+{spec.sampler.draws}) "
               f"ta {spec.sampler.target_accept} d{spec.sampler.max_treedepth}")
    return _row(label, md.n_rows, run_str, wall, timings, idata)


def _row(label, n_rows, run_str, wall, timings, idata):
    """One table row: wall time, compile time, min ESS, R-hat, divergences, steps."""
    diag = diagnose(idata)
    stats = idata["sample_stats"]
    return {
        "model": label,
        "rows": n_rows,
        "run": run_str,
        "wall_s": wall,
        "compile_s": timings["compile"],
        "sample_s": timings["sample"],
        "min_ess_bulk": diag.min_ess_bulk,
        "max_rhat": diag.max_rhat,
        "divergences": diag.n_divergent,
        "leapfrog_per_draw": float(stats["n_steps"].mean()) if "n_steps" in stats
        else float("nan"),
        "min_ess_per_s": diag.min_ess_bulk / wall,
        "worst": diag.worst_ess,
        "converged": diag.converged,
    }


def run_handwritten(spec, panel, override):
    """Sample the hand-written baseline with ``pm.sample``'s defaults (seeded)."""
    cfg = {**PYMC_DEFAULTS, **override}
    t0 = time.perf_counter()
    md = prepare_data(spec, panel, standardize=False)
    model = build_naive_model(md, float(spec.floor))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with model:
            idata = pm.sample(
                draws=cfg["draws"], tune=cfg["tune"], chains=cfg["chains"],
                target_accept=cfg["target_accept"], cores=spec.sampler.cores,
                random_seed=spec.sampler.seed, progressbar=False,
                compute_convergence_checks=False,
            )
    wall = time.perf_counter() - t0
    run_str = f"{cfg['chains']}x({cfg['tune']}+{cfg['draws']}) ta {cfg['target_accept']}"
    nan = {"compile": float("nan"), "sample": float("nan")}
    return _row("hand-written PyMC", md.n_rows, run_str, wall, nan, idata)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA_DIR / "korea_semisynthetic.csv"))
    ap.add_argument("--spec", default=str(MODELS_DIR / "hierarchical.toml"))
    ap.add_argument("--draws", type=int, default=None)
    ap.add_argument("--tune", type=int, default=None)
    ap.add_argument("--chains", type=int, default=None)
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--skip-handwritten", action="store_true")
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
        rows.append(run("package baseline", naive, panel, standardize=False))
        print(rows[-1], flush=True)
    if not args.skip_handwritten:
        rows.append(run_handwritten(spec, panel, override))
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
    print()
    for r in rows[1:]:
        if r["min_ess_per_s"] > 0:
            ratio = rows[0]["min_ess_per_s"] / r["min_ess_per_s"]
            print(f"min-ESS/s ratio default / {r['model']}: {ratio:.1f}x")
            if not r["converged"]:
                # A chain that has not mixed has an ESS that measures nothing.
                print(
                    f"  not a measurement: the {r['model']} did not converge (max R-hat "
                    f"{r['max_rhat']:.3f}, min ESS {r['min_ess_bulk']:.0f}, "
                    f"{r['divergences']} divergent transitions), so its ESS and this "
                    "ratio are unreliable"
                )
    if not rows[0]["converged"]:
        print("the default fit itself did not converge: its ESS/s is unreliable")


if __name__ == "__main__":
    main()
