"""Open the rendered HTML in headless Chromium and check that every figure decodes.

Chromium is the Debian package (``apt-get install chromium``, done by ``.ci/run``). The
test injects a script into a copy of the report that, once the page has loaded, records
each image's ``complete`` flag and ``naturalWidth`` in a data attribute; ``--dump-dom``
then prints the DOM and the test reads the attribute back.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest

from bayes_kfdi.report.hypothesis import load_hypotheses
from bayes_kfdi.report.render import render_report

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
#: Generous: Chromium's first start on a loaded 2-core machine takes several seconds.
BROWSER_TIMEOUT_S = 120

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


def _chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def test_report_renders_in_headless_chromium(run_dir: Path, hypotheses_path: Path,
                                             tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("headless Chromium not found (install the Debian package 'chromium'; "
                    ".ci/run does); the browser rendering test is skipped")
    paths = render_report(run_dir, tmp_path / "report",
                          hypotheses=load_hypotheses(hypotheses_path), name="browser")
    html = paths.html.read_text(encoding="utf-8")
    assert html.count("</body>") == 1
    probe_file = tmp_path / "probe.html"
    probe_file.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    cmd = [
        browser, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000", "--dump-dom", probe_file.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S,
                          check=False)
    m = re.search(r'data-probe="([^"]*)"', proc.stdout)
    assert m, f"probe attribute missing; chromium rc={proc.returncode}: {proc.stderr[-500:]}"
    probe = json.loads(unescape(m.group(1)))
    assert probe["sections"][:3] == ["H1", "H2", "H3"]
    n_expected = html.count("<img ")
    assert len(probe["imgs"]) == n_expected >= 6
    broken = [i["alt"] for i in probe["imgs"] if not (i["complete"] and i["width"] > 0)]
    assert not broken, f"images that did not load: {broken}"
