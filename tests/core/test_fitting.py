"""The fitting machinery against closed forms."""

import math

import numpy as np
import pytest

from realitygap.core.fitting import linear_fit, propagate


def test_linear_fit_and_propagation_match_closed_forms():
    """Straight line through exact points with known sigma: the slope's standard error (absolute sigma,
    then scaled by chi2 / dof) equals the textbook sigma / sqrt(sum (t - mean t)^2) x sqrt(chi2 / dof)."""
    rng = np.random.default_rng(3)
    t = np.linspace(0.0, 1.0, 21)
    y = 2.0 + 3.0 * t + rng.normal(0.0, 0.01, t.size)
    fit = linear_fit(np.stack([np.ones_like(t), t], axis=1), y, np.full(t.size, 0.01), "m", "line")
    expected = 0.01 / math.sqrt(np.sum((t - t.mean()) ** 2)) * math.sqrt(fit.reduced_chi2)
    assert math.sqrt(fit.cov[1, 1]) == pytest.approx(expected, rel=1e-9)
    value, sd = propagate(lambda c: np.array([c[1] ** 2]), fit.params, fit.cov)
    assert sd[0] == pytest.approx(2 * fit.params[1] * math.sqrt(fit.cov[1, 1]), rel=1e-6)
