"""Physics-IQ metrics: the reference's mask algorithm, hand-computed values, analytic controls (speed: benchmarks/measure.py)."""

from __future__ import annotations

import dataclasses
import doctest

import cv2
import numpy as np
import pytest

import realitygap.metrics.physics_iq as physics_iq_module
from realitygap.episode.io import read_episode
from realitygap.metrics.physics_iq import (
    METRICS,
    PERFECT_AGREEMENT,
    PhysicsIQMetrics,
    compare_videos,
    downscale_masks,
    motion_masks,
    mse,
    mse_per_frame,
    physics_iq_score,
    spatial_iou,
    spatiotemporal_iou,
    spatiotemporal_iou_per_frame,
    weighted_spatial_iou,
)
from tests.helpers import VISUAL_RIG, simulate_to

SHIFTS_PX = (0, 1, 2, 4, 8, 16)


def render_disc(n_frames: int = 30, size_px: int = 128, radius_px: float = 10.0, shift_px: float = 0.0) -> np.ndarray:
    """(T, H, W, 3) uint8: an anti-aliased yellow disc on a dark background, thrown to the right
    (3.5 px/frame) and falling (1 px/frame + 0.12 px/frame^2); `shift_px` moves the whole track right."""
    t = np.arange(n_frames, dtype=float)
    centre_u = 14.0 + 3.5 * t + shift_px
    centre_v = 14.0 + 1.0 * t + 0.06 * t**2
    rows, cols = np.mgrid[0:size_px, 0:size_px]
    distance = np.hypot(cols[None] - centre_u[:, None, None], rows[None] - centre_v[:, None, None])
    cover = np.clip(radius_px + 0.5 - distance, 0.0, 1.0)[..., None]
    background, disc = np.array([70.0, 80.0, 90.0]), np.array([230.0, 200.0, 60.0])
    return np.rint(background * (1.0 - cover) + disc * cover).astype(np.uint8)


def reference_motion_masks(frames: np.ndarray, threshold: int = 10) -> np.ndarray:
    """Frame-by-frame transcription of physiq/binary_mask_generator.py `generate_mask`
    (google-deepmind/physics-IQ-benchmark), reading RGB instead of BGR from a video file."""
    kernel = np.ones((5, 5), np.uint8)
    grey = cv2.GaussianBlur(cv2.cvtColor(frames[0], cv2.COLOR_RGB2GRAY), (5, 5), 0)
    average = grey.astype("float")
    masks = [np.zeros_like(grey)]
    for frame in frames[1:]:
        grey = cv2.GaussianBlur(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), (5, 5), 0)
        cv2.accumulateWeighted(grey, average, 0.3)
        difference = cv2.absdiff(grey, cv2.convertScaleAbs(average))
        _, binary = cv2.threshold(difference, threshold, 255, cv2.THRESH_BINARY)
        binary = cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel)
        masks.append(cv2.morphologyEx(binary, cv2.MORPH_CLOSE, kernel))
    return np.stack(masks) > 0


@pytest.fixture(scope="module")
def drop_rgb(tmp_path_factory) -> np.ndarray:
    episode = read_episode(simulate_to(tmp_path_factory.mktemp("physics_iq"), "drop", rig=VISUAL_RIG))
    return episode.videos["rgb"]


# --- motion masks -------------------------------------------------------------------------------

def test_motion_masks_are_bit_identical_to_the_reference_loop(drop_rgb):
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 256, size=(12, 64, 64, 3), dtype=np.uint8)
    smooth_noise = cv2.GaussianBlur(noise.reshape(12 * 64, 64, 3), (0, 0), 2.0).reshape(noise.shape)
    for frames in (render_disc(), drop_rgb, smooth_noise):
        expected = reference_motion_masks(frames)
        got = motion_masks(frames)
        assert got.dtype == bool and got.shape == frames.shape[:3]
        assert expected.any() and np.array_equal(got, expected)


