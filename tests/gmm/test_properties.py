from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from linearmodels.iv import IV2SLS

from bayes_kfdi.gmm import xtabond2
from bayes_kfdi.gmm.instruments import forward_orthogonal

#: Exactly identified GMM and 2SLS solve the same linear system; only rounding differs.
RTOL_EXACT = 1e-8
#: Permuting rows/groups changes only summation order.
RTOL_PERMUTE = 1e-9


def _fit(df: pd.DataFrame, cmd: str, **kw):  # noqa: ANN003, ANN202
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xtabond2(df, cmd, entity=kw.get("entity", "id"), time=kw.get("time", "year"))


def test_exactly_identified_gmm_equals_2sls(abdata: pd.DataFrame) -> None:
    """D.n on D.L.n and D.w, instrumented by L2.n and D.w: two instruments, two regressors."""
    res = _fit(abdata, "xtabond2 n L.n w, gmm(L.n, lag(1 1) collapse) iv(w) nolevel robust")
    assert res.n_instruments == 2
    # independent construction of the differenced sample with pandas
    d = abdata.sort_values(["id", "year"]).set_index(["id", "year"])
    g = d.groupby(level="id")
    frame = pd.DataFrame({
        "dn": g["n"].diff(),
        "dln": g["n"].shift(1) - g["n"].shift(2),
        "dw": g["w"].diff(),
        "l2n": g["n"].shift(2),
    }).dropna()
    iv = IV2SLS(frame["dn"], frame[["dw"]], frame[["dln"]], frame[["l2n"]]).fit(
        cov_type="clustered", clusters=frame.index.get_level_values("id").to_numpy(),
        debiased=False)
    assert res.nobs == len(frame)
    np.testing.assert_allclose(res.params[["L.n", "w"]], iv.params[["dln", "dw"]],
                               rtol=RTOL_EXACT)
    np.testing.assert_allclose(res.std_errors[["L.n", "w"]], iv.std_errors[["dln", "dw"]],
                               rtol=RTOL_EXACT)


@pytest.mark.parametrize(
    "cmd",
    [
        "xtabond2 n L(1/2).n w k, gmm(n, lag(2 4)) gmm(w, lag(1 3)) iv(k) twostep robust",
        "xtabond2 n L.n w k yr*, gmm(L.n, collapse) iv(w k yr*) nolevel robust",
        "xtabond2 n L.n w k, gmm(L.n w, lag(2 3)) iv(k) orthogonal twostep robust small",
    ],
)
def test_permuting_groups_and_rows_changes_nothing(abdata: pd.DataFrame, cmd: str) -> None:
    base = _fit(abdata, cmd)
    rng = np.random.default_rng(7)
    relabel = dict(zip(abdata["id"].unique(), rng.permutation(abdata["id"].nunique()) + 1000,
                       strict=True))
    shuffled = abdata.assign(id=abdata["id"].map(relabel)).sample(frac=1.0, random_state=3)
    perm = _fit(shuffled, cmd)
    np.testing.assert_allclose(perm.params, base.params, rtol=RTOL_PERMUTE)
    np.testing.assert_allclose(perm.std_errors, base.std_errors, rtol=RTOL_PERMUTE)
    a, b = perm.to_json_dict(), base.to_json_dict()
    assert a["hansen"]["chi2"] == pytest.approx(b["hansen"]["chi2"], rel=RTOL_PERMUTE)
    assert a["ar"]["2"]["z"] == pytest.approx(b["ar"]["2"]["z"], rel=RTOL_PERMUTE)
    assert (a["nobs"], a["n_instruments"]) == (b["nobs"], b["n_instruments"])


def _expected_count(t: int, a: int, b: int | None, collapse: bool, system: bool) -> int:
    """Instruments of ``y L.y, gmm(L.y, lag(a b))`` on a balanced panel of T periods.

    Transformed rows exist for periods 2..T-1 (D.L.y needs y two periods back); the
    instrument L.y lagged l at period t is y_{t-l-1}, available when t-l-1 >= 0. System
    GMM adds one levels column per period 1..T-1 with D.L.y lagged a-1 (collapsed: one),
    plus the constant.
    """
    hi = b if b is not None else t
    if collapse:
        # one column per lag that is available in at least one period (lag <= T - 2)
        diff = sum(1 for lag in range(a, hi + 1) if lag <= t - 2)
    else:
        diff = sum(1 for tt in range(2, t) for lag in range(a, hi + 1) if tt - lag - 1 >= 0)
    if not system:
        return diff
    # levels rows: periods 1..T-1 (L.y exists); D.L.y lagged a-1 at period t needs t >= a+1
    lev = 1 if collapse else sum(1 for tt in range(1, t) if tt >= a + 1)
    return diff + lev + 1


