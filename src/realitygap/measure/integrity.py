"""Is the video itself sound? Frozen frames and camera motion, measured from pixels.

- `frozen_frames`: frames identical to their predecessor (max channel difference <= 2 levels, which
  lets a re-encoded duplicate through) while the ground-truth video of the same context changes
  there (> 10 levels somewhere): the world moved, the video did not. A still scene is not frozen.
- `camera_motion_px`: how far the static background moves in the image. Corners of frame 0's
  background (Shi-Tomasi) are followed to every frame with pyramidal Lucas-Kanade, starting from
  frame 0 each time (no drift); per frame the median displacement of the followed corners away from
  every object; the statistic is the largest per-frame median (px). A tripod camera reads < 0.1 px.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

FROZEN_MAX_DIFF = 2
MOVING_MIN_DIFF = 10
MAX_CORNERS = 200
MIN_CORNERS = 8


def changed(frames: np.ndarray, threshold: int) -> np.ndarray:
    """(T,) bool: frame k differs from frame k-1 by more than `threshold` levels in some pixel/channel
    (frame 0: False)."""
    out = np.zeros(len(frames), bool)
    for k in range(1, len(frames)):
        out[k] = int(cv2.absdiff(frames[k], frames[k - 1]).max()) > threshold
    return out


def frozen_frames(rgb: np.ndarray, reference_rgb: np.ndarray) -> int:
    """Number of frames of `rgb` (T, H, W, 3) that repeat their predecessor where `reference_rgb` (the
    ground truth at the same frame times, any size) changes."""
    still = ~changed(rgb, FROZEN_MAX_DIFF)
    moving = changed(reference_rgb, MOVING_MIN_DIFF)
    return int(np.sum(still[1:] & moving[1:]))


def camera_motion_px(rgb: np.ndarray, object_masks: np.ndarray, stride: int = 1) -> float:
    """Largest per-frame median displacement (px) of frame 0's background corners; NaN when frame 0 has
    fewer than 8 trackable corners away from the objects. `object_masks` (T, H, W) bool marks objects
    (excluded, grown by 5 px); every `stride`-th frame is examined."""
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in rgb])
    grow = np.ones((11, 11), np.uint8)
    masks = np.stack([cv2.dilate(m.astype(np.uint8), grow) > 0 for m in object_masks])
    corners = cv2.goodFeaturesToTrack(gray[0], MAX_CORNERS, qualityLevel=0.01, minDistance=5,
                                      mask=(~masks[0]).astype(np.uint8) * 255, blockSize=5)
    if corners is None or len(corners) < MIN_CORNERS:
        return math.nan
    start = corners.astype(np.float32)
    guess = start.copy()
    worst = 0.0
    h, w = gray.shape[1:]
    for k in range(stride, len(gray), stride):
        moved, status, _ = cv2.calcOpticalFlowPyrLK(gray[0], gray[k], start, guess.copy(), winSize=(15, 15), maxLevel=2,
                                                    flags=cv2.OPTFLOW_USE_INITIAL_FLOW,
                                                    criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))
        ok = status.ravel() == 1
        xy = moved.reshape(-1, 2)
        col, row = np.clip(np.rint(xy[:, 0]).astype(int), 0, w - 1), np.clip(np.rint(xy[:, 1]).astype(int), 0, h - 1)
        ok &= ~masks[k][row, col]
        if ok.sum() < MIN_CORNERS:
            continue
        shift = np.linalg.norm(xy[ok] - start.reshape(-1, 2)[ok], axis=1)
        worst = max(worst, float(np.median(shift)))
        guess = moved
    return worst
