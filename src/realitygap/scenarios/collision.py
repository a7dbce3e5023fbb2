"""`collision`: a sliding puck hits a puck at rest head-on (1-D collision with restitution e).

Puck A (mass m_A) slides along +x at speed v on a frictionless floor and hits puck B (mass
m_B = mass_ratio * m_A) at rest; the centre line is the x axis, so the motion stays 1-D. Law:
momentum is conserved, the separation speed is e times the approach speed:
    v_A' = (m_A - e m_B) v / (m_A + m_B),   v_B' = (1 + e) m_A v / (m_A + m_B),
    p_after / p_before = 1,   KE_after / KE_before = (m_A v_A'^2 + m_B v_B'^2) / (m_A v^2),
and the pucks touch at t = gap / v (gap: initial rim-to-rim distance).

Layout: pucks of radius 0.1 m and height 0.12 m (same size, B's density = mass_ratio x A's); B
at rest with its back rim at x = 0; A starts `gap` behind it. The approach time is
min(1 s, 1 m / v), so A travels at most 1 m before the impact and the camera box stays small
(at most 2.8 m wide: the side camera sees the pucks from the side, about 15 x 9 px at 256 px in the
widest case; they are 0.12 m tall so that they are not thin strips); the episode lasts twice the
approach time (0.67 s to 2 s), so the impact is in the middle. The two colours must differ
(`check_combination`): the tracker tells the pucks apart by colour.

Physics settings:
- Puck-floor: frictionless (condim 1: normal force only; the puck geoms win with priority 1),
  the drop scenario's over-damped soft contact (solref -2e5 -3600, solimp 0.95). The pucks only
  rest on the floor; A's x velocity stays exactly v until the impact (no friction, no air).
- Puck-puck: MuJoCo's cylinder-cylinder collision (general convex, one point) puts the contact
  on the upper rim, slightly off the x axis, so colliding cylinders pitch and spin. So the visible
  cylinders do not collide with each other (contype 2 / conaffinity 1: floor only). Each puck
  carries a massless sphere "bumper" of radius 0.05 m (< half the height) inside it, internally
  tangent to the rim at the impact point (A's front, B's back; hidden inside the cylinder); one
  explicit <contact><pair> of the bumpers gives MuJoCo's analytic sphere-sphere contact,
  touching exactly when the rims touch, on the centre line, normal along x: the pucks do not turn.
- Restitution is not a MuJoCo parameter (see bounce.py): the pair is a linear spring-damper
  (negative solref = -stiffness, -damping in constraint-space acceleration units, constant
  impedance 0.95), natural frequency sqrt(0.95 * 2e5) = 436 rad/s (7 ms contact, at most 7 mm
  overlap at 3 m/s). In constraint space this contact is mass- and speed-independent, but e
  depends on where within a timestep the first penetration falls, and it jumps where that phase
  wraps (the damping force acts from the first penetrating step). Layouts hit that wrap: at
  v <= 1 m/s the impact is at exactly 1 s = 9600 steps. So the damping is calibrated by a Brent
  search on a one-impact MuJoCo simulation of the episode's own pucks at the episode's timestep
  whose approach reproduces the episode's positions bit for bit (`_ImpactSimulation`); the twin
  then meets the law to the root search's tolerance. e = 1 is the zero-damping limit (a symplectic
  spring); damping cannot be negative in MuJoCo, so a target above the zero-damping value takes
  zero damping.
- Timestep 1/9600 s (`max_timestep_s`): 70 steps per contact (at 1/1200 s, 8 steps per contact,
  e varies with the phase), and the over-damped floor contact needs damping * timestep < 1 (as in
  drop).

Development measurements behind these settings (MuJoCo 4.0.0): docs/twins.md.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import ClassVar, Mapping

import numpy as np
from scipy.optimize import brentq

from realitygap.core.fitting import FitResult, MeasuredTrack, nonlinear_fit, safe_sigma, unmeasured
from realitygap.core.mj import mujoco
from realitygap.runtime.errors import InputError
from realitygap.scenarios.base import (
    InstanceSpec,
    LawQuantity,
    Parameter,
    Params,
    ScenarioSpec,
    body_column,
)
from realitygap.scenarios.hints import RESTITUTION_HINTS, SPEED_HINTS, Fact, Hint, hint
from realitygap.scenarios.world import COLOUR_NAMES, WorldOptions, rgba, world_mjcf

PUCK_RADIUS_M = 0.1
PUCK_HEIGHT_M = 0.12
PUCK_A_DENSITY_KG_M3 = 1000.0
"""Puck A weighs pi r^2 h rho = 1.26 kg; B's density is mass_ratio times this."""
BUMPER_RADIUS_M = 0.05
"""Contact proxy sphere inside each puck (< half the height), tangent to the rim at the impact point."""
APPROACH_DISTANCE_M = 1.0
MAX_APPROACH_TIME_S = 1.0
FLOOR_CONTACT = {"solref": (-2.0e5, -3600.0), "solimp": (0.95, 0.95, 0.001)}
PUCK_CONTACT_STIFFNESS = 2.0e5
CONTACT_IMPEDANCE = 0.95
COLLISION_MAX_TIMESTEP_S = 1.0 / 9600.0
BOUNDS_SPEED_MARGIN = 1.05
"""Motion box: predicted post-impact travel x 1.05 (the twin matches the law within 2 %)."""
WINDOW_FRACTION = 0.2
"""Velocity windows skip this fraction of each phase next to the impact (and 10 % at the start)."""


