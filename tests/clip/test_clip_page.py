"""measure-clip's clip.html works offline and loads cleanly in a real headless browser (tests/browser.py;
skipped, with the reason, where no browser is installed). Screenshot: test-artifacts/clip/clip.png at the
repository root (git-ignored)."""

from __future__ import annotations

import pytest

from realitygap.clip.measure import ClipOptions, measure_clip
from realitygap.clip.report import write_clip_report
from realitygap.core.rig import CameraConfig, RigConfig
from tests.browser import ARTIFACTS_DIR, assert_loads_cleanly, open_page, remote_references
from tests.helpers import simulate_to

SCREENSHOT = ARTIFACTS_DIR / "clip" / "clip.png"


@pytest.fixture(scope="module")
def clip_page(tmp_path_factory):
    """clip.html of a bounce episode measured by measure-clip (96 x 128 px, 60 fps)."""
    folder = tmp_path_factory.mktemp("clip_page")
    episode = simulate_to(folder, "bounce", {"height_m": 0.8, "restitution": 0.6},
                          rig=RigConfig(sensors=("rgb",), camera=CameraConfig(width=96, height=128, fps=60)))
    _, html = write_clip_report(measure_clip(episode, ClipOptions(law="bounce")), folder / "out")
    return html


def test_clip_page_references_no_remote_url(clip_page):
    assert remote_references(clip_page.read_text()) == []


def test_clip_page_loads_with_its_images_and_no_console_error(clip_page):
    with open_page(clip_page) as page:
        page.screenshot(SCREENSHOT)
        assert_loads_cleanly(page)
        assert sorted(image.src for image in page.images) == ["clip_fit.png", "clip_track.png"]
        assert page.find("table")
