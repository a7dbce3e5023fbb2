"""The carbon-copy validation case with a known answer (issue 15): a Gaussian refitted to its own samples."""

from __future__ import annotations

import numpy as np
import pytest

from realitygap.carboncopy.gaussian import parse_regime, replace_log_drift, replace_median_ratio, simulate

M, RUNS = 100, 4000


@pytest.mark.parametrize("generation", [5, 20, 50])
def test_replace_median_variance_ratio_follows_the_digamma_drift(generation):
    ratios = simulate("replace", M, 50, RUNS, seed=0)
    median = float(np.median(ratios[:, generation]))
    assert abs(median / replace_median_ratio(M, generation) - 1) < 0.10, (median, replace_median_ratio(M, generation))


def test_the_theory_is_the_digamma_drift_and_falls_with_generations():
    drift = replace_log_drift(M)
    assert -0.0203 < drift < -0.0200  # psi(49.5) + log(0.02): about -1/M, the MLE's 1/M variance shrinking it
    assert replace_median_ratio(M, 50) == pytest.approx(0.366, abs=0.002)
    assert replace_median_ratio(M, 0) == 1.0


def test_accumulate_stays_bounded_and_fresh_data_slows_the_decay():
    accumulate = float(np.median(simulate("accumulate", M, 50, RUNS, seed=1)[:, 50]))
    fresh = float(np.median(simulate("fresh:0.1", M, 50, RUNS, seed=1)[:, 50]))
    replace = float(np.median(simulate("replace", M, 50, RUNS, seed=1)[:, 50]))
    assert 0.8 <= accumulate <= 1.2
    assert replace < fresh < accumulate


def test_the_same_seed_gives_the_same_generations_and_bad_regimes_are_refused():
    assert np.array_equal(simulate("replace", 20, 5, 10, seed=3), simulate("replace", 20, 5, 10, seed=3))
    assert not np.array_equal(simulate("replace", 20, 5, 10, seed=3), simulate("replace", 20, 5, 10, seed=4))
    for bad in ("copy", "fresh:-1", "fresh:nan", "fresh:x"):
        with pytest.raises(ValueError):
            parse_regime(bad)
