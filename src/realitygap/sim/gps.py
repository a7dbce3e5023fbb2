"""GPS: world ENU positions (x east, y north, z up, metres) to WGS84 with declared Gaussian noise.

Geodesy by pymap3d (WGS84 ellipsoid, exact ENU <-> ECEF <-> geodetic conversions).
"""

from __future__ import annotations

import numpy as np
import pymap3d

from realitygap.core.rig import GpsConfig


def enu_to_wgs84(enu_m: np.ndarray, config: GpsConfig) -> np.ndarray:
    """(N, 3) ENU metres -> (N, 3) latitude deg, longitude deg, ellipsoidal altitude m."""
    enu = np.asarray(enu_m, float).reshape(-1, 3)
    lat, lon, alt = pymap3d.enu2geodetic(enu[:, 0], enu[:, 1], enu[:, 2], config.origin_lat_deg,
                                         config.origin_lon_deg, config.origin_alt_m)
    return np.stack([np.asarray(lat), np.asarray(lon), np.asarray(alt)], axis=-1)


def wgs84_to_enu(lla: np.ndarray, config: GpsConfig) -> np.ndarray:
    """(N, 3) latitude deg, longitude deg, altitude m -> (N, 3) ENU metres about the declared origin."""
    lla = np.asarray(lla, float).reshape(-1, 3)
    e, n, u = pymap3d.geodetic2enu(lla[:, 0], lla[:, 1], lla[:, 2], config.origin_lat_deg,
                                   config.origin_lon_deg, config.origin_alt_m)
    return np.stack([np.asarray(e), np.asarray(n), np.asarray(u)], axis=-1)


def add_gps_noise(enu_m: np.ndarray, config: GpsConfig, rng: np.random.Generator) -> np.ndarray:
    """Declared noise: independent N(0, sigma_h^2) east and north, N(0, sigma_v^2) up, per fix."""
    enu = np.asarray(enu_m, float).reshape(-1, 3)
    sigma = np.array([config.horizontal_noise_std_m, config.horizontal_noise_std_m, config.vertical_noise_std_m])
    return enu + rng.normal(0.0, 1.0, size=enu.shape) * sigma
