"""Measurement throughput: frames/s of measuring a 2 s, 30 fps, 256x256 episode on one core.

Stages timed in one run on the same episode (drop, default parameters, 2 s): tracking from RGB,
back-projection + law fit, permanence (spontaneous-object search + report), Physics-IQ against the
ground-truth video, and all of them together (`measure_video`, what `realitygap measure` runs per
episode, geometric consistency excluded: it is reported separately). Prints a table and saves
benchmarks/results/measure.json. Target (issue 5): >= 300 frames/s for the total.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2

from realitygap.episode.io import read_episode
from realitygap.episode.types import Context
from realitygap.measure.backproject import backproject_track
from realitygap.measure.geometry import geometric_consistency
from realitygap.measure.laws import fit_law
from realitygap.measure.permanence import expected_visible_from_annotations, permanence_report
from realitygap.measure.pipeline import measure_video
from realitygap.measure.tracking import find_spontaneous_objects, seeds_from_episode, track_objects
from realitygap.metrics.physics_iq import compare_videos, physics_iq_score
from realitygap.scenarios import get_scenario
from realitygap.sim.rig import CameraConfig, RigConfig
from realitygap.sim.runner import simulate_episode

REPEATS = 5


def best_of(function, repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    cv2.setNumThreads(1)
    folder = Path(tempfile.mkdtemp(prefix="rg-measure-bench-"))
    try:
        spec = get_scenario("drop")
        params = spec.resolve_params({})
        two_seconds = type(spec)(event_margin_s=spec.event_margin_s + 2.0 - spec.duration_s(params))
        rig = RigConfig(sensors=("rgb", "segmentation"), camera=CameraConfig(width=256, height=256, fps=30))
        simulate_episode(Context(scenario="drop", params=params, seed=0, rig=rig), two_seconds, folder / "ep")
        episode = read_episode(folder / "ep")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rgb, t_s, n = episode.videos["rgb"], episode.video_t_s["rgb"], len(episode.videos["rgb"])
    seeds = seeds_from_episode(episode)
    tracks = track_objects(rgb, t_s, seeds)
    plane = spec.tracking_plane(params, "ball")

    def fit():
        tracks_m = {t.name: backproject_track(t.name, t.t_s, t.present, t.centroid_px, t.sigma_px, episode.K,
                                              episode.T_world_camera, plane, sphere_radius_m=params["radius_m"])
                    for t in tracks}
        fit_law("drop", params, tracks_m)

    def permanence():
        permanence_report(tracks, expected_visible_from_annotations(episode), find_spontaneous_objects(rgb, tracks))

    def physics_iq():
        physics_iq_score(compare_videos(rgb, episode.videos["rgb"]))

    stages = {
        "tracking": best_of(lambda: track_objects(rgb, t_s, seeds)),
        "backprojection_and_law_fit": best_of(fit),
        "permanence": best_of(permanence),
        "physics_iq": best_of(physics_iq),
        "total_measure_video": best_of(lambda: measure_video(rgb, t_s, episode.K, episode.T_world_camera, episode)),
        "geometric_consistency (separate)": best_of(lambda: geometric_consistency(rgb, episode.videos["segmentation"] == 0), 3),
    }
    result = {
        "benchmark": "measure", "frames": n, "size_px": 256, "fps": 30,
        "stages_s": stages, "frames_per_s": {k: n / v for k, v in stages.items()},
        "target_frames_per_s": 300.0,
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()},
    }
    for name, seconds in stages.items():
        print(f"{name:>34}: {1000 * seconds:7.1f} ms  {n / seconds:8.0f} frames/s")
    out = Path(__file__).parent / "results" / "measure.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
