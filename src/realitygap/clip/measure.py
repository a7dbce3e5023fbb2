"""`measure_clip(video, options)`: read, find, scale, fit -- one clip, no twin behind it.

VIDEO is a video file, or a realitygap episode (its folder, or its rgb video inside it): then the
episode's camera calibration and motion plane give the scale (unless --scale or --object-diameter is
given) and the context's declared colour gives the object (unless --object is given), so "measured
from a clip" can be compared with "measured with the twin's context" on the same video.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from realitygap.clip.consistency import (
    camera_path,
    clip_consistency,
    consistency_line,
    frozen_mask,
    path_displacement_px,
    stabilised,
)
from realitygap.clip.find import clip_long, left_frame, track_clip_object
from realitygap.clip.fit import SCALE_HINT, clip_law, fit_clip
from realitygap.clip.plausibility import Implausible, check_clip
from realitygap.clip.probe import Timebase, read_clip
from realitygap.clip.scale import (
    FOCAL_RANGE_DIAGONALS,
    Scale,
    calibration_from_camera,
    calibration_from_file,
    plane_track,
    scale_for_clip,
)
from realitygap.clip.shutter import Readout, corrected_track, estimate_readout, row_fraction
from realitygap.clip.silhouette import clip_background, partial_frames
from realitygap.core.planefit import ClipFit, PlaneTrack
from realitygap.episode.meta import EpisodeMeta
from realitygap.measure.pipeline import tracked_object_masks
from realitygap.measure.tracking import ObjectTrack
from realitygap.runtime.errors import InputError

EPISODE_JSON = "episode.json"
CAMERA_STILL_PX = 1.0
"""A camera that moves the image by more than this (px) is undone from the track (`consistency.stabilised`)."""
DEFAULT_MAX_SIDE_PX = 960
"""Frames larger than this (long side, px) are downscaled while decoding, for speed (measured: docs/twins.md,
benchmarks/measure.py)."""


class ClipOptions(BaseModel):
    """What `realitygap measure-clip` was asked (sizes in the file's pixels, lengths in metres)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    law: str
    fps: Optional[float] = None
    scale_px_per_m: Optional[float] = None
    object_diameter_m: Optional[float] = None
    calibration: Optional[Path] = None
    object: str = "auto"
    roi: Optional[tuple[int, int, int, int]] = None
    """x, y, width, height in the file's (displayed) pixels."""
    frames: Optional[tuple[int, int]] = None
    """Frames a..b-1."""
    length_m: Optional[float] = None
    readout_ms: Optional[float] = None
    """The camera's rolling-shutter readout (top row to bottom row) when the user knows it; else estimated for a
    free flight (clip/shutter.py)."""
    max_side_px: int = Field(default=DEFAULT_MAX_SIDE_PX, ge=0)
    """Downscale frames to this long side while decoding, 0: never (speed, at little cost in accuracy;
    see docs/twins.md)."""
    seed: int = 0


@dataclass
class ClipMeasurement:
    """Everything a report needs."""

    video: Path
    options: ClipOptions
    timebase: Timebase
    object_method: str
    scale: Scale
    track: ObjectTrack
    plane: PlaneTrack
    fit: ClipFit
    episode: dict | None
    frames: np.ndarray
    implausible: list[Implausible] = dataclasses.field(default_factory=list)
    """Failed physics checks (clip/plausibility.py): when any, no number is reported as a result."""
    consistency: dict = dataclasses.field(default_factory=dict)
    """Frozen frames, camera motion, vanishing and spontaneous objects of the clip (clip/consistency.py)."""
    readout: Readout | None = None
    """The rolling shutter's readout, estimated or given (clip/shutter.py); None: not looked for."""

    @property
    def status(self) -> str:
        return "implausible" if self.implausible else "measured"

    def summary(self) -> str:
        """One line, e.g. 'g = 9.79 ± 0.05 m/s^2 (drop, 120 fps from capture-rate metadata ..., scale from object diameter)',
        or 'implausible: <reason>; likely <cause>; <fix> (drop, ...)'."""
        if self.implausible:
            reasons = " | ".join(i.line() for i in self.implausible)
            return (f"implausible: {reasons} ({self.fit.law}, {self.timebase.summary()}, {self.scale.origin})"
                    + self._consistency_suffix())
        main = clip_law(self.fit.law).clip_main_quantity
        q = self.fit.quantities.get(main)
        head = ", ".join(f"{_symbol(k)} = {_pm(v.value, v.uncertainty)}{(' ' + v.unit) if v.unit else ''}"
                         for k, v in self.fit.quantities.items() if k == main or (k == "g_m_s2" and q is not None))
        if q is None and not head:
            head = "; ".join(f"{k}: {v.value:.4g} {v.unit}" for k, v in self.fit.quantities.items()) or "nothing measured"
        refused = f", refused without a scale: {', '.join(self.fit.refused)}" if self.fit.refused else ""
        return f"{head} ({self.fit.law}, {self.timebase.summary()}, {self.scale.origin}{refused})" + self._consistency_suffix()

    def _consistency_suffix(self) -> str:
        return f"; {consistency_line(self.consistency)}" if self.consistency else ""

    def to_json(self) -> dict:
        tb = self.timebase
        track = self.track
        present = track.present
        return {
            "video": str(self.video), "law": self.fit.law, "status": self.status, "summary": self.summary(),
            "implausible": [i.to_json() for i in self.implausible],
            "consistency": self.consistency,
            "options": json.loads(self.options.model_dump_json()),
            "episode": self.episode,
            "time_base": {"fps_used": tb.fps_used, "rate_from": tb.rate_from, "container_fps": tb.container_fps,
                          "timestamp_fps": tb.timestamp_fps, "capture_fps": tb.capture_fps, "capture_key": tb.capture_key,
                          "rotation_deg": tb.rotation_deg, "n_frames": tb.n_frames, "width_px": tb.width_px,
                          "height_px": tb.height_px, "processed_scale": tb.processed_scale, "codec": tb.codec,
                          "container": tb.container},
            "object": {"method": self.object_method, "present_frames": int(present.sum())},
            "scale": {"origin": self.scale.origin, "px_per_m": self.scale.px_per_m,
                      "px_per_m_file": None if self.scale.px_per_m is None else self.scale.px_per_m / tb.processed_scale,
                      "relative_uncertainty": self.scale.rel_uncertainty, "metric": self.scale.metric,
                      "positions_unit": self.plane.unit},
            "window": self.fit.window,
            "rolling_shutter": None if self.readout is None else self.readout.to_json(),
            "quantities": {k: {"value": _finite(q.value), "uncertainty": _finite(q.uncertainty), "unit": q.unit,
                               "statistical": _finite(self.fit.statistical.get(k, q.uncertainty)),
                               "systematic": {part: _finite(v) for part, v in self.fit.systematic.get(k, {}).items()},
                               "metric": q.metric, "note": q.note} for k, q in self.fit.quantities.items()},
            "refused": self.fit.refused,
            "warnings": list(tb.warnings), "notes": list(self.fit.notes),
            "uncertainty_method": "uncertainty = statistical (residual bootstrap of the law fit, fixed seed) and systematic "
                                  "parts in quadrature: window (rms change without the first or last 15 % of the fitted "
                                  "frames), scale (metric quantities) and time_base (rounded capture-rate metadata); lens "
                                  "distortion, a tilted motion plane and a wrong --fps are not included",
            "track": {"frame": np.flatnonzero(present).tolist(),
                      "t_s": [round(float(v), 6) for v in track.t_s[present]],
                      "u_px": [round(float(v), 3) for v in track.centroid_px[present, 0] / tb.processed_scale],
                      "v_px": [round(float(v), 3) for v in track.centroid_px[present, 1] / tb.processed_scale],
                      "pixel_frame": "file pixels after rotation; (col, row) centred at integers"},
        }


def measure_clip(video: Path, options: ClipOptions) -> ClipMeasurement:
    """Measure `options.law` in `video` (see the module docstring); InputError for every user-facing problem."""
    law = clip_law(options.law)
    check_ranges(options)
    video, episode_meta = resolve_video(Path(video))
    frames, t_s, timebase = read_clip(video, options.fps, options.max_side_px)
    if len(frames) < law.clip_min_frames + 1:
        raise InputError(f"too few frames for the {options.law} law: the clip has {len(frames)} (need at least "
                         f"{law.clip_min_frames + 1})")
    offset, full_frames = np.zeros(2), frames
    if options.roi is not None:
        frames, offset = _crop(frames, options.roi, timebase.processed_scale)
    object_spec = options.object
    if object_spec == "auto" and episode_meta is not None and "colour" in episode_meta.context.params:
        object_spec = str(episode_meta.context.params["colour"])
    first, stop = (0, len(frames)) if options.frames is None else (min(options.frames[0], len(frames)),
                                                                    min(options.frames[1], len(frames)))
    if stop - first < 3:
        raise InputError(f"--frames {options.frames[0]}:{options.frames[1]} holds {max(stop - first, 0)} of the clip's "
                         f"{len(frames)} frames (need at least 3)")
    track, method, seed_frame, seed_area_px, moving = track_clip_object(frames[first:stop], t_s[first:stop], object_spec,
                                                                law.clip_motion, background=clip_background(frames))
    track, seed_frame = clip_long(track, t_s, first), seed_frame + first  # --frames limits the tracking too
    left = left_frame(track, frames.shape[1:3])
    if offset.any():
        track.centroid_px[:] += offset
        seen = track.bbox_px[:, 0] >= 0
        track.bbox_px[seen] = track.bbox_px[seen] + np.r_[offset, offset].astype(track.bbox_px.dtype)
    size = (int(round(timebase.width_px * timebase.processed_scale)), int(round(timebase.height_px * timebase.processed_scale)))
    calibration = _calibration(options, episode_meta, size)
    path = camera_path(full_frames, tracked_object_masks([track], full_frames.shape))
    moved_px = path_displacement_px(path, full_frames.shape[1:3])
    camera_moves = calibration is None and math.isfinite(moved_px) and moved_px > CAMERA_STILL_PX
    steady = stabilised(track, path) if camera_moves else track  # positions in frame 0's view; sizes stay in pixels
    repeated = frozen_mask(full_frames, track.centroid_px, track.present)
    partial = partial_frames(track, seed_frame, seed_area_px)
    usable = ~repeated & ~partial
    size_hw = (size[1], size[0])
    scale = scale_for_clip(track, timebase.processed_scale, size_hw, px_per_m=options.scale_px_per_m,
                           object_diameter_m=options.object_diameter_m, calibration=calibration, frames=full_frames,
                           usable=usable)
    plane = plane_track(steady, scale, usable, size_hw)
    unit_per_px = 1.0 if plane.unit == "px" else _unit_per_px(steady, plane)
    try:
        fit_args = {"unit_per_px": unit_per_px, "rel_scale_sigma": scale.rel_uncertainty,
                    "rel_time_sigma": time_base_uncertainty(timebase.rate_from), "frames": options.frames,
                    "length_m": options.length_m, "seed": options.seed}
        fit = fit_clip(options.law, plane, **fit_args)
        rows = row_fraction(track.centroid_px[:, 1], size_hw[0])  # exposure rows: the camera's, not stabilised
        fit, readout = _rolling_shutter(fit, plane, rows[plane.frame], timebase.fps_used, options, law, fit_args)
        if readout is not None and readout.applied:
            plane = corrected_track(plane, rows[plane.frame], readout.readout_s)
        if scale.depth is not None:
            _add_focal_systematic(fit, steady, scale, usable, size_hw, options, unit_per_px, readout, rows)
    except InputError as error:
        if left is not None:
            raise InputError(f"the object leaves the frame at frame {left} (t = {t_s[left]:.3f} s), before the {options.law} "
                             f"law can be measured ({error})") from None
        raise
    if left is not None:
        fit.notes.append(f"the object leaves the frame after frame {left} (t = {t_s[left]:.3f} s)")
    if camera_moves:
        fit.notes.append(f"the camera moves ({moved_px:.3g} px): positions are taken back to frame 0's view by the "
                         "background's motion (a similarity per frame; a pan's perspective is not undone)")
    for name, which in (("repeat their predecessor while the object moves (no new sample at their time)", repeated),
                        ("show the object partly hidden, cut by the border or merged with another object (centroid "
                         "off its centre)", partial)):
        if which.any():
            fit.notes.append(f"{int(which.sum())} frame(s) not measured: they {name}: {_frame_list(which)}")
    if law.clip_main_quantity in fit.refused:
        raise InputError(f"the {options.law} law measures {law.clip_main_quantity}, a metric quantity, and no scale was given: "
                         f"{SCALE_HINT}")
    episode = None
    if episode_meta is not None:
        episode = {"episode_id": episode_meta.episode_id, "scenario": episode_meta.context.scenario,
                   "params": dict(episode_meta.context.params), "source": episode_meta.source}
    implausible = check_clip(fit, law.bounds_of, timebase.fps_used, timebase.rate_from)
    consistency = clip_consistency(full_frames, track, path, repeated)
    consistency["moving_objects"] = moving
    return ClipMeasurement(video, options, timebase, method, scale, track, plane, fit, episode, frames, implausible, consistency,
                           readout)


measure_clip_video = measure_clip
"""Alias for the CLI, whose command function is also called measure_clip."""


PHYSICAL_RANGES = {"scale_px_per_m": ("--scale", 1e-3, 1e9, "pixels per metre"),
                   "object_diameter_m": ("--object-diameter", 1e-6, 1e3, "metres"),
                   "length_m": ("--length-m", 1e-5, 1e4, "metres")}
"""Values a camera clip can have (a microscope's bead to a building; a scale from a satellite's to a
microscope's): outside them the positions or the fitted quantities leave the floating-point range."""


MAX_READOUT_MS = 1000.0
"""Longest rolling-shutter readout accepted (a readout is at most one frame period: a 1 fps camera's)."""


def check_ranges(options: ClipOptions) -> None:
    """InputError for a scale, diameter or length that is not a positive finite number within `PHYSICAL_RANGES`, or a
    readout outside [0, `MAX_READOUT_MS`]."""
    for field, (option, low, high, unit) in PHYSICAL_RANGES.items():
        value = getattr(options, field)
        if value is None:
            continue
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"{option} must be a positive number, got {value}")
        if not low <= value <= high:
            raise InputError(f"{option} {value:g} is outside what a camera clip can show ({low:g} to {high:g} {unit})")
    readout = options.readout_ms
    if readout is not None and not (math.isfinite(readout) and 0 <= readout <= MAX_READOUT_MS):
        raise InputError(f"--readout-ms must be between 0 (a global shutter) and {MAX_READOUT_MS:g} ms, got {readout:g}")


