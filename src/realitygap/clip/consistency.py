"""Consistency of any clip, with no twin behind it: the checks the episode path has, on the clip alone.

- frozen frames: frames identical to their predecessor (max difference <= `integrity.FROZEN_MAX_DIFF`
  levels) while the tracked object is displaced across them (its centroid before and after the repeat
  differs by more than `FROZEN_MIN_MOTION_PX`): the object moved, the video did not;
- camera motion: `camera_path`, each frame pair's background corners (Shi-Tomasi, away from the tracked
  object's box, `measure.pipeline.tracked_object_masks`) followed with pyramidal Lucas-Kanade; a
  similarity transform fitted with RANSAC (1 px) is the camera's motion when at least half of the followed
  corners agree with it and they span at least 40 % of the image's width and height (a camera moves the
  whole background; a hand or a person moves a part), or on a background with too few corners the shift by
  phase correlation with the object's region filled from the clip's median, chained from frame 0; the
  statistic is the largest displacement of the image centre. Where fewer than half the frame pairs give such a consensus, the
  camera motion is unknown (reported as such, not as a number);
- vanishing: runs of at least `VANISH_MIN_FRAMES` frames inside the track (after it is first seen, before
  it is last seen) where the object is not found, away from the image border (leaving the frame is not
  vanishing);
- spontaneous objects: `spontaneous.find_spontaneous_objects` against the tracked object (a hand, a
  second ball, a person walking in are reported: they are what a generated clip must not invent, and
  what a real clip must be told about).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from realitygap.measure.integrity import FROZEN_MAX_DIFF, MAX_CORNERS, MIN_CORNERS, changed
from realitygap.measure.permanence import runs
from realitygap.measure.spontaneous import find_spontaneous_objects
from realitygap.measure.tracking import ObjectTrack

FROZEN_MIN_MOTION_PX = 1.0
CONSENSUS = 0.5
"""Least share of the followed background corners that must agree on one similarity transform."""
MIN_SPREAD = 0.4
"""... and the agreeing corners must span at least this fraction of the image's width and height."""
MIN_PEAK = 0.3
"""Least phase-correlation peak (0-1) of a frame pair's shift where the corners give no consensus."""
DEAD_BAND_PX = 0.3
SHIFT_EXPLAINS = 0.8
TILES = 8
TILE_NOISE = 1.0
"""A tile whose frames differ by less than this (8-bit levels, mean) shows nothing of the camera's motion."""
VANISH_MIN_FRAMES = 2
BORDER_MARGIN_PX = 2


def clip_consistency(frames: np.ndarray, track: ObjectTrack, path: list[np.ndarray] | None, frozen: np.ndarray) -> dict:
    """The checks of the module docstring on the frames the object was tracked in (pixels of those frames),
    given the clip's `camera_path` (None: the camera's motion cannot be told) and its `frozen_mask`."""
    camera_px = path_displacement_px(path, frames.shape[1:3])
    spontaneous = find_spontaneous_objects(frames, [track])
    return {
        "frozen_frames": int(frozen.sum()),
        "camera_motion_px": None if not math.isfinite(camera_px) else round(camera_px, 3),
        "vanishing_events": [{"first_frame": a, "last_frame": b} for a, b in vanishing_runs(track, frames.shape[1:3])],
        "spontaneous_objects": [{"first_frame": e.start_frame, "last_frame": e.end_frame, "kind": e.kind,
                                 "centroid_px": [round(float(c), 1) for c in e.centroid_px]} for e in spontaneous],
    }


def path_displacement_px(path: list[np.ndarray] | None, size_hw: tuple[int, int]) -> float:
    """Largest displacement (px) of the image centre along a `camera_path`; NaN for None."""
    if path is None:
        return math.nan
    H, W = size_hw
    centre = np.array([(W - 1) / 2, (H - 1) / 2, 1.0])
    return float(max(np.hypot(*(A @ centre - centre[:2])) for A in path))


