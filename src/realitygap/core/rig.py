"""The rig configuration: which sensors record, at what rate, with which declared noise.

Configs are frozen pydantic models; they serialise into every episode and feed the episode id.
How the rig is mounted in a MuJoCo world is `realitygap.sim.rig`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SENSOR_NAMES: tuple[str, ...] = ("rgb", "depth", "segmentation", "thermal", "lidar", "radar", "imu", "gps")


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
