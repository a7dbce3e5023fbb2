"""Per-frame ground-truth annotations from segmentation: 2D boxes, visible fraction, 3D boxes.

Visible fraction = visible pixels / pixels the instance covers when rendered alone (all other
geoms hidden) by a camera with the same focal length and a 1.5x wider field of view. It thus
counts occlusion by the static scene and truncation by the image border (up to 25 % of the
image size beyond each edge). Occlusion of one instance by another instance is not counted.

The solo render is skipped, and the fraction is exactly 1, when the instance provably is whole:
its 3D box projects inside the image and no other pixel inside that projection is nearer than
the box's farthest corner (an occluder must be nearer than the surface it hides).
"""

from __future__ import annotations

import numpy as np

from realitygap.core.camera import project_points
from realitygap.core.mj import mujoco


def boxes_2d(ids: np.ndarray, n_instances: int) -> tuple[np.ndarray, np.ndarray]:
    """Per instance 1..n: pixel count (n,) and box (n, 4) = x_min, y_min, x_max, y_max (inclusive px), -1 if absent."""
    counts = np.bincount(ids.ravel(), minlength=n_instances + 1)[1 : n_instances + 1]
    boxes = np.full((n_instances, 4), -1, dtype=np.int32)
    for i in np.flatnonzero(counts):
        rows = np.flatnonzero((ids == i + 1).any(axis=1))
        cols = np.flatnonzero((ids == i + 1).any(axis=0))
        boxes[i] = (cols[0], rows[0], cols[-1], rows[-1])
    return counts, boxes


def body_box_local(model: "mujoco.MjModel", body_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned box (centre, size) in the body frame enclosing all of the body's geoms, metres."""
    corners = []
    for g in np.flatnonzero(model.geom_bodyid == body_id):
        centre, half = model.geom_aabb[g, :3], model.geom_aabb[g, 3:]
        signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
        local = centre + signs * half
        R = np.empty(9)
        mujoco.mju_quat2Mat(R, model.geom_quat[g])
        corners.append(local @ R.reshape(3, 3).T + model.geom_pos[g])
    pts = np.vstack(corners)
    low, high = pts.min(axis=0), pts.max(axis=0)
    return (low + high) / 2, high - low


def box_corners(centre_m: np.ndarray, size_m: np.ndarray, R_world_box: np.ndarray) -> np.ndarray:
    """(8, 3) world corners of an oriented box."""
    signs = np.array([[sx, sy, sz] for sx in (-0.5, 0.5) for sy in (-0.5, 0.5) for sz in (-0.5, 0.5)])
    return centre_m + (signs * size_m) @ R_world_box.T


def may_be_hidden(corners_world: np.ndarray, instance: int, ids: np.ndarray, depth_m: np.ndarray,
                  K: np.ndarray, T_world_camera: np.ndarray) -> bool:
    """False only when the instance is certainly whole in the image: then visible fraction = 1."""
    uv, z = project_points(corners_world, K, T_world_camera)
    height, width = ids.shape
    if (z <= 0).any() or (uv < -0.5).any() or (uv[:, 0] > width - 0.5).any() or (uv[:, 1] > height - 0.5).any():
        return True
    c0, r0 = np.floor(uv.min(axis=0)).astype(int).clip(0)
    c1, r1 = np.ceil(uv.max(axis=0)).astype(int)
    region_ids, region_depth = ids[r0 : r1 + 1, c0 : c1 + 1], depth_m[r0 : r1 + 1, c0 : c1 + 1]
    return bool(((region_ids != instance) & (region_depth < z.max())).any())


def projected_region(corners_world: list[np.ndarray], K: np.ndarray, T_world_camera: np.ndarray,
                     width: int, height: int, margin_px: int = 2) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Pixel rows [r0, r1) and cols [c0, c1) covering the projections of all boxes, clipped to the
    image; None when a box reaches behind the camera (then the whole image is needed)."""
    uv, z = project_points(np.vstack(corners_world), K, T_world_camera)
    if (z <= 0).any():
        return None
    c0, r0 = np.floor(uv.min(axis=0)).astype(int) - margin_px
    c1, r1 = np.ceil(uv.max(axis=0)).astype(int) + margin_px + 1
    r0, r1, c0, c1 = max(r0, 0), min(r1, height), max(c0, 0), min(c1, width)
    if r0 >= r1 or c0 >= c1:
        return (0, 1), (0, 1)
    return (int(r0), int(r1)), (int(c0), int(c1))
