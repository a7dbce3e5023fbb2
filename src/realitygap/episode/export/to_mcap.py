"""MCAP with Foxglove schemas (foxglove-sdk), one file per episode: `<out>/<source>/<episode_id>.mcap`.

Topics (protobuf Foxglove schemas unless said):
    /camera/rgb            foxglove.RawImage rgb8, frame "camera" (OpenCV: x right, y down, z forward)
    /camera/depth          foxglove.RawImage 16UC1, millimetres along the camera z axis, 0 = no surface
    /camera/segmentation   foxglove.RawImage mono16, instance ids (0 = background)
    /camera/thermal        foxglove.RawImage mono16, counts (radiance = counts * scale in episode.json)
    /camera/calibration    foxglove.CameraCalibration at every frame: K, plumb_bob distortion, width, height
    /lidar/points          foxglove.PointCloud per scan, frame "lidar": x, y, z float32 m, ring, instance_id uint16
    /imu                   JSON schema realitygap.Imu (Foxglove has no IMU schema): specific force m/s^2 and
                           angular velocity rad/s in frame "imu"
    /gps                   foxglove.LocationFix WGS84, diagonal ENU covariance from the declared noise
    /tf_static             foxglove.FrameTransform at t = 0: world -> camera, world -> lidar, <body> -> imu
    /tf                    foxglove.FrameTransform world -> <body> at the ground-truth state rate
Time: log time = publish time = header timestamp = round(t_s * 1e9) ns, so the episode starts at the Unix epoch
(epoch offset 0, recorded in the `realitygap` metadata record); episode.json is attached.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from realitygap.episode.export.streams import EpisodeStreams, ImageStream, quaternion_xyzw, time_ns
from realitygap.runtime.atomic import dumps_json

EXTENSION = ".mcap"
EPOCH_OFFSET_NS = 0
"""Added to every episode time: t = 0 is 1970-01-01T00:00:00Z."""
IMAGE_ENCODINGS = {"rgb": ("rgb8", 3), "depth": ("16UC1", 2), "segmentation": ("mono16", 2), "thermal": ("mono16", 2)}
"""Foxglove RawImage encoding and bytes per pixel of each camera stream."""
POINT_FIELDS = (("x", 0, "Float32"), ("y", 4, "Float32"), ("z", 8, "Float32"), ("ring", 12, "Uint16"),
                ("instance_id", 14, "Uint16"))
POINT_STRIDE = 16
POINT_DTYPE = np.dtype({"names": ["x", "y", "z", "ring", "instance_id"],
                        "formats": ["<f4", "<f4", "<f4", "<u2", "<u2"], "offsets": [0, 4, 8, 12, 14], "itemsize": POINT_STRIDE})
IMU_SCHEMA = {
    "title": "realitygap.Imu",
    "description": "One IMU sample in the IMU frame: specific force (gravity included, +g up at rest) in m/s^2 and "
                   "angular velocity in rad/s, with realitygap's declared noise (white + bias random walk).",
    "type": "object",
    "properties": {
        "timestamp": {"type": "object", "properties": {"sec": {"type": "integer"}, "nsec": {"type": "integer"}}},
        "frame_id": {"type": "string"},
        "specific_force_m_s2": {"type": "object", "properties": {a: {"type": "number"} for a in "xyz"}},
        "angular_velocity_rad_s": {"type": "object", "properties": {a: {"type": "number"} for a in "xyz"}},
    },
}


class McapExport:
    """Writes each added episode as one MCAP file under `root`."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.files: list[Path] = []

    def add(self, streams: EpisodeStreams) -> Path:
        path = self.root / streams.source / f"{streams.episode_id}{EXTENSION}"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_mcap(streams, path)
        self.files.append(path)
        return path

    def finish(self) -> dict:
        return {"layout": "one MCAP file per episode: <source>/<episode_id>.mcap", "epoch_offset_ns": EPOCH_OFFSET_NS,
                "time": "log time = header timestamp = round(t_s * 1e9) + epoch offset, in ns"}


