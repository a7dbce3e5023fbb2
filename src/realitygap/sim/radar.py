"""Radar, idealised: ray-cast targets with range, azimuth, elevation and radial velocity.

Model: a grid of rays from the radar (frame x forward, y left, z up; azimuth counter-clockwise
from x, elevation up) samples the scene at each scan. Rays that hit an instance (a labelled
object) are grouped per instance into one detection: range = nearest hit, azimuth and elevation
= mean over its rays, radial velocity = mean over its rays of the hit point's velocity
(v_body + w x (p - x_body)) along the ray (positive = receding). Static geometry is treated as
clutter and filtered out (a moving-target radar). Declared noise: independent Gaussian on range
(m), azimuth and elevation (rad) and radial velocity (m/s).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from realitygap.core.mj import mujoco
from realitygap.core.rig import RadarConfig
from realitygap.sim.lidar import FRAME, ray_directions
from realitygap.sim.rig import RADAR_SITE
from realitygap.sim.sensor import SceneInstances, concat_rows, site_pose

if TYPE_CHECKING:
    from realitygap.episode.io import EpisodeWriter


class Radar:
    """The radar at its mount site: the `radar` table, one detection per instance and scan, with declared noise."""

    name = "radar"

    def __init__(self, model: "mujoco.MjModel", config: RadarConfig, scene: SceneInstances, enabled: bool,
                 rng: np.random.Generator):
        self.model, self.config, self.scene, self.rng = model, config, scene, rng
        self.rate_hz = config.rate_hz if enabled else None
        self.site = model.site(RADAR_SITE).id
        self.directions, self.elevation_rad, self.azimuth_rad = ray_grid(config)
        self.counts = {"radar_rays": 0}
        self._scans: list[dict] = []

    def sample(self, data: "mujoco.MjData", t_s: float, index: int) -> None:
        detections = self._detect(data, site_pose(data, self.site))
        count = len(detections["instance_id"])
        self._scans.append({"t_s": np.full(count, t_s), "scan": np.full(count, index, np.uint32), **detections})
        self.counts["radar_rays"] += len(self.directions)

    def _detect(self, data, T_world_radar: np.ndarray) -> dict[str, np.ndarray]:
        """Cast the ray grid; the hit points' velocities v_body + w x (p - x_body) feed `aggregate_detections`."""
        model = self.model
        dirs_world = self.directions @ T_world_radar[:3, :3].T
        n = len(self.directions)
        geom, dist = np.zeros(n, np.int32), np.zeros(n)
        origin = T_world_radar[:3, 3].copy()
        mujoco.mj_multiRay(model, data, origin, dirs_world.ravel().copy(), None, 1, -1, geom, dist, None, n,
                           self.config.max_range_m)
        hit = (geom >= 0) & (dist >= 0)
        instance = np.where(hit, self.scene.ids_of_geoms(geom), 0)
        velocity = np.zeros((n, 3))
        points = origin + dist[:, None] * dirs_world
        twist = np.zeros(6)
        for body in np.unique(model.geom_bodyid[geom[instance > 0]]):
            rays = (instance > 0) & (model.geom_bodyid[geom] == body)
            mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, int(body), twist, 0)
            velocity[rays] = twist[3:] + np.cross(twist[:3], points[rays] - data.xpos[body])
        return aggregate_detections(instance, dist, dirs_world, self.elevation_rad, self.azimuth_rad, velocity)

    def finish(self, writer: "EpisodeWriter") -> None:
        if self.rate_hz is None:
            return
        cfg = self.config
        writer.write_table("radar", add_radar_noise(concat_rows(self._scans), cfg.range_noise_std_m,
                                                    math.radians(cfg.angle_noise_std_deg), cfg.velocity_noise_std_m_s,
                                                    self.rng))

    def calibration(self, data: "mujoco.MjData") -> dict:
        return {"T_world_radar": site_pose(data, self.site).tolist(), "frame": FRAME}


def ray_grid(config: RadarConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(directions in the radar frame (N, 3), elevation (N,), azimuth (N,)) of the radar's rays, radians."""
    elevation = np.radians(np.linspace(-config.elevation_fov_deg / 2, config.elevation_fov_deg / 2, config.elevation_rays))
    azimuth = np.radians(np.linspace(-config.azimuth_fov_deg / 2, config.azimuth_fov_deg / 2, config.azimuth_rays))
    directions = ray_directions(elevation, azimuth)
    return directions, np.repeat(elevation, len(azimuth)), np.tile(azimuth, len(elevation))


def aggregate_detections(instance_of_ray: np.ndarray, distance_m: np.ndarray, directions_world: np.ndarray,
                         elevation_rad: np.ndarray, azimuth_rad: np.ndarray, point_velocity_world: np.ndarray
                         ) -> dict[str, np.ndarray]:
    """Per instance hit by at least one ray: range, azimuth, elevation, radial velocity, ray count.

    All inputs are per ray (N,) or (N, 3); `instance_of_ray` is 0 for clutter and misses.
    """
    ids = np.unique(instance_of_ray[instance_of_ray > 0])
    out = {k: np.zeros(len(ids)) for k in ("range_m", "azimuth_rad", "elevation_rad", "radial_velocity_m_s")}
    out["instance_id"] = ids.astype(np.uint16)
    out["n_rays"] = np.zeros(len(ids), np.uint32)
    for k, instance in enumerate(ids):
        rays = instance_of_ray == instance
        out["range_m"][k] = distance_m[rays].min()
        out["azimuth_rad"][k] = azimuth_rad[rays].mean()
        out["elevation_rad"][k] = elevation_rad[rays].mean()
        out["radial_velocity_m_s"][k] = np.einsum("ij,ij->i", point_velocity_world[rays], directions_world[rays]).mean()
        out["n_rays"][k] = rays.sum()
    return out


def add_radar_noise(detections: dict[str, np.ndarray], range_std_m: float, angle_std_rad: float,
                    velocity_std_m_s: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Declared noise model; the noise-free values are kept as true_* columns."""
    n = len(detections["range_m"])
    noisy = dict(detections)
    for key, std in (("range_m", range_std_m), ("azimuth_rad", angle_std_rad), ("elevation_rad", angle_std_rad),
                     ("radial_velocity_m_s", velocity_std_m_s)):
        noisy[f"true_{key}"] = detections[key]
        noisy[key] = detections[key] + rng.normal(0.0, std, size=n)
    return noisy
