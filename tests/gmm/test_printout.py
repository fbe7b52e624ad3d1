"""The GMM results face: xtabond2 printout (golden), notebook/LaTeX renderings, etable."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import bayes_kfdi as bk
from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.gmm import TestStatistic, xtabond2
from bayes_kfdi.gmm.printout import stata_g
from bayes_kfdi.tables import Estimates, ResultTable, etable

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
LOG = json.loads((HERE.parent / "reference" / "xtabond2_logs.json").read_text())["cases"][0]
SYS = "xtabond2 n L.n w k, gmm(L.n, collapse) iv(w k) twostep robust"
DIFF = "xtabond2 n L.n w k, gmm(L.n) iv(w k) robust nolevel"


def _fit(df: pd.DataFrame, cmd: str):  # noqa: ANN202
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xtabond2(df, cmd, entity="id", time="year")


@pytest.fixture(scope="module")
def logres(abdata):  # noqa: ANN001, ANN201
    return _fit(abdata, LOG["command"])


def test_printout_golden(logres) -> None:  # noqa: ANN001
    assert logres.summary().to_text() + "\n" == (GOLDEN / "roodman2009_log_printout.txt"
                                                 ).read_text()


def test_printout_prints_the_published_coefficients(logres) -> None:  # noqa: ANN001
    """Each coefficient cell is the log's printed value (Stata %9.0g, 7 digits)."""
    lines = {ln.split("|")[0].strip(): ln for ln in str(logres).splitlines() if " | " in ln}
    for name, val in LOG["coef"].items():
        assert lines[name].split("|")[1].split()[0] == stata_g(val), name
    text = str(logres)
    assert "           n |      Coef." in text  # dependent variable in its cell
    assert "Time variable : year" in text and "avg =      5.36" in text
    assert "Number of instruments = 120" in text and "F(15, 139) =" in text
    assert "Instruments for levels equation" in text and "D.(L.n w k)" in text


@pytest.mark.parametrize(("x", "text"), [(0.9847708, ".9847708"), (-0.0444599, "-.0444599"),
                                         (1.000564, "1.000564"), (0.041634, ".041634"),
                                         (0.0, "0"), (1128.31, "1128.31"),
                                         (float("nan"), ".")])
def test_stata_g(x: float, text: str) -> None:
    assert stata_g(x) == text


def test_large_statistics_keep_the_alignment(logres) -> None:  # noqa: ANN001
    big = dataclasses.replace(
        logres, wald=TestStatistic(123456789.5, 0.0, 15.0, "F", dist="F"),
        hansen=TestStatistic(98765432.1, 0.0, 104.0, "Hansen"))
    lines = str(big).splitlines()
    right = [ln for ln in lines if ln.rstrip().endswith(("751", "140", "5", "5.36", "7"))][:5]
    ends = {len(ln.rstrip()) for ln in right}
    assert len(ends) == 1, right
    assert "123456789.50" in str(big)
    eq = [ln.index("= ", 40) for ln in lines if "Prob > chi2 =" in ln and "chi2(" in ln]
    assert len(set(eq)) == 1
    probs = [ln.index("Prob > chi2") for ln in lines if "Prob > chi2 =" in ln and "chi2(" in ln]
    assert len(set(probs)) == 1


def test_results_face(logres) -> None:  # noqa: ANN001
    r = repr(logres)
    assert len(r) < 200 and "two-step system GMM of n" in r
    table = logres.summary()
    assert isinstance(table, ResultTable) and "Hansen test" in table
    html = logres._repr_html_()
    assert html.startswith('<div class="bayes-kfdi-table">') and "<td" in html
    assert "L2.n" in html and "Wald intervals" in html
    tex = logres.to_latex()
    assert tex.startswith("\\begin{tabular}") and "\\_cons" in tex
    assert list(table.to_frame().columns) == ["estimate", "std_error", "stat", "pvalue",
                                              "lower", "upper"]
    assert logres.interval_kind == "Wald, t(139)"
    ci90 = logres.conf_int(0.90)
    assert (ci90["upper"] - ci90["lower"] < logres.to_frame()["upper"]
            - logres.to_frame()["lower"]).all()
    assert isinstance(logres, Estimates)


def test_etable_golden_markdown_and_latex(abdata) -> None:  # noqa: ANN001
    t = bk.etable([_fit(abdata, SYS), _fit(abdata, DIFF)], names=["System", "Difference"])
    assert t.to_markdown() + "\n" == (GOLDEN / "etable.md").read_text()
    assert t.to_latex() + "\n" == (GOLDEN / "etable.tex").read_text()


def test_etable_options_and_frame(abdata) -> None:  # noqa: ANN001
    a, b = _fit(abdata, SYS), _fit(abdata, DIFF)
    t = etable([a, b], show="ci", level=0.9, keep=["L.n", "w"], labels={"L.n": "lag n"})
    text = str(t)
    assert "lag n" in text and "(1)" in text and "(2)" in text and "_cons" not in text
    lo, hi = a.conf_int(0.9).loc["w"]
    assert f"[{lo:.3f}, {hi:.3f}]" in text and "90% intervals" in text
    frame = t.to_frame()
    assert frame.loc[("L.n", "estimate"), "(1)"] == pytest.approx(a.params["L.n"])
    assert frame.loc[("stat", "Instruments"), "(2)"] == b.n_instruments
    with pytest.raises(SpecificationError, match="names"):
        etable([a, b], names=["only one"])
    with pytest.raises(SpecificationError, match="lacks"):
        etable([a, object()])


class _Posterior:
    """A stand-in with the face a Bayesian fit will have: no p-values, so no stars."""

    params = pd.Series({"L.n": 0.5, "w": -0.3})
    std_errors = pd.Series({"L.n": 0.1, "w": 0.2})
    nobs = 891
    model_label = "hierarchical Bayes"
    interval_kind = "HDI"

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        return pd.DataFrame({"lower": [0.3, -0.7], "upper": [0.7, 0.1]}, index=["L.n", "w"])

    def table_stats(self) -> dict[str, float]:
        return {"R-hat max": 1.002, "Divergences": 0}


def test_etable_mixes_gmm_and_bayesian_results(abdata) -> None:  # noqa: ANN001
    t = etable([_fit(abdata, SYS), _Posterior()], names=["GMM", "Bayes"], show="ci")
    rows = {r[0]: r[1] for r in t.rows if r is not None and r[0]}
    assert rows["L.n"][0].endswith("***") and rows["L.n"][1] == "0.500"
    assert rows["R-hat max"] == ("", "1.002") and rows["Divergences"] == ("", "0")
    assert rows["Groups"] == ("140", "")
    assert any("no stars for Bayesian results" in n for n in t.notes)
    assert any("Wald, normal; HDI" in n for n in t.notes)
