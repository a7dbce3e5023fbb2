"""`slide`: a flat box launched along +x at speed v0 slides on the floor under Coulomb friction and stops.

The twin: a uniform box with a square footprint of side s and height 0.4 s (low, so it never
tips: tipping needs mu > (s / 2) / (0.2 s) = 2.5) resting on the floor, launched with horizontal
velocity v0 along world +x in `initialize`. The law does not depend on s; s is a parameter so that
the box can be large enough to measure in the image of a long slide (the camera frames the whole
slide: a 0.2 m box spans 4 pixels of a 96 pixel image over the longest slide, 4.1 m).

Law (Coulomb friction, normal force m g): constant deceleration a = mu g, so
    x(t) = v0 t - mu g t^2 / 2 until the stop at t_stop = v0 / (mu g), at d = v0^2 / (2 mu g).

Physics settings, and why:
- Which friction wins: the box geom has priority 1, so its friction mu is the contact's (MuJoCo
  otherwise takes the larger of the two geoms' frictions, and the floor's default is 1).
- condim 3: sliding friction only (no torsional or rolling friction).
- Cone: elliptic, so |friction| <= mu N exactly in every direction (the pyramidal cone's bound
  depends on the contact frame's orientation).
- Creep, solref (0.005, 1): MuJoCo's friction is soft. Once the box is slower than v* = mu g tau it
  is no longer braked at mu g but by the friction constraint's reference acceleration -v / tau, an
  exponential creep with tau = dmax * timeconst / 2 of the contact solref that carries the box
  mu g tau^2 / 2 too far. The default solref (0.02, 1) gives tau = 9.5 ms and 0.35 mm (2.2 % of the
  shortest slide, 16 mm); solref (0.005, 1) gives tau = 2.4 ms and 0.02 mm (0.14 %). Stronger
  friction damping (solreffriction) is not used: MuJoCo's convex contact then pushes the box off
  the floor.
- noslip_iterations 0, impratio 1: neither shortens the creep (noslip drives friction to the same
  reference acceleration; impratio only sharpens how well it is reached), so both stay off.
- Step 1/9600 s: the semi-implicit Euler step shortens the slide by v0 h / 2, i.e. by
  mu g h / v0 relative (1.3 % of the shortest slide at 1/1200 s; 0.16 % at 1/9600 s).
The convex contact model also makes the sliding box hop slightly; the friction impulse averages to
mu m g all the same.

Development measurements behind these settings: docs/twins.md.
"""

from __future__ import annotations

import math
from typing import ClassVar, Mapping

import numpy as np

from realitygap.core.fitting import FitResult, MeasuredTrack, nonlinear_fit, unmeasured
from realitygap.core.planefit import ClipFit, ClipQuantity, PlaneTrack, fit_parabola, parabola_clip_fit
from realitygap.scenarios.base import (
    InstanceSpec,
    LawQuantity,
    Parameter,
    Params,
    ScenarioSpec,
    body_column,
    colour_parameter,
)
from realitygap.scenarios.hints import FRICTION_HINTS, SPEED_HINTS, Hint, hint
from realitygap.scenarios.silhouette import box_corners_m, hull_centroid_px, invert_centroids
from realitygap.scenarios.world import COLOUR_NAMES, WorldOptions, rgba, world_mjcf

HEIGHT_PER_SIDE = 0.4
BOX_DENSITY_KG_M3 = 500.0
SLIDE_MAX_TIMESTEP_S = 1.0 / 9600.0
SLIDE_CONTACT = {
    "solref": (0.005, 1.0),
    "solimp": (0.9, 0.95, 0.001),
    "condim": 3,
    "cone": "elliptic",
    "impratio": 1.0,
    "noslip_iterations": 0,
}
FIT_SPEED_FRACTIONS = (0.2, 0.8)
"""`measure_state` fits the speed between these fractions of the launch speed: well above the
creep speed mu g tau (<= 19 mm/s, i.e. < 0.04 v0) and after the launch transient."""
VIEW_HEIGHT_FRACTION = 0.25
"""The motion box is at least as tall as this fraction of its length, so that the camera (at the
box's mid height, 1.6 lengths away) looks down on a long slide at about 4.5 degrees and sees the
floor as a surface instead of edge-on. (Not more: from higher up the box's dark side and top faces
weigh more in its mean colour, which comes too close to its own anti-aliased edge pixels.)"""


