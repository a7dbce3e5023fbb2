"""Camera, depth and LiDAR calibration against ground truth (issue 3 acceptance)."""

import numpy as np
import pytest

from realitygap.core.camera import T_world_camera_from_mujoco, intrinsics_from_fovy, project_points
from realitygap.sim.lidar import points_from_ranges
from tests.helpers import assert_whole_in_every_frame


def test_projection_of_a_known_point():
    # Camera at the origin looking along world +y (MuJoCo xyaxes "1 0 0 0 0 1").
    R_mj = np.column_stack([[1, 0, 0], [0, 0, 1], [0, -1, 0]])  # columns: MuJoCo camera x, y, z in world
    T = T_world_camera_from_mujoco(np.zeros(3), R_mj)
    K = intrinsics_from_fovy(90.0, 201, 101)  # f = 50.5 px, principal point (100, 50)
    uv, z = project_points(np.array([[0, 2, 0], [1, 2, 0], [0, 2, 1]]), K, T)
    assert z == pytest.approx([2, 2, 2])
    assert uv[0] == pytest.approx([100, 50])
    assert uv[1] == pytest.approx([100 + 50.5 / 2, 50])  # world +x is image right
    assert uv[2] == pytest.approx([100, 50 - 50.5 / 2])  # world +z (up) is image up


def _frames_with_ball_whole(episode):
    ann = episode.tables["annotations"]
    return [int(f) for f, vis, px in zip(ann["frame"], ann["visible_fraction"], ann["visible_px"]) if vis == 1.0 and px > 30]


def _ball_centres_at_frames(episode, frames):
    state = episode.tables["state"]
    fps = episode.meta.rates_hz["camera"]
    rows = [int(np.argmin(np.abs(state["t_s"] - f / fps))) for f in frames]
    assert np.allclose(state["t_s"][rows], np.array(frames) / fps, atol=1e-9)
    return np.stack([state[f"position_{a}_m"][rows] for a in "xyz"], axis=1)


@pytest.mark.parametrize("fixture", ["drop_episode", "bounce_episode"])
def test_projected_centre_within_one_pixel_of_mask_centroid(fixture, request):
    episode = request.getfixturevalue(fixture)
    frames = _frames_with_ball_whole(episode)
    assert len(frames) > 20
    centres = _ball_centres_at_frames(episode, frames)
    uv, _ = project_points(centres, episode.K, episode.T_world_camera)
    for frame, (u, v) in zip(frames, uv):
        rows, cols = np.nonzero(episode.videos["segmentation"][frame] == 1)
        assert abs(cols.mean() - u) < 1.0 and abs(rows.mean() - v) < 1.0, f"frame {frame}"


@pytest.mark.parametrize("fixture", ["drop_episode", "bounce_episode"])
def test_depth_at_projected_centre_is_distance_to_near_surface(fixture, request):
    episode = request.getfixturevalue(fixture)
    radius = episode.meta.context.params["radius_m"]
    frames = _frames_with_ball_whole(episode)
    centres = _ball_centres_at_frames(episode, frames)
    uv, z_centre = project_points(centres, episode.K, episode.T_world_camera)
    depth = episode.depth_m()
    cam_pos = episode.T_world_camera[:3, 3]
    for frame, (u, v), centre, zc in zip(frames, uv, centres, z_centre):
        distance = np.linalg.norm(centre - cam_pos)
        expected = (distance - radius) * zc / distance  # camera-z of the first surface on the ray through the centre
        measured = depth[frame, int(round(v)), int(round(u))]
        assert abs(measured - expected) < 0.01, f"frame {frame}: {measured:.4f} vs {expected:.4f} m"


def test_lidar_returns_on_ball_agree_within_declared_noise(drop_episode):
    lidar = drop_episode.tables["lidar"]
    sigma = drop_episode.meta.context.rig.lidar.range_noise_std_m
    radius = drop_episode.meta.context.params["radius_m"]
    T = np.array(drop_episode.meta.calibration.lidar.T_world_lidar)
    on_ball = lidar["instance_id"] == 1
    assert on_ball.sum() > 50
    pts_lidar = points_from_ranges(lidar["range_m"][on_ball], lidar["elevation_rad"][on_ball], lidar["azimuth_rad"][on_ball])
    pts_world = pts_lidar @ T[:3, :3].T + T[:3, 3]
    state = drop_episode.tables["state"]
    t = lidar["t_s"][on_ball]
    centres = np.stack([np.interp(t, state["t_s"], state[f"position_{a}_m"]) for a in "xyz"], axis=1)
    # Residual along the ray: a range error moves the point along the ray, whose angle to the
    # surface normal is small on the visible side of the sphere.
    residual = np.linalg.norm(pts_world - centres, axis=1) - radius
    assert np.all(np.abs(residual) < 5 * sigma)
    assert abs(np.mean(residual)) < 3 * sigma / np.sqrt(on_ball.sum()) + 1e-3
    assert 0.6 * sigma < np.std(residual) < 1.4 * sigma


def test_intrinsics_extrinsics_stored(drop_episode):
    cam = drop_episode.meta.calibration.camera
    assert (cam.width_px, cam.height_px) == (256, 256)
    assert cam.cx_px == pytest.approx(127.5) and cam.fx_px == pytest.approx(128 / np.tan(np.radians(22.5)))
    T = drop_episode.T_world_camera
    assert np.allclose(T[:3, :3].T @ T[:3, :3], np.eye(3), atol=1e-9)
    assert T[:3, 2] == pytest.approx([0, 1, 0], abs=1e-9)  # optical axis looks along world +y


@pytest.mark.parametrize("elevation_deg", [0.0, 35.0])
def test_tilted_camera_frames_the_motion_and_stays_calibrated(tmp_path, elevation_deg):
    from realitygap.core.rig import CameraConfig, RigConfig
    from realitygap.episode.io import read_episode
    from realitygap.episode.types import Context
    from realitygap.scenarios import get_scenario
    from realitygap.sim.runner import simulate_episode

    spec = get_scenario("drop")
    tilted = type(spec)(camera_elevation_deg=elevation_deg)
    params = spec.resolve_params({"height_m": 1.5})
    rig = RigConfig(sensors=("segmentation",), camera=CameraConfig(width=96, height=96))
    simulate_episode(Context(scenario="drop", params=params, seed=0, rig=rig), tilted, tmp_path / "ep")
    episode = read_episode(tmp_path / "ep")
    T = episode.T_world_camera
    assert T[:3, 2] == pytest.approx([0, np.cos(np.radians(elevation_deg)), -np.sin(np.radians(elevation_deg))], abs=1e-6)
    assert_whole_in_every_frame(episode, min_visible_px=None)
    ann = episode.tables["annotations"]
    frames = [f for f in range(len(ann["frame"])) if ann["visible_px"][f] > 30]
    centres = _ball_centres_at_frames(episode, frames)
    uv, _ = project_points(centres, episode.K, T)
    for frame, (u, v) in zip(frames, uv):
        rows, cols = np.nonzero(episode.videos["segmentation"][frame] == 1)
        assert abs(cols.mean() - u) < 1.0 and abs(rows.mean() - v) < 1.0
