"""Scanning LiDAR by ray casting (`mujoco.mj_multiRay`), idealised.

Model: a scan is instantaneous at its timestamp (no rolling shutter / motion distortion), one
return per ray (the first surface hit), range = true distance + N(0, sigma^2) with sigma the
declared `range_noise_std_m`. Lidar frame: x forward, y left, z up; azimuth counter-clockwise
from x, elevation up from the x-y plane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from realitygap.core.mj import mujoco
from realitygap.core.rig import LidarConfig
from realitygap.sim.rig import LIDAR_SITE
from realitygap.sim.sensor import SceneInstances, concat_rows, site_pose

if TYPE_CHECKING:
    from realitygap.episode.io import EpisodeWriter

FRAME = "x forward, y left, z up"


class Lidar:
    """The scanning LiDAR at its mount site: the `lidar` table, one row per return, with range noise."""

    name = "lidar"

    def __init__(self, model: "mujoco.MjModel", config: LidarConfig, scene: SceneInstances, enabled: bool,
                 rng: np.random.Generator):
        self.model, self.config, self.scene, self.rng = model, config, scene, rng
        self.rate_hz = config.rate_hz if enabled else None
        self.site = model.site(LIDAR_SITE).id
        self.elevation_rad, self.azimuth_rad = ray_angles_rad(config)
        self.directions = ray_directions(self.elevation_rad, self.azimuth_rad)
        n_rays = len(self.directions)
        self._geom, self._dist = np.zeros(n_rays, np.int32), np.zeros(n_rays, np.float64)
        self.counts = {"lidar_rays": 0}
        self.T_world_lidar: np.ndarray | None = None
        """Pose at the last scan, metres."""
        self._scans: list[dict] = []

    def sample(self, data: "mujoco.MjData", t_s: float, index: int) -> None:
        self.T_world_lidar = site_pose(data, self.site)
        self._scans.append(self._scan(data, t_s, index, self.T_world_lidar))
        self.counts["lidar_rays"] += len(self.directions)

    def _scan(self, data, t_s: float, scan: int, T_world_lidar: np.ndarray) -> dict[str, np.ndarray]:
        dirs_world = self.directions @ T_world_lidar[:3, :3].T
        geom, dist, max_range_m = self._geom, self._dist, self.config.max_range_m
        mujoco.mj_multiRay(self.model, data, T_world_lidar[:3, 3].copy(), dirs_world.ravel().copy(), None, 1, -1,
                           geom, dist, None, len(self.directions), max_range_m)
        hit = np.flatnonzero((geom >= 0) & (dist >= 0) & (dist <= max_range_m))
        ring, column = np.divmod(hit, len(self.azimuth_rad))
        return {
            "t_s": np.full(hit.size, t_s), "scan": np.full(hit.size, scan, np.uint32),
            "ring": ring.astype(np.uint16), "column": column.astype(np.uint16),
            "elevation_rad": self.elevation_rad[ring].astype(np.float32),
            "azimuth_rad": self.azimuth_rad[column].astype(np.float32),
            "range_true_m": dist[hit].copy(), "instance_id": self.scene.ids_of_geoms(geom[hit]),
        }

    def finish(self, writer: "EpisodeWriter") -> None:
        if self.rate_hz is None:
            return
        table = concat_rows(self._scans)
        if table:
            table["range_m"] = add_range_noise(table.pop("range_true_m"), self.config, self.rng).astype(np.float32)
        writer.write_table("lidar", table)

    def calibration(self, data: "mujoco.MjData") -> dict:
        T = self.T_world_lidar if self.T_world_lidar is not None else site_pose(data, self.site)
        return {"T_world_lidar": T.tolist(), "frame": FRAME}


def ray_angles_rad(config: LidarConfig) -> tuple[np.ndarray, np.ndarray]:
    """(elevation per ring, azimuth per column) in radians, rings bottom to top, columns right to left."""
    elevation = np.radians(np.linspace(config.elevation_min_deg, config.elevation_max_deg, config.channels))
    half = np.radians(config.azimuth_fov_deg) / 2
    if config.azimuth_fov_deg >= 360.0:
        azimuth = -np.pi + 2 * np.pi * np.arange(config.azimuth_steps) / config.azimuth_steps
    else:
        azimuth = np.linspace(-half, half, config.azimuth_steps)
    return elevation, azimuth


def ray_directions(elevation_rad: np.ndarray, azimuth_rad: np.ndarray) -> np.ndarray:
    """Unit ray directions in the lidar frame, shape (channels * azimuth_steps, 3), ring-major."""
    el, az = np.meshgrid(elevation_rad, azimuth_rad, indexing="ij")
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1).reshape(-1, 3)


def points_from_ranges(range_m: np.ndarray, elevation_rad: np.ndarray, azimuth_rad: np.ndarray) -> np.ndarray:
    """(N, 3) points in the lidar frame from per-return range, elevation and azimuth."""
    r, el, az = (np.asarray(a, float) for a in (range_m, elevation_rad, azimuth_rad))
    return np.stack([r * np.cos(el) * np.cos(az), r * np.cos(el) * np.sin(az), r * np.sin(el)], axis=-1)


def add_range_noise(range_m: np.ndarray, config: LidarConfig, rng: np.random.Generator) -> np.ndarray:
    """Declared noise model: additive white Gaussian range noise, clipped at 0."""
    noisy = range_m + rng.normal(0.0, config.range_noise_std_m, size=np.shape(range_m))
    return np.maximum(noisy, 0.0)
