"""`drop`: a ball released from rest at height h falls onto the floor.

Law (no drag): bottom height z(t) = h - g t^2 / 2 until impact at t_impact = sqrt(2 h / g) with
speed v_impact = sqrt(2 g h). After impact the contact is over-damped: the ball stays down, so
the IMU sees free fall (0 specific force) and then rest (+g up).
"""

from __future__ import annotations

import math
from typing import ClassVar, Mapping

import numpy as np

from realitygap.core.fitting import FitResult, MeasuredTrack, leading_run, linear_fit, noise_margin_m, unmeasured
from realitygap.core.planefit import ClipFit, ClipQuantity, PlaneTrack, fit_parabola, parabola_clip_fit
from realitygap.runtime.errors import InputError
from realitygap.scenarios.base import (
    InstanceSpec,
    LawQuantity,
    Parameter,
    Params,
    ScenarioSpec,
    body_column,
    colour_parameter,
    first_crossing_time,
    radius_parameter,
)
from realitygap.scenarios.hints import DROP_HEIGHT_HINTS, RADIUS_HINTS, Hint
from realitygap.scenarios.world import COLOUR_NAMES, ball_body_mjcf, vertical_motion_bounds, world_mjcf

# Over-damped soft contact (negative solref = -stiffness, -damping; constant impedance 0.95):
# natural frequency sqrt(0.95 * 2e5) = 436 rad/s, damping 3600 /s (ratio 3.9). A spring-damper
# contact lets go while the spring is still compressed, so even a critically damped contact
# (918 /s) throws the ball back up; at ratio 3.9 it stays down. The explicit contact damping needs
# damping * timestep << 1, hence the 1/9600 s step (coarser steps rebound or go unstable).
# Development measurements behind these settings: docs/twins.md.
DROP_CONTACT = {"solref": (-2.0e5, -3600.0), "solimp": (0.95, 0.95, 0.001)}
DROP_MAX_TIMESTEP_S = 1.0 / 9600.0


