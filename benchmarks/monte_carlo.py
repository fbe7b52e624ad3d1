"""Monte Carlo: the paper's system GMM against the default Bayesian model.

Simulates Korea-shaped panels with ``bayes_kfdi.data.simulate.simulate_korea`` (with the
floor and without it), fits the paper's GMM equation for each series (the baseline commands of the
bundled ``paper/<series>.toml`` specs, run by ``bayes_kfdi.gmm.xtabond2`` on the
one-series frame) and the default Bayesian model (the bundled ``hierarchical.toml``, or
--spec FILE), and
prints bias, RMSE and 90% interval coverage of the slopes and rho under both methods.
GMM intervals are estimate +/- 1.645 Windmeijer-corrected SE.

Usage::

    .venv/bin/python benchmarks/monte_carlo.py --n 20 [--draws N --tune N --chains N]
        [--spec FILE.toml] [--out mc.csv] [--scheduler serial|local|ADDRESS --workers N]

The Bayesian fits run at the spec's own sampler settings unless --draws/--tune/--chains
are given: at the default, about 115-140 s per panel on 2 cores, GMM fits included.
Past runs are kept in ``results/monte_carlo_<n>x2[_<variant>]_<commit>.csv`` and
described in ``docs/decisions.md``. Copy a file and pass the copy as --out with the
matching --n to reprint its tables without refitting.

--out is rewritten after every panel and an existing file is resumed from. A seed the
simulator cannot calibrate is skipped (and said so); the next seed takes its place.

The full run (20 panels x 2 scenarios) takes well over an hour on 2 cores; --n sets the
count.

Each panel (its GMM fits and its Bayesian fit) is one task of a grid
(``bayes_kfdi.jobs.grid``): ``--scheduler serial`` (the default) fits them one after
another in this process, with the spec's chains in parallel on its ``cores``;
``--scheduler local`` starts a Dask LocalCluster of ``--workers`` single-threaded
processes, and an address (``tcp://host:8786``) uses a running Dask cluster whose
workers have this package installed (``pip install "bayes-kfdi[dask]"``). Under Dask each
fit runs its chains one after another (``cores = 1``) with one BLAS thread, so N workers
fit N panels at once on N cores: panels are many and independent, so one panel per core
keeps every core busy through tuning and compile, which parallel chains of one fit do not.
nutpie seeds every chain on its own, so the draws do not depend on ``cores``. The table
is written in the serial run's panel order whatever order the fits finish in; a panel
whose fit fails is reported and left out of --out, so the next run with the same --out
retries it.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm

from bayes_kfdi.bayes.fit import fit
from bayes_kfdi.bayes.model import build_model, prepare_data
from bayes_kfdi.bayes.spec import load_spec
from bayes_kfdi.data.simulate import simulate_korea
from bayes_kfdi.exceptions import DataError
from bayes_kfdi.gmm import xtabond2
from bayes_kfdi.jobs.grid import SERIAL, Task, iter_grid
from bayes_kfdi.paper.equations import equation_frame, load_equations
from bayes_kfdi.resources import models_dir

MODELS_DIR = models_dir()

ROOT = Path(__file__).resolve().parents[1]
Z90 = 1.6448536269514722
#: Seeds in a row the simulator may fail to calibrate before the run stops: two of the
#: first twenty fail in the measured runs, so twenty failures mean a broken set-up.
MAX_SKIPPED_SEEDS = 20


#: Trade responds to FDI at t-1 with this coefficient in the feedback scenario.
FEEDBACK = 0.1
#: A slope is "not identified" when its posterior sd exceeds this share of its prior sd.
NOT_IDENTIFIED_SD_RATIO = 0.5
#: Prior draws used to measure each slope's prior sd.
PRIOR_DRAWS = 1000


def covariate_sd(frame: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Sd of each covariate within each series (the effect-per-sd scale)."""
    covs = [c for c in ("gdp", "gdppc", "wage", "rd", "edu", "exports", "exunit", "imports",
                        "imunit") if c in frame]
    sd = frame.groupby("series")[covs].std(ddof=1)
    return {(s, c): float(sd.loc[s, c]) for s in sd.index for c in covs}


