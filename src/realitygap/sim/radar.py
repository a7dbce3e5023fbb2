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

import numpy as np


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
