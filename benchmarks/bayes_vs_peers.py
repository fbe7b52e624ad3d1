"""Time to a converged answer and slope accuracy: the default model against Bambi and PyMC.

One run, one panel (the shipped Korea-shaped panel, or --data FILE with its
``<stem>.truth.json`` beside it), the methods one after the other, each with 4 chains
on 2 cores:

1. Bambi (``pip install "bayes-kfdi[peers]"``), the closest model its formula can
   express: a left-censored Gaussian response at the floor (``censored(fdi, cens)``),
   the lagged outcome as a column with a coefficient per series, series intercepts and
   trends, every covariate standardised with a common slope and a deviation per series
   (``(0 + x | series)``), the wage and import unit-value slopes interacted with time as
   in the default spec, and a country intercept ``(1 | country)``, on complete cases.
   It cannot express the Wooldridge initial conditions (unit effects that depend on the
   first outcome and the covariate means), the imputation of missing covariates, the
   coefficient on a floor-coded lag, or motives nested under their sector; it fits the
   rest. Run with its default sampler (PyMC's NUTS), then with nutpie.
2. The plain-PyMC baseline (``naive_pymc.py``) with ``pm.sample()`` as it comes.
3. This package's default (``hierarchical.toml``) as ``bayes_kfdi.bayes.fit`` runs it.

The convergence checks are the same for all: max R-hat <= 1.01, min bulk ESS >= 400 over
every posterior variable, no divergent transitions. A peer runs at ``pm.sample``'s
defaults (1000 tuning + 1000 draws, target acceptance 0.8) and, while it fails, again
with more draws and a higher target acceptance (``LADDER``), until it passes or --cap
seconds have gone (no attempt starts after the cap). The default model runs once, at its
own settings. A method's wall time is the sum of its attempts, model build and compile
included: what a user waits for a converged answer. Min ESS per second is the last
attempt's min bulk ESS over that wall time.

Accuracy: slope RMSE per sd (the error times the covariate's within-series sd) and 90%
interval coverage against the truth, over the slopes at the reference year other than
the electronics family's unit values, which no method recovers on this panel.

Usage::

    .venv/bin/python benchmarks/bayes_vs_peers.py [--data FILE] [--cap SECONDS]
        [--skip bambi naive default] [--out peers.csv] [--smoke]

--smoke runs each method once with 2 chains x (50 + 50) draws: it checks the script and
measures nothing.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from monte_carlo import covariate_sd, truth_at
from naive_pymc import TREND_TERMS, build_naive_model

from bayes_kfdi.bayes.diagnostics import diagnose
from bayes_kfdi.bayes.fit import fit
from bayes_kfdi.bayes.likelihoods import AT_FLOOR_TOL
from bayes_kfdi.bayes.model import prepare_data
from bayes_kfdi.bayes.spec import load_spec
from bayes_kfdi.data import read_panel
from bayes_kfdi.paper.tables import read_truth
from bayes_kfdi.resources import data_dir, models_dir
from bayes_kfdi.writer import write_csv

RHAT_MAX, ESS_MIN = 1.01, 400
CHAINS, CORES = 4, 2
#: (tune, draws, target acceptance) of a peer's attempts, pm.sample's defaults first.
LADDER = ((1000, 1000, 0.8), (1000, 2000, 0.9), (2000, 4000, 0.95), (2000, 8000, 0.99))
SMOKE = {"chains": 2, "ladder": ((50, 50, 0.8),)}
#: Series of the electronics family, whose unit-value slopes no method recovers here.
ELECTRONICS = "electronics"
UNIT_VALUES = ("exunit", "imunit")
BAMBI_MISSING = ("bambi is not installed, so the Bambi rows are skipped; install it with "
                 "pip install \"bayes-kfdi[peers]\" (or pip install bambi)")
Z = "_z"


def passes(d) -> bool:
    """The benchmark's convergence checks (R-hat, bulk ESS, divergences)."""
    return d.max_rhat <= RHAT_MAX and d.min_ess_bulk >= ESS_MIN and d.n_divergent == 0


def slope_table(draws: xr.DataArray) -> pd.DataFrame:
    """Mean and 90% interval of (chain, draw, series, term) slope draws, one row a slope."""
    flat = draws.stack(sample=("chain", "draw"))
    rows = []
    for s in flat["series"].values:
        for t in flat["term"].values:
            v = flat.sel(series=s, term=t).values
            rows.append({"series": str(s), "term": str(t), "estimate": float(v.mean()),
                         "q05": float(np.quantile(v, 0.05)),
                         "q95": float(np.quantile(v, 0.95))})
    return pd.DataFrame(rows)


