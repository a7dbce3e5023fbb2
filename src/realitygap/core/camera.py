"""Camera calibration in the OpenCV convention (x right, y down, z forward) from MuJoCo cameras.

MuJoCo cameras look down their local -z with +y up: R_cv = R_mj @ diag(1, -1, -1). Pixel
coordinates follow OpenCV: the centre of pixel (col, row) is at (u, v) = (col, row), so the
principal point of a W x H render is ((W - 1) / 2, (H - 1) / 2).
"""

from __future__ import annotations

import math

import numpy as np

from realitygap.core.rig import CameraConfig

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


def camera_axes(elevation_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(right, up, forward) world unit vectors of a camera looking along +y, tilted down by `elevation_deg`."""
    e = math.radians(elevation_deg)
    return np.array([1.0, 0.0, 0.0]), np.array([0.0, math.sin(e), math.cos(e)]), np.array([0.0, math.cos(e), -math.sin(e)])


def camera_pose_for_bounds(low_m: np.ndarray, high_m: np.ndarray, camera: CameraConfig,
                           elevation_deg: float = 0.0) -> np.ndarray:
    """World position of a camera on the -y side of the motion box, looking along +y (tilted down by
    `elevation_deg`) at the box centre, at the smallest distance at which every corner of the box
    lies inside the field of view shrunk by the framing margin.

    For elevation 0 this is margin * max(half_z / tan(fovy/2), half_x / tan(fovx/2)) + half_y.
    """
    low, high = np.asarray(low_m, float), np.asarray(high_m, float)
    centre = (low + high) / 2
    tan_y = math.tan(math.radians(camera.fovy_deg) / 2) / camera.framing_margin
    tan_x = tan_y * camera.width / camera.height
    right, up, forward = camera_axes(elevation_deg)
    corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])]) - centre
    lateral, vertical, depth = corners @ right, corners @ up, corners @ forward
    # A corner at (lateral, vertical, depth) from the centre is inside when |lateral| <= tan_x (D + depth).
    distance = max(np.max(np.abs(lateral) / tan_x - depth), np.max(np.abs(vertical) / tan_y - depth), 1e-3)
    return centre - distance * forward


def floor_back_projection(K: np.ndarray, T_world_camera: np.ndarray, width: int, height: int
                          ) -> tuple[np.ndarray, np.ndarray]:
    """World points (H, W, 3) where each pixel centre's ray meets the floor z = 0 (NaN where it does
    not, above the horizon) and each pixel's floor area (H, W) in m^2 (from its four corners)."""
    rows, cols = np.mgrid[0:height, 0:width].astype(float)

    def hit(u, v):
        rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1) @ T_world_camera[:3, :3].T
        with np.errstate(divide="ignore", invalid="ignore"):
            reach = -T_world_camera[2, 3] / rays[..., 2]
        points = T_world_camera[:3, 3] + reach[..., None] * rays
        return np.where((rays[..., 2] < 0)[..., None], points, np.nan)

    corners = [hit(cols + du, rows + dv) for du, dv in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5))]
    x, y = np.stack([c[..., 0] for c in corners]), np.stack([c[..., 1] for c in corners])
    area = 0.5 * np.abs(np.sum(x * np.roll(y, -1, axis=0) - np.roll(x, -1, axis=0) * y, axis=0))  # shoelace
    return hit(cols, rows), area
