"""Benchmark: bayes_kfdi's xtabond2 engine vs pydynpd 0.2.2, under two BLAS thread settings.

Run from the repository root with the project's venv::

    .venv/bin/python benchmarks/gmm_vs_pydynpd.py            # the Arellano-Bond system case
    .venv/bin/python benchmarks/gmm_vs_pydynpd.py --large    # + N=1000 T=20 and N=2000 T=30
    git archive <commit> src | tar -x -C /tmp/before              # an earlier engine ...
    .venv/bin/python benchmarks/gmm_vs_pydynpd.py --baseline-src /tmp/before/src  # ... too

It creates ``benchmarks/.venv-pydynpd`` (gitignored) with ``pydynpd==0.2.2`` and
``numpy<2.4`` on first use (pydynpd 0.2.2 calls ``np.in1d``, which NumPy 2.4 removed), so
pydynpd never enters the project's environment. For each specification and each thread
setting,

* **one BLAS thread**: ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1`` in
  the environment of both sides before NumPy is imported;
* **default threads**: those variables removed, so each side's BLAS picks its own count;

it alternates ``ROUNDS`` rounds of: one pydynpd worker (its venv) and one worker of ours
(this venv), each a fresh process that fits once untimed and then times ``REPEATS``
in-process calls of the public entry point with the command as a string, so parsing,
instrument building and the tests are all included: ``regression.abond(cmd, df, ids)``
and ``xtabond2(df, cmd, entity=..., time=...)``. Our worker alternates two kinds of call:
the same command string again (the parsed command is reused, as in a loop over data sets
with the same columns) and a fresh string each time (extra trailing blanks, so the
command is parsed anew). Each ``--baseline-src`` adds a worker to every round that runs
the same calls on another copy of the package (e.g. an earlier commit), for before/after
ratios measured in the same run. Interleaving the rounds spreads the load of other processes on
shared cores over both sides.

It reports the **median** of the ``rounds * REPEATS`` timings per side (and the minimum),
their ratios, the BLAS thread counts each side saw, and whether the estimates agree to
``AGREE_RTOL``. pydynpd is used only as a numerical cross-check; none of its code is
copied.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "benchmarks" / ".venv-pydynpd"
PY = VENV / "bin" / "python"
REPEATS = 7  # timed fits per side per round, after one untimed warm-up call
ROUNDS = 3  # interleaved pydynpd/ours rounds; the median is over ROUNDS * REPEATS fits
#: pydynpd and we implement the same estimator (xtabond2's h(3) one-step matrix); the
#: only differences are floating-point summation order.
AGREE_RTOL = 1e-6
GOAL_RATIO = 10.0
LARGE_N, LARGE_T = 2000, 30
GOAL_SECONDS, GOAL_GB = 10.0, 4.0

#: Variables that set BLAS/OpenMP thread counts; "default threads" removes all of them.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
SETTINGS = {
    "one BLAS thread": {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                        "MKL_NUM_THREADS": "1"},
    "default threads": {},
}

SPECS = {
    "abdata system GMM (cases.json)": dict(
        data="abdata",
        ours="xtabond2 n L(1/2).n w k, gmm(n, lag(2 4)) gmm(w, lag(1 3)) iv(k) twostep robust",
        pydynpd="n L(1:2).n w k | gmm(n, 2:4) gmm(w, 1:3) iv(k)",
        entity="id",
        time="year",
    ),
    "simulated N=1000, T=20 system GMM": dict(
        data="sim1000",
        ours="xtabond2 y L.y x, gmm(y, lag(2 .)) gmm(x, lag(1 .)) twostep robust",
        pydynpd="y L1.y x | gmm(y, 2:.) gmm(x, 1:.)",
        entity="id",
        time="year",
        rounds=1,  # pydynpd takes 10-30 s a fit here; one round is still REPEATS per side
        large=True,
    ),
}


def simulate(n: int, t: int) -> pd.DataFrame:
    """The package's AR(1) benchmark panel (true rho = 0.5, beta = 0.3), fixed seed."""
    from bayes_kfdi.data.simulate import simulate_ar1_panel

    return simulate_ar1_panel(n, t, seed=12345, burn=50)


def ensure_venv() -> None:
    if PY.exists():
        ok = subprocess.run([str(PY), "-c", "import pydynpd, threadpoolctl"],
                            capture_output=True)
        if ok.returncode == 0:
            return
    print(f"creating {VENV} with pydynpd==0.2.2 ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(PY), "-m", "pip", "install", "-q", "pydynpd==0.2.2", "numpy<2.4",
                    "pandas", "scipy", "threadpoolctl"], check=True)


