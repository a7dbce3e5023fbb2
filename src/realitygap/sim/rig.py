"""The rig: which sensors record, at what rate, with which declared noise; and how it is mounted.

Configs are frozen pydantic models; they serialise into every episode and feed the episode id.
`attach_rig` adds the camera, LiDAR mount and IMU/GPS site to a scenario's MJCF.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SENSOR_NAMES: tuple[str, ...] = ("rgb", "depth", "segmentation", "thermal", "lidar", "radar", "imu", "gps")

CAMERA_NAME = "rg_camera"
WIDE_CAMERA_NAME = "rg_camera_wide"
IMU_SITE = "rg_imu_site"
LIDAR_SITE = "rg_lidar_site"
RADAR_SITE = "rg_radar_site"
INSTANCE_GEOM_GROUP = 2
"""Instance geoms are moved to this geom group so that they can be rendered alone."""
WIDE_PADDING = 1.5
"""The unoccluded-area render covers this factor more field of view on each axis."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CameraConfig(_Frozen):
    """Pinhole RGB/depth/segmentation camera; it is framed automatically on the scenario's motion."""

    width: Annotated[int, Field(ge=16, le=1920)] = 256
    height: Annotated[int, Field(ge=16, le=1080)] = 256
    fps: Annotated[int, Field(ge=1, le=240)] = 30
    fovy_deg: Annotated[float, Field(gt=5.0, lt=150.0)] = 45.0
    framing_margin: Annotated[float, Field(ge=1.0, le=5.0)] = 1.3
    """Field of view / motion extent; 1.3 leaves 15 % of the image free on each side."""
    antialias_samples: Literal[0, 2, 4, 8] = 4
    """Multisamples of the RGB pass (segmentation and depth are never multisampled)."""


class LidarConfig(_Frozen):
    """Scanning LiDAR: `channels` elevation rings x `azimuth_steps` columns, one instantaneous scan per tick."""

    rate_hz: Annotated[int, Field(ge=1, le=100)] = 10
    channels: Annotated[int, Field(ge=1, le=256)] = 32
    azimuth_steps: Annotated[int, Field(ge=1, le=4096)] = 512
    azimuth_fov_deg: Annotated[float, Field(gt=0.0, le=360.0)] = 90.0
    elevation_min_deg: Annotated[float, Field(ge=-90.0, le=90.0)] = -22.5
    elevation_max_deg: Annotated[float, Field(ge=-90.0, le=90.0)] = 22.5
    max_range_m: Annotated[float, Field(gt=0.0, le=500.0)] = 30.0
    range_noise_std_m: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01
    """Declared range noise: additive white Gaussian, metres."""

    @model_validator(mode="after")
    def _check_elevation(self) -> "LidarConfig":
        if self.elevation_min_deg > self.elevation_max_deg:
            raise ValueError("lidar elevation_min_deg must be <= elevation_max_deg")
        return self


class ImuConfig(_Frozen):
    """IMU noise model per axis (Kalibr convention): white noise density and bias random walk.

    Discrete: bias_(k+1) = bias_k + sigma_b sqrt(dt) n1, reading = truth + bias + sigma_w / sqrt(dt) n2.
    """

    rate_hz: Annotated[int, Field(ge=1, le=2000)] = 200
    accel_noise_density: Annotated[float, Field(ge=0.0, le=1.0)] = 2.0e-3
    """m/s^2/sqrt(Hz)"""
    accel_bias_random_walk: Annotated[float, Field(ge=0.0, le=1.0)] = 3.0e-4
    """m/s^3/sqrt(Hz)"""
    gyro_noise_density: Annotated[float, Field(ge=0.0, le=1.0)] = 1.7e-4
    """rad/s/sqrt(Hz)"""
    gyro_bias_random_walk: Annotated[float, Field(ge=0.0, le=1.0)] = 2.0e-5
    """rad/s^2/sqrt(Hz)"""


class GpsConfig(_Frozen):
    """GNSS receiver: ENU position converted to WGS84 from the declared origin, Gaussian noise in ENU."""

    rate_hz: Annotated[int, Field(ge=1, le=100)] = 5
    horizontal_noise_std_m: Annotated[float, Field(ge=0.0, le=100.0)] = 0.02
    vertical_noise_std_m: Annotated[float, Field(ge=0.0, le=100.0)] = 0.04
    origin_lat_deg: Annotated[float, Field(ge=-90.0, le=90.0)] = 48.137400
    origin_lon_deg: Annotated[float, Field(ge=-180.0, le=180.0)] = 11.575500
    origin_alt_m: Annotated[float, Field(ge=-500.0, le=9000.0)] = 519.0
    """ENU origin (WGS84 ellipsoidal height); world x = east, y = north, z = up."""


