"""One episode read once into timestamped arrays, the input of every export format.

Every stream keeps the episode's own clock: `t_s` in seconds, t = 0 at the episode start. Formats
that need integer time use `time_ns` (nanoseconds, rounded), the one rule for every writer and test.
Frames: the camera frame is OpenCV's (x right, y down, z forward), the LiDAR frame x forward, y left,
z up, IMU readings are in the IMU frame on its body (`T_body_imu`), poses are `T_world_<frame>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from realitygap.episode.io import VIDEO_KINDS, read_episode
from realitygap.episode.meta import CameraCalibration, EpisodeMeta

EXPORTED_TABLES = ("state", "imu", "gps", "lidar")
"""The tables an export reads; every video stream is read (rgb, depth, segmentation, thermal)."""
IMAGE_UNITS = {"rgb": "sRGB", "depth": "mm", "segmentation": "instance id", "thermal": "counts"}


@dataclass(frozen=True)
class ImageStream:
    """A camera stream: `frames` (T, H, W, 3) uint8 for rgb, (T, H, W) uint16 for the others."""

    name: str
    t_s: np.ndarray
    frames: np.ndarray
    unit: str


@dataclass(frozen=True)
class PointStream:
    """LiDAR scans in the lidar frame: per scan its time, (N, 3) float32 points in metres, instance ids, rings."""

    t_s: np.ndarray
    points_m: list[np.ndarray]
    instance_id: list[np.ndarray]
    ring: list[np.ndarray]


@dataclass(frozen=True)
class ImuStream:
    """Specific force (gravity included, m/s^2) and angular rate (rad/s), (N, 3) each, IMU frame on `body`."""

    t_s: np.ndarray
    specific_force_m_s2: np.ndarray
    angular_rate_rad_s: np.ndarray
    body: str


@dataclass(frozen=True)
class GpsStream:
    """WGS84 fixes (deg, ellipsoidal m) and the declared 1-sigma noise in ENU metres."""

    t_s: np.ndarray
    latitude_deg: np.ndarray
    longitude_deg: np.ndarray
    altitude_m: np.ndarray
    horizontal_std_m: float
    vertical_std_m: float


@dataclass(frozen=True)
class BodyPoses:
    """Ground-truth state of one moving body, world frame: position (N, 3) m, quaternion (N, 4) w, x, y, z
    (world_from_body), linear velocity (N, 3) m/s, angular velocity (N, 3) rad/s."""

    body: str
    t_s: np.ndarray
    position_m: np.ndarray
    quaternion_wxyz: np.ndarray
    velocity_m_s: np.ndarray
    angular_velocity_rad_s: np.ndarray


@dataclass(frozen=True)
class Mount:
    """A fixed frame: `child` posed in `parent` by the 4x4 `T_parent_child` (metres)."""

    parent: str
    child: str
    T_parent_child: np.ndarray


@dataclass
class EpisodeStreams:
    """Everything an export writes of one episode, read once (see `read_streams`)."""

    meta: EpisodeMeta
    images: dict[str, ImageStream] = field(default_factory=dict)
    lidar: PointStream | None = None
    imu: ImuStream | None = None
    gps: GpsStream | None = None
    bodies: list[BodyPoses] = field(default_factory=list)
    mounts: list[Mount] = field(default_factory=list)

    @property
    def episode_id(self) -> str:
        return self.meta.episode_id

    @property
    def source(self) -> str:
        return self.meta.source

    @property
    def camera(self) -> CameraCalibration:
        return self.meta.calibration.camera

    @property
    def fps(self) -> int:
        return int(self.meta.rates_hz["camera"])


def read_streams(episode_dir: Path) -> EpisodeStreams:
    """Read an episode folder into `EpisodeStreams`: every video, state, imu, gps and lidar when present."""
    wanted = tuple(VIDEO_KINDS) + EXPORTED_TABLES
    episode = read_episode(Path(episode_dir), streams=wanted)
    meta = episode.meta
    fps = int(meta.rates_hz["camera"])
    streams = EpisodeStreams(meta=meta, mounts=mounts(meta))
    for name, frames in episode.videos.items():
        streams.images[name] = ImageStream(name, frame_times_s(episode.video_t_s[name], fps), frames, IMAGE_UNITS[name])
    tables = episode.tables
    if "state" in tables:
        streams.bodies = body_poses(tables["state"])
    if "imu" in tables:
        streams.imu = imu_stream(tables["imu"], meta.calibration.imu.body if meta.calibration.imu else "")
    if "gps" in tables:
        gps_config = meta.context.rig.gps
        streams.gps = GpsStream(tables["gps"]["t_s"], tables["gps"]["latitude_deg"], tables["gps"]["longitude_deg"],
                                tables["gps"]["altitude_m"], gps_config.horizontal_noise_std_m, gps_config.vertical_noise_std_m)
    if "lidar" in tables:
        streams.lidar = point_stream(tables["lidar"])
    return streams


def time_ns(t_s: np.ndarray | float) -> np.ndarray:
    """Episode time in integer nanoseconds, rounded: the one rule for formats with integer time."""
    return np.round(np.asarray(t_s, np.float64) * 1e9).astype(np.int64)


def frame_times_s(container_t_s: np.ndarray, fps: int) -> np.ndarray:
    """Frame times from the container's timestamps, or i / fps where the container gives none."""
    t = np.asarray(container_t_s, np.float64)
    return t if np.all(np.isfinite(t)) else np.arange(len(t)) / fps


