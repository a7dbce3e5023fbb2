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
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from realitygap.episode.types import Context
from realitygap.runtime.errors import InputError
from realitygap.scenarios import ScenarioSpec, get_scenario
from realitygap.sources.base import Conditioning, Cost

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
    capabilities: frozenset[str] = field(default=ALL_STREAMS)
    conditioning_frames: int = 0

    def setup(self) -> Cost:
        return Cost(note="no model: physics simulation")

    def predict(self, context: Context, out_dir: Path, conditioning: Conditioning | None = None) -> dict:
        from realitygap.sim.runner import simulate_episode

        started = time.perf_counter()
        scenario = get_scenario(context.scenario)
        simulated = self.defect(scenario, context) if self.defect else scenario
        meta = simulate_episode(context, simulated, out_dir, source=self.name)
        meta["cost"]["prediction"]["wall_s_including_setup"] = time.perf_counter() - started
        return meta


def _low_gravity(scenario: ScenarioSpec, context: Context) -> ScenarioSpec:
    class LowGravity(type(scenario)):
        def build_mjcf(self, params, timestep_s):
            return super().build_mjcf(params, timestep_s).replace('gravity="0 0 -9.81"', 'gravity="0 0 -5"')

        def duration_s(self, params):
            return super().duration_s(params) * 1.4  # the slower event still fits in the episode

    return LowGravity()


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
    start_s = 0.4 * scenario.duration_s(scenario.resolve_params(context.params))
    end_s = start_s + VANISH_FRAMES / fps

    class Vanishing(type(scenario)):
        def control(self, params, model, data):
            super().control(params, model, data)
            body = model.body(self.sensor_body).id
            geoms = model.geom_bodyid == body
            hidden = start_s - 0.5 / fps <= data.time < end_s - 0.5 / fps
            model.geom_rgba[geoms, 3] = 0.0 if hidden else 1.0

    return Vanishing()


TWINS: dict[str, TwinSource] = {
    "sim": TwinSource("sim", "the reference digital twin (ground truth)"),
    "low_gravity": TwinSource("low_gravity", "gravity 5 m/s^2 instead of 9.81", _low_gravity),
    "plausible_imprecise": TwinSource("plausible_imprecise", "requested parameters silently jittered by up to 15 %",
                                      _plausible_imprecise),
    "teleport": TwinSource("teleport", "the tracked object jumps 0.3 m along x at mid-episode", _teleport),
    "vanishing_object": TwinSource("vanishing_object", "the tracked object is invisible for 10 frames", _vanishing),
}
