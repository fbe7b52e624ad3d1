"""Per-series slope errors of a Bayesian fit and of the paper's GMM on a panel with truth.

Usage::

    .venv/bin/python benchmarks/korea_recovery.py FIT_DIR [--data FILE]

Reads FIT_DIR/summary.csv (written by ``bayes-kfdi fit``), the truth JSON next to the
data file (default: the shipped ``korea_semisynthetic.csv``), fits the paper's baseline
GMM equation per series (the bundled ``paper/*.toml`` specs) and prints, per series, the
RMSE of the slopes and the error of rho under both methods, plus the Bayesian 90%
coverage and the convergence flag.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from monte_carlo import Z90, truth_at

from bayes_kfdi.gmm import xtabond2
from bayes_kfdi.paper.equations import load_equations
from bayes_kfdi.resources import data_dir

DATA_DIR = data_dir()

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fit_dir")
    ap.add_argument("--data", default=str(DATA_DIR / "korea_semisynthetic.csv"))
    args = ap.parse_args()
    data = Path(args.data)
    truth = json.loads(data.with_suffix(".truth.json").read_text())
    summ = pd.read_csv(Path(args.fit_dir) / "summary.csv")
    ref = float(summ.loc[summ["parameter"] == "beta", "year"].dropna().iloc[0]) if summ.loc[
        summ["parameter"] == "beta", "year"].notna().any() else truth["reference_year"]
    b = summ[summ["parameter"] == "beta"].copy()
    b["truth"] = [truth_at(truth, s, t, ref) for s, t in zip(b["series"], b["term"], strict=True)]
    b["err"] = b["mean"] - b["truth"]
    b["covered"] = (b["q05"] <= b["truth"]) & (b["truth"] <= b["q95"])
    rho = summ[summ["parameter"] == "rho"].set_index("series")["mean"]
    frame = pd.read_csv(data).drop(columns=["fdi_latent"], errors="ignore")
    rows = []
    # GMM slopes are compared with the truth at its reference year, as in monte_carlo.py
    gmm_year = truth["reference_year"]
    baseline = {e.series: e.command for e in load_equations() if e.variant == "baseline"}
    for s, cmd in baseline.items():
        sub = frame[frame["series"] == s].drop(columns=["series"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                g = xtabond2(sub, cmd, entity="country", time="year")
                gp, gse = g.params, g.std_errors
            except Exception as exc:
                print(f"GMM failed for {s}: {exc}")
                gp, gse = pd.Series(dtype=float), pd.Series(dtype=float)
        bs = b[b["series"] == s]
        gerr = [gp[t] - truth_at(truth, s, t, gmm_year) for t in bs["term"] if t in gp]
        gcov = [
            abs(gp[t] - truth_at(truth, s, t, gmm_year)) <= Z90 * gse[t]
            for t in bs["term"] if t in gp
        ]
        rows.append(
            {
                "series": s,
                "bayes_slope_rmse": float(np.sqrt(np.mean(bs["err"] ** 2))),
                "gmm_slope_rmse": float(np.sqrt(np.mean(np.square(gerr)))) if gerr else np.nan,
                "bayes_cov90": float(bs["covered"].mean()),
                "gmm_cov90": float(np.mean(gcov)) if gcov else np.nan,
                "bayes_rho_err": float(rho[s] - truth["rho"][s]),
                "gmm_rho_err": float(gp["L.fdi"] - truth["rho"][s]) if "L.fdi" in gp else np.nan,
            }
        )
    out = pd.DataFrame(rows)
    print(out.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\nBayesian 90% coverage of all slopes: {b['covered'].mean():.3f} "
          f"({int(b['covered'].sum())}/{len(b)}); converged flag: {bool(summ['converged'].all())}")


if __name__ == "__main__":
    main()
