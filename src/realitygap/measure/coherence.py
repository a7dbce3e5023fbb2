"""Cross-sensor coherence and label accuracy of one episode, as measurement rows (metrics: metrics/coherence.py,
metrics/labels.py).

Coherence asks whether a source's own streams agree with each other through its own recorded calibration
(the ground-truth episode is not used): a twin that renders with another lens than it declares, or whose
positions jump while its IMU and radar feel nothing, is incoherent even where each stream alone looks fine.

    coherence_depth_lidar_m        median |depth image - camera z of the LiDAR point| (m), points on surfaces
    coherence_depth_lidar_outliers share of those points off by more than 3 sigma_lidar + 5 mm
    coherence_projection_px        median |centroid of the projected 3-D box (pose from the state) - centroid of
                                   the object's segmentation| (px), frames where the object is whole (visible
                                   fraction 1, not at the image border)
    coherence_imu_gps_m_s2         RMS |IMU specific force - GPS second derivative| (m/s^2), body frame, at the
                                   GPS fixes, both through one Savitzky-Golay filter (5 fixes); uncertainty: the
                                   level the declared GPS noise alone gives
    coherence_imu_state_m_s2       the same against the source's own state track of the IMU's body (+-50 ms
                                   window, every IMU reading): noise-free, so it reads the IMU's noise on a
                                   coherent source and works on episodes shorter than 5 fixes
    coherence_radar_velocity_m_s   RMS of radar radial velocity - the source's differentiated state track
                                   along the line of sight (m/s); uncertainty: the declared radar noise

Label accuracy compares the source's labels with the ground-truth episode's, frame by frame (the nearest
ground-truth frame in time, within half a frame):

    label_mask_iou, label_box_iou   mean IoU over (frame, object) pairs with anything to compare
    label_depth_error_m             mean |depth - ground-truth depth| over pixels valid in both (m)
    label_derived_mask_iou          the masks realitygap's tracker derives from the source's RGB against the
                                    ground-truth segmentation: labels for sources that deliver none

A source that lacks a stream a quantity needs gets NaN with the note "not delivered: <streams>" (and why,
when the context's rig did not ask for it), never a fake zero.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pymap3d
from scipy.spatial.transform import Rotation, Slerp

from realitygap.measure.rows import measurement_row
from realitygap.metrics.coherence import (
    SAVGOL_WINDOW,
    TRACK_HALF_WINDOW_S,
    box_corners_world,
    depth_lidar_residuals_m,
    gps_noise_rms,
    imu_noise_rms,
    imu_position_residuals,
    mask_centroid_px,
    projected_box_centroid_px,
    projection_residuals_px,
    radial_velocity_residuals,
    savgol_weights,
    summarise,
    track_velocity,
)
from realitygap.metrics.labels import box_iou, depth_error, mask_iou
from realitygap.sim.lidar import points_from_ranges

STREAMS = ("depth", "segmentation", "annotations", "state", "imu", "gps", "lidar", "radar")
"""Streams of the measured episode read for coherence and labels (besides what measure_episode reads)."""
REFERENCE_STREAMS = ("depth", "segmentation", "annotations")
"""Streams of the ground-truth episode the labels are compared with."""
DEPTH_QUANTISATION_M = 0.005
"""Added to 3 sigma of the LiDAR range noise for the depth tolerance: millimetre depth, interpolation."""
DEPTH_SCALE_M = 0.001
"""Metres per unit of the stored depth video (uint16 millimetres, 0 = no surface)."""
MAX_LIDAR_POINTS = 20_000
"""LiDAR returns compared with the depth image at most: a fixed stride over the episode's returns (all scans
stay represented; the median and share of 20 000 points are precise to ~0.002)."""
WHOLE_FRACTION = 0.999
"""Least visible fraction (annotations) of an object whose segmentation centroid is its image position."""
DEFAULT_GRAVITY_M_S2 = (0.0, 0.0, -9.81)
RIG_SENSORS = ("depth", "segmentation", "lidar", "imu", "gps", "radar")
"""Streams a context's rig may leave out (the twins always write state and annotations)."""


