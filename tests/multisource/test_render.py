"""The multi-source report: one table per source, warnings, escaping (no sampling)."""

from __future__ import annotations

import base64
import io
import re
import struct
from html.parser import HTMLParser
from types import SimpleNamespace

import pandas as pd
import pytest
from PIL import Image

from bayes_kfdi.jobs.multisource import write_run
from bayes_kfdi.jobs.report import write_rendered
from bayes_kfdi.multisource.analysis import GmmBaseline
from bayes_kfdi.multisource.panel import Selection
from bayes_kfdi.multisource.pipeline import MultiSourceResult
from bayes_kfdi.report.multisource import GMM_Z, per_source_tables, render_multisource


def write_report(res, out, *, name, quick, manifest):
    """Render the report and write it as the job does; return (markdown, html) paths."""
    rendered, _ = render_multisource(res, name=name, quick=quick, manifest=manifest)
    paths = write_rendered(rendered, out)
    return paths.markdown, paths.html


class _Diag:
    def __init__(self, converged: bool):
        self.converged = converged

    def to_attrs(self):
        return {"converged": int(self.converged), "max_rhat": 1.03 if not self.converged else 1.0,
                "min_ess_bulk": 100.0, "n_divergent": 0,
                "convergence_problems": "" if self.converged else "max R-hat 1.030 > 1.01"}


