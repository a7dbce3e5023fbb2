"""Scanning LiDAR by ray casting (`mujoco.mj_multiRay`), idealised.

Model: a scan is instantaneous at its timestamp (no rolling shutter / motion distortion), one
return per ray (the first surface hit), range = true distance + N(0, sigma^2) with sigma the
declared `range_noise_std_m`. Lidar frame: x forward, y left, z up; azimuth counter-clockwise
from x, elevation up from the x-y plane.
"""

from __future__ import annotations

import numpy as np

from realitygap.core.rig import LidarConfig


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
