"""`occlusion`: a ball rolls at constant speed behind a static wall and re-emerges (object permanence).

World: a ball of radius r rolls without slipping along the line y = 0, z = r, in +x at speed v
(initial linear velocity v along +x and angular velocity v / r about +y, so the contact point is
at rest; no rolling or torsional friction). A dark grey box wall of width w (along x), height
`WALL_HEIGHT_M` and thickness `WALL_THICKNESS_M` stands on the floor centred on x = 0, y =
`WALL_CENTRE_Y_M`: between the auto-framed camera (on the -y side, looking along +y) and the path.
The path is symmetric about x = 0: the ball starts fully visible at x0 = -X and ends fully
visible at +X, `lead_m` beyond the silhouette boundaries.

Law: constant speed, x(t) = x0 + v t; and, from the pinhole geometry, the times at which the ball
starts being occluded, is fully hidden, starts to re-emerge and is fully visible again, and the
exit position (x when fully visible again).

Silhouette geometry (exact for a pinhole camera and a sphere, in the image of the *default* rig):
the camera sits at x = 0 (the box centre), at height r (the centre of the motion box, i.e. the
ball centre's height) and below the wall top, so it sees only the wall's front face, whose
vertical front edges (x = +-w/2, y = front face) bound the wall's image left and right. The
ball's image touches the wall's image exactly when the sphere touches the vertical plane through
the camera centre and that edge, i.e. when the ball centre's distance to the plane equals r
(the tangent cone of a sphere about the eye lies on one side of a plane through the eye iff the
centre is >= r from it). The plane meets the path at x_e = e (-cy) / (y_f - cy) (camera at
(0, cy), edge at (e, y_f)), and the centre is r from it at x_e -+ r L / (y_f - cy), with L the
horizontal distance from the camera to the edge. The planes are vertical, so the ball's
height (and its small contact sink) does not enter. The cruder "projected extreme rays"
approximation (ball centre +- r along x) is off by r (L / (y_f - cy) - 1), up to 1.8 mm over the
domain (6 ms at 0.3 m/s): the tangent-plane form is used. The top of the wall
hides the top of the ball with >= 0.2 m to spare (checked in `occlusion_geometry`); the bottom
is the floor. What remains inexact is the renderer, not the law: a segmentation pixel counts
as hidden when its centre is covered, so rendered transitions lag or lead the law by up to one
pixel of image motion.

Camera assumption: the event positions depend on where the rig puts the camera, which
`realitygap.core.camera.camera_pose_for_bounds` computes from the motion box and the camera's field
of view, aspect ratio and framing margin (not its pixel count). `declared_law`/`measure_state` use the
default `CameraConfig` (45 deg, square image, margin 1.3; 32x32, 96x96 and 256x256 all give the
same camera); `occlusion_geometry(..., camera=...)` gives the events for any other camera.
The motion box itself (the path length X) is solved for the default camera.

Physics settings: a stiff, critically damped soft contact (solref 0.005 s / 1.0, solimp 0.95 0.99
0.001) keeps the ball's sink into the floor and its loss of speed far below what the law can see;
MuJoCo's default contact (0.02 s, solimp 0.9 0.95) sinks it deeper and slows it. condim 3 (the
default): sliding friction only, so nothing brakes a ball that rolls without slipping. The default
step is fine (no finer step needed); no drag (density = viscosity = 0 in the world).

Development measurements behind these settings: docs/twins.md.
"""

from __future__ import annotations

import math
from typing import ClassVar, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict

from realitygap.core.camera import camera_pose_for_bounds
from realitygap.core.fitting import FitResult, MeasuredTrack, inner_gaps, linear_fit, unmeasured
from realitygap.core.rig import CameraConfig
from realitygap.scenarios.base import (
    InstanceSpec,
    LawQuantity,
    Parameter,
    Params,
    ScenarioSpec,
    body_column,
    colour_parameter,
)
from realitygap.scenarios.hints import RADIUS_HINTS, SPEED_HINTS, Hint, hint
from realitygap.scenarios.world import COLOUR_NAMES, ball_body_mjcf, world_mjcf

