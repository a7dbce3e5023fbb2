"""`door`: a hinged door, pushed once, swings open against a linear hinge damper and stops.

The twin: a uniform box slab (width w, height h, thickness 0.04 m, mass m) on a vertical hinge joint
(world z axis) through the middle of its left edge, 2 cm above the floor, with linear joint damping
c (N m s/rad) and nothing else: no contacts (contype = conaffinity = 0), no friction loss, no
armature, gravity along the hinge axis (does no work). Closed, the door lies along +x facing the
camera (which sits on the -y side); a positive angle opens it away from the camera towards +y.

Law. The push is an instantaneous horizontal impulse J perpendicular to the door at r = f w from
the hinge: the hinge takes the linear momentum and the door starts with I w0 = J r (`initialize`
divides J r by the compiled model's hinge inertia). With I = m (4 w^2 + t^2) / 12, the slab's moment of inertia
about the hinge line (the mid-thickness of its edge), I theta'' = -c theta' gives
    theta(t) = (J r / c) (1 - exp(-t / tau)),  tau = I / c,  final angle theta_inf = J r / c.

Physics settings. MuJoCo's Euler integrator treats joint damping implicitly: w_(n+1) = w_n / (1 + h/tau),
theta_(n+1) = theta_n + h w_(n+1), whose sum is exactly J r / c at any step (a geometric series).
The transient lags the exponential by about h / (2 tau) relative, so the step is capped at tau / 600
(a lag below 0.1 %). The episode lasts 7 tau + 0.3 s, where exp(-7) leaves < 0.1 % of theta_inf to go.

Domains: I ranges 16.7x over the mass [5, 30] kg and width [0.6, 1] m domains, so the damping
[12, 20] N m s/rad keeps tau in [0.03, 0.83] s (episodes <= 6.2 s), and the impulse [5, 20] N s with
the push point at [0.5, 1] of the width keeps theta_inf in [4.3, 95.5] deg (< 110 deg).

Development measurements behind these settings: docs/twins.md.
"""

from __future__ import annotations

import math
from typing import ClassVar, Mapping

import numpy as np

from realitygap.core.fitting import FitResult, MeasuredTrack, nonlinear_fit, unmeasured
from realitygap.core.mj import mujoco
from realitygap.scenarios.base import (
    InstanceSpec,
    LawQuantity,
    Parameter,
    Params,
    ScenarioSpec,
    body_column,
    colour_parameter,
)
from realitygap.scenarios.hints import Hint, hint
from realitygap.scenarios.silhouette import box_corners_m, hull_centroid_px, invert_centroids
from realitygap.scenarios.world import COLOUR_NAMES, rgba, world_mjcf

THICKNESS_M = 0.04
FLOOR_GAP_M = 0.02
"""Clearance under the door: it never touches the floor."""
TIME_CONSTANTS = 7.0
"""Episode event length in time constants: exp(-7) = 0.09 % of the final angle still to go."""
STEPS_PER_TIME_CONSTANT = 600.0


