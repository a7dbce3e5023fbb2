"""One episode = one ordinary function: (scenario, params, seed, rig, out_dir) -> files.

Physics, every sensor and the renderer read the same MjData on one clock. The function steps
the physics in base ticks (the lcm of all stream rates), samples each stream on its own ticks,
streams frames straight into the video encoders and writes the episode atomically.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Callable

import numpy as np

from realitygap.core.camera import T_world_camera_from_mujoco, camera_pose_for_bounds, intrinsics_from_fovy, project_points
from realitygap.core.mj import mujoco
from realitygap.core.rig import RigConfig
from realitygap.episode.io import EpisodeWriter
from realitygap.episode.meta import EpisodeMeta, InstanceInfo, episode_meta
from realitygap.episode.types import Context
from realitygap.scenarios import ScenarioSpec
from realitygap.sim import lidar as lidar_model
from realitygap.sim.annotate import body_box_local, box_corners, boxes_2d, may_be_hidden, projected_region
from realitygap.sim.clock import physics_rate_hz
from realitygap.sim.gps import add_gps_noise, enu_to_wgs84
from realitygap.sim.imu import apply_imu_noise, integrated_readings
from realitygap.sim.radar import add_radar_noise, aggregate_detections
from realitygap.sim.render import SceneRenderer
from realitygap.sim.rig import (
    CAMERA_NAME,
    IMU_SITE,
    INSTANCE_GEOM_GROUP,
    LIDAR_SITE,
    RADAR_SITE,
    WIDE_CAMERA_NAME,
    WIDE_PADDING,
    attach_rig,
)
from realitygap.sim.thermal import radiance_noise_std, radiance_w_m2_sr, thermal_counts

NOISE_STREAMS = ("imu", "gps", "lidar", "thermal", "radar")
"""Each noisy sensor draws from its own child of the episode seed, so enabling one sensor
never changes another's noise."""


def build_model(scenario: ScenarioSpec, params: dict, rig: RigConfig) -> tuple["mujoco.MjModel", dict]:
    """Compile the scenario with the rig attached; returns the model and the clock/physics facts."""
    max_step = min(rig.max_timestep_s, scenario.max_timestep_s(params))
    physics_hz, base_hz = physics_rate_hz(rig.rates_hz().values(), max_step)
    timestep_s = 1.0 / physics_hz
    low, high = scenario.motion_bounds_m(params)
    camera_pos = camera_pose_for_bounds(low, high, rig.camera, scenario.camera_elevation_deg)
    xml = attach_rig(scenario.build_mjcf(params, timestep_s), rig, camera_pos, scenario.sensor_body,
                     [inst.body for inst in scenario.instances], timestep_s, scenario.camera_elevation_deg)
    model = mujoco.MjModel.from_xml_string(xml)
    physics = {
        "timestep_s": timestep_s,
        "rate_hz": physics_hz,
        "base_tick_hz": base_hz,
        "integrator": "Euler",
        "gravity_m_s2": [float(g) for g in model.opt.gravity],
        "contact": scenario.contact_settings(params, timestep_s),
    }
    return model, physics


RgbFilter = Callable[[int, np.ndarray], np.ndarray]
"""(frame index, rendered RGB frame) -> the frame written: how a perturbed twin corrupts its video."""


def simulate_episode(context: Context, scenario: ScenarioSpec, out_dir: Path, source: str = "sim",
                     rgb_filter: RgbFilter | None = None, setup_timing: dict | None = None) -> EpisodeMeta:
    """Simulate `context` and write the episode folder `out_dir` atomically; returns its metadata.

    `rgb_filter` (negative controls only) replaces each rendered RGB frame before it is written; every
    other stream, the annotations and the calibration stay those of the unperturbed rig.
    `setup_timing` (e.g. a prompt's parse and encoder-load seconds) goes to timing.json as `context_setup`.
    On any error the staging folder is removed: no partial episode is left behind.
    """
    with EpisodeWriter(out_dir) as writer:
        return _simulate_into(writer, context, scenario, source, rgb_filter, setup_timing)


