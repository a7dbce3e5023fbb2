"""Consistency of any clip, with no twin behind it: the checks the episode path has, on the clip alone.

- frozen frames: frames identical to their predecessor (max difference <= `integrity.FROZEN_MAX_DIFF`
  levels) while the tracked object is displaced across them (its centroid before and after the repeat
  differs by more than `FROZEN_MIN_MOTION_PX`): the object moved, the video did not;
- camera motion: frame 0's background corners (Shi-Tomasi, away from the tracked object's box grown by 2
  px, `measure.pipeline.tracked_object_masks`) followed to each frame with pyramidal Lucas-Kanade; a
  similarity transform fitted with RANSAC (1 px) is the camera's motion when at least half of the followed
  corners agree with it and they span at least 40 % of the image's width and height (a camera moves the
  whole background; a hand or a person moves a part); the statistic is the largest median displacement of
  the agreeing corners. Where fewer than half the examined frames give such a consensus, the camera motion
  is unknown (reported as such, not as a number);
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
from realitygap.measure.pipeline import tracked_object_masks
from realitygap.measure.spontaneous import find_spontaneous_objects
from realitygap.measure.tracking import ObjectTrack

FROZEN_MIN_MOTION_PX = 1.0
CONSENSUS = 0.5
"""Least share of the followed background corners that must agree on one similarity transform."""
MIN_SPREAD = 0.4
"""... and the agreeing corners must span at least this fraction of the image's width and height."""
VANISH_MIN_FRAMES = 2
BORDER_MARGIN_PX = 2


def clip_consistency(frames: np.ndarray, track: ObjectTrack) -> dict:
    """The checks of the module docstring on the frames the object was tracked in (pixels of those frames)."""
    present = track.present
    masks = tracked_object_masks([track], frames.shape)
    camera_px = camera_motion_consensus_px(frames, masks, stride=max(1, len(frames) // 60))
    spontaneous = find_spontaneous_objects(frames, [track])
    return {
        "frozen_frames": frozen_in_motion(frames, track.centroid_px, present),
        "camera_motion_px": None if not math.isfinite(camera_px) else round(camera_px, 3),
        "vanishing_events": [{"first_frame": a, "last_frame": b} for a, b in vanishing_runs(track, frames.shape[1:3])],
        "spontaneous_objects": [{"first_frame": e.start_frame, "last_frame": e.end_frame, "kind": e.kind,
                                 "centroid_px": [round(float(c), 1) for c in e.centroid_px]} for e in spontaneous],
    }


def camera_motion_consensus_px(frames: np.ndarray, object_masks: np.ndarray, stride: int = 1) -> float:
    """Largest camera displacement (px) over the examined frames, NaN where it cannot be told (see the module
    docstring)."""
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])
    excluded = cv2.dilate(object_masks[0].astype(np.uint8), np.ones((11, 11), np.uint8)) > 0
    corners = cv2.goodFeaturesToTrack(gray[0], MAX_CORNERS, qualityLevel=0.01, minDistance=5,
                                      mask=(~excluded).astype(np.uint8) * 255, blockSize=5)
    if corners is None or len(corners) < MIN_CORNERS:
        return math.nan
    examined, agreed, worst = 0, 0, 0.0
    for k in range(stride, len(gray), stride):
        examined += 1
        moved, status, _ = cv2.calcOpticalFlowPyrLK(gray[0], gray[k], corners, None, winSize=(15, 15), maxLevel=2)
        ok = status.ravel() == 1
        if ok.sum() < MIN_CORNERS:
            continue
        _, inliers = cv2.estimateAffinePartial2D(corners[ok], moved[ok], method=cv2.RANSAC, ransacReprojThreshold=1.0)
        if inliers is None or inliers.ravel().mean() < CONSENSUS:
            continue
        agreeing = inliers.ravel().astype(bool)
        spread = np.ptp(corners[ok].reshape(-1, 2)[agreeing], axis=0) / [gray.shape[2], gray.shape[1]]
        if spread.min() < MIN_SPREAD:  # one moving thing (a hand, a person), not the whole background
            continue
        shift = np.linalg.norm(moved[ok].reshape(-1, 2)[agreeing] - corners[ok].reshape(-1, 2)[agreeing], axis=1)
        worst, agreed = max(worst, float(np.median(shift))), agreed + 1
    return worst if examined and agreed >= examined / 2 else math.nan


def frozen_in_motion(frames: np.ndarray, centroid_px: np.ndarray, present: np.ndarray) -> int:
    """Frames that repeat their predecessor while the object's centroid moves across the repeat."""
    return int(frozen_mask(frames, centroid_px, present).sum())


def frozen_mask(frames: np.ndarray, centroid_px: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(T,) bool: the frames of `frozen_in_motion` (an object at rest in a still video repeats legitimately)."""
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
    return (f"consistency: {report['frozen_frames']} frozen, {camera_text}, {len(report['vanishing_events'])} vanishing, "
            f"{len(report['spontaneous_objects'])} spontaneous")
