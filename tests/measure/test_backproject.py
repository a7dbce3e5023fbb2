"""Back-projection from pixels to world metres.

References: projecting known 3D points with `realitygap.core.camera.project_points` and back-projecting
them recovers the points (1e-9 m); the propagated uncertainty matches a seeded Monte Carlo (3 %); the
sphere formulas match a densely sampled analytic silhouette (the projected contour circle of the sphere);
the apparent-size depth of a sphere rendered by MuJoCo (256x256 segmentation) is within 1 % of its
true distance (what is left is mostly MuJoCo's sphere tessellation, ~0.4 %).
"""

import math

import numpy as np
import pytest

from realitygap.core.camera import camera_axes, intrinsics_from_fovy, project_points
from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.episode.io import read_episode
from realitygap.measure.backproject import (
    MeasuredTrack,
    backproject_sphere_by_size,
    backproject_to_plane,
    backproject_track,
    ground_plane,
)
from realitygap.scenarios.base import body_column
from tests.helpers import simulate_to

K = intrinsics_from_fovy(45.0, 256, 256)


def camera_pose(position_m, elevation_deg: float) -> np.ndarray:
    """OpenCV pose of a camera looking along +y, tilted down by `elevation_deg` (as the rig mounts it)."""
    right, up, forward = camera_axes(elevation_deg)
    T = np.eye(4)
    T[:3, :3] = np.stack([right, -up, forward], axis=1)
    T[:3, 3] = position_m
    return T


CAMERAS = {
    "level": camera_pose([0.0, -2.0, 0.6], 0.0),
    "tilted15": camera_pose([0.4, -2.7, 1.7], 15.0),
    "tilted30": camera_pose([0.0, -2.0, 1.5], 30.0),
}
PLANES = {
    "x-z": (np.zeros(3), np.array([0.0, 1.0, 0.0])),
    "horizontal": ground_plane(0.9),
    "oblique": (np.array([0.1, 0.2, 0.5]), np.array([0.3, 0.8, 0.52]) / np.linalg.norm([0.3, 0.8, 0.52])),
}


def points_on_plane(point, normal, rng: np.random.Generator, n: int = 200, half_m: float = 0.6) -> np.ndarray:
    a = np.cross(normal, [0.0, 0.0, 1.0] if abs(normal[2]) < 0.9 else [1.0, 0.0, 0.0])
    a /= np.linalg.norm(a)
    b = np.cross(normal, a)
    s, t = rng.uniform(-half_m, half_m, (2, n))
    return point + s[:, None] * a + t[:, None] * b


@pytest.mark.parametrize("camera", CAMERAS)
@pytest.mark.parametrize("plane", PLANES)
def test_projected_points_are_recovered_within_a_nanometre(camera, plane):
    T = CAMERAS[camera]
    point, normal = PLANES[plane]
    points = points_on_plane(point, normal, np.random.default_rng(0))
    uv, depth = project_points(points, K, T)
    seen = (depth > 0.1) & np.all((uv > -0.5) & (uv < 255.5), axis=1)
    assert seen.sum() > 20
    position, sigma = backproject_to_plane(uv[seen], K, T, point, normal, sigma_px=0.3)
    assert np.max(np.abs(position - points[seen])) < 1e-9
    assert np.all(np.isfinite(sigma)) and np.all(sigma >= 0)


@pytest.mark.parametrize("camera, plane", [("level", "x-z"), ("tilted15", "horizontal"), ("tilted30", "oblique")])
def test_propagated_uncertainty_matches_monte_carlo(camera, plane):
    T = CAMERAS[camera]
    point, normal = PLANES[plane]
    rng = np.random.default_rng(1)
    target = points_on_plane(point, normal, rng, n=1, half_m=0.2)
    uv, _ = project_points(target, K, T)
    draws = uv + rng.normal(0.0, 0.3, (20000, 2))
    position, _ = backproject_to_plane(draws, K, T, point, normal)
    _, sigma = backproject_to_plane(uv, K, T, point, normal, sigma_px=0.3)
    empirical = position.std(axis=0)
    moving = sigma[0] > 1e-6  # an axis along the normal of an axis-aligned plane does not move
    assert empirical[moving] == pytest.approx(sigma[0][moving], rel=0.03)
    assert np.all(empirical[~moving] < 1e-9)


def test_absent_pixels_rays_parallel_to_the_plane_and_points_behind_the_camera_are_nan():
    T = CAMERAS["level"]
    uv = np.array([[np.nan, np.nan], [127.5, 127.5], [127.5, 10.0]])
    position, sigma = backproject_to_plane(uv, K, T, *ground_plane(0.6), sigma_px=0.3)  # centre ray: parallel
    assert np.all(np.isnan(position[:2])) and np.all(np.isnan(sigma[:2]))
    assert np.all(np.isnan(position[2]))  # looks up at z = 0.6 from z = 0.6: meets it behind the camera