def _result(converged: bool, *, with_gmm: bool = True) -> MultiSourceResult:
    frame = pd.DataFrame({"series": ["KOR", "KOR", "<b>X</b>", "<b>X</b>"],
                          "country": ["A", "B", "A", "B"], "year": [2000, 2000, 2000, 2000],
                          "fdi": [1.0, 2.0, 3.0, 4.0]})
    sel = Selection(frame=frame, sources=("KOR", "<b>X</b>"), hosts=("A", "B"),
                    dropped_sources={"IND": "3 distinct years"}, rows_in=4, rows_out=4)
    slopes = pd.DataFrame({"source": ["KOR", "KOR", "<b>X</b>", "<b>X</b>"],
                           "term": ["gdp", "gdppc"] * 2, "mean": [0.4, -0.1, 0.7, 0.2],
                           "sd": [0.1] * 4, "hdi_low": [0.2, -0.3, 0.5, 0.0],
                           "hdi_high": [0.6, 0.1, 0.9, 0.4], "p_positive": [1.0, 0.2, 1.0, 0.9]})
    con = pd.DataFrame({"source": ["<b>X</b>"] * 2, "term": ["gdp", "gdppc"], "mean": [0.3, 0.3],
                        "sd": [0.1, 0.1], "hdi_low": [0.1, 0.1], "hdi_high": [0.5, 0.5],
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
        diagnostics=_Diag(converged),
        posterior_summary=pd.DataFrame({"parameter": ["beta", "<i>rho</i>"],
                                        "series": ["KOR", "KOR"],
                              "term": ["gdp", "gdppc"], "mean": [0.4, -0.1],
                              "r_hat": [1.001, 1.03], "ess_bulk": [900.0, 100.0],
                              "ess_tail": [800.0, 120.0]}),
        spec=SimpleNamespace(name="multi_source", sampler=SimpleNamespace(chains=4, draws=2000)))
    sep = SimpleNamespace(diagnostics=_Diag(True), seconds=1.0)
    return MultiSourceResult(selection=sel, pooled=pooled, separate=sep, slopes=slopes,
                             contrasts=con, h1=h1, loo=loo, gmm=gmm if with_gmm else None,
                             seconds={"pooled": 1.0})


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


MANIFEST = {"data": "d.csv", "reference": "KOR", "seconds": {"total": 2.0}}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    """Collect ids, <img> attributes and per-source sections of a rendered page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.imgs: list[dict[str, str | None]] = []
        self.sources: list[str | None] = []
        self.srcs: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "img":
            self.imgs.append(a)
        if tag == "section" and a.get("class") == "source":
            self.sources.append(a.get("data-source"))
        for key in ("src", "href"):
            if key in a and tag != "img":
                self.srcs.append(a[key])


def _png_size(uri: str) -> tuple[int, int]:
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix), uri[:40]
    data = base64.b64decode(uri[len(prefix):], validate=True)
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    assert data[-8:-4] == b"IEND", "PNG is truncated (no IEND chunk)"
    with Image.open(io.BytesIO(data)) as im:
        im.load()  # full decode: raises on corrupt or truncated pixel data
        assert im.size == struct.unpack(">II", data[16:24])
        return im.size


def _render(tmp_path, res):
    write_run(res, tmp_path / "run", MANIFEST)
    return write_report(res, tmp_path, name="t<&>", quick=False, manifest=MANIFEST)


def test_html_report_sections_tables_and_embedded_figures(tmp_path):
    md, html = _render(tmp_path, _result(False))
    page = html.read_text()
    p = _Page()
    p.feed(page)
    for anchor in ("sources", "slopes", "h1", "loo", "loo-verdict", "per-source",
                   "diagnostics", "not-converged"):
        assert anchor in p.ids, anchor
    assert p.sources == ["KOR", "<b>X</b>"]  # attribute values come back unescaped
    # Two figures, both valid PNGs embedded in the page (self-contained: no links out).
    assert len(p.imgs) == 2 and all(i.get("alt") for i in p.imgs)
    assert all(w > 100 and h > 50 for w, h in (_png_size(i["src"]) for i in p.imgs))
    assert p.srcs == []
    assert "http://" not in page and "https://" not in page
    # Per-source table: contrast interval, GMM point +- z*se, and the refusal reason.
    lo, hi = 1.05 - GMM_Z * 0.46, 1.05 + GMM_Z * 0.46
    assert f"[{lo:.3f}, {hi:.3f}]" in page and GMM_Z == pytest.approx(1.6449, abs=1e-4)
    assert "[0.100, 0.500]" in page and "0.990" in page
    assert "No GMM estimate for &lt;b&gt;X&lt;/b&gt;: panel too small for system GMM" in page
    # H1 and LOO tables, diagnostics appendix with both fits and the worst parameter.
    assert re.search(r"<td class=\"t\">&lt;b&gt;X&lt;/b&gt;</td><td>1.000</td><td>0.100</td>"
                     r"<td>0.100</td>", page)
    assert "<td>2.0</td><td>0.2</td>" in page  # TOTAL ELPD difference and SE
    assert "one model per source" in page and "max R-hat 1.030 &gt; 1.01" in page
    assert "&lt;i&gt;rho&lt;/i&gt;" in page
    # Escaping: no user string reaches the page raw.
    for raw in ("<b>X</b>", "<i>rho</i>", "t<&>"):
        assert raw not in page
    # Markdown links the same figures, written beside it.
    text = md.read_text()
    for key in ("forest", "contrasts"):
        assert f"(figures/{key}.png)" in text
        assert (tmp_path / "figures" / f"{key}.png").read_bytes()[:8] == PNG_SIGNATURE


def test_html_report_without_gmm_says_why(tmp_path):
    _, html = _render(tmp_path, _result(True, with_gmm=False))
    page = html.read_text()
    assert "not-converged" not in page
    assert page.count("the GMM baseline was not run") == 2
    p = _Page()
    p.feed(page)
    assert len(p.imgs) == 2 and all(_png_size(i["src"])[0] > 100 for i in p.imgs)


PROBE = """<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.map.call(document.images, function (im) {
    return {alt: im.alt, complete: im.complete, width: im.naturalWidth};
  });
  var ids = Array.prototype.map.call(document.querySelectorAll("section.source"),
                                     function (s) { return s.dataset.source; });
  document.body.setAttribute("data-probe", JSON.stringify({imgs: imgs, sources: ids}));
});
</script>"""


def test_html_report_images_load_in_headless_chromium(tmp_path, chromium_probe):
    """Same check as tests/report/test_browser.py, on the multi-source page."""
    _, html = _render(tmp_path / "rep", _result(True))
    page = html.read_text(encoding="utf-8")
    probe = chromium_probe(page, PROBE)
    assert probe["sources"] == ["KOR", "<b>X</b>"]
    assert len(probe["imgs"]) == page.count("<img ") == 2
    broken = [i["alt"] for i in probe["imgs"] if not (i["complete"] and i["width"] > 0)]
    assert not broken, f"images that did not load: {broken}"