def coherence_rows(episode, reference, tracks=(), frame_shape: tuple[int, int] | None = None) -> list[dict]:
    """Coherence and label rows of `episode` (an Episode with `STREAMS` read) against `reference` (the
    ground-truth Episode of the same context, with `REFERENCE_STREAMS`); `tracks` are the ObjectTracks (with
    masks) realitygap's tracker found in the episode's RGB frames of (H, W) `frame_shape`, empty when none."""
    return [*depth_lidar_rows(episode), projection_row(episode), *imu_rows(episode), radar_row(episode),
            *label_rows(episode, reference), derived_mask_row(tracks, frame_shape, reference)]


# --------------------------------------------------------------------------------------------------
# Coherence


def depth_lidar_rows(episode) -> list[dict]:
    """coherence_depth_lidar_m and coherence_depth_lidar_outliers."""
    name, unit = "coherence_depth_lidar_m", "m"
    method = "median |D(pi(X)) - z(X)|, X LiDAR points (world) projected with the recorded camera calibration"
    missing = _missing(episode, ("depth", "lidar"))
    calib = episode.meta.calibration
    if not missing and calib.lidar is None:
        missing = "not delivered: lidar calibration"
    if missing:
        return [measurement_row(name, unit, math.nan, method=method, note=missing),
                measurement_row("coherence_depth_lidar_outliers", "", math.nan, method=method, note=missing)]
    lidar, depth = episode.tables["lidar"], episode.videos["depth"]  # uint16 mm, 0 = no surface
    # The rig is static: the LiDAR pose recorded in the calibration holds for every scan.
    fps = episode.meta.rates_hz["camera"]
    sigma = episode.meta.context.rig.lidar.range_noise_std_m
    tolerance = 3 * sigma + DEPTH_QUANTISATION_M
    T_world_lidar = np.array(calib.lidar.T_world_lidar, float)
    t = np.asarray(lidar["t_s"], float)
    frame = np.rint(t * fps).astype(int)
    at_frame = (np.abs(frame / fps - t) <= 1e-6) & (frame >= 0) & (frame < len(depth))  # scans with a depth frame
    stride = max(1, math.ceil(at_frame.sum() / MAX_LIDAR_POINTS))
    at_frame[np.flatnonzero(at_frame)[np.arange(at_frame.sum()) % stride != 0]] = False  # every stride-th return
    points = points_from_ranges(lidar["range_m"][at_frame], lidar["elevation_rad"][at_frame], lidar["azimuth_rad"][at_frame])
    points_world = points @ T_world_lidar[:3, :3].T + T_world_lidar[:3, 3]
    residuals = depth_lidar_residuals_m(depth, points_world, episode.K, episode.T_world_camera, frame=frame[at_frame],
                                        scale_m=DEPTH_SCALE_M)
    summary = summarise(residuals, tolerance)
    scans, skipped = len(np.unique(t[at_frame])), len(np.unique(t[~at_frame]))
    note = (f"{summary.count} of {at_frame.sum()} returns compared (one in {stride} of {len(t)}, {scans} scans at depth "
            f"frames{f', {skipped} scans between frames skipped' if skipped else ''}) lie on surfaces in view; "
            f"tolerance {tolerance:.3f} m (3 x declared LiDAR noise {sigma} m + 5 mm)")
    return [measurement_row(name, unit, summary.median_abs, sigma, 0.0, 0.0, summary.rms, "m", method=method, note=note),
            measurement_row("coherence_depth_lidar_outliers", "", 1.0 - summary.share_within, math.nan, 0.0, 0.0, method=method,
                 note=f"share of surface points with |residual| > {tolerance:.3f} m")]