def accuracy(slopes: pd.DataFrame, truth: dict, ref: float, x_sd: dict) -> dict:
    """Slope RMSE per sd and 90% coverage over the slopes the panel identifies."""
    keep = ~(slopes["series"].str.startswith(ELECTRONICS) & slopes["term"].isin(UNIT_VALUES))
    s = slopes[keep & slopes["series"].isin(truth["beta"])].copy()
    s["truth"] = [truth_at(truth, a, b, ref) for a, b in zip(s["series"], s["term"], strict=True)]
    sd = np.array([x_sd[(a, b)] for a, b in zip(s["series"], s["term"], strict=True)])
    err = (s["estimate"].to_numpy() - s["truth"].to_numpy()) * sd
    covered = (s["q05"] <= s["truth"]) & (s["truth"] <= s["q95"])
    return {"rmse_sd": float(np.sqrt(np.mean(err**2))), "coverage90": float(covered.mean()),
            "n_slopes": len(s)}


def converge(label: str, run_once: Callable, ladder, cap: float) -> dict:
    """Run ``run_once(tune, draws, target_accept)`` up the ladder until it converges."""
    t0 = time.perf_counter()
    tried = []
    for tune, draws, ta in ladder:
        if tried and time.perf_counter() - t0 > cap:
            print(f"{label}: stopped at the {cap:.0f} s cap without converging", flush=True)
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata, slopes = run_once(tune, draws, ta)
        d = diagnose(idata)
        tried.append(f"({tune}+{draws}) ta {ta}")
        print(f"{label}: {tried[-1]}: max R-hat {d.max_rhat:.3f}, min bulk ESS "
              f"{d.min_ess_bulk:.0f}, {d.n_divergent} divergent, "
              f"{time.perf_counter() - t0:.0f} s so far", flush=True)
        if passes(d):
            break
    wall = time.perf_counter() - t0
    return {"method": label, "attempts": "; ".join(tried), "wall_s": wall,
            "converged": passes(d), "max_rhat": d.max_rhat, "min_ess_bulk": d.min_ess_bulk,
            "divergences": d.n_divergent, "ess_per_s": d.min_ess_bulk / wall, "slopes": slopes}


def bambi_frame(frame: pd.DataFrame, terms: list[str], floor: float, ref: float):
    """Complete cases with the lag as a column, standardised covariates, and their sds."""
    d = frame.sort_values(["series", "country", "year"]).copy()
    g = d.groupby(["series", "country"])
    d["lag_fdi"] = g["fdi"].shift(1).where(g["year"].diff() == 1)
    d = d.dropna(subset=["fdi", "lag_fdi", *terms]).reset_index(drop=True)
    d["t"] = (d["year"] - ref) / 10.0
    sd = {}
    for k in terms:
        sd[k] = float(d[k].std(ddof=1))
        d[k + Z] = (d[k] - d[k].mean()) / sd[k]
        if k in TREND_TERMS:
            d[k + "_t"] = d[k + Z] * d["t"]
    at_floor = d["fdi"] <= floor + AT_FLOOR_TOL
    d["cens"] = np.where(at_floor, "left", "none")
    d["fdi"] = d["fdi"].where(~at_floor, floor)
    return d, sd


def bambi_runner(frame, terms, floor, ref, seed, chains, method):
    import bambi as bmb

    d, sd = bambi_frame(frame, terms, floor, ref)
    xs = [k + Z for k in terms] + [k + "_t" for k in terms if k in TREND_TERMS]
    rhs = " + ".join(xs)
    formula = (f"censored(fdi, cens) ~ 0 + series + lag_fdi:series + t:series + {rhs} "
               f"+ (0 + {rhs} | series) + (1 | country)")
    if method == "pymc":
        print(f"Bambi: {len(d)} complete-case rows of {len(frame)}; {formula}", flush=True)

    def run_once(tune, draws, ta):
        model = bmb.Model(formula, d, family="gaussian")
        idata = model.fit(draws=draws, tune=tune, chains=chains, cores=CORES,
                          target_accept=ta, random_seed=seed, inference_method=method,
                          progressbar=False)
        post = idata["posterior"].to_dataset()
        series = [str(s) for s in post["series__factor_dim"].values]
        cols = []
        for k in terms:
            total = post[k + Z] + post[f"{k}{Z}|series"]  # common slope + series deviation
            cols.append((total / sd[k]).rename({"series__factor_dim": "series"}))
        slopes = xr.concat(cols, dim=pd.Index(terms, name="term")).assign_coords(series=series)
        return idata, slope_table(slopes.transpose("chain", "draw", "series", "term"))

    return run_once