def _simulate_into(writer: EpisodeWriter, context: Context, scenario: ScenarioSpec, source: str,
                   rgb_filter: RgbFilter | None, setup_timing: dict | None = None) -> EpisodeMeta:
    started = time.perf_counter()
    params, rig = scenario.resolve_params(context.params), context.rig
    model, physics = build_model(scenario, params, rig)
    data = mujoco.MjData(model)
    scenario.initialize(params, model, data)
    mujoco.mj_forward(model, data)

    rates = rig.rates_hz()
    base_hz, steps_per_tick = physics["base_tick_hz"], physics["rate_hz"] // physics["base_tick_hz"]
    n_ticks = int(round(scenario.duration_s(params) * base_hz))
    every = {name: base_hz // rate for name, rate in rates.items()}

    instances = list(scenario.instances)
    body_ids = [model.body(inst.body).id for inst in instances]
    # Lookup tables indexed by geom id + 1 (index 0 = no geom: background / ray miss).
    instance_lut = np.zeros(model.ngeom + 1, dtype=np.uint16)
    for number, body_id in enumerate(body_ids, start=1):
        instance_lut[1:][model.geom_bodyid == body_id] = number
    radiance_lut = _radiance_lut(model, instances, body_ids, rig)
    boxes_local = [body_box_local(model, b) for b in body_ids]

    cam = rig.camera
    K = intrinsics_from_fovy(cam.fovy_deg, cam.width, cam.height)
    cam_id, wide_id = model.camera(CAMERA_NAME).id, model.camera(WIDE_CAMERA_NAME).id
    wide_size = (math.ceil(cam.width * WIDE_PADDING), math.ceil(cam.height * WIDE_PADDING))
    K_wide = K.copy()
    K_wide[:2, 2] = (np.array(wide_size) - 1) / 2  # same focal length, centred principal point
    renderer = SceneRenderer(model, *wide_size, rgb_samples=cam.antialias_samples)
    solo = mujoco.MjvOption()
    solo.geomgroup[:] = 0
    solo.geomgroup[INSTANCE_GEOM_GROUP] = 1

    lidar_site = model.site(LIDAR_SITE).id
    imu_site = model.site(IMU_SITE).id
    site_twist = np.zeros(6)
    elevation, azimuth = lidar_model.ray_angles_rad(rig.lidar)
    ray_dirs_lidar = lidar_model.ray_directions(elevation, azimuth)
    n_rays = len(ray_dirs_lidar)
    ray_geom, ray_dist = np.zeros(n_rays, np.int32), np.zeros(n_rays, np.float64)
    radar_site = model.site(RADAR_SITE).id
    radar_grid = _radar_grid(rig)
    noise_rngs = dict(zip(NOISE_STREAMS, (np.random.default_rng(s)
                                          for s in np.random.SeedSequence(context.seed).spawn(len(NOISE_STREAMS)))))
    thermal_noise = radiance_noise_std(rig.thermal.netd_k, rig.thermal.ambient_k)

    videos = {name: writer.open_video(name, cam.width, cam.height, cam.fps)
              for name in ("rgb", "depth", "segmentation", "thermal") if name in rig.sensors}
    rows: dict[str, list] = {"annotations": [], "imu": [], "gps": [], "lidar": [], "radar": []}
    state = StateRecorder(instances, body_ids, n_ticks // every["state"] + 1)
    T_world_camera = T_world_lidar = None
    solo_cache: tuple[np.ndarray, np.ndarray] | None = None  # (poses, unoccluded pixel counts) of the last solo pass
    counts = {"physics_steps": 0, "frames": 0, "renders": 0, "lidar_rays": 0, "radar_rays": 0}
    try:
        for tick in range(n_ticks + 1):
            if tick:
                scenario.control(params, model, data)
                mujoco.mj_step(model, data, nstep=steps_per_tick)
                mujoco.mj_forward(model, data)
                counts["physics_steps"] += steps_per_tick
            if tick % every["state"] == 0:
                state.record(model, data, tick / base_hz)
            if tick % every["camera"] == 0:
                frame = tick // every["camera"]
                T_world_camera = T_world_camera_from_mujoco(data.cam_xpos[cam_id], data.cam_xmat[cam_id])
                geoms, depth_m = renderer.geoms_depth(data, cam_id, cam.width, cam.height)
                ids = instance_lut[geoms + 1]
                counts["renders"] += 1
                if "rgb" in videos:
                    rgb = renderer.rgb(data, cam_id, cam.width, cam.height)
                    videos["rgb"].write(rgb_filter(frame, rgb) if rgb_filter else rgb)
                    counts["renders"] += 1
                if "depth" in videos:
                    videos["depth"].write(_depth_to_mm(depth_m, renderer.far_m))
                if "segmentation" in videos:
                    videos["segmentation"].write(ids)
                if "thermal" in videos:
                    videos["thermal"].write(thermal_counts(radiance_lut[geoms + 1], rig.thermal.scale_w_m2_sr,
                                                           thermal_noise, noise_rngs["thermal"]))
                corners = [box_corners(data.xpos[b] + data.xmat[b].reshape(3, 3) @ c, size, data.xmat[b].reshape(3, 3))
                           for b, (c, size) in zip(body_ids, boxes_local)]
                alone_px = None
                poses = np.concatenate([data.xpos[body_ids].ravel(), data.xquat[body_ids].ravel(), T_world_camera.ravel()])
                if solo_cache is not None and np.abs(poses - solo_cache[0]).max() < 1e-6:  # metres, unit quaternion
                    alone_px = solo_cache[1]  # nothing moved (< 1 um) since the last solo pass: same unoccluded areas
                elif any(may_be_hidden(c, i, ids, depth_m, K, T_world_camera) for i, c in enumerate(corners, start=1)):
                    region = projected_region(corners, K_wide, T_world_camera, *wide_size)
                    if region is None:
                        wide_geoms, _ = renderer.geoms_depth(data, wide_id, *wide_size, option=solo, want_depth=False)
                    else:
                        wide_geoms = renderer.geoms_region(data, wide_id, *wide_size, *region, option=solo)
                    wide_ids = instance_lut[wide_geoms + 1]
                    alone_px = np.bincount(wide_ids.ravel(), minlength=len(instances) + 1)[1:]
                    solo_cache = (poses, alone_px)
                    counts["renders"] += 1
                counts["frames"] += 1
                rows["annotations"].append(_annotation_rows(frame / cam.fps, frame, ids, alone_px, instances, body_ids,
                                                            boxes_local, data, K, T_world_camera))
            if "imu" in every and tick % every["imu"] == 0:
                mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_SITE, imu_site, site_twist, 0)
                rows["imu"].append([tick / base_hz, *data.sensor("rg_accel").data, *data.sensor("rg_gyro").data,
                                    *site_twist[3:], *data.site_xmat[imu_site]])
            if "gps" in every and tick % every["gps"] == 0:
                rows["gps"].append([tick / base_hz, *data.site_xpos[imu_site]])
            if "lidar" in every and tick % every["lidar"] == 0:
                T_world_lidar = _site_pose(data, lidar_site)
                rows["lidar"].append(_lidar_scan(model, data, tick / base_hz, tick // every["lidar"], T_world_lidar,
                                                 ray_dirs_lidar, elevation, azimuth, ray_geom, ray_dist, instance_lut,
                                                 rig.lidar.max_range_m))
                counts["lidar_rays"] += n_rays
            if "radar" in every and tick % every["radar"] == 0:
                rows["radar"].append(_radar_scan(model, data, tick / base_hz, tick // every["radar"],
                                                 _site_pose(data, radar_site), radar_grid, instance_lut, rig))
                counts["radar_rays"] += len(radar_grid[0])
    finally:
        renderer.close()

    writer.write_table("state", state.table())
    writer.write_table("annotations", _concat_rows(rows["annotations"]))
    if "imu" in rig.sensors:
        writer.write_table("imu", _imu_table(np.array(rows["imu"]), rig, np.array(model.opt.gravity), noise_rngs["imu"]))
    if "gps" in rig.sensors:
        writer.write_table("gps", _gps_table(np.array(rows["gps"]), rig, noise_rngs["gps"]))
    if "lidar" in rig.sensors:
        writer.write_table("lidar", _lidar_table(rows["lidar"], rig, noise_rngs["lidar"]))
    if "radar" in rig.sensors:
        radar = rig.radar
        writer.write_table("radar", add_radar_noise(_concat_rows(rows["radar"]), radar.range_noise_std_m,
                                                    math.radians(radar.angle_noise_std_deg), radar.velocity_noise_std_m_s,
                                                    noise_rngs["radar"]))

    if T_world_lidar is None:
        T_world_lidar = _site_pose(data, lidar_site)
    calibration = {
        "camera": {
            "model": "pinhole",
            "fx_px": K[0, 0], "fy_px": K[1, 1], "cx_px": K[0, 2], "cy_px": K[1, 2],
            "width_px": cam.width, "height_px": cam.height, "distortion": [0.0, 0.0, 0.0, 0.0, 0.0],
            "T_world_camera": np.asarray(T_world_camera).tolist(),
        },
        "lidar": {"T_world_lidar": T_world_lidar.tolist(), "frame": "x forward, y left, z up"},
        "radar": {"T_world_radar": _site_pose(data, radar_site).tolist(), "frame": "x forward, y left, z up"},
        "thermal": {"camera": "the RGB camera's intrinsics and extrinsics", "scale_w_m2_sr": rig.thermal.scale_w_m2_sr,
                    "radiance_w_m2_sr_by_instance": {inst.name: float(radiance_lut[1:][model.geom_bodyid == b][0])
                                                     for inst, b in zip(instances, body_ids)},
                    "background_radiance_w_m2_sr": float(radiance_lut[0])},
        "imu": {"body": scenario.sensor_body, "T_body_imu": np.eye(4).tolist()},
        "gps": {"antenna_body": scenario.sensor_body, "enu_origin": {
            "lat_deg": rig.gps.origin_lat_deg, "lon_deg": rig.gps.origin_lon_deg, "alt_m": rig.gps.origin_alt_m}},
    }
    instance_infos = [InstanceInfo(id=i, name=inst.name, class_name=inst.class_name, body=inst.body)
                      for i, inst in enumerate(instances, start=1)]
    meta = episode_meta(context, source, calibration, rates, n_frames=counts["frames"], duration_s=n_ticks / base_hz,
                        instances=instance_infos, law={k: q.model_dump() for k, q in scenario.declared_law(params).items()},
                        cost={"prediction": counts}, physics=physics)
    timing = {"simulate_wall_s": time.perf_counter() - started}
    timing["per_frame_s"] = timing["simulate_wall_s"] / max(counts["frames"], 1)
    if setup_timing:
        timing["context_setup"] = dict(setup_timing)
    return writer.finish(meta, timing)


class StateRecorder:
    """Ground-truth state of the instance bodies into preallocated arrays (one row per sample and body).

    Positions and quaternions are MuJoCo's world-frame body poses; linear and angular velocities
    are world-frame, at the body origin (mj_objectVelocity with flg_local = 0).
    """

    def __init__(self, instances, body_ids: list[int], capacity: int):
        self.instances, self.body_ids = instances, np.asarray(body_ids)
        n = len(body_ids)
        self.t_s = np.zeros(capacity)
        self.position = np.zeros((capacity, n, 3))
        self.quaternion = np.zeros((capacity, n, 4))
        self.velocity = np.zeros((capacity, n, 6))  # angular (3), linear (3), as MuJoCo orders them
        self.count = 0

    def record(self, model, data, t_s: float) -> None:
        k = self.count
        self.t_s[k] = t_s
        self.position[k] = data.xpos[self.body_ids]
        self.quaternion[k] = data.xquat[self.body_ids]
        for j, body in enumerate(self.body_ids):
            mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, int(body), self.velocity[k, j], 0)
        self.count += 1

    def table(self) -> dict[str, np.ndarray]:
        k, n = self.count, len(self.body_ids)
        columns = {
            "t_s": np.repeat(self.t_s[:k], n),
            "body": np.tile(np.array([inst.body for inst in self.instances]), k),
            "instance_id": np.tile(np.arange(1, n + 1, dtype=np.uint16), k),
        }
        flat = lambda a: a[:k].reshape(k * n, -1)  # noqa: E731
        for i, axis in enumerate("xyz"):
            columns[f"position_{axis}_m"] = flat(self.position)[:, i]
        for i, axis in enumerate("wxyz"):
            columns[f"quaternion_{axis}"] = flat(self.quaternion)[:, i]
        for i, axis in enumerate("xyz"):
            columns[f"velocity_{axis}_m_s"] = flat(self.velocity)[:, 3 + i]
        for i, axis in enumerate("xyz"):
            columns[f"angular_velocity_{axis}_rad_s"] = flat(self.velocity)[:, i]
        return columns