def projection_row(episode) -> dict:
    name, unit = "coherence_projection_px", "px"
    method = ("|centroid of the projected 3-D box (state pose, recorded calibration) - centroid of the object's "
              "segmentation pixels in its 2-D box|, objects whole in the image")
    missing = _missing(episode, ("segmentation", "annotations"))
    if not missing and not all(f"box3d_{c}" in episode.tables["annotations"] for c in ("centre_x_m", "size_x_m", "quaternion_w")):
        missing = "not delivered: 3-D boxes in the annotations"
    if missing:
        return measurement_row(name, unit, math.nan, method=method, note=missing)
    seg, ann = episode.videos["segmentation"], episode.tables["annotations"]
    T, H, W = seg.shape
    frame, instance = np.asarray(ann["frame"], int), np.asarray(ann["instance_id"], int)
    whole = ((np.asarray(ann["visible_fraction"]) >= WHOLE_FRACTION) & (frame < T)
             & (np.asarray(ann["bbox_x_min_px"]) > 0) & (np.asarray(ann["bbox_y_min_px"]) > 0)
             & (np.asarray(ann["bbox_x_max_px"]) < W - 1) & (np.asarray(ann["bbox_y_max_px"]) < H - 1))
    column = lambda prefix, axes: np.stack([np.asarray(ann[f"{prefix}{a}"], float)[whole] for a in axes], axis=1)  # noqa: E731
    rotation = Rotation.from_quat(column("box3d_quaternion_", "wxyz"), scalar_first=True).as_matrix() if whole.any() else None
    corners = box_corners_world(column("box3d_centre_", ("x_m", "y_m", "z_m")), column("box3d_size_", ("x_m", "y_m", "z_m")),
                                rotation) if whole.any() else np.empty((0, 8, 3))
    projected = projected_box_centroid_px(corners, episode.K, episode.T_world_camera)
    image_uv = np.full((len(corners), 2), np.nan)
    boxes = np.stack([np.asarray(ann[f"bbox_{k}_px"], int)[whole] for k in ("x_min", "y_min", "x_max", "y_max")], axis=1)
    for k, (f, inst, (x0, y0, x1, y1)) in enumerate(zip(frame[whole], instance[whole], boxes)):
        image_uv[k] = mask_centroid_px(seg[f, y0:y1 + 1, x0:x1 + 1] == inst) + (x0, y0)  # its pixels in its 2-D box
    summary = summarise(projection_residuals_px(projected, image_uv), 1.0)
    note = (f"{summary.count} object-frames whole in the image (of {len(whole)}); share within 1 px "
            f"{summary.share_within:.3f}" if summary.count else "no object whole in the image")
    return measurement_row(name, unit, summary.median_abs, math.nan, 0.0, 0.0, summary.rms, "px", method=method, note=note)


def imu_rows(episode) -> list[dict]:
    """coherence_imu_gps_m_s2 (GPS fixes, the sensor check) and coherence_imu_state_m_s2 (the source's state track
    of the IMU's body, dense and noise-free: a sharp check that also works on episodes shorter than 5 fixes)."""
    return [_imu_row(episode, "gps"), _imu_row(episode, "state")]


def _imu_row(episode, stream: str) -> dict:
    name = f"coherence_imu_{stream}_m_s2"
    method = (f"RMS |f_{stream} - f_imu|, f = R^T (a - g) body frame: a = Savitzky-Golay second derivative of the "
              f"{stream} positions, the IMU through the same filter (its Peano kernel), R from the state")
    missing = _missing(episode, tuple(dict.fromkeys(("imu", stream, "state"))))
    calib = episode.meta.calibration
    if not missing and (calib.imu is None or (stream == "gps" and calib.gps is None)):
        missing = f"not delivered: {stream}/imu calibration"
    rotation = None if missing else _orientation(episode.tables["state"], calib.imu.body)
    if not missing and (rotation is None or len(episode.tables["imu"]["t_s"]) < 2):
        missing = "too few IMU readings or state samples"
    if missing:
        return measurement_row(name, "m/s^2", math.nan, method=method, note=missing)
    imu, rig = episode.tables["imu"], episode.meta.context.rig
    t_imu = np.asarray(imu["t_s"], float)
    period = float(np.median(np.diff(t_imu)))
    force = np.stack([np.asarray(imu[f"accel_{a}_m_s2"], float) for a in "xyz"], axis=1)
    force = force @ np.array(calib.imu.T_body_imu, float)[:3, :3].T
    lo, hi = rotation.times[0], rotation.times[-1]
    R_imu = rotation(np.clip(np.r_[t_imu[0], t_imu[1:] - np.diff(t_imu) / 2], lo, hi)).as_matrix()
    gravity = np.array(episode.meta.physics.gravity_m_s2 if episode.meta.physics else DEFAULT_GRAVITY_M_S2, float)
    if stream == "gps":
        t, position = _gps_enu(episode)
        window, stride = SAVGOL_WINDOW, 1
        dt = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
        sigma = np.array([rig.gps.horizontal_noise_std_m, rig.gps.horizontal_noise_std_m, rig.gps.vertical_noise_std_m])
        expected, source = gps_noise_rms(dt, sigma), "the declared GPS noise"
    else:
        t, position = _body_track(episode.tables["state"], calib.imu.body)
        dt = float(np.median(np.diff(t))) if len(t) > 1 else period
        window, stride = 2 * max(2, round(TRACK_HALF_WINDOW_S / dt)) + 1, max(1, round(period / dt))
        expected = imu_noise_rms(savgol_weights(dt, window), dt, period, rig.imu.accel_noise_density)
        source = "the declared IMU white noise"
    _, _, residual = imu_position_residuals(t, position, t_imu, force, R_imu, rotation(np.clip(t, lo, hi)).as_matrix(),
                                            gravity, window=window, stride=stride)
    summary = summarise(residual, 3 * expected)
    if not summary.count:
        return measurement_row(name, "m/s^2", math.nan, expected, method=method,
                    note=f"too short for a {window}-sample window ({len(t)} {stream} samples)")
    note = (f"{summary.count} samples ({window}-sample window), largest {np.linalg.norm(residual, axis=1).max():.3f} m/s^2; "
            f"{source} alone gives {expected:.3f} m/s^2 RMS (the uncertainty); gravity {gravity.tolist()} (episode's physics)")
    return measurement_row(name, "m/s^2", summary.rms, expected, 0.0, 0.0, summary.rms, "m/s^2", method=method, note=note)