def camera_path(frames: np.ndarray, object_masks: np.ndarray) -> list[np.ndarray] | None:
    """Per frame k the 2x3 similarity taking frame k's pixels to frame 0's (the camera's motion undone), or
    None when the camera's motion cannot be told: consecutive frames' background corners (Shi-Tomasi, off
    the tracked object's box grown by 5 px), followed by pyramidal Lucas-Kanade, a similarity fitted with
    RANSAC (1 px) agreed by at least `CONSENSUS` of them spanning `MIN_SPREAD` of the image (a camera moves
    the whole background; a hand or a person moves a part); where the background has too few corners, the
    shift by phase correlation (`_frame_shift`); chained from frame 0. A frame pair without either counts
    as still when most pairs have one, else the path is None."""
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    H, W = gray[0].shape
    plate = np.median(np.stack(gray[:: max(1, len(gray) // 31)]), axis=0).astype(np.float32)
    window = cv2.createHanningWindow((W, H), cv2.CV_32F) if min(H, W) >= 16 else None
    to_first = [np.eye(3)]
    agreed = 0
    for k in range(1, len(gray)):
        excluded = cv2.dilate((object_masks[k - 1] | object_masks[k]).astype(np.uint8), np.ones((11, 11), np.uint8)) > 0
        step = _frame_step(gray[k - 1], gray[k], excluded, (W, H))
        if step is None and window is not None:
            step = _frame_shift(gray[k - 1], gray[k], excluded, plate, window)
        if step is not None:
            agreed += 1
        step = np.eye(3) if step is None else step  # k-1 -> k
        to_first.append(to_first[-1] @ np.linalg.inv(step))
    if len(gray) > 1 and agreed < (len(gray) - 1) / 2:
        return None
    return [A[:2] for A in to_first]


def _frame_shift(previous: np.ndarray, current: np.ndarray, excluded: np.ndarray, plate: np.ndarray,
                 window: np.ndarray) -> np.ndarray | None:
    """3x3 translation taking `previous` to `current` by phase correlation (OpenCV), the tracked object's
    region replaced by the clip's median `plate` in both; None when the correlation peak is weaker than
    `MIN_PEAK`; none for shifts below `DEAD_BAND_PX` (a still camera's noise must not add up along the
    chain) or that do not explain the background (`_explains`)."""
    a = np.where(excluded, plate, previous.astype(np.float32)).astype(np.float32)
    b = np.where(excluded, plate, current.astype(np.float32)).astype(np.float32)
    (dx, dy), peak = cv2.phaseCorrelate(a, b, window)
    if peak < MIN_PEAK:
        return None
    step = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])
    if math.hypot(dx, dy) < DEAD_BAND_PX or not _explains(a, b, step, excluded):
        return np.eye(3)
    return step


def _explains(previous: np.ndarray, current: np.ndarray, step: np.ndarray, excluded: np.ndarray) -> bool:
    """Whether `step` (3x3, previous -> current) is the camera's: on a `TILES` x `TILES` grid, the tiles
    (off the object, 3 px from the border) whose mean absolute difference it brings below `SHIFT_EXPLAINS`
    of the unmoved one span at least `MIN_SPREAD` of the image's width and height: a camera's motion
    explains the whole background; a second ball, a person or a hand moving on a still background explain
    their own part."""
    a, b = previous.astype(np.float32), current.astype(np.float32)
    H, W = a.shape
    moved = cv2.warpAffine(a, step[:2], (W, H), borderMode=cv2.BORDER_REFLECT)
    margin = int(math.ceil(np.abs(step[:2, 2]).max())) + 3
    valid = np.zeros((H, W), bool)
    valid[margin:H - margin, margin:W - margin] = True
    valid &= ~excluded
    before, after = np.abs(a - b), np.abs(moved - b)
    improved = []
    for i in range(TILES):
        for j in range(TILES):
            ys, xs = slice(i * H // TILES, (i + 1) * H // TILES), slice(j * W // TILES, (j + 1) * W // TILES)
            v = valid[ys, xs]
            if v.sum() < 16:
                continue
            b0, b1 = float(before[ys, xs][v].mean()), float(after[ys, xs][v].mean())
            if b0 > TILE_NOISE and b1 < SHIFT_EXPLAINS * b0:
                improved.append((i, j))
    if not improved:
        return False
    rows, cols = np.array(improved).T
    return bool((np.ptp(rows) + 1) / TILES >= MIN_SPREAD and (np.ptp(cols) + 1) / TILES >= MIN_SPREAD)


def _frame_step(previous: np.ndarray, current: np.ndarray, excluded: np.ndarray, size_wh) -> np.ndarray | None:
    """3x3 similarity taking `previous`'s pixels to `current`'s, or None without a consensus."""
    corners = cv2.goodFeaturesToTrack(previous, MAX_CORNERS, qualityLevel=0.01, minDistance=5,
                                      mask=(~excluded).astype(np.uint8) * 255, blockSize=5)
    if corners is None or len(corners) < MIN_CORNERS:
        return None
    moved, status, _ = cv2.calcOpticalFlowPyrLK(previous, current, corners, None, winSize=(15, 15), maxLevel=3)
    ok = status.ravel() == 1
    if ok.sum() < MIN_CORNERS:
        return None
    M, inliers = cv2.estimateAffinePartial2D(corners[ok], moved[ok], method=cv2.RANSAC, ransacReprojThreshold=1.0)
    if M is None or inliers is None or inliers.ravel().mean() < CONSENSUS:
        return None
    agreeing = corners[ok].reshape(-1, 2)[inliers.ravel().astype(bool)]
    if (np.ptp(agreeing, axis=0) / np.asarray(size_wh, float)).min() < MIN_SPREAD:
        return None
    step = np.vstack([M, [0.0, 0.0, 1.0]])
    moves = np.abs(step - np.eye(3)).max() > 1e-3 or np.abs(M[:, 2]).max() >= DEAD_BAND_PX
    return step if moves and _explains(previous, current, step, excluded) else np.eye(3)


def stabilised(track: ObjectTrack, path: list[np.ndarray]) -> ObjectTrack:
    """`track` with its centroids taken to frame 0's view by the `camera_path` (radius and area by its scale)."""
    import dataclasses

    centroid, radius = track.centroid_px.copy(), track.radius_px.copy()
    area, sigma = track.area_px.copy(), track.sigma_px.copy()
    for k, A in enumerate(path):
        if track.present[k]:
            scale = math.sqrt(abs(np.linalg.det(A[:, :2])))
            centroid[k] = A[:, :2] @ track.centroid_px[k] + A[:, 2]
            radius[k], area[k], sigma[k] = radius[k] * scale, area[k] * scale**2, sigma[k] * scale
    return dataclasses.replace(track, centroid_px=centroid, radius_px=radius, area_px=area, sigma_px=sigma)


def frozen_mask(frames: np.ndarray, centroid_px: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(T,) bool: frames that repeat their predecessor while the object's centroid moves across the repeat
    (an object at rest in a still video repeats legitimately)."""
    still = ~changed(frames, FROZEN_MAX_DIFF)
    out = np.zeros(len(frames), bool)
    for a, b in runs(still):
        before, after = a - 1, b + 1
        while before >= 0 and not present[before]:
            before -= 1
        if before < 0 or after >= len(frames) or not present[after]:
            continue
        if np.hypot(*(centroid_px[after] - centroid_px[before])) > FROZEN_MIN_MOTION_PX:
            out[a:b + 1] = True
    return out


def vanishing_runs(track: ObjectTrack, shape_hw: tuple[int, int]) -> list[tuple[int, int]]:
    """(first, last) frames of gaps inside the track, of >= VANISH_MIN_FRAMES, not next to the image border."""
    present = track.present
    seen = np.flatnonzero(present)
    if len(seen) < 2:
        return []
    h, w = shape_hw
    out = []
    for a, b in runs(~present[seen[0]:seen[-1] + 1]):
        a, b = a + seen[0], b + seen[0]
        if b - a + 1 < VANISH_MIN_FRAMES:
            continue
        x0, y0, x1, y1 = track.bbox_px[a - 1]
        if x0 <= BORDER_MARGIN_PX or y0 <= BORDER_MARGIN_PX or x1 >= w - 1 - BORDER_MARGIN_PX or y1 >= h - 1 - BORDER_MARGIN_PX:
            continue  # it left through the border and came back: not a vanishing
        out.append((int(a), int(b)))
    return out


def consistency_line(report: dict) -> str:
    """One line for the summary, e.g. 'consistency: 0 frozen, camera still (0.08 px), 0 vanishing, 0 spontaneous'."""
    camera = report["camera_motion_px"]
    camera_text = "camera motion unknown" if camera is None else (f"camera still ({camera:.2g} px)" if camera < 1.0
                                                                  else f"camera moves ({camera:.3g} px)")
    moving = f", {report['moving_objects']} moving object{'s' if report['moving_objects'] != 1 else ''}" \
        if "moving_objects" in report else ""
    return (f"consistency: {report['frozen_frames']} frozen, {camera_text}, {len(report['vanishing_events'])} vanishing, "
            f"{len(report['spontaneous_objects'])} spontaneous{moving}")