class CollisionScenario(ScenarioSpec):
    name: str = "collision"
    summary: str = "A sliding puck hits a puck at rest head-on; momentum is conserved, restitution e."
    parameters: tuple[Parameter, ...] = (
        Parameter(name="speed_m_s", unit="m/s", low=0.5, high=3.0, default=1.5,
                  description="speed of puck A before the impact (along +x)"),
        Parameter(name="mass_ratio", unit="", low=0.5, high=2.0, default=1.0,
                  description="mass of puck B / mass of puck A (same size, B's density scaled)"),
        Parameter(name="restitution", unit="", low=0.3, high=1.0, default=0.8,
                  description="coefficient of restitution e (separation speed / approach speed)"),
        Parameter(name="colour_a", unit="", choices=COLOUR_NAMES, default="red", description="colour of puck A (moving)"),
        Parameter(name="colour_b", unit="", choices=COLOUR_NAMES, default="blue", description="colour of puck B (at rest)"),
    )
    law: str = ("v_A' = (m_A - e m_B) v / (m_A + m_B); v_B' = (1 + e) m_A v / (m_A + m_B); p_after / p_before = 1; "
                "KE_after / KE_before = (m_A v_A'^2 + m_B v_B'^2) / (m_A v^2); impact at t = gap / v")
    prompt_template: str = (
        "A {colour_a} puck slides at {speed_m_s:.2f} m/s across a smooth grey floor and hits a {colour_b} puck at "
        "rest head-on. Both pucks are " f"{2 * PUCK_RADIUS_M:g}" " m wide and " f"{100 * PUCK_HEIGHT_M:g}" " cm tall; "
        "the {colour_b} puck is {mass_ratio:.2f} times as "
        "heavy as the {colour_a} one, and the collision has restitution {restitution:.2f}. Static side camera, "
        "plain light background."
    )
    prompt_phrases: ClassVar[tuple[str, ...]] = (
        "two pucks collide head-on",
        "a sliding puck hits another puck at rest",
        "a moving disc strikes a stationary disc and both move off",
        "momentum is transferred in a collision between two pucks",
        "an elastic or inelastic collision of two sliding discs",
    )
    """Paraphrases of the scene, besides the summary and the prompt template, for choosing the scenario."""
    param_hints: ClassVar[Mapping[str, tuple[Hint, ...]]] = {
        "speed_m_s": SPEED_HINTS,
        "restitution": RESTITUTION_HINTS,
        "mass_ratio": (hint("mass ratio", "left", weight=2), hint("ratio", "left"), hint("times as heavy", "right"),
                       hint("as heavy", "right"), hint("heavier", "right"), hint("times the mass", "right"),
                       hint("the mass", "right"), hint("as massive", "right")),
    }
    """Per numeric parameter: the keywords that tie a number in a prompt to it."""
    prompt_facts: ClassVar[tuple[Fact, ...]] = (Fact("puck width", 2 * PUCK_RADIUS_M, "length", (hint("wide", "right", reach=1),)),
                                                Fact("puck height", PUCK_HEIGHT_M, "length", (hint("tall", "right", reach=1),)))
    """Fixed sizes the prompt template states: a prompt may repeat them, not change them."""
    physical_bounds: ClassVar[Mapping[str, tuple[float, float]]] = {"restitution": (0.0, 1.0), "energy_ratio": (0.0, 1.0)}
    recovered_params: ClassVar[Mapping[str, tuple[str, float]]] = {
        "speed_m_s": ("velocity_a_before_m_s", 1.0),
        "restitution": ("restitution", 1.0),
    }
    instances: tuple[InstanceSpec, ...] = (
        InstanceSpec(name="puck_a", body="puck_a", class_name="puck"),
        InstanceSpec(name="puck_b", body="puck_b", class_name="puck"),
    )
    sensor_body: str = "puck_a"

    def check_combination(self, params: Params) -> None:
        if params["colour_a"] == params["colour_b"]:
            raise InputError(f"colour_a and colour_b are both {params['colour_a']}: the pucks must differ in colour "
                             "so that they can be told apart in pixels")

    def max_timestep_s(self, params: Params) -> float:
        return COLLISION_MAX_TIMESTEP_S

    def build_mjcf(self, params: Params, timestep_s: float) -> str:
        p = self.resolve_params(params)
        gap = impact_layout(float(p["speed_m_s"]))[1]
        damping = _pair_damping(p, timestep_s)
        return pucks_mjcf(self.name, float(p["mass_ratio"]), gap, damping, str(p["colour_a"]), str(p["colour_b"]),
                          self.world_options(p))

    def initialize(self, params: Params, model, data) -> None:
        data.joint("puck_a_free").qvel[0] = float(params["speed_m_s"])

    def contact_settings(self, params: Params, timestep_s: float) -> dict:
        p = self.resolve_params(params)
        speed, gap = float(p["speed_m_s"]), impact_layout(float(p["speed_m_s"]))[1]
        damping = _pair_damping(p, timestep_s)
        return {
            "puck_floor": {**FLOOR_CONTACT, "condim": 1, "friction": 0.0,
                           "note": "frictionless (normal force only); over-damped: the pucks rest on the floor"},
            "puck_puck": {
                "solref": (-PUCK_CONTACT_STIFFNESS, -damping),
                "solimp": (CONTACT_IMPEDANCE, CONTACT_IMPEDANCE, 0.001),
                "condim": 1,
                "geoms": "explicit pair of massless sphere bumpers (radius "
                         f"{BUMPER_RADIUS_M} m) inside the pucks, tangent to the rims at the impact point",
                "note": "linear spring-damper; damping calibrated so that a one-impact simulation of these pucks at "
                        "this timestep, reproducing this episode's approach, has separation/approach speed ratio e",
                "calibration_speed_m_s": speed,
                "calibration_gap_m": gap,
            },
        }

    def declared_law(self, params: Params) -> dict[str, LawQuantity]:
        p = self.resolve_params(params)
        v, ratio, e = float(p["speed_m_s"]), float(p["mass_ratio"]), float(p["restitution"])
        v_a, v_b = velocities_after(v, ratio, e)
        t_impact, _ = impact_layout(v)
        return {
            "velocity_a_before_m_s": LawQuantity(name="velocity_a_before_m_s", value=v, unit="m/s",
                                              description="x velocity of puck A before the impact"),
            "velocity_a_after_m_s": LawQuantity(name="velocity_a_after_m_s", value=v_a, unit="m/s",
                                             description="x velocity of puck A after the impact (negative: rebounds)"),
            "velocity_b_after_m_s": LawQuantity(name="velocity_b_after_m_s", value=v_b, unit="m/s",
                                             description="x velocity of puck B after the impact"),
            "momentum_ratio": LawQuantity(name="momentum_ratio", value=1.0, unit="",
                                       description="total x momentum after / before the impact"),
            "energy_ratio": LawQuantity(name="energy_ratio", value=(v_a**2 + ratio * v_b**2) / v**2, unit="",
                                     description="total kinetic energy after / before the impact"),
            "impact_time_s": LawQuantity(name="impact_time_s", value=t_impact, unit="s",
                                      description="time at which the rims touch: gap / v"),
        }

    def law_position(self, params: Params, t_s: np.ndarray) -> np.ndarray:
        """Centre of puck A (world metres): uniform motion at v, then at v_A' from the impact point."""
        p = self.resolve_params(params)
        v = float(p["speed_m_s"])
        v_a, _ = velocities_after(v, float(p["mass_ratio"]), float(p["restitution"]))
        t_impact, _ = impact_layout(v)
        t = np.asarray(t_s, dtype=float)
        x_impact = -PUCK_RADIUS_M
        x = np.where(t < t_impact, x_impact - v * (t_impact - t), x_impact + v_a * (t - t_impact))
        return np.stack([x, np.zeros_like(t), np.full_like(t, PUCK_HEIGHT_M / 2)], axis=-1)

    def duration_s(self, params: Params) -> float:
        """Twice the approach time: the impact is in the middle of the episode."""
        p = self.resolve_params(params)
        return 2.0 * impact_layout(float(p["speed_m_s"]))[0]

    def motion_bounds_m(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        """From A's start to B's predicted end (B is always faster than A after the impact), plus the radius."""
        p = self.resolve_params(params)
        v = float(p["speed_m_s"])
        t_impact, gap = impact_layout(v)
        _, v_b = velocities_after(v, float(p["mass_ratio"]), float(p["restitution"]))
        r = PUCK_RADIUS_M
        x_low = -r - gap - r
        x_high = r + BOUNDS_SPEED_MARGIN * v_b * (self.duration_s(p) - t_impact) + r
        return np.array([x_low, -r, 0.0]), np.array([x_high, r, PUCK_HEIGHT_M])

    def fit_declared_law(self, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
        return fit_collision(self, params, tracks)

    def measure_state(self, params: Params, state: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Velocities are window means of the state's x velocities, well before and well after the impact.

        Impact time: first time the centre distance reaches 2 r (rims touch), linearly interpolated.
        Before: t in [0.1, 1 - WINDOW_FRACTION] x impact time; after: the last (1 - WINDOW_FRACTION) of
        the time from the impact to the end. Momentum and energy use the parameter's mass ratio.
        """
        p = self.resolve_params(params)
        ratio = float(p["mass_ratio"])
        t = body_column(state, "puck_a", "t_s")
        x_a, x_b = body_column(state, "puck_a", "position_x_m"), body_column(state, "puck_b", "position_x_m")
        v_a, v_b = body_column(state, "puck_a", "velocity_x_m_s"), body_column(state, "puck_b", "velocity_x_m_s")
        t_impact = rims_touch_time(t, x_b - x_a - 2 * PUCK_RADIUS_M)
        if not math.isfinite(t_impact):
            return {"impact_time_s": t_impact}
        before = (t >= 0.1 * t_impact) & (t <= (1 - WINDOW_FRACTION) * t_impact)
        after = t >= t_impact + WINDOW_FRACTION * (t[-1] - t_impact)
        va0, vb0 = float(v_a[before].mean()), float(v_b[before].mean())
        va1, vb1 = float(v_a[after].mean()), float(v_b[after].mean())
        return {
            "velocity_a_before_m_s": va0,
            "velocity_a_after_m_s": va1,
            "velocity_b_after_m_s": vb1,
            "momentum_ratio": (va1 + ratio * vb1) / (va0 + ratio * vb0),
            "energy_ratio": (va1**2 + ratio * vb1**2) / (va0**2 + ratio * vb0**2),
            "impact_time_s": t_impact,
        }


def impact_layout(speed_m_s: float) -> tuple[float, float]:
    """(impact time s, initial rim-to-rim gap m): A travels min(1 m, v x 1 s) before the impact."""
    t_impact = min(MAX_APPROACH_TIME_S, APPROACH_DISTANCE_M / speed_m_s)
    return t_impact, speed_m_s * t_impact


def velocities_after(speed_m_s: float, mass_ratio: float, restitution: float) -> tuple[float, float]:
    """Post-impact x velocities (m/s) of A and B for A at `speed_m_s` hitting B at rest, m_B = mass_ratio m_A."""
    total = 1.0 + mass_ratio
    return (1.0 - restitution * mass_ratio) * speed_m_s / total, (1.0 + restitution) * speed_m_s / total


def rims_touch_time(t_s: np.ndarray, gap_m: np.ndarray) -> float:
    """First time the rim-to-rim gap (m) reaches 0, linearly interpolated; NaN if never."""
    touching = np.flatnonzero(gap_m <= 0.0)
    if touching.size == 0 or touching[0] == 0:
        return float("nan")
    i = int(touching[0])
    return float(t_s[i - 1] + (t_s[i] - t_s[i - 1]) * gap_m[i - 1] / (gap_m[i - 1] - gap_m[i]))


def pucks_mjcf(model_name: str, mass_ratio: float, gap_m: float, damping: float, colour_a: str, colour_b: str,
               options: WorldOptions) -> str:
    """World with puck A (centre x = -r - gap) and puck B (centre x = r) resting on the floor, and
    the bumper pair contact with linear spring-damper parameters (-stiffness, -`damping`)."""
    r = PUCK_RADIUS_M
    bodies = "\n".join([
        _puck_body_mjcf("puck_a", -r - gap_m, PUCK_A_DENSITY_KG_M3, colour_a, bumper_side=+1),
        _puck_body_mjcf("puck_b", r, PUCK_A_DENSITY_KG_M3 * mass_ratio, colour_b, bumper_side=-1),
    ])
    ref = f"{-PUCK_CONTACT_STIFFNESS:.8g} {-damping:.17g}"
    imp = f"{CONTACT_IMPEDANCE:g} {CONTACT_IMPEDANCE:g} 0.001"
    pair = (f'  <contact>\n    <pair name="bumpers" geom1="puck_a_bumper" geom2="puck_b_bumper" condim="1" '
            f'solref="{ref}" solimp="{imp}"/>\n  </contact>')
    return world_mjcf(model_name, bodies, options, extra_xml=pair)


def _puck_body_mjcf(name: str, x_m: float, density_kg_m3: float, colour: str, bumper_side: int) -> str:
    """A free puck (joint `<name>_free`, cylinder `<name>_geom`) touching only the floor, frictionless,
    with a massless contact sphere `<name>_bumper` tangent to its rim on the `bumper_side` (+1: +x)."""
    r, half_h = PUCK_RADIUS_M, PUCK_HEIGHT_M / 2
    ref = " ".join(f"{v:.8g}" for v in FLOOR_CONTACT["solref"])
    imp = " ".join(f"{v:g}" for v in FLOOR_CONTACT["solimp"])
    bumper_x = bumper_side * (r - BUMPER_RADIUS_M)
    return (
        f'    <body name="{name}" pos="{x_m:.9f} 0 {half_h:.6f}">\n'
        f'      <freejoint name="{name}_free"/>\n'
        f'      <geom name="{name}_geom" type="cylinder" size="{r:.6f} {half_h:.6f}" density="{density_kg_m3:g}" '
        f'rgba="{rgba(colour)}" priority="1" condim="1" contype="2" conaffinity="1" solref="{ref}" solimp="{imp}"/>\n'
        f'      <geom name="{name}_bumper" type="sphere" size="{BUMPER_RADIUS_M:.6f}" pos="{bumper_x:.6f} 0 0" '
        f'density="0" contype="0" conaffinity="0" rgba="{rgba(colour)}"/>\n'
        f"    </body>"
    )


def _pair_damping(params: Params, timestep_s: float) -> float:
    """The calibrated bumper-pair damping for resolved `params` at `timestep_s` (cached)."""
    speed = float(params["speed_m_s"])
    return calibrated_damping(float(params["restitution"]), speed, float(params["mass_ratio"]), impact_layout(speed)[1],
                              timestep_s)


@lru_cache(maxsize=256)
def calibrated_damping(restitution: float, speed_m_s: float, mass_ratio: float, gap_m: float, timestep_s: float) -> float:
    """Puck-puck contact damping (constraint-space, 1/s) whose simulated separation/approach speed ratio is e.

    Deterministic: a Brent search over the damping ratio zeta in [0, 0.99], each evaluation a
    one-impact MuJoCo simulation of the episode's pucks at `timestep_s` that reproduces the
    episode's approach exactly (`_ImpactSimulation`). If e is at or above what zero damping gives
    (e = 1 within 0.0003), the damping is 0.
    """
    omega = math.sqrt(CONTACT_IMPEDANCE * PUCK_CONTACT_STIFFNESS)
    impact = _ImpactSimulation(speed_m_s, mass_ratio, gap_m, timestep_s)

    def damping(zeta: float) -> float:
        return 2.0 * zeta * omega / CONTACT_IMPEDANCE

    def residual(zeta: float) -> float:
        return impact.restitution(damping(zeta)) - restitution

    low, high = 0.0, 0.99
    r_low, r_high = residual(low), residual(high)
    if r_low <= 0:  # e at or above the zero-damping value (e = 1 within the integration's 0.0003)
        return 0.0
    if r_high >= 0:
        return damping(high)
    return damping(brentq(residual, low, high, xtol=1e-9))


class _ImpactSimulation:
    """The episode's pucks, simulated from the episode's initial state up to just before the impact.

    e depends on where within a step the first penetration falls (and the damping force acts from
    the first penetrating step, so e jumps where that phase wraps).
    Simulating the approach with the same model, timestep and start reproduces the episode's
    positions bit for bit (before the impact A's x acceleration is exactly 0; the runner's extra
    mj_forward calls and rig sites do not change the state), so each evaluation restores the
    saved state `LEAD_STEPS` before contact and runs only the impact.
    """

    LEAD_STEPS = 8
    STATE = mujoco.mjtState.mjSTATE_INTEGRATION

    def __init__(self, speed_m_s: float, mass_ratio: float, gap_m: float, timestep_s: float):
        self.speed_m_s = speed_m_s
        self.model = mujoco.MjModel.from_xml_string(pucks_mjcf("collision_calibration", mass_ratio, gap_m, 0.0, "red", "blue",
                                                                 WorldOptions()))
        self.model.opt.timestep = timestep_s
        self.data = mujoco.MjData(self.model)
        self.data.joint("puck_a_free").qvel[0] = speed_m_s
        mujoco.mj_forward(self.model, self.data)
        free_steps = max(0, int(gap_m / (speed_m_s * timestep_s)) - self.LEAD_STEPS)
        mujoco.mj_step(self.model, self.data, nstep=free_steps)
        self.start = np.empty(mujoco.mj_stateSize(self.model, self.STATE))
        mujoco.mj_getState(self.model, self.data, self.start, self.STATE)
        self.max_steps = 2 * self.LEAD_STEPS + int(0.1 / timestep_s)

    def restitution(self, damping: float) -> float:
        """(v_B - v_A) / v after the pucks separate; 0 if they stay together."""
        m, d = self.model, self.data
        m.pair_solref[0] = (-PUCK_CONTACT_STIFFNESS, -damping)
        mujoco.mj_setState(m, d, self.start, self.STATE)
        a, b = d.joint("puck_a_free"), d.joint("puck_b_free")
        entered = False
        for _ in range(self.max_steps):
            mujoco.mj_step(m, d)
            gap = b.qpos[0] - a.qpos[0] - 2 * PUCK_RADIUS_M
            entered = entered or gap < 0
            if entered and gap >= 0:
                return float((b.qvel[0] - a.qvel[0]) / self.speed_m_s)
        return 0.0


# --- law fit on tracks measured from pixels --------------------------------------------------------
CONTACT_EXCLUSION_S = 0.015
"""Law fit: frames this close to the fitted impact are left out (the bumper contact lasts ~7 ms)."""


def fit_collision(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """Both pucks' x(t) as continuous piecewise-linear curves with one shared kink time t_c (least
    squares in t_c, x_A(t_c), v_A, v_A', x_B(t_c), v_B, v_B'), started from where the centre gap first
    reaches 2 r; frames within 15 ms of t_c (the contact) are left out. With the declared mass ratio q:
    momentum ratio (v_A' + q v_B') / (v_A + q v_B), energy ratio (v_A'^2 + q v_B'^2) / (v_A^2 + q v_B^2),
    restitution (v_B' - v_A') / (v_A - v_B); impact time = when the pre-impact lines are 2 r apart."""
    q = float(params["mass_ratio"])
    ta, xa, sa = tracks["puck_a"].axis(0)
    tb, xb, sb = tracks["puck_b"].axis(0)
    keys = {"velocity_a_before_m_s": "m/s", "velocity_a_after_m_s": "m/s", "velocity_b_after_m_s": "m/s",
            "momentum_ratio": "", "energy_ratio": "", "impact_time_s": "s", "restitution": "",
            "velocity_b_before_m_s": "m/s"}
    if len(ta) < 6 or len(tb) < 6:
        return unmeasured(keys, "fewer than 6 frames of a puck")
    gap = np.interp(ta, tb, xb) - xa - 2 * PUCK_RADIUS_M
    touching = np.flatnonzero(gap <= 0)
    if touching.size and touching[0] > 0:
        i = int(touching[0])
        t_c0 = float(ta[i - 1] + (ta[i] - ta[i - 1]) * gap[i - 1] / (gap[i - 1] - gap[i]))
    else:
        t_c0 = float(ta[np.argmin(gap)])

    def model_for(keep_a, keep_b):
        def model(c):
            t_c = c[0]
            da, db = ta[keep_a] - t_c, tb[keep_b] - t_c
            return np.r_[c[1] + np.where(da < 0, c[2], c[3]) * da, c[4] + np.where(db < 0, c[5], c[6]) * db]
        return model

    def start(t_c, keep_a, keep_b):
        """Linear least squares for the six line parameters at a fixed kink time."""
        c = [t_c]
        for times, xs in ((ta[keep_a], xa[keep_a]), (tb[keep_b], xb[keep_b])):
            d = times - t_c
            design = np.stack([np.ones_like(d), np.where(d < 0, d, 0.0), np.where(d >= 0, d, 0.0)], axis=1)
            c += list(np.linalg.lstsq(design, xs, rcond=None)[0])
        return np.array(c)

    keep_a, keep_b = np.ones(len(ta), bool), np.ones(len(tb), bool)
    y, s = np.r_[xa, xb], np.r_[sa, sb]
    model = model_for(keep_a, keep_b)
    frame = float(np.median(np.diff(ta)))
    grid = t_c0 + np.linspace(-frame, frame, 9)
    costs = [np.sum(((model(start(tc, keep_a, keep_b)) - y) / safe_sigma(s)) ** 2) for tc in grid]
    c0 = start(float(grid[int(np.argmin(costs))]), keep_a, keep_b)
    fit = nonlinear_fit(model, y, s, c0, "m", "two continuous piecewise-linear x(t) with a shared impact time")
    keep_a, keep_b = np.abs(ta - fit.params[0]) > CONTACT_EXCLUSION_S, np.abs(tb - fit.params[0]) > CONTACT_EXCLUSION_S
    if not (keep_a.all() and keep_b.all()):
        fit = nonlinear_fit(model_for(keep_a, keep_b), np.r_[xa[keep_a], xb[keep_b]], np.r_[sa[keep_a], sb[keep_b]],
                            fit.params, "m", "two continuous piecewise-linear x(t) with a shared impact time")
    assert fit is not None
    r = PUCK_RADIUS_M

    def derived(c):
        t_c, xa_c, va0, va1, xb_c, vb0, vb1 = c
        return {"velocity_a_before_m_s": va0, "velocity_a_after_m_s": va1, "velocity_b_after_m_s": vb1,
                "momentum_ratio": (va1 + q * vb1) / (va0 + q * vb0),
                "energy_ratio": (va1**2 + q * vb1**2) / (va0**2 + q * vb0**2),
                "impact_time_s": t_c + (xb_c - xa_c - 2 * r) / (va0 - vb0),
                "restitution": (vb1 - va1) / (va0 - vb0), "velocity_b_before_m_s": vb0}

    return fit.derive(derived, keys, {"momentum_ratio": f"declared mass ratio {q:g}",
                                      "energy_ratio": f"declared mass ratio {q:g}",
                                      "impact_time_s": "pre-impact lines 2 r apart (rims touch)"})