def radar_row(episode) -> dict:
    name, unit = "coherence_radar_velocity_m_s", "m/s"
    method = "RMS of radar radial velocity - state track differentiated (central differences) along the line of sight"
    missing = _missing(episode, ("radar", "state"))
    if not missing and episode.meta.calibration.radar is None:
        missing = "not delivered: radar calibration"
    if missing:
        return measurement_row(name, unit, math.nan, method=method, note=missing)
    radar, state = episode.tables["radar"], episode.tables["state"]
    origin = np.array(episode.meta.calibration.radar.T_world_radar, float)[:3, 3]
    residuals = []
    for inst in np.unique(np.asarray(radar["instance_id"], int)):
        own, rows = np.asarray(radar["instance_id"]) == inst, np.asarray(state["instance_id"]) == inst
        if rows.sum() < 2:
            continue
        t_track = np.asarray(state["t_s"], float)[rows]
        position = np.stack([np.asarray(state[f"position_{a}_m"], float)[rows] for a in "xyz"], axis=1)
        velocity = track_velocity(t_track, position)
        t = np.asarray(radar["t_s"], float)[own]
        residuals.append(radial_velocity_residuals(np.asarray(radar["radial_velocity_m_s"], float)[own],
                                                   _interp_rows(t, t_track, position), _interp_rows(t, t_track, velocity),
                                                   origin))
    noise = episode.meta.context.rig.radar.velocity_noise_std_m_s
    summary = summarise(np.concatenate(residuals) if residuals else np.empty(0), 3 * noise)
    note = (f"{summary.count} detections; declared noise {noise} m/s; share within 3 sigma {summary.share_within:.3f}"
            if summary.count else "no detection of a tracked object")
    return measurement_row(name, unit, summary.rms, noise, 0.0, 0.0, summary.rms, unit, method=method, note=note)


# --------------------------------------------------------------------------------------------------
# Label accuracy


def label_rows(episode, reference) -> list[dict]:
    """label_mask_iou, label_box_iou, label_depth_error_m of the episode's own labels against the reference's."""
    frames = _aligned_frames(episode, reference)
    rows = []
    for name, unit, stream, truth, function in (("label_mask_iou", "", "segmentation", 1.0, _mask_iou),
                                                ("label_box_iou", "", "annotations", 1.0, _box_iou),
                                                ("label_depth_error_m", "m", "depth", 0.0, None)):
        missing = _missing(episode, (stream,))
        if missing:
            rows.append(measurement_row(name, unit, math.nan, math.nan, truth, truth, method=f"source {stream} vs ground truth",
                             note=missing))
            continue
        if stream not in reference.videos and stream not in reference.tables:
            rows.append(measurement_row(name, unit, math.nan, math.nan, truth, truth, method=f"source {stream} vs ground truth",
                             note=f"no ground truth: the ground-truth episode has no {stream}"))
            continue
        value, method, note = (function or _depth_error)(episode, reference, frames)
        rows.append(measurement_row(name, unit, value, math.nan, truth, truth, method=method, note=note))
    return rows