def test_motion_masks_see_the_moving_object_and_nothing_in_a_still_video():
    frames = render_disc()
    masks = motion_masks(frames)
    assert not masks[0].any()  # frame 0 is the background model's start: no motion by definition
    assert all(masks[t].any() for t in range(1, len(frames)))  # 3.5 px/frame is enough to be seen
    still = np.repeat(frames[:1], 10, axis=0)
    assert not motion_masks(still).any()


# --- hand-computed values on tiny masks ---------------------------------------------------------

# T = 4 frames of 2 x 3 pixels.
P = np.array([[[1, 1, 0], [0, 0, 0]],
              [[0, 0, 0], [0, 1, 1]],
              [[1, 0, 0], [0, 0, 0]],
              [[0, 0, 0], [0, 0, 0]]], bool)
G = np.array([[[1, 0, 0], [0, 0, 0]],
              [[0, 0, 0], [1, 1, 1]],
              [[0, 0, 0], [0, 0, 0]],
              [[0, 0, 0], [0, 0, 0]]], bool)
D = np.zeros_like(P)
D[1, 0, 2] = D[2, 1, 0] = True  # moves only where P never does
# spatial: U P = {(0,0), (0,1), (1,1), (1,2)}, U G = {(0,0), (1,0), (1,1), (1,2)}: 3 / 5.
# per frame: 1/2, 2/3, 0/1, empty union -> 1: mean (1/2 + 2/3 + 0 + 1) / 4 = 13/24.
# motion counts: P (0,0)=2 (0,1)=1 (1,1)=1 (1,2)=1; G (0,0)=1 (1,0)=1 (1,1)=1 (1,2)=1:
# sum min = 1 + 0 + 0 + 1 + 1 = 3, sum max = 2 + 1 + 1 + 1 + 1 = 6: 1/2.
HAND_CASES = [
    ("spatial", spatial_iou, P, G, 3 / 5),
    ("spatiotemporal", spatiotemporal_iou, P, G, 13 / 24),
    ("weighted", weighted_spatial_iou, P, G, 1 / 2),
    ("spatial empty", spatial_iou, np.zeros_like(P), np.zeros_like(G), 1.0),
    ("spatiotemporal empty", spatiotemporal_iou, np.zeros_like(P), np.zeros_like(G), 1.0),
    ("weighted empty", weighted_spatial_iou, np.zeros_like(P), np.zeros_like(G), 1.0),
    ("spatial disjoint", spatial_iou, P, D, 0.0),
    ("spatiotemporal disjoint", spatiotemporal_iou, P, D, 1 / 4),  # only frame 3 (both empty) counts
    ("weighted one-sided", weighted_spatial_iou, P, np.zeros_like(G), 0.0),
]


@pytest.mark.parametrize("name, metric, predicted, truth, expected", HAND_CASES, ids=[c[0] for c in HAND_CASES])
def test_mask_metrics_match_hand_computed_values(name, metric, predicted, truth, expected):
    assert metric(predicted, truth) == pytest.approx(expected, abs=1e-12)
    assert metric(truth, predicted) == pytest.approx(expected, abs=1e-12)  # all three IoUs are symmetric


def test_spatiotemporal_iou_per_frame_by_hand():
    np.testing.assert_allclose(spatiotemporal_iou_per_frame(P, G), [1 / 2, 2 / 3, 0.0, 1.0], atol=1e-12)


def test_mse_by_hand():
    predicted = np.zeros((2, 1, 2, 3), np.uint8)
    truth = np.zeros_like(predicted)
    predicted[0, 0, 0, 0] = 255  # one of 6 values off by 1 (scaled): 1/6
    predicted[1] = 51  # every value off by 0.2: 0.04
    np.testing.assert_allclose(mse_per_frame(predicted, truth), [1 / 6, 0.04], atol=1e-15)
    assert mse(predicted, truth) == pytest.approx((1 / 6 + 0.04) / 2, abs=1e-15)
    assert mse(truth, truth) == 0.0


