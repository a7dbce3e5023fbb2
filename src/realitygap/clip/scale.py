"""From image pixels to the motion plane, in metres when a scale is known.

One of (`scale_for_clip`):

- `--scale PX_PER_M`: pixels of the file per metre at the object's distance (the processed frames'
  px per metre = PX_PER_M x processed/file pixels);
- `--object-diameter M`: apparent size. px per metre = 2 r0 / M with r0 the silhouette's equivalent
  radius sqrt(area / pi) on the optical axis (`apparent_radius_px`: off-axis growth of a sphere's
  image removed, fastest frames left out for motion blur); the matting-weighted area of
  `realitygap.measure.tracking` keeps anti-aliased and blurred edges at their coverage;
- `--calibration FILE` (fx_px, fy_px, cx_px, cy_px, width_px, height_px, T_world_camera; the format of
  the video manifest's calibration) or a realitygap episode's own calibration: rays of the centroids
  meet the motion plane (the scenario's tracking plane for an episode; the world x-z plane y = 0,
  realitygap's convention, for a file), `realitygap.measure.backproject`;
- none: positions stay in pixels, metric quantities are refused (ratios and periods are still measured).

Positions are returned in the motion plane as (horizontal, up): up = world z for a calibration,
image up (after the rotation metadata) otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from realitygap.core.planefit import PlaneTrack
from realitygap.measure.backproject import backproject_track
from realitygap.measure.tracking import ObjectTrack
from realitygap.runtime.errors import InputError

WHOLE_FRACTION = 0.9
"""Frames whose visible fraction is at least this are whole silhouettes (for the apparent size)."""
MAX_BLUR_RADII = 0.25
"""Frames whose object moves more than this many radii per frame (a streak up to that long in a frame-long
exposure) do not measure its size; the slowest five do when fewer are that still."""
SIZE_FRAMES = 30
CANDIDATE_FRAMES = 90
"""At most this many frames (evenly spread) are examined for the apparent size."""
"""At most this many frames measure the apparent size."""
MIN_RELATIVE_CONTRAST = 0.7
"""... and its object-surround contrast is at least this fraction of the best frame's (a ball over the
light background rather than over the floor, where its shaded underside meets its shadow)."""
MAX_SURROUND_ALPHA = 0.15
"""A frame measures the apparent size only if 90 % of its surround ring reads |alpha| <= this (uniform)."""
OFF_LINE_FRACTION = 0.5
"""Inside the silhouette, a pixel further than this fraction of the object-background contrast from the line
between their colours (a specular highlight) counts as object."""
MIN_DEPTH_CHANGE = 0.05
MIN_EXPLAINED = 0.8
"""An object whose apparent size changes less than this along its track keeps one scale."""
ASSUMED_FOCAL_DIAGONALS = 0.6
"""Focal length assumed for the off-axis correction of the apparent size, in image diagonals."""
FOCAL_RANGE_DIAGONALS = (0.4, 1.0)
"""Focal lengths (image diagonals) of the cameras users bring (a phone's ultra-wide to a short tele): the
off-axis correction's spread over them is half-width of the scale's systematic uncertainty."""
LIMB_MIN_RADIUS_PX = 4.0
"""Below this radius the edge is matted on the centre's colour (too few limb pixels per sector)."""
EDGE_PX = 0.2
"""Systematic uncertainty of a silhouette's edge (px; compression, blur, matting), on its radius."""


@dataclass(frozen=True)
class Calibration:
    """Pinhole camera (processed pixels) and the motion plane in the world, for back-projection."""

    K: np.ndarray
    T_world_camera: np.ndarray
    plane_point_m: np.ndarray
    plane_normal: np.ndarray
    sphere_radius_m: float | None
    origin: str
    positions: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray] | None] | None = None
    """Optional model-based back-projection (centroids (N, 2) px, sigma (N,) px) -> world (N, 3) m and
    sigma (N, 3) m, e.g. a scenario's `position_from_pixels` (a box's silhouette is on no single plane)."""