def naive_runner(spec, panel, seed, chains):
    def run_once(tune, draws, ta):
        md = prepare_data(spec, panel, standardize=False)
        with build_naive_model(md, float(spec.floor)):
            idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=CORES,
                              target_accept=ta, random_seed=seed, progressbar=False,
                              compute_convergence_checks=False)
        return idata, slope_table(idata["posterior"]["beta"])

    return run_once


def default_runner(spec, panel):
    def run_once(tune, draws, ta):
        res = fit(spec.with_sampler(tune=tune, draws=draws, target_accept=ta), panel,
                  progress=False, predictive=False, log_likelihood=False)
        s = res.posterior_summary
        s = s[s["parameter"] == "beta"].rename(columns={"mean": "estimate"})
        return res.idata, s[["series", "term", "estimate", "q05", "q95"]]

    return run_once


def print_table(rows: list[dict]) -> None:
    print(f"\n{'method':22s} {'wall s':>7s} {'conv':>5s} {'R-hat':>6s} {'minESS':>7s} "
          f"{'div':>5s} {'ESS/s':>7s} {'RMSE/sd':>8s} {'cov90':>6s}  attempts")
    for r in rows:
        print(f"{r['method']:22s} {r['wall_s']:7.1f} {r['converged']!s:>5s} "
              f"{r['max_rhat']:6.3f} {r['min_ess_bulk']:7.0f} {r['divergences']:5d} "
              f"{r['ess_per_s']:7.2f} {r['rmse_sd']:8.3f} {r['coverage90']:6.3f}  "
              f"{r['attempts']}")
    base = next((r for r in rows if r["method"] == "default"), None)
    if base is None:
        return
    print(f"\nslopes compared: {base['n_slopes']}")
    if not base["converged"]:
        print("the default fit did not converge: its ESS per second is not a measurement")
    for r in rows:
        if r is base:
            continue
        note = "" if r["converged"] else "  (the peer did not converge: not a measurement)"
        speed = base["ess_per_s"] / r["ess_per_s"]
        print(f"default / {r['method']}: min-ESS per second {speed:.1f}x, "
              f"RMSE per sd {base['rmse_sd'] / r['rmse_sd']:.2f}x{note}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(data_dir() / "korea_semisynthetic.csv"))
    ap.add_argument("--spec", default=str(models_dir() / "hierarchical.toml"))
    ap.add_argument("--cap", type=float, default=1800.0,
                    help="seconds after which a method starts no new attempt")
    ap.add_argument("--skip", nargs="*", default=[], choices=("bambi", "naive", "default"))
    ap.add_argument("--out", default=None, help="write the table to this CSV")
    ap.add_argument("--smoke", action="store_true",
                    help="2 chains x (50 + 50), one attempt each: checks the script only")
    args = ap.parse_args()
    truth = read_truth(args.data)
    if truth is None:
        raise SystemExit(f"{args.data}: no truth JSON beside it; pass a simulated panel")
    panel = read_panel(args.data)
    chains = SMOKE["chains"] if args.smoke else CHAINS
    ladder = SMOKE["ladder"] if args.smoke else LADDER
    spec = load_spec(args.spec).with_sampler(chains=chains, cores=CORES)
    if args.smoke:
        spec = spec.with_sampler(draws=50, tune=50)
    md = prepare_data(spec, panel)
    ref, terms, seed = float(md.reference_year), list(md.terms), spec.sampler.seed
    x_sd = covariate_sd(panel.frame)
    runs: list[tuple[str, Callable, tuple]] = []
    if "bambi" not in args.skip:
        try:
            import bambi  # noqa: F401
        except ImportError:
            print(BAMBI_MISSING, flush=True)
        else:
            for method, label in (("pymc", "Bambi (PyMC NUTS)"), ("nutpie", "Bambi (nutpie)")):
                runner = bambi_runner(panel.frame, terms, float(spec.floor), ref, seed,
                                      chains, method)
                runs.append((label, runner, ladder))
    if "naive" not in args.skip:
        runs.append(("plain PyMC", naive_runner(spec, panel, seed, chains), ladder))
    if "default" not in args.skip:
        s = spec.sampler
        own = ((s.tune, s.draws, s.target_accept),)
        runs.append(("default", default_runner(spec, panel), own))
    rows = []
    for label, runner, steps in runs:
        row = converge(label, runner, steps, args.cap)
        row.update(accuracy(row.pop("slopes"), truth, ref, x_sd))
        rows.append(row)
    print_table(rows)
    if args.smoke:
        print("\n--smoke: 2 chains x (50 + 50) draws; these numbers measure nothing")
    if args.out:
        write_csv(args.out, pd.DataFrame(rows))


if __name__ == "__main__":
    main()