class ThermalConfig(_Frozen):
    """Long-wave IR camera co-located with the RGB camera (same intrinsics and clock); see sim/thermal.py."""

    ambient_k: Annotated[float, Field(gt=0.0, le=1000.0)] = 293.15
    """Temperature of every surface without its own, and of the reflected environment."""
    sky_k: Annotated[float, Field(gt=0.0, le=1000.0)] = 253.15
    """Effective radiant temperature of pixels that see no surface."""
    netd_k: Annotated[float, Field(ge=0.0, le=5.0)] = 0.05
    """Declared noise-equivalent temperature difference (white Gaussian per pixel)."""
    scale_w_m2_sr: Annotated[float, Field(gt=0.0, le=10.0)] = 0.05
    """Radiance per stored count: 65535 counts = 3277 W/m^2/sr (a black body at 650 K)."""


class RadarConfig(_Frozen):
    """Moving-target radar by ray casting; mounted 0.1 m below the camera, looking along +y (sim/radar.py)."""

    rate_hz: Annotated[int, Field(ge=1, le=100)] = 20
    azimuth_rays: Annotated[int, Field(ge=1, le=1024)] = 96
    elevation_rays: Annotated[int, Field(ge=1, le=256)] = 32
    azimuth_fov_deg: Annotated[float, Field(gt=0.0, le=180.0)] = 90.0
    elevation_fov_deg: Annotated[float, Field(gt=0.0, le=180.0)] = 45.0
    max_range_m: Annotated[float, Field(gt=0.0, le=500.0)] = 80.0
    range_noise_std_m: Annotated[float, Field(ge=0.0, le=10.0)] = 0.05
    angle_noise_std_deg: Annotated[float, Field(ge=0.0, le=10.0)] = 0.5
    velocity_noise_std_m_s: Annotated[float, Field(ge=0.0, le=10.0)] = 0.05


class RigConfig(_Frozen):
    """Everything about how an episode is sensed; part of the episode id."""

    sensors: tuple[str, ...] = SENSOR_NAMES
    camera: CameraConfig = CameraConfig()
    lidar: LidarConfig = LidarConfig()
    imu: ImuConfig = ImuConfig()
    gps: GpsConfig = GpsConfig()
    thermal: ThermalConfig = ThermalConfig()
    radar: RadarConfig = RadarConfig()
    state_rate_hz: Annotated[int, Field(ge=1, le=10000)] = 1200
    """Rate of the ground-truth state table."""
    max_timestep_s: Annotated[float, Field(gt=0.0, le=1e-3)] = 1e-3

    @field_validator("sensors")
    @classmethod
    def _known_sensors(cls, sensors: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in sensors if s not in SENSOR_NAMES]
        if unknown:
            raise ValueError(f"unknown sensor {unknown[0]!r}; known: {', '.join(SENSOR_NAMES)}")
        if not sensors:
            raise ValueError("at least one sensor is needed")
        return tuple(s for s in SENSOR_NAMES if s in sensors)  # canonical order, no duplicates

    def rates_hz(self) -> dict[str, int]:
        """Rate of every clocked stream: camera frames, state and each enabled non-camera sensor."""
        rates = {"camera": self.camera.fps, "state": self.state_rate_hz}
        for name in ("lidar", "radar", "imu", "gps"):
            if name in self.sensors:
                rates[name] = getattr(self, name).rate_hz
        return rates