def write_mcap(streams: EpisodeStreams, path: Path) -> None:
    """Write one episode as an MCAP file at `path` (which must not exist)."""
    import foxglove

    context = foxglove.Context()
    writer = foxglove.open_mcap(path, context=context)
    try:
        writer.write_metadata("realitygap", episode_metadata(streams))
        writer.attach(log_time=EPOCH_OFFSET_NS, create_time=EPOCH_OFFSET_NS, name="episode.json",
                      media_type="application/json", data=dumps_json(streams.meta.to_json()).encode())
        log_mounts(context, streams)
        for image in streams.images.values():
            log_images(context, image)
        log_calibration(context, streams)
        if streams.lidar is not None:
            log_points(context, streams)
        if streams.imu is not None:
            log_imu(context, streams)
        if streams.gps is not None:
            log_gps(context, streams)
        log_bodies(context, streams)
    finally:
        writer.close()


def episode_metadata(streams: EpisodeStreams) -> dict[str, str]:
    meta = streams.meta
    return {"episode_id": meta.episode_id, "source": meta.source, "scenario": meta.context.scenario,
            "prompt": meta.context.prompt, "epoch_offset_ns": str(EPOCH_OFFSET_NS),
            "time_base": "t = 0 at the episode start; log time ns = round(t_s * 1e9) + epoch_offset_ns",
            "conventions": "world Z up, SI units; camera frame OpenCV (x right, y down, z forward); "
                           "lidar frame x forward, y left, z up; quaternions x, y, z, w (Foxglove)"}


