"""Camera calibration in the OpenCV convention (x right, y down, z forward) from MuJoCo cameras.

MuJoCo cameras look down their local -z with +y up: R_cv = R_mj @ diag(1, -1, -1). Pixel
coordinates follow OpenCV: the centre of pixel (col, row) is at (u, v) = (col, row), so the
principal point of a W x H render is ((W - 1) / 2, (H - 1) / 2).
"""

from __future__ import annotations

import math

import numpy as np

MJ_TO_CV = np.diag([1.0, -1.0, -1.0])


def intrinsics_from_fovy(fovy_deg: float, width: int, height: int) -> np.ndarray:
    """3x3 pinhole matrix K (pixels) of a MuJoCo camera with vertical field of view `fovy_deg`."""
    f = 0.5 * height / math.tan(math.radians(fovy_deg) / 2)
    return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


def T_world_camera_from_mujoco(cam_xpos: np.ndarray, cam_xmat: np.ndarray) -> np.ndarray:
    """4x4 pose of the OpenCV camera frame in the world from MuJoCo's camera position and 3x3 frame."""
    T = np.eye(4)
    T[:3, :3] = np.asarray(cam_xmat, float).reshape(3, 3) @ MJ_TO_CV
    T[:3, 3] = np.asarray(cam_xpos, float)
    return T


def world_to_camera(points_world: np.ndarray, T_world_camera: np.ndarray) -> np.ndarray:
    """(N, 3) world points -> (N, 3) points in the camera frame (metres)."""
    R, t = T_world_camera[:3, :3], T_world_camera[:3, 3]
    return (np.asarray(points_world, float) - t) @ R


def project_points(points_world: np.ndarray, K: np.ndarray, T_world_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project (N, 3) world points: returns (N, 2) pixel coordinates (u, v) and (N,) camera-z depth in metres."""
    p_cam = world_to_camera(np.atleast_2d(points_world), T_world_camera)
    z = p_cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = (p_cam[:, :2] / z[:, None]) @ K[:2, :2].T + K[:2, 2]
    return uv, z


def scale_intrinsics(K: np.ndarray, from_wh: tuple[int, int], to_wh: tuple[int, int]) -> np.ndarray:
    """K of an image resized from `from_wh` to `to_wh` pixels (width, height).

    With pixel centres at integer coordinates, u' = (u + 0.5) * s - 0.5 per axis (s = new / old size),
    so f' = f s and c' = (c + 0.5) s - 0.5.
    """
    sx, sy = to_wh[0] / from_wh[0], to_wh[1] / from_wh[1]
    scaled = np.array(K, float)
    scaled[0, 0], scaled[0, 1], scaled[0, 2] = K[0, 0] * sx, K[0, 1] * sx, (K[0, 2] + 0.5) * sx - 0.5
    scaled[1, 1], scaled[1, 2] = K[1, 1] * sy, (K[1, 2] + 0.5) * sy - 0.5
    return scaled
