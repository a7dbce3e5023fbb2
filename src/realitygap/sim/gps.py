"""GPS: the antenna at the sensor body's origin, world ENU positions (x east, y north, z up, metres) to
WGS84 with declared Gaussian noise.

Geodesy by pymap3d (WGS84 ellipsoid, exact ENU <-> ECEF <-> geodetic conversions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pymap3d

from realitygap.core.rig import GpsConfig
from realitygap.sim.rig import IMU_SITE

if TYPE_CHECKING:
    from realitygap.core.mj import mujoco
    from realitygap.episode.io import EpisodeWriter


class Gps:
    """GNSS receiver whose antenna is the IMU site: the `gps` table (noisy WGS84 fixes, true ENU)."""

    name = "gps"

    def __init__(self, model: "mujoco.MjModel", config: GpsConfig, body: str, enabled: bool, rng: np.random.Generator):
        self.config, self.body, self.rng = config, body, rng
        self.rate_hz = config.rate_hz if enabled else None
        self.site = model.site(IMU_SITE).id
        self.counts: dict[str, int] = {}
        self._rows: list[list[float]] = []

    def sample(self, data: "mujoco.MjData", t_s: float, index: int) -> None:
        self._rows.append([t_s, *data.site_xpos[self.site]])

    def finish(self, writer: "EpisodeWriter") -> None:
        if self.rate_hz is not None:
            writer.write_table("gps", gps_table(np.array(self._rows), self.config, self.rng))

    def calibration(self, data: "mujoco.MjData") -> dict:
        origin = {"lat_deg": self.config.origin_lat_deg, "lon_deg": self.config.origin_lon_deg,
                  "alt_m": self.config.origin_alt_m}
        return {"antenna_body": self.body, "enu_origin": origin}


def gps_table(samples: np.ndarray, config: GpsConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Rows [t, east, north, up (m)] -> noisy WGS84 fixes (deg, m) and the true ENU positions."""
    enu_true = samples[:, 1:4]
    lla = enu_to_wgs84(add_gps_noise(enu_true, config, rng), config)
    return {
        "t_s": samples[:, 0], "latitude_deg": lla[:, 0], "longitude_deg": lla[:, 1], "altitude_m": lla[:, 2],
        "east_true_m": enu_true[:, 0], "north_true_m": enu_true[:, 1], "up_true_m": enu_true[:, 2],
    }


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