def blas_threads() -> str:
    """BLAS libraries loaded in this process and their thread counts, e.g. ``openblas:1``."""
    from threadpoolctl import threadpool_info

    return ",".join(f"{i['internal_api']}:{i['num_threads']}" for i in threadpool_info()
                    if i["user_api"] == "blas") or "none"


def pydynpd_worker(csv: str, cmd: str, entity: str, time_col: str, repeats: str) -> None:
    """Runs inside the pydynpd venv: fit, time, print JSON on the last stdout line."""
    import contextlib
    import io

    from pydynpd import regression

    df = pd.read_csv(csv)
    times = []
    with contextlib.redirect_stdout(io.StringIO()):
        res = regression.abond(cmd, df, [entity, time_col])  # warm-up
        for _ in range(int(repeats)):
            t0 = time.perf_counter()
            res = regression.abond(cmd, df, [entity, time_col])
            times.append(time.perf_counter() - t0)
    tab = res.models[0].regression_table
    print(json.dumps({
        "times": times,
        "blas": blas_threads(),
        "coef": {_name(v): float(c) for v, c in zip(tab["variable"], tab["coefficient"],
                                                     strict=True)},
        "se": {_name(v): float(c) for v, c in zip(tab["variable"], tab["std_err"],
                                                   strict=True)},
        "hansen": float(res.models[0].hansen.test_value),
    }))


def ours_worker(csv: str, cmd: str, entity: str, time_col: str, repeats: str) -> None:
    """Our side in a fresh process: alternate repeated and freshly parsed commands."""
    from bayes_kfdi.gmm import xtabond2

    df = pd.read_csv(csv)
    warm: list[float] = []
    cold: list[float] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = xtabond2(df, cmd, entity=entity, time=time_col)  # warm-up
        for i in range(int(repeats)):
            t0 = time.perf_counter()
            res = xtabond2(df, cmd, entity=entity, time=time_col)
            warm.append(time.perf_counter() - t0)
            fresh = cmd + " " * (i + 1)  # a string not seen before: parsed again
            t0 = time.perf_counter()
            xtabond2(df, fresh, entity=entity, time=time_col)
            cold.append(time.perf_counter() - t0)
    print(json.dumps({
        "times": warm,
        "cold": cold,
        "blas": blas_threads(),
        "coef": res.params.to_dict(),
        "se": res.std_errors.to_dict(),
        "hansen": float(res.hansen.stat),
    }))


