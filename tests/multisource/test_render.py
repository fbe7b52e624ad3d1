"""The multi-source report: one table per source, warnings, escaping (no sampling)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from bayes_kfdi.multisource.analysis import GmmBaseline
from bayes_kfdi.multisource.panel import Selection
from bayes_kfdi.multisource.pipeline import MultiSourceResult
from bayes_kfdi.multisource.render import per_source_tables, write_report, write_run


class _Diag:
    def __init__(self, converged: bool):
        self.converged = converged

    def to_attrs(self):
        return {"converged": int(self.converged), "max_rhat": 1.03 if not self.converged else 1.0,
                "min_ess_bulk": 100.0, "n_divergent": 0,
                "convergence_problems": "" if self.converged else "max R-hat 1.030 > 1.01"}


def _result(converged: bool) -> MultiSourceResult:
    frame = pd.DataFrame({"series": ["KOR", "KOR", "<b>X</b>", "<b>X</b>"],
                          "country": ["A", "B", "A", "B"], "year": [2000, 2000, 2000, 2000],
                          "fdi": [1.0, 2.0, 3.0, 4.0]})
    sel = Selection(frame=frame, sources=("KOR", "<b>X</b>"), hosts=("A", "B"),
                    dropped_sources={"IND": "3 distinct years"}, rows_in=4, rows_out=4)
    slopes = pd.DataFrame({"source": ["KOR", "KOR", "<b>X</b>", "<b>X</b>"],
                           "term": ["gdp", "gdppc"] * 2, "mean": [0.4, -0.1, 0.7, 0.2],
                           "sd": [0.1] * 4, "q05": [0.2, -0.3, 0.5, 0.0],
                           "q95": [0.6, 0.1, 0.9, 0.4], "p_positive": [1.0, 0.2, 1.0, 0.9]})
    con = pd.DataFrame({"source": ["<b>X</b>"] * 2, "term": ["gdp", "gdppc"], "mean": [0.3, 0.3],
                        "sd": [0.1, 0.1], "q05": [0.1, 0.1], "q95": [0.5, 0.5],
                        "p_greater": [0.99, 0.98]})
    h1 = pd.DataFrame({"source": ["KOR", "<b>X</b>"], "p_gdp_positive": [1.0, 1.0],
                       "p_gdppc_negative": [0.8, 0.1], "p_h1": [0.8, 0.1]})
    loo = pd.DataFrame({"source": ["KOR", "<b>X</b>", "TOTAL"], "n_obs": [2, 2, 4],
                        "elpd_pooled": [-1.0, -1.0, -2.0], "elpd_separate": [-2.0, -2.0, -4.0],
                        "diff": [1.0, 1.0, 2.0], "se_diff": [0.1, 0.1, 0.2],
                        "max_k_pooled": [0.1] * 3, "max_k_separate": [0.1] * 3})
    gmm = GmmBaseline(results={"KOR": {"coef": {"gdp": 1.05, "L.fdi": 0.1},
                                       "se": {"gdp": 0.46, "L.fdi": 0.2}, "nobs": 10,
                                       "n_groups": 2, "n_instruments": 5}},
                      skipped={"<b>X</b>": "panel too small for system GMM"}, command="xtabond2 y")
    pooled = SimpleNamespace(
        diagnostics=_Diag(converged), summary=pd.DataFrame({"term": ["gdp", "gdppc"]}),
        spec=SimpleNamespace(name="multi_source", sampler=SimpleNamespace(chains=4, draws=2000)))
    sep = SimpleNamespace(diagnostics=_Diag(True), seconds=1.0)
    return MultiSourceResult(selection=sel, pooled=pooled, separate=sep, slopes=slopes,
                             contrasts=con, h1=h1, loo=loo, gmm=gmm, seconds={"pooled": 1.0})


def test_per_source_tables_join_bayes_contrast_and_gmm():
    tabs = per_source_tables(_result(True))
    assert list(tabs) == ["KOR", "<b>X</b>"]
    kor = tabs["KOR"].set_index("term")
    assert kor.loc["gdp", "gmm_coef"] == 1.05
    assert pd.isna(kor.loc["gdp", "diff_vs_ref"])  # Korea is the reference
    assert tabs["<b>X</b>"].set_index("term").loc["gdp", "diff_vs_ref"] == 0.3
    assert pd.isna(tabs["<b>X</b>"].set_index("term").loc["gdp", "gmm_coef"])


def test_report_flags_non_convergence_escapes_and_lists_refusals(tmp_path):
    manifest = {"data": "d.csv", "reference": "KOR", "seconds": {"total": 2.0}}
    write_run(_result(False), tmp_path / "run", manifest)
    md, html = write_report(_result(False), tmp_path, name="t", quick=False, manifest=manifest)
    text = md.read_text()
    assert "did NOT converge" in text
    assert "### KOR" in text and "IND left out" in text
    assert "panel too small for system GMM" in text
    assert "pooling across sources predicts better" in text
    page = html.read_text()
    assert "<b>X</b>" not in page and "&lt;b&gt;X&lt;/b&gt;" in page
    assert (tmp_path / "run" / "gmm" / "KOR.json").is_file()
    ok = write_report(_result(True), tmp_path, name="t", quick=False, manifest=manifest)[0]
    assert "did NOT converge" not in ok.read_text()
