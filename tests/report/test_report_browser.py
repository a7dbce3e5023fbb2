"""The report page in a real headless browser (tests/browser.py: Debian's Chromium through selenium; skipped,
with the reason, where it is not installed).

The screenshot is left at test-artifacts/report/index.png at the repository root (git-ignored), written
before the checks so that a failing page can be looked at.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.browser import ARTIFACTS_DIR, LoadedPage, assert_loads_cleanly, open_page

SCREENSHOT = ARTIFACTS_DIR / "report" / "index.png"

HEADLINE_TABLE = "#headline"
"""CSS selector of the table the report opens with: the verdict's headline (sources x axes)."""


def test_report_loads_with_every_image_and_no_console_error(small_report):
    with open_page(small_report) as page:
        page.screenshot(SCREENSHOT)
        assert_loads_cleanly(page)
        assert len(page.images) >= 8  # per episode a strip and a plot; per control and scenario two strips
        headings = page.find("h1")
        assert len(headings) == 1 and "realitygap" in headings[0].text
        assert_headline_table_first(page)
    assert SCREENSHOT.stat().st_size > 10_000


def assert_headline_table_first(page: LoadedPage) -> None:
    """The `HEADLINE_TABLE` is on the page, shown, has a header row and data rows, and is the page's first
    table (the verdict comes before everything else)."""
    found = page.find(HEADLINE_TABLE)
    assert found, f"no element matches {HEADLINE_TABLE!r}"
    table = found[0]
    assert table.tag_name == "table" and table.is_displayed()
    rows = table.find_elements("css selector", "tr")
    assert rows[0].find_elements("css selector", "th"), "the headline table has no header row"
    assert len(rows) > 1 and rows[1].find_elements("css selector", "td"), "the headline table has no data rows"
    assert page.find("table")[0] == table, f"{HEADLINE_TABLE!r} is not the first table of the page"


def test_the_checks_catch_a_broken_image_a_script_error_and_a_remote_fetch(tmp_path):
    """Negative control: the same checks fail on a page with a missing image, a console error and a remote
    stylesheet (the .invalid domain never resolves, RFC 6761)."""
    cv2.imwrite(str(tmp_path / "ok.png"), np.zeros((8, 16, 3), np.uint8))
    page_path = tmp_path / "broken.html"
    page_path.write_text('<!doctype html><html><head><link rel="stylesheet" href="https://cdn.invalid/s.css"></head>'
                         '<body><img src="ok.png" alt="ok"><img src="missing.png" alt="missing">'
                         '<script>console.error("boom")</script></body></html>')
    with open_page(page_path) as page:
        assert [(i.alt, i.loaded, i.natural_width_px) for i in page.images] == [("ok", True, 16), ("missing", False, 0)]
        messages = " ".join(entry["message"] for entry in page.console_errors)
        assert "missing.png" in messages and "boom" in messages and "cdn.invalid" in messages
        with pytest.raises(AssertionError, match="console errors"):
            assert_loads_cleanly(page)
