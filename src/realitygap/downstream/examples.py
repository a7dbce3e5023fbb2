"""What a downstream model sees and learns from one episode: small frames, depth, labels, the measured track.

Everything is read from the episode folder and realitygap's measurement of it, with the provenance of
each label recorded:

- frames: the RGB video, area-downsampled to `FRAME_PX` x `FRAME_PX`, uint8;
- depth_m: the depth stream at the same size (nearest sample, metres; 0 where no surface), where delivered;
- centre / box (localisation labels, in units of the image width and height): from the source's own
  `annotations` (the projected 3D centre, present even where the object is hidden, and the 2D box where
  it is visible) where the source delivers them, otherwise from realitygap's derived track
  (measurements/<source>/<id>.tracks.parquet, world metres) projected through the episode's calibration,
  with the box of a sphere of the context's radius;
- position_camera_m: the tracked object's centre in the camera frame (x right, y down, z forward, metres)
  from the source's `state` stream and its recorded camera pose, where delivered;
- track: realitygap's measured world track of the object (x, y, z metres and a seen flag) on a fixed clock
  `TRACK_GRID_S`, for parameter regression;
- params: the context's requested parameters (every source has them).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from realitygap.core.camera import project_points
from realitygap.episode.io import read_meta, read_table
from realitygap.episode.meta import EpisodeMeta
from realitygap.episode.video import read_video
from realitygap.scenarios import get_scenario
from realitygap.scenarios.base import body_column

FRAME_PX = 32
"""Side of the frames the image models see, pixels."""
TRACK_RATE_HZ = 15.0
TRACK_DURATION_S = 3.0
TRACK_GRID_S = np.arange(0.0, TRACK_DURATION_S, 1.0 / TRACK_RATE_HZ)
"""Clock of the measured track fed to parameter regression, seconds from the episode start."""
FROM_ANNOTATIONS = "annotations (the source's own: projected 3D centre, 2D box where visible)"
FROM_DERIVED = "derived track (realitygap's measurement from the pixels, projected through the calibration)"


@dataclass
class EpisodeExamples:
    """One episode's inputs and labels (see the module docstring); arrays are per video frame unless noted."""

    source: str
    episode_id: str
    scenario: str
    params: dict
    t_s: np.ndarray
    frames: np.ndarray  # (T, FRAME_PX, FRAME_PX, 3) uint8
    centre: np.ndarray  # (T, 2) [u / width, v / height], NaN where unknown
    box: np.ndarray  # (T, 2) [box width / width, box height / height], NaN where not visible or unknown
    label_provenance: str
    track: np.ndarray  # (len(TRACK_GRID_S), 4): x, y, z metres (world), seen flag; NaN where never seen
    depth_m: np.ndarray | None = None  # (T, FRAME_PX, FRAME_PX) float32
    position_camera_m: np.ndarray | None = None  # (T, 3)

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {k: v for k, v in vars(self).items() if isinstance(v, np.ndarray)}
        arrays["info"] = np.array([self.source, self.episode_id, self.scenario, self.label_provenance])
        arrays["params"] = np.array([json.dumps(self.params, sort_keys=True)])
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "EpisodeExamples":
        source, episode_id, scenario, provenance = (str(v) for v in arrays["info"])
        params = json.loads(str(arrays["params"][0]))
        optional = {k: arrays[k] for k in ("depth_m", "position_camera_m") if k in arrays}  # other keys: bookkeeping
        return cls(source, episode_id, scenario, params, arrays["t_s"], arrays["frames"], arrays["centre"],
                   arrays["box"], provenance, arrays["track"], **optional)


def extract_examples(episode: Path, tracks: Path | None) -> EpisodeExamples:
    """Read one episode (and its measured tracks, needed where the source has no annotations)."""
    meta = read_meta(episode)
    scenario = get_scenario(meta.context.scenario)
    body = scenario.sensor_body
    instance = meta.instance(body)
    rgb, _ = read_video(episode / meta.streams["rgb"].file, "rgb")
    t_s = np.arange(len(rgb)) / float(meta.rates_hz.get("rgb", meta.context.rig.camera.fps))
    frames = np.stack([cv2.resize(f, (FRAME_PX, FRAME_PX), interpolation=cv2.INTER_AREA) for f in rgb])
    derived = read_table(tracks) if tracks is not None and tracks.is_file() else None
    track = measured_track(derived, instance.name if instance else body)
    if "annotations" in meta.streams and instance is not None:
        centre, box = annotation_labels(read_table(episode / meta.streams["annotations"].file), instance.id, len(rgb), meta)
        provenance = FROM_ANNOTATIONS
    else:
        centre, box = derived_labels(derived, instance.name if instance else body, t_s, meta)
        provenance = FROM_DERIVED
    depth = position = None
    if "depth" in meta.streams:
        depth_mm, _ = read_video(episode / meta.streams["depth"].file, "gray16")
        depth = np.stack([cv2.resize(d, (FRAME_PX, FRAME_PX), interpolation=cv2.INTER_NEAREST) for d in depth_mm])
        depth = depth.astype(np.float32) / 1000.0
    if "state" in meta.streams and "depth" in meta.streams:
        position = camera_frame_positions(read_table(episode / meta.streams["state"].file), body, t_s, meta)
    return EpisodeExamples(meta.source, meta.episode_id, meta.context.scenario, dict(meta.context.params), t_s,
                           frames, centre, box, provenance, track, depth, position)


