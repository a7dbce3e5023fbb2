"""`collision`: ground truth obeys the 1-D collision law; the law curve, negative controls, visibility.

Tolerance 2 %: relative for v_B', momentum ratio, energy ratio and impact time; v_A' (zero at
m_A = e m_B) within 2 % of the approach speed v. Six parameter points: corners and interior.
"""

import numpy as np
import pytest

from realitygap.episode.io import read_episode
from realitygap.scenarios import get_scenario
from realitygap.scenarios.base import body_column
from realitygap.scenarios.collision import (
    PUCK_HEIGHT_M,
    PUCK_RADIUS_M,
    _ImpactSimulation,
    calibrated_damping,
    impact_layout,
)
from tests.helpers import STATE_ONLY_RIG, VISUAL_RIG, assert_whole_and_distinct, edit_mjcf, simulate_to, simulated_state

TOLERANCE = 0.02

POINTS = [
    {"speed_m_s": 0.5, "mass_ratio": 0.5, "restitution": 0.3},
    {"speed_m_s": 3.0, "mass_ratio": 2.0, "restitution": 1.0},
    {"speed_m_s": 3.0, "mass_ratio": 0.5, "restitution": 1.0},
    {"speed_m_s": 0.5, "mass_ratio": 2.0, "restitution": 0.3},
    {"speed_m_s": 1.5, "mass_ratio": 1.0, "restitution": 0.8},
    {"speed_m_s": 2.2, "mass_ratio": 1.3, "restitution": 0.55},
]


def _simulate(tmp_path, params, spec=None, rig=STATE_ONLY_RIG):
    """State table of one episode; `spec` overrides the registered scenario (negative controls)."""
    return simulated_state(tmp_path, "collision", params, spec, rig)


def _law_errors(params, measured) -> dict[str, float]:
    predicted = {k: q.value for k, q in get_scenario("collision").declared_law(params).items()}
    errors = {k: abs(measured[k] / predicted[k] - 1) for k in predicted if k != "velocity_a_after_m_s"}
    errors["velocity_a_after_m_s"] = abs(measured["velocity_a_after_m_s"] - predicted["velocity_a_after_m_s"]) / params["speed_m_s"]
    return errors


@pytest.mark.parametrize("params", POINTS, ids=lambda p: f"v{p['speed_m_s']}-m{p['mass_ratio']}-e{p['restitution']}")
def test_state_obeys_collision_law_within_two_percent(tmp_path, params):
    spec = get_scenario("collision")
    state = _simulate(tmp_path, params)
    errors = _law_errors(params, spec.measure_state(params, state))
    assert max(errors.values()) < TOLERANCE, errors

    # Head-on at equal heights: no tipping, no spin, pucks stay on the floor.
    for body in ("puck_a", "puck_b"):
        spin = max(np.abs(body_column(state, body, f"angular_velocity_{a}_rad_s")).max() for a in "xyz")
        assert spin < 1e-6, f"{body} rotates at {spin} rad/s"
        z = body_column(state, body, "position_z_m")
        assert np.abs(z - PUCK_HEIGHT_M / 2).max() < 1e-3
        assert np.abs(body_column(state, body, "position_y_m")).max() < 1e-9

    # The camera box holds both pucks until the end.
    low, high = spec.motion_bounds_m(params)
    for body in ("puck_a", "puck_b"):
        x = body_column(state, body, "position_x_m")
        assert low[0] <= x.min() - PUCK_RADIUS_M and x.max() + PUCK_RADIUS_M <= high[0]

    # The law curve of puck A (an instantaneous impact) follows the state away from the 7 ms contact,
    # which shifts the line after it by about (v - v_A') x half the contact time (3.6 ms): <= 15 mm.
    t = body_column(state, "puck_a", "t_s")
    law = spec.declared_law(params)
    away = np.abs(t - law["impact_time_s"].value) > 0.02
    x_err = np.abs(body_column(state, "puck_a", "position_x_m")[away] - spec.law_position(params, t[away])[:, 0])
    assert x_err.max() < 0.004 * (params["speed_m_s"] - law["velocity_a_after_m_s"].value) + 1e-3


