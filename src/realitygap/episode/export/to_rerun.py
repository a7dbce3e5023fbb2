"""Rerun recordings (rerun-sdk), one .rrd per episode: `<out>/<source>/<episode_id>.rrd`.

Timeline `episode_time` (a duration timeline: seconds from the episode start, stored as round(t_s * 1e9) ns);
application id `realitygap`, recording id `<source>/<episode_id>`. Entities:
    /world                          view coordinates right-handed, Z up (static)
    /world/camera                   Transform3D T_world_camera and Pinhole (K, resolution, OpenCV RDF axes) (static)
    /world/camera/rgb               Image (rgb, uint8)
    /world/camera/depth             DepthImage (uint16 mm, meter = 1000)
    /world/camera/segmentation      SegmentationImage (instance ids)
    /world/camera/thermal           Image (uint16 counts)
    /world/lidar                    Transform3D T_world_lidar (static)
    /world/lidar/points             Points3D per scan, lidar frame, metres; class ids = instance ids
    /world/bodies/<body>            Transform3D per ground-truth state sample (translation, quaternion x, y, z, w)
    /world/bodies/<body>/imu        Transform3D T_body_imu (static)
    /imu/specific_force_m_s2        Scalars x, y, z (gravity included)
    /imu/angular_rate_rad_s         Scalars x, y, z
    /gps/position                   GeoPoints (WGS84 latitude, longitude in degrees)
    /gps/altitude_m                 Scalars (WGS84 ellipsoidal height)
Rerun stores transforms and points as float32: a metre-scale pose keeps about 1e-7 relative precision.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from realitygap.episode.export.streams import EpisodeStreams, time_ns

EXTENSION = ".rrd"
APPLICATION_ID = "realitygap"
TIMELINE = "episode_time"


class RerunExport:
    """Writes each added episode as one .rrd file under `root`."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.files: list[Path] = []

    def add(self, streams: EpisodeStreams) -> Path:
        path = self.root / streams.source / f"{streams.episode_id}{EXTENSION}"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_rrd(streams, path)
        self.files.append(path)
        return path

    def finish(self) -> dict:
        return {"layout": "one Rerun recording per episode: <source>/<episode_id>.rrd", "application_id": APPLICATION_ID,
                "recording_id": "<source>/<episode_id>", "timeline": f"{TIMELINE} (duration, seconds from the episode start)"}


def recording_id(streams: EpisodeStreams) -> str:
    return f"{streams.source}/{streams.episode_id}"


def write_rrd(streams: EpisodeStreams, path: Path) -> None:
    """Write one episode as a Rerun recording file at `path`."""
    import rerun as rr

    rec = rr.RecordingStream(APPLICATION_ID, recording_id=recording_id(streams))
    rr.set_log_time_enabled(False, recording=rec)  # only the episode's own clock: no wall-clock timeline
    rec.save(str(path))
    try:
        context = streams.meta.context
        rec.send_recording_name(f"{context.scenario} {streams.episode_id} ({streams.source})")
        rec.log("world", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
        log_rig(rec, streams)
        log_images(rec, streams)
        log_points(rec, streams)
        log_bodies(rec, streams)
        log_imu(rec, streams)
        log_gps(rec, streams)
        rec.flush()
    finally:
        rec.disconnect()


def time_column(t_s: np.ndarray):
    import rerun as rr

    return rr.TimeColumn(TIMELINE, duration=time_ns(t_s).astype("timedelta64[ns]"))


def set_time(rec, ns: int) -> None:
    rec.set_time(TIMELINE, duration=np.timedelta64(int(ns), "ns"))


def log_rig(rec, streams: EpisodeStreams) -> None:
    """The camera (pose and pinhole), the lidar and the IMU mounts, all static."""
    import rerun as rr

    camera = streams.camera
    paths = {"camera": "world/camera", "lidar": "world/lidar"}
    for mount in streams.mounts:
        T = mount.T_parent_child
        path = paths.get(mount.child, f"world/bodies/{mount.parent}/{mount.child}")
        rec.log(path, rr.Transform3D(translation=T[:3, 3], mat3x3=T[:3, :3]), static=True)
    rec.log("world/camera", rr.Pinhole(image_from_camera=camera.K, resolution=[camera.width_px, camera.height_px],
                                       camera_xyz=rr.ViewCoordinates.RDF), static=True)


def log_images(rec, streams: EpisodeStreams) -> None:
    import rerun as rr

    archetypes = {"rgb": lambda f: rr.Image(f, color_model="RGB"), "depth": lambda f: rr.DepthImage(f, meter=1000.0),
                  "segmentation": rr.SegmentationImage, "thermal": lambda f: rr.Image(f, color_model="L")}
    for name, image in streams.images.items():
        for ns, frame in zip(time_ns(image.t_s), image.frames):
            set_time(rec, ns)
            rec.log(f"world/camera/{name}", archetypes[name](frame))


def log_points(rec, streams: EpisodeStreams) -> None:
    import rerun as rr

    lidar = streams.lidar
    if lidar is None:
        return
    for ns, points, instance in zip(time_ns(lidar.t_s), lidar.points_m, lidar.instance_id):
        set_time(rec, ns)
        rec.log("world/lidar/points", rr.Points3D(points, class_ids=instance))


def log_bodies(rec, streams: EpisodeStreams) -> None:
    import rerun as rr

    for body in streams.bodies:
        quaternion = body.quaternion_wxyz[:, [1, 2, 3, 0]]
        rec.send_columns(f"world/bodies/{body.body}", indexes=[time_column(body.t_s)],
                         columns=rr.Transform3D.columns(translation=body.position_m, quaternion=quaternion))


def log_imu(rec, streams: EpisodeStreams) -> None:
    import rerun as rr

    imu = streams.imu
    if imu is None:
        return
    for path, values in (("imu/specific_force_m_s2", imu.specific_force_m_s2), ("imu/angular_rate_rad_s", imu.angular_rate_rad_s)):
        rec.log(path, rr.SeriesLines(names=["x", "y", "z"]), static=True)
        rec.send_columns(path, indexes=[time_column(imu.t_s)], columns=rr.Scalars.columns(scalars=values))


def log_gps(rec, streams: EpisodeStreams) -> None:
    import rerun as rr

    gps = streams.gps
    if gps is None:
        return
    lat_lon = np.stack([gps.latitude_deg, gps.longitude_deg], axis=1)
    rec.send_columns("gps/position", indexes=[time_column(gps.t_s)], columns=rr.GeoPoints.columns(positions=lat_lon))
    rec.send_columns("gps/altitude_m", indexes=[time_column(gps.t_s)], columns=rr.Scalars.columns(scalars=gps.altitude_m))

