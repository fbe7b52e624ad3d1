"""The rendered report: sections, escaping, embedded figures, and numbers traced to files."""

from __future__ import annotations

import base64
import copy
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from bayes_kfdi.jobs.report import rerender as render_report
from bayes_kfdi.report.hypothesis import load_hypotheses, parse_hypotheses

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Cells(HTMLParser):
    """Collect <img> sources, section ids and claim-table cells keyed by data attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[str] = []
        self.sections: list[str] = []
        self.cells: dict[tuple[str, str, str, str], str] = {}
        self._row: tuple[str, str, str] | None = None
        self._field: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag == "section" and "data-hypothesis" in a:
            self.sections.append(a["data-hypothesis"])
        if tag == "tr" and "data-series" in a:
            self._row = (a["data-series"], a["data-term"], a["data-component"])
        if tag == "td" and self._row and "data-field" in a:
            self._field, self._text = a["data-field"], ""

    def handle_data(self, data):
        if self._field:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "td" and self._field and self._row:
            self.cells[(*self._row, self._field)] = self._text.strip()
            self._field = None
        if tag == "tr":
            self._row = None


@pytest.fixture(scope="module")
def report(run_dir: Path, hypotheses_path: Path, tmp_path_factory) -> tuple[Path, str, _Cells]:
    out = run_dir.parent / "report"
    paths = render_report(run_dir, out, hypotheses=load_hypotheses(hypotheses_path),
                          name="fixture <&> name")
    html = paths.html.read_text(encoding="utf-8")
    cells = _Cells()
    cells.feed(html)
    return out, html, cells


def test_h1_to_h3_sections_and_files(report) -> None:
    out, html, cells = report
    assert cells.sections == ["H1", "H2", "H3"]
    for h in ("H1", "H2", "H3"):
        assert f'id="{h}"' in html
    md = (out / "report.md").read_text(encoding="utf-8")
    for h in ("## H1:", "## H2:", "## H3:", "## Appendix: diagnostics"):
        assert h in md
    for png in (out / "figures").glob("*.png"):
        assert png.read_bytes().startswith(PNG_MAGIC)
        assert f"figures/{png.name}" in md


def test_every_image_is_embedded_png(report) -> None:
    _, html, cells = report
    # forest x3, two slope paths per time-varying term used, ppc, wage effect
    assert len(cells.imgs) >= 6
    for src in cells.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC)
    assert "http://" not in html and "https://" not in html  # self-contained


def test_user_strings_are_escaped(report, run_dir: Path, hypotheses_path: Path) -> None:
    _, html, _ = report
    # data_check.json of the fixture lists a country named "<script>alert(1)</script>".
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "fixture &lt;&amp;&gt; name" in html
    doc = {"hypothesis": [{"id": "U1", "title": "<img src=x onerror=alert(2)>",
                           "statement": "a | b <b>bold</b>",
                           "claims": [{"series": "textile", "term": "gdp", "direction": ">"}]}]}
    out = run_dir.parent / "report_user"
    paths = render_report(run_dir, out, hypotheses=parse_hypotheses(doc, source="<x>.toml"),
                          name="u")
    h = paths.html.read_text()
    assert "<img src=x" not in h and "&lt;img src=x onerror=alert(2)&gt;" in h
    assert "<b>bold</b>" not in h
    m = paths.markdown.read_text()
    assert "<img src=x" not in m and "a \\| b &lt;b&gt;bold&lt;/b&gt;" in m


def _fmt(v: float) -> str:
    return f"{v:.3f}"


def test_numbers_trace_to_summary_csv_and_gmm_json(report, run_dir: Path) -> None:
    """Cross-check report cells against the run directory's files, not the code's tables."""
    _, html, cells = report
    summary = pd.read_csv(run_dir / "summary.csv")
    checked = 0
    for series, term in [("textile", "gdp"), ("steel", "gdppc"),
                         ("electronics_efficiency", "wage"),
                         ("electronics_technology", "imports")]:
        s = summary[(summary.parameter == "beta") & (summary.series == series)
                    & (summary.term == term)].iloc[0]
        assert cells.cells[(series, term, "level", "bayes_mean")] == _fmt(s["mean"])
        g = json.loads((run_dir / "gmm" / f"{series}.json").read_text())
        coef, se = g["coef"][term], g["se"][term]
        assert cells.cells[(series, term, "level", "gmm_coef")] == _fmt(coef)
        z = stats.norm.ppf(0.95)
        assert cells.cells[(series, term, "level", "gmm_ci")] == (
            f"[{_fmt(coef - z * se)}, {_fmt(coef + z * se)}]")
        below = (series, term) in {("steel", "gdppc"), ("electronics_efficiency", "wage")}
        p_dir = stats.norm.cdf(coef / se) if below else stats.norm.sf(coef / se)
        assert cells.cells[(series, term, "level", "gmm_p_direction")] == _fmt(p_dir)
        checked += 1
    g = json.loads((run_dir / "gmm" / "electronics_efficiency.trend.json").read_text())
    assert cells.cells[("electronics_efficiency", "wage", "trend", "gmm_coef")] == _fmt(
        g["coef"]["wage_trend"]
    )
    assert checked == 4
    assert "simulated-banner" not in html  # the fixture has no truth file
    # GMM diagnostics in the appendix come from the JSON too.
    t = json.loads((run_dir / "gmm" / "textile.json").read_text())
    assert re.search(rf"<td>{t['n_instruments']}</td>", html)
    assert _fmt(t["hansen"]["p"]) in html


def test_markdown_carries_the_same_numbers(report, run_dir: Path) -> None:
    out, _, cells = report
    md = (out / "report.md").read_text()
    row = next(ln for ln in md.splitlines() if ln.startswith("| gdp &gt; 0 (textile)"))
    assert f"| {cells.cells[('textile', 'gdp', 'level', 'bayes_mean')]} |" in row
    assert f"| {cells.cells[('textile', 'gdp', 'level', 'gmm_coef')]} |" in row


def test_missing_gmm_failures_are_listed(run_dir: Path, hypotheses_path: Path,
                                         tmp_path: Path) -> None:
    import shutil

    d = tmp_path / "run"
    shutil.copytree(run_dir, d)
    (d / "gmm" / "steel.json").unlink()
    (d / "gmm_failures.json").write_text(json.dumps(
        {"steel.json": "IdentificationError: not identified"}))
    paths = render_report(d, tmp_path, hypotheses=load_hypotheses(hypotheses_path), name="f")
    html = paths.html.read_text()
    assert "could not be estimated" in html and "IdentificationError: not identified" in html
    assert "not available: estimation failed for steel.json" in html


def test_report_without_posterior_says_so(run_dir: Path, hypotheses_path: Path,
                                          tmp_path: Path) -> None:
    import shutil

    d = tmp_path / "run"
    shutil.copytree(run_dir / "gmm", d / "gmm")
    hs = copy.deepcopy(load_hypotheses(hypotheses_path))
    paths = render_report(d, tmp_path, hypotheses=hs, name="gmm only")
    html = paths.html.read_text()
    assert "No Bayesian fit was found" in html
    assert "Not available: posterior.nc has no posterior_predictive" in html


EXAMPLE = Path(__file__).resolve().parents[2] / "reports" / "example"


@pytest.mark.skipif(not (EXAMPLE / "report.html").is_file(), reason="no committed example")
def test_committed_example_traces_to_its_run_files() -> None:
    """The committed example's claim cells equal its own summary.csv and GMM JSON."""
    cells = _Cells()
    cells.feed((EXAMPLE / "report.html").read_text(encoding="utf-8"))
    summary = pd.read_csv(EXAMPLE / "run" / "summary.csv", keep_default_na=False)
    level = [k for k in cells.cells if k[2] == "level" and k[3] == "bayes_mean"]
    assert len(level) >= 8
    for series, term, _, _ in level:
        s = summary[(summary.parameter == "beta") & (summary.series == series)
                    & (summary.term == term)].iloc[0]
        assert cells.cells[(series, term, "level", "bayes_mean")] == _fmt(float(s["mean"]))
        g = json.loads((EXAMPLE / "run" / "gmm" / f"{series}.json").read_text())
        assert cells.cells[(series, term, "level", "gmm_coef")] == _fmt(g["coef"][term])
        z = stats.norm.ppf(0.95)
        b, se = g["coef"][term], g["se"][term]
        assert cells.cells[(series, term, "level", "gmm_ci")] == (
            f"[{_fmt(b - z * se)}, {_fmt(b + z * se)}]")


def test_simulated_data_get_the_banner_and_the_truth(run_dir: Path, hypotheses_path: Path,
                                                      tmp_path: Path) -> None:
    d = tmp_path / "sim"
    shutil.copytree(run_dir, d)
    truth = {"dgp": "test_dgp", "seed": 7, "reference_year": 2001,
             "beta": {"textile": {"gdp": 0.25}}, "beta_trend": {}}
    (d / "truth.json").write_text(json.dumps(truth))
    paths = render_report(d, tmp_path / "out", hypotheses=load_hypotheses(hypotheses_path),
                          name="sim")
    html = paths.html.read_text(encoding="utf-8")
    assert 'id="simulated-banner"' in html and "SIMULATED DATA" in html
    assert "test_dgp" in html and "seed 7" in html
    cells = _Cells()
    cells.feed(html)
    assert cells.cells[("textile", "gdp", "level", "truth")] == "0.250"
    md = paths.markdown.read_text(encoding="utf-8")
    assert "SIMULATED DATA" in md and "| truth |" in md
