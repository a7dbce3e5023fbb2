"""`projectile`: a ball launched from the floor at speed v and elevation theta flies and lands.

The twin: a ball of radius r, its centre at height r (touching the floor), launched in the x-z
plane with velocity (v cos theta, 0, v sin theta) in `initialize`; optional linear air drag
F = -k m v (k = `drag_per_s`). Heights are of the centre above its launch height r (equally: of
the ball's lowest point above the floor); landing is its first return to the launch height.

Law. Without drag: range v^2 sin(2 theta) / g, apex v^2 sin^2(theta) / (2 g), flight time
2 v sin(theta) / g. With drag k > 0:
    x(t) = (v cos theta / k)(1 - e^(-k t)),
    z(t) = ((v sin theta + g / k) / k)(1 - e^(-k t)) - g t / k,
apex at t = ln(1 + k v sin(theta) / g) / k, flight time the root of z(t) = 0 (scipy brentq), range
x(flight time). Written as x = v cos(theta) E1(t), z = v sin(theta) E1(t) - g E2(t) with
E1 = (1 - e^(-k t)) / k and E2 = (t - E1) / k, which tend to t and t^2 / 2 as k -> 0 (a series is
used below k t = 1e-4, where the closed form cancels), so k = 0 is the no-drag law.

Physics settings, and why:
- Drag is exact linear damping, not a force set per tick: the ball hangs on three world-axis slide
  joints (plus a ball joint for its rotation) whose damping c = k m is MuJoCo's passive force
  -c qdot = -k m v, recomputed every physics step and integrated implicitly by the Euler
  integrator. A force -k m v written into data.xfrc_applied in `control` (constant over each
  1/1200 s tick) would work too, but it is a controller, not the model. MuJoCo's fluid model with
  density 0 is also exactly linear (its viscous force is 3 pi mu times the side of the ball's
  equivalent inertia box, 1.549 r), but it needs the global viscosity back-computed from that box
  convention and also damps the rotation. Slide joints, unlike a free joint's damping, leave the
  rotation undamped.
- Step 1/9600 s: the semi-implicit Euler step lands the ball one step early (z(t) = v t -
  g t (t + h) / 2), 0.6 % of the shortest flight (0.14 s) at 1/1200 s, 0.075 % at 1/9600 s; and
  the over-damped landing contact (drop's, no rebound) needs that step (see drop.py).
- Launch: the ball starts touching the floor; the contact is separating (v sin theta > 0) so it
  pushes nothing and, with no normal force, its friction is zero.
- After landing the ball rolls on (friction 1 >= (2/7) cot(theta) stops the slip at impact): at
  5/7 of its horizontal landing speed, slowed by the drag as e^(-5 k t / 7) (the drag acts on
  the mass m, the rolling inertia is 7 m / 5). `law_position` continues with that roll; the
  scored law is the flight.

Development measurements behind these settings: docs/twins.md.
"""

from __future__ import annotations

import math
from typing import ClassVar, Mapping

import numpy as np
from scipy.optimize import brentq

from realitygap.core.fitting import FitResult, MeasuredTrack, bracketed_root, linear_fit, longest_run, noise_margin_m, unmeasured
from realitygap.core.planefit import ClipFit, PlaneTrack
from realitygap.scenarios.base import (
    InstanceSpec,
    LawQuantity,
    Parameter,
    Params,
    ScenarioSpec,
    body_column,
    colour_parameter,
    radius_parameter,
)
from realitygap.scenarios.drop import DROP_CONTACT, DROP_MAX_TIMESTEP_S, fit_free_fall_clip
from realitygap.scenarios.hints import RADIUS_HINTS, SPEED_HINTS, Hint, hint
from realitygap.scenarios.world import COLOUR_NAMES, rgba, world_mjcf

BALL_DENSITY_KG_M3 = 500.0
FLOOR_FRICTION = 1.0
"""Ball-floor sliding friction after landing (the ball geom's, priority 1)."""
SERIES_BELOW_KT = 1e-4
ROLLING_SPEED_FRACTION = 5.0 / 7.0
"""A solid ball that stops slipping keeps 5/7 of its horizontal speed (I = 2 m r^2 / 5)."""


