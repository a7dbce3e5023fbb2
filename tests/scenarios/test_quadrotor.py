"""`quadrotor`: the twin obeys the declared short-time law; hover is exact; defects are caught; the drone is seen.

Tolerance: 2 % of every law quantity (roll, pitch, yaw, altitude change, drift x and y at the
horizon T) at six parameter points (corners and interior of arm length x thrust scale, all four
rotors). Measured worst cases over a 5 x 7 x 4 grid: 0.54 % (roll/pitch), 0.35 % (yaw), 0.06 %
(altitude), 0.69 % (drift).
"""

import math

import numpy as np
import pytest

from realitygap.core.mj import mujoco
from realitygap.episode.io import read_episode
from realitygap.scenarios import get_scenario
from realitygap.scenarios.quadrotor import (
    DRONE_BODY,
    START_HEIGHT_M,
    YAW_MOMENT_PER_THRUST_M,
    drone_parts,
    drone_reach_m,
    rigid_body_inertia,
    rotation_vector,
)
from tests.helpers import STATE_ONLY_RIG, VISUAL_RIG, assert_whole_and_distinct, edit_mjcf, simulate_to, simulated_state

TOLERANCE = 0.02
QUANTITIES = ("roll_rad", "pitch_rad", "yaw_rad", "altitude_change_m", "drift_x_m", "drift_y_m")

LAW_POINTS = [
    {"arm_length_m": 0.12, "thrust_scale": 0.85, "defective_rotor": "front_left"},
    {"arm_length_m": 0.25, "thrust_scale": 0.85, "defective_rotor": "rear_right"},
    {"arm_length_m": 0.12, "thrust_scale": 0.99, "defective_rotor": "front_right"},
    {"arm_length_m": 0.25, "thrust_scale": 0.95, "defective_rotor": "rear_left"},
    {"arm_length_m": 0.18, "thrust_scale": 0.9, "defective_rotor": "front_right"},
    {"arm_length_m": 0.15, "thrust_scale": 0.97, "defective_rotor": "rear_right"},
]


def _simulate(tmp_path, spec, params, rig=STATE_ONLY_RIG):
    """Simulate `spec` (possibly a perturbed subclass) and return its state table."""
    return simulated_state(tmp_path, "quadrotor", params, spec, rig)


def _relative_errors(spec, params, state) -> dict[str, float]:
    measured, predicted = spec.measure_state(params, state), spec.declared_law(params)
    return {k: measured[k] / predicted[k].value - 1 for k in QUANTITIES}


@pytest.mark.parametrize("params", LAW_POINTS, ids=lambda p: f"L{p['arm_length_m']}-s{p['thrust_scale']}-{p['defective_rotor']}")
def test_state_obeys_the_law_within_two_percent(tmp_path, params):
    spec = get_scenario("quadrotor")
    episode = read_episode(simulate_to(tmp_path, "quadrotor", params, rig=STATE_ONLY_RIG), streams=("state",))
    state = episode.tables["state"]
    errors = _relative_errors(spec, params, state)
    assert all(abs(e) < TOLERANCE for e in errors.values()), errors
    # the horizon is the last sample, and the drone never comes near the floor
    assert state["t_s"][-1] == pytest.approx(spec.horizon_s(params), abs=1e-9)
    lowest_m = state["position_z_m"].min() - drone_reach_m(params["arm_length_m"])
    assert lowest_m > START_HEIGHT_M - 0.5


def test_hover_with_all_rotors_nominal_stays_put(tmp_path):
    """Negative-control style: equal thrusts m g / 4 hold the drone in place to rounding precision."""
    spec = get_scenario("quadrotor")
    params = {"arm_length_m": 0.18, "thrust_scale": 1.0}
    state = _simulate(tmp_path, spec, params)
    assert state["t_s"][-1] == pytest.approx(0.5)  # no tilt: the horizon is the 0.5 s cap
    position = np.stack([state[f"position_{a}_m"] for a in "xyz"], axis=1)
    assert np.abs(position - [0.0, 0.0, START_HEIGHT_M]).max() < 1e-9
    quat = np.stack([state[f"quaternion_{a}"] for a in "wxyz"], axis=1)
    assert np.abs(rotation_vector(quat)).max() < 1e-9
    predicted = spec.declared_law(params)
    assert all(abs(predicted[k].value) < 1e-12 for k in QUANTITIES)


