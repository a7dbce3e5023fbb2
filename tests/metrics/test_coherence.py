"""Cross-sensor coherence metrics: each against an analytic case (synthetic sensors of a known world, where a
coherent source reads 0 or its declared noise) and a negative control with a known residual (a focal length
1.2 x the declared one, a teleport, a wrong gravity, a late radar)."""

from __future__ import annotations

import doctest

import cv2
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.spatial.transform import Rotation

import realitygap.metrics.coherence as coherence_module
from realitygap.metrics.coherence import (
    METRIC_INFO,
    box_corners_world,
    depth_at_pixels,
    depth_lidar_residuals_m,
    filtered_imu_acceleration,
    gps_noise_rms,
    imu_noise_rms,
    imu_position_residuals,
    mask_centroid_px,
    peano_kernel,
    peano_kernel_integral,
    project_points,
    projected_box_centroid_px,
    projection_residuals_px,
    radial_velocity_residuals,
    savgol_acceleration,
    savgol_weights,
    summarise,
    track_velocity,
)

SIZE_PX = 128
F_PX = 110.0
CAMERA_HEIGHT_M = 1.0
WALL_Y_M = 4.0
G = np.array([0.0, 0.0, -9.81])


def camera(f_px: float = F_PX) -> tuple[np.ndarray, np.ndarray]:
    """K and T_world_camera of a level camera at height 1 m looking along world +y (x right, y down, z forward)."""
    c = (SIZE_PX - 1) / 2
    K = np.array([[f_px, 0, c], [0, f_px, c], [0, 0, 1.0]])
    T = np.eye(4)
    T[:3, :3] = np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])  # columns: camera x, y, z in the world
    T[:3, 3] = [0.0, 0.0, CAMERA_HEIGHT_M]
    return K, T


def render_depth(f_px: float = F_PX) -> np.ndarray:
    """Exact depth image (m along the camera z) of the floor z = 0 and a wall y = 4 m, NaN for the sky."""
    rows = np.arange(SIZE_PX, dtype=float)[:, None] * np.ones((1, SIZE_PX))
    below = rows - (SIZE_PX - 1) / 2
    with np.errstate(divide="ignore"):
        floor = np.where(below > 0, CAMERA_HEIGHT_M * f_px / below, np.inf)
    depth = np.minimum(floor, WALL_Y_M)  # the wall stands on the floor, up to any height
    return depth


