"""Ground-truth state obeys each scenario's declared law over its domain.

Tolerances: drop impact time 0.5 % (issue 3), bounce apex ratios 2 % of e^2 for every apex above
1 cm. Five parameter points per scenario spread over the domain (corners and interior).
"""

import numpy as np
import pytest

from realitygap.episode.io import read_episode
from realitygap.scenarios import get_scenario
from tests.helpers import STATE_ONLY_RIG, simulate_to

DROP_POINTS = [
    {"height_m": 0.3, "radius_m": 0.04},
    {"height_m": 3.0, "radius_m": 0.15},
    {"height_m": 1.0, "radius_m": 0.1},
    {"height_m": 2.2, "radius_m": 0.06},
    {"height_m": 0.55, "radius_m": 0.13},
]
BOUNCE_POINTS = [
    {"height_m": 0.5, "restitution": 0.4, "radius_m": 0.04},
    {"height_m": 2.5, "restitution": 0.95, "radius_m": 0.15},
    {"height_m": 1.0, "restitution": 0.7, "radius_m": 0.1},
    {"height_m": 2.0, "restitution": 0.5, "radius_m": 0.08},
    {"height_m": 0.8, "restitution": 0.85, "radius_m": 0.12},
]


@pytest.mark.parametrize("params", DROP_POINTS, ids=lambda p: f"h{p['height_m']}")
def test_drop_impact_time_within_half_percent(tmp_path, params):
    spec = get_scenario("drop")
    episode = read_episode(simulate_to(tmp_path, "drop", params, rig=STATE_ONLY_RIG), streams=("state",))
    measured = spec.measure_state(params, episode.tables["state"])
    predicted = spec.declared_law(params)
    assert measured["impact_time_s"] == pytest.approx(predicted["impact_time_s"].value, rel=0.005)
    assert measured["impact_speed_m_s"] == pytest.approx(predicted["impact_speed_m_s"].value, rel=0.005)


@pytest.mark.parametrize("params", BOUNCE_POINTS, ids=lambda p: f"h{p['height_m']}-e{p['restitution']}")
def test_bounce_apex_ratios_within_two_percent_of_e_squared(tmp_path, params):
    spec = get_scenario("bounce")
    episode = read_episode(simulate_to(tmp_path, "bounce", params, rig=STATE_ONLY_RIG), streams=("state",))
    measured = spec.measure_state(params, episode.tables["state"])
    apexes = [measured[f"apex_height_{k}_m"] for k in (1, 2, 3) if f"apex_height_{k}_m" in measured]
    heights = np.array([params["height_m"], *apexes])
    heights = heights[heights > 0.01]
    assert len(heights) >= 3, f"expected at least two apexes above 1 cm, got {heights}"
    ratios = heights[1:] / heights[:-1]
    e2 = params["restitution"] ** 2
    assert np.all(np.abs(ratios / e2 - 1) < 0.02), f"apex ratios {ratios} vs e^2 = {e2}"


def test_law_curve_matches_state_during_free_fall(drop_episode):
    spec = get_scenario("drop")
    params = drop_episode.meta.context.params
    state = drop_episode.tables["state"]
    t, z = state["t_s"], state["position_z_m"]
    falling = t < 0.95 * spec.declared_law(params)["impact_time_s"].value
    z_law = spec.law_position(params, t[falling])[:, 2]
    assert np.max(np.abs(z[falling] - z_law)) < 0.005  # metres; Euler at 1/1200 s drifts < 2 mm


def test_wrong_gravity_is_caught_by_the_law_check(tmp_path):
    """Negative control: a world with g = 5 m/s^2 must fail the drop law by far more than 0.5 %."""
    spec = get_scenario("drop")
    params = spec.resolve_params({"height_m": 1.0})
    low_gravity_drop = spec.model_copy(update={"world_changes": {"gravity_m_s2": 5.0}})

    from realitygap.episode.types import Context
    from realitygap.sim.runner import simulate_episode

    context = Context(scenario="drop", params=params, seed=0, rig=STATE_ONLY_RIG)
    simulate_episode(context, low_gravity_drop, tmp_path / "ep")
    measured = spec.measure_state(params, read_episode(tmp_path / "ep", streams=("state",)).tables["state"])
    predicted = spec.declared_law(params)["impact_time_s"].value
    assert measured["impact_time_s"] / predicted == pytest.approx(np.sqrt(9.81 / 5), rel=0.005)


def test_bounce_law_curve_peaks_at_the_declared_apexes():
    spec = get_scenario("bounce")
    params = spec.resolve_params({"height_m": 2.0, "restitution": 0.6, "radius_m": 0.1})
    h, e, r = 2.0, 0.6, 0.1
    t_fall = np.sqrt(2 * h / spec.gravity_m_s2)
    impacts = [spec.declared_law(params)[f"impact_time_{k}_s"].value for k in (1, 2, 3)]
    apex_times = [t + e ** (k + 1) * t_fall for k, t in enumerate(impacts)]
    z = spec.law_position(params, np.array(apex_times))[:, 2]
    assert z - r == pytest.approx([h * e**2, h * e**4, h * e**6], rel=1e-9)
    assert spec.law_position(params, np.array(impacts))[:, 2] == pytest.approx([r] * 3, abs=1e-9)
    late = spec.law_position(params, np.array([20.0]))[0, 2]  # the series continues, it does not stop at 3
    assert r <= late < r + h * e**40
