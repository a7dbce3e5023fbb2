"""The stratified bootstrap against closed forms and its own invariants."""

import math

import numpy as np
import pytest

from realitygap.scorecard.stats import finite_median, resample_indices, share, stratified_bootstrap


def test_interval_of_a_mean_matches_the_normal_approximation():
    """Many one-value episodes in one stratum: the percentile interval of the mean is mean +- 1.96 sd / sqrt(n)."""
    rng = np.random.default_rng(0)
    values = rng.normal(3.0, 2.0, 400)
    mean, low, high = stratified_bootstrap([np.array([v]) for v in values], ["a"] * 400, np.mean, seed=1, n_boot=4000)
    half = 1.96 * values.std(ddof=1) / math.sqrt(400)
    assert mean == pytest.approx(values.mean())
    assert low == pytest.approx(mean - half, rel=0.05, abs=0.02)
    assert high == pytest.approx(mean + half, rel=0.05, abs=0.02)


def test_share_pools_rows_and_the_vectorised_paths_equal_the_general_one():
    rng = np.random.default_rng(2)
    groups = [rng.random(int(k)) < 0.7 for k in rng.integers(1, 6, 30)]
    strata = [f"s{i % 3}" for i in range(30)]
    value, low, high = stratified_bootstrap(groups, strata, share, seed=5)
    assert value == pytest.approx(np.concatenate(groups).mean())
    general = stratified_bootstrap(groups, strata, lambda rows: float(np.mean(rows)), seed=5)
    assert (low, high) == pytest.approx(general[1:])
    singles = [np.array([x]) for x in rng.normal(0, 1, 20)]
    fast = stratified_bootstrap(singles, ["a"] * 10 + ["b"] * 10, finite_median, seed=3)
    slow = stratified_bootstrap(singles, ["a"] * 10 + ["b"] * 10, lambda rows: float(np.median(rows)), seed=3)
    assert fast == pytest.approx(slow)


def test_resampling_stays_within_strata_and_is_seeded():
    strata = ["a", "a", "b", "b", "b", "c"]
    chosen = resample_indices(strata, seed=7, n_boot=200)
    assert chosen.shape == (200, 6)
    assert set(chosen[:, :2].ravel()) <= {0, 1} and set(chosen[:, 2:5].ravel()) <= {2, 3, 4} and set(chosen[:, 5]) == {5}
    assert np.array_equal(chosen, resample_indices(strata, seed=7, n_boot=200))
    assert not np.array_equal(chosen, resample_indices(strata, seed=8, n_boot=200))


def test_one_episode_has_no_interval_and_a_constant_has_a_point_interval():
    assert math.isnan(stratified_bootstrap([np.array([1.0])], ["a"], np.mean, seed=0)[1])
    value, low, high = stratified_bootstrap([np.array([True, True])] * 5, ["a"] * 5, share, seed=0)
    assert (value, low, high) == (1.0, 1.0, 1.0)


def test_distribution_rows_for_too_few_samples_are_nan_with_a_reason():
    from realitygap.scorecard.similarity import compare_sets

    rows = compare_sets("x", "physical-v1", np.zeros((1, 3)), np.ones((1, 3)), seed=0, episodes=1)
    assert rows and all(math.isnan(r["value"]) and "not computed" in r["note"] for r in rows)
    rows = compare_sets("x", "physical-v1", np.random.default_rng(0).normal(size=(5, 3)), np.zeros((5, 3)), seed=0, episodes=5)
    assert math.isfinite(rows[0]["value"]) and math.isnan(next(r for r in rows if r["metric"].startswith("accuracy"))["value"])