def truth_at(truth: dict, series: str, term: str, year: float) -> float:
    b = truth["beta"][series][term]
    return float(b + truth_trend(truth, series, term) * (year - truth["reference_year"]))


def truth_trend(truth: dict, series: str, term: str) -> float:
    return float(truth.get("beta_trend", {}).get(series, {}).get(term, 0.0))


def gmm_rows(frame: pd.DataFrame, truth: dict) -> list[dict]:
    """Baseline equations give rho and the level slopes; trend variants the trend slopes."""
    rows = []
    for eq in load_equations():
        if eq.series not in set(frame["series"]):
            continue
        sub = equation_frame(frame, eq)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = xtabond2(sub, eq.command, entity="country", time="year")
        except Exception as exc:  # a failed GMM fit is reported, not hidden
            print(f"  GMM failed for {eq.name}: {exc}")
            continue
        s = eq.series
        for name, est in res.params.items():
            se = float(res.std_errors[name])
            if eq.variant == "baseline" and name == "L.fdi":
                param, term, true = "rho", "lag", truth["rho"][s]
            elif eq.variant == "baseline" and name in truth["beta"][s]:
                param, term = "beta", name
                true = truth_at(truth, s, name, truth["reference_year"])
            elif eq.variant == "trend" and name.endswith("_trend"):
                param, term = "beta_trend", name[: -len("_trend")]
                true = truth_trend(truth, s, term)
            else:
                continue
            rows.append(
                {"method": "gmm", "parameter": param, "series": s, "term": term,
                 "estimate": float(est), "q05": est - Z90 * se, "q95": est + Z90 * se,
                 "sd": se, "truth": true}
            )
    return rows


def prior_sds(frame: pd.DataFrame, spec, seed: int) -> dict[tuple[str, str, str], float]:
    """Prior sd of every slope and trend slope, from prior draws of the fitted model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_model(spec, frame)
        names = [n for n in ("beta", "beta_trend") if n in model.named_vars]
        with model:
            prior = pm.sample_prior_predictive(draws=PRIOR_DRAWS, var_names=names,
                                               random_seed=seed)
    out = {}
    grp = prior["prior"] if "prior" in prior.children else prior.prior
    for n in names:
        da = grp[n]
        sd = da.std(dim=("chain", "draw"), ddof=1)
        tdim = next(d for d in sd.dims if d != "series")
        for s in sd["series"].values:
            for t in sd[tdim].values:
                out[(n, str(s), str(t))] = float(sd.sel({"series": s, tdim: t}))
    return out


def bayes_data_key(frame: pd.DataFrame, spec, seed: int) -> tuple[int, str]:
    """What the Bayesian fit sees: the seed and a hash of the model's prepared data.

    ``prepare_data`` clips outcomes below the floor under the censored and hurdle
    likelihoods, so a panel without the floor and its floor-coded twin (same seed) give
    such a model the same data; the fit is then reused rather than repeated (it would
    give the same numbers, same seed).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        md = prepare_data(spec, frame)
    digest = hashlib.sha256()
    for arr in (md.y, md.ylag, md.y0, md.X, md.all_y):
        digest.update(np.ascontiguousarray(arr).tobytes())
    return seed, digest.hexdigest()


