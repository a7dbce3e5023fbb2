"""`braking`: a car drives along +x at speed v; after a reaction time t_r its brakes lock the wheels
and it skids to a stop on a road with tyre-road friction mu.

Law (locked wheels sliding with Coulomb friction; no rolling resistance, no drag): the car rolls at
constant speed v until t_r, then decelerates at a = mu g (total friction mu m g, whatever the load
transfer between the axles) until it stops:
    stopping distance  d = v t_r + v^2 / (2 mu g),   stopping time  t_s = t_r + v / (mu g),
    x(t) = v t (t < t_r);  v t_r + v tau - a tau^2 / 2 (tau = t - t_r <= v / a);  d afterwards.

The twin. One instance, the chassis (body `car`, class "car", free joint; a 4.0 x 1.8 x 0.6 m body
box and a cabin box, roof at 1.39 m, both in the chosen colour; 1250 kg; it carries the IMU/GPS).
Four wheel bodies (dark tyre cylinders, r = 0.31 m, 20 kg) hang on hinges about the chassis y axis.
They are not part of the instance and sit inside the chassis outline (outer tyre face 1 cm inside
the body side), so they never hide the chassis from the camera on the -y side (visible fraction 1).

Initial state (`initialize`): chassis velocity v along +x and every wheel spinning at v / r, so the
car rolls without slip from the first step (tyres just touching the road). Before t_r nothing acts
along x: the hinges have no damping, friction loss or armature and the tyre contacts have condim 3
(no rolling or spin friction), so the speed stays v.

Brake (`control`): from the first control tick at or after t_r (at most one base tick late,
<= 1/1200 s: <= 8 mm at 10 m/s) every wheel hinge gets a dry-friction torque (joint `frictionloss`)
of 3000 Nm, about twice the largest road torque on a locked wheel (front wheel at mu = 1 with load
transfer: 1.0 * 4.9 kN * 0.31 m = 1.5 kNm), so the wheels spin down quickly and stay (nearly)
locked: dry friction is a constraint solved together with the contacts. Not used: a large joint
damping switched on at speed (its explicit torque enters the constraint solver and launches the car
into the air), a joint-limit lock (the abrupt stop bounces the car), and weaker or stronger brake
torques (the onset transient grows).

Friction model. Tyre-road contacts are explicit <pair>s (wheel contact geom, floor), so mu is the
tyre-road friction exactly, whatever the floor's own friction; condim 3, elliptic cone, impratio 1,
10 noslip iterations (without noslip the stopping time drifts). The contact geom is an invisible
ellipsoid with the tyre's radius in the rolling plane, inside the tyre cylinder: it touches the road
at one point, where a horizontal cylinder touches it at both rim edges and the contact jumps between
them. MuJoCo's friction is a soft velocity constraint with reference acceleration -b * slip velocity.
With the default b (about 100 /s) a car sliding at several m/s "wants" hundreds of m/s^2 of
tangential acceleration, and the convex cone turns the excess into a normal push: the tyres hop
off the road. So b is *scheduled* in `control`, every base tick, from the chassis speed:
b = 3 mu g / |v| (capped at 1 / timestep), a friction reference 3x what Coulomb friction can deliver,
so sliding friction saturates at mu N while the push stays small. Normal contact: solref (0.01, 1),
solimp (0.9, 0.95, 0.001) (half MuJoCo's default time constant). Physics step: the clock's
1/1200 s (the default 1 ms limit); the law needs no finer step.

Known artefact: the residual push makes the rear tyres lose contact for single steps, periodically,
on part of the skid (the chassis height barely changes: invisible). The mean force is right, but
an instantaneous accelerometer sample aliases it; the IMU reads period means (`realitygap.sim.imu`).

Development measurements behind these settings: docs/twins.md.
"""

from __future__ import annotations

import math
from typing import ClassVar, Mapping

import numpy as np

from realitygap.core.fitting import Fit, FitResult, MeasuredTrack, noise_margin_m, nonlinear_fit, unmeasured
from realitygap.scenarios.base import (
    InstanceSpec,
    LawQuantity,
    Parameter,
    Params,
    ScenarioSpec,
    body_column,
    colour_parameter,
    first_crossing_time,
)
from realitygap.scenarios.hints import FRICTION_HINTS, SPEED_HINTS, Hint, hint
from realitygap.scenarios.world import COLOUR_NAMES, WorldOptions, rgba, world_mjcf