def _annotation_rows(t_s, frame, ids, alone_px, instances, body_ids, boxes_local, data, K, T_world_camera) -> dict[str, list]:
    """`alone_px` = None means every instance is provably whole (visible fraction 1)."""
    n = len(instances)
    visible_px, boxes = boxes_2d(ids, n)
    if alone_px is None:
        alone_px = visible_px
    centres = np.array([data.xpos[b] for b in body_ids])
    uv, depth = project_points(centres, K, T_world_camera)
    cols: dict[str, list] = {}
    for i, (inst, b) in enumerate(zip(instances, body_ids)):
        R = data.xmat[b].reshape(3, 3)
        centre_local, size = boxes_local[i]
        values = {
            "t_s": t_s, "frame": frame, "instance_id": i + 1, "name": inst.name, "class": inst.class_name,
            "visible_px": int(visible_px[i]),
            "visible_fraction": float(min(1.0, visible_px[i] / alone_px[i])) if alone_px[i] else 0.0,
            "bbox_x_min_px": int(boxes[i, 0]), "bbox_y_min_px": int(boxes[i, 1]),
            "bbox_x_max_px": int(boxes[i, 2]), "bbox_y_max_px": int(boxes[i, 3]),
            "centre_u_px": float(uv[i, 0]), "centre_v_px": float(uv[i, 1]), "centre_depth_m": float(depth[i]),
            **{f"box3d_centre_{a}_m": v for a, v in zip("xyz", data.xpos[b] + R @ centre_local)},
            **{f"box3d_size_{a}_m": v for a, v in zip("xyz", size)},
            **{f"box3d_quaternion_{a}": v for a, v in zip("wxyz", data.xquat[b])},
        }
        for k, v in values.items():
            cols.setdefault(k, []).append(v)
    return cols