def derived_mask_row(tracks, frame_shape: tuple[int, int] | None, reference) -> dict:
    """label_derived_mask_iou: the tracker's masks (from the source's RGB frames of (H, W) `frame_shape`) against
    the reference's segmentation, each resized (nearest) to the reference's size."""
    name, method = "label_derived_mask_iou", "derived by realitygap: tracker masks from the source's RGB vs ground-truth segmentation"
    if not tracks:
        return measurement_row(name, "", math.nan, math.nan, 1.0, 1.0, method=method, note="derived by realitygap: nothing tracked")
    seg = reference.videos["segmentation"]
    fps = reference.meta.rates_hz["camera"]
    ids = {inst.name: inst.id for inst in reference.meta.instances}
    ious = []
    for track in tracks:
        if track.masks is None or track.name not in ids:
            continue
        for t, crop in zip(track.t_s, track.masks):
            ref = int(round(t * fps))
            if abs(ref / fps - t) > 0.5 / fps or not 0 <= ref < len(seg):
                continue
            truth = seg[ref] == ids[track.name]
            derived = _paste(crop, frame_shape or truth.shape, truth.shape)
            ious.append(float(mask_iou(derived, truth)))
    mean, count = _finite_mean([np.array(ious, float)])
    note = f"derived by realitygap (colour-model tracker); {count} object-frames"
    return measurement_row(name, "", mean, math.nan, 1.0, 1.0, method=method, note=note)


def _mask_iou(episode, reference, frames):
    src, ref = frames
    seg, truth = _take(episode.videos["segmentation"], src), _take(reference.videos["segmentation"], ref)
    seg = _resize_ids(seg, truth.shape[1:])
    own = {inst.name: inst.id for inst in episode.meta.instances}  # instances matched by name
    ious = [mask_iou(seg == own.get(inst.name, -1), truth == inst.id) for inst in reference.meta.instances]
    mean, count = _finite_mean(ious)
    return mean, "mean IoU of the source's segmentation per object and frame", f"{count} object-frames with the object in either mask"


def _box_iou(episode, reference, frames):
    src, ref = frames
    own, truth = _boxes(episode.tables["annotations"]), _boxes(reference.tables["annotations"])
    (h, w), (H, W) = _image_shape(episode), _image_shape(reference)
    scale = np.array([W / w, H / h, W / w, H / h])
    values, ids = [], {inst.name: inst.id for inst in episode.meta.instances}  # instances matched by name
    for inst in reference.meta.instances:
        a = np.array([own.get((f, ids.get(inst.name, -1)), (-1, -1, -1, -1)) for f in src], float)
        b = np.array([truth.get((f, inst.id), (-1, -1, -1, -1)) for f in ref], float)
        if (w, h) != (W, H):  # pixel boxes of another image size: corners scaled about pixel edges
            a = np.where(a[:, 2:3] >= a[:, 0:1], np.c_[(a[:, :2] + 0.5) * scale[:2] - 0.5, (a[:, 2:] + 0.5) * scale[2:] - 0.5], a)
        values.append(box_iou(a, b))
    mean, count = _finite_mean(values)
    return mean, "mean IoU of the source's 2-D boxes per object and frame", f"{count} object-frames with a box in either"


def _depth_error(episode, reference, frames):
    src, ref = frames
    own, truth = _take(episode.videos["depth"], src), _take(reference.videos["depth"], ref)  # uint16 mm, 0 = no surface
    if own.shape != truth.shape:
        own = np.stack([cv2.resize(d, truth.shape[:0:-1], interpolation=cv2.INTER_NEAREST) for d in own])
    error = depth_error(own, truth)
    return error.mae * DEPTH_SCALE_M, "mean |depth - ground-truth depth| over pixels valid in both", (
        f"{error.count} pixels; RMSE {error.rmse * DEPTH_SCALE_M:.4f} m, AbsRel {error.abs_rel:.4f}")


def _aligned_frames(episode, reference) -> tuple[np.ndarray, np.ndarray]:
    """(source frames, reference frames) at the same time, within half a reference frame."""
    fps, ref_fps = episode.meta.rates_hz["camera"], reference.meta.rates_hz["camera"]
    n, n_ref = episode.meta.n_frames, reference.meta.n_frames
    t = np.arange(n) / fps
    ref = np.rint(t * ref_fps).astype(int)
    keep = (np.abs(ref / ref_fps - t) <= 0.5 / ref_fps) & (ref < n_ref)
    return np.flatnonzero(keep), ref[keep]


