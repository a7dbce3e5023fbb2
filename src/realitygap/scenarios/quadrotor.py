"""`quadrotor`: a hovering quadrotor flies open-loop with one defective rotor and tips over.

Scene: an X-configuration quadrotor (body x forward, y left, z up; arms at 45 degrees to x) of
1 kg, built from primitives (a central box, four box arms, four cylinder motors and four thin
cylinder rotor discs), hovers with its centre of mass 1.5 m above the floor at rest. There is no
attitude controller: each rotor pushes along the body z axis with the constant thrust
f_i = s_i m g / 4 (s_i = 1 except the defective rotor's `thrust_scale`), and reacts on the body
with the yaw moment +-k f_i (k = 0.016 m; front-left and rear-right rotors spin clockwise, so
their reaction is counter-clockwise, +z). Thrust is a MuJoCo <motor> on a site at each rotor
centre with gear "0 0 1 0 0 +-k": the force follows the body exactly at every physics step (an
xfrc_applied set per base tick would be piecewise constant). No air drag, no ground effect, no
rotor angular momentum (the rotors are not spinning bodies).

Law (short-time, small-angle series; declared as such). The body torque about the centre of
mass is tau = sum_i r_i x (0, 0, f_i) + (0, 0, +-k f_i), constant in the body frame; the angular
acceleration is alpha = I^-1 tau with I the inertia of the primitive geoms (`rigid_body_inertia`,
identical to MuJoCo's compiled inertia). At the horizon T:

    roll, pitch, yaw = alpha T^2 / 2                                   (rad, per axis)
    altitude change  = (F/m - g) T^2 / 2 - (F/m) (alpha_x^2 + alpha_y^2) T^6 / 240   (m)
    drift x, y       = (F/m) (alpha_y, -alpha_x) T^4 / 24                  (m)

with F = sum_i f_i. The T^6 term is the leading loss of vertical thrust by the tilt
(1 - cos theta ~ theta^2 / 2): it is not optional; without it the altitude law is off by
2 theta_T^2 / (15 (1 - s)) (theta_T the tilt at T), for a 95 % rotor 1 % already at 0.06 rad and
17 % at 0.25 rad. The drift uses F/m, not g (3.75 % apart at s = 0.85).

Angle convention: roll, pitch and yaw are the x, y and z components of the rotation vector
(axis times angle, `rotation_vector`) of the body quaternion world_from_body; the drone starts
level with body axes = world axes, so they are also the body-frame components. They agree with
every Euler convention to first order. Euler angles are not used because in the X
configuration a defective rotor tilts about a diagonal axis, and intrinsic z-y-x Euler angles
of a rotation theta about (1, -1, 0)/sqrt(2) carry a purely kinematic yaw -theta^2 / 4, as large
as the reaction-torque yaw itself (theta = 0.25 rad: -0.016 rad vs 0.008 to 0.018 rad). For a rotation
about a fixed body axis the rotation vector is exactly alpha t^2 / 2 at any angle.

The series' error against the twin grows with the tilt reached at T, theta_T = |alpha_xy| T^2 / 2
(roll, pitch: gyroscopic coupling through the yaw rate, about (I_zz / I_xx - 1) yaw / 3, which
turns the tilt axis; yaw and drift: second-order terms of the rotation, e.g. the yaw turning the
tilted thrust, and sin theta ~ theta - theta^3 / 6; at small theta_T the physics step). The horizon
is therefore chosen per episode: T is the time at which the predicted tilt reaches
TILT_AT_HORIZON_RAD = 0.25 rad (14 degrees, clearly visible also for a 95 % rotor: at least
0.20 rad at T), well inside the tilts where the series holds, capped at 0.5 s (weak defects,
hover), rounded down to a whole 1/30 s video frame; over the domain 1/6 s <= T <= 0.5 s. The
episode ends at T: after it the open-loop drone keeps tipping and the series no longer holds. The
centre of mass moves less than 0.06 m: no floor contact.

Physics settings: Euler integrator (the runner's), step <= 1/9600 s (MAX_TIMESTEP_S, as `drop`).
The semi-implicit Euler step adds a relative error ~ k dt / T to each t^n law; at 1/9600 s it is
small against the series' own error, at the default 1/1200 s it is not.

Development measurements behind these settings (the error against the tilt, the step):
docs/twins.md.
"""