def _radiance_lut(model, instances, body_ids, rig: RigConfig) -> np.ndarray:
    """Thermal radiance per geom id + 1 (index 0: the sky); instances carry their own temperature."""
    cfg = rig.thermal
    temperature = np.full(model.ngeom, cfg.ambient_k)
    emissivity = np.full(model.ngeom, 0.95)
    for inst, body in zip(instances, body_ids):
        own = model.geom_bodyid == body
        temperature[own], emissivity[own] = inst.temperature_k, inst.emissivity
    sky = radiance_w_m2_sr(cfg.sky_k, 1.0, cfg.ambient_k)
    return np.concatenate([[sky], radiance_w_m2_sr(temperature, emissivity, cfg.ambient_k)])


def _radar_grid(rig: RigConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(directions in the radar frame (N, 3), elevation (N,), azimuth (N,)) of the radar's rays."""
    cfg = rig.radar
    elevation = np.radians(np.linspace(-cfg.elevation_fov_deg / 2, cfg.elevation_fov_deg / 2, cfg.elevation_rays))
    azimuth = np.radians(np.linspace(-cfg.azimuth_fov_deg / 2, cfg.azimuth_fov_deg / 2, cfg.azimuth_rays))
    directions = lidar_model.ray_directions(elevation, azimuth)
    return directions, np.repeat(elevation, len(azimuth)), np.tile(azimuth, len(elevation))


def _radar_scan(model, data, t_s, scan, T_world_radar, grid, instance_lut, rig: RigConfig) -> dict[str, np.ndarray]:
    directions, elevation, azimuth = grid
    dirs_world = directions @ T_world_radar[:3, :3].T
    n = len(directions)
    geom, dist = np.zeros(n, np.int32), np.zeros(n)
    origin = T_world_radar[:3, 3].copy()
    mujoco.mj_multiRay(model, data, origin, dirs_world.ravel().copy(), None, 1, -1, geom, dist, None, n,
                       rig.radar.max_range_m)
    hit = (geom >= 0) & (dist >= 0)
    instance = np.where(hit, instance_lut[geom + 1], 0)
    velocity = np.zeros((n, 3))
    points = origin + dist[:, None] * dirs_world
    twist = np.zeros(6)
    for body in np.unique(model.geom_bodyid[geom[instance > 0]]):
        rays = (instance > 0) & (model.geom_bodyid[geom] == body)
        mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, int(body), twist, 0)
        velocity[rays] = twist[3:] + np.cross(twist[:3], points[rays] - data.xpos[body])
    detections = aggregate_detections(instance, dist, dirs_world, elevation, azimuth, velocity)
    count = len(detections["instance_id"])
    return {"t_s": np.full(count, t_s), "scan": np.full(count, scan, np.uint32), **detections}