class DropScenario(ScenarioSpec):
    name: str = "drop"
    summary: str = "A ball released from rest falls onto the floor."
    parameters: tuple[Parameter, ...] = (
        Parameter(name="height_m", unit="m", low=0.3, high=3.0, default=1.0,
                  description="release height of the ball's lowest point above the floor"),
        radius_parameter(),
        colour_parameter("red", COLOUR_NAMES),
    )
    law: str = "impact time t = sqrt(2 h / g); height z(t) = h - g t^2 / 2; impact speed sqrt(2 g h)"
    prompt_template: str = (
        "A {colour} ball of radius {radius_m:.2f} m is released from rest {height_m:.2f} m above a grey "
        "floor and falls straight down. Static camera, plain light background."
    )
    prompt_phrases: ClassVar[tuple[str, ...]] = (
        "a ball is dropped onto the floor",
        "a ball is let go and falls straight down to the floor",
        "let go of a ball held above the ground and it falls",
        "an object is dropped from a height and falls under gravity",
        "a ball is released from a height and falls to the ground",
        "a ball falls freely from rest and hits the ground",
        "a sphere in free fall",
    )
    """Paraphrases of the scene, besides the summary and the prompt template, for choosing the scenario."""
    param_hints: ClassVar[Mapping[str, tuple[Hint, ...]]] = {
        "height_m": DROP_HEIGHT_HINTS,
        "radius_m": RADIUS_HINTS,
    }
    """Per numeric parameter: the keywords that tie a number in a prompt to it."""
    physical_bounds: ClassVar[Mapping[str, tuple[float, float]]] = {
        "impact_time_s": (0.0, math.inf),
        "impact_speed_m_s": (0.0, math.inf),
        "release_height_m": (0.0, math.inf),
    }
    recovered_params: ClassVar[Mapping[str, tuple[str, float]]] = {"height_m": ("release_height_m", 1.0)}
    clip_min_frames: ClassVar[int] = 5
    clip_main_quantity: ClassVar[str] = "g_m_s2"
    clip_motion: ClassVar[str] = "free_flight"
    clip_rolling_shutter: ClassVar[bool] = True
    instances: tuple[InstanceSpec, ...] = (InstanceSpec(name="ball", body="ball", class_name="ball"),)
    sensor_body: str = "ball"

    def max_timestep_s(self, params: Params) -> float:
        return DROP_MAX_TIMESTEP_S

    def build_mjcf(self, params: Params, timestep_s: float) -> str:
        p = self.resolve_params(params)
        r = float(p["radius_m"])
        ball = ball_body_mjcf("ball", (0.0, 0.0, float(p["height_m"]) + r), r, str(p["colour"]),
                              DROP_CONTACT["solref"], DROP_CONTACT["solimp"])
        return world_mjcf(self.name, ball, self.world_options(p))

    def contact_settings(self, params: Params, timestep_s: float) -> dict:
        return {"ball_floor": {**DROP_CONTACT, "note": "over-damped: no rebound"}}

    def declared_law(self, params: Params) -> dict[str, LawQuantity]:
        p = self.resolve_params(params)
        h, g = float(p["height_m"]), self.gravity_m_s2
        return {
            "impact_time_s": LawQuantity(name="impact_time_s", value=math.sqrt(2 * h / g), unit="s",
                                      description="time from release until the ball touches the floor"),
            "impact_speed_m_s": LawQuantity(name="impact_speed_m_s", value=math.sqrt(2 * g * h), unit="m/s",
                                         description="speed at first contact"),
        }

    def law_position(self, params: Params, t_s: np.ndarray) -> np.ndarray:
        p = self.resolve_params(params)
        h, r, g = float(p["height_m"]), float(p["radius_m"]), self.gravity_m_s2
        t = np.asarray(t_s, dtype=float)
        z = r + np.maximum(h - 0.5 * g * t**2, 0.0)
        return np.stack([np.zeros_like(t), np.zeros_like(t), z], axis=-1)

    def duration_s(self, params: Params) -> float:
        return self.declared_law(params)["impact_time_s"].value + self.event_margin_s

    def motion_bounds_m(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        p = self.resolve_params(params)
        return vertical_motion_bounds(float(p["radius_m"]), float(p["height_m"]))

    def fit_clip(self, track: PlaneTrack, noise: np.ndarray, rng: np.random.Generator, n_boot: int, *,
                 automatic: bool, length_m: float | None = None) -> ClipFit:
        return fit_free_fall_clip(self.name, track, noise, rng, n_boot, self.clip_min_frames, automatic)

    def fit_declared_law(self, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
        return fit_drop(self, params, tracks)

    def measure_state(self, params: Params, state: Mapping[str, np.ndarray]) -> dict[str, float]:
        p = self.resolve_params(params)
        t = body_column(state, "ball", "t_s")
        z = body_column(state, "ball", "position_z_m")
        vz = body_column(state, "ball", "velocity_z_m_s")
        bottom = z - float(p["radius_m"])
        t_impact = first_crossing_time(t, bottom, 0.0)
        # The contact stops the ball within a millisecond, so velocity is not interpolated across
        # the crossing: the last free-fall sample is carried forward under gravity (< 1 ms).
        before = int(np.searchsorted(t, t_impact)) - 1
        speed = -vz[before] + self.gravity_m_s2 * (t_impact - t[before]) if before >= 0 else float("nan")
        return {"impact_time_s": t_impact, "impact_speed_m_s": float(speed)}


# --- law fit on tracks measured from pixels --------------------------------------------------------

def fit_drop(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """Parabola z = c0 + c1 tau + c2 tau^2 (tau = t - mean t) over the airborne frames before the ball
    first reaches the floor (centre within the noise margin of z = r). g = -2 c2; impact = later root
    of the parabola at z = r, its speed sqrt(c1^2 - 4 c2 (c0 - r)); release = vertex."""
    r = float(params["radius_m"])
    t, z, sz = tracks["ball"].axis(2)
    window = leading_run(z - r > noise_margin_m(sz))
    keys = {"g_m_s2": "m/s^2", "impact_time_s": "s", "impact_speed_m_s": "m/s", "release_height_m": "m",
            "release_time_s": "s"}
    if window.sum() < 4:
        return unmeasured(keys, "fewer than 4 free-fall frames")
    t_mean = float(t[window].mean())
    tau = t[window] - t_mean
    fit = linear_fit(np.stack([np.ones_like(tau), tau, tau**2], axis=1), z[window], sz[window], "m",
                     "weighted parabola z(t) over the free-fall frames")

    def derived(c):
        root = math.sqrt(max(c[1] ** 2 - 4 * c[2] * (c[0] - r), 0.0))  # |dz/dt| where z = r
        return {"g_m_s2": -2 * c[2], "impact_time_s": t_mean + (-c[1] - root) / (2 * c[2]), "impact_speed_m_s": root,
                "release_height_m": c[0] - c[1] ** 2 / (4 * c[2]) - r, "release_time_s": t_mean - c[1] / (2 * c[2])}

    return fit.derive(derived, keys, {"release_height_m": "vertex of the parabola above contact height",
                                      "release_time_s": "time of the vertex"})


# --- law fit on a clip's plane track (measure-clip) --------------------------------------------------
FREE_FALL_TEST_FRAMES = 8
"""Fewest frames a free-flight fit is reported on: a parabola has 3 parameters per axis, and with fewer than 5
degrees of freedom left its residual cannot tell the law from other motion (a fit on 5 frames of a heavily
compressed clip read g 4 % high with nothing to show it)."""


def fit_free_fall_clip(law: str, track: PlaneTrack, noise: np.ndarray, rng: np.random.Generator, n_boot: int,
                       min_frames: int, automatic: bool, horizontal_speed: bool = False) -> ClipFit:
    """A free flight in the plane: xy(t) = c0 + c1 tau + c2 tau^2 per axis -> g = |2 c2| (the 2-D
    acceleration vector, so a camera roll does not bias its size; metric), the direction of g against
    the frame's down (deg), and with `horizontal_speed` |c1_x| (metric)."""

    def derived(C, t_mean, t_first):
        acc = 2 * C[2]
        out = {"tilt_deg": math.degrees(math.atan2(acc[0], -acc[1])), "g": float(np.hypot(*acc))}
        if horizontal_speed:
            out["horizontal_speed"] = float(abs(C[1, 0]))
        return out

    fit = fit_parabola(track, noise, derived, rng, n_boot, min_frames=min_frames, law=law, automatic=automatic)
    if len(fit.used) < FREE_FALL_TEST_FRAMES:
        frames = track.frame[fit.used]
        raise InputError(f"too few measurable frames of free flight for the {law} law: {len(fit.used)} (frames {frames[0]}-"
                         f"{frames[-1]}, {fit.ended}); at least {FREE_FALL_TEST_FRAMES} are needed to test the law (a parabola has "
                         "3 parameters per axis): a clip with less compression, a higher frame rate or a longer fall, or "
                         "--frames a:b over a clean stretch")
    values, sigmas = fit.values, fit.sigmas
    q = {"g_m_s2": ClipQuantity(values["g"], sigmas["g"], "m/s^2", "size of the fitted acceleration vector", metric=True),
         "g_direction_deg": ClipQuantity(values["tilt_deg"], sigmas["tilt_deg"], "deg",
                                         "angle of the fitted acceleration from the frame's down (0: straight down)")}
    if horizontal_speed:
        q["horizontal_speed_m_s"] = ClipQuantity(values["horizontal_speed"], sigmas["horizontal_speed"], "m/s", metric=True)
    return parabola_clip_fit(law, track, fit, q)
