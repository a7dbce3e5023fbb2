"""Rolling shutter (clip/shutter.py): the readout from a free flight's jerk, on tracks with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from realitygap.clip.shutter import estimate_readout, row_fraction, shutter_times

HEIGHT_PX, FPS, PX_PER_M = 360, 30.0, 205.0


def _fall(readout_s: float, drag_per_s: float = 0.0, n: int = 14, noise_px: float = 0.1, seed: int = 0):
    """A ball falling from rest at row 40 seen through a rolling shutter: the row where the ball is when that
    row is exposed (solved by fixed-point iteration), per frame; with `drag_per_s` linear drag."""
    g_px = 9.81 * PX_PER_M
    t_frame = np.arange(n) / FPS + 0.02

    def row_at(t):
        if drag_per_s:
            k = drag_per_s
            return 40 + g_px / k * (t - (1 - np.exp(-k * t)) / k)
        return 40 + 0.5 * g_px * t**2

    row = np.full(n, 40.0)
    for _ in range(50):
        row = row_at(shutter_times(t_frame, row_fraction(row, HEIGHT_PX), readout_s))
    row = row + np.random.default_rng(seed).normal(0, noise_px, n)
    xy = np.stack([np.full(n, 100.0), -row], axis=1) / PX_PER_M
    return t_frame, xy, np.full(n, noise_px / PX_PER_M), row_fraction(row, HEIGHT_PX)


@pytest.mark.parametrize("readout_ms", [8.0, 16.0, 30.0])
def test_the_readout_is_recovered_from_the_jerk(readout_ms):
    t, xy, sigma, rows = _fall(readout_ms / 1e3)
    found = estimate_readout(t, xy, sigma, rows, 1 / FPS)
    assert found.applied
    assert found.readout_s * 1e3 == pytest.approx(readout_ms, abs=max(3 * found.sigma_s * 1e3, 0.5))


def test_a_global_shutter_is_not_corrected():
    for seed in range(5):
        t, xy, sigma, rows = _fall(0.0, seed=seed)
        assert not estimate_readout(t, xy, sigma, rows, 1 / FPS).applied


def test_air_drag_is_not_taken_for_a_shutter():
    """Drag lowers the acceleration with speed: the opposite jerk of a top-to-bottom readout."""
    t, xy, sigma, rows = _fall(0.0, drag_per_s=0.5)
    assert not estimate_readout(t, xy, sigma, rows, 1 / FPS).applied


def test_too_few_frames_estimate_nothing():
    t, xy, sigma, rows = _fall(0.016, n=8)
    assert estimate_readout(t, xy, sigma, rows, 1 / FPS) is None