# --- car geometry (metres, kilograms; chassis frame: x forward, y left, z up, origin at the
# centre of the lower body box) -------------------------------------------------------------------
BODY_HALF_M = (2.0, 0.9, 0.3)
"""Lower body box: 4.0 x 1.8 x 0.6 m."""
CABIN_HALF_M = (1.1, 0.8, 0.22)
CABIN_POS_M = (-0.2, 0.0, 0.52)
"""Cabin box on top of the body: roof at 0.65 + 0.52 + 0.22 = 1.39 m."""
BODY_MASS_KG, CABIN_MASS_KG, WHEEL_MASS_KG = 1100.0, 150.0, 20.0
WHEEL_RADIUS_M = 0.31
WHEEL_HALF_WIDTH_M = 0.11
WHEEL_X_M, WHEEL_Y_M = 1.35, 0.78
"""Wheel centres at (+-1.35, +-0.78): wheelbase 2.7 m, outer tyre face 1 cm inside the body side."""
CHASSIS_HEIGHT_M = 0.65
"""World height of the chassis origin with the tyres just touching the road."""
WHEELS = ("fl", "fr", "rl", "rr")
TYRE_RGBA = "0.12 0.12 0.13 1"

# --- brake and tyre-road contact ------------------------------------------------------------------
BRAKE_TORQUE_NM = 3000.0
"""Dry-friction brake torque per wheel: about 2x the largest road torque on a locked wheel."""
BRAKE_SOLIMP = (0.99, 0.9999, 0.001)
BRAKE_SOLREF = (0.02, 1.0)
"""Brake (hinge frictionloss) constraint: impedance near 1 (stiff); default time constant (a stiffer
one stops the wheels more abruptly, and the distance suffers)."""
FRICTION_REFERENCE_FACTOR = 3.0
"""Scheduled friction reference b = factor * mu g / |v| (see module docstring)."""
MAX_FRICTION_DAMPING_STEPS = 1.0
"""Cap of b in 1 / timestep units (a soft constraint needs b * timestep <= 1)."""
CONTACT_SOLREF = (0.01, 1.0)
CONTACT_SOLIMP = (0.9, 0.95, 0.001)
"""Tyre-road normal contact (MuJoCo default impedance, half the default time constant)."""
OPTION_ATTRS = 'cone="elliptic" impratio="1" noslip_iterations="10"'

STOP_SPEED_M_S = 0.01
"""The car counts as stopped below this speed; the stopping time adds STOP_SPEED / deceleration."""


