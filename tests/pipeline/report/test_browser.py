"""The pages in a real browser: headless Chromium decodes every picture, logs nothing, fetches nothing,
fits a narrow window and prints.

Skipped when no Chromium is installed, unless ``PIPELINE_REQUIRE_BROWSER=1`` (CI sets it after
installing Debian's ``chromium``), where a missing browser fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.browser import CHECK, Chromium, find_chromium
from pipeline.report.body import FILES
from tests.pipeline.report.test_sweep import make_sweep

if not find_chromium() and os.environ.get("PIPELINE_REQUIRE_BROWSER") != "1":
    pytest.skip("no Chromium on PATH (install Debian's chromium)", allow_module_level=True)


def _look(page: Path, pictures: int) -> dict:
    """Open ``page`` wide then narrow; what the browser saw."""
    with Chromium() as browser:
        browser.open(page, width=1200, height=900)
        wide = browser.evaluate(CHECK)
        problems = browser.problems()
        browser.resize(360, 740)
        narrow = browser.evaluate(CHECK)
        pdf = browser.pdf()
    assert problems == [], problems
    assert len(wide["images"]) == pictures
    for image in wide["images"]:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    assert narrow["scrollWidth"] <= narrow["innerWidth"], narrow   # nothing sticks out of a phone's width
    assert pdf.startswith(b"%PDF")
    return wide


def test_a_run_report_renders_in_chromium(cli, fast_sets):
    assert cli("run", "-q", *fast_sets, "--out", "out").code == 0
    seen = _look(Path("out/report.html"), len(FILES))
    assert seen["sections"][-5:] == ["curves", "confusion", "per-class", "mistakes", "weights"]


def test_comparison_and_sweep_pages_render_in_chromium(cli, fast_sets):
    make_sweep(cli, fast_sets, Path("sweep"))
    from pipeline.report.sweep import build_sweep_report

    _look(build_sweep_report(Path("sweep")), 2)
    assert cli("report", "sweep/member-0", "sweep/member-2", "--out", "both.html").code == 0
    _look(Path("both.html"), 1)


def test_the_check_sees_a_broken_picture_and_a_fetch(tmp_path):
    """The same check fails on a page with a picture that does not decode and one from the network."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><img alt="broken" src="data:image/png;base64,iVBORw0KGgo=">'
                    '<img alt="remote" src="http://192.0.2.1/x.png"></body></html>')
    with Chromium() as browser:
        browser.open(page)
        images = browser.evaluate(CHECK)["images"]
        problems = browser.problems()
    assert [image["width"] for image in images] == [0, 0]
    assert any("192.0.2.1" in p for p in problems), problems