def bayes_rows(frame: pd.DataFrame, truth: dict, spec, seed: int) -> list[dict]:
    psd = prior_sds(frame, spec, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(
            spec.with_sampler(seed=seed), frame, progress=False, predictive=False,
            log_likelihood=False,
        )
    ref = float(res.idata.attrs["reference_year"])
    d = res.diagnostics
    # the fit's diagnostics travel with each estimate, so a failed check can be traced
    fit_diag = {"max_rhat": d.max_rhat, "worst_rhat": d.worst_rhat,
                "min_ess_bulk": d.min_ess_bulk, "worst_ess": d.worst_ess,
                "divergences": d.n_divergent}
    rows = []
    for r in res.posterior_summary.itertuples():
        if r.parameter == "rho":
            true = truth["rho"][r.series]
        elif r.parameter == "beta":
            true = truth_at(truth, r.series, r.term, ref)
        elif r.parameter == "beta_trend":
            true = truth_trend(truth, r.series, r.term)
        else:
            continue
        rows.append(
            {"method": "bayes", "parameter": r.parameter, "series": r.series, "term": r.term,
             "estimate": r.mean, "q05": r.q05, "q95": r.q95, "sd": r.sd, "truth": true,
             "prior_sd": psd.get((r.parameter, r.series, r.term), np.nan),
             "converged": bool(r.converged), **fit_diag}
        )
    return rows


SCENARIOS = ("floor", "nofloor", "feedback")


def simulate(scenario: str, seed: int):
    kw = {"floor": scenario != "nofloor"}
    if scenario == "feedback":
        kw["feedback"] = FEEDBACK
    return simulate_korea(seed, **kw)


def panel_task(scenario: str, seed: int, spec, fit_bayes: bool) -> dict:
    """One panel of the grid: simulate it, fit GMM and (unless its twin does) the Bayes model.

    Returns the GMM rows, the Bayesian rows (None when not fitted here) and the covariate
    sds of this panel, which the driver puts together (a twin takes its owner's Bayes rows).
    """
    sim = simulate(scenario, seed)
    frame = sim.frame.drop(columns=["fdi_latent"], errors="ignore")
    return {"gmm": gmm_rows(frame, sim.truth),
            "bayes": bayes_rows(frame, sim.truth, spec, seed) if fit_bayes else None,
            "x_sd": covariate_sd(frame)}


@dataclass
class Panel:
    """A panel still to fit: its place, seed, and whose Bayesian fit it uses."""

    scenario: str
    rep: int
    seed: int
    owner: int  # index of the panel whose task fits the Bayes model (itself, or a twin)

    @property
    def label(self) -> str:
        return f"{self.scenario} rep={self.rep} seed={self.seed}"


def simulable_seed(scenario: str, first: int):
    """The first seed from ``first`` on that the simulator can calibrate, and its panel."""
    for seed in range(first, first + MAX_SKIPPED_SEEDS):
        try:
            return seed, simulate(scenario, seed)
        except DataError as exc:  # the simulator could not calibrate this seed
            print(f"{scenario} seed={seed}: skipped ({exc})", flush=True)
    raise SystemExit(
        f"{MAX_SKIPPED_SEEDS} seeds in a row could not be simulated; expected a "
        "seed to calibrate every few tries; fix the error printed above"
    )


def plan_panels(counts: dict, seed0: int, done: pd.DataFrame, spec,
                skip_bayes: bool) -> list[Panel]:
    """The panels not in ``done``, in the order the serial run fits them.

    Scenarios take turns panel by panel, so a run stopped early keeps equal counts. A
    panel whose Bayesian data equal an earlier panel's (see :func:`bayes_data_key`)
    names that panel as its owner and reuses its fit.
    """
    panels: list[Panel] = []
    next_seed = dict.fromkeys(SCENARIOS, seed0)
    owners: dict[tuple[int, str], int] = {}
    for i in range(max(counts.values())):
        for scenario in SCENARIOS:
            if i >= counts[scenario]:
                continue
            prior = (done[(done["scenario"] == scenario) & (done["rep"] == i)]
                     if len(done) else done)
            if len(prior):
                next_seed[scenario] = int(prior["seed"].iloc[0]) + 1
                continue
            seed, sim = simulable_seed(scenario, next_seed[scenario])
            next_seed[scenario] = seed + 1
            owner = len(panels)
            if not skip_bayes:
                frame = sim.frame.drop(columns=["fdi_latent"], errors="ignore")
                owner = owners.setdefault(bayes_data_key(frame, spec, seed), owner)
            panels.append(Panel(scenario, i, seed, owner))
    return panels


def panel_rows(panel: Panel, own: dict, owner: dict) -> list[dict]:
    """A panel's CSV rows: its GMM rows, then the Bayes rows of its owner (a copy)."""
    new = list(own["gmm"])
    if owner["bayes"] is not None:
        new += copy.deepcopy(owner["bayes"])
    for r in new:
        r["x_sd"] = own["x_sd"].get((r["series"], r["term"]), np.nan)
        r.update({"scenario": panel.scenario, "floor": panel.scenario != "nofloor",
                  "rep": panel.rep, "seed": panel.seed})
    return new


def summarise(df: pd.DataFrame) -> None:
    """Bias, RMSE (raw and per sd of the covariate) and 90% coverage by method."""
    df = df.copy()
    if "scenario" not in df:
        df["scenario"] = np.where(df["floor"], "floor", "nofloor")
    df["error"] = df["estimate"] - df["truth"]
    df["error_sd"] = df["error"] * df["x_sd"].where(df["parameter"] != "rho", 1.0)
    df["covered"] = (df["q05"] <= df["truth"]) & (df["truth"] <= df["q95"])
    if "prior_sd" in df:
        df["identified"] = ~(df["sd"] > NOT_IDENTIFIED_SD_RATIO * df["prior_sd"])
    else:
        df["identified"] = True

    def rmse(e: pd.Series) -> float:
        return float(np.sqrt(np.mean(e**2)))

    table = (
        df.groupby(["scenario", "parameter", "method"])
        .agg(bias_sd=("error_sd", "mean"), rmse=("error", rmse), rmse_sd=("error_sd", rmse),
             coverage90=("covered", "mean"), n=("error", "size"),
             not_identified=("identified", lambda v: float(1 - v.mean())))
        .reset_index()
    )
    print("All estimates (bias and rmse_sd on effect-per-sd units; rho on its own scale):")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    ident = df[(df["method"] == "bayes") & df["identified"]]
    if len(ident):
        t2 = (ident.groupby(["scenario", "parameter"])
              .agg(coverage90=("covered", "mean"), rmse_sd=("error_sd", rmse),
                   n=("error", "size")).reset_index())
        print("\nBayes, identified estimates only (posterior sd <= "
              f"{NOT_IDENTIFIED_SD_RATIO} x prior sd):")
        print(t2.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if {"gmm", "bayes"} <= set(df["method"]):
        wide = table.pivot_table(index=["scenario", "parameter"], columns="method",
                                 values="rmse_sd")
        wide["ratio_bayes_gmm"] = wide["bayes"] / wide["gmm"]
        print("\nRMSE per sd, Bayes / GMM:")
        print(wide.to_string(float_format=lambda v: f"{v:.3f}"))
    if "converged" in df:
        fits = df[df["method"] == "bayes"].groupby(["scenario", "rep"])
        b = fits["converged"].all()
        print(f"\nBayesian fits passing the convergence checks: {int(b.sum())} of {b.size}")
    by_series = (df.groupby(["scenario", "parameter", "series", "method"])
                 .agg(bias_sd=("error_sd", "mean"), rmse_sd=("error_sd", rmse),
                      coverage90=("covered", "mean")).unstack("method"))
    print("\nBy series:")
    print(by_series.to_string(float_format=lambda v: f"{v:.3f}"))


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="panels per scenario (floor, no floor)")
    ap.add_argument("--n-feedback", type=int, default=0, help="feedback panels")
    ap.add_argument("--seed0", type=int, default=1000)
    ap.add_argument("--spec", default=str(MODELS_DIR / "hierarchical.toml"))
    ap.add_argument("--draws", type=int, default=None)
    ap.add_argument("--tune", type=int, default=None)
    ap.add_argument("--chains", type=int, default=None)
    ap.add_argument("--skip-bayes", action="store_true")
    ap.add_argument("--out", default=None)
    ap.add_argument("--gmm-from", default=None,
                    help="results file whose GMM rows replace --out's in the printed tables "
                         "(same scenarios, reps and seeds; e.g. a --skip-bayes rerun after a "
                         "GMM engine change)")
    ap.add_argument("--scheduler", default=SERIAL,
                    help="serial (this process), local (a Dask LocalCluster) or the address "
                         "of a running Dask scheduler")
    ap.add_argument("--workers", type=int, default=2,
                    help="LocalCluster workers, each fitting one panel at a time on one core")
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    spec = load_spec(args.spec).with_sampler(draws=args.draws, tune=args.tune, chains=args.chains)
    if args.scheduler != SERIAL:
        # one core per worker: chains run one after another, so N workers fit N panels
        spec = spec.with_sampler(cores=1)
    out = Path(args.out) if args.out else None
    done = pd.read_csv(out) if out is not None and out.exists() else pd.DataFrame()
    t_start = time.perf_counter()
    counts = {"floor": args.n, "nofloor": args.n, "feedback": args.n_feedback}
    panels = plan_panels(counts, args.seed0, done, spec, args.skip_bayes)
    tasks = [Task(panel_task, {"scenario": p.scenario, "seed": p.seed, "spec": spec,
                               "fit_bayes": not args.skip_bayes and p.owner == k},
                  p.label) for k, p in enumerate(panels)]
    results: dict[int, dict] = {}
    finished: dict[int, list[dict]] = {}
    for res in iter_grid(tasks, scheduler=args.scheduler, n_workers=args.workers):
        if not res.ok:
            print(f"{res.label}: failed ({res.error}); rerun with the same --out to retry",
                  flush=True)
            continue
        results[res.index] = res.value
        # a panel is written once its own task and its Bayes owner's have both come back
        for k, p in enumerate(panels):
            if k in finished or k not in results or p.owner not in results:
                continue
            if p.owner != k:
                print(f"{p.label}: the Bayesian model sees the same data as the "
                      "floor-coded twin; its fit is reused", flush=True)
            new = finished[k] = panel_rows(p, results[k], results[p.owner])
            if out is not None:  # written after every panel, so a long run can resume
                write_rows(out, done, panels, finished)
            ok = all(r["converged"] for r in new if r["method"] == "bayes")
            conv = "" if args.skip_bayes else f"Bayes converged: {ok}, "
            print(f"{p.label}: {len(new)} estimates, {conv}"
                  f"{time.perf_counter() - t_start:.0f} s so far", flush=True)
    missing = [p.label for k, p in enumerate(panels) if k not in finished]
    if missing:
        print(f"{len(missing)} of {len(panels)} panels failed (or their twin's Bayesian fit "
              f"did) and are not in the table: {', '.join(missing)}")
    rows = done.to_dict("records") + [r for k in sorted(finished) for r in finished[k]]
    table = pd.DataFrame(rows)
    if args.gmm_from:
        table = replace_gmm_rows(table, pd.read_csv(args.gmm_from))
    summarise(table)


def replace_gmm_rows(table: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its GMM rows taken from ``other`` for the panels both hold."""
    key = ["scenario", "rep", "seed"]
    panels = table[key].drop_duplicates().merge(other[key].drop_duplicates())
    keep = table.merge(panels, on=key)
    gmm = other[other["method"] == "gmm"].merge(panels, on=key)
    print(f"GMM rows from --gmm-from for {len(panels)} panels")
    return pd.concat([keep[keep["method"] != "gmm"], gmm], ignore_index=True)


def write_rows(out: Path, done: pd.DataFrame, panels: list[Panel],
               finished: dict[int, list[dict]]) -> None:
    """Rewrite ``out``: the resumed rows, then the finished panels in the serial order."""
    rows = done.to_dict("records") + [r for k in sorted(finished) for r in finished[k]]
    pd.DataFrame(rows).to_csv(out, index=False)


if __name__ == "__main__":
    main()
