import numpy as np

from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.pipeline import plan_contexts, simulate_dataset
from realitygap.report.overview import frame_strip, write_overview


def test_overview_page_lists_every_episode_with_strip_and_plot(tmp_path):
    rig = RigConfig(sensors=("rgb", "imu"), camera=CameraConfig(width=64, height=64))
    contexts = plan_contexts("drop", 1, 0, None, rig) + plan_contexts("bounce", 1, 0, None, rig)
    simulate_dataset(contexts, tmp_path / "data")
    page = write_overview(tmp_path / "data", tmp_path / "report")
    html = page.read_text()
    for context in contexts:
        assert context.episode_id in html
        assert (tmp_path / "report" / "assets" / f"{context.episode_id}_strip.png").stat().st_size > 500
        assert (tmp_path / "report" / "assets" / f"{context.episode_id}_trajectory.png").stat().st_size > 5000
    assert "impact_time_s" in html and "apex_ratio" in html


def test_frame_strip_shape():
    frames = np.zeros((30, 64, 96, 3), np.uint8)
    strip = frame_strip(frames, count=8, height_px=32)
    assert strip.shape == (32, 8 * 48 + 7 * 2, 3)
