"""Write and read one episode folder (see DESIGN.md, 'On-disk format').

An episode is written into a hidden staging folder; `episode.json`, carrying the sha256 of every
other file, is written last, and the folder is then renamed into place. A folder without a valid
episode.json is therefore never a complete episode. `timing.json` (wall-clock cost) is the one
file that is not byte-reproducible; it is outside the checksums.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from realitygap import __version__
from realitygap.episode.meta import EpisodeMeta, FileInfo, StreamInfo, parse_meta, written_format_version
from realitygap.episode.types import Episode
from realitygap.episode.video import VideoWriter, read_video
from realitygap.runtime.atomic import dumps_json
from realitygap.runtime.errors import InputError

EPISODE_JSON = "episode.json"
TIMING_JSON = "timing.json"

VIDEO_KINDS = {"rgb": "rgb", "depth": "gray16", "segmentation": "gray16", "thermal": "gray16"}

STREAM_SCHEMA: dict[str, dict] = {
    "rgb": {"file": "rgb.mkv", "codec": "libx264rgb (qp 0, lossless)", "pix_fmt": "rgb24", "dtype": "uint8", "shape": "T,H,W,3",
            "unit": "sRGB", "frame": "camera", "clock": "camera"},
    "depth": {"file": "depth.mkv", "codec": "ffv1", "pix_fmt": "gray16le", "dtype": "uint16", "shape": "T,H,W",
              "unit": "mm", "frame": "camera (distance along z)", "clock": "camera", "invalid": 0},
    "segmentation": {"file": "segmentation.mkv", "codec": "ffv1", "pix_fmt": "gray16le", "dtype": "uint16",
                     "shape": "T,H,W", "unit": "instance id", "frame": "camera", "clock": "camera", "background": 0},
    "thermal": {"file": "thermal.mkv", "codec": "ffv1", "pix_fmt": "gray16le", "dtype": "uint16", "shape": "T,H,W",
                "unit": "counts; radiance W/m^2/sr = counts * calibration.thermal.scale_w_m2_sr", "frame": "camera",
                "clock": "camera"},
    "radar": {"file": "radar.parquet", "frame": "radar (x forward, y left, z up)",
              "unit": "m, rad, m/s (radial velocity positive receding)", "clock": "radar"},
    "state": {"file": "state.parquet", "frame": "world (position, velocity, angular velocity); quaternion w,x,y,z world_from_body",
              "unit": "SI", "clock": "state"},
    "annotations": {"file": "annotations.parquet", "frame": "camera pixels (2D), world (3D boxes)", "unit": "px, m",
                    "clock": "camera"},
    "imu": {"file": "imu.parquet", "frame": "body", "unit": "m/s^2 (specific force), rad/s", "clock": "imu"},
    "gps": {"file": "gps.parquet", "frame": "WGS84 (noisy); ENU (truth)", "unit": "deg, m", "clock": "gps"},
    "lidar": {"file": "lidar.parquet", "frame": "lidar (x forward, y left, z up)", "unit": "m, rad", "clock": "lidar"},
}


class EpisodeWriter:
    """Stage an episode's files, then commit them atomically with `finish`; use as a context manager."""

    def __init__(self, final_dir: Path):
        self.final_dir = Path(final_dir)
        self.final_dir.parent.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=f".{self.final_dir.name}.", suffix=".partial",
                                             dir=self.final_dir.parent))
        self._videos: dict[str, VideoWriter] = {}
        self._streams: list[str] = []

    def __enter__(self) -> "EpisodeWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()

    def open_video(self, name: str, width: int, height: int, fps: int) -> VideoWriter:
        writer = VideoWriter(self.staging / STREAM_SCHEMA[name]["file"], width, height, fps, VIDEO_KINDS[name])
        self._videos[name] = writer
        self._streams.append(name)
        return writer

    def write_table(self, name: str, columns: dict[str, np.ndarray]) -> None:
        table = pa.Table.from_pydict({k: np.asarray(v) for k, v in columns.items()})
        pq.write_table(table, self.staging / STREAM_SCHEMA[name]["file"], compression="zstd")
        self._streams.append(name)

    def finish(self, meta: EpisodeMeta, timing: dict) -> EpisodeMeta:
        """Close videos, write timing.json and (last) episode.json with format version, streams, checksums
        and software versions added to `meta`; rename into place. Returns the metadata written."""
        n_frames = {name: video.close() for name, video in self._videos.items()}
        self._videos.clear()
        files = {path.name: FileInfo(sha256=sha256_file(path), bytes=path.stat().st_size)
                 for path in sorted(self.staging.iterdir())}
        streams = {name: StreamInfo(**STREAM_SCHEMA[name], **({"frames": n_frames[name]} if name in n_frames else {}))
                   for name in self._streams}
        meta = meta.model_copy(update={"format_version": written_format_version(), "streams": streams, "files": files,
                                       "versions": software_versions()})
        (self.staging / TIMING_JSON).write_text(dumps_json(timing))
        (self.staging / EPISODE_JSON).write_text(dumps_json(meta.to_json()))
        if self.final_dir.exists():
            shutil.rmtree(self.final_dir)
        os.replace(self.staging, self.final_dir)
        return meta

    def abort(self) -> None:
        for video in self._videos.values():
            try:
                video.close()
            except Exception:  # noqa: BLE001 - best effort while cleaning up
                pass
        shutil.rmtree(self.staging, ignore_errors=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def software_versions() -> dict[str, str]:
    import av

    from realitygap.core.mj import mujoco

    return {"realitygap": __version__, "mujoco": mujoco.__version__, "numpy": np.__version__,
            "pyarrow": pa.__version__, "av": av.__version__}


def read_meta(episode_dir: Path) -> EpisodeMeta:
    """The typed episode.json of a complete episode; InputError when there is none, it is malformed or of
    another major format version (another minor version: FormatVersionWarning)."""
    path = Path(episode_dir) / EPISODE_JSON
    if not path.is_file():
        raise InputError(f"{episode_dir} is not a complete episode (no {EPISODE_JSON})")
    try:
        data = json.loads(path.read_text())
    except ValueError:
        raise InputError(f"{path} is not valid JSON") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} is not an episode.json (not a JSON object)")
    return parse_meta(data, str(path))


def verify_episode(episode_dir: Path) -> bool:
    """True when episode.json exists and every listed file has its recorded size and sha256."""
    try:
        meta = read_meta(episode_dir)
    except (InputError, ValueError):
        return False
    for name, info in meta.files.items():
        path = Path(episode_dir) / name
        if not path.is_file() or path.stat().st_size != info.bytes or sha256_file(path) != info.sha256:
            return False
    return True


def read_table(path: Path) -> dict[str, np.ndarray]:
    table = pq.read_table(path)
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def read_episode(episode_dir: Path, streams: tuple[str, ...] | None = None) -> Episode:
    """Read an episode into numpy arrays; `streams` limits which files are decoded."""
    episode_dir = Path(episode_dir)
    meta = read_meta(episode_dir)
    episode = Episode(meta=meta)
    for name, info in meta.streams.items():
        if streams is not None and name not in streams:
            continue
        path = episode_dir / info.file
        if name in VIDEO_KINDS:
            episode.videos[name], episode.video_t_s[name] = read_video(path, VIDEO_KINDS[name])
        else:
            episode.tables[name] = read_table(path)
    return episode