# --- the combined score -------------------------------------------------------------------------

SCORE_CASES = [
    # physiq/tests/test_scoring_equivalence.py default fixture: raw 1.4611 clips to 100.
    ("reference fixture", PhysicsIQMetrics(0.5, 0.4, 0.6, 0.1), PhysicsIQMetrics(0.25, 0.3, 0.5, 0.05), False, 100.0),
    # (0.15/0.3 + 0.2/0.5 + 0.25/0.5) / 3 - (0.1 - 0.05) = 1.4 / 3 - 0.05
    ("unclipped", PhysicsIQMetrics(0.2, 0.15, 0.25, 0.1), PhysicsIQMetrics(0.5, 0.3, 0.5, 0.05), False,
     100 * (1.4 / 3 - 0.05)),
    # stable variant: ratios 2, 4/3, 6/5 each clip to 1, then 1 - 0.05
    ("stable", PhysicsIQMetrics(0.5, 0.4, 0.6, 0.1), PhysicsIQMetrics(0.25, 0.3, 0.5, 0.05), True, 95.0),
    # physiq test_clipping_at_zero: far below the physical variance
    ("clips at zero", PhysicsIQMetrics(0.01, 0.01, 0.01, 0.9), PhysicsIQMetrics(1.0, 1.0, 1.0, 0.05), False, 0.0),
    ("perfect", PERFECT_AGREEMENT, PERFECT_AGREEMENT, False, 100.0),
    # perfect-agreement reference: 100 (mean IoU - MSE)
    ("default reference", PhysicsIQMetrics(0.6, 0.3, 0.45, 0.02), PERFECT_AGREEMENT, False, 100 * (0.45 - 0.02)),
]


@pytest.mark.parametrize("name, metrics, variance, stable, expected", SCORE_CASES, ids=[c[0] for c in SCORE_CASES])
def test_physics_iq_score_by_hand(name, metrics, variance, stable, expected):
    assert physics_iq_score(metrics, variance, clip_components=stable) == pytest.approx(expected, abs=1e-9)


def test_physics_iq_score_averages_each_term_over_pairs_before_combining():
    pairs = [PhysicsIQMetrics(0.3, 0.2, 0.4, 0.05), PhysicsIQMetrics(0.7, 0.6, 0.8, 0.15)]
    variances = [PhysicsIQMetrics(0.5, 0.4, 0.6, 0.01), PhysicsIQMetrics(0.9, 0.8, 1.0, 0.03)]
    # means: metrics (0.5, 0.4, 0.6, 0.1), variances (0.7, 0.6, 0.8, 0.02)
    expected = 100 * ((0.4 / 0.6 + 0.5 / 0.7 + 0.6 / 0.8) / 3 - (0.1 - 0.02))
    assert physics_iq_score(pairs, variances) == pytest.approx(expected, abs=1e-9)


def test_physics_iq_score_rejects_a_zero_variance_iou():
    with pytest.raises(ValueError):
        physics_iq_score(PERFECT_AGREEMENT, PhysicsIQMetrics(0.0, 1.0, 1.0, 0.0))


# --- controls on videos -------------------------------------------------------------------------

def test_identical_videos_score_the_maximum(drop_rgb):
    for frames in (render_disc(), drop_rgb):
        metrics = compare_videos(frames, frames.copy())
        assert metrics == PhysicsIQMetrics(1.0, 1.0, 1.0, 0.0)
        assert physics_iq_score(metrics) == 100.0
        assert physics_iq_score(metrics, metrics) == 100.0  # a perfect prediction against itself as variance