def annotation_labels(table: dict[str, np.ndarray], instance_id: int, n_frames: int, meta: EpisodeMeta
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(centre, box) per frame in image units from the annotations of one instance."""
    width, height = meta.calibration.camera.width_px, meta.calibration.camera.height_px
    centre = np.full((n_frames, 2), np.nan)
    box = np.full((n_frames, 2), np.nan)
    rows = np.flatnonzero(np.asarray(table["instance_id"]) == instance_id)
    frame = np.asarray(table["frame"])[rows]
    keep = (frame >= 0) & (frame < n_frames)
    rows, frame = rows[keep], frame[keep]
    centre[frame, 0] = np.asarray(table["centre_u_px"], float)[rows] / width
    centre[frame, 1] = np.asarray(table["centre_v_px"], float)[rows] / height
    visible = np.asarray(table["visible_px"])[rows] > 0
    x0, x1 = (np.asarray(table[k], float)[rows] for k in ("bbox_x_min_px", "bbox_x_max_px"))
    y0, y1 = (np.asarray(table[k], float)[rows] for k in ("bbox_y_min_px", "bbox_y_max_px"))
    box[frame[visible], 0] = (x1 - x0 + 1)[visible] / width
    box[frame[visible], 1] = (y1 - y0 + 1)[visible] / height
    return centre, box


def derived_labels(tracks: dict[str, np.ndarray] | None, name: str, t_s: np.ndarray, meta: EpisodeMeta
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(centre, box) per frame in image units from realitygap's measured world track, projected through the
    recorded calibration; the box is that of a sphere of the context's `radius_m` (NaN without one)."""
    camera = meta.calibration.camera
    centre = np.full((len(t_s), 2), np.nan)
    box = np.full((len(t_s), 2), np.nan)
    if tracks is None:
        return centre, box
    rows = np.asarray(tracks["instance"]) == name
    present = np.asarray(tracks["present"], bool)[rows]
    xyz = np.stack([np.asarray(tracks[k], float)[rows] for k in ("x_m", "y_m", "z_m")], axis=1)
    n = min(len(t_s), len(xyz))
    seen = present[:n] & np.isfinite(xyz[:n]).all(axis=1)
    if not seen.any():
        return centre, box
    T_world_camera = np.asarray(camera.T_world_camera, float)
    uv, depth = project_points(xyz[:n][seen], camera.K, T_world_camera)
    index = np.flatnonzero(seen)
    centre[index] = uv / [camera.width_px, camera.height_px]
    radius_m = float(meta.context.params.get("radius_m", math.nan))
    side_px = 2 * camera.fx_px * radius_m / np.maximum(depth, 1e-6)
    box[index] = np.stack([side_px / camera.width_px, side_px / camera.height_px], axis=1)
    return centre, box


def camera_frame_positions(state: dict[str, np.ndarray], body: str, t_s: np.ndarray, meta: EpisodeMeta) -> np.ndarray:
    """The body's centre in the camera frame (metres) at each video frame time, from the state stream
    (interpolated) and the recorded camera pose."""
    times = body_column(state, body, "t_s")
    world = np.stack([np.interp(t_s, times, body_column(state, body, f"position_{a}_m")) for a in "xyz"], axis=1)
    T_camera_world = np.linalg.inv(np.asarray(meta.calibration.camera.T_world_camera, float))
    return world @ T_camera_world[:3, :3].T + T_camera_world[:3, 3]


def measured_track(tracks: dict[str, np.ndarray] | None, name: str) -> np.ndarray:
    """The measured world track resampled on TRACK_GRID_S: x, y, z (linear interpolation between seen
    samples, held after the last one) and the seen flag (1 where a seen sample lies within one grid step)."""
    out = np.zeros((len(TRACK_GRID_S), 4))
    if tracks is None:
        return out
    rows = np.asarray(tracks["instance"]) == name
    t = np.asarray(tracks["t_s"], float)[rows]
    xyz = np.stack([np.asarray(tracks[k], float)[rows] for k in ("x_m", "y_m", "z_m")], axis=1)
    seen = np.asarray(tracks["present"], bool)[rows] & np.isfinite(xyz).all(axis=1)
    if seen.sum() < 2:
        return out
    for axis in range(3):
        out[:, axis] = np.interp(TRACK_GRID_S, t[seen], xyz[seen, axis])
    step = 1.0 / TRACK_RATE_HZ
    nearest = np.abs(TRACK_GRID_S[:, None] - t[seen][None, :]).min(axis=1)
    out[:, 3] = (nearest <= step) & (TRACK_GRID_S <= t[seen].max() + step)
    return out