TIME_BASE_UNCERTAINTY = {"capture-rate metadata": 1e-3, "frame index / container rate": 1e-3}
"""Relative uncertainty of the frame rate by where it came from: rates in metadata are rounded (119.88 written as
120: 0.1 %); per-frame timestamps and a user's --fps are taken as exact."""


def time_base_uncertainty(rate_from: str) -> float:
    """Relative standard uncertainty of the frame rate taken from `rate_from` (`TIME_BASE_UNCERTAINTY`)."""
    return next((v for k, v in TIME_BASE_UNCERTAINTY.items() if rate_from.startswith(k)), 0.0)


def resolve_video(path: Path) -> tuple[Path, EpisodeMeta | None]:
    """(video file, episode metadata or None): an episode folder or a video inside one gives its meta."""
    from realitygap.episode.io import read_meta

    if path.is_dir():
        if not (path / EPISODE_JSON).is_file():
            raise InputError(f"{path} is a folder but not a realitygap episode (no {EPISODE_JSON}); give a video file")
        meta = read_meta(path)
        if "rgb" not in meta.streams:
            raise InputError(f"episode {path} has no rgb stream")
        return path / meta.streams["rgb"].file, meta
    if path.is_file() and (path.parent / EPISODE_JSON).is_file():
        meta = read_meta(path.parent)
        if "rgb" in meta.streams and meta.streams["rgb"].file == path.name:
            return path, meta
    return path, None


