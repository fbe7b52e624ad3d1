from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest


@dataclass(frozen=True)
class FakeTest:
    stat: float
    pval: float


@dataclass(frozen=True)
class FakeResult:
    """Stands in for SystemGMMResults: the attributes bayes_kfdi.paper reads."""

    names: tuple[str, ...]
    beta: np.ndarray
    cov_matrix: np.ndarray
    nobs: int = 300
    n_groups: int = 30
    n_instruments: int = 100
    ar: tuple[FakeTest, ...] = (FakeTest(-2.5, 0.012), FakeTest(0.4, 0.69))
    hansen: FakeTest = field(default_factory=lambda: FakeTest(20.0, 1.0))

    @property
    def params(self) -> pd.Series:
        return pd.Series(self.beta, index=list(self.names))

    @property
    def std_errors(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov_matrix)), index=list(self.names))

    @property
    def pvalues(self) -> pd.Series:
        from scipy import stats

        return pd.Series(
            2 * stats.norm.sf(np.abs(self.beta / np.sqrt(np.diag(self.cov_matrix)))),
            index=list(self.names),
        )

    @property
    def cov(self) -> pd.DataFrame:
        return pd.DataFrame(self.cov_matrix, index=list(self.names), columns=list(self.names))

    def ar_test(self, order: int) -> FakeTest:
        return self.ar[order - 1]

    def to_json_dict(self) -> dict:
        return {"coef": dict(zip(self.names, self.beta.tolist(), strict=True))}


@pytest.fixture
def fake_result():
    def make(names, beta, se, cov=None):
        c = np.diag(np.asarray(se, float) ** 2) if cov is None else np.asarray(cov, float)
        return FakeResult(tuple(names), np.asarray(beta, float), c)

    return make
