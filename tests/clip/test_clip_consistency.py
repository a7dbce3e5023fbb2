"""measure-clip's consistency checks on painted clips with one known defect each (and none on a clean one)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from realitygap.clip.measure import ClipOptions, measure_clip
from tests.clip.clips import paint_disc
from tests.helpers import run_cli, write_mp4

N, FPS, G_PX = 40, 60.0, 600.0
SIZE = (160, 120)


def _clip(defect: str | None) -> np.ndarray:
    """A blue disc falling on a grey checkerboard, with `defect`."""
    w, h = SIZE
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    board = np.where(((yy // 10) + (xx // 10)) % 2 == 0, 170, 140).astype(float)
    background = np.repeat(board[..., None], 3, axis=2)
    t = np.arange(N) / FPS
    centres = np.stack([np.full(N, 80.0), 15 + 0.5 * G_PX * t**2], axis=1)
    shift = np.zeros((N, 2))
    if defect == "camera":
        shift[:, 0] = np.linspace(0, 12, N)  # a pan of 12 px
    frames = []
    for k in range(N):
        bg = np.roll(background, int(round(shift[k, 0])), axis=1)
        frames.append(bg)
    frames = np.stack(frames)
    drawn = np.ones(N, bool)
    if defect == "vanishing":
        drawn[12:17] = False
    frames[drawn] = paint_disc(frames[drawn], centres[drawn] + shift[drawn], 6.0, (40, 70, 200))
    if defect == "spontaneous":
        frames[15:] = paint_disc(frames[15:], np.tile([[25.0, 95.0]], (N - 15, 1)), 7.0, (220, 30, 200))
    if defect == "walker":  # a textured patch (a person) crossing a plain background: the camera does not move
        frames[:] = 150.0
        patch = np.where(((yy[:60, :30] // 5) + (xx[:60, :30] // 5)) % 2 == 0, 60.0, 110.0)[..., None]
        for k in range(N):
            x = 120 - 2 * k
            frames[k, 50:110, x:x + 30] = patch[:, :max(0, min(30, w - x))]
        frames[:] = paint_disc(frames.astype(np.uint8), centres, 6.0, (40, 70, 200))
    frames = np.clip(frames + rng.normal(0, 1.0, frames.shape), 0, 255).astype(np.uint8)
    if defect == "frozen":  # the video repeats frame 13, sensor noise and all, while the ball falls on
        frames[14:19] = frames[13]
    return frames


@pytest.mark.parametrize("defect", [None, "frozen", "vanishing", "spontaneous", "camera"])
def test_each_defect_is_reported_and_a_clean_clip_has_none(defect, tmp_path):
    path = write_mp4(tmp_path / "clip.mp4", _clip(defect), FPS, crf=0)
    c = measure_clip(path, ClipOptions(law="drop", scale_px_per_m=100.0, object="blue")).consistency
    assert (c["frozen_frames"] >= 4) == (defect == "frozen"), c
    assert c["frozen_frames"] <= 5
    assert bool(c["vanishing_events"]) == (defect == "vanishing"), c
    if defect == "vanishing":
        assert c["vanishing_events"][0]["first_frame"] in (12, 13) and c["vanishing_events"][0]["last_frame"] in (15, 16)
    assert bool(c["spontaneous_objects"]) == (defect == "spontaneous"), c
    if defect == "spontaneous":
        assert c["spontaneous_objects"][0]["first_frame"] in (14, 15, 16)
    assert (c["camera_motion_px"] > 5.0) == (defect == "camera"), c


def test_a_person_walking_across_a_plain_background_is_not_camera_motion(tmp_path):
    path = write_mp4(tmp_path / "clip.mp4", _clip("walker"), FPS, crf=0)
    c = measure_clip(path, ClipOptions(law="drop", scale_px_per_m=100.0, object="blue")).consistency
    # the walker moves a part of the image, not the whole: the camera is still (it is in frame 0: not spontaneous)
    assert c["camera_motion_px"] is not None and c["camera_motion_px"] < 1.0, c


def test_consistency_is_in_clip_json_and_on_the_summary_line(tmp_path, capsys):
    path = write_mp4(tmp_path / "clip.mp4", _clip("spontaneous"), FPS, crf=0)
    code, out, err = run_cli(["measure-clip", path, "--law", "drop", "--scale", 100, "--object", "blue", "--out", tmp_path / "o"],
                             capsys)
    assert code == 0, err
    assert "consistency: 0 frozen" in out and "1 spontaneous" in out and out.count("\n") == 1
    data = json.loads((tmp_path / "o" / "clip.json").read_text())
    assert len(data["consistency"]["spontaneous_objects"]) == 1