def lidar_points(rng: np.random.Generator, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Points on the floor (in view, 1.9-3.5 m ahead) and on the wall: (floor (n, 3), wall (n, 3)) world metres."""
    floor = np.c_[rng.uniform(-0.8, 0.8, n), rng.uniform(1.9, 3.5, n), np.zeros(n)]
    wall = np.c_[rng.uniform(-1.5, 1.5, n), np.full(n, WALL_Y_M), rng.uniform(0.3, 2.5, n)]
    return floor, wall


def test_docstring_examples():
    assert doctest.testmod(coherence_module).failed == 0


def test_project_points_known_point_and_behind_the_camera():
    K, T = camera()
    uv, z = project_points(np.array([[0.5, 2.0, 0.0], [0.0, -1.0, 1.0]]), K, T)
    np.testing.assert_allclose(uv[0], [63.5 + F_PX * 0.25, 63.5 + F_PX * 0.5])
    assert z[0] == pytest.approx(2.0) and np.isnan(uv[1]).all() and z[1] < 0


# --------------------------------------------------------------------------------------------------
# Depth vs LiDAR


def test_depth_lidar_coherent_world_reads_zero():
    """Exact depth, exact points: 0 on both planes (the affine fit of 1/depth is exact on planes); points next
    to the floor-wall crease are not counted."""
    K, T = camera()
    floor, wall = lidar_points(np.random.default_rng(0))
    residual = depth_lidar_residuals_m(render_depth(), np.vstack([floor, wall]), K, T)
    valid = np.isfinite(residual)
    assert valid.mean() > 0.9
    assert np.abs(residual[valid]).max() < 1e-9


def test_depth_lidar_noise_reads_its_declared_level():
    """Points moved along the camera ray by N(0, sigma) in camera z stay on their pixel: median |r| = 0.674 sigma."""
    K, T = camera()
    rng = np.random.default_rng(1)
    floor, wall = lidar_points(rng, 5000)
    points = np.vstack([floor, wall])
    z = project_points(points, K, T)[1]
    moved = T[:3, 3] + (points - T[:3, 3]) * ((z + rng.normal(0, 0.01, len(z))) / z)[:, None]
    summary = summarise(depth_lidar_residuals_m(render_depth(), moved, K, T), 0.03)
    assert summary.median_abs == pytest.approx(0.6745 * 0.01, rel=0.05)
    assert summary.share_within > 0.99


def test_depth_lidar_catches_a_focal_length_1_2x_the_declared():
    """Negative control: the depth image rendered with f' = 1.2 f, points projected with f. A floor point at camera
    depth z lands on the pixel whose floor depth is h f' / (f h / z) = 1.2 z: residual 0.2 z exactly; the wall is
    fronto-parallel, so its points read 0."""
    K, T = camera()
    floor, wall = lidar_points(np.random.default_rng(2))
    floor = floor[floor[:, 1] < 3.0]  # beyond, 1.2 z passes the wall: those pixels see the wall
    depth = render_depth(1.2 * F_PX)
    r_floor = depth_lidar_residuals_m(depth, floor, K, T)
    z_floor = project_points(floor, K, T)[1]
    valid = np.isfinite(r_floor)
    assert valid.mean() > 0.9
    np.testing.assert_allclose(r_floor[valid], 0.2 * z_floor[valid], rtol=1e-9)
    assert summarise(r_floor, 0.03).share_within == 0.0


def test_depth_at_pixels_rejects_edges_and_reads_stacks_in_millimetres():
    depth = np.full((20, 20), 2.0)
    depth[:, 10:] = 3.0  # a step: two surfaces
    uv = np.array([[4.2, 5.0], [9.6, 5.0], [15.0, 7.3], [0.2, 5.0]])
    out = depth_at_pixels(depth, uv)
    assert out[0] == pytest.approx(2.0) and np.isnan(out[1]) and out[2] == pytest.approx(3.0) and np.isnan(out[3])
    stack = np.stack([np.full((20, 20), 1500, np.uint16), (depth * 1000).astype(np.uint16)])
    from_mm = depth_at_pixels(stack, uv, frame=np.array([0, 1, 1, 0]), scale_m=0.001)
    np.testing.assert_allclose(from_mm[[0, 2]], [1.5, 3.0])
    assert np.isnan(from_mm[1])
    holes = depth.copy()
    holes[5, 4] = np.nan  # no surface seen: not a value
    assert np.isnan(depth_at_pixels(holes, uv[:1])[0])


# --------------------------------------------------------------------------------------------------
# Projection


def rasterise_hull(corners_world: np.ndarray, K: np.ndarray, T: np.ndarray, shape=(SIZE_PX, SIZE_PX)) -> np.ndarray:
    """Pixel coverage (H, W) in [0, 1] of the convex hull of the projected corners (an anti-aliased silhouette),
    16 x 16 supersampled: fine pixel i (centre at fine coordinate i for OpenCV) spans pixel edge coordinates
    [i / 16, (i + 1) / 16), so pixel-edge x maps to fine coordinate 16 x - 0.5."""
    uv, _ = project_points(corners_world, K, T)
    fine_xy = ((uv + 0.5) * 16 - 0.5) * 16  # in 1/16 fine pixels (shift=4)
    hull = cv2.convexHull(np.round(fine_xy).astype(np.int32))
    fine = np.zeros((shape[0] * 16, shape[1] * 16), np.uint8)
    cv2.fillConvexPoly(fine, hull, 1, lineType=cv2.LINE_8, shift=4)
    return fine.reshape(shape[0], 16, shape[1], 16).mean(axis=(1, 3))


def door(yaw_deg: float, pitch_deg: float = 0.0) -> np.ndarray:
    """(1, 8, 3) corners of a 0.8 x 0.04 x 1.6 m slab 2.5 m ahead, turned about z and tilted about x."""
    R = Rotation.from_euler("zx", [yaw_deg, pitch_deg], degrees=True).as_matrix()
    return box_corners_world(np.array([[0.4, 2.5, 0.8]]), np.array([[0.8, 0.04, 1.6]]), R[None])


def test_mask_centroid_of_a_disc_and_an_empty_mask():
    rows, cols = np.mgrid[0:40, 0:40]
    disc = (cols - 17) ** 2 + (rows - 22) ** 2 <= 36
    np.testing.assert_allclose(mask_centroid_px(disc), [17.0, 22.0])
    assert np.isnan(mask_centroid_px(np.zeros((4, 4), bool))).all()
    assert mask_centroid_px(np.stack([disc, disc])).shape == (2, 2)


@pytest.mark.parametrize("yaw_deg, pitch_deg", [(0.0, 0.0), (35.0, 0.0), (60.0, 15.0)])
def test_projected_box_centroid_is_where_the_silhouette_is(yaw_deg, pitch_deg):
    """The centroid of the rasterised box (a 1.6 m door at 2.5 m, turned; coverage-weighted, as an anti-aliased
    image or a matted mask gives it) against the projected hull's: < 0.02 px. Thresholded at half coverage, a
    binary mask moves each edge by up to half a pixel (< 0.5 px in the centroid)."""
    K, T = camera()
    corners = door(yaw_deg, pitch_deg)
    coverage = rasterise_hull(corners[0], K, T)
    predicted = projected_box_centroid_px(corners, K, T)
    assert projection_residuals_px(predicted, mask_centroid_px(coverage)[None])[0] < 0.02
    assert projection_residuals_px(predicted, mask_centroid_px(coverage >= 0.5)[None])[0] < 0.5


def test_projection_catches_a_focal_length_1_2x_the_declared():
    """Negative control: the image made with f' = 1.2 f magnifies it 1.2x about the principal point, so the
    silhouette centroid moves to pp + 1.2 (c - pp): residual 0.2 |c - pp|."""
    K, T = camera()
    wide = K.copy()
    wide[0, 0] = wide[1, 1] = 1.2 * F_PX
    corners = door(35.0)
    predicted = projected_box_centroid_px(corners, K, T)[0]
    image = mask_centroid_px(rasterise_hull(corners[0], wide, T))
    residual = projection_residuals_px(predicted, image)
    assert residual == pytest.approx(0.2 * np.linalg.norm(predicted - K[:2, 2]), abs=0.02)
    assert residual > 1.5


def test_box_behind_the_camera_has_no_projection():
    K, T = camera()
    behind = box_corners_world(np.array([[0.0, -2.0, 1.0]]), np.ones((1, 3)), np.eye(3)[None])
    assert np.isnan(projected_box_centroid_px(behind, K, T)).all()


# --------------------------------------------------------------------------------------------------
# IMU vs GPS (the filter, its kernel, the residuals)


def test_savgol_weights_differentiate_quadratics_exactly():
    c = savgol_weights(0.2)
    t = np.arange(-2, 3) * 0.2
    assert c @ t**0 == pytest.approx(0, abs=1e-9) and c @ t == pytest.approx(0, abs=1e-9)
    assert c @ (3 + 2 * t + 1.7 * t**2) == pytest.approx(3.4)
    np.testing.assert_allclose(c * 0.04 * 7, [2, -1, -2, -1, 2])


def test_peano_kernel_identity_and_its_integral():
    """sum_j c_j p(t + j h) = int K(tau) p''(t + tau) dtau for a smooth p; int K = 1; P(b) - P(a) = int_a^b K."""
    h = 0.2
    c = savgol_weights(h)
    p = lambda t: np.sin(3 * t) + 0.3 * t**3  # noqa: E731
    p2 = lambda t: -9 * np.sin(3 * t) + 1.8 * t  # noqa: E731
    t0 = 0.37
    lhs = c @ p(t0 + np.arange(-2, 3) * h)
    rhs = quad(lambda tau: peano_kernel(c, h, tau) * p2(t0 + tau), -0.4, 0.4, points=[-0.2, 0, 0.2], limit=200)[0]
    assert lhs == pytest.approx(rhs, rel=1e-8)
    assert quad(lambda tau: peano_kernel(c, h, tau), -0.5, 0.5, points=[-0.4, -0.2, 0, 0.2, 0.4])[0] == pytest.approx(1.0)
    for a, b in ((-0.45, -0.13), (-0.1, 0.27), (0.05, 0.5)):
        expected = quad(lambda tau: peano_kernel(c, h, tau), a, b, points=[x for x in (-0.4, -0.2, 0, 0.2, 0.4) if a < x < b])[0]
        assert peano_kernel_integral(c, h, b) - peano_kernel_integral(c, h, a) == pytest.approx(expected, abs=1e-12)
    assert peano_kernel(c, h, np.array([-0.41, 0.41])) == pytest.approx([0.0, 0.0])


def body_motion(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Analytic body motion: position (N, 3) m, velocity (N, 3) m/s, world_from_body rotations."""
    position = np.c_[0.5 * np.sin(1.3 * t), 0.3 * t**2 - t, 1 + 0.2 * np.cos(2 * t)]
    velocity = np.c_[0.65 * np.cos(1.3 * t), 0.6 * t - 1, -0.4 * np.sin(2 * t)]
    rotation = Rotation.from_euler("zx", np.c_[0.7 * t, 0.2 * np.sin(t)])
    return position, velocity, rotation


def imu_readings(t_imu: np.ndarray, gravity: np.ndarray = G) -> tuple[np.ndarray, np.ndarray]:
    """Ideal integrating IMU: f_i = R_mid^T ((v_i - v_(i-1)) / dt - g), body frame; (readings, R_mid (N, 3, 3))."""
    _, velocity, _ = body_motion(t_imu)
    mid = np.r_[t_imu[0], t_imu[1:] - np.diff(t_imu) / 2]
    R_mid = body_motion(mid)[2].as_matrix()
    mean_accel = np.vstack([np.zeros(3), np.diff(velocity, axis=0) / np.diff(t_imu)[:, None]])
    return np.einsum("nji,nj->ni", R_mid, mean_accel - gravity), R_mid


def imu_gps(t_gps: np.ndarray, position: np.ndarray, t_imu: np.ndarray, force: np.ndarray, R_mid: np.ndarray,
            gravity: np.ndarray = G):
    return imu_position_residuals(t_gps, position, t_imu, force, R_mid, body_motion(t_gps)[2].as_matrix(), gravity)


def test_imu_gps_coherent_motion_reads_zero():
    """A rotating, accelerating body; exact fixes at 5 Hz, an ideal 200 Hz IMU: the residual is the IMU's
    piecewise-constant acceleration inside the filter only (< 1e-3 m/s^2), on the same clock."""
    t_imu, t_gps = np.arange(0, 4.001, 1 / 200), np.arange(0, 4.001, 1 / 5)
    force, R_mid = imu_readings(t_imu)
    t_k, f_gps, residual = imu_gps(t_gps, body_motion(t_gps)[0], t_imu, force, R_mid)
    assert len(t_k) == len(t_gps) - 4
    assert np.linalg.norm(f_gps, axis=1).min() > 5  # specific force of a body held against gravity
    assert np.abs(residual).max() < 1e-3


def test_imu_gps_noise_reads_the_declared_level():
    """Declared white GPS noise (2 cm, 2 cm, 4 cm) gives RMS sqrt(sum c^2) |sigma| (0.655 m/s^2 at 5 Hz)."""
    rng = np.random.default_rng(4)
    sigma = np.array([0.02, 0.02, 0.04])
    t_imu, t_gps = np.arange(0, 60.001, 1 / 200), np.arange(0, 60.001, 1 / 5)
    force, R_mid = imu_readings(t_imu)
    noisy = body_motion(t_gps)[0] + rng.normal(0, 1, (len(t_gps), 3)) * sigma
    rms = summarise(imu_gps(t_gps, noisy, t_imu, force, R_mid)[2], 1.0).rms
    assert gps_noise_rms(0.2, sigma) == pytest.approx(0.655, abs=0.001)
    assert rms == pytest.approx(gps_noise_rms(0.2, sigma), rel=0.1)


def test_imu_gps_catches_a_teleport():
    """Negative control: the fixes jump 0.3 m along x between t_k0 and t_k0+1 (the IMU feels nothing). A step H
    after offset j0 of a window reads H sum_(j > j0) c_j there: 0.3 x 25 x (2, 1, 1, 2) / 7 m/s^2 at the
    four centres whose window holds the jump, 0 elsewhere."""
    t_imu, t_gps = np.arange(0, 4.001, 1 / 200), np.arange(0, 4.001, 1 / 5)
    force, R_mid = imu_readings(t_imu)
    position = body_motion(t_gps)[0]
    k0 = 10
    position[k0 + 1:, 0] += 0.3
    t_k, _, residual = imu_gps(t_gps, position, t_imu, force, R_mid)
    magnitude = np.linalg.norm(residual, axis=1)
    centres = np.searchsorted(t_gps, t_k)
    c = savgol_weights(0.2)
    expected = np.array([0.3 * abs(c[np.arange(5) - 2 > k0 - k].sum()) for k in centres])
    np.testing.assert_allclose(magnitude, expected, atol=1e-3)
    assert sorted(expected[expected > 1e-9]) == pytest.approx(0.3 * 25 * np.array([1, 1, 2, 2]) / 7)


def test_imu_gps_catches_a_wrong_gravity():
    """Negative control: an IMU of a world with g = 5 m/s^2 compared under 9.81: |residual| = 4.81 at every fix."""
    t_imu, t_gps = np.arange(0, 3.001, 1 / 200), np.arange(0, 3.001, 1 / 5)
    force, R_mid = imu_readings(t_imu, gravity=np.array([0, 0, -5.0]))
    residual = imu_gps(t_gps, body_motion(t_gps)[0], t_imu, force, R_mid, gravity=G)[2]
    np.testing.assert_allclose(np.linalg.norm(residual, axis=1), 4.81, atol=1e-3)


def test_imu_against_a_dense_track_reads_the_imu_noise():
    """A noise-free 1200 Hz track, an IMU with white noise sigma_w / sqrt(dt): RMS = `imu_noise_rms`."""
    rng = np.random.default_rng(6)
    t_imu, t_track = np.arange(0, 20.001, 1 / 200), np.arange(0, 20.001, 1 / 1200)
    force, R_mid = imu_readings(t_imu)
    density = 2e-3
    noisy = force + rng.normal(0, density * np.sqrt(200), force.shape)
    window = 121
    _, _, residual = imu_position_residuals(t_track, body_motion(t_track)[0], t_imu, noisy, R_mid,
                                            body_motion(t_track)[2].as_matrix(), G, window=window, stride=6)
    expected = imu_noise_rms(savgol_weights(1 / 1200, window), 1 / 1200, 1 / 200, density)
    assert summarise(residual, 1.0).rms == pytest.approx(expected, rel=0.1)


def test_filtered_imu_acceleration_of_a_constant_is_the_constant():
    c = savgol_weights(0.2)
    t_imu = np.arange(0, 2.001, 1 / 200)
    accel = filtered_imu_acceleration(np.array([0.6, 1.0, 1.4]), c, 0.2, t_imu, np.tile([0.0, 1.0, 9.81], (len(t_imu), 1)),
                                      np.tile(np.eye(3), (len(t_imu), 1, 1)), G)
    np.testing.assert_allclose(accel, np.tile([0.0, 1.0, 0.0], (3, 1)), atol=1e-12)


def test_savgol_acceleration_needs_a_uniform_clock_and_enough_fixes():
    assert savgol_acceleration(np.arange(4) * 0.2, np.zeros((4, 3)))[0].size == 0
    with pytest.raises(ValueError, match="uniform"):
        savgol_acceleration(np.array([0, 0.2, 0.4, 0.7, 0.8, 1.0]), np.zeros((6, 3)))


# --------------------------------------------------------------------------------------------------
# Radar vs track


def test_radar_coherent_track_reads_zero_and_a_late_radar_reads_its_delay():
    """A target receding from the radar at constant acceleration a: the differentiated track gives v exactly
    (central differences are exact on quadratics); a radar that reports v(t - tau) reads -a tau."""
    origin = np.array([0.0, -2.0, 1.0])
    direction = np.array([0.6, 0.8, 0.0])
    t = np.arange(0, 2.0, 1 / 1200)
    a = 3.0
    track = origin + (2.0 + 0.5 * t**2 * a + 0.4 * t)[:, None] * direction
    velocity = track_velocity(t, track)
    inner = slice(1, -1)
    np.testing.assert_allclose(velocity[inner], ((a * t + 0.4)[:, None] * direction)[inner], atol=1e-9)
    radar = a * t + 0.4
    np.testing.assert_allclose(radial_velocity_residuals(radar[inner], track[inner], velocity[inner], origin), 0, atol=1e-9)
    tau = 0.05
    late = a * (t - tau) + 0.4
    np.testing.assert_allclose(radial_velocity_residuals(late[inner], track[inner], velocity[inner], origin), -a * tau,
                               atol=1e-9)


def test_summarise_statistics():
    s = summarise(np.array([0.1, -0.3, np.nan, 0.2]), 0.25)
    assert (s.median_abs, s.count) == (pytest.approx(0.2), 3)
    assert s.rms == pytest.approx(np.sqrt((0.01 + 0.09 + 0.04) / 3)) and s.share_within == pytest.approx(2 / 3)
    vectors = summarise(np.array([[3.0, 4.0], [0.0, 1.0]]), 2.0)
    assert vectors.median_abs == pytest.approx(3.0) and vectors.share_within == 0.5
    assert summarise(np.array([np.nan]), 1.0).count == 0


def test_metric_info_is_lower_is_better():
    assert all(not info.higher_is_better and info.ideal == 0.0 for info in METRIC_INFO.values())
    assert all(name.startswith("coherence_") for name in METRIC_INFO)