class SlideScenario(ScenarioSpec):
    name: str = "slide"
    summary: str = "A flat box launched along the floor slides under Coulomb friction and stops."
    parameters: tuple[Parameter, ...] = (
        Parameter(name="speed_m_s", unit="m/s", low=0.5, high=4.0, default=2.0,
                  description="launch speed v0 of the box along world +x"),
        Parameter(name="friction", unit="", low=0.2, high=0.8, default=0.5,
                  description="Coulomb friction coefficient mu between box and floor"),
        Parameter(name="size_m", unit="m", low=0.15, high=0.5, default=0.2,
                  description="side s of the box's square footprint (its height is 0.4 s)"),
        colour_parameter("red", COLOUR_NAMES, what="box"),
    )
    law: str = ("deceleration a = mu g; stopping time t = v0 / (mu g); stopping distance d = v0^2 / (2 mu g); "
                "x(t) = v0 t - mu g t^2 / 2 until the stop")
    prompt_template: str = (
        "A low, flat {colour} box with a square base {size_m:.2f} m wide is pushed along a grey floor at {speed_m_s:.2f} m/s and "
        "slides to a stop under friction (coefficient {friction:.2f}). Static camera, plain light background."
    )
    prompt_phrases: ClassVar[tuple[str, ...]] = (
        "a box slides across the floor and comes to a stop because of friction",
        "a block is pushed along the ground and skids to a halt",
        "a crate sliding on a surface slows down under friction",
        "a sliding box decelerates and stops",
        "a box is given a push and slides over the ground",
    )
    """Paraphrases of the scene, besides the summary and the prompt template, for choosing the scenario."""
    param_hints: ClassVar[Mapping[str, tuple[Hint, ...]]] = {
        "speed_m_s": SPEED_HINTS,
        "friction": FRICTION_HINTS,
        "size_m": (hint("size", weight=1.5), hint("side"), hint("wide"), hint("across"), hint("square"), hint("base"),
                   hint("box", "right", reach=1), hint("crate", "right", reach=1), hint("block", "right", reach=1)),
    }
    """Per numeric parameter: the keywords that tie a number in a prompt to it."""
    physical_bounds: ClassVar[Mapping[str, tuple[float, float]]] = {
        "friction": (0.0, math.inf),
        "deceleration_m_s2": (0.0, math.inf),
        "stopping_distance_m": (0.0, math.inf),
        "stopping_time_s": (0.0, math.inf),
    }
    recovered_params: ClassVar[Mapping[str, tuple[str, float]]] = {"speed_m_s": ("launch_speed_m_s", 1.0), "friction": ("friction", 1.0)}
    clip_min_frames: ClassVar[int] = 5
    clip_main_quantity: ClassVar[str] = "friction"
    instances: tuple[InstanceSpec, ...] = (InstanceSpec(name="box", body="box", class_name="box"),)
    sensor_body: str = "box"
    event_margin_s: float = 0.4

    def max_timestep_s(self, params: Params) -> float:
        return SLIDE_MAX_TIMESTEP_S

    def build_mjcf(self, params: Params, timestep_s: float) -> str:
        p = self.resolve_params(params)
        box = box_body_mjcf("box", box_half_size_m(float(p["size_m"])), str(p["colour"]), float(p["friction"]))
        return world_mjcf(self.name, box, self.world_options(p))

    def scene_options(self, params: Params) -> WorldOptions:
        return super().scene_options(params).model_copy(update={"solver_attrs": solver_option_attrs(SLIDE_CONTACT)})

    def initialize(self, params: Params, model, data) -> None:
        data.joint("box_free").qvel[0] = float(params["speed_m_s"])

    def contact_settings(self, params: Params, timestep_s: float) -> dict:
        p = self.resolve_params(params)
        return {"box_floor": {
            **SLIDE_CONTACT,
            "friction": float(p["friction"]),
            "priority": "box geom 1 over floor 0: the box's friction is the contact's",
            "note": "stiff solref shortens MuJoCo's soft-friction creep to 2.4 ms; see slide.py",
        }}

    def declared_law(self, params: Params) -> dict[str, LawQuantity]:
        p = self.resolve_params(params)
        v0, a = float(p["speed_m_s"]), float(p["friction"]) * self.gravity_m_s2
        return {
            "stopping_distance_m": LawQuantity(name="stopping_distance_m", value=v0**2 / (2 * a), unit="m",
                                            description="distance slid from launch to rest"),
            "stopping_time_s": LawQuantity(name="stopping_time_s", value=v0 / a, unit="s",
                                        description="time from launch to rest"),
            "deceleration_m_s2": LawQuantity(name="deceleration_m_s2", value=a, unit="m/s^2",
                                          description="constant friction deceleration while sliding"),
        }

    def law_position(self, params: Params, t_s: np.ndarray) -> np.ndarray:
        p = self.resolve_params(params)
        v0, a = float(p["speed_m_s"]), float(p["friction"]) * self.gravity_m_s2
        t = np.minimum(np.asarray(t_s, dtype=float), v0 / a)
        x = v0 * t - 0.5 * a * t**2
        return np.stack([x, np.zeros_like(x), np.full_like(x, box_half_size_m(float(p["size_m"]))[2])], axis=-1)

    def duration_s(self, params: Params) -> float:
        return self.declared_law(params)["stopping_time_s"].value + self.event_margin_s

    def position_from_pixels(self, params: Params, instance: str, centroid_px: np.ndarray, sigma_px: np.ndarray,
                             K: np.ndarray, T_world_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The box's x from its mask centroid by the silhouette model (see scenarios/silhouette.py):
        its mask shows the near face and, from the raised camera, the top, so no single plane holds
        the centroid (the centre plane reads distances long, the near face short)."""
        p = self.resolve_params(params)
        half = np.array(box_half_size_m(float(p["size_m"])))

        def centroid(x: float) -> np.ndarray:
            centre = np.array([x, 0.0, half[2]])
            return hull_centroid_px(box_corners_m(centre - half, centre + half), K, T_world_camera)

        length = self.declared_law(p)["stopping_distance_m"].value
        x, sigma_x = invert_centroids(centroid, np.linspace(-0.5 * length - half[0], 1.5 * length + half[0], 2001),
                                      centroid_px, sigma_px)
        position = np.stack([x, np.zeros_like(x), np.full_like(x, half[2])], axis=1)
        sigma = np.stack([sigma_x, np.full_like(x, 1e-6), np.full_like(x, 1e-6)], axis=1)
        sigma[~np.isfinite(x)] = np.nan
        return position, sigma

    def motion_bounds_m(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        hx, hy, hz = box_half_size_m(float(self.resolve_params(params)["size_m"]))
        length = self.declared_law(params)["stopping_distance_m"].value + 2 * hx
        top = max(2 * hz, VIEW_HEIGHT_FRACTION * length)
        return np.array([-hx, -hy, 0.0]), np.array([length - hx, hy, top])

    def fit_clip(self, track: PlaneTrack, noise: np.ndarray, rng: np.random.Generator, n_boot: int, *,
                 automatic: bool, length_m: float | None = None) -> ClipFit:
        return fit_slide_clip(track, noise, rng, n_boot, self.clip_min_frames, automatic)

    def fit_declared_law(self, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
        return fit_slide(self, params, tracks)

    def measure_state(self, params: Params, state: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Deceleration and stopping time from a straight-line fit of the box's horizontal speed while
        it slides; stopping distance from its horizontal displacement at the end of the episode.

        The fit ignores MuJoCo's creep below a few cm/s (see the module docstring): taking the first
        sample at rest instead would put the stop late by the creep.
        """
        t = body_column(state, "box", "t_s")
        x, y = body_column(state, "box", "position_x_m"), body_column(state, "box", "position_y_m")
        speed = np.hypot(body_column(state, "box", "velocity_x_m_s"), body_column(state, "box", "velocity_y_m_s"))
        return {
            "stopping_distance_m": float(np.hypot(x[-1] - x[0], y[-1] - y[0])),
            **sliding_fit(t, speed),
        }


def sliding_fit(t_s: np.ndarray, speed_m_s: np.ndarray) -> dict[str, float]:
    """Fit speed = v_fit - a t over the samples between FIT_SPEED_FRACTIONS of the launch speed,
    before the speed first drops below the lower fraction; returns a and the zero crossing v_fit / a."""
    low, high = (f * speed_m_s[0] for f in FIT_SPEED_FRACTIONS)
    slow = np.flatnonzero(speed_m_s < low)
    end = int(slow[0]) if slow.size else len(speed_m_s)
    window = np.arange(end)[speed_m_s[:end] <= high]
    if window.size < 3:
        return {"stopping_time_s": float("nan"), "deceleration_m_s2": float("nan")}
    slope, intercept = np.polyfit(t_s[window], speed_m_s[window], 1)
    return {"stopping_time_s": float(intercept / -slope), "deceleration_m_s2": float(-slope)}


def box_half_size_m(side_m: float) -> tuple[float, float, float]:
    """Half extents (x, y, z) in metres of the box with footprint side `side_m`."""
    return side_m / 2, side_m / 2, HEIGHT_PER_SIDE * side_m / 2


def box_body_mjcf(name: str, half_size_m: tuple[float, float, float], colour: str, friction: float) -> str:
    """A free box body `name` (joint `<name>_free`, geom `<name>_geom`) resting on the floor, whose
    friction and contact parameters win (priority 1) over the floor's."""
    hx, hy, hz = half_size_m
    ref = " ".join(f"{v:g}" for v in SLIDE_CONTACT["solref"])
    imp = " ".join(f"{v:g}" for v in SLIDE_CONTACT["solimp"])
    return (
        f'    <body name="{name}" pos="0 0 {hz:.6f}">\n'
        f'      <freejoint name="{name}_free"/>\n'
        f'      <geom name="{name}_geom" type="box" size="{hx:.6f} {hy:.6f} {hz:.6f}" density="{BOX_DENSITY_KG_M3:g}" '
        f'rgba="{rgba(colour)}" priority="1" condim="{SLIDE_CONTACT["condim"]}" friction="{friction!r} 0 0" '
        f'solref="{ref}" solimp="{imp}"/>\n'
        f"    </body>"
    )


def solver_option_attrs(contact: Mapping) -> str:
    """<option> attributes for the friction cone, impratio and noslip iterations."""
    return (f'cone="{contact["cone"]}" impratio="{contact["impratio"]:g}" '
            f'noslip_iterations="{contact["noslip_iterations"]}"')


# --- law fit on tracks measured from pixels --------------------------------------------------------

def fit_slide(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """x(t) = x0 + v0 tau - a tau^2 / 2, tau = min(t, v0 / a) (launch at t = 0, at rest after the stop),
    nonlinear least squares in (x0, v0, a). Stopping distance v0^2 / (2 a), time v0 / a, mu = a / g
    (declared g)."""
    t, x, sx = tracks["box"].axis(0)
    keys = {"stopping_distance_m": "m", "stopping_time_s": "s", "deceleration_m_s2": "m/s^2", "friction": "",
            "launch_speed_m_s": "m/s"}
    if len(t) < 5:
        return unmeasured(keys, "fewer than 5 frames")
    v0 = max(float(np.polyfit(t[:3], x[:3], 1)[0]), 1e-3)
    travel = max(float(np.max(x) - x[0]), 1e-3)

    def model(c):
        tau = np.clip(t, 0.0, c[1] / c[2])
        return c[0] + c[1] * tau - 0.5 * c[2] * tau**2

    fit = nonlinear_fit(model, x, sx, np.array([x[0], v0, v0**2 / (2 * travel)]), "m",
                        "constant deceleration from t = 0 until the stop, then at rest",
                        bounds=([-np.inf, 1e-6, 1e-6], [np.inf, np.inf, np.inf]))
    g = spec.gravity_m_s2
    return fit.derive(lambda c: {"stopping_distance_m": c[1] ** 2 / (2 * c[2]), "stopping_time_s": c[1] / c[2],
                                 "deceleration_m_s2": c[2], "friction": c[2] / g, "launch_speed_m_s": c[1]},
                      keys, {"friction": f"a / g with g = {g} m/s^2"})


# --- law fit on a clip's plane track (measure-clip) --------------------------------------------------
STANDARD_GRAVITY_M_S2 = 9.80665
"""A clip has no declared gravity: its friction is the deceleration over standard gravity."""


def fit_slide_clip(track: PlaneTrack, noise: np.ndarray, rng: np.random.Generator, n_boot: int, min_frames: int,
                   automatic: bool) -> ClipFit:
    """The sliding frames (until the object comes to rest): a parabola per axis -> deceleration |2 c2| and
    friction = deceleration / 9.80665 (metric), the sliding time (s, from the first used frame to the vertex)."""

    def derived(C, t_mean, t_first):
        acc = 2 * C[2]
        size = float(np.hypot(*acc))
        return {"tilt_deg": math.degrees(math.atan2(acc[0], -acc[1])), "deceleration": size,
                "friction": size / STANDARD_GRAVITY_M_S2 if track.unit == "m" else math.nan,
                "sliding_time_s": float(np.dot(-C[1], acc) / max(size**2, 1e-12)) + t_mean - t_first}

    fit = fit_parabola(track, noise, derived, rng, n_boot, min_frames=min_frames, law="slide", automatic=automatic,
                       stop_at_rest=True)
    values, sigmas = fit.values, fit.sigmas
    q = {"deceleration_m_s2": ClipQuantity(values["deceleration"], sigmas["deceleration"], "m/s^2", metric=True),
         "friction": ClipQuantity(values["friction"], sigmas["friction"], "",
                                  f"deceleration / {STANDARD_GRAVITY_M_S2} m/s^2 (standard gravity)", metric=True),
         "sliding_time_s": ClipQuantity(values["sliding_time_s"], sigmas["sliding_time_s"], "s",
                                        "from the first used frame to the stop (vertex of the fit)")}
    return parabola_clip_fit("slide", track, fit, q)
