"""Fixtures shared across test packages."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from html import unescape
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
#: Generous: Chromium's first start on a loaded 2-core machine takes several seconds.
BROWSER_TIMEOUT_S = 120


@pytest.fixture
def chromium_probe(tmp_path: Path) -> Callable[[str, str], dict]:
    """Load an HTML page in headless Chromium and return what a probe script recorded.

    The probe is a ``<script>`` that, on ``load``, stores a JSON object in the body's
    ``data-probe`` attribute; ``--dump-dom`` prints the DOM and the attribute is read
    back. Skips the test with a clear message when Chromium is not installed (``.ci/run``
    installs the Debian package).
    """
    browser = next((p for p in map(shutil.which, CHROMIUM_CANDIDATES) if p), None)
    if browser is None:
        pytest.skip("headless Chromium not found (install the Debian package 'chromium'; "
                    ".ci/run does); the browser rendering test is skipped")

    def probe(html: str, script: str) -> dict:
        assert html.count("</body>") == 1
        page = tmp_path / "probe.html"
        page.write_text(html.replace("</body>", script + "</body>"), encoding="utf-8")
        cmd = [
            browser, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=10000", "--dump-dom", page.as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=BROWSER_TIMEOUT_S, check=False)
        m = re.search(r'data-probe="([^"]*)"', proc.stdout)
        assert m, f"probe attribute missing; chromium rc={proc.returncode}: {proc.stderr[-500:]}"
        return json.loads(unescape(m.group(1)))

    return probe
