"""A dataset folder: dataset.json (conventions), index.parquet (one row per episode), episodes/.

Layout (paths are templates recorded in dataset.json, not assembled elsewhere):
    <root>/dataset.json
    <root>/index.parquet
    <root>/episodes/<source>/<episode_id>/episode.json ...
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from realitygap import __version__
from realitygap.episode.io import EPISODE_JSON, read_meta
from realitygap.episode.meta import check_format_version, written_format_version
from realitygap.runtime.atomic import write_json_atomic, write_parquet_atomic
from realitygap.runtime.errors import InputError, one_line

DATASET_JSON = "dataset.json"
INDEX_PARQUET = "index.parquet"
EPISODE_DIR_TEMPLATE = "episodes/{source}/{episode_id}"
DATASET_FORMAT = "realitygap-dataset"
DATASET_FORMAT_VERSION = (1, 0)
"""(major, minor) of dataset.json, written as in episode.json (see episode/meta.py)."""
TEST_SPLIT_EVERY = 5
"""An episode is in the 'test' split when int(episode_id[:8], 16) % 5 == 0 (about 20 %), else 'train'."""

CONVENTIONS = {
    "world_frame": "Z up, right-handed; x east, y north, z up when read as ENU",
    "units": "SI: m, s, kg, rad (degrees only in reports and GPS latitude/longitude)",
    "quaternion": "w, x, y, z; rotates body-frame vectors into the world frame",
    "poses": "4x4 T_world_<frame>: maps points in <frame> to world coordinates",
    "camera": "OpenCV: x right, y down, z forward; K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] in pixels, "
    "pixel (col, row) centred at (u, v) = (col, row)",
    "depth": "distance along the camera z axis; stored uint16 millimetres, 0 = no surface",
    "segmentation": "uint16 instance id per pixel, 0 = background; ids listed in episode.json 'instances'",
    "clock": "one clock per episode, t = 0 at the start; every sample carries t_s; each stream has its own rate",
    "imu": "specific force (gravity included, +g up at rest) in m/s^2 and angular rate in rad/s, body frame; "
    "white noise + bias random walk applied by realitygap, parameters in the rig",
    "gps": "WGS84 latitude/longitude (deg) and ellipsoidal altitude (m) from the ENU origin; Gaussian ENU noise",
    "lidar": "per return: ring, column, elevation and azimuth (rad, lidar frame x forward, y left, z up), "
    "range in m with declared Gaussian noise",
    "episode_id": "sha256 of canonical JSON (scenario, params, seed, rig), first 16 hex digits",
}


def dataset_json(enu_origin: dict | None = None, sources: list[str] | None = None) -> dict:
    return {
        "format": DATASET_FORMAT,
        "format_version": written_format_version(DATASET_FORMAT_VERSION),
        "realitygap_version": __version__,
        "conventions": CONVENTIONS,
        "enu_origin": enu_origin,
        "sources": sorted(sources or []),
        "paths": {"episode_dir": EPISODE_DIR_TEMPLATE, "index": INDEX_PARQUET},
        "splits": {"rule": "test when int(episode_id[:8], 16) % 5 == 0, else train"},
    }


def ensure_writable_dir(root: Path) -> Path:
    """Create `root` if needed and prove a file can be written in it, or raise InputError."""
    root = Path(root)
    if not _is_utf8(root):
        raise InputError(f"output folder {root}: its name is not valid UTF-8 (Parquet files cannot be written there); "
                         "choose another name")
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=root)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise InputError(f"output folder {root} is not writable: {error.strerror or error}") from None
    return root


def open_dataset(root: Path, enu_origin: dict | None = None) -> dict:
    """Read dataset.json, creating it when the folder is new; refuse a folder of another format."""
    root = Path(root)
    path = root / DATASET_JSON
    if path.is_file():
        try:
            meta = json.loads(path.read_text())
        except ValueError:
            raise InputError(f"{path} is not valid JSON") from None
        if not isinstance(meta, dict) or meta.get("format") != DATASET_FORMAT:
            raise InputError(f"{root} holds a dataset.json that is not a realitygap dataset")
        check_format_version(meta.get("format_version"), DATASET_FORMAT_VERSION, str(path))
        return meta
    if root.is_dir() and any(p for p in root.iterdir() if not p.name.startswith(".")):
        raise InputError(f"output folder {root} is not empty and has no {DATASET_JSON}; choose a new folder")
    meta = dataset_json(enu_origin)
    write_json_atomic(path, meta)
    return meta


def episode_dir(root: Path, source: str, episode_id: str) -> Path:
    return Path(root) / EPISODE_DIR_TEMPLATE.format(source=source, episode_id=episode_id)


def split_of(episode_id: str) -> str:
    return "test" if int(episode_id[:8], 16) % TEST_SPLIT_EVERY == 0 else "train"


def resolve_inside(root: Path, relative: str | Path) -> Path:
    """`root / relative`, refusing any path that leaves `root` (absolute, '..', or symlinks out)."""
    root_real = Path(root).resolve()
    target = (root_real / relative).resolve()
    if target != root_real and root_real not in target.parents:
        raise InputError(f"path {relative} is outside the dataset root {root}")
    return target


def rebuild_index(root: Path) -> dict[str, np.ndarray]:
    """Rewrite index.parquet (atomically) and dataset.json's source list from the complete episodes."""
    root = Path(root)
    dataset_meta = open_dataset(root)
    rows = []
    for meta_path in sorted(root.glob(f"episodes/*/*/{EPISODE_JSON}")):
        meta = read_meta(meta_path.parent)
        context = meta.context
        rows.append({
            "episode_id": meta.episode_id,
            "source": meta.source,
            "scenario": context.scenario,
            "params_json": json.dumps(context.params, sort_keys=True),
            "seed": context.seed,
            "split": split_of(meta.episode_id),
            "status": "complete",
            "n_frames": meta.n_frames,
            "duration_s": meta.duration_s,
            "episode_dir": str(meta_path.parent.relative_to(root)),
            "prompt": context.prompt,
        })
    rows.sort(key=lambda r: (r["source"], r["scenario"], r["episode_id"]))
    columns = {k: [r[k] for r in rows] for k in (rows[0] if rows else _EMPTY_INDEX)}
    table = pa.Table.from_pydict(columns, schema=_INDEX_SCHEMA)
    write_parquet_atomic(root / INDEX_PARQUET, table)
    sources = sorted({r["source"] for r in rows})
    if dataset_meta.get("sources") != sources:
        write_json_atomic(root / DATASET_JSON, {**dataset_meta, "sources": sources})
    return {k: np.asarray(v) for k, v in columns.items()}


def read_index(root: Path) -> dict[str, np.ndarray]:
    path = Path(root) / INDEX_PARQUET
    if not path.is_file():
        raise InputError(f"{root} is not a realitygap dataset (no {INDEX_PARQUET})")
    if not _is_utf8(path):
        raise InputError(f"{root}: the folder's name is not valid UTF-8 (Parquet files cannot be read there); rename it")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise InputError(f"{path} cannot be read (corrupt?): {one_line(str(error))}") from None
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def _is_utf8(path: Path) -> bool:
    """Whether `path` is valid UTF-8, as pyarrow needs (Python keeps bytes that are not as surrogates)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_INDEX_SCHEMA = pa.schema([
    ("episode_id", pa.string()), ("source", pa.string()), ("scenario", pa.string()), ("params_json", pa.string()),
    ("seed", pa.int64()), ("split", pa.string()), ("status", pa.string()), ("n_frames", pa.int64()),
    ("duration_s", pa.float64()), ("episode_dir", pa.string()), ("prompt", pa.string()),
])
_EMPTY_INDEX = {name: [] for name in _INDEX_SCHEMA.names}