def lidar_points_m(range_m: np.ndarray, elevation_rad: np.ndarray, azimuth_rad: np.ndarray) -> np.ndarray:
    """(N, 3) float32 points in the lidar frame (x forward, y left, z up; azimuth counter-clockwise from x,
    elevation up from the x-y plane)."""
    r, el, az = (np.asarray(a, np.float64) for a in (range_m, elevation_rad, azimuth_rad))
    return np.stack([r * np.cos(el) * np.cos(az), r * np.cos(el) * np.sin(az), r * np.sin(el)], axis=-1).astype(np.float32)


def point_stream(table: dict[str, np.ndarray]) -> PointStream:
    """The lidar table (one row per return) grouped by scan; a scan without returns has no rows and no entry."""
    scans, starts = np.unique(table["scan"], return_index=True)
    order = np.argsort(table["scan"], kind="stable")
    bounds = np.searchsorted(table["scan"][order], scans, side="right")
    points = lidar_points_m(table["range_m"], table["elevation_rad"], table["azimuth_rad"])
    parts = np.split(order, bounds[:-1])
    return PointStream(t_s=table["t_s"][starts], points_m=[points[i] for i in parts],
                       instance_id=[table["instance_id"][i].astype(np.uint16) for i in parts],
                       ring=[table["ring"][i].astype(np.uint16) for i in parts])


def imu_stream(table: dict[str, np.ndarray], body: str) -> ImuStream:
    force = np.stack([table[f"accel_{a}_m_s2"] for a in "xyz"], axis=1)
    rate = np.stack([table[f"gyro_{a}_rad_s"] for a in "xyz"], axis=1)
    return ImuStream(t_s=table["t_s"], specific_force_m_s2=force, angular_rate_rad_s=rate, body=body)


def body_poses(table: dict[str, np.ndarray]) -> list[BodyPoses]:
    """The state table (rows of every body interleaved) as one pose track per body, in first-seen order."""
    names = list(dict.fromkeys(table["body"].tolist()))
    poses = []
    for name in names:
        rows = np.flatnonzero(table["body"] == name)
        columns = {key: np.stack([table[pattern.format(a)][rows] for a in axes], axis=1) for key, pattern, axes in (
            ("position_m", "position_{}_m", "xyz"), ("quaternion_wxyz", "quaternion_{}", "wxyz"),
            ("velocity_m_s", "velocity_{}_m_s", "xyz"), ("angular_velocity_rad_s", "angular_velocity_{}_rad_s", "xyz"))}
        poses.append(BodyPoses(body=str(name), t_s=table["t_s"][rows], **columns))
    return poses


def mounts(meta: EpisodeMeta) -> list[Mount]:
    """The rig's fixed frames: camera and lidar in the world, the IMU on its body."""
    calibration = meta.calibration
    fixed = [Mount("world", "camera", np.array(calibration.camera.T_world_camera, float))]
    if calibration.lidar is not None:
        fixed.append(Mount("world", "lidar", np.array(calibration.lidar.T_world_lidar, float)))
    if calibration.imu is not None:
        fixed.append(Mount(calibration.imu.body, "imu", np.array(calibration.imu.T_body_imu, float)))
    return fixed


def quaternion_xyzw(T: np.ndarray) -> np.ndarray:
    """The rotation of a 4x4 pose (or a 3x3 matrix) as a unit quaternion x, y, z, w with w >= 0."""
    q = Rotation.from_matrix(np.asarray(T, float)[:3, :3]).as_quat()
    return -q if q[3] < 0 else q


def latest_at(sample_t_s: np.ndarray, query_t_s: np.ndarray) -> np.ndarray:
    """Index of the last sample at or before each query time (the first sample before any): zero-order hold.

    A tolerance of 1 ns absorbs float rounding between clocks (a sample at 0.1 s is 'at' a frame at 0.1 s)."""
    index = np.searchsorted(np.asarray(sample_t_s), np.asarray(query_t_s) + 1e-9, side="right") - 1
    return np.clip(index, 0, len(sample_t_s) - 1)