@dataclass(frozen=True)
class Scale:
    """How positions become metres: px_per_m (processed pixels per metre, None without a scale) or a
    calibration; `origin` says which (one phrase, e.g. 'scale from object diameter')."""

    px_per_m: float | None
    rel_uncertainty: float
    origin: str
    calibration: Calibration | None = None
    depth: "DepthTrend | None" = None
    """Object-diameter scale on a clip whose object changes depth (a tilted camera): its per-frame size."""

    @property
    def metric(self) -> bool:
        return self.px_per_m is not None or self.calibration is not None


@dataclass(frozen=True)
class DepthTrend:
    """The object's apparent radius on the optical axis per frame (processed px, NaN where not seen), from
    the smooth trend of its size: it changes with the object's depth, so the scale changes per frame."""

    radius_px: np.ndarray
    object_diameter_m: float
    change: float
    """Relative change of the radius over the seen frames (max / min - 1)."""


def depth_trend(track: ObjectTrack, size_hw: tuple[int, int], radius0_px: float, measured_on: np.ndarray,
                usable: np.ndarray, object_diameter_m: float) -> DepthTrend | None:
    """Per-frame on-axis radius r = r0 m / median(m over the frames r0 was `measured_on`) with m the object's
    size model (`silhouette.size_model`: an
    affine function of its image position, exact for motion in a plane) fitted to the tracker's radii
    sqrt(area / pi) without their off-axis growth (1 + p^2)^(1/4) over the usable frames; None when it
    changes by less than `MIN_DEPTH_CHANGE` over them (one scale is then as good, and less noisy)."""
    from realitygap.clip.silhouette import size_model

    use = track.present & usable & (np.nan_to_num(track.area_px) > 0)
    if use.sum() < 8:
        return None
    H, W = size_hw
    f = ASSUMED_FOCAL_DIAGONALS * float(np.hypot(H, W))
    p2 = np.sum((track.centroid_px - [(W - 1) / 2, (H - 1) / 2]) ** 2, axis=1) / f**2
    radius = np.sqrt(np.where(use, track.area_px, np.nan) / np.pi) / (1 + np.nan_to_num(p2)) ** 0.25
    model = size_model(track.centroid_px, radius, use, float(np.nanmedian(radius)))
    change = float(model[use].max() / model[use].min() - 1)
    explained = float(np.mean(np.abs(radius[use] / model[use] - 1) < 0.05))
    if change < MIN_DEPTH_CHANGE or explained < MIN_EXPLAINED:
        return None
    return DepthTrend(np.where(track.present, radius0_px * model / np.median(model[measured_on]), np.nan), object_diameter_m,
                      change)