class ProjectileScenario(ScenarioSpec):
    name: str = "projectile"
    summary: str = "A ball launched from the floor flies in an arc (optionally with linear drag) and lands."
    parameters: tuple[Parameter, ...] = (
        Parameter(name="speed_m_s", unit="m/s", low=2.0, high=7.0, default=5.0,
                  description="launch speed v"),
        Parameter(name="launch_angle_deg", unit="deg", low=20.0, high=70.0, default=45.0,
                  description="launch elevation theta above the horizontal, in the x-z plane towards +x"),
        Parameter(name="drag_per_s", unit="1/s", low=0.0, high=0.5, default=0.0,
                  description="linear drag rate k: drag force -k m v (0 = no drag)"),
        radius_parameter(),
        colour_parameter("green", COLOUR_NAMES),
    )
    law: str = (
        "k = 0: range v^2 sin(2 theta)/g, apex v^2 sin^2(theta)/(2 g), flight time 2 v sin(theta)/g; "
        "k > 0: x(t) = (v cos theta/k)(1 - e^(-kt)), z(t) = ((v sin theta + g/k)/k)(1 - e^(-kt)) - g t/k, "
        "apex at t = ln(1 + k v sin(theta)/g)/k, landing at z(t) = 0"
    )
    prompt_template: str = (
        "A {colour} ball of radius {radius_m:.2f} m is thrown from a grey floor at {speed_m_s:.1f} m/s, "
        "{launch_angle_deg:.0f} degrees above the horizontal, flies in an arc across the view (air drag "
        "{drag_per_s:.2f} per second), lands on the floor without bouncing and rolls on. Static camera, plain light "
        "background."
    )
    prompt_phrases: ClassVar[tuple[str, ...]] = (
        "a ball is thrown at an angle above the horizontal",
        "a ball is thrown and flies through the air in an arc",
        "a ball is launched at an angle, flies in a parabola and lands",
        "a projectile is tossed upward and forward",
        "a cannon fires a ball that flies in an arc and lands",
        "a ball is kicked and flies through the air in an arc",
        "throwing a ball across the room",
    )
    """Paraphrases of the scene, besides the summary and the prompt template, for choosing the scenario."""
    param_hints: ClassVar[Mapping[str, tuple[Hint, ...]]] = {
        "speed_m_s": SPEED_HINTS,
        "launch_angle_deg": (hint("at"), hint("angle"), hint("elevation"), hint("above")),
        "drag_per_s": (hint("drag", weight=2), hint("air resistance", weight=2)),
        "radius_m": RADIUS_HINTS,
    }
    """Per numeric parameter: the keywords that tie a number in a prompt to it."""
    physical_bounds: ClassVar[Mapping[str, tuple[float, float]]] = {"flight_time_s": (0.0, math.inf), "apex_height_m": (0.0, math.inf)}
    recovered_params: ClassVar[Mapping[str, tuple[str, float]]] = {
        "speed_m_s": ("launch_speed_m_s", 1.0),
        "launch_angle_deg": ("launch_angle_deg", 1.0),
    }
    clip_min_frames: ClassVar[int] = 6
    clip_main_quantity: ClassVar[str] = "g_m_s2"
    clip_motion: ClassVar[str] = "free_flight"
    clip_rolling_shutter: ClassVar[bool] = True
    instances: tuple[InstanceSpec, ...] = (InstanceSpec(name="ball", body="ball", class_name="ball"),)
    sensor_body: str = "ball"
    event_margin_s: float = 0.3

    def max_timestep_s(self, params: Params) -> float:
        return DROP_MAX_TIMESTEP_S

    def build_mjcf(self, params: Params, timestep_s: float) -> str:
        p = self.resolve_params(params)
        r = float(p["radius_m"])
        ball = dragged_ball_mjcf("ball", r, str(p["colour"]), ball_mass_kg(r), float(p["drag_per_s"]))
        return world_mjcf(self.name, ball, self.world_options(p))

    def initialize(self, params: Params, model, data) -> None:
        v, theta = float(params["speed_m_s"]), math.radians(float(params["launch_angle_deg"]))
        data.joint("ball_x").qvel[0] = v * math.cos(theta)
        data.joint("ball_z").qvel[0] = v * math.sin(theta)

    def contact_settings(self, params: Params, timestep_s: float) -> dict:
        p = self.resolve_params(params)
        mass = ball_mass_kg(float(p["radius_m"]))
        return {
            "ball_floor": {**DROP_CONTACT, "condim": 3, "friction": FLOOR_FRICTION,
                           "note": "over-damped: no rebound; the ball rolls after landing"},
            "drag": {"joints": "slide x, y, z + ball", "damping_n_s_m": float(p["drag_per_s"]) * mass, "mass_kg": mass,
                     "note": "slide-joint damping k m = linear drag -k m v, every physics step"},
        }

    def declared_law(self, params: Params) -> dict[str, LawQuantity]:
        v, theta, k = self._launch(params)
        g = self.gravity_m_s2
        t_apex = apex_time_s(v, theta, k, g)
        t_flight = flight_time_s(v, theta, k, g)
        x_land, _ = flight_position_m(v, theta, k, g, np.array([t_flight]))
        _, z_apex = flight_position_m(v, theta, k, g, np.array([t_apex]))
        return {
            "range_m": LawQuantity(name="range_m", value=float(x_land[0]), unit="m",
                                description="horizontal distance from launch to landing at the launch height"),
            "apex_height_m": LawQuantity(name="apex_height_m", value=float(z_apex[0]), unit="m",
                                      description="greatest height of the ball's centre above its launch height"),
            "flight_time_s": LawQuantity(name="flight_time_s", value=t_flight, unit="s",
                                      description="time from launch to landing"),
        }

    def law_position(self, params: Params, t_s: np.ndarray) -> np.ndarray:
        """Ball centre: the flight law until landing, then rolling along +x at the floor (see module doc)."""
        v, theta, k = self._launch(params)
        g, r = self.gravity_m_s2, float(self.resolve_params(params)["radius_m"])
        t = np.asarray(t_s, dtype=float)
        t_flight = flight_time_s(v, theta, k, g)
        x, z = flight_position_m(v, theta, k, g, np.minimum(t, t_flight))
        roll_speed = ROLLING_SPEED_FRACTION * v * math.cos(theta) * math.exp(-k * t_flight)
        e1_roll, _ = drag_integrals(ROLLING_SPEED_FRACTION * k, np.maximum(t - t_flight, 0.0))
        x = x + roll_speed * e1_roll
        z = np.where(t < t_flight, z, 0.0) + r
        return np.stack([x, np.zeros_like(x), z], axis=-1)

    def duration_s(self, params: Params) -> float:
        return self.declared_law(params)["flight_time_s"].value + self.event_margin_s

    def motion_bounds_m(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        r = float(self.resolve_params(params)["radius_m"])
        x_end = float(self.law_position(params, np.array([self.duration_s(params)]))[0, 0])
        apex = self.declared_law(params)["apex_height_m"].value
        return np.array([-r, -r, 0.0]), np.array([x_end + r, r, apex + 2 * r])

    def fit_clip(self, track: PlaneTrack, noise: np.ndarray, rng: np.random.Generator, n_boot: int, *,
                 automatic: bool, length_m: float | None = None) -> ClipFit:
        return fit_free_fall_clip(self.name, track, noise, rng, n_boot, self.clip_min_frames, automatic,
                                  horizontal_speed=True)

    def fit_declared_law(self, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
        return fit_projectile(self, params, tracks)

    def measure_state(self, params: Params, state: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Landing = first downward return of the centre to its launch height, extrapolated from the
        last sample above it under gravity alone (the drag moves the ball < 2 micrometres in that
        < 1/1200 s); apex = highest sampled centre height before it (sampling error < 1 micrometre)."""
        r = float(self.resolve_params(params)["radius_m"])
        g = self.gravity_m_s2
        t = body_column(state, "ball", "t_s")
        x = body_column(state, "ball", "position_x_m")
        height = body_column(state, "ball", "position_z_m") - r
        vx, vz = body_column(state, "ball", "velocity_x_m_s"), body_column(state, "ball", "velocity_z_m_s")
        down = np.flatnonzero((height <= 0.0) & (vz < 0.0))
        if down.size == 0 or down[0] == 0:
            return {"range_m": float("nan"), "apex_height_m": float(np.max(height)), "flight_time_s": float("nan")}
        i = int(down[0]) - 1
        tau = (vz[i] + math.sqrt(vz[i] ** 2 + 2 * g * max(height[i], 0.0))) / g
        return {
            "range_m": float(x[i] + vx[i] * tau - x[0]),
            "apex_height_m": float(np.max(height[: i + 1])),
            "flight_time_s": float(t[i] + tau - t[0]),
        }

    def _launch(self, params: Params) -> tuple[float, float, float]:
        """(speed m/s, elevation rad, drag rate 1/s)."""
        p = self.resolve_params(params)
        return float(p["speed_m_s"]), math.radians(float(p["launch_angle_deg"])), float(p["drag_per_s"])


def drag_integrals(k_per_s: float, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E1 = (1 - e^(-k t)) / k [s] and E2 = (t - E1) / k [s^2]: the linear-drag displacement per unit
    initial speed and the drop per unit g. Their k -> 0 limits are t and t^2 / 2."""
    t = np.asarray(t_s, dtype=float)
    x = k_per_s * t
    e1 = t * (1 - x / 2 + x**2 / 6 - x**3 / 24)
    e2 = t**2 * (0.5 - x / 6 + x**2 / 24 - x**3 / 120)
    if k_per_s == 0.0:
        return e1, e2
    closed_e1 = -np.expm1(-x) / k_per_s
    series = np.abs(x) < SERIES_BELOW_KT
    return np.where(series, e1, closed_e1), np.where(series, e2, (t - closed_e1) / k_per_s)


def flight_position_m(speed_m_s: float, elevation_rad: float, k_per_s: float, g_m_s2: float,
                      t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, z) of the centre relative to the launch point, in world metres, under gravity and linear drag."""
    e1, e2 = drag_integrals(k_per_s, t_s)
    return speed_m_s * math.cos(elevation_rad) * e1, speed_m_s * math.sin(elevation_rad) * e1 - g_m_s2 * e2


def apex_time_s(speed_m_s: float, elevation_rad: float, k_per_s: float, g_m_s2: float) -> float:
    """Time of zero vertical velocity: ln(1 + k v sin(theta) / g) / k (v sin(theta) / g without drag)."""
    vz = speed_m_s * math.sin(elevation_rad)
    return math.log1p(k_per_s * vz / g_m_s2) / k_per_s if k_per_s > 0 else vz / g_m_s2


def flight_time_s(speed_m_s: float, elevation_rad: float, k_per_s: float, g_m_s2: float) -> float:
    """First return to the launch height: 2 v sin(theta) / g without drag, else the root of z(t) = 0
    between the apex and the (longer) drag-free flight time."""
    no_drag = 2 * speed_m_s * math.sin(elevation_rad) / g_m_s2
    if k_per_s == 0.0:
        return no_drag

    def height(t: float) -> float:
        return float(flight_position_m(speed_m_s, elevation_rad, k_per_s, g_m_s2, np.array([t]))[1][0])

    upper = no_drag * (1 + 1e-6)
    apex = apex_time_s(speed_m_s, elevation_rad, k_per_s, g_m_s2)
    if height(upper) >= 0.0:  # k so small that the drop below z = 0 is lost in rounding
        return no_drag
    return float(brentq(height, apex, upper, xtol=1e-13, rtol=1e-13))


def ball_mass_kg(radius_m: float) -> float:
    return BALL_DENSITY_KG_M3 * 4.0 / 3.0 * math.pi * radius_m**3


def dragged_ball_mjcf(name: str, radius_m: float, colour: str, mass_kg: float, drag_per_s: float) -> str:
    """A ball body `name` on slide joints `<name>_x`, `<name>_y`, `<name>_z` (world axes, damping
    k m: linear drag) and a ball joint `<name>_rotation`, centre at height r, geom `<name>_geom`
    with the over-damped contact, winning (priority 1) over the floor."""
    damping = drag_per_s * mass_kg
    ref = " ".join(f"{v:.8g}" for v in DROP_CONTACT["solref"])
    imp = " ".join(f"{v:g}" for v in DROP_CONTACT["solimp"])
    slides = "".join(
        f'      <joint name="{name}_{axis}" type="slide" axis="{direction}" damping="{damping!r}"/>\n'
        for axis, direction in (("x", "1 0 0"), ("y", "0 1 0"), ("z", "0 0 1"))
    )
    return (
        f'    <body name="{name}" pos="0 0 {radius_m!r}">\n'
        f"{slides}"
        f'      <joint name="{name}_rotation" type="ball"/>\n'
        f'      <geom name="{name}_geom" type="sphere" size="{radius_m!r}" mass="{mass_kg!r}" rgba="{rgba(colour)}" '
        f'priority="1" condim="3" friction="{FLOOR_FRICTION:g} 0.005 0.0001" solref="{ref}" solimp="{imp}"/>\n'
        f"    </body>"
    )


# --- law fit on tracks measured from pixels --------------------------------------------------------

def fit_projectile(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """Over the longest run of airborne frames, one linear least-squares fit of
    z = z0 + vz E1(t) - g E2(t) and x = x0 + vx E1(t), E1 = (1 - e^(-kt)) / k, E2 = (t - E1) / k at the
    declared drag rate k (t and t^2 / 2 at k = 0; any time origin gives the same family). Launch and
    landing are the fitted curve's crossings of the launch height z = r on either side of the apex
    t_a = ln(1 + k vz / g) / k (vz / g at k = 0); range = x(landing) - x(launch)."""
    r, k = float(params["radius_m"]), float(params["drag_per_s"])
    track = tracks["ball"]
    t, z, sz = track.axis(2)
    _, x, sx = track.axis(0)
    window = longest_run(z - r > noise_margin_m(sz))
    units = {"g_m_s2": "m/s^2", "range_m": "m", "apex_height_m": "m", "flight_time_s": "s",
             "launch_speed_m_s": "m/s", "launch_angle_deg": "deg"}
    if window.sum() < 4:
        return unmeasured(units, "fewer than 4 airborne frames")
    tw = t[window]
    e1, e2 = drag_integrals(k, tw)
    zeros, ones = np.zeros_like(tw), np.ones_like(tw)
    design = np.block([[np.stack([ones, e1, -e2, zeros, zeros], axis=1)],
                       [np.stack([zeros, zeros, zeros, ones, e1], axis=1)]])
    fit = linear_fit(design, np.r_[z[window], x[window]], np.r_[sz[window], sx[window]], "m",
                     "joint linear fit of z(t) and x(t) with the declared drag rate over the flight")
    span = 2.0 * (float(tw[-1] - tw[0]) + 1.0)

    def derived(c):
        z0, vz, g, x0, vx = c

        def height(time: float) -> float:
            a1, a2 = drag_integrals_scalar(k, time)
            return z0 + vz * a1 - g * a2 - r

        t_apex = math.log1p(k * vz / g) / k if k > 0 else vz / g
        if k > 0:
            t_launch = bracketed_root(height, t_apex, t_apex - span)
            t_land = bracketed_root(height, t_apex, t_apex + span)
        else:  # z0 + vz t - g t^2 / 2 = r
            root = math.sqrt(max(vz * vz + 2 * g * (z0 - r), 0.0))
            t_launch, t_land = (vz - root) / g, (vz + root) / g
        decay = math.exp(-k * t_launch)
        v_launch = (vx * decay, vz * decay - g * drag_integrals_scalar(k, t_launch)[0])
        return {"g_m_s2": g,
                "range_m": vx * (drag_integrals_scalar(k, t_land)[0] - drag_integrals_scalar(k, t_launch)[0]),
                "apex_height_m": height(t_apex), "flight_time_s": t_land - t_launch,
                "launch_speed_m_s": math.hypot(*v_launch),
                "launch_angle_deg": math.degrees(math.atan2(v_launch[1], v_launch[0]))}

    return fit.derive(derived, units)



def drag_integrals_scalar(k_per_s: float, t_s: float) -> tuple[float, float]:
    """E1 = (1 - e^(-kt)) / k and E2 = (t - E1) / k for one time (series below |k t| = 1e-4, as
    `drag_integrals`), in plain floats for root finding."""
    x = k_per_s * t_s
    if abs(x) < 1e-4:
        return (t_s * (1 - x / 2 + x * x / 6 - x**3 / 24), t_s * t_s * (0.5 - x / 6 + x * x / 24 - x**3 / 120))
    e1 = -math.expm1(-x) / k_per_s
    return e1, (t_s - e1) / k_per_s
