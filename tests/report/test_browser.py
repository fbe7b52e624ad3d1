"""Open the rendered HTML in headless Chromium and check that every figure decodes.

Chromium is the Debian package (``apt-get install chromium``, done by ``.ci/run``). The
test injects a script into a copy of the report that, once the page has loaded, records
each image's ``complete`` flag and ``naturalWidth`` in a data attribute; ``--dump-dom``
then prints the DOM and the test reads the attribute back.
"""

from __future__ import annotations

from pathlib import Path

from bayes_kfdi.jobs.report import rerender as render_report
from bayes_kfdi.report.hypothesis import load_hypotheses

PROBE = """<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.map.call(document.images, function (im) {
    return {alt: im.alt, complete: im.complete, width: im.naturalWidth};
  });
  var ids = Array.prototype.map.call(document.querySelectorAll("section.hypothesis"),
                                     function (s) { return s.id; });
  document.body.setAttribute("data-probe", JSON.stringify({imgs: imgs, sections: ids}));
});
</script>"""


def test_report_renders_in_headless_chromium(run_dir: Path, hypotheses_path: Path,
                                             tmp_path: Path, chromium_probe) -> None:
    paths = render_report(run_dir, tmp_path / "report",
                          hypotheses=load_hypotheses(hypotheses_path), name="browser")
    html = paths.html.read_text(encoding="utf-8")
    probe = chromium_probe(html, PROBE)
    assert probe["sections"][:3] == ["H1", "H2", "H3"]
    n_expected = html.count("<img ")
    assert len(probe["imgs"]) == n_expected >= 6
    broken = [i["alt"] for i in probe["imgs"] if not (i["complete"] and i["width"] > 0)]
    assert not broken, f"images that did not load: {broken}"