from __future__ import annotations

import math
from typing import ClassVar, Mapping, NamedTuple

import numpy as np

from realitygap.core.fitting import FitResult, MeasuredTrack, linear_fit, unmeasured
from realitygap.scenarios.base import (
    InstanceSpec,
    LawQuantity,
    Parameter,
    Params,
    ScenarioSpec,
    body_column,
    colour_parameter,
)
from realitygap.scenarios.hints import Fact, Hint, hint
from realitygap.scenarios.world import COLOUR_NAMES, rgba, world_mjcf

DRONE_BODY = "drone"
START_HEIGHT_M = 1.5
"""Height of the centre of mass above the floor at t = 0."""
YAW_MOMENT_PER_THRUST_M = 0.016
"""Rotor reaction (drag) moment per newton of thrust, k = k_M / k_F, metres."""
TILT_AT_HORIZON_RAD = 0.25
MAX_HORIZON_S = 0.5
HORIZON_GRID_S = 1.0 / 30.0
"""The horizon falls on a whole video frame at 30 fps (and on a 1200 Hz state sample)."""
MAX_TIMESTEP_S = 1.0 / 9600.0

ROTOR_NAMES: tuple[str, ...] = ("front_left", "front_right", "rear_right", "rear_left")
ROTOR_AZIMUTH_RAD: dict[str, float] = {
    "front_left": math.pi / 4, "front_right": -math.pi / 4, "rear_right": -3 * math.pi / 4, "rear_left": 3 * math.pi / 4,
}
ROTOR_YAW_SIGN: dict[str, float] = {"front_left": 1.0, "front_right": -1.0, "rear_right": 1.0, "rear_left": -1.0}
"""Sign of each rotor's reaction moment on the body about +z (clockwise rotors push the body
counter-clockwise). Diagonal rotors share a sign, so the four cancel at equal thrust."""

# Parts (design frame, before the centre of mass is moved to the body origin). Masses sum to 1 kg.
HUB_HALF_SIZE_M = (0.05, 0.05, 0.02)
HUB_MASS_KG = 0.6
ARM_HALF_WIDTH_M, ARM_HALF_HEIGHT_M, ARM_MASS_KG = 0.008, 0.006, 0.025
MOTOR_RADIUS_M, MOTOR_HALF_HEIGHT_M, MOTOR_Z_M, MOTOR_MASS_KG = 0.014, 0.015, 0.02, 0.05
ROTOR_RADIUS_PER_ARM = 0.4
"""Rotor disc radius / arm length: adjacent discs (L sqrt 2 apart) never overlap."""
ROTOR_HALF_HEIGHT_M, ROTOR_Z_M, ROTOR_MASS_KG = 0.003, 0.04, 0.025


class Part(NamedTuple):
    """A primitive geom of the drone: `kind` "box" (half sizes) or "cylinder" (radius, half height,
    axis along body z), centre `pos_m` in the body frame, rotated by `yaw_rad` about body z."""

    name: str
    kind: str
    size_m: tuple[float, ...]
    pos_m: tuple[float, float, float]
    yaw_rad: float
    mass_kg: float


class RigidBody(NamedTuple):
    mass_kg: float
    com_m: np.ndarray
    """(3,) centre of mass in the body frame"""
    inertia_kg_m2: np.ndarray
    """(3, 3) inertia tensor about the centre of mass, body axes"""


class Dynamics(NamedTuple):
    thrusts_n: np.ndarray
    """(4,) rotor thrusts in ROTOR_NAMES order"""
    total_thrust_n: float
    angular_acceleration_rad_s2: np.ndarray
    """(3,) body-frame angular acceleration at t = 0 (= the law's constant alpha)"""
    mass_kg: float