@pytest.mark.parametrize("arm_length_m", [0.12, 0.25])
def test_a_95_percent_rotor_tilts_the_drone_visibly(tmp_path, arm_length_m):
    """At least 10 degrees of tilt at T (the 0.25 m arm is the slowest), and a declared small yaw."""
    spec = get_scenario("quadrotor")
    params = {"arm_length_m": arm_length_m, "thrust_scale": 0.95, "defective_rotor": "front_left"}
    measured = spec.measure_state(params, _simulate(tmp_path, spec, params))
    assert math.hypot(measured["roll_rad"], measured["pitch_rad"]) > math.radians(10)
    # front-left weak: left side down (roll < 0), nose down (pitch > 0), clockwise yaw
    assert measured["roll_rad"] < 0 < measured["pitch_rad"] and measured["yaw_rad"] < -0.005


def test_payload_the_law_does_not_know_is_caught(tmp_path):
    """Negative control: 0.2 kg of hidden payload in the hub; the drone sinks and tips more slowly."""
    spec = get_scenario("quadrotor")
    params = spec.resolve_params({"arm_length_m": 0.12, "thrust_scale": 0.95})

    class LoadedQuadrotor(type(spec)):
        def build_mjcf(self, params, timestep_s):
            return edit_mjcf(super().build_mjcf(params, timestep_s), lambda spec: setattr(spec.geom("hub"), "mass", 0.8))

    errors = _relative_errors(spec, params, _simulate(tmp_path, LoadedQuadrotor(), params))
    assert errors["altitude_change_m"] > 10  # sinks at g / 6 instead of g / 80
    assert errors["roll_rad"] < -0.04 and errors["pitch_rad"] < -0.04  # hub inertia +6 %


def test_missing_yaw_reaction_is_caught_and_isolated(tmp_path):
    """Negative control: rotors without a reaction moment: yaw fails, roll and pitch still hold."""
    spec = get_scenario("quadrotor")
    params = spec.resolve_params({"arm_length_m": 0.18, "thrust_scale": 0.9, "defective_rotor": "rear_left"})

    class NoDragQuadrotor(type(spec)):
        def build_mjcf(self, params, timestep_s):
            def no_yaw_moment(spec):
                for motor in spec.actuators:
                    motor.gear[5] = 0.0

            return edit_mjcf(super().build_mjcf(params, timestep_s), no_yaw_moment)

    errors = _relative_errors(spec, params, _simulate(tmp_path, NoDragQuadrotor(), params))
    assert errors["yaw_rad"] < -0.9
    assert abs(errors["roll_rad"]) < TOLERANCE and abs(errors["pitch_rad"]) < TOLERANCE