def test_shifting_the_disc_lowers_every_metric_monotonically():
    truth = render_disc()
    results = [compare_videos(render_disc(shift_px=k), truth) for k in SHIFTS_PX]
    scores = [physics_iq_score(m) for m in results]
    for field in ("spatial_iou", "spatiotemporal_iou", "weighted_spatial_iou"):
        values = [getattr(m, field) for m in results]
        assert np.all(np.diff(values) < 0), (field, values)
    assert np.all(np.diff([m.mse for m in results]) > 0)
    assert np.all(np.diff(scores) < 0), scores
    assert scores[0] == 100.0 and scores[-1] < 40.0


def test_shifting_a_simulated_drop_lowers_the_score_monotonically(drop_rgb):
    # The drop scene is uniform along image rows except for the ball, so np.roll along u moves the ball only.
    results = [compare_videos(np.roll(drop_rgb, k, axis=2), drop_rgb) for k in SHIFTS_PX]
    scores = [physics_iq_score(m) for m in results]
    assert scores[0] == 100.0
    assert np.all(np.diff(scores) < 0), scores
    for field in ("spatial_iou", "spatiotemporal_iou", "weighted_spatial_iou"):
        values = [getattr(m, field) for m in results]
        assert np.all(np.diff(values) <= 0) and values[1] < 1.0, (field, values)
    assert np.all(np.diff([m.mse for m in results]) > 0)


@pytest.mark.parametrize("source", ["disc", "drop"])
def test_a_still_video_against_a_moving_one_scores_low(source, drop_rgb):
    truth = render_disc() if source == "disc" else drop_rgb
    still = np.repeat(truth[:1], len(truth), axis=0)
    metrics = compare_videos(still, truth)
    true_masks = motion_masks(truth)
    frames_without_motion = np.mean([not m.any() for m in true_masks])
    # The still video has no motion at all: no spatial overlap, and per-frame IoU 1 only where the truth
    # does not move either (empty union), else 0.
    assert metrics.spatial_iou == 0.0 and metrics.weighted_spatial_iou == 0.0
    assert metrics.spatiotemporal_iou == pytest.approx(frames_without_motion, abs=1e-12)
    score = physics_iq_score(metrics)
    assert score == pytest.approx(100 * (frames_without_motion / 3 - metrics.mse), abs=1e-9)
    assert score < 25.0
    assert score < physics_iq_score(compare_videos(np.roll(truth, 4, axis=2), truth))


def test_downscaling_block_masks_is_exact_and_identical_videos_stay_perfect():
    rng = np.random.default_rng(3)
    blocks = rng.random((5, 6, 8)) < 0.4
    masks = np.repeat(np.repeat(blocks, 4, axis=1), 4, axis=2)
    assert np.array_equal(downscale_masks(masks, 4), blocks)  # bilinear samples inside each 4 x 4 block
    frames = render_disc(n_frames=12)
    assert compare_videos(frames, frames, downscale=4) == PERFECT_AGREEMENT


def test_inputs_of_different_shape_are_rejected():
    frames = render_disc(n_frames=5)
    with pytest.raises(ValueError):
        compare_videos(frames, frames[:4])
    with pytest.raises(ValueError):
        spatial_iou(P, G[:, :, :2])
    with pytest.raises(ValueError):
        motion_masks(frames.astype(np.float32))


def test_docstring_example_runs():
    results = doctest.testmod(physics_iq_module)
    assert results.attempted > 0 and results.failed == 0


def test_metric_properties_are_declared_and_values_lie_in_range(drop_rgb):
    for field in dataclasses.fields(PhysicsIQMetrics):
        assert field.name in METRICS
    assert METRICS["mse"].higher_is_better is False
    assert all(METRICS[name].higher_is_better for name in ("spatial_iou", "spatiotemporal_iou",
                                                            "weighted_spatial_iou", "physics_iq_score"))
    metrics = compare_videos(np.roll(drop_rgb, 3, axis=2), drop_rgb)
    values = dataclasses.asdict(metrics) | {"physics_iq_score": physics_iq_score(metrics)}
    for name, value in values.items():
        low, high = METRICS[name].range
        assert low <= value <= high, (name, value)