class QuadrotorScenario(ScenarioSpec):
    name: str = "quadrotor"
    summary: str = "A hovering quadrotor with one weak rotor flies open-loop and tips over."
    parameters: tuple[Parameter, ...] = (
        Parameter(name="arm_length_m", unit="m", low=0.12, high=0.25, default=0.18,
                  description="distance from the centre to each rotor axis (X configuration)"),
        Parameter(name="defective_rotor", unit="", choices=ROTOR_NAMES, default="front_left",
                  description="the rotor whose thrust is scaled"),
        Parameter(name="thrust_scale", unit="", low=0.85, high=1.0, default=0.95,
                  description="thrust of the defective rotor / nominal hover thrust m g / 4"),
        colour_parameter("orange", COLOUR_NAMES, what="drone"),
    )
    law: str = (
        "alpha = I^-1 tau (thrust imbalance x lever arm, yaw from reaction moments k f); roll, pitch, yaw = "
        "alpha T^2 / 2; altitude change = (F/m - g) T^2 / 2 - (F/m) |alpha_xy|^2 T^6 / 240; "
        "drift (x, y) = (F/m) (alpha_y, -alpha_x) T^4 / 24; T = time to 0.25 rad tilt (<= 0.5 s)"
    )
    prompt_template: str = (
        "A quadrotor drone painted {colour} (X configuration, {arm_length_m:.2f} m arms) hovers motionless "
        f"{START_HEIGHT_M:g}" " m "
        "above a grey floor, seen from its right side with its nose pointing to the right of the image. The rotor at "
        "its {defective_rotor} corner gives only {thrust_scale:.0%} of the hover thrust and, with no stabilisation, "
        "the drone tips towards that rotor, starts to turn and drifts towards that side. Static camera, plain light "
        "background."
    )
    prompt_phrases: ClassVar[tuple[str, ...]] = (
        "a drone with a weak rotor tips over and falls",
        "a quadcopter loses thrust on one motor and flips",
        "a hovering quadrotor becomes unstable",
        "a drone with a faulty propeller tilts and drifts",
    )
    """Paraphrases of the scene, besides the summary and the prompt template, for choosing the scenario."""
    param_hints: ClassVar[Mapping[str, tuple[Hint, ...]]] = {
        "arm_length_m": (hint("arm", weight=2), hint("arms", weight=2), hint("arm length", weight=2)),
        "thrust_scale": (hint("thrust", weight=2), hint("power"), hint("gives"), hint("weak")),
    }
    """Per numeric parameter: the keywords that tie a number in a prompt to it."""
    prompt_facts: ClassVar[tuple[Fact, ...]] = (
        Fact("hover height", START_HEIGHT_M, "length", (hint("above"), hint("hovers"), hint("hovering"), hint("high"))),)
    """The start height the prompt template states: a prompt may repeat it, not change it."""
    instances: tuple[InstanceSpec, ...] = (
        InstanceSpec(name="drone", body=DRONE_BODY, class_name="quadrotor", temperature_k=308.15, emissivity=0.9),
    )
    sensor_body: str = DRONE_BODY
    event_margin_s: float = 0.0
    """The episode ends at the horizon: past it the open-loop drone keeps tipping and the law ends."""
    camera_elevation_deg: float = 30.0
    """Look down on the drone: a level camera sees the flat frame edge-on (a thin sliver of the image)."""

    # --- world --------------------------------------------------------------------------------
    def max_timestep_s(self, params: Params) -> float:
        return MAX_TIMESTEP_S

    def build_mjcf(self, params: Params, timestep_s: float) -> str:
        p = self.resolve_params(params)
        arm_m = float(p["arm_length_m"])
        colour = rgba(str(p["colour"]))
        geoms = "\n".join(_geom_xml(part, colour) for part in drone_parts(arm_m))
        sites = "\n".join(
            f'      <site name="rotor_{name}" pos="{x:.9f} {y:.9f} {z:.9f}" size="0.005" group="4"/>'
            for name, (x, y, z) in zip(ROTOR_NAMES, rotor_positions_m(arm_m))
        )
        body = (
            f'    <body name="{DRONE_BODY}" pos="0 0 {START_HEIGHT_M:g}">\n'
            f'      <freejoint name="{DRONE_BODY}_free"/>\n{geoms}\n{sites}\n    </body>'
        )
        motors = "\n".join(
            f'    <motor name="thrust_{name}" site="rotor_{name}" '
            f'gear="0 0 1 0 0 {ROTOR_YAW_SIGN[name] * YAW_MOMENT_PER_THRUST_M:g}"/>'
            for name in ROTOR_NAMES
        )
        return world_mjcf(self.name, body, self.world_options(p), extra_xml=f"  <actuator>\n{motors}\n  </actuator>")

    def initialize(self, params: Params, model, data) -> None:
        """Constant rotor thrusts (N) from t = 0; the drone starts at rest (MJCF pose, zero velocity)."""
        p = self.resolve_params(params)
        thrusts = self.dynamics(p).thrusts_n
        for name, thrust in zip(ROTOR_NAMES, thrusts):
            data.actuator(f"thrust_{name}").ctrl[0] = thrust

    def contact_settings(self, params: Params, timestep_s: float) -> dict:
        return {
            "drone": {
                "note": "no contact during the episode (centre of mass moves < 0.06 m from 1.5 m); rotor thrust = "
                "<motor> on a site per rotor, gear (0 0 1 0 0 +-k), constant ctrl = s_i m g / 4",
                "yaw_moment_per_thrust_m": YAW_MOMENT_PER_THRUST_M,
                "rotor_yaw_sign": dict(ROTOR_YAW_SIGN),
                "max_timestep_s": MAX_TIMESTEP_S,
            }
        }

    # --- law ----------------------------------------------------------------------------------
    def dynamics(self, params: Params) -> Dynamics:
        """Rotor thrusts and the body's constant angular acceleration alpha = I^-1 tau at t = 0."""
        p = self.resolve_params(params)
        arm_m = float(p["arm_length_m"])
        body = rigid_body_inertia(drone_parts(arm_m))
        hover_n = body.mass_kg * self.gravity_m_s2 / 4
        thrusts = np.array([hover_n * (float(p["thrust_scale"]) if name == p["defective_rotor"] else 1.0)
                            for name in ROTOR_NAMES])
        torque = np.zeros(3)
        for name, position, thrust in zip(ROTOR_NAMES, rotor_positions_m(arm_m), thrusts):
            torque += np.cross(position - body.com_m, [0.0, 0.0, thrust])
            torque[2] += ROTOR_YAW_SIGN[name] * YAW_MOMENT_PER_THRUST_M * thrust
        alpha = np.linalg.solve(body.inertia_kg_m2, torque)
        return Dynamics(thrusts, float(thrusts.sum()), alpha, body.mass_kg)

    def horizon_s(self, params: Params) -> float:
        """Time T (s) at which the law's tilt |alpha_xy| T^2 / 2 reaches TILT_AT_HORIZON_RAD, capped at
        MAX_HORIZON_S and rounded down to a whole HORIZON_GRID_S."""
        alpha = self.dynamics(params).angular_acceleration_rad_s2
        tilt_accel = math.hypot(alpha[0], alpha[1])
        raw = MAX_HORIZON_S if tilt_accel == 0 else min(MAX_HORIZON_S, math.sqrt(2 * TILT_AT_HORIZON_RAD / tilt_accel))
        frames = max(1, math.floor(raw / HORIZON_GRID_S + 1e-9))
        return frames * HORIZON_GRID_S

    def declared_law(self, params: Params) -> dict[str, LawQuantity]:
        p = self.resolve_params(params)
        horizon = self.horizon_s(p)
        at = f" at the horizon T = {horizon:.4f} s"
        angles = self.predict_angles_rad(p, np.array([horizon]))[0]
        position = self.law_position(p, np.array([horizon]))[0]
        values = {
            "roll_rad": (angles[0], "rad", "rotation-vector x component (roll about body x, forward)"),
            "pitch_rad": (angles[1], "rad", "rotation-vector y component (pitch about body y, left; + = nose down)"),
            "yaw_rad": (angles[2], "rad", "rotation-vector z component (yaw from the rotors' reaction moments)"),
            "altitude_change_m": (position[2] - START_HEIGHT_M, "m", "change of the centre of mass height"),
            "drift_x_m": (position[0], "m", "horizontal displacement of the centre of mass along world x"),
            "drift_y_m": (position[1], "m", "horizontal displacement of the centre of mass along world y"),
        }
        return {k: LawQuantity(name=k, value=float(v), unit=u, description=d + at) for k, (v, u, d) in values.items()}

    def law_position(self, params: Params, t_s: np.ndarray) -> np.ndarray:
        """Law position (N, 3) of the centre of mass (= the body origin), world metres."""
        p = self.resolve_params(params)
        dyn = self.dynamics(p)
        t = np.asarray(t_s, dtype=float)
        ax, ay, _ = dyn.angular_acceleration_rad_s2
        lift = dyn.total_thrust_n / dyn.mass_kg  # m/s^2
        z = START_HEIGHT_M + (lift - self.gravity_m_s2) * t**2 / 2 - lift * (ax**2 + ay**2) * t**6 / 240
        return np.stack([lift * ay * t**4 / 24, -lift * ax * t**4 / 24, z], axis=-1)

    def duration_s(self, params: Params) -> float:
        return self.horizon_s(params) + self.event_margin_s

    def motion_bounds_m(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        """The law path of the centre of mass widened by the drone's reach (the largest distance of any
        geom point from it) in every direction, so any attitude fits."""
        p = self.resolve_params(params)
        path = self.law_position(p, np.linspace(0.0, self.duration_s(p), 31))
        reach = drone_reach_m(float(p["arm_length_m"]))
        return path.min(axis=0) - reach, path.max(axis=0) + reach

    def fit_declared_law(self, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
        return fit_quadrotor(self, params, tracks)

    def measure_state(self, params: Params, state: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Attitude (rotation vector of world_from_body) and centre-of-mass displacement at the horizon T,
        linearly interpolated between state samples (T falls on a sample in our episodes)."""
        p = self.resolve_params(params)
        horizon = self.horizon_s(p)
        t = body_column(state, DRONE_BODY, "t_s")
        quat = np.stack([body_column(state, DRONE_BODY, f"quaternion_{a}") for a in "wxyz"], axis=-1)
        pos = np.stack([body_column(state, DRONE_BODY, f"position_{a}_m") for a in "xyz"], axis=-1)
        if t.size == 0 or horizon > t[-1] + 1e-9:
            return {k: float("nan") for k in self.declared_law(p)}
        angles = [float(np.interp(horizon, t, column)) for column in rotation_vector(quat).T]
        shift = [float(np.interp(horizon, t, pos[:, i]) - pos[0, i]) for i in range(3)]
        return {"roll_rad": angles[0], "pitch_rad": angles[1], "yaw_rad": angles[2],
                "altitude_change_m": shift[2], "drift_x_m": shift[0], "drift_y_m": shift[1]}

    def law_trace(self, params: Params, state: Mapping[str, np.ndarray]) -> dict:
        """Tilt (norm of the roll and pitch rotation-vector components, degrees) against the law."""
        p = self.resolve_params(params)
        t = body_column(state, DRONE_BODY, "t_s")
        quat = np.stack([body_column(state, DRONE_BODY, f"quaternion_{a}") for a in "wxyz"], axis=-1)
        tilt = np.linalg.norm(rotation_vector(quat)[:, :2], axis=1)
        law = np.linalg.norm(self.predict_angles_rad(p, t)[:, :2], axis=1)
        return {"label": "tilt", "unit": "deg", "t_s": t, "state": np.degrees(tilt), "law": np.degrees(law)}

    def predict_angles_rad(self, params: Params, t_s: np.ndarray) -> np.ndarray:
        """Law attitude (N, 3): roll, pitch, yaw (rotation-vector components, rad) = alpha t^2 / 2."""
        alpha = self.dynamics(params).angular_acceleration_rad_s2
        return np.asarray(t_s, dtype=float)[:, None] ** 2 / 2 * alpha[None, :]


# --- geometry and mass -------------------------------------------------------------------------
def drone_parts(arm_length_m: float) -> list[Part]:
    """The drone's primitive geoms, placed so that the centre of mass is the body origin."""
    design: list[Part] = [Part("hub", "box", HUB_HALF_SIZE_M, (0.0, 0.0, 0.0), 0.0, HUB_MASS_KG)]
    rotor_radius = ROTOR_RADIUS_PER_ARM * arm_length_m
    for name in ROTOR_NAMES:
        azimuth = ROTOR_AZIMUTH_RAD[name]
        c, s = math.cos(azimuth), math.sin(azimuth)
        half = arm_length_m / 2
        design += [
            Part(f"arm_{name}", "box", (half, ARM_HALF_WIDTH_M, ARM_HALF_HEIGHT_M), (half * c, half * s, 0.0), azimuth,
                 ARM_MASS_KG),
            Part(f"motor_{name}", "cylinder", (MOTOR_RADIUS_M, MOTOR_HALF_HEIGHT_M),
                 (arm_length_m * c, arm_length_m * s, MOTOR_Z_M), 0.0, MOTOR_MASS_KG),
            Part(f"rotor_{name}", "cylinder", (rotor_radius, ROTOR_HALF_HEIGHT_M),
                 (arm_length_m * c, arm_length_m * s, ROTOR_Z_M), 0.0, ROTOR_MASS_KG),
        ]
    com = rigid_body_inertia(design).com_m
    return [part._replace(pos_m=tuple(float(v) for v in np.asarray(part.pos_m) - com)) for part in design]


def rotor_positions_m(arm_length_m: float) -> np.ndarray:
    """(4, 3) rotor disc centres (where the thrust acts) in the body frame, ROTOR_NAMES order."""
    parts = {part.name: part for part in drone_parts(arm_length_m)}
    return np.array([parts[f"rotor_{name}"].pos_m for name in ROTOR_NAMES])


def drone_reach_m(arm_length_m: float) -> float:
    """Largest distance (m) of any point of the drone's geoms from the body origin (upper bound via
    each part's bounding sphere)."""
    reach = 0.0
    for part in drone_parts(arm_length_m):
        if part.kind == "box":
            radius = math.sqrt(sum(h * h for h in part.size_m))
        else:
            radius = math.hypot(part.size_m[0], part.size_m[1])
        reach = max(reach, float(np.linalg.norm(part.pos_m)) + radius)
    return reach


def rigid_body_inertia(parts: list[Part]) -> RigidBody:
    """Mass, centre of mass and inertia tensor about it of solid primitives (MuJoCo's formulas:
    box m (b^2 + c^2) / 3 with half sizes; cylinder m r^2 / 2 about its axis, m (3 r^2 + h^2) / 12
    across with full length h), combined with the parallel-axis theorem."""
    mass = sum(part.mass_kg for part in parts)
    com = sum(part.mass_kg * np.asarray(part.pos_m, float) for part in parts) / mass
    inertia = np.zeros((3, 3))
    for part in parts:
        m = part.mass_kg
        if part.kind == "box":
            a, b, c = part.size_m
            local = m / 3 * np.diag([b * b + c * c, a * a + c * c, a * a + b * b])
        else:
            r, half_h = part.size_m
            across = m * (3 * r * r + 4 * half_h * half_h) / 12
            local = np.diag([across, across, m * r * r / 2])
        R = _yaw_matrix(part.yaw_rad)
        d = np.asarray(part.pos_m, float) - com
        inertia += R @ local @ R.T + m * (d @ d * np.eye(3) - np.outer(d, d))
    return RigidBody(mass, com, inertia)


def rotation_vector(quat_wxyz: np.ndarray) -> np.ndarray:
    """(N, 3) rotation vectors (unit axis times angle in [0, pi], rad) of (N, 4) unit quaternions w, x, y, z."""
    q = np.asarray(quat_wxyz, dtype=float)
    q = q * np.where(q[:, :1] < 0, -1.0, 1.0)  # same rotation, w >= 0: angle <= pi
    vec = q[:, 1:]
    sin_half = np.linalg.norm(vec, axis=1)
    angle = 2 * np.arctan2(sin_half, q[:, 0])
    scale = np.where(sin_half > 1e-12, angle / np.maximum(sin_half, 1e-300), 2.0)  # small angles: 2 v
    return vec * scale[:, None]


def _yaw_matrix(yaw_rad: float) -> np.ndarray:
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _geom_xml(part: Part, colour_rgba: str) -> str:
    pos = " ".join(f"{v:.9f}" for v in part.pos_m)
    size = " ".join(f"{v:.9f}" for v in part.size_m)
    half_yaw = part.yaw_rad / 2
    quat = f"{math.cos(half_yaw):.12f} 0 0 {math.sin(half_yaw):.12f}"
    return (f'      <geom name="{part.name}" type="{part.kind}" size="{size}" pos="{pos}" quat="{quat}" '
            f'mass="{part.mass_kg:g}" rgba="{colour_rgba}"/>')


# --- law fit on tracks measured from pixels --------------------------------------------------------

def fit_quadrotor(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """What one centroid can show of a tipping drone: its drift across the image and its apparent
    vertical displacement, on the x-z plane through the start (the motion plane), at the horizon T.

    Fits x = x0 + c4 t^4 (the law's drift form) and z = z0 + a2 t^2 + a4 t^4 jointly; drift_x_m =
    c4 T^4. Not measurable from a centroid, returned as NaN with a note: roll, pitch, yaw (need the
    attitude, e.g. from the mask's shape or keypoints), drift_y_m (along the viewing direction: it
    changes only the apparent size, which the tilt changes too), altitude_change_m (the camera looks
    down at elevation e, so moving away by dy raises the image like dz = tan(e) dy: the plane
    back-projection reports apparent_altitude_change_m ~ altitude change + tan(e) drift_y)."""
    track = tracks["drone"]
    t, x, sx = track.axis(0)
    _, z, sz = track.axis(2)
    horizon = spec.horizon_s(params)
    unmeasurable = {
        "roll_rad": ("rad", "attitude is not measurable from a centroid"),
        "pitch_rad": ("rad", "attitude is not measurable from a centroid"),
        "yaw_rad": ("rad", "attitude is not measurable from a centroid"),
        "drift_y_m": ("m", "motion along the viewing direction is not measurable from a centroid"),
        "altitude_change_m": ("m", "not measurable from a centroid: confounded with drift_y by the camera's elevation; "
                                   "see apparent_altitude_change_m"),
    }
    out = {k: FitResult(float("nan"), u, float("nan"), float("nan"), "", 0, float("nan"), "", note)
           for k, (u, note) in unmeasurable.items()}
    if len(t) < 4:
        return {**out, **unmeasured({"drift_x_m": "m", "apparent_altitude_change_m": "m"}, "fewer than 4 frames")}
    t_rel = t - t[0]
    zeros, ones = np.zeros_like(t_rel), np.ones_like(t_rel)
    design = np.block([[np.stack([ones, t_rel**4, zeros, zeros, zeros], axis=1)],
                       [np.stack([zeros, zeros, ones, t_rel**2, t_rel**4], axis=1)]])
    fit = linear_fit(design, np.r_[x, z], np.r_[sx, sz], "m", "x = x0 + c4 t^4, z = z0 + a2 t^2 + a4 t^4")
    out.update(fit.derive(lambda c: {"drift_x_m": c[1] * horizon**4,
                                     "apparent_altitude_change_m": c[3] * horizon**2 + c[4] * horizon**4},
                          {"drift_x_m": "m", "apparent_altitude_change_m": "m"},
                          {"drift_x_m": f"at the horizon T = {horizon:.4f} s",
                           "apparent_altitude_change_m": "altitude change + tan(camera elevation) x drift along the "
                                                         "viewing direction (not separable)"}))
    return out