@pytest.mark.parametrize("system", [False, True])
@pytest.mark.parametrize("collapse", [False, True])
@pytest.mark.parametrize(("a", "b"), [(1, None), (2, None), (2, 3), (3, 3), (1, 2)])
def test_instrument_count_formula(simpanel: pd.DataFrame, a: int, b: int | None,
                                  collapse: bool, system: bool) -> None:
    t = simpanel["year"].nunique()
    lag = f"lag({a} {'.' if b is None else b})"
    opts = ("collapse " if collapse else "") + lag
    cmd = f"xtabond2 y L.y, gmm(L.y, {opts}) robust" + ("" if system else " nolevel")
    res = _fit(simpanel, cmd)
    assert res.n_instruments == _expected_count(t, a, b, collapse, system)


def test_collapse_and_lag_limits_change_counts_as_roodman_says(simpanel: pd.DataFrame) -> None:
    """Uncollapsed counts grow quadratically in T, collapsed linearly (Roodman 2009, 3.4)."""
    t = simpanel["year"].nunique()
    full = _fit(simpanel, "xtabond2 y L.y, gmm(L.y) nolevel robust").n_instruments
    coll = _fit(simpanel, "xtabond2 y L.y, gmm(L.y, collapse) nolevel robust").n_instruments
    assert full == (t - 2) * (t - 1) // 2
    assert coll == t - 2


def test_forward_orthogonal_deviation_matches_definition() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 6))
    complete = np.ones_like(a, dtype=bool)
    complete[1, 4] = False  # a gap in the future of group 1
    out = forward_orthogonal(a, complete)
    for i in range(3):
        for t in range(5):
            fut = [a[i, s] for s in range(t + 1, 6) if complete[i, s]]
            if not fut:
                assert np.isnan(out[i, t + 1])
                continue
            m = len(fut)
            want = np.sqrt(m / (m + 1)) * (a[i, t] - np.mean(fut))
            assert out[i, t + 1] == pytest.approx(want)
    assert np.isnan(out[:, 0]).all()


def test_orthogonal_and_differences_agree_on_exactly_identified_ar1(simpanel) -> None:  # noqa: ANN001
    """Both transforms remove the fixed effect; estimates are close on a large T=8 panel."""
    fd = _fit(simpanel, "xtabond2 y L.y x, gmm(L.y, lag(1 2)) iv(x) nolevel twostep robust")
    fod = _fit(simpanel, "xtabond2 y L.y x, gmm(L.y, lag(1 2)) iv(x) nolevel orthogonal "
                         "twostep robust")
    assert abs(fd.params["L.y"] - fod.params["L.y"]) < 3 * fd.std_errors["L.y"]


def test_small_uses_t_and_f(abdata: pd.DataFrame) -> None:
    big = _fit(abdata, "xtabond2 n L.n w k, gmm(L.n) iv(w k) twostep robust")
    small = _fit(abdata, "xtabond2 n L.n w k, gmm(L.n) iv(w k) twostep robust small")
    np.testing.assert_allclose(small.params, big.params)
    n, g, k = big.nobs, big.n_groups, len(big.params)
    np.testing.assert_allclose(small.std_errors ** 2,
                               big.std_errors ** 2 * (n - 1) / (n - k) * g / (g - 1))
    assert small.df_resid == g - 1 and small.wald.dist == "F"


def test_gaps_are_zero_filled_not_dropped(abdata: pd.DataFrame) -> None:
    """An internal gap removes the rows that need the missing period, nothing else.

    Dropping 1980 for firm 1 removes its 1980 row and the 1981 row of D.n (no previous
    period); GMM-style instruments that would point into the gap are zero-filled, so
    neighbouring rows stay in the sample.
    """
    cmd = "xtabond2 n L.n w k, gmm(L.n) iv(w k) nolevel robust"
    full = _fit(abdata, cmd)
    gap = abdata[~((abdata["id"] == 1) & (abdata["year"] == 1980))]
    res = _fit(gap, cmd)
    # firm 1 loses its 1980 and 1981 transformed rows (L.n at 1981 needs 1980) and its
    # 1982 row (D.L.n at 1982 needs n in 1980)
    assert full.nobs - res.nobs == 3
    assert res.n_groups == full.n_groups
    assert np.isfinite(res.params).all() and np.isfinite(res.std_errors).all()
