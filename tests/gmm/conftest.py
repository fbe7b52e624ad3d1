from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bayes_kfdi.data.simulate import simulate_ar1_panel

ABDATA = Path(__file__).resolve().parents[1] / "reference" / "abdata.csv"


@pytest.fixture(scope="session")
def abdata() -> pd.DataFrame:
    return pd.read_csv(ABDATA)


def simulate_panel(n: int, t: int, seed: int = 0, burn: int = 30) -> pd.DataFrame:
    """The shared AR(1) DGP (true rho = 0.5, beta = 0.3) with this suite's defaults."""
    return simulate_ar1_panel(n, t, seed=seed, burn=burn)


@pytest.fixture(scope="session")
def simpanel() -> pd.DataFrame:
    return simulate_panel(200, 8, seed=1)