def test_law_curve_is_the_declared_motion():
    """Closed form: A starts `gap` behind B, touches it at gap / v, moves at v before and v_A' after."""
    spec = get_scenario("collision")
    params = spec.resolve_params({"speed_m_s": 2.0, "mass_ratio": 0.7, "restitution": 0.6})
    law = spec.declared_law(params)
    t_impact, gap = impact_layout(2.0)
    assert law["impact_time_s"].value == pytest.approx(gap / 2.0)
    assert spec.duration_s(params) == pytest.approx(2 * t_impact)
    x = spec.law_position(params, np.array([0.0, t_impact, t_impact - 0.1, t_impact + 0.1]))
    assert x[0, 0] == pytest.approx(-PUCK_RADIUS_M - gap) and x[1, 0] == pytest.approx(-PUCK_RADIUS_M)
    assert (x[1, 0] - x[2, 0]) / 0.1 == pytest.approx(law["velocity_a_before_m_s"].value)
    assert (x[3, 0] - x[1, 0]) / 0.1 == pytest.approx(law["velocity_a_after_m_s"].value)
    assert np.allclose(x[:, 1], 0.0) and np.allclose(x[:, 2], PUCK_HEIGHT_M / 2)
    v_a, v_b, m = law["velocity_a_after_m_s"].value, law["velocity_b_after_m_s"].value, 0.7
    assert v_b - v_a == pytest.approx(0.6 * 2.0)  # separation speed = e x approach speed
    assert v_a + m * v_b == pytest.approx(2.0)  # momentum per m_A
    assert law["energy_ratio"].value == pytest.approx((v_a**2 + m * v_b**2) / 4.0)


def test_calibration_reproduces_restitution_and_reaches_e_one():
    dt, speed = 1.0 / 9600.0, 1.7
    _, gap = impact_layout(speed)
    impact = _ImpactSimulation(speed, 1.0, gap, dt)
    dampings = [calibrated_damping(e, speed, 1.0, gap, dt) for e in (0.3, 0.7, 1.0)]
    assert dampings[0] > dampings[1] > dampings[2] >= 0.0
    assert dampings[2] < 1.0  # e = 1 is the zero-damping limit
    for e, damping in zip((0.3, 0.7, 1.0), dampings):
        assert impact.restitution(damping) == pytest.approx(e, abs=1e-6)


def test_wrong_mass_is_caught_by_the_momentum_check(tmp_path):
    """Negative control: a twin whose puck B is twice as heavy as declared fails momentum by ~ 1/3."""
    spec = get_scenario("collision")

    class HeavyB(type(spec)):
        def build_mjcf(self, params, timestep_s):
            return super().build_mjcf({**params, "mass_ratio": 2.0 * float(params["mass_ratio"])}, timestep_s)

    params = spec.resolve_params({"speed_m_s": 1.5, "mass_ratio": 1.0, "restitution": 1.0})
    measured = spec.measure_state(params, _simulate(tmp_path, params, HeavyB()))
    # With m_B = 2 m_A and e = 1: v_A' = -v/3, v_B' = 2v/3; weighed with the declared m_B = m_A: 1/3.
    assert measured["momentum_ratio"] == pytest.approx(1 / 3, rel=TOLERANCE)
    assert _law_errors(params, measured)["momentum_ratio"] > 10 * TOLERANCE


def test_floor_friction_is_caught_by_the_law_check(tmp_path):
    """Negative control: friction 0.05 on the floor slows A (0.5 m/s^2): late impact, slow B."""
    spec = get_scenario("collision")

    class RoughFloor(type(spec)):
        def build_mjcf(self, params, timestep_s):
            def rough(spec):
                for name in ("puck_a_geom", "puck_b_geom"):
                    spec.geom(name).condim = 3
                    spec.geom(name).friction[0] = 0.05

            return edit_mjcf(super().build_mjcf(params, timestep_s), rough)

    params = spec.resolve_params({"speed_m_s": 1.5, "mass_ratio": 1.0, "restitution": 0.8})
    errors = _law_errors(params, spec.measure_state(params, _simulate(tmp_path, params, RoughFloor())))
    assert errors["impact_time_s"] > 5 * TOLERANCE
    assert errors["velocity_b_after_m_s"] > 5 * TOLERANCE


@pytest.mark.parametrize("params", [
    {"speed_m_s": 3.0, "mass_ratio": 0.5, "restitution": 1.0, "colour_a": "yellow", "colour_b": "blue"},
    {"speed_m_s": 0.5, "mass_ratio": 2.0, "restitution": 0.3, "colour_a": "orange", "colour_b": "green"},
], ids=["fast-light-b", "slow-heavy-b"])
def test_pucks_whole_in_every_frame_and_distinct_from_scene(tmp_path, params):
    """The fast corner has the widest box (about 6 x 4 px pucks at 96 px). Green, the darkest colour
    against the grey floor, lost contrast to anti-aliasing on the former 4 cm pucks, so it is tested
    at the slow corner."""
    episode = read_episode(simulate_to(tmp_path, "collision", params, rig=VISUAL_RIG))
    assert set(episode.tables["annotations"]["name"]) == {"puck_a", "puck_b"}
    assert_whole_and_distinct(episode, "puck", instances=(1, 2), frames=range(len(episode.videos["rgb"])))
