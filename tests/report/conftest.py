"""Fixtures: a tiny run directory in the exact on-disk layout the report reads.

The posterior is synthetic (independent normal draws with known means), the GMM results
are hand-made SCHEMA section-2 dictionaries. Both are built so that the methods agree on
some claims and disagree on others, which exercises every branch of the report.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_kfdi.resources import models_dir

MODELS_DIR = models_dir()

SERIES = [
    "textile",
    "steel",
    "electronics",
    "electronics_market",
    "electronics_technology",
    "electronics_efficiency",
]
TERMS = ["gdp", "gdppc", "wage", "rd", "edu", "exports", "exunit", "imports", "imunit"]
TV_TERMS = ["wage", "imunit"]
YEARS = np.arange(1990, 2011)
N_CHAIN, N_DRAW, N_OBS = 2, 250, 60

#: Posterior means of the fixture: H1 and H3 hold clearly, H2 holds with a shrinking wage
#: effect. (series, term) -> (mean, sd)
MEANS = {
    ("textile", "gdp"): (0.40, 0.08),
    ("steel", "gdp"): (0.30, 0.08),
    ("textile", "gdppc"): (-0.35, 0.10),
    ("steel", "gdppc"): (-0.25, 0.10),
    ("electronics_efficiency", "wage"): (-0.30, 0.07),
    ("electronics_efficiency", "imunit"): (-0.20, 0.06),
    ("electronics_technology", "imunit"): (0.25, 0.07),
    ("electronics_technology", "imports"): (0.15, 0.05),
}
TREND = {("electronics_efficiency", "wage"): (0.012, 0.003)}

#: GMM coefficients (coef, se): textile gdp insignificant and steel gdppc wrong sign, so
#: the methods disagree on H1; everything else agrees.
GMM = {
    "textile": {"gdp": (0.05, 0.09), "gdppc": (-0.40, 0.15)},
    "steel": {"gdp": (0.35, 0.12), "gdppc": (0.10, 0.20)},
    "electronics_efficiency": {"wage": (-0.28, 0.10), "imunit": (-0.22, 0.08)},
    "electronics_technology": {"imunit": (0.30, 0.10), "imports": (0.20, 0.06)},
}


def _posterior(rng: np.random.Generator) -> xr.DataTree:
    beta = rng.normal(0.0, 0.1, (N_CHAIN, N_DRAW, len(SERIES), len(TERMS)))
    for (s, t), (m, sd) in MEANS.items():
        beta[:, :, SERIES.index(s), TERMS.index(t)] = rng.normal(m, sd, (N_CHAIN, N_DRAW))
    trend = rng.normal(0.0, 0.002, (N_CHAIN, N_DRAW, len(SERIES), len(TV_TERMS)))
    for (s, t), (m, sd) in TREND.items():
        trend[:, :, SERIES.index(s), TV_TERMS.index(t)] = rng.normal(m, sd, (N_CHAIN, N_DRAW))
    base = beta[:, :, :, [TERMS.index(t) for t in TV_TERMS]]
    yc = (YEARS - YEARS.mean()).astype(float)
    beta_t = base[..., None] + trend[..., None] * yc
    rho = rng.normal(0.5, 0.05, (N_CHAIN, N_DRAW, len(SERIES)))
    obs_series = np.array([SERIES[i % len(SERIES)] for i in range(N_OBS)])
    y = rng.normal(2.0, 1.0, N_OBS)
    y[: N_OBS // 2] = np.log(3.0)
    mu = rng.normal(0, 0.05, (N_CHAIN, N_DRAW, 1)) + y
    ll = -0.5 * (y - mu) ** 2 - 0.5 * np.log(2 * np.pi)
    lp = -0.5 * (beta**2).sum(axis=(2, 3)) / 0.25
    yrep = mu + rng.normal(0, 1.0, (N_CHAIN, N_DRAW, N_OBS))
    cd = {"chain": np.arange(N_CHAIN), "draw": np.arange(N_DRAW)}
    post = xr.Dataset(
        {
            "beta": (("chain", "draw", "series", "term"), beta),
            "beta_trend": (("chain", "draw", "series", "tv_term"), trend),
            "beta_t": (("chain", "draw", "series", "tv_term", "year"), beta_t),
            "rho": (("chain", "draw", "series"), rho),
        },
        coords={**cd, "series": SERIES, "term": TERMS, "tv_term": TV_TERMS, "year": YEARS},
    )
    obs_coords = {"obs": np.arange(N_OBS), "series": ("obs", obs_series)}
    tree = xr.DataTree.from_dict(
        {
            "posterior": post,
            "log_likelihood": xr.Dataset({"fdi": (("chain", "draw", "obs"), ll)},
                                         coords={**cd, **obs_coords}),
            "log_prior": xr.Dataset({"beta": (("chain", "draw"), lp)}, coords=cd),
            "posterior_predictive": xr.Dataset({"fdi": (("chain", "draw", "obs"), yrep)},
                                               coords={**cd, **obs_coords}),
            "observed_data": xr.Dataset({"fdi": (("obs",), y)}, coords=obs_coords),
            "sample_stats": xr.Dataset(
                {"diverging": (("chain", "draw"), np.zeros((N_CHAIN, N_DRAW), bool))},
                coords=cd,
            ),
        }
    )
    tree.attrs["likelihood"] = "censored"
    return tree


def _summary(tree: xr.DataTree) -> pd.DataFrame:
    post = tree["posterior"]
    rows = []
    for s in SERIES:
        for t in TERMS:
            d = post["beta"].sel(series=s, term=t).values.ravel()
            rows.append(("beta", s, t, d))
        rows.append(("rho", s, "lag", post["rho"].sel(series=s).values.ravel()))
    out = [
        {
            "parameter": p, "series": s, "term": t, "mean": d.mean(), "sd": d.std(ddof=1),
            "q05": np.quantile(d, 0.05), "q95": np.quantile(d, 0.95), "r_hat": 1.002,
            "ess_bulk": 480.0,
        }
        for p, s, t, d in rows
    ]
    return pd.DataFrame(out)


def _gmm_json(series: str, coefs: dict[str, tuple[float, float]], trend: bool) -> dict:
    coef = {"L.fdi": 0.45, **{k: v[0] for k, v in coefs.items()}, "_cons": 1.1}
    se = {"L.fdi": 0.08, **{k: v[1] for k, v in coefs.items()}, "_cons": 0.4}
    if trend:
        coef["wage_trend"], se["wage_trend"] = 0.009, 0.004
    return {
        "command": f"xtabond2 fdi L.fdi {' '.join(coefs)} <{series}>, twostep robust",
        "coef": coef, "se": se, "vce": "windmeijer", "nobs": 700, "n_groups": 42,
        "n_instruments": 91 if series == "textile" else 38,
        "ar": {"1": {"z": -3.1, "p": 0.002}, "2": {"z": -0.8, "p": 0.42}},
        "sargan": {"chi2": 80.0, "df": 70, "p": 0.19},
        "hansen": {"chi2": 30.0, "df": 70, "p": 0.999 if series == "textile" else 0.31},
        "diff_hansen": None,
    }


def build_run_dir(root: Path, *, seed: int = 0, with_log_prior: bool = True) -> Path:
    """Write a complete fixture run directory under ``root`` and return it."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    tree = _posterior(rng)
    if not with_log_prior:
        tree = xr.DataTree.from_dict(
            {k: tree[k].to_dataset() for k in tree.children if k != "log_prior"}
        )
    tree.to_netcdf(root / "posterior.nc", engine="h5netcdf")
    _summary(tree).to_csv(root / "summary.csv", index=False)
    gdir = root / "gmm"
    gdir.mkdir(exist_ok=True)
    for s, coefs in GMM.items():
        (gdir / f"{s}.json").write_text(json.dumps(_gmm_json(s, coefs, False)))
    (gdir / "electronics_efficiency.trend.json").write_text(
        json.dumps(_gmm_json("electronics_efficiency", GMM["electronics_efficiency"], True))
    )
    check = {
        "data_file": "fixture.csv",
        "nobs": 900, "n_countries": 42, "year_min": int(YEARS[0]), "year_max": int(YEARS[-1]),
        "floor_share": {s: (0.62 if s == "textile" else 0.3) for s in SERIES},
        "covariate_sd": {s: {t: 0.5 for t in TERMS} for s in SERIES},
        "countries": ["KOR", "<script>alert(1)</script>"],
    }
    (root / "data_check.json").write_text(json.dumps(check))
    return root


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_run_dir(tmp_path_factory.mktemp("run"))


@pytest.fixture(scope="session")
def hypotheses_path() -> Path:
    return Path(__file__).with_name("fixture_hypotheses.toml")


@pytest.fixture(scope="session")
def make_run_dir():
    """The :func:`build_run_dir` factory (test modules cannot import conftest directly)."""
    return build_run_dir