def ours_large_worker() -> None:
    """Fresh process: one uncollapsed two-step system GMM, N=2000 T=30; JSON to stdout."""
    import resource

    from bayes_kfdi.gmm import xtabond2

    df = simulate(LARGE_N, LARGE_T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        res = xtabond2(df, "xtabond2 y L.y x, gmm(y, lag(2 .)) gmm(x, lag(1 .)) twostep robust",
                       entity="id", time="year")
        secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    print(json.dumps({"seconds": secs, "peak_gb": peak / 1e9, "n_instruments": res.n_instruments,
                      "coef": res.params.to_dict()}))


def _name(pyd: str) -> str:
    return {"_con": "_cons"}.get(pyd, pyd.replace("L1.", "L."))


def _env(setting: str, src: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    env.update(SETTINGS[setting])
    env["PYTHONPATH"] = str(src)
    return env


def _run(python: str, mode: str, args: list[str], setting: str, src: Path = ROOT / "src") -> dict:
    out = subprocess.run([python, __file__, mode, *args], capture_output=True, text=True,
                         check=True, env=_env(setting, src))
    return json.loads(out.stdout.strip().splitlines()[-1])


def _agree(ours: dict, pyd: dict) -> tuple[bool, float]:
    table = pd.DataFrame({"ours_coef": ours["coef"], "pydynpd_coef": pyd["coef"],
                          "ours_se": ours["se"], "pydynpd_se": pyd["se"]})
    rel = np.maximum(
        (table.ours_coef - table.pydynpd_coef).abs() / table.pydynpd_coef.abs(),
        (table.ours_se - table.pydynpd_se).abs() / table.pydynpd_se.abs(),
    )
    ok = bool(rel.notna().all() and (rel <= AGREE_RTOL).all())
    return ok, float(rel.max())


def bench(label: str, spec: dict, csv: Path, setting: str, baselines: list[Path]) -> dict:
    """Interleaved rounds for one specification under one thread setting."""
    args = [str(csv), spec["ours"], spec["entity"], spec["time"], str(REPEATS)]
    pyd_args = [str(csv), spec["pydynpd"], spec["entity"], spec["time"], str(REPEATS)]
    pyd_t: list[float] = []
    warm: list[float] = []
    cold: list[float] = []
    before: dict[Path, list[float]] = {b: [] for b in baselines}
    for _ in range(spec.get("rounds", ROUNDS)):
        pyd = _run(str(PY), "--pydynpd-worker", pyd_args, setting)
        ours = _run(sys.executable, "--ours-worker", args, setting)
        pyd_t += pyd["times"]
        warm += ours["times"]
        cold += ours["cold"]
        for b in baselines:
            before[b] += _run(sys.executable, "--ours-worker", args, setting, b)["times"]
    agree, rel = _agree(ours, pyd)
    row = dict(label=label, setting=setting, pydynpd=float(np.median(pyd_t)),
               ours=float(np.median(warm)), ours_cold=float(np.median(cold)),
               pyd_min=min(pyd_t), ours_min=min(warm), n=len(pyd_t), agree=agree, rel=rel,
               blas_pyd=pyd["blas"], blas_ours=ours["blas"], hansen=(ours["hansen"],
                                                                      pyd["hansen"]))
    ms = 1e3
    print(f"\n== {label}, {setting} (BLAS threads seen: pydynpd {pyd['blas']}, "
          f"ours {ours['blas']}; ours pins one thread during a fit)")
    print(f"   ours:    {spec['ours']}\n   pydynpd: {spec['pydynpd']}")
    print(f"   median of {row['n']} calls: pydynpd {row['pydynpd'] * ms:.2f} ms, ours "
          f"{row['ours'] * ms:.2f} ms -> {row['pydynpd'] / row['ours']:.1f}x (goal >= "
          f"{GOAL_RATIO:.0f}x); ours parsing a new command string each call "
          f"{row['ours_cold'] * ms:.2f} ms -> {row['pydynpd'] / row['ours_cold']:.1f}x")
    print(f"   minimum: pydynpd {row['pyd_min'] * ms:.2f} ms, ours {row['ours_min'] * ms:.2f} "
          f"ms -> {row['pyd_min'] / row['ours_min']:.1f}x")
    for b, times in before.items():
        med = float(np.median(times))
        row.setdefault("before", med)  # the summary compares with the first baseline
        print(f"   baseline copy {b}: median {med * ms:.2f} ms -> pydynpd "
              f"{row['pydynpd'] / med:.1f}x; ours now {med / row['ours']:.2f}x faster")
    print(f"   Hansen: ours {ours['hansen']:.4f}, pydynpd {pyd['hansen']:.4f}; coefficients "
          f"and SEs agree to rtol {AGREE_RTOL}: {agree} (max relative difference {rel:.1e})")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--large", action="store_true",
                        help="also N=1000 T=20 against pydynpd (minutes) and our N=2000 T=30")
    parser.add_argument("--baseline-src", type=Path, action="append", default=[],
                        help="a src/ folder of another copy of the package to time as well "
                        "(repeatable; the summary compares with the first one)")
    opts = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    ensure_venv()
    tmp = Path(tempfile.mkdtemp(prefix="gmmbench"))
    rows = []
    for label, spec in SPECS.items():
        if spec.get("large") and not opts.large:
            continue
        df = (pd.read_csv(ROOT / "tests" / "reference" / "abdata.csv")
              if spec["data"] == "abdata" else simulate(1000, 20))
        csv = tmp / f"{spec['data']}.csv"
        df.to_csv(csv, index=False)
        for setting in SETTINGS:
            rows.append(bench(label, spec, csv, setting, opts.baseline_src))
    if opts.large:
        big = _run(sys.executable, "--ours-large-worker", [], "one BLAS thread")
        print(f"\n== ours, uncollapsed two-step system GMM, N={LARGE_N}, T={LARGE_T}: "
              f"{big['n_instruments']} instruments, {big['seconds']:.2f} s (goal < "
              f"{GOAL_SECONDS}), peak RSS {big['peak_gb']:.2f} GB (goal < {GOAL_GB}); "
              f"estimates {big['coef']}")
    print(f"\nsummary (medians of rounds x {REPEATS} in-process calls per side):")
    for r in rows:
        print(f"  {r['label']}, {r['setting']}: pydynpd {r['pydynpd'] * 1e3:.2f} ms / ours "
              f"{r['ours'] * 1e3:.2f} ms = {r['pydynpd'] / r['ours']:.1f}x "
              f"(new command string each call: {r['pydynpd'] / r['ours_cold']:.1f}x), "
              f"agree={r['agree']}"
              + (f"; baseline {r['before'] * 1e3:.2f} ms = {r['pydynpd'] / r['before']:.1f}x"
                 if "before" in r else ""))
    if not all(r["agree"] for r in rows):
        raise SystemExit("estimates disagree")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--pydynpd-worker":
        pydynpd_worker(*sys.argv[2:7])
    elif len(sys.argv) > 1 and sys.argv[1] == "--ours-worker":
        ours_worker(*sys.argv[2:7])
    elif len(sys.argv) > 1 and sys.argv[1] == "--ours-large-worker":
        ours_large_worker()
    else:
        main()