ROLL_CONTACT = {"solref": (0.005, 1.0), "solimp": (0.95, 0.99, 0.001)}
WALL_CENTRE_Y_M = -0.4
WALL_THICKNESS_M = 0.04
WALL_HEIGHT_M = 0.4
WALL_RGBA = (0.16, 0.16, 0.18, 1.0)
"""Dark neutral grey: far from the light background, the mid-grey floor and every ball colour."""
MIN_LEAD_M = 0.15
"""Least run-up before the ball touches the wall's silhouette (and run-out after it leaves it)."""

EVENTS = ("occlusion_start", "fully_hidden", "reemerge_start", "fully_visible")


class OcclusionGeometry(BaseModel):
    """Where the ball centre (world x, metres) is at each silhouette event, and the camera used."""

    model_config = ConfigDict(frozen=True)

    start_x_m: float
    """x0: centre at t = 0 (the path runs from x0 to -x0)."""
    camera_pos_m: tuple[float, float, float]
    event_x_m: dict[str, float]
    """Centre x at occlusion_start, fully_hidden, reemerge_start, fully_visible."""
    top_clearance_m: float
    """Distance from the ball centre to the plane through the camera and the wall's top front edge,
    minus r: > 0 means the wall is tall enough to hide the whole ball."""


class OcclusionScenario(ScenarioSpec):
    name: str = "occlusion"
    summary: str = "A ball rolls at constant speed behind a wall and re-emerges (object permanence)."
    parameters: tuple[Parameter, ...] = (
        Parameter(name="speed_m_s", unit="m/s", low=0.3, high=2.0, default=1.0,
                  description="rolling speed of the ball along +x"),
        Parameter(name="wall_width_m", unit="m", low=0.3, high=1.0, default=0.6,
                  description="width of the occluding wall along x"),
        Parameter(name="radius_m", unit="m", low=0.05, high=0.1, default=0.08,
                  description="ball radius (at most 0.1 m: the ball must fit behind a 0.3 m wall)"),
        colour_parameter("orange", COLOUR_NAMES),
    )
    law: str = ("x(t) = x0 + v t (constant speed); occlusion events at the centre positions where the ball's "
                "tangent cone from the camera touches the planes through the camera and the wall's front edges: "
                "x = x_e -+ r L / (y_f - y_cam), x_e = e (-y_cam) / (y_f - y_cam); t = (x - x0) / v")
    prompt_template: str = (
        "One {colour} ball of radius {radius_m:.2f} m rolls at a constant {speed_m_s:.2f} m/s across a grey floor, "
        "passes behind a dark grey wall {wall_width_m:.2f} m wide standing between it and the camera, and "
        "re-emerges on the other side. Static camera, plain light background."
    )
    prompt_phrases: ClassVar[tuple[str, ...]] = (
        "a ball rolls behind a wall and comes out the other side",
        "a ball passes behind an obstacle and reappears",
        "object permanence: a ball disappears behind a screen and re-emerges",
        "a rolling ball is hidden by a wall for a moment",
    )
    """Paraphrases of the scene, besides the summary and the prompt template, for choosing the scenario."""
    param_hints: ClassVar[Mapping[str, tuple[Hint, ...]]] = {
        "speed_m_s": SPEED_HINTS,
        "radius_m": RADIUS_HINTS,
        "wall_width_m": (hint("wall", weight=1.5), hint("wide", "right"), hint("width"), hint("screen"),
                         hint("obstacle")),
    }
    """Per numeric parameter: the keywords that tie a number in a prompt to it."""
    physical_bounds: ClassVar[Mapping[str, tuple[float, float]]] = {"hidden_duration_s": (0.0, math.inf)}
    recovered_params: ClassVar[Mapping[str, tuple[str, float]]] = {"speed_m_s": ("speed_start_m_s", 1.0)}
    instances: tuple[InstanceSpec, ...] = (InstanceSpec(name="ball", body="ball", class_name="ball"),)
    sensor_body: str = "ball"
    event_margin_s: float = 0.2
    """Run-up and run-out time; the distance is at least `MIN_LEAD_M`."""

    # --- world --------------------------------------------------------------------------------
    def build_mjcf(self, params: Params, timestep_s: float) -> str:
        p = self.resolve_params(params)
        r = float(p["radius_m"])
        x0 = self.geometry(p).start_x_m
        ball = ball_body_mjcf("ball", (x0, 0.0, r), r, str(p["colour"]), ROLL_CONTACT["solref"], ROLL_CONTACT["solimp"])
        half = (float(p["wall_width_m"]) / 2, WALL_THICKNESS_M / 2, WALL_HEIGHT_M / 2)
        wall_rgba = " ".join(f"{c:g}" for c in WALL_RGBA)
        wall = (f'    <geom name="wall" type="box" pos="0 {WALL_CENTRE_Y_M:g} {WALL_HEIGHT_M / 2:g}" '
                f'size="{half[0]:.6f} {half[1]:.6f} {half[2]:.6f}" rgba="{wall_rgba}" contype="0" conaffinity="0"/>')
        return world_mjcf(self.name, ball + "\n" + wall, self.world_options(p))

    def initialize(self, params: Params, model, data) -> None:
        """Rolling without slipping: v along +x, v / r about +y (free-joint angular velocity is in
        the body frame, which is the world frame at t = 0)."""
        v, r = float(params["speed_m_s"]), float(params["radius_m"])
        data.joint("ball_free").qvel[:] = [v, 0.0, 0.0, 0.0, v / r, 0.0]

    def contact_settings(self, params: Params, timestep_s: float) -> dict:
        return {"ball_floor": {**ROLL_CONTACT, "condim": 3,
                               "note": "stiff critically damped contact (0.02 mm sink); sliding friction only: "
                                       "no rolling or torsional friction, so rolling speed stays constant"}}

    # --- law ----------------------------------------------------------------------------------
    def geometry(self, params: Params, camera: CameraConfig | None = None) -> OcclusionGeometry:
        """Silhouette events for `camera` (default: the default rig's camera)."""
        p = self.resolve_params(params)
        return occlusion_geometry(float(p["speed_m_s"]), float(p["wall_width_m"]), float(p["radius_m"]),
                                  self.event_margin_s, camera or CameraConfig())

    def declared_law(self, params: Params) -> dict[str, LawQuantity]:
        """Law for the default rig camera (see the module docstring)."""
        p = self.resolve_params(params)
        v = float(p["speed_m_s"])
        geo = self.geometry(p)
        times = {k: (x - geo.start_x_m) / v for k, x in geo.event_x_m.items()}
        out = {
            "speed_start_m_s": LawQuantity(name="speed_start_m_s", value=v, unit="m/s",
                                        description="mean speed before the ball reaches the wall's silhouette"),
            "speed_end_m_s": LawQuantity(name="speed_end_m_s", value=v, unit="m/s",
                                      description="mean speed after the ball is fully visible again"),
        }
        descriptions = {
            "occlusion_start": "the ball's image first touches the wall's image",
            "fully_hidden": "the ball's image is entirely inside the wall's image",
            "reemerge_start": "the ball's image starts to leave the wall's image",
            "fully_visible": "the ball's image is entirely outside the wall's image again",
        }
        for event in EVENTS:
            name = f"{event}_time_s"
            out[name] = LawQuantity(name=name, value=times[event], unit="s", description=f"time when {descriptions[event]}")
        out["hidden_duration_s"] = LawQuantity(
            name="hidden_duration_s", value=times["reemerge_start"] - times["fully_hidden"], unit="s",
            description="time the ball is entirely hidden")
        out["exit_position_x_m"] = LawQuantity(
            name="exit_position_x_m", value=geo.event_x_m["fully_visible"], unit="m",
            description="world x of the ball centre when it is fully visible again")
        return out

    def law_position(self, params: Params, t_s: np.ndarray) -> np.ndarray:
        p = self.resolve_params(params)
        v, r = float(p["speed_m_s"]), float(p["radius_m"])
        t = np.asarray(t_s, dtype=float)
        x = self.geometry(p).start_x_m + v * t
        return np.stack([x, np.zeros_like(t), np.full_like(t, r)], axis=-1)

    def duration_s(self, params: Params) -> float:
        """From start to the mirror-image end point -x0 (run-out = run-up)."""
        p = self.resolve_params(params)
        return 2 * abs(self.geometry(p).start_x_m) / float(p["speed_m_s"])

    def motion_bounds_m(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        p = self.resolve_params(params)
        return _path_bounds(self.geometry(p).start_x_m, float(p["radius_m"]))

    def fit_declared_law(self, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
        return fit_occlusion(self, params, tracks)

    def measure_state(self, params: Params, state: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Mean speeds over the run-up and run-out, the times at which the centre crosses the predicted
        silhouette positions, and the centre's x at the predicted fully-visible time."""
        p = self.resolve_params(params)
        geo = self.geometry(p)
        predicted = self.declared_law(p)
        t = body_column(state, "ball", "t_s")
        x = body_column(state, "ball", "position_x_m")
        out: dict[str, float] = {}
        t_in, t_out = predicted["occlusion_start_time_s"].value, predicted["fully_visible_time_s"].value
        x_in, x_out = np.interp([t[0], t_in], t, x), np.interp([t_out, t[-1]], t, x)
        out["speed_start_m_s"] = float((x_in[1] - x_in[0]) / (t_in - t[0]))
        out["speed_end_m_s"] = float((x_out[1] - x_out[0]) / (t[-1] - t_out))
        for event in EVENTS:
            out[f"{event}_time_s"] = _first_upward_crossing_time(t, x, geo.event_x_m[event])
        out["hidden_duration_s"] = out["reemerge_start_time_s"] - out["fully_hidden_time_s"]
        out["exit_position_x_m"] = float(np.interp(t_out, t, x))
        return out


def occlusion_geometry(speed_m_s: float, wall_width_m: float, radius_m: float, margin_s: float,
                       camera: CameraConfig) -> OcclusionGeometry:
    """Start point x0 and silhouette events of the default path, seen from `camera` framed by the rig.

    The path (and with it the camera distance) is solved for the default camera: x0 = -(x at
    fully_visible + lead), where x at fully_visible depends on the camera distance, which depends
    on the path length. A fixed-point iteration converges in a few steps (contraction < 0.1).
    """
    lead = max(MIN_LEAD_M, speed_m_s * margin_s)
    half_path = wall_width_m / 2 + radius_m + lead
    for _ in range(100):
        camera_pos = _camera_pos(half_path, radius_m, CameraConfig())
        new = _event_x_m(camera_pos, wall_width_m, radius_m)["fully_visible"] + lead
        converged = abs(new - half_path) < 1e-12
        half_path = new
        if converged:
            break
    camera_pos = _camera_pos(half_path, radius_m, camera)
    events = _event_x_m(camera_pos, wall_width_m, radius_m)
    if not events["fully_hidden"] < events["reemerge_start"]:
        raise ValueError(f"a ball of radius {radius_m} m never hides behind a {wall_width_m} m wall")
    return OcclusionGeometry(start_x_m=-half_path, camera_pos_m=tuple(float(c) for c in camera_pos), event_x_m=events,
                             top_clearance_m=_top_clearance_m(camera_pos, radius_m))


def _path_bounds(start_x_m: float, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Box swept by the ball rolling from x0 to -x0 on the floor along y = 0."""
    half = abs(start_x_m) + radius_m
    return np.array([-half, -radius_m, 0.0]), np.array([half, radius_m, 2 * radius_m])


def _camera_pos(half_path_m: float, radius_m: float, camera: CameraConfig) -> np.ndarray:
    return camera_pose_for_bounds(*_path_bounds(-half_path_m, radius_m), camera)


def _event_x_m(camera_pos_m: np.ndarray, wall_width_m: float, radius_m: float) -> dict[str, float]:
    """Ball-centre x on the path y = 0 where the sphere touches the vertical planes through the camera
    and the wall's front edges (tangent-plane condition: centre-to-plane distance = r)."""
    cx, cy = float(camera_pos_m[0]), float(camera_pos_m[1])
    y_front = WALL_CENTRE_Y_M - WALL_THICKNESS_M / 2
    assert cy < y_front and abs(cx) < wall_width_m / 2, "camera must face the wall's front, between its edges"

    def crossing_and_offset(edge_x: float) -> tuple[float, float]:
        depth = y_front - cy
        x_line = cx + (edge_x - cx) * (0.0 - cy) / depth
        return x_line, radius_m * math.hypot(edge_x - cx, depth) / depth

    left, left_off = crossing_and_offset(-wall_width_m / 2)
    right, right_off = crossing_and_offset(wall_width_m / 2)
    return {"occlusion_start": left - left_off, "fully_hidden": left + left_off,
            "reemerge_start": right - right_off, "fully_visible": right + right_off}


def _top_clearance_m(camera_pos_m: np.ndarray, radius_m: float) -> float:
    """Distance of the ball centre (y = 0, z = r) below the plane through the camera and the wall's
    top front edge, minus r (the plane is horizontal along x, so x does not matter)."""
    cy, cz = float(camera_pos_m[1]), float(camera_pos_m[2])
    y_front = WALL_CENTRE_Y_M - WALL_THICKNESS_M / 2
    slope = (WALL_HEIGHT_M - cz) / (y_front - cy)
    height_above_centre = cz + slope * (0.0 - cy) - radius_m
    return height_above_centre / math.hypot(1.0, slope) - radius_m


def _first_upward_crossing_time(t_s: np.ndarray, values: np.ndarray, level: float) -> float:
    """Time of the first upward crossing of `level`, linearly interpolated; NaN if none."""
    above = np.flatnonzero(values >= level)
    if above.size == 0 or above[0] == 0:
        return float("nan")
    i = int(above[0])
    v0, v1 = values[i - 1], values[i]
    return float(t_s[i - 1] + (t_s[i] - t_s[i - 1]) * (level - v0) / (v1 - v0))


# --- law fit on tracks measured from pixels --------------------------------------------------------
FULL_VISIBILITY = 0.99
"""Law fit: a frame with at least this visible fraction counts as fully visible."""
EDGE_FRAMES = 2
"""Law fit without visible fractions: frames this close to the gap are left out of the speed fits
(a partly hidden ball's mask centroid is biased)."""


def fit_occlusion(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """Events from presence: the longest run of absent frames between present ones is the hidden
    interval; the ball disappears (fully_hidden) half-way between the last frame seen and the next,
    and re-emerges (reemerge_start) half-way between the last unseen frame and the first seen
    (uncertainty frame interval / sqrt(12)). With visible fractions, occlusion_start and
    fully_visible likewise from the last / first fully visible frames (>= 0.99). Speeds: one linear
    fit x = x_1 + v_1 t before and x = x_2 + v_2 t after (fully visible frames, or frames >= 3 frames
    from the gap); exit position = the after-line at fully_visible; reemerge position at reemerge_start."""
    track = tracks["ball"]
    present = np.asarray(track.present, bool)
    t = np.asarray(track.t_s, float)
    keys = {"fully_hidden_time_s": "s", "reemerge_start_time_s": "s", "hidden_duration_s": "s",
            "speed_start_m_s": "m/s", "speed_end_m_s": "m/s", "reemerge_position_x_m": "m"}
    gaps = inner_gaps(present)
    if not gaps:
        return unmeasured(keys, "the ball is never hidden between two sightings")
    first_absent, last_absent = max(gaps, key=lambda g: g[1] - g[0])
    frame = float(np.median(np.diff(t)))
    timing = frame / math.sqrt(12)
    out = {}

    def event(value: float, note: str) -> FitResult:
        return FitResult(value, "s", timing, float("nan"), "", 0, float("nan"), "presence transition, mid-frame", note)

    t_hidden = (t[first_absent - 1] + t[first_absent]) / 2
    t_back = (t[last_absent] + t[last_absent + 1]) / 2
    out["fully_hidden_time_s"] = event(t_hidden, "last frame seen + half a frame")
    out["reemerge_start_time_s"] = event(t_back, "first frame seen again - half a frame")
    out["hidden_duration_s"] = FitResult(t_back - t_hidden, "s", math.sqrt(2) * timing, float("nan"), "", 0,
                                         float("nan"), "presence transition, mid-frame")
    fraction = track.visible_fraction
    has_fraction = fraction is not None and np.all(np.isfinite(np.asarray(fraction)[present]))
    before = np.arange(len(t)) < first_absent
    after = np.arange(len(t)) > last_absent
    if has_fraction:
        full = present & (np.asarray(fraction) >= FULL_VISIBILITY)
        last_full = np.flatnonzero(full & before)
        first_full = np.flatnonzero(full & after)
        clean_before, clean_after = full & before, full & after
        if last_full.size and last_full[-1] + 1 < len(t):
            i = int(last_full[-1])
            out["occlusion_start_time_s"] = event((t[i] + t[i + 1]) / 2, "last fully visible frame + half a frame")
            clean_before &= np.arange(len(t)) <= i
        if first_full.size and first_full[0] > 0:
            j = int(first_full[0])
            out["fully_visible_time_s"] = event((t[j - 1] + t[j]) / 2, "first fully visible frame - half a frame")
            clean_after &= np.arange(len(t)) >= j
    else:
        clean_before = present & before & (np.arange(len(t)) < first_absent - EDGE_FRAMES)
        clean_after = present & after & (np.arange(len(t)) > last_absent + EDGE_FRAMES)
    clean_before &= track.valid
    clean_after &= track.valid
    if clean_before.sum() < 2 or clean_after.sum() < 2 or clean_before.sum() + clean_after.sum() < 5:
        return {**out, **unmeasured({k: u for k, u in keys.items() if k not in out}, "too few clean frames for the speeds")}
    rows = np.r_[np.flatnonzero(clean_before), np.flatnonzero(clean_after)]
    side = np.r_[np.zeros(clean_before.sum()), np.ones(clean_after.sum())]
    tt = t[rows]
    design = np.stack([1 - side, (1 - side) * tt, side, side * tt], axis=1)
    fit = linear_fit(design, track.position_m[rows, 0], track.sigma_m[rows, 0], "m",
                     "lines x(t) before and after the occlusion")
    lines = {"speed_start_m_s": "m/s", "speed_end_m_s": "m/s", "reemerge_position_x_m": "m"}
    t_visible = out["fully_visible_time_s"].value if "fully_visible_time_s" in out else None
    if t_visible is not None:
        lines["exit_position_x_m"] = "m"
    out.update(fit.derive(lambda c: {"speed_start_m_s": c[1], "speed_end_m_s": c[3],
                                     "reemerge_position_x_m": c[2] + c[3] * t_back,
                                     "exit_position_x_m": c[2] + c[3] * (t_visible if t_visible is not None else t_back)},
                          lines, {"reemerge_position_x_m": "after-line at reemerge_start",
                                  "exit_position_x_m": "after-line at fully_visible"}))
    return out

