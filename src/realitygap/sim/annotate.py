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

from typing import TYPE_CHECKING

import numpy as np

from realitygap.core.camera import project_points
from realitygap.core.mj import mujoco
from realitygap.sim.rig import INSTANCE_GEOM_GROUP, WIDE_CAMERA_NAME
from realitygap.sim.sensor import SceneInstances, concat_rows

if TYPE_CHECKING:
    from realitygap.sim.render import SceneRenderer

STILL_TOLERANCE = 1e-6
"""Poses (metres, unit quaternions) and instance-geom opacities closer than this to those of the last solo
pass reuse its areas."""


class Annotator:
    """The `annotations` table, one row per frame and instance, from the camera's instance ids and depth.

    The unoccluded area of a possibly hidden instance comes from a solo pass of the wide camera (see
    the module docstring); it is skipped while nothing moved since the last one.
    """

    def __init__(self, model: "mujoco.MjModel", scene: SceneInstances, K: np.ndarray, renderer: "SceneRenderer",
                 wide_size_px: tuple[int, int]):
        self.scene, self.K, self.renderer = scene, K, renderer
        self.model = model
        self.instance_geoms = np.flatnonzero(np.isin(model.geom_bodyid, list(scene.body_ids)))
        self.boxes_local = [body_box_local(model, b) for b in scene.body_ids]
        self.wide_id, self.wide_size_px = model.camera(WIDE_CAMERA_NAME).id, wide_size_px
        self.K_wide = K.copy()
        self.K_wide[:2, 2] = (np.array(wide_size_px) - 1) / 2  # same focal length, centred principal point
        self.solo = mujoco.MjvOption()
        self.solo.geomgroup[:] = 0
        self.solo.geomgroup[INSTANCE_GEOM_GROUP] = 1
        self._solo_cache: tuple[np.ndarray, np.ndarray] | None = None  # (poses, unoccluded pixel counts)
        self._rows: list[dict[str, list]] = []

    def annotate(self, data: "mujoco.MjData", t_s: float, frame: int, ids: np.ndarray, depth_m: np.ndarray,
                 T_world_camera: np.ndarray) -> int:
        """Add the rows of one frame (instance ids and depth of the camera image); returns the renders it took."""
        body_ids = list(self.scene.body_ids)
        corners = [box_corners(data.xpos[b] + data.xmat[b].reshape(3, 3) @ c, size, data.xmat[b].reshape(3, 3))
                   for b, (c, size) in zip(body_ids, self.boxes_local)]
        alone_px, renders = None, 0
        poses = np.concatenate([data.xpos[body_ids].ravel(), data.xquat[body_ids].ravel(), T_world_camera.ravel(),
                                self.model.geom_rgba[self.instance_geoms, 3]])  # a geom made transparent changes areas
        if self._solo_cache is not None and np.abs(poses - self._solo_cache[0]).max() < STILL_TOLERANCE:
            alone_px = self._solo_cache[1]  # nothing moved since the last solo pass: same unoccluded areas
        elif any(may_be_hidden(c, i, ids, depth_m, self.K, T_world_camera) for i, c in enumerate(corners, start=1)):
            alone_px = self._solo_areas(data, corners, T_world_camera)
            self._solo_cache = (poses, alone_px)
            renders = 1
        self._rows.append(annotation_rows(t_s, frame, ids, alone_px, self.scene, self.boxes_local, data, self.K,
                                          T_world_camera))
        return renders

    def _solo_areas(self, data, corners: list[np.ndarray], T_world_camera: np.ndarray) -> np.ndarray:
        """Pixels of each instance rendered alone by the wide camera, (n,)."""
        region = projected_region(corners, self.K_wide, T_world_camera, *self.wide_size_px)
        if region is None:
            wide_geoms, _ = self.renderer.geoms_depth(data, self.wide_id, *self.wide_size_px, option=self.solo,
                                                      want_depth=False)
        else:
            wide_geoms = self.renderer.geoms_region(data, self.wide_id, *self.wide_size_px, *region, option=self.solo)
        wide_ids = self.scene.ids_of_geoms(wide_geoms)
        return np.bincount(wide_ids.ravel(), minlength=len(self.scene.specs) + 1)[1:]

    def table(self) -> dict[str, np.ndarray]:
        return concat_rows(self._rows)


def annotation_rows(t_s: float, frame: int, ids: np.ndarray, alone_px: np.ndarray | None, scene: SceneInstances,
                    boxes_local: list, data: "mujoco.MjData", K: np.ndarray, T_world_camera: np.ndarray
                    ) -> dict[str, list]:
    """Columns of one frame's rows: 2D box and visible fraction from `ids`, projected centre, 3D box (world).
    `alone_px` = None means every instance is provably whole (visible fraction 1)."""
    n = len(scene.specs)
    visible_px, boxes = boxes_2d(ids, n)
    if alone_px is None:
        alone_px = visible_px
    centres = np.array([data.xpos[b] for b in scene.body_ids])
    uv, depth = project_points(centres, K, T_world_camera)
    cols: dict[str, list] = {}
    for i, (inst, b) in enumerate(zip(scene.specs, scene.body_ids)):
        R = data.xmat[b].reshape(3, 3)
        centre_local, size = boxes_local[i]
        values = {
            "t_s": t_s, "frame": frame, "instance_id": i + 1, "name": inst.name, "class": inst.class_name,
            "visible_px": int(visible_px[i]),
            "visible_fraction": float(min(1.0, visible_px[i] / alone_px[i])) if alone_px[i] else 0.0,
            "bbox_x_min_px": int(boxes[i, 0]), "bbox_y_min_px": int(boxes[i, 1]),
            "bbox_x_max_px": int(boxes[i, 2]), "bbox_y_max_px": int(boxes[i, 3]),
            "centre_u_px": float(uv[i, 0]), "centre_v_px": float(uv[i, 1]), "centre_depth_m": float(depth[i]),
            **{f"box3d_centre_{a}_m": v for a, v in zip("xyz", data.xpos[b] + R @ centre_local)},
            **{f"box3d_size_{a}_m": v for a, v in zip("xyz", size)},
            **{f"box3d_quaternion_{a}": v for a, v in zip("wxyz", data.xquat[b])},
        }
        for k, v in values.items():
            cols.setdefault(k, []).append(v)
    return cols


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
