"""Model-based reading of a rigid box's image-mask centroid (for `position_from_pixels`).

The image of a convex body is the convex hull of its projected vertices, so the mask centroid of a
box is the area centroid of the hull of its 8 projected corners: a smooth function of the box's
pose. For a pose with one free coordinate (a box sliding along x, a door turning about its hinge)
the coordinate is recovered from each centroid by a grid match refined with a bounded scalar search;
its uncertainty is sigma_px / |d centroid / d coordinate|.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np
from scipy.optimize import minimize_scalar

from realitygap.core.camera import project_points


def hull_centroid_px(points_world: np.ndarray, K: np.ndarray, T_world_camera: np.ndarray) -> np.ndarray:
    """(u, v) area centroid of the convex hull of the projected points."""
    uv, _ = project_points(np.asarray(points_world, float), K, T_world_camera)
    moments = cv2.moments(cv2.convexHull(uv.astype(np.float32)))
    return np.array([moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]])


def box_corners_m(low_m, high_m) -> np.ndarray:
    """(8, 3) corners of the axis-aligned box [low, high]."""
    (x0, y0, z0), (x1, y1, z1) = low_m, high_m
    return np.array([[x, y, z] for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)], float)


def invert_centroids(model: Callable[[float], np.ndarray], grid: np.ndarray, centroid_px: np.ndarray,
                     sigma_px) -> tuple[np.ndarray, np.ndarray]:
    """Per centroid (N, 2) px (NaN rows skipped): the coordinate whose modelled centroid is nearest,
    and its one-sigma uncertainty from `sigma_px` (scalar or (N,))."""
    table = np.array([model(value) for value in grid])
    centroid_px = np.asarray(centroid_px, float)
    sigma_px = np.broadcast_to(np.asarray(sigma_px, float), (len(centroid_px),))
    step = float(grid[1] - grid[0])
    value = np.full(len(centroid_px), np.nan)
    sigma = np.full(len(centroid_px), np.nan)
    for i, uv in enumerate(centroid_px):
        if not np.all(np.isfinite(uv)):
            continue
        k = int(np.argmin(np.sum((table - uv) ** 2, axis=1)))
        lo, hi = grid[max(k - 2, 0)], grid[min(k + 2, len(grid) - 1)]
        best = minimize_scalar(lambda c, uv=uv: float(np.sum((model(c) - uv) ** 2)), bounds=(lo, hi), method="bounded",
                               options={"xatol": 1e-4 * step})
        value[i] = best.x
        h = 0.05 * step
        slope = np.linalg.norm(model(best.x + h) - model(best.x - h)) / (2 * h)
        sigma[i] = sigma_px[i] / max(slope, 1e-12)
    return value, sigma