class BrakingScenario(ScenarioSpec):
    name: str = "braking"
    summary: str = "A car at speed v brakes after a reaction time and skids to a stop."
    parameters: tuple[Parameter, ...] = (
        Parameter(name="speed_m_s", unit="m/s", low=3.0, high=10.0, default=7.0,
                  description="initial driving speed along +x"),
        Parameter(name="friction", unit="", low=0.4, high=1.0, default=0.7,
                  description="tyre-road Coulomb friction coefficient mu (locked wheels slide)"),
        Parameter(name="reaction_time_s", unit="s", low=0.0, high=0.5, default=0.2,
                  description="time at constant speed before the brakes lock the wheels"),
        colour_parameter("red", COLOUR_NAMES, what="car body"),
    )
    law: str = ("stopping distance d = v t_r + v^2 / (2 mu g); stopping time t_r + v / (mu g); deceleration mu g; "
                "x(t) = v t before t_r, then v t_r + v tau - mu g tau^2 / 2 until the stop")
    prompt_template: str = (
        "A {colour} car drives along a flat grey road at {speed_m_s:.1f} m/s. After {reaction_time_s:.2f} s the "
        "driver slams on the brakes, the wheels lock and the car skids to a stop (tyre-road friction "
        "{friction:.2f}). Static side camera, plain light background."
    )
    prompt_phrases: ClassVar[tuple[str, ...]] = (
        "a car brakes hard and skids to a stop",
        "a driver slams on the brakes and the vehicle stops",
        "a vehicle braking on a road after a reaction time",
        "an emergency stop of a moving car",
    )
    """Paraphrases of the scene, besides the summary and the prompt template, for choosing the scenario."""
    param_hints: ClassVar[Mapping[str, tuple[Hint, ...]]] = {
        "speed_m_s": SPEED_HINTS,
        "friction": FRICTION_HINTS,
        "reaction_time_s": (hint("reaction", weight=2), hint("after"), hint("delay", weight=2), hint("reacts")),
    }
    """Per numeric parameter: the keywords that tie a number in a prompt to it."""
    physical_bounds: ClassVar[Mapping[str, tuple[float, float]]] = {
        "friction": (0.0, math.inf),
        "deceleration_m_s2": (0.0, math.inf),
        "stopping_distance_m": (0.0, math.inf),
        "stopping_time_s": (0.0, math.inf),
        "reaction_time_s": (0.0, math.inf),
    }
    recovered_params: ClassVar[Mapping[str, tuple[str, float]]] = {
        "speed_m_s": ("brake_speed_m_s", 1.0),
        "friction": ("friction", 1.0),
        "reaction_time_s": ("reaction_time_s", 1.0),
    }
    instances: tuple[InstanceSpec, ...] = (InstanceSpec(name="car", body="car", class_name="car"),)
    sensor_body: str = "car"

    def build_mjcf(self, params: Params, timestep_s: float) -> str:
        p = self.resolve_params(params)
        return world_mjcf(self.name, car_mjcf(str(p["colour"])), self.world_options(p),
                          extra_xml=tyre_road_pairs_mjcf(float(p["friction"])))

    def scene_options(self, params: Params) -> WorldOptions:
        return super().scene_options(params).model_copy(update={"solver_attrs": OPTION_ATTRS})

    def initialize(self, params: Params, model, data) -> None:
        """Rolling without slip: chassis at v along +x, every wheel spinning at v / r about +y."""
        speed = float(params["speed_m_s"])
        data.joint("car_free").qvel[:] = (speed, 0.0, 0.0, 0.0, 0.0, 0.0)
        for wheel in WHEELS:
            data.joint(f"wheel_{wheel}_hinge").qvel[0] = speed / WHEEL_RADIUS_M

    def control(self, params: Params, model, data) -> None:
        """Brake on from the first tick at or after t_r; friction reference scheduled on the speed."""
        if data.time >= float(params["reaction_time_s"]) - 1e-9:
            for wheel in WHEELS:
                model.dof_frictionloss[model.joint(f"wheel_{wheel}_hinge").dofadr[0]] = BRAKE_TORQUE_NM
        speed = float(np.hypot(*data.joint("car_free").qvel[:2]))
        model.pair_solreffriction[:, 0] = -1.0  # direct (-stiffness, -damping); no stiffness along the road
        model.pair_solreffriction[:, 1] = -friction_damping(float(params["friction"]), speed, self.gravity_m_s2,
                                                            float(model.opt.timestep))

    def contact_settings(self, params: Params, timestep_s: float) -> dict:
        p = self.resolve_params(params)
        mu = float(p["friction"])
        return {
            "tyre_road": {
                "pairs": "explicit <pair> per wheel: contact ellipsoid (tyre radius, inside the tyre) - floor; "
                "friction is exactly mu",
                "friction": mu, "condim": 3, "cone": "elliptic", "impratio": 1.0, "noslip_iterations": 10,
                "solref": CONTACT_SOLREF, "solimp": CONTACT_SOLIMP,
                "solreffriction": "direct (-1, -b), b = min(3 mu g / |v|, 1 / timestep), rescheduled every base tick from the "
                "chassis speed",
                "solreffriction_at_start": (-1.0, -friction_damping(mu, float(p["speed_m_s"]), self.gravity_m_s2,
                                                                    timestep_s)),
                "note": "no rolling or spin friction; the scheduled friction reference keeps the convex cone "
                "from pushing the sliding tyres off the road",
            },
            "brake": {
                "model": "joint frictionloss on every wheel hinge, switched on at the first tick >= t_r",
                "torque_nm": BRAKE_TORQUE_NM, "solreffriction": BRAKE_SOLREF, "solimpfriction": BRAKE_SOLIMP,
            },
        }

    def declared_law(self, params: Params) -> dict[str, LawQuantity]:
        p = self.resolve_params(params)
        v, t_r, a = float(p["speed_m_s"]), float(p["reaction_time_s"]), self._deceleration(p)
        return {
            "stopping_distance_m": LawQuantity(name="stopping_distance_m", value=v * t_r + v * v / (2 * a), unit="m",
                                            description="distance travelled from t = 0 until the car stops"),
            "stopping_time_s": LawQuantity(name="stopping_time_s", value=t_r + v / a, unit="s",
                                        description="time from t = 0 until the car stops"),
            "brake_speed_m_s": LawQuantity(name="brake_speed_m_s", value=v, unit="m/s",
                                        description="speed when the brakes lock (at t_r)"),
            "deceleration_m_s2": LawQuantity(name="deceleration_m_s2", value=a, unit="m/s^2",
                                          description="deceleration while skidding, mu g"),
        }

    def law_position(self, params: Params, t_s: np.ndarray) -> np.ndarray:
        p = self.resolve_params(params)
        t = np.asarray(t_s, dtype=float)
        x = skid_position_m(t, float(p["speed_m_s"]), float(p["reaction_time_s"]), self._deceleration(p))
        return np.stack([x, np.zeros_like(t), np.full_like(t, CHASSIS_HEIGHT_M)], axis=-1)

    def duration_s(self, params: Params) -> float:
        return self.declared_law(params)["stopping_time_s"].value + self.event_margin_s

    def tracking_plane(self, params: Params, instance: str) -> tuple[np.ndarray, np.ndarray]:
        """The car's near body side (y = -0.9 m), which dominates its image mask."""
        return np.array([0.0, -BODY_HALF_M[1], 0.0]), np.array([0.0, 1.0, 0.0])

    def motion_bounds_m(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        """The car's box from its start to its predicted stop (x), its width (y), road to roof (z)."""
        distance = self.declared_law(params)["stopping_distance_m"].value
        half_length, half_width = BODY_HALF_M[0], BODY_HALF_M[1]
        roof = CHASSIS_HEIGHT_M + CABIN_POS_M[2] + CABIN_HALF_M[2]
        return np.array([-half_length, -half_width, 0.0]), np.array([distance + half_length, half_width, roof])

    def fit_declared_law(self, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
        return fit_braking(self, params, tracks)

    def measure_state(self, params: Params, state: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Brake-onset speed (interpolated at t_r), skid deceleration (straight-line fit of the speed
        between 80 % and 20 % of it), stopping time (first drop below STOP_SPEED, plus the time the
        measured deceleration needs to take that last STOP_SPEED off) and stopping distance (x at
        rest minus x at t = 0)."""
        p = self.resolve_params(params)
        t_r = float(p["reaction_time_s"])
        t = body_column(state, "car", "t_s")
        x = body_column(state, "car", "position_x_m")
        speed = np.hypot(body_column(state, "car", "velocity_x_m_s"), body_column(state, "car", "velocity_y_m_s"))
        brake_speed = float(np.interp(t_r, t, speed))
        deceleration = skid_deceleration_m_s2(t, speed, t_r, brake_speed)
        after = t >= t_r
        t_cross = first_crossing_time(t[after], speed[after], STOP_SPEED_M_S)
        stop_time = t_cross + STOP_SPEED_M_S / deceleration if deceleration > 0 else float("nan")
        return {
            "stopping_distance_m": float(x[-1] - x[0]),
            "stopping_time_s": float(stop_time),
            "brake_speed_m_s": brake_speed,
            "deceleration_m_s2": deceleration,
        }

    def _deceleration(self, params: Params) -> float:
        return float(params["friction"]) * self.gravity_m_s2


# --- law -----------------------------------------------------------------------------------------
def skid_position_m(t_s: np.ndarray, speed_m_s: float, reaction_time_s: float, deceleration_m_s2: float) -> np.ndarray:
    """Distance travelled (m) at times t_s: constant speed until t_r, then constant deceleration to rest."""
    t = np.asarray(t_s, dtype=float)
    tau = np.clip(t - reaction_time_s, 0.0, speed_m_s / deceleration_m_s2)
    return speed_m_s * np.minimum(t, reaction_time_s) + speed_m_s * tau - 0.5 * deceleration_m_s2 * tau**2


# --- twin ----------------------------------------------------------------------------------------
def friction_damping(friction: float, speed_m_s: float, gravity_m_s2: float, timestep_s: float) -> float:
    """Scheduled friction reference damping b (1/s): FRICTION_REFERENCE_FACTOR * mu g / |v|, capped."""
    cap = MAX_FRICTION_DAMPING_STEPS / timestep_s
    return min(cap, FRICTION_REFERENCE_FACTOR * friction * gravity_m_s2 / max(speed_m_s, 1e-9))


def car_mjcf(colour: str) -> str:
    """Chassis body `car` (free joint `car_free`, geoms `car_body` and `car_cabin`) with four wheel
    bodies `wheel_<fl|fr|rl|rr>`: hinge `wheel_<w>_hinge` about the chassis y axis, a visible tyre
    cylinder `wheel_<w>_tyre` (carries the wheel's mass) and an invisible contact ellipsoid
    `wheel_<w>_contact` (group 3, massless) with the same radius in the rolling plane, inside the
    cylinder. The ellipsoid touches the road at one point (a horizontal cylinder touches it at its
    two rim edges, and the contact jumps between them as the car rolls about x).

    No geom collides by default: the tyre-road contacts are explicit pairs (`tyre_road_pairs_mjcf`).
    """
    f = _fmt
    wheels = []
    for wheel in WHEELS:
        x = WHEEL_X_M if wheel[0] == "f" else -WHEEL_X_M
        y = WHEEL_Y_M if wheel[1] == "l" else -WHEEL_Y_M
        z = WHEEL_RADIUS_M - CHASSIS_HEIGHT_M
        wheels.append(
            f'      <body name="wheel_{wheel}" pos="{f((x, y, z))}">\n'
            f'        <joint name="wheel_{wheel}_hinge" type="hinge" axis="0 1 0" solreffriction="{f(BRAKE_SOLREF)}" '
            f'solimpfriction="{f(BRAKE_SOLIMP)}"/>\n'
            f'        <geom name="wheel_{wheel}_tyre" type="cylinder" size="{f((WHEEL_RADIUS_M, WHEEL_HALF_WIDTH_M))}" '
            f'quat="0.70710678 0.70710678 0 0" mass="{WHEEL_MASS_KG:g}" rgba="{TYRE_RGBA}" contype="0" conaffinity="0"/>\n'
            f'        <geom name="wheel_{wheel}_contact" type="ellipsoid" '
            f'size="{f((WHEEL_RADIUS_M, WHEEL_HALF_WIDTH_M, WHEEL_RADIUS_M))}" mass="0" group="3" contype="0" conaffinity="0"/>\n'
            f"      </body>"
        )
    return (
        f'    <body name="car" pos="0 0 {CHASSIS_HEIGHT_M:g}">\n'
        f'      <freejoint name="car_free"/>\n'
        f'      <geom name="car_body" type="box" size="{f(BODY_HALF_M)}" mass="{BODY_MASS_KG:g}" rgba="{rgba(colour)}" '
        f'contype="0" conaffinity="0"/>\n'
        f'      <geom name="car_cabin" type="box" pos="{f(CABIN_POS_M)}" size="{f(CABIN_HALF_M)}" mass="{CABIN_MASS_KG:g}" '
        f'rgba="{rgba(colour)}" contype="0" conaffinity="0"/>\n'
        + "\n".join(wheels)
        + "\n    </body>"
    )


def tyre_road_pairs_mjcf(friction: float) -> str:
    """<contact> with one explicit contact-ellipsoid/floor pair per wheel: condim 3 (sliding friction
    only, no rolling or spin friction), friction mu in both tangent directions. The initial
    solreffriction is overwritten by `control` before the first step."""
    pairs = "\n".join(
        f'    <pair geom1="wheel_{w}_contact" geom2="floor" condim="3" friction="{friction:g} {friction:g} 0 0 0" '
        f'solref="{_fmt(CONTACT_SOLREF)}" solimp="{_fmt(CONTACT_SOLIMP)}" solreffriction="-1 -100"/>'
        for w in WHEELS
    )
    return f"  <contact>\n{pairs}\n  </contact>"


# --- measurement helpers ---------------------------------------------------------------------------
def skid_deceleration_m_s2(t_s: np.ndarray, speed_m_s: np.ndarray, reaction_time_s: float,
                           brake_speed_m_s: float) -> float:
    """Deceleration (m/s^2, positive) from a least-squares line through the speed samples after t_r
    whose speed lies between 80 % and 20 % of the brake-onset speed; NaN with fewer than 3 samples."""
    window = (t_s > reaction_time_s) & (speed_m_s <= 0.8 * brake_speed_m_s) & (speed_m_s >= 0.2 * brake_speed_m_s)
    if window.sum() < 3:
        return float("nan")
    slope = np.polyfit(t_s[window], speed_m_s[window], 1)[0]
    return float(-slope)


def _fmt(values) -> str:
    return " ".join(f"{v:g}" for v in values)


__all__ = ["BrakingScenario", "skid_position_m"]


# --- law fit on tracks measured from pixels --------------------------------------------------------
RESTART_REDUCED_CHI2 = 3.0
"""Law fit: a fit with chi2 / dof at or above this is retried from other starts."""


def fit_braking(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """x(t) = x0 + v min(t, t_r) + v tau - a tau^2 / 2, tau = clip(t - t_r, 0, v / a): nonlinear least
    squares in (x0, v, t_r, a) with t_r >= the first frame, started where x first falls behind the initial
    constant-speed line (and, if that fit has chi2 / dof >= 3, also from five reaction times over the
    first half; the best is kept). If the car brakes from the first frame on (t_r at its bound), t_r and
    v are not separable (x = x0 + v t - a (t - t_r)^2 / 2): t_r is fixed at the first frame time, its
    uncertainty NaN, and v is the speed there. Stopping distance v t_r + v^2 / (2 a), time t_r + v / a,
    brake speed v, mu = a / g (declared g)."""
    t, x, sx = tracks["car"].axis(0)
    keys = {"stopping_distance_m": "m", "stopping_time_s": "s", "brake_speed_m_s": "m/s", "deceleration_m_s2": "m/s^2",
            "reaction_time_s": "s", "friction": ""}
    if len(t) < 6:
        return unmeasured(keys, "fewer than 6 frames")
    v0 = max(float(np.polyfit(t[:3], x[:3], 1)[0]), 1e-3)
    travel = max(float(np.max(x) - x[0]), 1e-3)
    method = "constant speed until t_r, then constant deceleration until the stop"

    def model(c):
        tau = np.clip(t - c[2], 0.0, c[1] / c[3])
        return c[0] + c[1] * np.minimum(t, c[2]) + c[1] * tau - 0.5 * c[3] * tau**2

    def solve(reaction: float) -> Fit:
        a0 = v0**2 / (2 * max(travel - v0 * reaction, 0.1 * travel))
        return nonlinear_fit(model, x, sx, np.array([x[0], v0, reaction, a0]), "m", method,
                             bounds=([-np.inf, 1e-6, float(t[0]), 1e-6], [np.inf, np.inf, np.inf, np.inf]))

    # start where x first falls behind the initial constant-speed line by more than the noise margin
    behind = np.flatnonzero(x[0] + v0 * (t - t[0]) - x > noise_margin_m(sx))
    best = solve(float(t[max(int(behind[0]) - 1, 0)]) if behind.size else float(t[0]))
    if not best.reduced_chi2 < RESTART_REDUCED_CHI2:  # a poor optimum: try starts over the first half
        for reaction in np.linspace(float(t[0]), 0.5 * float(t[-1] + t[0]), 5):
            fit = solve(float(reaction))
            if fit.reduced_chi2 < best.reduced_chi2:
                best = fit
    g = spec.gravity_m_s2
    notes = {"friction": f"a / g with g = {g} m/s^2"}

    def derived(c):
        return {"stopping_distance_m": c[1] * c[2] + c[1] ** 2 / (2 * c[3]), "stopping_time_s": c[2] + c[1] / c[3],
                "brake_speed_m_s": c[1], "deceleration_m_s2": c[3], "reaction_time_s": c[2], "friction": c[3] / g}

    if best.params[2] - t[0] > 1e-6:
        return best.derive(derived, keys, notes)
    # braking from the first frame: t_r fixed there
    reduced = nonlinear_fit(lambda c: model(np.array([c[0], c[1], t[0], c[2]])), x, sx, best.params[[0, 1, 3]], "m",
                            method + " (braking from the first frame)", bounds=([-np.inf, 1e-6, 1e-6], np.inf))
    out = reduced.derive(lambda c: derived(np.array([c[0], c[1], t[0], c[2]])), keys, notes)
    out["reaction_time_s"] = FitResult(float(t[0]), "s", float("nan"), reduced.residual_rms, "m", reduced.dof,
                                       reduced.reduced_chi2, reduced.method, "braking from the first frame: t_r <= this")
    return out

