"""Label accuracy: a source's own labels (masks, 2-D boxes, depth) against the ground truth's, per frame.

Pure numpy on arrays. Boxes are pixel boxes (x_min, y_min, x_max, y_max) with inclusive integer corners,
as the annotations store them (a one-pixel object is (u, v, u, v), area 1); an absent box (the annotations
write -1 everywhere; any negative corner, or x_max < x_min) has area 0.

    mask IoU     |P n G| / |P u G|                          (NaN when both masks are empty)
    box IoU      area(A n B) / (area(A) + area(B) - area(A n B)),  area = (x1 - x0 + 1)(y1 - y0 + 1)
                                                            (NaN when both boxes are absent)
    depth error  over pixels where both depths are valid (finite, > 0):
                 MAE = mean |d - d*|, RMSE = sqrt(mean (d - d*)^2) (the depths' unit), AbsRel = mean |d - d*| / d*

Example:
    >>> import numpy as np
    >>> box_iou(np.array([0, 0, 9, 9]), np.array([5, 0, 14, 9]))  # two 10x10 boxes overlapping by half
    array(0.33333333)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realitygap.metrics.info import MetricInfo

METRIC_INFO: dict[str, MetricInfo] = {info.name: info for info in (
    MetricInfo("label_mask_iou", True, (0.0, 1.0), "1",
               "mean over frames and objects of the IoU of the source's masks with the ground truth's", ideal=1.0),
    MetricInfo("label_box_iou", True, (0.0, 1.0), "1",
               "mean over frames and objects of the IoU of the source's 2-D boxes with the ground truth's", ideal=1.0),
    MetricInfo("label_depth_error_m", False, (0.0, np.inf), "m",
               "mean |source depth - ground-truth depth| over pixels valid in both", ideal=0.0),
    MetricInfo("label_derived_mask_iou", True, (0.0, 1.0), "1",
               "mean IoU of the masks realitygap's tracker derives from the source's pixels", ideal=1.0),
)}
"""Properties of the label rows (measure/coherence.py)."""


@dataclass(frozen=True)
class DepthError:
    """Depth error over the pixels valid in both images: MAE and RMSE in the images' unit, AbsRel, pixel count."""

    mae: float
    rmse: float
    abs_rel: float
    count: int


def mask_iou(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """|P n G| / |P u G| over the last two axes of boolean masks (..., H, W), broadcast over the leading
    axes; NaN where both masks are empty (nothing to be right or wrong about)."""
    p, g = np.asarray(predicted, bool), np.asarray(truth, bool)
    intersection = np.logical_and(p, g).sum(axis=(-2, -1))
    union = np.logical_or(p, g).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, intersection / np.maximum(union, 1), np.nan)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of inclusive pixel boxes (..., 4), broadcast: `box_iou(a[:, None], b[None])` is the (N, M) matrix,
    `box_iou(a, b)` with equal shapes the element-wise IoU. Absent boxes (negative corners, as the
    annotations' -1, or x_max < x_min) have area 0: IoU 0 against a present box, NaN
    against another absent one."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    area_a = _box_area(a)
    area_b = _box_area(b)
    w = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]) + 1
    h = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]) + 1
    intersection = np.where((area_a > 0) & (area_b > 0), np.clip(w, 0, None) * np.clip(h, 0, None), 0.0)
    union = area_a + area_b - intersection
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, intersection / np.where(union > 0, union, 1.0), np.nan)


def depth_error(predicted: np.ndarray, truth: np.ndarray) -> DepthError:
    """MAE, RMSE (in the images' unit, e.g. metres or the stored uint16 millimetres) and AbsRel of `predicted`
    against `truth` (same shape, distance along the camera z) over the pixels where both are finite and > 0
    (0 marks no surface in the stored depth, NaN in metres); NaN (count 0) when there is none. Only the valid
    pixels are converted (to float64): large integer or float32 stacks stay as they are."""
    d, g = np.asarray(predicted), np.asarray(truth)
    if d.shape != g.shape:
        raise ValueError(f"depth images of different shapes: {d.shape} and {g.shape}")
    with np.errstate(invalid="ignore"):
        valid = (d > 0) & (g > 0)
        if d.dtype.kind == "f" or g.dtype.kind == "f":
            valid &= np.isfinite(d) & np.isfinite(g)
    count = int(np.count_nonzero(valid))
    if count == 0:
        return DepthError(np.nan, np.nan, np.nan, 0)
    reference = g[valid]
    if d.dtype.kind in "iu" and g.dtype.kind in "iu":  # exact integer differences (stored millimetres)
        diff = np.abs(d[valid].astype(np.int64) - reference.astype(np.int64))
    else:
        diff = np.abs(d[valid].astype(np.float64) - reference.astype(np.float64))
    return DepthError(float(diff.mean()), float(np.sqrt(np.mean(np.square(diff, dtype=np.float64)))),
                      float(np.mean(diff / reference, dtype=np.float64)), count)


def _box_area(box: np.ndarray) -> np.ndarray:
    w = box[..., 2] - box[..., 0] + 1
    h = box[..., 3] - box[..., 1] + 1
    return np.where((w > 0) & (h > 0) & (box[..., 0] >= 0) & (box[..., 1] >= 0), w * h, 0.0)