def sphere_silhouette(centre_m: np.ndarray, radius_m: float, T: np.ndarray, n: int = 4000) -> tuple[np.ndarray, float]:
    """Area centroid (u, v) and equivalent radius sqrt(area / pi) of the image of a sphere, from its
    projected contour circle (the points where lines of sight touch the sphere), sampled at n points."""
    eye = T[:3, 3]
    towards = (eye - centre_m) / np.linalg.norm(eye - centre_m)
    distance = np.linalg.norm(eye - centre_m)
    circle_centre = centre_m + radius_m**2 / distance * towards
    circle_radius = radius_m * math.sqrt(1 - radius_m**2 / distance**2)
    a = np.cross(towards, [0.0, 0.0, 1.0])
    a /= np.linalg.norm(a)
    b = np.cross(towards, a)
    angles = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    contour = circle_centre + circle_radius * (np.cos(angles)[:, None] * a + np.sin(angles)[:, None] * b)
    uv, _ = project_points(contour, K, T)
    u, v = uv[:, 0], uv[:, 1]
    u1, v1 = np.roll(u, -1), np.roll(v, -1)
    cross = u * v1 - u1 * v
    area = cross.sum() / 2
    centroid = np.array([((u + u1) * cross).sum(), ((v + v1) * cross).sum()]) / (6 * area)
    return centroid, math.sqrt(abs(area) / math.pi)


SPHERES = [np.array([0.5, 0.0, 1.2]), np.array([-0.6, 0.0, -0.1]), np.array([0.0, 0.0, 0.6]), np.array([0.7, 0.0, 1.3])]


@pytest.mark.parametrize("centre", SPHERES, ids=lambda c: f"x{c[0]}-z{c[2]}")
def test_sphere_centre_and_depth_from_its_analytic_silhouette(centre):
    T, radius = CAMERAS["level"], 0.15
    centroid, equivalent_radius_px = sphere_silhouette(centre, radius, T)
    plane = PLANES["x-z"]
    corrected, _ = backproject_to_plane(centroid[None], K, T, *plane, sphere_radius_m=radius)
    assert np.max(np.abs(corrected[0] - centre)) < 1e-8
    naive, _ = backproject_to_plane(centroid[None], K, T, *plane)
    if np.linalg.norm(centre[[0, 2]] - T[[0, 2], 3]) > 0.2:  # off axis the mask centroid is not the centre
        assert np.max(np.abs(naive[0] - centre)) > 1e-3
    by_size, sigma = backproject_sphere_by_size(centroid[None], np.array([equivalent_radius_px]), K, T, radius,
                                                sigma_px=0.3)
    # the n-gon loses (2 pi / n)^2 / 6 = 4e-7 of the area: 2e-7 of the radius, hence of the distance
    assert np.linalg.norm(by_size[0] - centre) < 1e-6 * np.linalg.norm(centre - T[:3, 3])
    assert sigma[0, 1] > sigma[0, 0]  # depth (world y, along the view) is the uncertain direction


def test_apparent_size_depth_of_a_rendered_sphere_within_one_percent(tmp_path):
    radius = 0.12
    rig = RigConfig(sensors=("segmentation",), camera=CameraConfig(width=256, height=256, fps=30))
    episode = read_episode(simulate_to(tmp_path, "drop", {"height_m": 1.0, "radius_m": radius}, rig=rig))
    masks = episode.videos["segmentation"] == 1
    state = episode.tables["state"]
    t_state = body_column(state, "ball", "t_s")
    index = np.searchsorted(t_state, np.round(episode.video_t_s["segmentation"] * 30) / 30 - 1e-9)
    truth = np.stack([body_column(state, "ball", f"position_{a}_m")[index] for a in "xyz"], axis=1)
    area = masks.sum(axis=(1, 2))
    rows, cols = np.indices(masks.shape[1:])
    centroid = np.stack([(masks * cols).sum(axis=(1, 2)), (masks * rows).sum(axis=(1, 2))], axis=1) / area[:, None]
    present = area > 0
    uv = np.where(present[:, None], centroid, np.nan)
    radius_px = np.where(present, np.sqrt(area / np.pi), np.nan)
    position, _ = backproject_sphere_by_size(uv, radius_px, episode.K, episode.T_world_camera, radius, sigma_px=0.3)
    eye = episode.T_world_camera[:3, 3]
    error = np.linalg.norm(position - eye, axis=1) / np.linalg.norm(truth - eye, axis=1) - 1
    assert np.max(np.abs(error)) < 0.01, error


def test_backproject_track_marks_absent_frames_nan():
    T = CAMERAS["level"]
    points = np.array([[0.1, 0.0, 0.5], [0.2, 0.0, 0.6], [0.3, 0.0, 0.7]])
    uv, _ = project_points(points, K, T)
    present = np.array([True, False, True])
    track = backproject_track("ball", np.array([0.0, 0.1, 0.2]), present, uv, 0.3, K, T, PLANES["x-z"])
    assert np.allclose(track.position_m[present], points[present], atol=1e-9)
    assert np.all(np.isnan(track.position_m[1])) and list(track.valid) == [True, False, True]
    with pytest.raises(ValueError):
        MeasuredTrack("ball", np.zeros(3), np.ones(2, bool), np.zeros((3, 3)), np.zeros((3, 3)))
