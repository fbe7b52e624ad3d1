"""Second published check of the GMM engine: Baltagi's cigarette panel, year effects as ``i.year``.

Data: ``cigar.csv`` (Baltagi & Levin 1992 / Baltagi, *Econometric Analysis of Panel Data*,
via Rdatasets ``csv/plm/Cigar.csv``). Published numbers: real Stata 10.1 batch logs of
``xtabond2`` and Stata's own ``xtabond`` on this panel, kept in the gretl test suite
(``LOG_SOURCE``). Provenance of both: ``PROVENANCE.md`` next to this file.

The logs fit the Arellano-Bond difference GMM of Baltagi, Griffin & Xiong (2000)'s dynamic
demand equation with year dummies ``dyear3-dyear30`` (1965-1992):

    xtabond2 lnc L.lnc lnp lnpn lny dyear3-dyear30, gmm(L.lnc) iv(lnp lnpn lny dyear3-dyear30)
             [rob] nocons noleveleq twostep

We run it with ``i.year`` (and ``ib64.year``, whose levels 65..92 are exactly dyear3..dyear30).

What matches and what does not:

* One-step coefficients: all 32 to the printed digits (Z'HZ is singular only through the
  exact collinearity of the ``i.year`` instruments, so the generalized inverse is immaterial).
* Two-step: 437 instruments but 46 states, so the moment covariance ``S`` has rank 46 and its
  generalized inverse is not unique; the two-step estimate depends on which 46 columns the
  inverse keeps. Stata's ``invsym`` picks, at every step, the remaining column with the
  largest residual diagonal (W. Gould, StataCorp, Statalist 16 Feb and 8 Mar 2005: it
  "decides which of a collinear set of variables to drop based on numerical accuracy
  considerations; it does *NOT* proceed from left to right"); the engine does the same
  (``invsym(pivot="largest")``) and reproduces every printed number of both two-step logs.
  Keeping columns in column order instead (the engine before this check) gave L.lnc .7914
  vs .8135, lny .1119 vs .2504, Windmeijer SE of lny .0625 vs .3292, Hansen 16.81 vs 14.71,
  AR(2) 2.05 vs 1.75 (``test_column_order_inverse_misses_the_log`` keeps that on record).
* Wald test: the statistic matches; the log prints chi2(32), the engine chi2(31). xtabond2
  3.7.2 (droodman/xtabond2, ``xtabond2.mata``) sets df = rank(X), minus one when a
  ``nocons`` model's regressors span a constant, as the differenced year dummies do here;
  3.6.5 and earlier counted the kept columns, hence the log's 32.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayes_kfdi.gmm.diagnostics as gmm_diagnostics
import bayes_kfdi.gmm.fit as gmm_fit
from bayes_kfdi.gmm import xtabond2

HERE = Path(__file__).parent
DATA = HERE / "cigar.csv"

#: Where the published numbers come from (a GitHub mirror of gretl's test suite).
LOG_SOURCE = {
    "repository": "HelioGuilherme66/gretl",
    "commit": "4fd755fc3b60ab9f32c2705ada1f2cdcb97bf524",
    "robust_twostep_and_onestep": "gretl-tests/test-gretl/panel/cigar-nocons.do.out",
    "nonrobust_twostep": "gretl-tests/test-gretl/panel/cigar2.do.out",
    "program": "Stata 10.1 (batch mode, licensed to Allin Cottrell, Wake Forest University); "
               "xtabond2 version not printed",
    "stata_input": "gretl-tests/test-gretl/panel/cigar.csv, written by gretl from cigar.txt "
                   "(= Rdatasets Cigar with ndi rounded to 7 significant digits), read with "
                   "`insheet using cigar.csv`",
}

#: First rows of the CSV that Stata read (state, year, lnc, lnp, lnpn, lny), as printed there.
LOG_INPUT_ROWS = [
    (1, 63, "4.542230386214", "-0.067593291133", "-0.159064694630", "3.930353962113"),
    (1, 64, "4.558078578454", "-0.039478810974", "-0.119801199813", "3.994983338546"),
    (1, 65, "4.590056548178", "-0.055479152320", "-0.086145950713", "4.051007281800"),
    (1, 66, "4.568506201616", "-0.028170876967", "-0.093768159453", "4.079398026240"),
]

#: Coefficient tables as printed. onestep: ``xtabond lnc lnp lnpn lny dyear3-dyear30, lag(1)
#: nocons`` (cigar-nocons.do.out; the same estimator as one-step xtabond2 with these
#: instruments; its SEs use xtabond's own sigma^2 and are not compared). twostep and se_wc:
#: ``xtabond2 ... rob nocons noleveleq twostep`` (cigar-nocons.do.out, Windmeijer-corrected
#: SEs). se_2s: the same command without ``rob`` (cigar2.do.out; same coefficients).
PUBLISHED_TABLE = """
name        onestep    twostep      se_wc      se_2s
L.lnc      .8325297   .8135355   .1807666   .1252663
lnp       -.3701284  -.3933306   .0578549   .0443416
lnpn      -.0277982    .008032   .0814553   .0601018
lny        .1343293   .2503601   .3292126     .21197
dyear3     .0297216   .0219043   .0248986   .0164559
dyear4     .0163488  -.0027073   .0326027   .0209273
dyear5     .0206067   .0090457    .045284   .0297889
dyear6     .0107643   -.006256   .0506418   .0328096
dyear7     .0006261  -.0169307   .0560966   .0362341
dyear8     -.005422  -.0283609   .0669668   .0438384
dyear9     .0382952   .0124823   .0762141   .0494387
dyear10    .0448202   .0145714   .0865619   .0560761
dyear11    .0050739  -.0301307   .1057475   .0693627
dyear12   -.0068609  -.0322023   .0940799   .0621189
dyear13   -.0231934  -.0533132   .0893657   .0588532
dyear14   -.0079639   -.041193   .0927372   .0602343
dyear15   -.0434255  -.0715951   .1001337   .0650012
dyear16   -.0336845  -.0720363    .109693   .0711687
dyear17   -.0736497  -.1123576   .1071216   .0696541
dyear18   -.0808336  -.1127801   .0962123    .063014
dyear19   -.1005715  -.1350117   .0964214   .0639029
dyear20   -.0990347  -.1306007   .0941844   .0618447
dyear21   -.0803314  -.1133949   .1031534   .0672995
dyear22   -.0648027  -.1089488   .1205287   .0784492
dyear23   -.0328825  -.0782829   .1301069   .0850252
dyear24   -.0286845  -.0763872   .1427627    .092817
dyear25   -.0307951  -.0847997   .1498054    .097655
dyear26   -.0330593  -.0861417   .1624539   .1061179
dyear27   -.0301085  -.0890833   .1717803   .1122636
dyear28   -.0263535  -.0851007   .1810719   .1184291
dyear29   -.0071584  -.0734971   .1841265   .1209385
dyear30    .0367087  -.0333527   .2039054   .1332956
"""

#: Header and test lines of the two xtabond2 logs, as printed.
PUBLISHED_TESTS = {
    "robust": {
        "nobs": 1288, "groups": 46, "instruments": 437,
        "wald": "8004.50", "wald_df_printed": 32,
        "ar1": "-3.69", "ar2": "1.75",
        "sargan": "561.83", "sargan_df": 405,
        "hansen": "14.71", "hansen_df": 405,
        "iv_excluded": "15.17", "iv_excluded_df": 374,
        "iv_difference": "-.45", "iv_difference_df": 31,
    },
    "nonrobust": {
        "nobs": 1288, "groups": 46, "instruments": 437,
        "wald": "28905.45", "wald_df_printed": 32,
        "ar1": "-4.24", "ar2": "1.89",
        "sargan": "561.83", "sargan_df": 405,
        "hansen": "14.71", "hansen_df": 405,
        "iv_excluded": "15.17", "iv_excluded_df": 374,
        "iv_difference": "-.45", "iv_difference_df": 31,
    },
}

#: A number equals its printed value when it is within half a unit of the last printed
#: decimal, plus this much for rounding noise. These fits are ill-conditioned (437
#: instruments, 46 groups; the two-step inverts a rank-46 437 x 437 matrix): perturbing the
#: inputs by 2e-16 relative moved one-step coefficients by up to 7e-10 and two-step ones and
#: their SEs by up to 4.3e-9, so BLAS builds and summation order can move the last printed
#: digit's boundary by that much. Our values sit up to 0.995 half-units from the printed ones.
FP_SLACK = 2e-8

SLOPES = ["L.lnc", "lnp", "lnpn", "lny"]

CMD = ("xtabond2 lnc L.lnc lnp lnpn lny {yr}, gmm(L.lnc) iv(lnp lnpn lny {yr}) "
       "{vce} nocons noleveleq {step}")


def _table() -> dict[str, dict[str, str]]:
    lines = [ln.split() for ln in PUBLISHED_TABLE.strip().splitlines()]
    head = lines[0]
    return {row[0]: dict(zip(head[1:], row[1:], strict=True)) for row in lines[1:]}


PUBLISHED = _table()


def _engine_name(log_name: str) -> str:
    """dyear<k> of the log is year 1962 + k; ``ib64.year`` names it ``<k + 62>.year``."""
    if log_name.startswith("dyear"):
        return f"{int(log_name[5:]) + 62}.year"
    return log_name


def _half_unit(text: str) -> float:
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0**-decimals


def _gap(ours: float, text: str) -> float:
    """|ours - printed| in units of half the last printed decimal (<= 1 means equal)."""
    return abs(ours - float(text)) / _half_unit(text)


def _assert_printed(ours: float, text: str, what: str) -> None:
    assert abs(ours - float(text)) <= _half_unit(text) + FP_SLACK, (
        f"{what}: ours {ours!r}, printed {text}")


def stata_input(raw: pd.DataFrame) -> pd.DataFrame:
    """The panel as Stata held it when it wrote the logs.

    gretl computed the logs from ``cigar.txt``, whose ``ndi`` is Rdatasets' rounded to 7
    significant digits; it stored them with 12 decimals; Stata's ``insheet`` kept them as
    ``float`` (single precision, its default storage type). Skipping the ``ndi`` rounding or
    the float storage moves two-step coefficients by up to 7.3e-6 (146 printed half-units);
    the 12-decimal rounding flips 2 of the 5520 float values and moves them by 4e-9. All
    three steps are reproduced; the float cast is ``as_stata_float``.
    """
    ndi7 = raw["ndi"].map(lambda v: float(f"{v:.7g}"))
    logs = {
        "lnc": np.log(raw["sales"]),
        "lnp": np.log(raw["price"] / raw["cpi"]),
        "lnpn": np.log(raw["pimin"] / raw["cpi"]),
        "lny": np.log(ndi7 / raw["cpi"]),
    }
    out = pd.DataFrame({"state": raw["state"], "year": raw["year"]})
    for name, values in logs.items():
        out[name] = np.round(values.to_numpy(), 12)
    return out


def as_stata_float(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for name in ("lnc", "lnp", "lnpn", "lny"):
        out[name] = out[name].astype(np.float32).astype(np.float64)
    return out


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(DATA)


@pytest.fixture(scope="module")
def cigar(raw: pd.DataFrame) -> pd.DataFrame:
    df = as_stata_float(stata_input(raw))
    years = sorted(df["year"].unique())
    for k, year in enumerate(years, start=1):  # Stata: tabulate year, generate(dyear)
        df[f"dyear{k}"] = (df["year"] == year).astype(float)
    for year in years[1:]:  # what i.year expands to: every level but the lowest
        df[f"y{year}"] = (df["year"] == year).astype(float)
    return df


def _fit(df: pd.DataFrame, yr: str, *, vce: str = "", step: str = ""):  # noqa: ANN202
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xtabond2(df, CMD.format(yr=yr, vce=vce, step=step), entity="state", time="year")


# --------------------------------------------------------------------------- data


def test_data_is_the_baltagi_panel(raw: pd.DataFrame) -> None:
    assert raw.shape == (1380, 7)
    assert raw["state"].nunique() == 46
    assert sorted(raw["year"].unique()) == list(range(63, 93))
    assert not raw.isna().any().any()
    assert raw.groupby("state").size().eq(30).all()


def test_input_reproduces_the_csv_stata_read(raw: pd.DataFrame) -> None:
    df = stata_input(raw).set_index(["state", "year"])
    for state, year, *printed in LOG_INPUT_ROWS:
        for name, text in zip(("lnc", "lnp", "lnpn", "lny"), printed, strict=True):
            assert abs(df.loc[(state, year), name] - float(text)) <= 1e-15, (state, year, name)


# ------------------------------------------------------------------ one-step (no g-inverse)


@pytest.mark.parametrize(("yr", "compared"), [("i.year", SLOPES), ("ib64.year", list(PUBLISHED))])
def test_onestep_coefficients_match_stata_xtabond(cigar: pd.DataFrame, yr: str,
                                                  compared: list[str]) -> None:
    # i.year keeps 64..91 (92.year is collinear in differences), a different basis of the
    # same year effects: only the slopes are comparable. ib64.year keeps dyear3..dyear30.
    res = _fit(cigar, yr)
    assert (res.nobs, res.n_groups, res.n_instruments) == (1288, 46, 437)
    for name in compared:
        _assert_printed(res.params[_engine_name(name)], PUBLISHED[name]["onestep"], name)


# ----------------------------------------------------------------------------- two-step


def _twostep_gaps(res) -> dict[str, float]:  # noqa: ANN001
    coef = [_gap(res.params[_engine_name(n)], PUBLISHED[n]["twostep"]) for n in PUBLISHED]
    se = [_gap(res.std_errors[_engine_name(n)], PUBLISHED[n]["se_wc"]) for n in PUBLISHED]
    return {"coef": max(coef), "se": max(se)}


def test_twostep_matches_published_xtabond2(cigar: pd.DataFrame) -> None:
    res = _fit(cigar, "ib64.year", vce="robust", step="twostep")
    gaps = _twostep_gaps(res)
    assert gaps["coef"] <= 1 and gaps["se"] <= 1, gaps
    _assert_printed(res.hansen.stat, PUBLISHED_TESTS["robust"]["hansen"], "Hansen")


def test_column_order_inverse_misses_the_log(cigar: pd.DataFrame,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # the generalized inverse's column choice decides the two-step estimate here
    monkeypatch.setattr(gmm_fit, "XTABOND2_PIVOT", "order")
    monkeypatch.setattr(gmm_diagnostics, "XTABOND2_PIVOT", "order")
    res = _fit(cigar, "ib64.year", vce="robust", step="twostep")
    assert abs(res.params["lny"] - float(PUBLISHED["lny"]["twostep"])) > 0.1


@pytest.mark.parametrize("yr", ["i.year", "ib64.year"])
@pytest.mark.parametrize("vce", ["robust", "nonrobust"])
def test_twostep_reproduces_the_logs(cigar: pd.DataFrame, yr: str,
                                                      vce: str) -> None:
    res = _fit(cigar, yr, vce="rob" if vce == "robust" else "", step="twostep")
    pub = PUBLISHED_TESTS[vce]
    se_col = "se_wc" if vce == "robust" else "se_2s"
    compared = SLOPES if yr == "i.year" else list(PUBLISHED)
    for name in compared:
        _assert_printed(res.params[_engine_name(name)], PUBLISHED[name]["twostep"], name)
        _assert_printed(res.std_errors[_engine_name(name)], PUBLISHED[name][se_col],
                        f"SE {name}")
    assert (res.nobs, res.n_groups, res.n_instruments) == (
        pub["nobs"], pub["groups"], pub["instruments"])
    _assert_printed(res.ar_tests[0].stat, pub["ar1"], "AR(1)")
    _assert_printed(res.ar_tests[1].stat, pub["ar2"], "AR(2)")
    for test, key in ((res.sargan, "sargan"), (res.hansen, "hansen")):
        _assert_printed(test.stat, pub[key], key)
        assert test.df == pub[f"{key}_df"], key
    (excluded, difference), = [v for k, v in res.diff_hansen.items() if k.startswith("iv(")]
    _assert_printed(excluded.stat, pub["iv_excluded"], "Hansen excluding iv group")
    _assert_printed(difference.stat, pub["iv_difference"], "difference-in-Hansen, iv group")
    assert (excluded.df, difference.df) == (pub["iv_excluded_df"], pub["iv_difference_df"])
    # Its df is one less than the log's (see the module docstring).
    assert res.wald.df == pub["wald_df_printed"] - 1
    if yr == "ib64.year":
        # With i.year, iv() holds a 29th year dummy, exactly collinear with the others; in
        # this rank-46 S that changes which columns the generalized inverse keeps, and with
        # them the Windmeijer block of the year effects (robust Wald 8404.48 instead of
        # 8004.50; the Wald statistic is otherwise invariant to the basis, as the
        # non-robust one is here). The slopes above are unaffected to the printed digits.
        _assert_printed(res.wald.stat, pub["wald"], "Wald")


# ------------------------------------------------------------ i.year = explicit dummies


def _same_fit(a, b) -> None:  # noqa: ANN001
    assert np.array_equal(a.beta, b.beta)
    assert np.array_equal(a.cov_matrix, b.cov_matrix)
    assert (a.nobs, a.n_groups, a.n_instruments) == (b.nobs, b.n_groups, b.n_instruments)
    for x, y in zip(a.ar_tests, b.ar_tests, strict=True):
        assert x.stat == y.stat
    for x, y in ((a.sargan, b.sargan), (a.hansen, b.hansen), (a.wald, b.wald)):
        assert getattr(x, "stat", None) == getattr(y, "stat", None)
        assert getattr(x, "df", None) == getattr(y, "df", None)


@pytest.mark.parametrize(("vce", "step"), [("", ""), ("robust", ""), ("", "twostep"),
                                           ("robust", "twostep")])
def test_i_year_is_bitwise_the_explicit_dummies(cigar: pd.DataFrame, vce: str, step: str) -> None:
    # i.year == y64-y92 (every level but the lowest); ib64.year == dyear3-dyear30 (65..92)
    factor, explicit = _fit(cigar, "i.year", vce=vce, step=step), _fit(
        cigar, "y64-y92", vce=vce, step=step)
    _same_fit(factor, explicit)
    assert list(factor.names) == [n if not n.startswith("y") else f"{n[1:]}.year"
                                  for n in explicit.names]
    assert factor.names[-1] == "91.year"  # 92.year dropped as collinear, as y92 is
    base64, dyear = _fit(cigar, "ib64.year", vce=vce, step=step), _fit(
        cigar, "dyear3-dyear30", vce=vce, step=step)
    _same_fit(base64, dyear)
    assert list(base64.names) == [_engine_name(n) for n in dyear.names]