def _interp_rows(t: np.ndarray, t_track: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(len(t), k) values of a (N, k) track on the clock `t_track`, linearly interpolated at `t`."""
    return np.stack([np.interp(t, t_track, values[:, i]) for i in range(values.shape[1])], axis=1)


def _take(frames: np.ndarray, index: np.ndarray) -> np.ndarray:
    """frames[index], without a copy when `index` is every frame in order."""
    return frames if len(index) == len(frames) and np.array_equal(index, np.arange(len(frames))) else frames[index]


def _boxes(annotations) -> dict[tuple[int, int], tuple[int, int, int, int]]:
    cols = [np.asarray(annotations[c], int) for c in ("frame", "instance_id", "bbox_x_min_px", "bbox_y_min_px",
                                                       "bbox_x_max_px", "bbox_y_max_px")]
    return {(f, i): (x0, y0, x1, y1) for f, i, x0, y0, x1, y1 in zip(*(c.tolist() for c in cols))}


def _image_shape(episode) -> tuple[int, int]:
    camera = episode.meta.calibration.camera
    return camera.height_px, camera.width_px


def _resize_ids(ids: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if ids.shape[1:] == tuple(shape):
        return ids
    return np.stack([cv2.resize(frame, shape[::-1], interpolation=cv2.INTER_NEAREST) for frame in ids])


def _paste(crop, frame_shape: tuple[int, int], out_shape: tuple[int, int]) -> np.ndarray:
    """A full-frame bool mask from a tracker crop (row0, col0, mask) or None, resized (nearest) to `out_shape`."""
    mask = np.zeros(frame_shape, bool)
    if crop is not None:
        r0, c0, m = crop
        mask[r0:r0 + m.shape[0], c0:c0 + m.shape[1]] = m
    if mask.shape != tuple(out_shape):
        mask = cv2.resize(mask.view(np.uint8), out_shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
    return mask


# --------------------------------------------------------------------------------------------------
# Helpers


def _missing(episode, streams: tuple[str, ...]) -> str:
    """'' when the episode has every stream, else 'not delivered: a, b' (saying which its rig did not ask for)."""
    absent = [s for s in streams if s not in episode.videos and s not in episode.tables]
    if not absent:
        return ""
    rig = set(episode.meta.context.rig.sensors)
    not_asked = [s for s in absent if s in RIG_SENSORS and s not in rig]
    note = f"not delivered: {', '.join(absent)}"
    return note + (f" (not in the context's rig: {', '.join(not_asked)})" if not_asked else "")


def _gps_enu(episode) -> tuple[np.ndarray, np.ndarray]:
    """(t (N,), ENU positions (N, 3) m about the recorded origin) of the GPS fixes."""
    gps, origin = episode.tables["gps"], episode.meta.calibration.gps.enu_origin
    east, north, up = pymap3d.geodetic2enu(gps["latitude_deg"], gps["longitude_deg"], gps["altitude_m"],
                                           origin.lat_deg, origin.lon_deg, origin.alt_m)
    return np.asarray(gps["t_s"], float), np.stack([np.asarray(east), np.asarray(north), np.asarray(up)], axis=1)


def _body_track(state, body: str) -> tuple[np.ndarray, np.ndarray]:
    """(t (N,), world positions (N, 3) m) of `body` in the state table."""
    rows = np.asarray(state["body"]) == body
    return (np.asarray(state["t_s"], float)[rows],
            np.stack([np.asarray(state[f"position_{a}_m"], float)[rows] for a in "xyz"], axis=1))


def _orientation(state, body: str) -> Slerp | None:
    """world_from_body rotation of `body` over the state's clock (Slerp), None without two samples."""
    rows = np.asarray(state["body"]) == body
    if rows.sum() < 2:
        return None
    quaternion = np.stack([np.asarray(state[f"quaternion_{a}"], float)[rows] for a in "wxyz"], axis=1)
    return Slerp(np.asarray(state["t_s"], float)[rows], Rotation.from_quat(quaternion, scalar_first=True))


def _finite_mean(parts: list[np.ndarray]) -> tuple[float, int]:
    """(mean, count) of the finite values of the arrays together (NaN, 0 when there is none)."""
    values = np.concatenate(parts) if parts else np.empty(0)
    values = values[np.isfinite(values)]
    return (float(values.mean()) if values.size else math.nan), int(values.size)