def _calibration(options: ClipOptions, meta: EpisodeMeta | None, size: tuple[int, int]):
    radius = None if options.object_diameter_m is None else options.object_diameter_m / 2
    if options.calibration is not None:
        return calibration_from_file(options.calibration, size, radius)
    if meta is None or options.scale_px_per_m is not None or options.object_diameter_m is not None:
        return None
    from realitygap.scenarios import get_scenario

    spec = get_scenario(meta.context.scenario)
    params = spec.resolve_params(meta.context.params)
    instance = meta.instances[0]
    point, normal = spec.tracking_plane(params, instance.name)
    sphere = float(params["radius_m"]) if instance.class_name == "ball" and "radius_m" in params else None
    calibration = calibration_from_camera(meta.calibration.camera.model_dump(), size, point, normal, sphere,
                                          f"the episode's calibration ({meta.context.scenario} motion plane)")

    def positions(centroid_px, sigma_px):  # the scenario's silhouette model where it has one (a box, a door)
        return spec.position_from_pixels(params, instance.name, centroid_px, sigma_px, calibration.K,
                                         calibration.T_world_camera)

    return dataclasses.replace(calibration, positions=positions)


def _rolling_shutter(fit: ClipFit, plane: PlaneTrack, rows: np.ndarray, fps: float, options: ClipOptions, law,
                     fit_args: dict) -> tuple[ClipFit, Readout | None]:
    """(fit, readout) after the rolling shutter (`rows`: `row_fraction` of each plane sample): the user's
    `--readout-ms` applied, or for a law with one free-flight parabola (`ScenarioSpec.clip_rolling_shutter`) the
    readout estimated on the fitted frames and, where significant, applied. The fit is then repeated on the
    corrected times, and the readout's uncertainty adds a 'rolling_shutter' systematic (the change of each
    quantity at readout + 1 sigma)."""
    if options.readout_ms is not None:
        readout = Readout(options.readout_ms / 1e3, 0.0, "--readout-ms", True)
    elif law.clip_rolling_shutter:
        used = np.isin(plane.frame, fit.used_frames)
        readout = estimate_readout(plane.t_s[used], plane.xy[used], plane.sigma[used], rows[used], 1.0 / fps)
    else:
        return fit, None
    if readout is None or not readout.applied:
        return fit, readout
    corrected = fit_clip(options.law, corrected_track(plane, rows, readout.readout_s), **fit_args)
    if readout.sigma_s > 0:
        shifted = fit_clip(options.law, corrected_track(plane, rows, readout.readout_s + readout.sigma_s),
                           **{**fit_args, "n_boot": 8}).quantities
        for name, q in corrected.quantities.items():
            if name in shifted:
                part = abs(shifted[name].value - q.value)
                corrected.systematic.setdefault(name, {})["rolling_shutter"] = part
                q.uncertainty = math.hypot(q.uncertainty, part)
    corrected.notes.append(readout.note())
    return corrected, readout


