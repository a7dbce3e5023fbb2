"""One episode = one ordinary function: (scenario, params, seed, rig, out_dir) -> files.

The recipe: compile the scenario with the rig mounted, make the sensors (sim/sensor.py: each samples the
shared MjData at its own rate, then writes its stream with its own seeded noise), step the physics in
base ticks of the one episode clock (the lcm of all stream rates) asking each due sensor to sample,
finish the sensors, and write episode.json last, atomically.
"""

from __future__ import annotations

import time
from pathlib import Path

from realitygap.core.camera import camera_pose_for_bounds
from realitygap.core.mj import mujoco
from realitygap.core.rig import RigConfig
from realitygap.episode.io import EpisodeWriter
from realitygap.episode.meta import EpisodeMeta, InstanceInfo, Physics, episode_meta
from realitygap.episode.types import Context
from realitygap.scenarios import ScenarioSpec
from realitygap.sim.clock import EpisodeClock, physics_rate_hz
from realitygap.sim.gps import Gps
from realitygap.sim.imu import Imu
from realitygap.sim.lidar import Lidar
from realitygap.sim.radar import Radar
from realitygap.sim.render import CameraSensor, RgbFilter, SceneRenderer
from realitygap.sim.rig import attach_rig, wide_view_px
from realitygap.sim.sensor import SceneInstances, Sensor, noise_generators
from realitygap.sim.state import StateRecorder
from realitygap.sim.thermal import ThermalCamera

__all__ = ["RgbFilter", "build_model", "mount_sensors", "simulate_episode"]


def simulate_episode(context: Context, scenario: ScenarioSpec, out_dir: Path, source: str = "sim",
                     rgb_filter: RgbFilter | None = None, setup_timing: dict | None = None) -> EpisodeMeta:
    """Simulate `context` and write the episode folder `out_dir` atomically; returns its metadata.

    `rgb_filter` (negative controls only) replaces each rendered RGB frame before it is written; every
    other stream, the annotations and the calibration stay those of the unperturbed rig.
    `setup_timing` (e.g. a prompt's parse and encoder-load seconds) goes to timing.json as `context_setup`.
    On any error the staging folder is removed: no partial episode is left behind.
    """
    started = time.perf_counter()
    params, rig = scenario.resolve_params(context.params), context.rig
    model, physics = build_model(scenario, params, rig)
    data = mujoco.MjData(model)
    scenario.initialize(params, model, data)
    mujoco.mj_forward(model, data)
    clock = EpisodeClock.for_duration(physics.rate_hz, physics.base_tick_hz, scenario.duration_s(params))
    with EpisodeWriter(out_dir) as writer:
        with SceneRenderer(model, *wide_view_px(rig.camera), rgb_samples=rig.camera.antialias_samples) as renderer:
            sensors = mount_sensors(model, rig, scenario, context.seed, clock, writer, renderer, rgb_filter)
            run_clock(model, data, scenario, params, clock, sensors)
        for sensor in sensors:
            sensor.finish(writer)
        counts = {"physics_steps": clock.n_ticks * clock.steps_per_tick}
        for sensor in sensors:
            counts.update(sensor.counts)
        calibration = {sensor.name: entry for sensor in sensors if (entry := sensor.calibration(data)) is not None}
        meta = episode_meta(context, source, calibration, rig.rates_hz(), n_frames=counts["frames"],
                            duration_s=clock.duration_s, instances=instance_infos(scenario), physics=physics,
                            law={k: q.model_dump() for k, q in scenario.declared_law(params).items()},
                            cost={"prediction": counts})
        timing = {"simulate_wall_s": time.perf_counter() - started}
        timing["per_frame_s"] = timing["simulate_wall_s"] / max(counts["frames"], 1)
        if setup_timing:
            timing["context_setup"] = dict(setup_timing)
        return writer.finish(meta, timing)


def build_model(scenario: ScenarioSpec, params: dict, rig: RigConfig) -> tuple["mujoco.MjModel", Physics]:
    """Compile the scenario with the rig attached; returns the model and its clock and physics facts."""
    max_step = min(rig.max_timestep_s, scenario.max_timestep_s(params))
    physics_hz, base_hz = physics_rate_hz(rig.rates_hz().values(), max_step)
    timestep_s = 1.0 / physics_hz
    low, high = scenario.motion_bounds_m(params)
    camera_pos = camera_pose_for_bounds(low, high, rig.camera, scenario.camera_elevation_deg)
    xml = attach_rig(scenario.build_mjcf(params, timestep_s), rig, camera_pos, scenario.sensor_body,
                     [inst.body for inst in scenario.instances], timestep_s, scenario.camera_elevation_deg)
    model = mujoco.MjModel.from_xml_string(xml)
    physics = Physics(timestep_s=timestep_s, rate_hz=physics_hz, base_tick_hz=base_hz, integrator="Euler",
                      gravity_m_s2=[float(g) for g in model.opt.gravity],
                      contact=scenario.contact_settings(params, timestep_s))
    return model, physics


def mount_sensors(model: "mujoco.MjModel", rig: RigConfig, scenario: ScenarioSpec, seed: int, clock: EpisodeClock,
                  writer: EpisodeWriter, renderer: SceneRenderer, rgb_filter: RgbFilter | None = None) -> list[Sensor]:
    """Every sensor of the rig, in sampling order (the thermal camera reads the camera's pass). Those not
    enabled in `rig.sensors` have no rate: they only report their calibration."""
    scene = SceneInstances.of(model, scenario.instances)
    noise = noise_generators(seed)
    enabled = set(rig.sensors)
    camera = CameraSensor(model, rig, scene, renderer, writer, rgb_filter)
    return [
        StateRecorder(model, scene, rig.state_rate_hz, clock.n_samples(rig.state_rate_hz)),
        camera,
        ThermalCamera(model, rig.thermal, scene, camera, writer if "thermal" in enabled else None, noise["thermal"]),
        Imu(model, rig.imu, scenario.sensor_body, "imu" in enabled, noise["imu"]),
        Gps(model, rig.gps, scenario.sensor_body, "gps" in enabled, noise["gps"]),
        Lidar(model, rig.lidar, scene, "lidar" in enabled, noise["lidar"]),
        Radar(model, rig.radar, scene, "radar" in enabled, noise["radar"]),
    ]


def run_clock(model: "mujoco.MjModel", data: "mujoco.MjData", scenario: ScenarioSpec, params: dict,
              clock: EpisodeClock, sensors: list[Sensor]) -> None:
    """Step the episode: at tick 0 and after each tick's control and physics steps, every due sensor samples."""
    due = [(sensor, clock.ticks_per_sample(sensor.rate_hz)) for sensor in sensors if sensor.rate_hz is not None]
    for tick in range(clock.n_ticks + 1):
        if tick:
            scenario.control(params, model, data)
            mujoco.mj_step(model, data, nstep=clock.steps_per_tick)
            mujoco.mj_forward(model, data)
        for sensor, every in due:
            if tick % every == 0:
                sensor.sample(data, tick / clock.base_hz, tick // every)


def instance_infos(scenario: ScenarioSpec) -> list[InstanceInfo]:
    """The scenario's labelled objects as episode.json lists them: ids from 1 in declaration order."""
    return [InstanceInfo(id=i, name=inst.name, class_name=inst.class_name, body=inst.body)
            for i, inst in enumerate(scenario.instances, start=1)]
