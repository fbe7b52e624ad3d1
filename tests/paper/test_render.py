from __future__ import annotations

from html.parser import HTMLParser

from bayes_kfdi.paper.equations import PaperEquation
from bayes_kfdi.paper.render import layout, to_html, to_latex, to_markdown
from bayes_kfdi.paper.tables import EquationRun, PaperRun, build_table
from bayes_kfdi.writer import write_text


def _table(fake_result):
    eq = PaperEquation(
        name="textile",
        table="table2",
        series="textile",
        column="textile",
        command="xtabond2 fdi L.fdi gdp, gmm(L.fdi) iv(gdp) twostep robust",
    )
    res = fake_result(["L.fdi", "gdp", "rd", "_cons"], [0.5, 1.3, -0.2, 3.0], [0.1, 0.2, 0.25, 2.0])
    return build_table(PaperRun(runs={"textile": EquationRun(eq, res)}), "table2")


def test_layout_cells_read_like_the_paper(fake_result):
    lay = layout(_table(fake_result))
    col = lay["Textile product"]
    assert col["GDP"] == "1.30*** (0.20)"
    assert col["R&D"] == "-0.20 (0.25)"
    assert col["WAGE"] == ""  # not estimated here
    assert col["AR(2) (p value)"] == "0.400 (0.690)"
    assert col["No of instruments"] == "100"
    paper = layout(_table(fake_result), source="paper")["Textile product"]
    assert paper["GDP"] == "1.32*** (0.27)"
    assert paper["ID test"] == "17.067"
    assert paper["No of instruments"] == "108"


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_markdown_latex(fake_result):
    t = _table(fake_result)
    page = to_html(t, "table2")
    p = _Collect()
    p.feed(page)
    assert p.tags.count("table") == 2  # ours and as published
    assert "1.30*** (0.20)" in p.text and "R&D" in p.text
    md = to_markdown(t, "table2")
    assert "| GDP | 1.30*** (0.20) |" in md
    tex = to_latex(t, "table2")
    assert r"R\&D" in tex and r"1.30$^{***}$ (0.20)" in tex and r"\toprule" in tex
    assert r"p$<$0.01" in tex and "p<" not in tex  # a bare < misprints in LaTeX's OT1


def test_atomic_write_leaves_no_temp_files(tmp_path):
    write_text(tmp_path / "a" / "x.txt", "hi")
    assert (tmp_path / "a" / "x.txt").read_text() == "hi"
    assert [f.name for f in (tmp_path / "a").iterdir()] == ["x.txt"]
