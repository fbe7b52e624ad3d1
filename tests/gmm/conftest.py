from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ABDATA = Path(__file__).resolve().parents[1] / "reference" / "abdata.csv"


@pytest.fixture(scope="session")
def abdata() -> pd.DataFrame:
    return pd.read_csv(ABDATA)


def simulate_panel(n: int, t: int, seed: int = 0, burn: int = 30) -> pd.DataFrame:
    """Mean-stationary y = 0.5 L.y + 0.3 x + mu + e with x = 0.5 L.x + 0.5 mu + u."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=n)
    tt = t + burn
    x = np.zeros((n, tt))
    y = np.zeros((n, tt))
    for s in range(1, tt):
        x[:, s] = 0.5 * x[:, s - 1] + 0.5 * mu + rng.normal(size=n)
        y[:, s] = 0.5 * y[:, s - 1] + 0.3 * x[:, s] + mu + rng.normal(size=n)
    return pd.DataFrame({
        "id": np.repeat(np.arange(n), t),
        "year": np.tile(np.arange(2000, 2000 + t), n),
        "y": y[:, burn:].ravel(),
        "x": x[:, burn:].ravel(),
    })


@pytest.fixture(scope="session")
def simpanel() -> pd.DataFrame:
    return simulate_panel(200, 8, seed=1)