def _add_focal_systematic(fit, track, scale, usable, size_hw, options: ClipOptions, unit_per_px: float,
                          readout: Readout | None, rows: np.ndarray) -> None:
    """A per-frame scale puts depth on the assumed focal length: half the change of each quantity between
    the focal lengths of `FOCAL_RANGE_DIAGONALS` is its 'focal' systematic (added in quadrature)."""
    values = []
    for focal in FOCAL_RANGE_DIAGONALS:
        plane = plane_track(track, scale, usable, size_hw, focal)
        if readout is not None and readout.applied:
            plane = corrected_track(plane, rows[plane.frame], readout.readout_s)
        try:
            values.append(fit_clip(options.law, plane, unit_per_px=unit_per_px, frames=options.frames,
                                   length_m=options.length_m, seed=options.seed, n_boot=8).quantities)
        except InputError:
            return
    for name, q in fit.quantities.items():
        if name in values[0] and name in values[1]:
            part = abs(values[1][name].value - values[0][name].value) / 2
            fit.systematic.setdefault(name, {})["focal"] = part
            q.uncertainty = math.hypot(q.uncertainty, part)


def _crop(frames: np.ndarray, roi: tuple[int, int, int, int], processed_scale: float) -> tuple[np.ndarray, np.ndarray]:
    x, y, w, h = (int(round(v * processed_scale)) for v in roi)
    H, W = frames.shape[1:3]
    if w < 8 or h < 8 or x < 0 or y < 0 or x + w > W or y + h > H:
        raise InputError(f"--roi {','.join(map(str, roi))} is not inside the {round(W / processed_scale)}x"
                         f"{round(H / processed_scale)} frame (x,y,w,h, at least 8x8)")
    return np.ascontiguousarray(frames[:, y:y + h, x:x + w]), np.array([x, y], float)


def _unit_per_px(track: ObjectTrack, plane: PlaneTrack) -> float:
    s_px = track.sigma_px[plane.frame]
    ok = np.isfinite(s_px) & (s_px > 0) & np.isfinite(plane.sigma)
    return float(np.median(plane.sigma[ok] / s_px[ok])) if ok.any() else 1.0


def _frame_list(which: np.ndarray, most: int = 12) -> str:
    frames = np.flatnonzero(which)
    text = ", ".join(str(int(f)) for f in frames[:most])
    return text + (f", ... ({len(frames)} in all)" if len(frames) > most else "")


def _symbol(name: str) -> str:
    return {"g_m_s2": "g", "restitution": "e", "period_s": "T", "friction": "mu"}.get(name, name)


def _pm(value: float, sigma: float) -> str:
    if not np.isfinite(sigma) or sigma <= 0:
        return f"{value:.4g}"
    exponent = int(np.floor(np.log10(sigma)))
    digits = max(0, -exponent + (1 if sigma / 10.0**exponent < 2 else 0))
    return f"{value:.{digits}f} ± {sigma:.{digits}f}"


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
