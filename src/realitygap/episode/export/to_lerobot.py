"""A LeRobot dataset (format v2.1) of the exported episodes, written with pyarrow and PyAV (no LeRobot import).

Layout (paths are the templates of meta/info.json):
    meta/info.json                   codebase_version v2.1, fps, features (dtype, shape, names), totals, path templates
    meta/episodes.jsonl              episode_index, tasks, length, and realitygap's episode id, source, scenario, split
    meta/tasks.jsonl                 task_index, task (the episode's prompt; the scenario name when it has none)
    meta/episodes_stats.jsonl        per episode and feature: min, max, mean, std, count
    data/chunk-000/episode_000000.parquet              one row per camera frame
    videos/chunk-000/observation.images.rgb/episode_000000.mp4
One row per camera frame at the camera rate (fps): `timestamp` (float32, the frame's t_s, t = 0 at the episode start),
frame_index, episode_index, index (over the dataset), task_index; `observation.state` (float32, per moving body
position m, quaternion w x y z, velocity m/s, angular velocity rad/s, world frame, ground truth at the frame time);
`observation.imu` (float32 specific force m/s^2 and angular rate rad/s) and `observation.gps` (float64 latitude,
longitude deg, altitude m): the latest sample at or before the frame (zero-order hold; their own rates are in
info.json's `realitygap` block); `observation.images.depth|segmentation|thermal`: 16-bit PNG images (mm, instance
ids, counts). LeRobot needs one fps and one shape per feature: every exported episode must share them. LiDAR has no
fixed per-frame shape and is not exported here (use MCAP or Rerun).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from realitygap.episode.dataset import split_of
from realitygap.episode.export.lerobot_media import feature_stats, png16, probe_video_info, write_mp4
from realitygap.episode.export.streams import EpisodeStreams, latest_at
from realitygap.runtime.errors import InputError

CODEBASE_VERSION = "v2.1"
CHUNKS_SIZE = 1000
DATA_PATH = "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"
VIDEO_PATH = "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"
DEFAULT_FEATURES = {
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}
STATE_FIELDS = (("position", "xyz", "m"), ("quaternion", "wxyz", ""), ("velocity", "xyz", "m_s"),
                ("angular_velocity", "xyz", "rad_s"))
IMU_NAMES = ["specific_force_x_m_s2", "specific_force_y_m_s2", "specific_force_z_m_s2",
             "angular_rate_x_rad_s", "angular_rate_y_rad_s", "angular_rate_z_rad_s"]
GPS_NAMES = ["latitude_deg", "longitude_deg", "altitude_m"]
IMAGE_NAMES = ["height", "width", "channels"]


class LeRobotExport:
    """Collects episodes into one LeRobot v2.1 dataset rooted at `root`; `finish` writes meta/."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.features: dict | None = None
        self.fps: int | None = None
        self.episodes: list[dict] = []
        self.stats: list[dict] = []
        self.tasks: dict[str, int] = {}
        self.total_frames = 0
        self.files: list[Path] = []

    def add(self, streams: EpisodeStreams) -> Path:
        features = lerobot_features(streams)
        self._check_compatible(streams, features)
        episode_index = len(self.episodes)
        task = streams.meta.context.prompt or streams.meta.context.scenario
        task_index = self.tasks.setdefault(task, len(self.tasks))
        columns = frame_columns(streams, episode_index, self.total_frames, task_index)
        data_path = self.root / DATA_PATH.format(episode_chunk=episode_index // CHUNKS_SIZE, episode_index=episode_index)
        data_path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(frame_table(columns, features), data_path, compression="zstd")
        for key, feature in features.items():
            if feature["dtype"] == "video":
                video_path = self.root / VIDEO_PATH.format(episode_chunk=episode_index // CHUNKS_SIZE, video_key=key,
                                                           episode_index=episode_index)
                write_mp4(video_path, streams.images[key.rsplit(".", 1)[1]].frames, self.fps)
                self.features[key].setdefault("info", probe_video_info(video_path))
        length = len(columns["frame_index"])
        meta = streams.meta
        self.episodes.append({"episode_index": episode_index, "tasks": [task], "length": length,
                              "realitygap_episode_id": meta.episode_id, "realitygap_source": meta.source,
                              "realitygap_scenario": meta.context.scenario, "realitygap_split": split_of(meta.episode_id)})
        self.stats.append({"episode_index": episode_index, "stats": episode_stats(columns, features, streams)})
        self.total_frames += length
        self.files.append(data_path)
        return data_path

    def _check_compatible(self, streams: EpisodeStreams, features: dict) -> None:
        """The first episode fixes fps and features; a later one that differs is refused in one line."""
        if self.features is None:
            self.features, self.fps = features, streams.fps
            return
        if streams.fps != self.fps:
            raise InputError(f"LeRobot needs one fps: episode {streams.episode_id} is at {streams.fps} fps, the first at "
                             f"{self.fps}; select episodes with --source/--episodes")
        ours = {k: {f: v for f, v in spec.items() if f != "info"} for k, spec in self.features.items()}
        if features != ours:
            key = next(k for k in sorted(set(features) | set(ours)) if features.get(k) != ours.get(k))
            raise InputError(f"LeRobot needs one shape per feature: episode {streams.episode_id} differs from the first in "
                             f"{key!r} (another scenario, rig or sensor set?); select episodes with --source/--episodes")

    def finish(self) -> dict:
        if self.features is None:
            raise InputError("no episodes to write as a LeRobot dataset")
        meta = self.root / "meta"
        meta.mkdir(parents=True, exist_ok=True)
        (meta / "info.json").write_text(json.dumps(self.info(), indent=4) + "\n")
        write_jsonl(meta / "episodes.jsonl", self.episodes)
        write_jsonl(meta / "tasks.jsonl", [{"task_index": i, "task": t} for t, i in self.tasks.items()])
        write_jsonl(meta / "episodes_stats.jsonl", self.stats)
        return {"layout": f"LeRobot dataset {CODEBASE_VERSION}", "episodes": len(self.episodes), "frames": self.total_frames}

    def info(self) -> dict:
        n = len(self.episodes)
        videos = [k for k, f in self.features.items() if f["dtype"] == "video"]
        return {
            "codebase_version": CODEBASE_VERSION, "robot_type": "realitygap", "total_episodes": n,
            "total_frames": self.total_frames, "total_tasks": len(self.tasks), "total_videos": n * len(videos),
            "total_chunks": (n - 1) // CHUNKS_SIZE + 1, "chunks_size": CHUNKS_SIZE, "fps": self.fps,
            "splits": {"train": f"0:{n}"}, "data_path": DATA_PATH, "video_path": VIDEO_PATH if videos else None,
            "features": self.features,
            "realitygap": {
                "time": "timestamp = the frame's time in seconds from the episode start (the episode's own clock)",
                "frames": "world Z up; quaternions w, x, y, z world_from_body; camera OpenCV (x right, y down, z forward)",
                "sampling": "observation.imu and observation.gps: latest sample at or before the frame time",
                "images": "observation.images.depth: uint16 mm along the camera z axis (0 = no surface); "
                          "segmentation: instance ids; thermal: counts (radiance scale in the source episode.json)",
                "splits": "realitygap's train/test split of each episode is in meta/episodes.jsonl (realitygap_split)",
            },
        }


def lerobot_features(streams: EpisodeStreams) -> dict[str, dict]:
    """The LeRobot features of an episode (video `info` is added once the first video is written)."""
    features: dict[str, dict] = {}
    for name, image in streams.images.items():
        height, width = image.frames.shape[1:3]
        if name == "rgb":
            features["observation.images.rgb"] = {"dtype": "video", "shape": [height, width, 3], "names": IMAGE_NAMES}
        else:
            features[f"observation.images.{name}"] = {"dtype": "image", "shape": [height, width, 1], "names": IMAGE_NAMES}
    if streams.bodies:
        names = [f"{body.body}.{field}_{axis}{'_' + unit if unit else ''}"
                 for body in streams.bodies for field, axes, unit in STATE_FIELDS for axis in axes]
        features["observation.state"] = {"dtype": "float32", "shape": [len(names)], "names": names}
    if streams.imu is not None:
        features["observation.imu"] = {"dtype": "float32", "shape": [6], "names": IMU_NAMES}
    if streams.gps is not None:
        features["observation.gps"] = {"dtype": "float64", "shape": [3], "names": GPS_NAMES}
    return {**features, **{k: dict(v) for k, v in DEFAULT_FEATURES.items()}}


def frame_times_s(streams: EpisodeStreams) -> np.ndarray:
    """The rows' clock: the RGB frames' times (another camera stream's when there is no RGB)."""
    if not streams.images:
        raise InputError(f"episode {streams.episode_id} has no camera frames: a LeRobot dataset needs one row per frame")
    image = streams.images.get("rgb") or next(iter(streams.images.values()))
    return image.t_s


def frame_columns(streams: EpisodeStreams, episode_index: int, first_index: int, task_index: int) -> dict[str, np.ndarray]:
    """The per-frame columns of one episode (images as lists of PNG bytes)."""
    t_s = frame_times_s(streams)
    n = len(t_s)
    columns: dict[str, object] = {}
    if streams.bodies:
        columns["observation.state"] = np.hstack([
            np.hstack([body.position_m, body.quaternion_wxyz, body.velocity_m_s, body.angular_velocity_rad_s])
            [latest_at(body.t_s, t_s)] for body in streams.bodies]).astype(np.float32)
    if streams.imu is not None:
        rows = latest_at(streams.imu.t_s, t_s)
        columns["observation.imu"] = np.hstack([streams.imu.specific_force_m_s2, streams.imu.angular_rate_rad_s])[rows].astype(np.float32)
    if streams.gps is not None:
        gps = streams.gps
        columns["observation.gps"] = np.stack([gps.latitude_deg, gps.longitude_deg, gps.altitude_m], axis=1)[latest_at(gps.t_s, t_s)]
    for name, image in streams.images.items():
        if name != "rgb":
            columns[f"observation.images.{name}"] = [{"bytes": png16(frame), "path": f"frame_{i:06d}.png"}
                                                     for i, frame in enumerate(image.frames[:n])]
    columns.update({"timestamp": t_s.astype(np.float32), "frame_index": np.arange(n, dtype=np.int64),
                    "episode_index": np.full(n, episode_index, np.int64),
                    "index": first_index + np.arange(n, dtype=np.int64), "task_index": np.full(n, task_index, np.int64)})
    return columns


def frame_table(columns: dict, features: dict) -> pa.Table:
    """The Parquet table of one episode, with the Hugging Face `datasets` feature types in its schema metadata."""
    arrays, hf_features = {}, {}
    for key, feature in features.items():
        if feature["dtype"] == "video":
            continue
        if feature["dtype"] == "image":
            arrays[key] = pa.array(columns[key], pa.struct([("bytes", pa.binary()), ("path", pa.string())]))
            hf_features[key] = {"_type": "Image"}
        elif feature["shape"] == [1]:
            arrays[key] = pa.array(columns[key], pa.from_numpy_dtype(np.dtype(feature["dtype"])))
            hf_features[key] = {"dtype": feature["dtype"], "_type": "Value"}
        else:
            values = np.asarray(columns[key], feature["dtype"])
            arrays[key] = pa.FixedSizeListArray.from_arrays(pa.array(values.ravel()), values.shape[1])
            hf_features[key] = {"feature": {"dtype": feature["dtype"], "_type": "Value"}, "length": values.shape[1],
                                "_type": "Sequence"}
    table = pa.table(arrays)
    return table.replace_schema_metadata({"huggingface": json.dumps({"info": {"features": hf_features}})})


def episode_stats(columns: dict, features: dict, streams: EpisodeStreams) -> dict[str, dict]:
    stats = {}
    for key, feature in features.items():
        if feature["dtype"] in ("video", "image"):
            stats[key] = feature_stats(streams.images[key.rsplit(".", 1)[1]].frames, feature["dtype"])
        else:
            stats[key] = feature_stats(columns[key], "vector")
    return stats


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