def _depth_to_mm(depth_m: np.ndarray, far_m: float) -> np.ndarray:
    """Camera-z depth in metres -> uint16 millimetres; 0 marks no surface (background or > 65.5 m)."""
    mm = np.rint(depth_m * 1000.0)
    mm[(depth_m >= 0.999 * far_m) | (mm > 65535)] = 0
    return mm.astype(np.uint16)


def _site_pose(data, site_id: int) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = data.site_xmat[site_id].reshape(3, 3)
    T[:3, 3] = data.site_xpos[site_id]
    return T


def _lidar_scan(model, data, t_s, scan, T_world_lidar, dirs_lidar, elevation, azimuth, geom_out, dist_out,
                instance_lut, max_range_m) -> dict[str, np.ndarray]:
    dirs_world = dirs_lidar @ T_world_lidar[:3, :3].T
    mujoco.mj_multiRay(model, data, T_world_lidar[:3, 3].copy(), dirs_world.ravel().copy(), None, 1, -1,
                       geom_out, dist_out, None, len(dirs_lidar), max_range_m)
    hit = np.flatnonzero((geom_out >= 0) & (dist_out >= 0) & (dist_out <= max_range_m))
    ring, column = np.divmod(hit, len(azimuth))
    return {
        "t_s": np.full(hit.size, t_s), "scan": np.full(hit.size, scan, np.uint32),
        "ring": ring.astype(np.uint16), "column": column.astype(np.uint16),
        "elevation_rad": elevation[ring].astype(np.float32), "azimuth_rad": azimuth[column].astype(np.float32),
        "range_true_m": dist_out[hit].copy(), "instance_id": instance_lut[geom_out[hit] + 1],
    }