def scale_for_clip(track: ObjectTrack, processed_scale: float, size_hw: tuple[int, int], *, px_per_m: float | None = None,
                   object_diameter_m: float | None = None, calibration: Calibration | None = None,
                   frames: np.ndarray | None = None, usable: np.ndarray | None = None) -> Scale:
    """The one scale the user gave (InputError for more than one or a non-positive value). With an object
    diameter and `usable` frames (T,) bool, a size that changes along the track gives a per-frame scale
    (`depth_trend`)."""
    given = [name for name, v in (("--scale", px_per_m), ("--object-diameter", object_diameter_m),
                                  ("--calibration", calibration)) if v is not None]
    if len(given) > 1:
        raise InputError(f"give one scale, not {' and '.join(given)}")
    for name, value in (("--scale", px_per_m), ("--object-diameter", object_diameter_m)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise InputError(f"{name} must be a positive number, got {value}")
    if px_per_m is not None:
        return Scale(px_per_m * processed_scale, 0.0, "scale from --scale (px per metre)")
    if object_diameter_m is not None:
        radius_px, rel, measured_on = apparent_radius_px(track, size_hw, frames, usable)
        depth = depth_trend(track, size_hw, radius_px, measured_on, usable, object_diameter_m) if usable is not None else None
        origin = "scale from object diameter" + (f", per frame (its size changes {100 * depth.change:.0f} %: the object "
                                                 "changes depth)" if depth is not None else "")
        return Scale(2 * radius_px / object_diameter_m, rel, origin, depth=depth)
    if calibration is not None:
        return Scale(None, 0.0, f"scale from {calibration.origin}", calibration)
    return Scale(None, 0.0, "no scale")


def apparent_radius_px(track: ObjectTrack, size_hw: tuple[int, int], frames: np.ndarray | None = None,
                       usable: np.ndarray | None = None) -> tuple[float, float, np.ndarray]:
    """(radius px on the optical axis, relative uncertainty, the frames it was measured on) of the object's
    silhouette.

    Per frame, the equivalent radius sqrt(A / pi) of the coverage A = sum of alpha over a disc of
    1.3 r + 3 px about the centroid, alpha = ((c - B) . (F - B)) / |F - B|^2 clipped to [0, 1] with F the
    median colour inside 0.5 r and B the median of the ring 1.3 r + 3 .. 1.6 r + 6 px, in frames whose
    ring is uniform and whose contrast |F - B| is near the best (`coverage_radius_px`). The tracker's
    own area (used without `frames` or with fewer than 3 such frames) counts every pixel of the colour
    model as whole, and yuv420p's half-resolution chroma makes that too wide; over the floor, a
    ball's shaded underside meets its shadow and reads small.

    A sphere of radius R whose centre is at depth Z and p = tan(angle off the optical axis) subtends
    tan(beta) = R / (Z sqrt(1 + p^2)) (to first order), and its image's equivalent radius is
    f tan(beta) (1 + p^2)^(3/4) (`realitygap.measure.backproject`), so r = r0 (1 + p^2)^(1/4) with
    r0 = f R / Z, the radius that gives the scale f / Z of the object's plane (+2.9 % at p = 0.34).
    p = d / f, d the distance from the image centre (taken as the principal point), f assumed
    `ASSUMED_FOCAL_DIAGONALS` image diagonals (a phone's main camera, ~80 deg diagonal field of view;
    a wrong f by +-50 % moves r0 by ~+-1 % at p = 0.3).
    r0 = median of the corrected radii over the whole frames (visible fraction >= 0.9; `usable`, (T,) bool,
    where given: not partly hidden or merged) where the object
    moves at most `MAX_BLUR_RADII` radii per frame (motion blur), at most `SIZE_FRAMES` of them. Relative uncertainty: their spread (1.4826
    MAD) over sqrt(n), half the change of r0 over `FOCAL_RANGE_DIAGONALS` and `EDGE_PX`, in quadrature.
    """
    seen = track.present & np.isfinite(track.radius_px) & (True if usable is None else usable)
    seen = seen if seen.any() else track.present & np.isfinite(track.radius_px)
    whole = seen & (np.nan_to_num(track.visible_fraction) >= WHOLE_FRACTION)
    chosen = np.flatnonzero(whole)
    if len(chosen) < 3:
        chosen = np.flatnonzero(seen)
    if len(chosen) == 0:
        raise InputError("the object is never seen whole: its apparent size cannot give a scale")
    step_px = np.zeros(len(chosen))
    if len(chosen) > 1:
        step_px = np.hypot(*np.gradient(track.centroid_px[chosen], axis=0).T) / np.maximum(np.gradient(chosen), 1)
    chosen, step_px = _spread(chosen, step_px, CANDIDATE_FRAMES)
    radii = track.radius_px[chosen]
    if frames is not None:  # the coverage where it can be measured (a uniform surround), else the tracker's area
        measured = np.array([coverage_radius_px(frames[i], track.centroid_px[i], track.radius_px[i]) for i in chosen])
        coverage, contrast = measured[:, 0], measured[:, 1]
        good = np.isfinite(coverage)
        good &= contrast >= MIN_RELATIVE_CONTRAST * (np.max(contrast[good]) if good.any() else 0.0)
        if good.sum() >= 3:
            chosen, radii, step_px = chosen[good], coverage[good], step_px[good]
    if len(chosen) > 5:  # the sharpest: a moving object smears in a long exposure
        sharp = step_px <= MAX_BLUR_RADII * float(np.nanmedian(radii))
        keep = np.flatnonzero(sharp) if sharp.sum() >= 5 else np.argsort(step_px, kind="stable")[:max(5, len(chosen) // 3)]
        keep = np.sort(keep)
        chosen, radii = chosen[keep], radii[keep]
    chosen, radii = _spread(chosen, radii, SIZE_FRAMES)
    H, W = size_hw
    d2 = np.sum((track.centroid_px[chosen] - [(W - 1) / 2, (H - 1) / 2]) ** 2, axis=1)

    def on_axis(focal_diagonals: float) -> np.ndarray:
        return radii / (1 + d2 / (focal_diagonals * float(np.hypot(H, W))) ** 2) ** 0.25

    r0 = on_axis(ASSUMED_FOCAL_DIAGONALS)
    radius = float(np.median(r0))
    spread = 1.4826 * float(np.median(np.abs(r0 - radius)))
    low, high = (float(np.median(on_axis(f))) for f in FOCAL_RANGE_DIAGONALS)
    return radius, math.hypot(spread / math.sqrt(len(chosen)), abs(high - low) / 2, EDGE_PX) / radius, chosen


def _spread(frames: np.ndarray, values: np.ndarray, most: int) -> tuple[np.ndarray, np.ndarray]:
    """At most `most` of `frames` (and their `values`), evenly spread."""
    pick = np.unique(np.linspace(0, len(frames) - 1, min(len(frames), most)).round().astype(int))
    return frames[pick], values[pick]


def coverage_radius_px(frame: np.ndarray, centre_px: np.ndarray, radius_px: float) -> tuple[float, float]:
    """(equivalent radius of the object's colour coverage about `centre_px`, contrast |F - B| in 8-bit
    levels) (see `apparent_radius_px`); NaN radius when the patch leaves the frame, the object's colour
    is not distinct from its surround or the surround is not uniform."""
    H, W = frame.shape[:2]
    R = int(np.ceil(1.6 * radius_px + 6))
    x0, y0 = int(round(centre_px[0])) - R, int(round(centre_px[1])) - R
    if x0 < 0 or y0 < 0 or x0 + 2 * R + 1 > W or y0 + 2 * R + 1 > H:
        return math.nan, 0.0
    patch = frame[y0:y0 + 2 * R + 1, x0:x0 + 2 * R + 1].astype(np.float64)
    yy, xx = np.mgrid[y0:y0 + 2 * R + 1, x0:x0 + 2 * R + 1]
    d = np.hypot(xx - centre_px[0], yy - centre_px[1])
    inner = d < 0.5 * radius_px
    ring = (d > 1.3 * radius_px + 3) & (d <= 1.6 * radius_px + 6)
    if inner.sum() < 3 or ring.sum() < 8:
        return math.nan, 0.0
    background = np.median(patch[ring], axis=0)
    fb = np.median(patch[inner], axis=0) - background
    contrast = float(np.sqrt(fb @ fb))
    if contrast < 25.0:
        return math.nan, contrast
    offset = patch - background
    alpha = (offset @ fb) / (fb @ fb)
    if float(np.percentile(np.abs(alpha[ring]), 90)) > MAX_SURROUND_ALPHA:  # no uniform surround (a horizon, a shadow)
        return math.nan, contrast
    # a specular highlight (or a print) is off the background-object line: whole object, not background
    off_line = np.linalg.norm(offset - alpha[..., None] * fb, axis=-1) > OFF_LINE_FRACTION * contrast
    alpha = np.where(off_line & (d < radius_px), 1.0, np.clip(alpha, 0.0, 1.0))
    radius = float(np.sqrt(alpha[d <= 1.3 * radius_px + 3].sum() / np.pi))
    for _ in range(2):  # a shaded object is darker at its limb than at its centre: matte the edge on the limb's colour
        radius = _limb_matted_radius(patch, offset, d, np.arctan2(yy - centre_px[1], xx - centre_px[0]), radius, fb,
                                     radius_px)
    return radius, contrast


def _limb_matted_radius(patch, offset, d, angle, radius, fb, radius_px) -> float:
    """Equivalent radius with the interior (d < radius - 1) whole and the edge band matted per 45-degree
    sector on that sector's limb colour (median of radius - 2.5 <= d < radius - 1), or on the centre's
    colour where the limb has too little contrast or too few pixels."""
    if radius < LIMB_MIN_RADIUS_PX:
        return radius
    band = d >= radius - 1.0
    alpha = np.where(band, 0.0, 1.0)
    limb = (d >= radius - 2.5) & ~band
    sector = ((angle + math.pi) / (math.pi / 4)).astype(int) % 8
    for k in range(8):
        here = sector == k
        colours = offset[limb & here]
        edge = np.median(colours, axis=0) if len(colours) >= 3 else fb
        edge = edge if float(np.sqrt(edge @ edge)) >= 25.0 else fb
        a = (offset[band & here] @ edge) / (edge @ edge)
        off_line = np.linalg.norm(offset[band & here] - a[:, None] * edge, axis=-1) > OFF_LINE_FRACTION * float(np.sqrt(edge @ edge))
        inside = d[band & here] < radius
        alpha[band & here] = np.where(off_line & inside, 1.0, np.clip(a, -1.0, 1.0))
    return float(np.sqrt(alpha[d <= 1.3 * radius_px + 3].sum() / np.pi))


def plane_track(track: ObjectTrack, scale: Scale, usable: np.ndarray | None = None,
                size_hw: tuple[int, int] | None = None, focal_diagonals: float = ASSUMED_FOCAL_DIAGONALS) -> PlaneTrack:
    """Present (and `usable`, (T,) bool, where given) frames of `track` in the motion plane (see the
    module docstring); with a per-frame scale (`Scale.depth`) and the image's `size_hw`, the plane of
    `tilted_plane` with the focal length `focal_diagonals` image diagonals."""
    ok = track.present & np.isfinite(track.centroid_px).all(axis=1)
    if usable is not None:
        ok &= usable
    frame = np.flatnonzero(ok)
    t = np.asarray(track.t_s, float)[frame]
    uv, s = track.centroid_px[frame], track.sigma_px[frame]
    if scale.calibration is None:
        xy = np.stack([uv[:, 0], -uv[:, 1]], axis=1)
        if scale.px_per_m is None:
            return PlaneTrack(frame, t, xy, s, "px")
        if scale.depth is not None and size_hw is not None:
            xy, metres_per_px = tilted_plane(uv, scale.depth.radius_px[frame], scale.depth.object_diameter_m, size_hw,
                                             focal_diagonals)
            good = np.isfinite(xy).all(axis=1)
            return PlaneTrack(frame[good], t[good], xy[good], (s * metres_per_px)[good], "m")
        return PlaneTrack(frame, t, xy / scale.px_per_m, s / scale.px_per_m, "m")
    cal = scale.calibration
    modelled = cal.positions(uv, s) if cal.positions is not None else None
    if modelled is None:
        measured = backproject_track("object", t, np.ones(len(t), bool), uv, s, cal.K, cal.T_world_camera,
                                     (cal.plane_point_m, cal.plane_normal), sphere_radius_m=cal.sphere_radius_m)
        modelled = (measured.position_m, measured.sigma_m)
    e1, e2 = plane_axes(cal.plane_normal)
    rel = modelled[0] - cal.plane_point_m
    xy = np.stack([rel @ e1, rel @ e2], axis=1)
    sigma = np.sqrt(0.5 * ((modelled[1] @ np.abs(e1)) ** 2 + (modelled[1] @ np.abs(e2)) ** 2))
    good = np.isfinite(xy).all(axis=1)
    return PlaneTrack(frame[good], t[good], xy[good], sigma[good], "m")


def tilted_plane(uv_px: np.ndarray, radius_px: np.ndarray, diameter_m: float, size_hw: tuple[int, int],
                 focal_diagonals: float) -> tuple[np.ndarray, np.ndarray]:
    """((N, 2) positions (horizontal, up) in metres in the plane the object moves in, (N,) metres per pixel)
    from centroids and per-frame on-axis radii: camera-frame positions P = k (u - cx, v - cy, f) with k =
    diameter / (2 r) m/px (the principal point at the image centre, f = `focal_diagonals` image diagonals:
    only the depth axis depends on it); the motion plane Z = Z0 + a X + b Y by least squares (a kept 0 when
    the object hardly moves sideways: a drop); up = the camera's -y projected on that plane (a camera that
    pitches, not one that rolls), horizontal = up x normal."""
    H, W = size_hw
    f = focal_diagonals * float(np.hypot(H, W))
    k = diameter_m / (2 * np.asarray(radius_px, float))
    P = np.stack([(uv_px[:, 0] - (W - 1) / 2) * k, (uv_px[:, 1] - (H - 1) / 2) * k, f * k], axis=1)
    ok = np.isfinite(P).all(axis=1)
    if ok.sum() < 3:
        return np.full((len(P), 2), np.nan), k
    Q = P[ok] - P[ok].mean(axis=0)
    sideways = np.ptp(Q[:, 0]) > 0.2 * max(np.ptp(Q[:, 1]), 1e-12)
    A = np.stack([Q[:, 0], Q[:, 1]], axis=1) if sideways else Q[:, 1:2]
    coef = np.linalg.lstsq(A, Q[:, 2], rcond=None)[0]
    a, b = (float(coef[0]), float(coef[1])) if sideways else (0.0, float(coef[0]))
    horizontal, up = plane_axes(np.array([a, b, -1.0]), up_reference=np.array([0.0, -1.0, 0.0]))  # the camera's up
    horizontal *= 1.0 if horizontal[0] >= 0 else -1.0
    centred = P - P[ok].mean(axis=0)
    return np.stack([centred @ horizontal, centred @ up], axis=1), k


def plane_axes(normal: np.ndarray, up_reference: np.ndarray = np.array([0.0, 0.0, 1.0])) -> tuple[np.ndarray, np.ndarray]:
    """(horizontal, up) unit vectors in the plane with `normal`: up = `up_reference` (default world z)
    projected on the plane, horizontal = up x normal (for a plane normal to the reference: horizontal =
    world x projected, up = normal x horizontal)."""
    n = np.asarray(normal, float) / np.linalg.norm(normal)
    up = up_reference - (up_reference @ n) * n
    if np.linalg.norm(up) < 1e-6:
        x = np.array([1.0, 0.0, 0.0])
        h = x - (x @ n) * n
        h /= np.linalg.norm(h)
        return h, np.cross(n, h)
    up /= np.linalg.norm(up)
    return np.cross(up, n), up


def calibration_from_file(path: Path, frame_size: tuple[int, int], sphere_radius_m: float | None) -> Calibration:
    """A calibration file (video-manifest format, T_world_camera required) scaled to the processed
    frames' (width, height); the motion plane is the world x-z plane (y = 0)."""
    from realitygap.episode.calibration import read_calibration

    data = read_calibration(Path(path))
    if "T_world_camera" not in data:
        raise InputError(f"calibration {Path(path).name}: T_world_camera is needed to measure in metres")
    return calibration_from_camera(data, frame_size, np.zeros(3), np.array([0.0, 1.0, 0.0]), sphere_radius_m,
                                   f"calibration file {Path(path).name}")


def calibration_from_camera(camera: dict, frame_size: tuple[int, int], plane_point_m, plane_normal,
                            sphere_radius_m: float | None, origin: str, positions=None) -> Calibration:
    from realitygap.core.camera import scale_intrinsics

    K = np.array([[camera["fx_px"], 0.0, camera["cx_px"]], [0.0, camera["fy_px"], camera["cy_px"]], [0.0, 0.0, 1.0]], float)
    K = scale_intrinsics(K, (int(camera["width_px"]), int(camera["height_px"])), frame_size)
    return Calibration(K, np.asarray(camera["T_world_camera"], float), np.asarray(plane_point_m, float),
                       np.asarray(plane_normal, float), sphere_radius_m, origin, positions)
