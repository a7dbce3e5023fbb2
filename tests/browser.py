"""HTML pages under test: opened in a real headless browser, and scanned for anything they would fetch from
the network.

`open_page(path)` starts Debian's Chromium (`/usr/bin/chromium`, driven through `/usr/bin/chromedriver` by
selenium), loads a local HTML file and gives a `LoadedPage`: the console entries, whether every <img>
loaded, the URLs the page fetched, element look-up and a screenshot. `make test` installs the browser
where it can (see the Makefile's `browser` target); where it is missing the test is skipped and says so.

`remote_references(html)` lists what a page would load from the network (http, https or protocol-relative
URLs in src/srcset/poster/data attributes, <link href>, CSS url() and @import): a report must work offline.

Nothing here reads the clock to decide a result: `driver.get` returns after the page's load event, when
every eager <img> has either loaded or failed; lazy images are switched to eager and awaited through their
load/error events. The driver's timeouts only stop a browser that hangs.
"""

from __future__ import annotations

import base64
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1")
"""Headless as root on a closed network: without the background-networking flags Chromium keeps opening
connections that this network refuses (and logs them); a fresh --user-data-dir is added per page."""
WINDOW_PX = (1280, 900)
"""Viewport (width, height) the page is laid out in; screenshots cover the whole page, not just this."""
PAGE_LOAD_TIMEOUT_S = 60
"""Only stops a browser that hangs: a page that loads is judged on what loaded, never on how fast."""

SEVERE = "SEVERE"
"""Console level of errors (uncaught exceptions, resources that failed to load)."""
ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "test-artifacts"
"""Where tests leave files for people to look at (screenshots); git-ignored, kept between runs."""
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


@dataclass(frozen=True)
class ImageLoad:
    """One <img> after the page loaded: `loaded` is complete with a decoded width (naturalWidth > 0)."""
    src: str
    alt: str
    complete: bool
    natural_width_px: int
    natural_height_px: int

    @property
    def loaded(self) -> bool:
        return self.complete and self.natural_width_px > 0


class LoadedPage:
    """A local page loaded in headless Chromium (see `open_page`)."""

    def __init__(self, driver, url: str):
        self.driver = driver
        self.url = url
        self.console: list[dict] = driver.get_log("browser")
        """Console entries logged while loading ({'level', 'message', 'source', 'timestamp'})."""
        self.images: list[ImageLoad] = [ImageLoad(**entry) for entry in driver.execute_async_script(_AWAIT_IMAGES)]
        """Every <img> of the document, in document order."""
        self.console += driver.get_log("browser")  # what the lazy images added

    @property
    def console_errors(self) -> list[dict]:
        """Console entries at level SEVERE."""
        return [entry for entry in self.console if entry["level"] == SEVERE]

    @property
    def broken_images(self) -> list[ImageLoad]:
        return [image for image in self.images if not image.loaded]

    def fetched_urls(self) -> list[str]:
        """Every URL the page fetched after the document itself (the Resource Timing API)."""
        return self.driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")

    def find(self, css_selector: str) -> list:
        """Elements matching a CSS selector (selenium WebElements: .text, .tag_name, .get_attribute(...))."""
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css_selector)

    def screenshot(self, path: Path) -> Path:
        """A PNG of the whole page (beyond the viewport) at `path` (folders created); returns the path."""
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


def assert_loads_cleanly(page: LoadedPage) -> None:
    """No console errors, every <img> loaded, and nothing fetched but local files (file:, data:, blob: URLs)."""
    errors = [entry["message"] for entry in page.console_errors]
    assert not errors, f"{page.url}: console errors:\n" + "\n".join(errors)
    broken = [f"{image.src!r} (alt {image.alt!r})" for image in page.broken_images]
    assert not broken, f"{page.url}: images that did not load: " + ", ".join(broken)
    remote = [url for url in page.fetched_urls() if not url.startswith(LOCAL_SCHEMES)]
    assert not remote, f"{page.url}: fetched from the network: " + ", ".join(remote)


def require_browser() -> None:
    """Skip the calling test, with the reason, when selenium or the browser is not installed."""
    pytest.importorskip("selenium", reason="selenium is not installed: it is in the `test` extra "
                                           "(pip install -e '.[test]', or `make test`)")
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(f"no headless browser: {', '.join(missing)} missing (Debian packages chromium and chromium-driver; "
                    "`make test` installs them when it runs as root, or with passwordless sudo, where apt-get exists)")


@contextmanager
def open_page(page: Path) -> Iterator[LoadedPage]:
    """Load the local HTML file `page` (a file:// URL) in a fresh headless Chromium; the browser and its
    profile are removed on exit. Skips the test when no browser is installed (`require_browser`)."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="rg-chromium-") as profile:
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={WINDOW_PX[0]},{WINDOW_PX[1]}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
        try:
            driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
            driver.set_script_timeout(PAGE_LOAD_TIMEOUT_S)
            url = Path(page).resolve().as_uri()
            driver.get(url)
            yield LoadedPage(driver, url)
        finally:
            driver.quit()


_AWAIT_IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
const settled = images.map(img => {
  if (img.loading === 'lazy') img.loading = 'eager';
  if (img.complete) return Promise.resolve();
  return new Promise(resolve => { img.addEventListener('load', resolve, {once: true});
                                  img.addEventListener('error', resolve, {once: true}); });
});
Promise.all(settled).then(() => done(images.map(img => ({
  src: img.getAttribute('src') || img.getAttribute('srcset') || '', alt: img.getAttribute('alt') || '', complete: img.complete,
  natural_width_px: img.naturalWidth, natural_height_px: img.naturalHeight}))));
"""


# --------------------------------------------------------------------------------------------------
# Offline: what a page would fetch from the network, read from its HTML

_REMOTE = re.compile(r"^\s*(?:https?:|ftp:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)
_LOADING_ATTRIBUTES = frozenset({"src", "srcset", "poster", "data", "background", "formaction", "action"})


def remote_references(html: str) -> list[str]:
    """'<tag attribute>: URL' for every remote URL (http:, https:, ftp: or protocol-relative //) the page
    would load: src, srcset, poster, data and form action attributes, <link href> (stylesheets, icons,
    fonts), CSS url() and @import in <style> and style attributes. Plain <a href> links load nothing until
    clicked and are not listed."""
    scanner = _ReferenceScanner()
    scanner.feed(html)
    scanner.close()
    return scanner.remote


class _ReferenceScanner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.remote: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        if tag == "style":
            self._in_style = True
        for name, value in attrs:
            if value is None:
                continue
            if name in _LOADING_ATTRIBUTES or (tag == "link" and name == "href"):
                urls = [part.split()[0] for part in value.split(",") if part.strip()] if name == "srcset" else [value]
                self.remote += [f"<{tag} {name}>: {url}" for url in urls if _REMOTE.match(url)]
            elif name == "style":
                self._css(value, f"<{tag} style>")

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self._css(data, "<style>")

    def _css(self, css: str, where: str) -> None:
        for match in _CSS_URL.finditer(css):
            url = match.group(1) or match.group(2)
            if _REMOTE.match(url):
                self.remote.append(f"{where}: {url}")
