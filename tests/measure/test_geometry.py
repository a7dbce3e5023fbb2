"""Geometric consistency of the static scene (realitygap.measure.geometry).

Validated on a synthetic textured world rendered by ray casting (a floor plane and a back wall seen
through a pinhole camera), so every camera motion below is a true 3-D motion with known geometry:
- a steady camera, a translating/turning camera and a per-frame rotational shake are pinhole views
  of one rigid world and must score ~1;
- the negative control of the issue, "random per-frame camera shake lowers geometric consistency
  below that of the steady camera", is the shake a generative model produces: on top of the
  rotational shake, every frame gets its own smooth random non-rigid warp (the static scene
  "breathes"); it must score clearly lower;
- frames that are unrelated images score lowest (no pair can be verified).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realitygap.measure.geometry import (
    epipolar_distance_px,
    epipolar_inliers,
    frame_pairs,
    geometric_consistency,
    ratio_test_matches,
    sift_features,
    transfer_distance_px,
)

SIZE_PX = 256
N_FRAMES = 16
GAP = 5  # pairs (0, 5), (5, 10), (10, 15): four SIFT frames per video
FLOOR_Y_M = 1.0  # camera height above the floor (camera frame: x right, y down, z forward)
WALL_Z_M = 6.0
TEXTURE_EXTENT_M = 12.0


def _texture(rng: np.random.Generator, size_px: int = 512) -> np.ndarray:
    """Non-repetitive grey texture: white noise blurred at three scales (sigma 1.5, 4, 12 texels)."""
    total = np.zeros((size_px, size_px), np.float32)
    for sigma in (1.5, 4.0, 12.0):
        layer = cv2.GaussianBlur(rng.standard_normal((size_px, size_px)).astype(np.float32), (0, 0), sigma)
        total += layer / layer.std()
    return (255 * (total - total.min()) / (total.max() - total.min())).astype(np.uint8)


def _intrinsics(fovy_deg: float = 60.0) -> np.ndarray:
    f = 0.5 * SIZE_PX / np.tan(np.radians(fovy_deg) / 2)
    return np.array([[f, 0.0, (SIZE_PX - 1) / 2], [0.0, f, (SIZE_PX - 1) / 2], [0.0, 0.0, 1.0]])


def _rotation(rotvec_rad) -> np.ndarray:
    return cv2.Rodrigues(np.asarray(rotvec_rad, float))[0]


def _render(floor: np.ndarray, wall: np.ndarray, R_world_camera: np.ndarray, centre_m: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 view of the floor (y = FLOOR_Y_M) and wall (z = WALL_Z_M) by ray casting."""
    v, u = np.mgrid[0:SIZE_PX, 0:SIZE_PX].astype(np.float64)
    rays = np.stack([u, v, np.ones_like(u)], -1) @ np.linalg.inv(_intrinsics()).T @ R_world_camera.T
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = (FLOOR_Y_M - centre_m[1]) / rays[..., 1]
        t_wall = (WALL_Z_M - centre_m[2]) / rays[..., 2]
    t_floor = np.where(t_floor > 0, t_floor, np.inf)
    t_wall = np.where(t_wall > 0, t_wall, np.inf)
    hit = centre_m + rays * np.minimum(t_floor, t_wall)[..., None]
    texels_per_m = floor.shape[0] / TEXTURE_EXTENT_M
    col = ((hit[..., 0] + TEXTURE_EXTENT_M / 2) * texels_per_m).astype(np.float32)
    floor_px = cv2.remap(floor, col, (hit[..., 2] * texels_per_m).astype(np.float32), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT101)
    wall_px = cv2.remap(wall, col, ((hit[..., 1] + TEXTURE_EXTENT_M / 2) * texels_per_m).astype(np.float32),
                        cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
    grey = np.where(t_floor < t_wall, floor_px, wall_px)
    return np.repeat(grey[..., None], 3, axis=-1)


def _video(world, poses) -> np.ndarray:
    return np.stack([_render(*world, R, c) for R, c in poses])


def _nonrigid_warp(frames: np.ndarray, amplitude_px: float, correlation_px: float, rng: np.random.Generator) -> np.ndarray:
    """Each frame resampled through its own smooth random displacement field (rms `amplitude_px`
    per axis, Gaussian correlation length `correlation_px`): the static scene bends independently
    in every frame, while local appearance (and so SIFT matching) survives."""
    v, u = np.mgrid[0:SIZE_PX, 0:SIZE_PX].astype(np.float32)
    warped = []
    for frame in frames:
        du, dv = (cv2.GaussianBlur(rng.standard_normal((SIZE_PX, SIZE_PX)).astype(np.float32), (0, 0), correlation_px)
                  for _ in range(2))
        warped.append(cv2.remap(frame, u + du * (amplitude_px / du.std()), v + dv * (amplitude_px / dv.std()),
                                cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101))
    return np.stack(warped)


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(0)
    return _texture(rng), _texture(rng)


@pytest.fixture(scope="module")
def steady_with_object(world):
    """Static camera; a textured disc (radius 55 px) slides 8 px and turns 6 deg per frame."""
    background = _render(*world, np.eye(3), np.zeros(3))
    sprite_texture = _texture(np.random.default_rng(9), 128)
    rows, cols = np.mgrid[0:SIZE_PX, 0:SIZE_PX]
    frames, static = [], []
    for t in range(N_FRAMES):
        centre_u, centre_v, angle_deg = 70 + 8 * t, 128, 6.0 * t
        A = cv2.getRotationMatrix2D((64, 64), angle_deg, 1.0)
        A[:, 2] += [centre_u - 64, centre_v - 64]
        sprite = cv2.warpAffine(sprite_texture, A, (SIZE_PX, SIZE_PX))
        inside = (cols - centre_u) ** 2 + (rows - centre_v) ** 2 <= 55**2
        frame = background.copy()
        frame[inside] = sprite[inside][:, None]
        frames.append(frame)
        static.append(~inside)
    return np.stack(frames), np.stack(static)


@pytest.fixture(scope="module")
def rotational_shake(world):
    """Camera fixed in place, turned by an independent random rotation (0.02 rad rms per axis) each frame."""
    angles_rad = np.random.default_rng(1).normal(0.0, 0.02, (N_FRAMES, 3))
    return _video(world, [(_rotation(a), np.zeros(3)) for a in angles_rad])


def _score(frames, static=None, **kwargs):
    return geometric_consistency(frames, static, frame_gap=GAP, pair_stride=GAP, **kwargs)


def test_steady_camera_with_moving_object_is_consistent(steady_with_object):
    frames, static = steady_with_object
    result = _score(frames, static)
    assert result["success_fraction"] == 1.0
    assert result["mean_inlier_ratio"] >= 0.98
    assert result["mean_epipolar_rmse_px"] < 0.2
    assert np.array_equal(result["pairs"], [[0, 5], [5, 10], [10, 15]])
    assert (result["n_keypoints"] >= 200).all()


def test_static_mask_keeps_the_moving_object_out(steady_with_object):
    """Without the mask the rotating disc's matches (valid SIFT matches, wrong epipolar geometry) are outliers."""
    frames, static = steady_with_object
    masked, unmasked = _score(frames, static), _score(frames, None)
    assert unmasked["mean_inlier_ratio"] < masked["mean_inlier_ratio"] - 0.1
    points, _ = sift_features(frames[0], static[0])
    rows, cols = np.rint(points[:, 1]).astype(int), np.rint(points[:, 0]).astype(int)
    assert static[0][rows, cols].all()


def test_moving_camera_in_a_rigid_world_is_consistent(world):
    """Translation 4 cm/frame sideways and 2 cm/frame forward plus 0.004 rad/frame of yaw: real parallax,
    so the fundamental matrix (not the homography) explains the matches."""
    frames = _video(world, [(_rotation([0.0, 0.004 * t, 0.0]), np.array([0.04 * t, 0.0, 0.02 * t]))
                            for t in range(N_FRAMES)])
    result = _score(frames)
    assert result["success_fraction"] == 1.0
    assert result["mean_inlier_ratio"] >= 0.95
    assert not result["planar"].all()


def test_rotational_shake_is_geometrically_valid(rotational_shake):
    """A camera that only turns is a homography between frames: consistent with epipolar geometry."""
    result = _score(rotational_shake)
    assert result["success_fraction"] == 1.0
    assert result["mean_inlier_ratio"] >= 0.95


def test_nonrigid_shake_lowers_consistency_below_the_steady_camera(steady_with_object, rotational_shake):
    """The issue's negative control: generative-model shake (rotational shake + 2 px rms per-frame warp
    with 16 px correlation length) must score clearly below the steady camera."""
    frames, static = steady_with_object
    steady = _score(frames, static)
    shaken = _score(_nonrigid_warp(rotational_shake, 2.0, 16.0, np.random.default_rng(5)))
    assert shaken["success_fraction"] == 1.0  # still matchable: the drop is geometry, not lost matches
    assert shaken["mean_inlier_ratio"] < steady["mean_inlier_ratio"] - 0.25
    assert shaken["mean_epipolar_rmse_px"] > 2 * steady["mean_epipolar_rmse_px"]


def test_stronger_warp_scores_lower(rotational_shake):
    scores = [_score(_nonrigid_warp(rotational_shake, amplitude_px, 16.0, np.random.default_rng(5)))["mean_inlier_ratio"]
              for amplitude_px in (0.5, 1.5, 3.0)]
    assert scores[0] > scores[1] > scores[2]


def test_unrelated_frames_score_lowest(world, rotational_shake):
    frames = np.stack([_render(_texture(np.random.default_rng(100 + t), 256), _texture(np.random.default_rng(200 + t), 256),
                               np.eye(3), np.zeros(3)) for t in range(N_FRAMES)])
    result = _score(frames)
    shaken = _score(_nonrigid_warp(rotational_shake, 3.0, 16.0, np.random.default_rng(5)))
    assert (result["n_keypoints"] >= 200).all()  # textured, so the failure is in matching, not detection
    assert result["success_fraction"] == 0.0
    assert result["pooled_inlier_ratio"] == 0.0
    assert np.isnan(result["mean_inlier_ratio"])
    assert result["pooled_inlier_ratio"] < shaken["pooled_inlier_ratio"]


def test_flat_scene_is_unmeasured_not_inconsistent():
    """Plain background over a flat grey floor (our scenario look): too few keypoints, NaN, not 0."""
    rows, cols = np.mgrid[0:SIZE_PX, 0:SIZE_PX]
    frames = []
    for t in range(N_FRAMES):
        frame = np.where((rows < 120)[..., None], np.uint8(224), np.uint8(107)).astype(np.uint8).repeat(3, -1)
        frame[(cols - 60 - 6 * t) ** 2 + (rows - 170) ** 2 <= 15**2] = (20, 160, 40)
        frames.append(frame)
    result = _score(np.stack(frames))
    assert result["success_fraction"] == 0.0
    assert np.isnan(result["mean_inlier_ratio"])
    assert (result["n_matches"] < 50).all()


def test_ground_truth_episode_is_consistent_or_unmeasured(tmp_path):
    """A rendered ground-truth episode (static camera): wherever a pair is measured, it is consistent."""
    from realitygap.episode.io import read_episode
    from tests.helpers import VISUAL_RIG, simulate_to

    episode = read_episode(simulate_to(tmp_path, "door", rig=VISUAL_RIG))
    result = geometric_consistency(episode.videos["rgb"], episode.videos["segmentation"] == 0)
    assert len(result["pairs"]) >= 1
    measured = result["success"]
    assert (result["inlier_ratio"][measured] >= 0.9).all()


def test_seeded_result_is_reproducible(rotational_shake):
    frames = _nonrigid_warp(rotational_shake, 2.0, 16.0, np.random.default_rng(5))
    first, second = _score(frames, seed=3), _score(frames, seed=3)
    for key, value in first.items():
        np.testing.assert_array_equal(value, second[key], err_msg=key)
    other_seed = _score(frames, seed=4)
    assert other_seed["mean_inlier_ratio"] == pytest.approx(first["mean_inlier_ratio"], abs=0.05)


def test_epipolar_distance_for_a_sideways_translation():
    """Camera translated along x: F = K^-T [t]x K^-1, epipolar lines are image rows, so the distance
    of x_j from its line is its row offset |v_j - v_i| (closed form)."""
    K = _intrinsics()
    t = np.array([1.0, 0.0, 0.0])
    t_cross = np.array([[0, -t[2], t[1]], [t[2], 0, -t[0]], [-t[1], t[0], 0]])
    F = np.linalg.inv(K).T @ t_cross @ np.linalg.inv(K)
    x_i = np.array([[10.0, 20.0], [100.0, 200.0], [250.0, 5.0]])
    x_j = x_i + np.array([[30.0, 0.0], [-12.0, 1.5], [0.0, -4.0]])
    np.testing.assert_allclose(epipolar_distance_px(F, x_i, x_j), [0.0, 1.5, 4.0], atol=1e-9)


def test_transfer_distance_of_a_translation_homography():
    H = np.array([[1.0, 0.0, 3.0], [0.0, 1.0, -4.0], [0.0, 0.0, 1.0]])
    x_i = np.array([[0.0, 0.0], [10.0, 10.0]])
    np.testing.assert_allclose(transfer_distance_px(H, x_i, x_i), [5.0, 5.0], atol=1e-12)


def test_epipolar_inliers_on_projected_points():
    """200 points of a 3-D cloud seen from two poses, 50 of them displaced by 10 px: RANSAC keeps the 150."""
    rng = np.random.default_rng(0)
    K = _intrinsics()
    points_m = rng.uniform(-1.0, 1.0, (200, 3)) + [0.0, 0.0, 5.0]

    def project(R, c):
        p = (points_m - c) @ R
        return (p[:, :2] / p[:, 2:]) @ K[:2, :2].T + K[:2, 2]

    x_i, x_j = project(np.eye(3), np.zeros(3)), project(_rotation([0.02, 0.05, 0.0]), np.array([0.3, 0.05, 0.0]))
    x_j[:50] += rng.choice([-1.0, 1.0], (50, 2)) * 10.0
    inliers, distance_px, planar = epipolar_inliers(x_i, x_j, 1.0, seed=0)
    assert not planar
    assert inliers[50:].all()
    assert inliers[:50].sum() <= 10  # a displaced point may fall on its epipolar line by chance
    assert np.all(distance_px[50:] < 1e-2)


def test_ratio_test_matches_agree_with_opencv_brute_force(world):
    _, desc_i = sift_features(_render(*world, np.eye(3), np.zeros(3)), None)
    _, desc_j = sift_features(_render(*world, _rotation([0.0, 0.03, 0.0]), np.array([0.2, 0.0, 0.0])), None)
    knn = cv2.BFMatcher(cv2.NORM_L2).knnMatch(desc_i, desc_j, k=2)
    expected = [(m.queryIdx, m.trainIdx) for m, n in knn if m.distance < 0.85 * n.distance]
    assert ratio_test_matches(desc_i, desc_j, 0.85).tolist() == [list(pair) for pair in expected]


@pytest.mark.parametrize("n_frames, gap, stride, expected", [
    (16, 5, 5, [[0, 5], [5, 10], [10, 15]]),
    (60, 15, 15, [[0, 15], [15, 30], [30, 45]]),
    (10, 3, 4, [[0, 3], [4, 7]]),
    (4, 10, 1, [[0, 3]]),  # a gap longer than the clip is clipped to first/last frame
])
def test_frame_pairs(n_frames, gap, stride, expected):
    assert frame_pairs(n_frames, gap, stride).tolist() == expected


def test_rejects_bad_input():
    frames = np.zeros((4, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError):
        geometric_consistency(frames.astype(np.float32))
    with pytest.raises(ValueError):
        geometric_consistency(frames, np.ones((4, 16, 16), bool))
    with pytest.raises(ValueError):
        geometric_consistency(frames[:1])


def test_shaky_twin_scores_below_the_steady_twin(tmp_path):
    """Negative control on a rendered twin (textured floor): the same pendulum episode with a
    per-frame random wobble of the image (independent smooth 2 px warps: a shaky, rolling camera as
    a generative model renders it) must score below the steady camera."""
    from realitygap.core.rig import CameraConfig, RigConfig
    from realitygap.episode.io import read_episode
    from tests.helpers import simulate_to

    rig = RigConfig(sensors=("rgb", "segmentation"), camera=CameraConfig(width=SIZE_PX, height=SIZE_PX))
    episode = read_episode(simulate_to(tmp_path, "pendulum", rig=rig))
    static = episode.videos["segmentation"] == 0
    steady = geometric_consistency(episode.videos["rgb"], static)
    shaky = geometric_consistency(_nonrigid_warp(episode.videos["rgb"], 2.0, 16.0, np.random.default_rng(3)), static)
    assert steady["success_fraction"] == 1.0 and steady["mean_inlier_ratio"] > 0.95
    assert shaky["mean_inlier_ratio"] < steady["mean_inlier_ratio"] - 0.2