def _concat_rows(chunks: list[dict]) -> dict[str, np.ndarray]:
    if not chunks:
        return {}
    return {k: np.concatenate([np.asarray(c[k]) for c in chunks]) for k in chunks[0]}


def _imu_table(samples: np.ndarray, rig: RigConfig, gravity_world: np.ndarray, rng: np.random.Generator
               ) -> dict[str, np.ndarray]:
    """Rows [t, accel (3), gyro (3) instantaneous, site velocity world (3), site xmat (9)] -> the IMU table."""
    cfg = rig.imu
    accel_true, gyro_true = integrated_readings(samples[:, 0], samples[:, 7:10], samples[:, 10:19].reshape(-1, 3, 3),
                                                gravity_world, samples[:, 1:4], samples[:, 4:7])
    accel, _ = apply_imu_noise(accel_true, cfg.rate_hz, cfg.accel_noise_density, cfg.accel_bias_random_walk, rng)
    gyro, _ = apply_imu_noise(gyro_true, cfg.rate_hz, cfg.gyro_noise_density, cfg.gyro_bias_random_walk, rng)
    table = {"t_s": samples[:, 0]}
    for i, a in enumerate("xyz"):
        table[f"accel_{a}_m_s2"] = accel[:, i]
    for i, a in enumerate("xyz"):
        table[f"gyro_{a}_rad_s"] = gyro[:, i]
    for i, a in enumerate("xyz"):
        table[f"accel_true_{a}_m_s2"] = accel_true[:, i]
    for i, a in enumerate("xyz"):
        table[f"gyro_true_{a}_rad_s"] = gyro_true[:, i]
    return table


def _gps_table(samples: np.ndarray, rig: RigConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    enu_true = samples[:, 1:4]
    lla = enu_to_wgs84(add_gps_noise(enu_true, rig.gps, rng), rig.gps)
    return {
        "t_s": samples[:, 0], "latitude_deg": lla[:, 0], "longitude_deg": lla[:, 1], "altitude_m": lla[:, 2],
        "east_true_m": enu_true[:, 0], "north_true_m": enu_true[:, 1], "up_true_m": enu_true[:, 2],
    }


def _lidar_table(scans: list[dict], rig: RigConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    table = _concat_rows(scans)
    if not table:
        return {}
    table["range_m"] = lidar_model.add_range_noise(table.pop("range_true_m"), rig.lidar, rng).astype(np.float32)
    return table
