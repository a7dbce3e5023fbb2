"""Label accuracy: mask IoU, box IoU and depth error against closed forms, an O(N M) loop, and label defects
with a known answer (a mask or box shifted by k pixels, depth scaled or offset)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import realitygap.metrics.labels as labels_module
from realitygap.metrics.labels import METRIC_INFO, box_iou, depth_error, mask_iou


def square_mask(x0: int, y0: int, side: int, shape: tuple[int, int] = (64, 64)) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[y0:y0 + side, x0:x0 + side] = True
    return mask


def test_docstring_examples():
    assert doctest.testmod(labels_module).failed == 0


@pytest.mark.parametrize("shift", [0, 1, 3, 7, 10, 12])
def test_mask_iou_of_a_shifted_square_is_the_closed_form(shift):
    """Two s x s squares shifted by k px along x overlap (s - k) s: IoU = (s - k) / (s + k) (0 beyond s)."""
    side = 10
    truth = square_mask(20, 20, side)
    shifted = square_mask(20 + shift, 20, side)
    expected = max(side - shift, 0) / (side + min(shift, side))
    assert mask_iou(shifted, truth) == pytest.approx(expected)


def test_mask_iou_empty_masks_and_broadcasting():
    empty = np.zeros((8, 8), bool)
    assert np.isnan(mask_iou(empty, empty))
    assert mask_iou(square_mask(1, 1, 3, (8, 8)), empty) == 0.0
    stack = np.stack([square_mask(1, 1, 3, (8, 8)), empty, square_mask(2, 1, 3, (8, 8))])
    values = mask_iou(stack, square_mask(1, 1, 3, (8, 8)))
    assert values.shape == (3,)
    np.testing.assert_allclose(values, [1.0, 0.0, 6 / 12])


def _box_iou_loop(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Reference: rasterise each inclusive pixel box and count pixels."""
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            P = np.zeros((40, 40), bool)
            Q = np.zeros((40, 40), bool)
            P[p[1]:p[3] + 1, p[0]:p[2] + 1] = True
            Q[q[1]:q[3] + 1, q[0]:q[2] + 1] = True
            union = (P | Q).sum()
            out[i, j] = (P & Q).sum() / union if union else np.nan
    return out


def test_box_iou_matrix_equals_the_rasterised_reference():
    rng = np.random.default_rng(3)
    corners = rng.integers(0, 30, size=(12, 2, 2))
    boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)  # x0, y0, x1, y1 inclusive
    a, b = boxes[:7], boxes[7:]
    np.testing.assert_allclose(box_iou(a[:, None], b[None]), _box_iou_loop(a, b))
    np.testing.assert_allclose(box_iou(a, a), 1.0)


@pytest.mark.parametrize("shift", [0, 2, 5, 9])
def test_box_iou_of_a_shifted_box_is_the_closed_form(shift):
    """A 10 x 6 px box shifted by k px along x: IoU = (10 - k) / (10 + k)."""
    truth = np.array([5, 5, 14, 10])
    moved = truth + [shift, 0, shift, 0]
    assert box_iou(moved, truth) == pytest.approx((10 - shift) / (10 + shift))


def test_absent_boxes():
    absent = np.array([-1, -1, -1, -1])
    present = np.array([0, 0, 3, 3])
    assert np.isnan(box_iou(absent, absent))
    assert box_iou(absent, present) == 0.0
    assert box_iou(np.array([2, 2, 2, 2]), np.array([2, 2, 2, 2])) == 1.0  # a one-pixel object


def test_depth_error_closed_forms():
    rng = np.random.default_rng(5)
    truth = rng.uniform(1.0, 4.0, size=(3, 16, 16))
    offset = depth_error(truth + 0.05, truth)
    assert offset.mae == pytest.approx(0.05) and offset.rmse == pytest.approx(0.05)
    assert offset.count == truth.size
    scaled = depth_error(1.2 * truth, truth)  # a wrong focal length's depth is not this, but a scale defect is
    assert scaled.abs_rel == pytest.approx(0.2)
    assert scaled.mae == pytest.approx(0.2 * truth.mean())


def test_depth_error_ignores_invalid_pixels_and_works_on_stored_millimetres():
    truth = np.full((4, 4), 2.0)
    predicted = np.full((4, 4), 2.1)
    predicted[0, 0], truth[1, 1] = np.nan, 0.0  # no surface in one or the other
    error = depth_error(predicted, truth)
    assert error.count == 14 and error.mae == pytest.approx(0.1)
    mm = depth_error(np.full((4, 4), 1990, np.uint16), np.full((4, 4), 2000, np.uint16))  # no uint16 wrap-around
    assert mm.mae == 10.0 and mm.abs_rel == pytest.approx(0.005)
    none = depth_error(np.zeros((2, 2)), np.zeros((2, 2)))
    assert none.count == 0 and np.isnan(none.mae)


def test_metric_info_names_the_rows():
    assert set(METRIC_INFO) == {"label_mask_iou", "label_box_iou", "label_depth_error_m", "label_derived_mask_iou"}
    assert not METRIC_INFO["label_depth_error_m"].higher_is_better