class DoorScenario(ScenarioSpec):
    name: str = "door"
    summary: str = "A hinged door is pushed once and swings open against a damped hinge until it stops."
    parameters: tuple[Parameter, ...] = (
        Parameter(name="width_m", unit="m", low=0.6, high=1.0, default=0.8, description="door width (hinge to free edge)"),
        Parameter(name="height_m", unit="m", low=1.6, high=2.0, default=1.8, description="door height"),
        Parameter(name="mass_kg", unit="kg", low=5.0, high=30.0, default=15.0, description="door mass (uniform slab)"),
        Parameter(name="hinge_damping_n_m_s", unit="N m s/rad", low=12.0, high=20.0, default=15.0,
                  description="linear hinge damping c (torque = -c * angular velocity)"),
        Parameter(name="impulse_n_s", unit="N s", low=5.0, high=20.0, default=12.0,
                  description="horizontal push impulse J, perpendicular to the closed door"),
        Parameter(name="push_point_fraction", unit="", low=0.5, high=1.0, default=0.8,
                  description="distance of the push point from the hinge, as a fraction of the width"),
        colour_parameter("orange", COLOUR_NAMES, what="door"),
    )
    law: str = (
        "I = m (4 w^2 + t^2)/12; I w0 = J r, r = f w; theta(t) = (J r / c)(1 - exp(-c t / I)); "
        "final angle J r / c; time constant I / c"
    )
    prompt_template: str = (
        "A door painted {colour}, {width_m:.2f} m wide, {height_m:.2f} m tall and {mass_kg:.0f} kg, stands closed facing "
        "the camera on a vertical hinge at its left edge, just above a grey floor. A short push of {impulse_n_s:.1f} N s "
        "at {push_point_fraction:.0%} of its width from the hinge swings it open away from the camera; a damped hinge "
        "({hinge_damping_n_m_s:.1f} N m s/rad) slows it smoothly to a stop. Static camera looking slightly down, plain "
        "light background."
    )
    prompt_phrases: ClassVar[tuple[str, ...]] = (
        "a door is pushed and swings open",
        "someone pushes a hinged door open and it slowly stops",
        "a door opening on its hinge",
        "a push opens a heavy door",
    )
    """Paraphrases of the scene, besides the summary and the prompt template, for choosing the scenario."""
    param_hints: ClassVar[Mapping[str, tuple[Hint, ...]]] = {
        "width_m": (hint("wide", weight=1.5), hint("width", weight=1.5), hint("across")),
        "height_m": (hint("tall", weight=1.5), hint("high"), hint("height", weight=1.5)),
        "mass_kg": (hint("weighs"), hint("mass"), hint("heavy")),
        "hinge_damping_n_m_s": (hint("damping", weight=2), hint("hinge")),
        "impulse_n_s": (hint("push"), hint("impulse", weight=2), hint("kick"), hint("shove")),
        "push_point_fraction": (hint("of its width", "right", weight=2), hint("of the width", "right", weight=2),
                                hint("from the hinge", "right", weight=2), hint("push point", weight=2),
                                hint("along", "right")),
    }
    """Per numeric parameter: the keywords that tie a number in a prompt to it."""
    physical_bounds: ClassVar[Mapping[str, tuple[float, float]]] = {
        "time_constant_s": (0.0, math.inf),
        "hinge_damping_n_m_s": (0.0, math.inf),
    }
    recovered_params: ClassVar[Mapping[str, tuple[str, float]]] = {"hinge_damping_n_m_s": ("hinge_damping_n_m_s", 1.0)}
    instances: tuple[InstanceSpec, ...] = (InstanceSpec(name="door", body="door", class_name="door"),)
    sensor_body: str = "door"
    event_margin_s: float = 0.3
    camera_elevation_deg: float = 15.0
    """Looking slightly down shows the opening angle in the door's bottom edge and makes the horizontal plane
    of its centre's motion usable for back-projection (a level camera sees that plane edge-on); at 15 deg
    the light background still shows above the floor."""

    def max_timestep_s(self, params: Params) -> float:
        """tau / 600: the implicit damping's transient lag stays below 0.1 % (the final angle is exact anyway)."""
        return min(1e-3, door_time_constant_s(self.resolve_params(params)) / STEPS_PER_TIME_CONSTANT)

    def build_mjcf(self, params: Params, timestep_s: float) -> str:
        p = self.resolve_params(params)
        width, height, mass = float(p["width_m"]), float(p["height_m"]), float(p["mass_kg"])
        damping = float(p["hinge_damping_n_m_s"])
        body = f"""    <body name="door" pos="{width / 2:.6f} 0 {FLOOR_GAP_M + height / 2:.6f}">
      <joint name="door_hinge" type="hinge" axis="0 0 1" pos="{-width / 2:.6f} 0 0" damping="{damping!r}"
             armature="0" frictionloss="0"/>
      <geom name="door_geom" type="box" size="{width / 2:.6f} {THICKNESS_M / 2:.6f} {height / 2:.6f}" mass="{mass!r}"
            rgba="{rgba(str(p["colour"]))}" contype="0" conaffinity="0"/>
    </body>"""
        return world_mjcf(self.name, body, self.world_options(p))

    def initialize(self, params: Params, model, data) -> None:
        """The push as an instantaneous impulse: the door starts closed with angular velocity J r / I_twin.

        I_twin is the hinge's 1x1 joint-space inertia of the compiled model (not the law's I), so a twin
        whose door differs from the declared one shows it in w0 and tau instead of hiding it.
        """
        p = self.resolve_params(params)
        hinge = data.joint("door_hinge")
        hinge.qpos[0], hinge.qvel[0] = 0.0, 0.0
        mujoco.mj_forward(model, data)
        inertia = np.zeros((model.nv, model.nv))
        mujoco.mj_fullM(model, data, inertia)  # MuJoCo 4: (m, d, dst); MjData has no qM any more
        dof = int(model.jnt_dofadr[model.joint("door_hinge").id])
        hinge.qvel[0] = angular_impulse_n_m_s(p) / float(inertia[dof, dof])

    def contact_settings(self, params: Params, timestep_s: float) -> dict:
        p = self.resolve_params(params)
        return {"door_hinge": {
            "damping_n_m_s_rad": float(p["hinge_damping_n_m_s"]), "frictionloss": 0.0, "armature": 0.0,
            "contacts": "none (contype = conaffinity = 0); 2 cm gap above the floor",
            "note": "Euler integrates joint damping implicitly: final angle exact; step <= tau / 600 keeps the "
            "transient within 0.1 %",
            "time_constant_s": door_time_constant_s(p), "timestep_s": timestep_s,
        }}

    def declared_law(self, params: Params) -> dict[str, LawQuantity]:
        p = self.resolve_params(params)
        final = final_angle_rad(p)
        return {
            "final_angle_rad": LawQuantity(name="final_angle_rad", value=final, unit="rad",
                                        description="angle at which the door stops, J r / c"),
            "angle_at_time_constant_rad": LawQuantity(
                name="angle_at_time_constant_rad", value=final * (1 - math.exp(-1.0)), unit="rad",
                description="opening angle at t = I / c: (1 - 1/e) of the final angle"),
            "initial_angular_velocity_rad_s": LawQuantity(
                name="initial_angular_velocity_rad_s", value=initial_angular_velocity_rad_s(p), unit="rad/s",
                description="angular velocity just after the push, J r / I"),
            "time_constant_s": LawQuantity(name="time_constant_s", value=door_time_constant_s(p), unit="s",
                                        description="I / c; measured as the time to reach (1 - 1/e) of the final angle"),
        }

    def law_position(self, params: Params, t_s: np.ndarray) -> np.ndarray:
        """Law position of the door's centre (the body origin): on a circle of radius w / 2 about the hinge."""
        p = self.resolve_params(params)
        theta = door_angle_rad(p, np.asarray(t_s, dtype=float))
        half_width = float(p["width_m"]) / 2
        z = np.full_like(theta, FLOOR_GAP_M + float(p["height_m"]) / 2)
        return np.stack([half_width * np.cos(theta), half_width * np.sin(theta), z], axis=-1)

    def duration_s(self, params: Params) -> float:
        return TIME_CONSTANTS * door_time_constant_s(self.resolve_params(params)) + self.event_margin_s

    def motion_bounds_m(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        """Box swept by the door's corners while it opens from 0 to the final angle (exact)."""
        p = self.resolve_params(params)
        width, height = float(p["width_m"]), float(p["height_m"])
        xy = swept_corners_xy_m(width, final_angle_rad(p))
        low = np.array([xy[:, 0].min(), xy[:, 1].min(), FLOOR_GAP_M])
        high = np.array([xy[:, 0].max(), xy[:, 1].max(), FLOOR_GAP_M + height])
        return low, high

    def motion_plane(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        """The door's centre moves on a horizontal circle at half its height (the tilted camera sees it from above)."""
        p = self.resolve_params(params)
        return np.array([0.0, 0.0, FLOOR_GAP_M + float(p["height_m"]) / 2]), np.array([0.0, 0.0, 1.0])

    def law_trace(self, params: Params, state: Mapping[str, np.ndarray]) -> dict:
        """Door opening angle (degrees, for the report) from the state against the law."""
        p = self.resolve_params(params)
        t = body_column(state, "door", "t_s")
        theta = np.unwrap(2 * np.arctan2(body_column(state, "door", "quaternion_z"), body_column(state, "door", "quaternion_w")))
        return {"label": "door angle", "unit": "deg", "t_s": t, "state": np.degrees(theta),
                "law": np.degrees(door_angle_rad(p, t))}

    def position_from_pixels(self, params: Params, instance: str, centroid_px: np.ndarray, sigma_px: np.ndarray,
                             K: np.ndarray, T_world_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Door angle per frame from its mask centroid, by the slab's silhouette model: the image of a
        convex box is the convex hull of its 8 projected corners, so the mask centroid is that hull's
        area centroid, a smooth function of the angle. Each centroid is matched on a 1 mrad grid of
        angles and refined by a bounded scalar search; the angle's sigma is sigma_px / |d centroid / d
        angle|. Returned as the door centre on its circle (as the law fit expects). The plane
        back-projection of the centroid would be biased by ~13 degrees: a tall slab's centroid is not
        on the horizontal plane through its centre, and that plane is seen at a grazing 15 degrees."""
        p = self.resolve_params(params)
        theta, sigma_theta = invert_centroids(lambda a: door_silhouette_centroid_px(p, a, K, T_world_camera),
                                              np.linspace(-0.3, 2.2, 2501), centroid_px, sigma_px)
        half = float(p["width_m"]) / 2
        z = FLOOR_GAP_M + float(p["height_m"]) / 2
        position = np.stack([half * np.cos(theta), half * np.sin(theta), np.full_like(theta, z)], axis=1)
        sigma = np.stack([half * np.abs(np.sin(theta)) * sigma_theta + 1e-6, half * np.abs(np.cos(theta)) * sigma_theta + 1e-6,
                          np.zeros_like(theta)], axis=1)
        sigma[~np.isfinite(theta)] = np.nan
        return position, sigma

    def fit_declared_law(self, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
        return fit_door(self, params, tracks)

    def measure_state(self, params: Params, state: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Door angle from the body quaternion (rotation about z): its last sample, its value at the law's
        t = I / c, the first angular velocity sample, and the time at which it reaches (1 - 1/e) of its last value."""
        p = self.resolve_params(params)
        t = body_column(state, "door", "t_s")
        theta = np.unwrap(2 * np.arctan2(body_column(state, "door", "quaternion_z"), body_column(state, "door", "quaternion_w")))
        omega = body_column(state, "door", "angular_velocity_z_rad_s")
        final = float(theta[-1])
        level = (1 - math.exp(-1.0)) * final
        reached = np.flatnonzero(theta >= level)
        tau = float("nan")
        if reached.size and reached[0] > 0:
            i = int(reached[0])
            tau = float(t[i - 1] + (t[i] - t[i - 1]) * (level - theta[i - 1]) / (theta[i] - theta[i - 1]))
        return {
            "final_angle_rad": final,
            "angle_at_time_constant_rad": float(np.interp(door_time_constant_s(p), t, theta)),
            "initial_angular_velocity_rad_s": float(omega[0]),
            "time_constant_s": tau,
        }


def moment_of_inertia_kg_m2(params: Params) -> float:
    """Uniform slab about the hinge line through the mid-thickness of one vertical edge: m (4 w^2 + t^2) / 12."""
    w = float(params["width_m"])
    return float(params["mass_kg"]) * (4 * w * w + THICKNESS_M**2) / 12


def angular_impulse_n_m_s(params: Params) -> float:
    """J r: the push's angular impulse about the hinge, N m s."""
    return float(params["impulse_n_s"]) * float(params["push_point_fraction"]) * float(params["width_m"])


def initial_angular_velocity_rad_s(params: Params) -> float:
    return angular_impulse_n_m_s(params) / moment_of_inertia_kg_m2(params)


def final_angle_rad(params: Params) -> float:
    return angular_impulse_n_m_s(params) / float(params["hinge_damping_n_m_s"])


def door_time_constant_s(params: Params) -> float:
    return moment_of_inertia_kg_m2(params) / float(params["hinge_damping_n_m_s"])


def swept_corners_xy_m(width_m: float, final_angle_rad: float) -> np.ndarray:
    """Points (N, 2) whose bounding box is exactly the box swept in x-y by the slab's corners about the hinge.

    Each corner moves on a circle from polar angle phi to phi + final angle; its extremes in x and y are
    at the two ends and wherever the polar angle passes a multiple of pi / 2.
    """
    points = []
    for x in (0.0, width_m):
        for y in (-THICKNESS_M / 2, THICKNESS_M / 2):
            radius, phi = math.hypot(x, y), math.atan2(y, x)
            quarter_turns = np.arange(math.ceil(phi / (math.pi / 2)), math.floor((phi + final_angle_rad) / (math.pi / 2)) + 1)
            angles = np.r_[phi, phi + final_angle_rad, quarter_turns * math.pi / 2]
            points.append(radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1))
    return np.vstack(points)


def door_silhouette_centroid_px(params: Params, angle_rad: float, K: np.ndarray, T_world_camera: np.ndarray) -> np.ndarray:
    """(u, v) area centroid of the convex hull of the door slab's 8 corners projected at `angle_rad`."""
    width, height = float(params["width_m"]), float(params["height_m"])
    local = box_corners_m((0.0, -THICKNESS_M / 2, FLOOR_GAP_M), (width, THICKNESS_M / 2, FLOOR_GAP_M + height))
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    corners = np.stack([c * local[:, 0] - s * local[:, 1], s * local[:, 0] + c * local[:, 1], local[:, 2]], axis=1)
    return hull_centroid_px(corners, K, T_world_camera)


def door_angle_rad(params: Params, t_s: np.ndarray) -> np.ndarray:
    """theta(t) = (J r / c)(1 - exp(-t / tau)) for t >= 0, radians."""
    return final_angle_rad(params) * (1 - np.exp(-np.maximum(t_s, 0.0) / door_time_constant_s(params)))


# --- law fit on tracks measured from pixels --------------------------------------------------------

def fit_door(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """The door centre (back-projected onto its horizontal motion plane) moves on the circle of radius
    w / 2 about the known hinge (world x = y = 0): x = (w / 2) cos theta(t), y = (w / 2) sin theta(t) with
    the declared theta(t) = Theta (1 - exp(-t / tau)) (closed until the push at t = 0), fitted to both
    coordinates with their own sigmas (the depth, here y, is several times less certain than x; a free
    angle offset would multiply the final angle's uncertainty by six). Final angle Theta; angle at the
    declared t = I / c (as `measure_state`); initial angular velocity Theta / tau; hinge damping
    J r / Theta with the declared push."""
    track = tracks["door"]
    t, x, sx = track.axis(0)
    _, y, sy = track.axis(1)
    units = {"final_angle_rad": "rad", "angle_at_time_constant_rad": "rad", "initial_angular_velocity_rad_s": "rad/s",
             "time_constant_s": "s", "hinge_damping_n_m_s": "N m s/rad"}
    if len(t) < 5:
        return unmeasured(units, "fewer than 5 frames")
    radius = float(params["width_m"]) / 2
    theta = np.unwrap(np.arctan2(y, x))
    opening = float(np.median(theta[-3:]))
    reached = np.flatnonzero(theta >= (1 - math.exp(-1.0)) * opening)
    tau0 = float(t[reached[0]]) if reached.size and t[reached[0]] > 0 else 0.2

    def model(c):
        angle = c[0] * (1 - np.exp(-np.maximum(t, 0.0) / c[1]))
        return np.r_[radius * np.cos(angle), radius * np.sin(angle)]

    fit = nonlinear_fit(model, np.r_[x, y], np.r_[sx, sy], np.array([opening, tau0]), "m",
                        "door centre on its circle about the known hinge, exponential approach of the angle",
                        bounds=([-np.inf, 1e-4], [np.inf, np.inf]))
    law_tau = door_time_constant_s(params)
    impulse = angular_impulse_n_m_s(params)
    return fit.derive(lambda c: {"final_angle_rad": c[0], "angle_at_time_constant_rad": c[0] * (1 - math.exp(-law_tau / c[1])),
                                 "initial_angular_velocity_rad_s": c[0] / c[1], "time_constant_s": c[1],
                                 "hinge_damping_n_m_s": impulse / c[0]},
                      units, {"angle_at_time_constant_rad": "fitted opening at the declared t = I / c",
                              "hinge_damping_n_m_s": "declared J r / final angle"})

