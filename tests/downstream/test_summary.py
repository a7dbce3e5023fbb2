"""Transfer ratios, their intervals, exchange rates and the validity statistics on inputs with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from realitygap.downstream.summary import exchange_rate, ratio_with_interval, summarise
from realitygap.downstream.validity import correlation, downstream_quality, ridge_fit


def _errors(rng, seeds=3, episodes=12, scale=1.0):
    return scale * (1.0 + rng.random((seeds, episodes)))


def test_identical_errors_give_a_ratio_of_exactly_one():
    rng = np.random.default_rng(0)
    errors = _errors(rng)
    strata = np.array(["drop"] * 6 + ["slide"] * 6)
    assert ratio_with_interval(errors, errors.copy(), strata, seed=1, n_boot=200) == (1.0, 1.0, 1.0)


def test_a_source_with_twice_the_error_reads_two_and_its_interval_excludes_one():
    rng = np.random.default_rng(1)
    truth = _errors(rng)
    source = 2.0 * truth * (1 + 0.05 * rng.standard_normal(truth.shape))
    strata = np.array(["drop"] * 6 + ["slide"] * 6)
    ratio, low, high = ratio_with_interval(source, truth, strata, seed=2, n_boot=500)
    assert ratio == pytest.approx(source.mean() / truth.mean())
    assert 1.9 < low <= ratio <= high < 2.1


def test_noisy_equal_sources_have_an_interval_that_holds_one():
    rng = np.random.default_rng(3)
    strata = np.array(["a"] * 10 + ["b"] * 10)
    a, b = _errors(rng, episodes=20), _errors(rng, episodes=20)
    _, low, high = ratio_with_interval(a, b, strata, seed=4, n_boot=500)
    assert low < 1.0 < high


def test_nan_cells_are_left_out_of_both_sides_and_all_nan_gives_nan():
    strata = np.array(["a", "a", "b"])
    num = np.array([[1.0, np.nan, 3.0]])
    den = np.array([[1.0, 5.0, 1.0]])
    assert ratio_with_interval(num, den, strata, 0, 100)[0] == pytest.approx(4.0 / 2.0)
    assert all(math.isnan(v) for v in ratio_with_interval(np.full((1, 3), np.nan), den, strata, 0, 100))


def test_summarise_compares_each_source_with_ground_truth_on_the_same_episodes():
    rows = []
    for seed in range(2):
        for i, eid in enumerate(["e1", "e2", "e3", "e4"]):
            for source, factor in (("sim", 1.0), ("bad", 3.0)):
                rows.append({"kind": "transfer", "source": source, "task": "t", "seed": seed, "amount": 1.0,
                             "episode_id": eid, "scenario": "drop" if i < 2 else "slide", "error": factor * (1 + i + seed)})
    by_source = {r["source"]: r for r in summarise(rows, seed=0, n_boot=200)}
    assert by_source["sim"]["ratio"] == 1.0
    assert by_source["bad"]["ratio"] == pytest.approx(3.0)
    assert by_source["bad"]["n_seeds"] == 2 and by_source["bad"]["n_test_episodes"] == 4


def test_exchange_rate_interpolates_on_a_log_axis_and_states_bounds():
    fractions = np.array([0.25, 0.5, 1.0])
    # error = 1 / sqrt(fraction): the GT error at N (target 1.0 * k) is reached where 1/sqrt(f) = target
    errors = 2.0 / np.sqrt(fractions)
    reached = exchange_rate(fractions, errors, target=2.0 / np.sqrt(0.7))
    assert reached["bound"] == "estimate"
    assert 0.5 < reached["rate"] < 1.0
    assert exchange_rate(fractions, errors, target=0.1) == {"rate": 1.0, "bound": "lower"}
    assert exchange_rate(fractions, errors, target=10.0) == {"rate": 0.25, "bound": "upper"}


def test_correlation_matches_scipy_and_its_interval_holds_the_point():
    rng = np.random.default_rng(5)
    x = rng.random(14)
    y = 2 * x + 0.1 * rng.standard_normal(14)
    c = correlation(x, y, seed=0, n_boot=300)
    assert c["spearman"] == pytest.approx(stats.spearmanr(x, y).statistic)
    assert c["pearson"] == pytest.approx(stats.pearsonr(x, y).statistic)
    assert c["pearson_interval"][0] <= c["pearson"] <= c["pearson_interval"][1]
    assert math.isnan(correlation(x[:2], y[:2], seed=0)["spearman"])  # too few sources: no number


def test_ridge_fit_recovers_a_linear_law():
    rng = np.random.default_rng(6)
    x = rng.random((40, 3))
    y = 0.5 + x @ np.array([1.0, -2.0, 0.0])
    beta = ridge_fit(x, y, ridge=1e-8)
    assert np.allclose(beta, [0.5, 1.0, -2.0, 0.0], atol=1e-5)


def test_downstream_quality_is_the_inverse_geometric_mean_of_the_ratios():
    summary = [{"kind": "transfer", "source": "s", "task": "a", "ratio": 2.0},
               {"kind": "transfer", "source": "s", "task": "b", "ratio": 8.0},
               {"kind": "transfer", "source": "s", "task": "c", "ratio": math.nan}]
    assert downstream_quality(summary, "s") == pytest.approx(0.25)
    assert math.isnan(downstream_quality(summary, "other"))