def stamp(ns: int):
    """A Foxglove Timestamp for episode time `ns` (epoch offset added)."""
    from foxglove.messages import Timestamp

    total = int(ns) + EPOCH_OFFSET_NS
    return Timestamp(sec=total // 1_000_000_000, nsec=total % 1_000_000_000)


def log_images(context, image: ImageStream) -> None:
    from foxglove.channels import RawImageChannel
    from foxglove.messages import RawImage

    encoding, bytes_per_pixel = IMAGE_ENCODINGS[image.name]
    channel = RawImageChannel(f"/camera/{image.name}", context=context)
    height, width = image.frames.shape[1:3]
    for ns, frame in zip(time_ns(image.t_s), image.frames):
        data = frame.astype(frame.dtype.newbyteorder("<")).tobytes()  # a C-contiguous little-endian copy
        channel.log(RawImage(timestamp=stamp(ns), frame_id="camera", width=width, height=height, encoding=encoding,
                             step=width * bytes_per_pixel, data=data), log_time=int(ns) + EPOCH_OFFSET_NS)


def log_calibration(context, streams: EpisodeStreams) -> None:
    """The camera calibration at every frame time (or once at t = 0 for an episode without video)."""
    from foxglove.channels import CameraCalibrationChannel
    from foxglove.messages import CameraCalibration

    camera = streams.camera
    channel = CameraCalibrationChannel("/camera/calibration", context=context)
    K = camera.K
    P = np.hstack([K, np.zeros((3, 1))])
    first = next(iter(streams.images.values()), None)
    times = time_ns(first.t_s) if first is not None else np.zeros(1, np.int64)
    for ns in times:
        channel.log(CameraCalibration(timestamp=stamp(ns), frame_id="camera", width=camera.width_px, height=camera.height_px,
                                      distortion_model="plumb_bob", D=[float(d) for d in camera.distortion],
                                      K=K.ravel().tolist(), R=np.eye(3).ravel().tolist(), P=P.ravel().tolist()),
                    log_time=int(ns) + EPOCH_OFFSET_NS)


def log_points(context, streams: EpisodeStreams) -> None:
    from foxglove.channels import PointCloudChannel
    from foxglove.messages import PackedElementField, PackedElementFieldNumericType, PointCloud, Pose, Quaternion, Vector3

    lidar = streams.lidar
    fields = [PackedElementField(name=name, offset=offset, type=getattr(PackedElementFieldNumericType, kind))
              for name, offset, kind in POINT_FIELDS]
    origin = Pose(position=Vector3(x=0.0, y=0.0, z=0.0), orientation=Quaternion(x=0.0, y=0.0, z=0.0, w=1.0))
    channel = PointCloudChannel("/lidar/points", context=context)
    for ns, points, ring, instance in zip(time_ns(lidar.t_s), lidar.points_m, lidar.ring, lidar.instance_id):
        channel.log(PointCloud(timestamp=stamp(ns), frame_id="lidar", pose=origin, point_stride=POINT_STRIDE, fields=fields,
                               data=pack_points(points, ring, instance)), log_time=int(ns) + EPOCH_OFFSET_NS)


def pack_points(points_m: np.ndarray, ring: np.ndarray, instance_id: np.ndarray) -> bytes:
    """Points as little-endian records of `POINT_DTYPE` (the PointCloud's data)."""
    packed = np.zeros(len(points_m), POINT_DTYPE)
    packed["x"], packed["y"], packed["z"] = points_m[:, 0], points_m[:, 1], points_m[:, 2]
    packed["ring"], packed["instance_id"] = ring, instance_id
    return packed.tobytes()


def unpack_points(data: bytes) -> np.ndarray:
    """Records of `POINT_DTYPE` from a PointCloud's data (the inverse of `pack_points`)."""
    return np.frombuffer(data, POINT_DTYPE)


def log_imu(context, streams: EpisodeStreams) -> None:
    import foxglove

    imu = streams.imu
    channel = foxglove.Channel("/imu", schema=IMU_SCHEMA, message_encoding="json", context=context)
    for ns, force, rate in zip(time_ns(imu.t_s), imu.specific_force_m_s2, imu.angular_rate_rad_s):
        total = int(ns) + EPOCH_OFFSET_NS
        channel.log({"timestamp": {"sec": total // 1_000_000_000, "nsec": total % 1_000_000_000}, "frame_id": "imu",
                     "specific_force_m_s2": dict(zip("xyz", map(float, force))),
                     "angular_velocity_rad_s": dict(zip("xyz", map(float, rate)))}, log_time=total)


def log_gps(context, streams: EpisodeStreams) -> None:
    from foxglove.channels import LocationFixChannel
    from foxglove.messages import LocationFix, LocationFixPositionCovarianceType

    gps = streams.gps
    variance = [gps.horizontal_std_m ** 2, gps.horizontal_std_m ** 2, gps.vertical_std_m ** 2]
    covariance = np.diag(variance).ravel().tolist()
    channel = LocationFixChannel("/gps", context=context)
    for ns, lat, lon, alt in zip(time_ns(gps.t_s), gps.latitude_deg, gps.longitude_deg, gps.altitude_m):
        channel.log(LocationFix(timestamp=stamp(ns), frame_id="gps", latitude=float(lat), longitude=float(lon),
                                altitude=float(alt), position_covariance=covariance,
                                position_covariance_type=LocationFixPositionCovarianceType.DiagonalKnown),
                    log_time=int(ns) + EPOCH_OFFSET_NS)


def log_mounts(context, streams: EpisodeStreams) -> None:
    from foxglove.channels import FrameTransformChannel

    channel = FrameTransformChannel("/tf_static", context=context)
    for mount in streams.mounts:
        T = mount.T_parent_child
        channel.log(frame_transform(0, mount.parent, mount.child, T[:3, 3], quaternion_xyzw(T)), log_time=EPOCH_OFFSET_NS)


def log_bodies(context, streams: EpisodeStreams) -> None:
    """Every body's pose on /tf in time order (bodies interleaved as in the state table)."""
    from foxglove.channels import FrameTransformChannel

    if not streams.bodies:
        return
    channel = FrameTransformChannel("/tf", context=context)
    rows = [(ns, i, k) for i, body in enumerate(streams.bodies) for k, ns in enumerate(time_ns(body.t_s))]
    for ns, i, k in sorted(rows):
        body = streams.bodies[i]
        w, x, y, z = body.quaternion_wxyz[k]
        channel.log(frame_transform(ns, "world", body.body, body.position_m[k], (x, y, z, w)),
                    log_time=int(ns) + EPOCH_OFFSET_NS)


def frame_transform(ns: int, parent: str, child: str, translation, quaternion_xyzw_):
    from foxglove.messages import FrameTransform, Quaternion, Vector3

    x, y, z, w = (float(v) for v in quaternion_xyzw_)
    tx, ty, tz = (float(v) for v in translation)
    return FrameTransform(timestamp=stamp(ns), parent_frame_id=parent, child_frame_id=child,
                          translation=Vector3(x=tx, y=ty, z=tz), rotation=Quaternion(x=x, y=y, z=z, w=w))