def camera_axes(elevation_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(right, up, forward) world unit vectors of a camera looking along +y, tilted down by `elevation_deg`."""
    e = math.radians(elevation_deg)
    return np.array([1.0, 0.0, 0.0]), np.array([0.0, math.sin(e), math.cos(e)]), np.array([0.0, math.cos(e), -math.sin(e)])


def camera_pose_for_bounds(low_m: np.ndarray, high_m: np.ndarray, camera: CameraConfig,
                           elevation_deg: float = 0.0) -> np.ndarray:
    """World position of a camera on the -y side of the motion box, looking along +y (tilted down by
    `elevation_deg`) at the box centre, at the smallest distance at which every corner of the box
    lies inside the field of view shrunk by the framing margin.

    For elevation 0 this is margin * max(half_z / tan(fovy/2), half_x / tan(fovx/2)) + half_y.
    """
    low, high = np.asarray(low_m, float), np.asarray(high_m, float)
    centre = (low + high) / 2
    tan_y = math.tan(math.radians(camera.fovy_deg) / 2) / camera.framing_margin
    tan_x = tan_y * camera.width / camera.height
    right, up, forward = camera_axes(elevation_deg)
    corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])]) - centre
    lateral, vertical, depth = corners @ right, corners @ up, corners @ forward
    # A corner at (lateral, vertical, depth) from the centre is inside when |lateral| <= tan_x (D + depth).
    distance = max(np.max(np.abs(lateral) / tan_x - depth), np.max(np.abs(vertical) / tan_y - depth), 1e-3)
    return centre - distance * forward


def attach_rig(mjcf: str, rig: RigConfig, camera_pos_m: np.ndarray, sensor_body: str,
               instance_bodies: list[str], timestep_s: float, camera_elevation_deg: float = 0.0) -> str:
    """Return `mjcf` with the rig added: cameras, LiDAR mount site, IMU site and sensors, timestep.

    The camera looks along world +y, tilted down by `camera_elevation_deg` (MJCF xyaxes
    "1 0 0 0 sin(e) cos(e)"); the LiDAR sits 0.1 m above it and the radar 0.1 m below it, both
    level with their x axis along world +y, z up. Instance geoms move to group `INSTANCE_GEOM_GROUP`.
    """
    root = ET.fromstring(mjcf)
    option = root.find("option")
    if option is None:
        option = ET.SubElement(root, "option")
    option.set("timestep", repr(float(timestep_s)))

    visual = root.find("visual")
    if visual is None:
        visual = ET.SubElement(root, "visual")
    glob = visual.find("global")
    if glob is None:
        glob = ET.SubElement(visual, "global")
    glob.set("offwidth", str(math.ceil(rig.camera.width * WIDE_PADDING)))
    glob.set("offheight", str(math.ceil(rig.camera.height * WIDE_PADDING)))

    world = root.find("worldbody")
    assert world is not None, "scenario MJCF has no worldbody"
    pos = " ".join(f"{v:.6f}" for v in camera_pos_m)
    _, up, _ = camera_axes(camera_elevation_deg)
    xyaxes = f"1 0 0 0 {up[1]:.9f} {up[2]:.9f}"
    wide_fovy = math.degrees(2 * math.atan(WIDE_PADDING * math.tan(math.radians(rig.camera.fovy_deg) / 2)))
    ET.SubElement(world, "camera", name=CAMERA_NAME, pos=pos, xyaxes=xyaxes, fovy=f"{rig.camera.fovy_deg:.6f}")
    ET.SubElement(world, "camera", name=WIDE_CAMERA_NAME, pos=pos, xyaxes=xyaxes, fovy=f"{wide_fovy:.6f}")
    lidar_pos = np.asarray(camera_pos_m, float) + np.array([0.0, 0.0, 0.1])
    ET.SubElement(world, "site", name=LIDAR_SITE, pos=" ".join(f"{v:.6f}" for v in lidar_pos),
                  xyaxes="0 1 0 -1 0 0", size="0.01", group="4")
    radar_pos = np.asarray(camera_pos_m, float) - np.array([0.0, 0.0, 0.1])
    ET.SubElement(world, "site", name=RADAR_SITE, pos=" ".join(f"{v:.6f}" for v in radar_pos),
                  xyaxes="0 1 0 -1 0 0", size="0.01", group="4")

    bodies = {b.get("name"): b for b in root.iter("body")}
    if sensor_body not in bodies:
        raise ValueError(f"sensor body {sensor_body!r} not in the scenario MJCF")
    site = ET.Element("site", name=IMU_SITE, pos="0 0 0", size="0.005", group="4")
    bodies[sensor_body].insert(0, site)
    for name in instance_bodies:
        for geom in bodies[name].iter("geom"):
            geom.set("group", str(INSTANCE_GEOM_GROUP))

    sensor = root.find("sensor")
    if sensor is None:
        sensor = ET.SubElement(root, "sensor")
    ET.SubElement(sensor, "accelerometer", name="rg_accel", site=IMU_SITE)
    ET.SubElement(sensor, "gyro", name="rg_gyro", site=IMU_SITE)
    return ET.tostring(root, encoding="unicode")
