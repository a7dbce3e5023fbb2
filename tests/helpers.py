"""Helpers shared by the tests: simulating an episode, the "whole and distinct" check of a scenario's
rendering, running the CLI, writing and re-encoding video, editing objects in and out of frames, building a
small report.

Fixtures stay in conftest.py files; what is here is plain functions (and the rigs they default to).
"""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from typing import Callable

import av
import cv2
import numpy as np
import pytest
from scipy.ndimage import binary_dilation

from realitygap.core.mj import mujoco
from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.episode.io import read_episode
from realitygap.episode.types import Context
from realitygap.scenarios import get_scenario
from realitygap.sim.runner import simulate_episode

STATE_ONLY_RIG = RigConfig(sensors=("imu",), camera=CameraConfig(width=32, height=32, fps=10))
"""For law checks: the state table is all that is read; a tiny camera keeps the episode cheap."""
VISUAL_RIG = RigConfig(sensors=("rgb", "segmentation"), camera=CameraConfig(width=96, height=96))
"""For visibility and colour checks."""
TRACKING_RIG = RigConfig(sensors=("rgb", "segmentation"), camera=CameraConfig(width=256, height=256))
"""For the tracker's tests: RGB and the ground-truth segmentation it is compared with."""
TRACKING_SCENARIOS = ("drop", "bounce", "pendulum", "collision", "occlusion")
"""Scenarios the tracker and the permanence check are validated on."""
DISTINCT_RGB_LEVELS = 60.0
"""Least RGB distance (8-bit levels) between an object's mean colour and the nearest scene pixel."""


# --------------------------------------------------------------------------------------------------
# Simulation


def edit_mjcf(mjcf: str, edit: Callable[["mujoco.MjSpec"], None]) -> str:
    """`mjcf` with `edit` applied to its parsed `mujoco.MjSpec` and written back by MuJoCo: how a negative-control
    test breaks one property of a scenario's bodies (a mass, a friction, a priority). Elements are found by name,
    so an edit of something that is not there fails loudly instead of silently changing nothing."""
    spec = mujoco.MjSpec.from_string(mjcf)
    edit(spec)
    return spec.to_xml()



def simulate_to(folder: Path, scenario_name: str, params: dict | None = None, seed: int = 0,
                rig: RigConfig | None = None, scenario=None) -> Path:
    """Simulate one episode into `folder/<episode_id>` and return that folder. `scenario` overrides the
    registered scenario object (a subclass with a known defect, for negative controls)."""
    scenario = scenario if scenario is not None else get_scenario(scenario_name)
    resolved = scenario.resolve_params(params or {})
    context = Context(scenario=scenario_name, params=resolved, seed=seed, rig=rig or RigConfig(),
                      prompt=scenario.prompt(resolved))
    out = folder / context.episode_id
    simulate_episode(context, scenario, out)
    return out


def simulated_state(folder: Path, scenario_name: str, params: dict, scenario=None, rig: RigConfig = STATE_ONLY_RIG):
    """The ground-truth state table of one simulated episode (`scenario` as in `simulate_to`)."""
    path = simulate_to(folder, scenario_name, params, rig=rig, scenario=scenario)
    return read_episode(path, streams=("state",)).tables["state"]


_TRACKING_EPISODES: dict = {}


def ground_truth_episode(tmp_path_factory, name: str, rig: RigConfig = TRACKING_RIG):
    """Default-parameter episode of `name`, simulated once per test process (the tracking and permanence
    tests share them)."""
    key = (name, rig.camera.fps)
    if key not in _TRACKING_EPISODES:
        folder = tmp_path_factory.mktemp(f"track_{name}_{rig.camera.fps}")
        _TRACKING_EPISODES[key] = read_episode(simulate_to(folder, name, rig=rig))
    return _TRACKING_EPISODES[key]


# --------------------------------------------------------------------------------------------------
# Checks


def assert_whole_in_every_frame(episode, min_visible_px: int | None = 0) -> None:
    """Every annotated object is whole (visible fraction 1) in every frame and, unless `min_visible_px`
    is None, covers more than that many pixels."""
    annotations = episode.tables["annotations"]
    assert np.all(annotations["visible_fraction"] == 1.0)
    if min_visible_px is not None:
        assert np.all(annotations["visible_px"] > min_visible_px)


