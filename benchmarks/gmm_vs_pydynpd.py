"""Benchmark: bayes_kfdi's xtabond2 engine vs pydynpd 0.2.2, and a large two-step fit.

Run from the repository root with the project's venv::

    .venv/bin/python benchmarks/gmm_vs_pydynpd.py

It creates ``benchmarks/.venv-pydynpd`` (gitignored) with ``pydynpd==0.2.2`` and
``numpy<2.4`` on first use, then, for each specification,

* alternates ``ROUNDS`` rounds (or the spec's ``rounds``) of: ``REPEATS`` timed pydynpd
  fits in that venv (a worker subprocess, after one untimed warm-up, timing only the
  in-process ``regression.abond`` call), then ``REPEATS`` timed fits with us in this
  process (``xtabond2``, warmed up once). Interleaving the rounds spreads the load of
  other processes on the shared cores over both sides;
* reports the **median** of the ``rounds * REPEATS`` timings per side (and the minimum, for
  reference), their ratio, and both estimates (asserting they agree to ``AGREE_RTOL``).

Finally it times our uncollapsed two-step system GMM on N=2000, T=30 in a fresh
subprocess and reports wall time and peak resident memory (``ru_maxrss``).
pydynpd is used only as a numerical cross-check; none of its code is copied.
"""

from __future__ import annotations

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
REPEATS = 5  # timed fits per side per round, after one untimed warm-up call
ROUNDS = 3  # interleaved pydynpd/ours rounds; the median is over ROUNDS * REPEATS fits
#: pydynpd and we implement the same estimator (xtabond2's h(3) one-step matrix); the
#: only differences are floating-point summation order.
AGREE_RTOL = 1e-6
LARGE_N, LARGE_T = 2000, 30
GOAL_SECONDS, GOAL_GB = 10.0, 4.0

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
    ),
}


def simulate(n: int, t: int) -> pd.DataFrame:
    """The package's AR(1) benchmark panel (true rho = 0.5, beta = 0.3), fixed seed."""
    from bayes_kfdi.data.simulate import simulate_ar1_panel

    return simulate_ar1_panel(n, t, seed=12345, burn=50)


def ensure_venv() -> None:
    if PY.exists():
        ok = subprocess.run([str(PY), "-c", "import pydynpd"], capture_output=True)
        if ok.returncode == 0:
            return
    print(f"creating {VENV} with pydynpd==0.2.2 ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(PY), "-m", "pip", "install", "-q", "pydynpd==0.2.2", "numpy<2.4",
                    "pandas", "scipy"], check=True)


def pydynpd_worker(csv: str, cmd: str, entity: str, time_col: str) -> None:
    """Runs inside the pydynpd venv: fit, time, print JSON on the last stdout line."""
    import contextlib
    import io

    from pydynpd import regression

    df = pd.read_csv(csv)
    times = []
    with contextlib.redirect_stdout(io.StringIO()):
        res = regression.abond(cmd, df, [entity, time_col])  # warm-up
    for _ in range(REPEATS):
        with contextlib.redirect_stdout(io.StringIO()):
            t0 = time.perf_counter()
            res = regression.abond(cmd, df, [entity, time_col])
            times.append(time.perf_counter() - t0)
    tab = res.models[0].regression_table
    print(json.dumps({
        "times": times,
        "coef": dict(zip(tab["variable"], tab["coefficient"].astype(float), strict=True)),
        "se": dict(zip(tab["variable"], tab["std_err"].astype(float), strict=True)),
        "hansen": float(res.models[0].hansen.test_value),
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


def main() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from bayes_kfdi.gmm import xtabond2

    ensure_venv()
    tmp = Path(tempfile.mkdtemp(prefix="gmmbench"))
    data = {
        "abdata": pd.read_csv(ROOT / "tests" / "reference" / "abdata.csv"),
        "sim1000": simulate(1000, 20),
    }
    rows = []
    for label, spec in SPECS.items():
        df = data[spec["data"]]
        csv = tmp / f"{spec['data']}.csv"
        df.to_csv(csv, index=False)
        pyd_times: list[float] = []
        our_times: list[float] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            xtabond2(df, spec["ours"], entity=spec["entity"], time=spec["time"])  # warm-up
        for _ in range(spec.get("rounds", ROUNDS)):
            out = subprocess.run(
                [str(PY), __file__, "--pydynpd-worker", str(csv), spec["pydynpd"],
                 spec["entity"], spec["time"]],
                capture_output=True, text=True, check=True,
            )
            pyd = json.loads(out.stdout.strip().splitlines()[-1])
            pyd_times += pyd["times"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for _ in range(REPEATS):
                    t0 = time.perf_counter()
                    res = xtabond2(df, spec["ours"], entity=spec["entity"], time=spec["time"])
                    our_times.append(time.perf_counter() - t0)
        pyd_med, ours_med = float(np.median(pyd_times)), float(np.median(our_times))
        pyd_coef = pd.Series({_name(k): v for k, v in pyd["coef"].items()})
        pyd_se = pd.Series({_name(k): v for k, v in pyd["se"].items()})
        table = pd.DataFrame({"ours_coef": res.params, "pydynpd_coef": pyd_coef,
                              "ours_se": res.std_errors, "pydynpd_se": pyd_se})
        table["max_rel_diff"] = np.maximum(
            (table.ours_coef - table.pydynpd_coef).abs() / table.pydynpd_coef.abs(),
            (table.ours_se - table.pydynpd_se).abs() / table.pydynpd_se.abs(),
        )
        print(f"\n== {label}\n   ours:    {spec['ours']}\n   pydynpd: {spec['pydynpd']}")
        print(table.to_string(float_format=lambda v: f"{v:.7f}"))
        print(f"   Hansen: ours {res.hansen.stat:.4f}, pydynpd {pyd['hansen']:.4f}")
        agree = bool(np.allclose(table.ours_coef, table.pydynpd_coef, rtol=AGREE_RTOL)
                     and np.allclose(table.ours_se, table.pydynpd_se, rtol=AGREE_RTOL))
        ratio = pyd_med / ours_med
        print(f"   estimates agree (rtol {AGREE_RTOL}): {agree}")
        print(f"   fit time, median of {len(pyd_times)} / {len(our_times)}: pydynpd "
              f"{pyd_med:.4f} s, ours {ours_med:.4f} s, speed-up {ratio:.1f}x (goal >= 10x); "
              f"minimum: pydynpd {min(pyd_times):.4f} s, ours {min(our_times):.4f} s, "
              f"{min(pyd_times) / min(our_times):.1f}x")
        rows.append((label, pyd_med, ours_med, ratio, agree))
    out = subprocess.run([sys.executable, __file__, "--ours-large-worker"], capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    big = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\n== ours, uncollapsed two-step system GMM, N={LARGE_N}, T={LARGE_T}: "
          f"{big['n_instruments']} instruments, {big['seconds']:.2f} s (goal < {GOAL_SECONDS}), "
          f"peak RSS {big['peak_gb']:.2f} GB (goal < {GOAL_GB}); estimates {big['coef']}")
    print(f"\nsummary (medians of rounds x {REPEATS} fits per side):")
    for label, tp, to, r, a in rows:
        print(f"  {label}: pydynpd {tp:.4f} s / ours {to:.4f} s = {r:.1f}x, agree={a}")
    if not all(a for *_, a in rows):
        raise SystemExit("estimates disagree")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--pydynpd-worker":
        pydynpd_worker(*sys.argv[2:6])
    elif len(sys.argv) > 1 and sys.argv[1] == "--ours-large-worker":
        ours_large_worker()
    else:
        main()