def test_law_closed_form():
    """alpha from lever arm and reaction moment by hand, with MuJoCo's compiled inertia; the law
    position at T is predict()'s, drift grows as t^4 and the angles as t^2."""
    spec = get_scenario("quadrotor")
    arm_m, scale = 0.2, 0.9
    params = spec.resolve_params({"arm_length_m": arm_m, "thrust_scale": scale, "defective_rotor": "front_left"})
    model = mujoco.MjModel.from_xml_string(spec.build_mjcf(params, 1e-3))
    body = model.body(DRONE_BODY).id
    mass, g = float(model.body_mass[body]), spec.gravity_m_s2
    i_tilt, i_yaw = sorted(model.body_inertia[body])[0], sorted(model.body_inertia[body])[2]
    loss_n = (1 - scale) * mass * g / 4
    lever_m = arm_m / math.sqrt(2)
    alpha = np.array([-lever_m * loss_n / i_tilt, lever_m * loss_n / i_tilt, -YAW_MOMENT_PER_THRUST_M * loss_n / i_yaw])
    assert spec.dynamics(params).angular_acceleration_rad_s2 == pytest.approx(alpha, rel=1e-7)  # MJCF text rounding
    alpha = spec.dynamics(params).angular_acceleration_rad_s2

    T = spec.horizon_s(params)
    assert math.hypot(*alpha[:2]) * T**2 / 2 <= 0.25 < math.hypot(*alpha[:2]) * (T + 1 / 30) ** 2 / 2
    predicted = {k: q.value for k, q in spec.declared_law(params).items()}
    assert [predicted["roll_rad"], predicted["pitch_rad"], predicted["yaw_rad"]] == pytest.approx(alpha * T**2 / 2, rel=1e-12)
    lift = (3 + scale) * g / 4
    assert predicted["altitude_change_m"] == pytest.approx(
        (lift - g) * T**2 / 2 - lift * (alpha[0] ** 2 + alpha[1] ** 2) * T**6 / 240, rel=1e-9)
    assert predicted["drift_x_m"] == pytest.approx(lift * alpha[1] * T**4 / 24, rel=1e-9)
    position = spec.law_position(params, np.array([0.0, T / 2, T]))
    assert position[0] == pytest.approx([0.0, 0.0, START_HEIGHT_M], abs=1e-15)
    assert position[2] == pytest.approx(
        [predicted["drift_x_m"], predicted["drift_y_m"], START_HEIGHT_M + predicted["altitude_change_m"]], rel=1e-12)
    assert position[1, :2] == pytest.approx(position[2, :2] / 16, rel=1e-12)
    assert spec.predict_angles_rad(params, np.array([T / 2]))[0] == pytest.approx(alpha * T**2 / 8, rel=1e-12)


@pytest.mark.parametrize("arm_length_m", [0.12, 0.25])
def test_primitive_inertia_is_mujocos(arm_length_m):
    """The law's inertia (computed from the primitives) is the compiled twin's, centre of mass at the origin."""
    spec = get_scenario("quadrotor")
    model = mujoco.MjModel.from_xml_string(spec.build_mjcf({"arm_length_m": arm_length_m}, 1e-3))
    body = model.body(DRONE_BODY).id
    ours = rigid_body_inertia(drone_parts(arm_length_m))
    assert ours.mass_kg == pytest.approx(1.0, rel=1e-12) == model.body_mass[body]
    assert np.abs(model.body_ipos[body]).max() < 1e-15 and np.abs(ours.com_m).max() < 1e-15
    assert np.abs(ours.inertia_kg_m2 - np.diag(np.diag(ours.inertia_kg_m2))).max() < 1e-15
    assert sorted(np.diag(ours.inertia_kg_m2)) == pytest.approx(sorted(model.body_inertia[body]), rel=1e-7)


def test_rotation_vector_convention():
    axis = np.array([1.0, -1.0, 0.2]) / np.linalg.norm([1.0, -1.0, 0.2])
    angle = 0.3
    q = np.r_[math.cos(angle / 2), math.sin(angle / 2) * axis]
    assert rotation_vector(np.stack([q, -q, [1.0, 0.0, 0.0, 0.0]])) == pytest.approx(
        np.stack([angle * axis, angle * axis, np.zeros(3)]), abs=1e-12)
    mat = np.zeros(9)
    mujoco.mju_quat2Mat(mat, q)  # positive roll lifts the left (+y) side
    assert (mat.reshape(3, 3) @ [0.0, 1.0, 0.0])[2] > 0


@pytest.mark.parametrize("params", [
    {"arm_length_m": 0.12, "thrust_scale": 0.85, "defective_rotor": "front_left", "colour": "yellow"},
    {"arm_length_m": 0.25, "thrust_scale": 0.95, "defective_rotor": "rear_right", "colour": "blue"},
], ids=["small-fast", "large-slow"])
def test_drone_whole_in_every_frame_and_distinct_from_background(tmp_path, params):
    episode = read_episode(simulate_to(tmp_path, "quadrotor", params, rig=VISUAL_RIG))
    # Seen edge-on from the side (camera at its height), ~1-3 % of the image: more than 50 px. The drone
    # is thin, so many of its outline pixels are anti-aliased blends: the scene starts beyond a 1-pixel ring.
    assert_whole_and_distinct(episode, "drone", min_visible_px=50, skip_ring="4")
