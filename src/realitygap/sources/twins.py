"""The reference twin (`sim`) and perturbed twins: negative controls with one named, documented defect.

A metric that cannot tell a perturbed twin from `sim` is broken. Each perturbed twin simulates the
same context (same camera, same requested parameters in episode.json) with its defect:

- `low_gravity`: gravity 5 m/s^2 instead of 9.81.
- `plausible_imprecise`: every numeric parameter silently scaled by a factor drawn uniformly in
  [0.85, 1.15] (seeded by the episode seed); the episode still records the requested parameters.
- `teleport`: at the middle of the episode the tracked object jumps 0.3 m along +x (positions only,
  velocities kept), once.
- `vanishing_object`: the tracked object is not drawn (transparent in RGB) for 10 frames starting
  at 40 % of the episode; physics and ground-truth state are unchanged.
- `energy_gain`: every time the tracked object leaves the floor after an impact its upward speed is
  set to 1.05 x its impact speed (a real bounce returns at most the impact speed); shows on `bounce`.
- `spontaneous_object`: a magenta sphere, drawn only (no collision, not an instance), appears from
  nothing at 40 % of the episode, at whichever of four points of the view is farthest from the
  tracked object's path.
- `frozen_frames`: the RGB video repeats one frame for 10 frames from 40 % of the episode (the
  world goes on; the video stalls, then jumps).
- `wrong_intrinsics`: the image is rendered with a focal length 1.2 x the calibration recorded in
  episode.json (the lens is narrower than declared).
- `no_shadows`: shadow casting is switched off; shows on scenarios with shadows (`shadow`).
- `shaky_camera`: every RGB frame is displaced by a seeded random shift (sigma 1.5 px per axis) and
  roll (sigma 0.3 degrees) about the image centre, as from a hand-held camera; the calibration
  records the steady camera.

Defects that corrupt the video after rendering (frozen frames, shaky camera) are `rgb_filter`s: the
ground-truth state, annotations and other sensors of those twins are the unperturbed ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from realitygap.episode.types import Context
from realitygap.scenarios import ScenarioSpec, get_scenario
from realitygap.sources.base import Conditioning, Cost

if TYPE_CHECKING:
    from realitygap.sim.runner import RgbFilter

LOW_GRAVITY_M_S2 = 5.0
ENERGY_GAIN = 1.05
"""Rebound speed / impact speed of the `energy_gain` twin."""
SPONTANEOUS_RGB = (0.85, 0.1, 0.75)
SPONTANEOUS_AT = 0.4
"""Fraction of the episode at which the spontaneous object appears, the frames freeze, the object vanishes."""
FROZEN_FRAMES = 10
FOCAL_FACTOR = 1.2
SHAKE_SHIFT_PX = 1.5
SHAKE_ROLL_DEG = 0.3
ALL_STREAMS = frozenset({"rgb", "depth", "segmentation", "thermal", "lidar", "radar", "imu", "gps", "state", "annotations"})
TELEPORT_M = 0.3
VANISH_FRAMES = 10
IMPRECISION = 0.15


@dataclass
class TwinSource:
    """A twin source: `defect` turns (scenario, context) into the scenario that is actually simulated."""

    name: str
    description: str
    defect: Callable[[ScenarioSpec, Context], ScenarioSpec] | None = None
    rgb_filter: Callable[[ScenarioSpec, Context], RgbFilter] | None = None
    capabilities: frozenset[str] = field(default=ALL_STREAMS)
    conditioning_frames: int = 0
    breaks: tuple[str, ...] = ()
    """The scorecard axes (and consistency checks, as 'consistency:<check>') its defect must lower: what a
    metric that cannot tell it from `sim` fails to see."""
    shows_on: tuple[str, ...] = ("drop",)
    """Scenarios on which the defect shows (the main job's sanity panel predicts one context of each)."""

    def setup(self) -> Cost:
        return Cost(note="no model: physics simulation")

    def predict(self, context: Context, out_dir: Path, conditioning: Conditioning | None = None) -> dict:
        from realitygap.sim.runner import simulate_episode

        started = time.perf_counter()
        scenario = get_scenario(context.scenario)
        simulated = self.defect(scenario, context) if self.defect else scenario
        rgb_filter = self.rgb_filter(scenario, context) if self.rgb_filter else None
        meta = simulate_episode(context, simulated, out_dir, source=self.name, rgb_filter=rgb_filter)
        meta.cost.prediction["wall_s_including_setup"] = time.perf_counter() - started
        return meta


def _low_gravity(scenario: ScenarioSpec, context: Context) -> ScenarioSpec:
    class LowGravity(type(scenario)):
        def duration_s(self, params):
            return super().duration_s(params) * 1.4  # the slower event still fits in the episode

    return LowGravity(world_changes={"gravity_m_s2": LOW_GRAVITY_M_S2})


def _plausible_imprecise(scenario: ScenarioSpec, context: Context) -> ScenarioSpec:
    rng = np.random.default_rng(np.random.SeedSequence([context.seed, 15]))
    factors = {p.name: float(rng.uniform(1 - IMPRECISION, 1 + IMPRECISION)) for p in scenario.parameters if p.is_numeric}

    def actual(spec, params):
        jittered = dict(params)
        for p in spec.parameters:
            if p.name in factors:
                jittered[p.name] = float(np.clip(float(params[p.name]) * factors[p.name], p.low, p.high))
        return jittered

    class Imprecise(type(scenario)):
        def build_mjcf(self, params, timestep_s):
            return super().build_mjcf(actual(self, params), timestep_s)

        def initialize(self, params, model, data):
            super().initialize(actual(self, params), model, data)

        def control(self, params, model, data):
            super().control(actual(self, params), model, data)

        def contact_settings(self, params, timestep_s):
            return super().contact_settings(actual(self, params), timestep_s)

        def duration_s(self, params):
            return max(super().duration_s(params), super().duration_s(actual(self, params)))

    return Imprecise()


def _teleport(scenario: ScenarioSpec, context: Context) -> ScenarioSpec:
    jump_at_s = 0.5 * scenario.duration_s(scenario.resolve_params(context.params))
    jumped = [False]  # this scenario instance simulates exactly one episode

    class Teleport(type(scenario)):
        def control(self, params, model, data):
            super().control(params, model, data)
            if jumped[0] or data.time < jump_at_s:
                return
            joint = model.body(self.sensor_body).jntadr[0]
            if joint >= 0 and model.jnt_type[joint] == 0:  # a free joint: qpos[adr] is x
                data.qpos[model.jnt_qposadr[joint]] += TELEPORT_M
            jumped[0] = True

    return Teleport()


def _vanishing(scenario: ScenarioSpec, context: Context) -> ScenarioSpec:
    fps = context.rig.camera.fps
    start_s = SPONTANEOUS_AT * scenario.duration_s(scenario.resolve_params(context.params))
    end_s = start_s + VANISH_FRAMES / fps

    class Vanishing(type(scenario)):
        def control(self, params, model, data):
            super().control(params, model, data)
            body = model.body(self.sensor_body).id
            geoms = model.geom_bodyid == body
            hidden = start_s - 0.5 / fps <= data.time < end_s - 0.5 / fps
            model.geom_rgba[geoms, 3] = 0.0 if hidden else 1.0

    return Vanishing()


def _energy_gain(scenario: ScenarioSpec, context: Context) -> ScenarioSpec:
    impact = {"speed_m_s": 0.0, "pending": False}  # one episode per scenario instance

    class EnergyGain(type(scenario)):
        def control(self, params, model, data):
            super().control(params, model, data)
            body = model.body(self.sensor_body).id
            joint = model.body_jntadr[body]
            if joint < 0 or model.jnt_type[joint] != 0:  # not a free body: nothing bounces
                return
            dof = model.jnt_dofadr[joint] + 2  # world z velocity of a free joint
            geoms = data.contact.geom[: data.ncon]
            touching = bool(np.any(model.geom_bodyid[geoms] == body)) if data.ncon else False
            vz = float(data.qvel[dof])
            if touching:
                return
            if vz < 0:
                impact["speed_m_s"], impact["pending"] = -vz, True
            elif impact["pending"]:
                data.qvel[dof] = ENERGY_GAIN * impact["speed_m_s"]
                impact["pending"] = False

    return EnergyGain()


def _spontaneous(scenario: ScenarioSpec, context: Context) -> ScenarioSpec:
    params = scenario.resolve_params(context.params)
    appear_s = SPONTANEOUS_AT * scenario.duration_s(params) - 0.5 / context.rig.camera.fps
    name = "rg_spontaneous"

    r, g, b = SPONTANEOUS_RGB
    body = (f'<body name="{name}" pos="0 0 -50"><geom name="{name}" type="sphere" size="0.05" '
            f'rgba="{r} {g} {b} 0" contype="0" conaffinity="0"/></body>')

    class Spontaneous(type(scenario)):
        def initialize(self, params, model, data):
            super().initialize(params, model, data)
            centre_m, radius_m = spontaneous_placement(self, params, model, data)
            model.body_pos[model.body(name).id] = centre_m
            model.geom_size[model.geom(name).id, 0] = radius_m
            model.geom_rbound[model.geom(name).id] = radius_m

        def control(self, params, model, data):
            super().control(params, model, data)
            model.geom_rgba[model.geom(name).id, 3] = 1.0 if data.time >= appear_s else 0.0

    return Spontaneous(world_changes={"extra_bodies_xml": body})


def spontaneous_placement(scenario: ScenarioSpec, params: dict, model, data) -> tuple[np.ndarray, float]:
    """World point (m) and radius (m) for the spontaneous sphere: of four points at +-0.55 of the view's
    half-width and +-0.45 of its half-height, on the plane through the motion box's centre facing the
    camera, the one above the floor farthest from the tracked object's law path; radius 10 % of the
    view's half-height there."""
    from realitygap.core.mj import mujoco
    from realitygap.sim.rig import CAMERA_NAME

    mujoco.mj_forward(model, data)  # camera poses (mj_kinematics leaves cam_xpos unset)
    cam = model.camera(CAMERA_NAME).id
    position, axes = data.cam_xpos[cam].copy(), data.cam_xmat[cam].reshape(3, 3)  # columns: right, up, backward
    low, high = scenario.motion_bounds_m(params)
    depth_m = float(np.dot((np.asarray(low) + np.asarray(high)) / 2 - position, -axes[:, 2]))
    half_h = depth_m * np.tan(np.radians(model.cam_fovy[cam]) / 2)
    t_s = np.linspace(0.0, scenario.duration_s(params), 200)
    path = scenario.law_position(params, t_s)
    radius_m = 0.1 * half_h
    best, best_gap = None, -np.inf
    for sx, sy in ((-0.55, 0.45), (0.55, 0.45), (-0.55, -0.45), (0.55, -0.45)):
        point = position + depth_m * (-axes[:, 2]) + sx * half_h * axes[:, 0] + sy * half_h * axes[:, 1]
        gap = float(np.min(np.linalg.norm(path - point, axis=1)))
        if point[2] > radius_m + 0.01 and gap > best_gap:
            best, best_gap = point, gap
    return (best if best is not None else position - depth_m * axes[:, 2]), radius_m


def _wrong_intrinsics(scenario: ScenarioSpec, context: Context) -> ScenarioSpec:
    class WrongIntrinsics(type(scenario)):
        def initialize(self, params, model, data):
            from realitygap.sim.rig import CAMERA_NAME, WIDE_CAMERA_NAME

            super().initialize(params, model, data)
            for camera in (CAMERA_NAME, WIDE_CAMERA_NAME):
                cam = model.camera(camera).id
                half = np.radians(model.cam_fovy[cam]) / 2
                model.cam_fovy[cam] = np.degrees(2 * np.arctan(np.tan(half) / FOCAL_FACTOR))

    return WrongIntrinsics()


def _no_shadows(scenario: ScenarioSpec, context: Context) -> ScenarioSpec:
    return scenario.model_copy(update={"world_changes": {"shadows": False}})


def _frozen_frames(scenario: ScenarioSpec, context: Context) -> RgbFilter:
    fps = context.rig.camera.fps
    start = max(1, int(round(SPONTANEOUS_AT * scenario.duration_s(scenario.resolve_params(context.params)) * fps)))
    held: dict[str, np.ndarray] = {}

    def freeze(frame: int, rgb: np.ndarray) -> np.ndarray:
        if frame == start - 1:
            held["rgb"] = rgb.copy()
        return held["rgb"] if start <= frame < start + FROZEN_FRAMES else rgb

    return freeze


def _shaky_camera(scenario: ScenarioSpec, context: Context) -> RgbFilter:
    import cv2

    def shake(frame: int, rgb: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(np.random.SeedSequence([context.seed, 16, frame]))
        dx, dy = rng.normal(0.0, SHAKE_SHIFT_PX, 2)
        roll = rng.normal(0.0, SHAKE_ROLL_DEG)
        h, w = rgb.shape[:2]
        warp = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), roll, 1.0)
        warp[:, 2] += (dx, dy)
        return cv2.warpAffine(rgb, warp, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    return shake


TWINS: dict[str, TwinSource] = {
    "sim": TwinSource("sim", "the reference digital twin (ground truth)"),
    "low_gravity": TwinSource("low_gravity", f"gravity {LOW_GRAVITY_M_S2:g} m/s^2 instead of 9.81", _low_gravity,
                              breaks=("precision",)),
    "plausible_imprecise": TwinSource("plausible_imprecise", "requested parameters silently jittered by up to 15 %",
                                      _plausible_imprecise, breaks=("precision",)),
    "teleport": TwinSource("teleport", "the tracked object jumps 0.3 m along x at mid-episode", _teleport,
                           breaks=("consistency:largest_jump",)),
    "vanishing_object": TwinSource("vanishing_object", "the tracked object is invisible for 10 frames", _vanishing,
                                   breaks=("consistency:vanishing_objects",)),
    "energy_gain": TwinSource("energy_gain", "each bounce returns 1.05 x the impact speed (energy from nowhere)",
                              _energy_gain, breaks=("consistency:physically_possible",), shows_on=("bounce",)),
    "spontaneous_object": TwinSource("spontaneous_object", "a sphere appears from nothing at 40 % of the episode",
                                     _spontaneous, breaks=("consistency:spontaneous_objects",)),
    "frozen_frames": TwinSource("frozen_frames", "the video repeats one frame for 10 frames, then jumps",
                                rgb_filter=_frozen_frames, breaks=("consistency:frozen_frames",)),
    "wrong_intrinsics": TwinSource("wrong_intrinsics", "rendered with 1.2 x the focal length recorded in the calibration",
                                   _wrong_intrinsics, breaks=("precision", "consistency:coherence")),
    "no_shadows": TwinSource("no_shadows", "shadow casting switched off (shows on the shadow scenario)", _no_shadows,
                             breaks=("consistency:shadow_present",), shows_on=("shadow",)),
    "shaky_camera": TwinSource("shaky_camera", "each frame shifted (1.5 px) and rolled (0.3 deg) at random; "
                               "calibration says steady", rgb_filter=_shaky_camera, breaks=("consistency:camera_motion",)),
}
