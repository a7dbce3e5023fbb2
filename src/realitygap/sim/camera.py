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
