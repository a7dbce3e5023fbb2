"""Ground-truth trajectories seen through an episode's camera, without the pixel tracker: the tracks that
law-fit tests feed to a scenario's fit."""

from __future__ import annotations

import numpy as np

from realitygap.core.camera import project_points
from realitygap.core.fitting import MeasuredTrack
from realitygap.measure.backproject import backproject_track
from realitygap.scenarios.base import body_column

NOISE_PX = 0.3
"""Centroid noise of the tracker on a clean render (px, one sigma per axis)."""


def sampled_centres(episode, body: str, t_s: np.ndarray | None = None, fps: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """Frame times (default: every 1/fps s of the state table) and the body's ground-truth centres there."""
    state = episode.tables["state"]
    t = body_column(state, body, "t_s")
    if t_s is None:
        index = np.flatnonzero(np.abs(t * fps - np.round(t * fps)) < 1e-6)
    else:
        index = np.searchsorted(t, np.asarray(t_s) - 1e-9)
    return t[index], np.stack([body_column(state, body, f"position_{a}_m")[index] for a in "xyz"], axis=1)


def noisy_tracks(spec, params, episode, seed: int = 0, noise_px: float = NOISE_PX,
                 present: dict | None = None, t_s: np.ndarray | None = None,
                 visible_fraction: dict | None = None) -> dict[str, MeasuredTrack]:
    """Project every instance's true centre at the frame times, add N(0, noise_px^2) per pixel axis (seeded),
    back-project onto the scenario's motion plane; `present` / `visible_fraction`: per instance (T,) arrays."""
    rng = np.random.default_rng(seed)
    tracks = {}
    for instance in spec.instances:
        t, centres = sampled_centres(episode, instance.body, t_s)
        uv, _ = project_points(centres, episode.K, episode.T_world_camera)
        uv = uv + rng.normal(0.0, noise_px, uv.shape)
        seen = np.ones(len(t), bool) if present is None else present[instance.name]
        tracks[instance.name] = backproject_track(instance.name, t, seen, uv, noise_px, episode.K,
                                                  episode.T_world_camera, spec.motion_plane(params),
                                                  visible_fraction=None if visible_fraction is None else visible_fraction[instance.name])
    return tracks