def assert_whole_and_distinct(episode, what: str, *, instances=(1,), frames=None, min_visible_px: int = 0,
                              skip_ring: str | None = None) -> None:
    """`assert_whole_in_every_frame`, and in `frames` (default: the first, middle and last) the mean colour
    of each of `instances` is more than `DISTINCT_RGB_LEVELS` from every scene pixel.

    The scene is the background (segmentation 0), or with `skip_ring` ('8' or '4', the neighbourhood)
    every pixel outside the object grown by one pixel: RGB is anti-aliased, segmentation is not, so the
    pixels around a thin or concave outline blend the object's and the scene's colours.
    """
    assert_whole_in_every_frame(episode, min_visible_px)
    rgb, seg = episode.videos["rgb"].astype(float), episode.videos["segmentation"]
    for frame in (0, len(rgb) // 2, len(rgb) - 1) if frames is None else frames:
        for instance in instances:
            mask = seg[frame] == instance
            scene = seg[frame] == 0 if skip_ring is None else ~_grown(mask, skip_ring)
            gap = np.linalg.norm(rgb[frame][mask].mean(axis=0) - rgb[frame][scene], axis=1).min()
            assert gap > DISTINCT_RGB_LEVELS, f"frame {frame}, instance {instance}: {what} colour too close to the scene ({gap:.0f})"


def _grown(mask: np.ndarray, neighbourhood: str) -> np.ndarray:
    """`mask` grown by one pixel in the 8- or 4-neighbourhood."""
    structure = {"8": np.ones((3, 3), bool), "4": None}[neighbourhood]
    return binary_dilation(mask, structure=structure)


# --------------------------------------------------------------------------------------------------
# Command line


def run_cli(args, capsys) -> tuple[int, str, str]:
    """`realitygap ARGS` in this process: (exit code, stdout, stderr)."""
    from realitygap.cli import main

    with pytest.raises(SystemExit) as done:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    return done.value.code, captured.out, captured.err


# --------------------------------------------------------------------------------------------------
# Video


def write_mp4(path: Path, frames: np.ndarray, fps: float, size: tuple[int, int] | None = None, crf: int = 23,
              container_metadata: dict | None = None, rotation_deg: int = 0, preset: str = "veryfast") -> Path:
    """H.264 (yuv420p) MP4 at `fps`, resized to `size` (width, height, even; INTER_AREA), with container
    metadata (mdta keys: movflags use_metadata_tags) and a display rotation."""
    if size is not None:
        frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
    h, w = frames.shape[1:3]
    options = {"movflags": "use_metadata_tags"} if container_metadata else {}
    with av.open(str(path), "w", format="mp4", options=options) as container:
        for key, value in (container_metadata or {}).items():
            container.metadata[key] = value
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset}
        if rotation_deg:
            stream.set_display_rotation(rotation_deg)
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        container.mux(stream.encode(None))
    return path


def reencode_h264(frames: np.ndarray, fps: float = 30.0, crf: int = 23, preset: str = "medium") -> np.ndarray:
    """Frames (T, H, W, 3) uint8 through libx264 (yuv420p, constant rate factor `crf`) and back, in
    memory: what compression does to a video. Width and height must be even (yuv420p)."""
    buffer = io.BytesIO()
    rate = Fraction(fps).limit_denominator(1000)
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))
    buffer.seek(0)
    with av.open(buffer, "r") as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


# --------------------------------------------------------------------------------------------------
# Objects edited out of and into frames (negative controls for tracking and permanence)

_K3 = np.ones((3, 3), np.uint8)


def blank_object(rgb: np.ndarray, seg: np.ndarray, instance: int, frames) -> np.ndarray:
    """Copy of `rgb` with the instance (mask grown by 2 px) replaced, in `frames`, by the same pixels of
    the farthest frame in which the grown object does not overlap them: the object is gone."""
    out = rgb.copy()
    grown = np.stack([cv2.dilate((s == instance).astype(np.uint8), _K3, iterations=2).astype(bool) for s in seg])
    for f in frames:
        donors = np.argsort(-np.abs(np.arange(len(seg)) - f))
        donor = next(d for d in donors if not (grown[d] & grown[f]).any())
        out[f][grown[f]] = rgb[donor][grown[f]]
    return out


def paste_object(rgb: np.ndarray, seg: np.ndarray, instance: int, frames, shift_px: tuple[int, int]):
    """Copy of `rgb` with frame 0's object (mask grown by 1 px for its anti-aliased edge) pasted at
    +shift (du, dv) px into `frames`; returns (frames, pasted mask centroid (u, v))."""
    out = rgb.copy()
    mask = seg[0] == instance
    ys, xs = np.nonzero(cv2.dilate(mask.astype(np.uint8), _K3).astype(bool))
    du, dv = shift_px
    for f in frames:
        out[f][ys + dv, xs + du] = rgb[0][ys, xs]
    my, mx = np.nonzero(mask)
    return out, (mx.mean() + du, my.mean() + dv)


# --------------------------------------------------------------------------------------------------
# Report


def write_small_report(folder: Path, scenarios=("drop", "bounce"), source: str = "low_gravity") -> Path:
    """The main job's report on a dataset small enough for a test (about 8 s): one episode of each of
    `scenarios` on `VISUAL_RIG` (96 px RGB + segmentation, what the measurement needs), the same contexts
    predicted by `source` (a negative-control twin: cheap, and it fills the sources section), all measured
    from RGB and scored; returns the page, folder/report/index.html."""
    from realitygap.measure.pipeline import measure_dataset
    from realitygap.pipeline import plan_contexts, predict_dataset, simulate_dataset
    from realitygap.report.overview import write_overview
    from realitygap.scorecard.score import score_dataset

    dataset = Path(folder) / "data"
    simulate_dataset([c for name in scenarios for c in plan_contexts(name, 1, 0, None, VISUAL_RIG)], dataset)
    predict_dataset(source, dataset)
    measure_dataset(dataset)
    score_dataset(dataset)
    return write_overview(dataset, Path(folder) / "report")
