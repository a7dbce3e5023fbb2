"""The downstream tasks: what is learned from an episode, from which label, and how the error is counted.

- `parameters`: physical parameter regression from the clip. Input: realitygap's measured world track of
  the object (x, y, z, seen on a 15 Hz clock over 3 s; `examples.TRACK_GRID_S`); target: the context's
  requested parameters (every source has them); one MLP per scenario. Error: mean absolute error in
  units of each parameter's declared range (0.1 = a tenth of the range), averaged over the parameters.
- `localisation`: per-frame object localisation and a 0.2 s forecast. Input: frames t-1 and t (32 x 32
  RGB); target: the object's image centre at t, its box size at t (where visible) and its centre at
  t + 0.2 s, labelled by the source's annotations where it delivers them, otherwise by the derived track
  (`examples.py`). Error: centre error at t and at t + 0.2 s, averaged, in pixels of a 256-pixel image.
- `depth_position`: multi-sensor: the object's 3D position in the camera frame from RGB + depth of one
  frame (32 x 32, 4 channels); target: the source's state stream through its recorded camera pose; only
  for sources that deliver depth and state. Error: Euclidean distance in metres.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from realitygap.downstream.examples import EpisodeExamples
from realitygap.scenarios import get_scenario

FORECAST_S = 0.2
"""Horizon of the localisation task's forecast, seconds."""
REPORT_IMAGE_PX = 256
"""Localisation errors are stated in pixels of an image this wide (they are computed in image units)."""
PARAMETERS: dict[str, tuple[str, ...]] = {
    "drop": ("height_m",),
    "bounce": ("restitution", "height_m"),
    "slide": ("friction", "speed_m_s"),
    "pendulum": ("length_m", "release_angle_deg"),
}
"""Per scenario, the parameters that set the motion: the targets of parameter regression."""
BALL_SCENARIOS = ("drop", "bounce", "pendulum")


@dataclass(frozen=True)
class Task:
    """One downstream task; `examples` gives an episode's (inputs, targets), or None where it does not apply."""

    name: str
    description: str
    labels: str
    error_unit: str
    scenarios: tuple[str, ...]
    model: str  # 'mlp' or 'cnn'
    examples: Callable[[EpisodeExamples], tuple[np.ndarray, np.ndarray] | None]
    episode_error: Callable[[np.ndarray, np.ndarray], float]
    """Error of one episode's predictions against its targets (NaN where nothing is known)."""
    per_scenario: bool = False
    """One model per scenario (targets differ by scenario) instead of one for all."""


def parameter_examples(ep: EpisodeExamples) -> tuple[np.ndarray, np.ndarray] | None:
    names = PARAMETERS.get(ep.scenario)
    if names is None or not ep.track[:, 3].any():
        return None
    scenario = get_scenario(ep.scenario)
    ranges = {p.name: (p.low, p.high) for p in scenario.parameters}
    target = [(float(ep.params[n]) - ranges[n][0]) / (ranges[n][1] - ranges[n][0]) for n in names]
    return ep.track.reshape(1, -1).astype(np.float32), np.array([target], dtype=np.float32)


def parameter_error(predicted: np.ndarray, target: np.ndarray) -> float:
    """Predictions are clipped to the declared domain [0, 1] first: a user knows the parameter's range."""
    return float(np.mean(np.abs(np.clip(predicted, 0.0, 1.0) - target)))


def localisation_examples(ep: EpisodeExamples) -> tuple[np.ndarray, np.ndarray] | None:
    if ep.scenario not in BALL_SCENARIOS or not np.isfinite(ep.centre).any():
        return None
    n = len(ep.frames)
    ahead = int(round(FORECAST_S / max(float(np.median(np.diff(ep.t_s))), 1e-6))) if n > 1 else 0
    frames = ep.frames.astype(np.float32).transpose(0, 3, 1, 2) / 255.0
    index = np.arange(1, n)
    x = np.concatenate([frames[index - 1], frames[index]], axis=1)
    future = np.full((len(index), 2), np.nan, dtype=np.float32)
    inside = index + ahead < n
    future[inside] = ep.centre[index[inside] + ahead]
    y = np.concatenate([ep.centre[index], ep.box[index], future], axis=1).astype(np.float32)
    keep = np.isfinite(y[:, :2]).all(axis=1)
    return (x[keep], y[keep]) if keep.any() else None


def localisation_error(predicted: np.ndarray, target: np.ndarray) -> float:
    now = np.linalg.norm(predicted[:, :2] - target[:, :2], axis=1)
    later = np.linalg.norm(predicted[:, 4:6] - target[:, 4:6], axis=1)
    errors = [np.nanmean(e) for e in (now, later) if np.isfinite(e).any()]
    return float(np.mean(errors) * REPORT_IMAGE_PX) if errors else float("nan")


def depth_position_examples(ep: EpisodeExamples) -> tuple[np.ndarray, np.ndarray] | None:
    if ep.scenario not in BALL_SCENARIOS or ep.depth_m is None or ep.position_camera_m is None:
        return None
    frames = ep.frames.astype(np.float32).transpose(0, 3, 1, 2) / 255.0
    x = np.concatenate([frames, ep.depth_m[:, None].astype(np.float32)], axis=1)
    return x, ep.position_camera_m.astype(np.float32)


def depth_position_error(predicted: np.ndarray, target: np.ndarray) -> float:
    return float(np.mean(np.linalg.norm(predicted - target, axis=1)))


TASKS: dict[str, Task] = {
    "parameters": Task("parameters", "physical parameter regression from the measured track of a clip",
                       "the context's requested parameters", "fraction of each parameter's range",
                       tuple(PARAMETERS), "mlp", parameter_examples, parameter_error, per_scenario=True),
    "localisation": Task("localisation", "object centre and box at frame t and its centre 0.2 s later, from frames t-1, t",
                         "the source's annotations, else realitygap's derived track", f"px (of a {REPORT_IMAGE_PX} px image)",
                         BALL_SCENARIOS, "cnn", localisation_examples, localisation_error),
    "depth_position": Task("depth_position", "3D position in the camera frame from RGB + depth",
                           "the source's state stream through its recorded camera pose", "m",
                           BALL_SCENARIOS, "cnn", depth_position_examples, depth_position_error),
}
