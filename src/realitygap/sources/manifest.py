"""The manifest of a video import: which file answers which context, and the files it names.

A manifest is a CSV with a header, or a JSON list of objects, with the fields
    file            video path (required)
    episode_id      the context it answers (required; a ground-truth episode of the dataset)
    fps             frame rate of the file; overrides the container's timestamps (optional)
    calibration     camera calibration JSON (`realitygap.episode.calibration`); overrides the
                    context's camera (optional). Its width/height are the pixels it describes.
    positions_csv   CSV with t_s, x_m, y_m, z_m of the tracked object in the world frame on the
                    episode clock (real captures; stored as positions.parquet) (optional)
    prediction_wall_s  seconds the generator took for this clip, for the cost ledger (optional)
Paths are relative to the manifest's folder and must stay inside it: absolute paths, '..' and
symlinks leading out are refused. Every bad row is reported at once, in one InputError.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from realitygap.episode.dataset import resolve_inside
from realitygap.runtime.errors import InputError, one_line

MANIFEST_FIELDS = ("file", "episode_id", "fps", "calibration", "positions_csv", "prediction_wall_s")
REQUIRED_FIELDS = ("file", "episode_id")
POSITION_COLUMNS = ("t_s", "x_m", "y_m", "z_m")

_EPISODE_ID = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class ManifestEntry:
    """One manifest row, paths resolved inside the manifest's folder."""

    where: str
    """'line N (file)' (CSV) or 'entry N (file)' (JSON), for messages."""
    file: Path
    name: str
    """The file's path as written in the manifest."""
    episode_id: str
    fps: float | None = None
    calibration: Path | None = None
    positions_csv: Path | None = None
    prediction_wall_s: float | None = None


def read_manifest(manifest_path: Path) -> list[ManifestEntry]:
    """Parse and check a manifest (CSV with header, or JSON list of objects); InputError lists every
    bad row. Files are only located here; their content is checked by `import_videos`."""
    manifest_path = Path(manifest_path)
    if not manifest_path.is_file():
        raise InputError(f"manifest {manifest_path} not found")
    rows = _manifest_rows(manifest_path)
    if not rows:
        raise InputError(f"manifest {manifest_path.name} lists no videos")
    folder = manifest_path.parent
    entries, problems, seen = [], [], {}
    for number, row in rows:
        where = f"{number} ({row.get('file') or '?'})"
        try:
            entry = _entry(row, folder, where)
        except InputError as error:
            problems.append(f"{where}: {one_line(str(error))}")
            continue
        if entry.episode_id in seen:
            problems.append(f"{where}: episode_id {entry.episode_id} is already given in {seen[entry.episode_id]}")
            continue
        seen[entry.episode_id] = number
        entries.append(entry)
    if problems:
        raise InputError(f"nothing imported from {manifest_path.name}, malformed manifest: " + "; ".join(problems))
    return entries


def read_positions(path: Path) -> dict[str, np.ndarray]:
    """Columns t_s, x_m, y_m, z_m of a positions CSV (at least 2 rows, finite, t_s increasing)."""
    name = path.name
    if not path.is_file():
        raise InputError(f"positions_csv {name} not found")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"positions_csv {name} cannot be read: {one_line(str(error))}") from None
    if sorted(header) != sorted(POSITION_COLUMNS):
        raise InputError(f"positions_csv {name} must have exactly the columns {', '.join(POSITION_COLUMNS)}, "
                         f"got {', '.join(header) or 'none'}")
    try:
        columns = {k: np.array([float(row[k]) for row in rows], float) for k in POSITION_COLUMNS}
    except (TypeError, ValueError):
        raise InputError(f"positions_csv {name} has a value that is not a number") from None
    if len(rows) < 2 or not all(np.all(np.isfinite(v)) for v in columns.values()) or np.any(np.diff(columns["t_s"]) <= 0):
        raise InputError(f"positions_csv {name} needs at least 2 rows of finite numbers with t_s increasing")
    return columns


def _manifest_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """('line N' | 'entry N', fields) in file order: CSV line number, or 1-based position in the JSON list."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read manifest {path.name}: {error}") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:  # RecursionError: nested too deep
            raise InputError(f"manifest {path.name} is not valid JSON: {error}") from None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise InputError(f"manifest {path.name} must be a JSON list of objects with 'file' and 'episode_id'")
        rows = [(f"entry {n}", item) for n, item in enumerate(data, start=1)]
        keys = {k for _, row in rows for k in row}
    elif suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        header = [name.strip() for name in (reader.fieldnames or [])]
        if not header:
            raise InputError(f"manifest {path.name} is empty (expected a header: {', '.join(MANIFEST_FIELDS)})")
        reader.fieldnames = header
        try:
            rows = [(f"line {reader.line_num}", row) for row in reader]
        except csv.Error as error:
            raise InputError(f"manifest {path.name} is not valid CSV: {error}") from None
        for number, row in rows:
            if None in row:
                raise InputError(f"manifest {path.name} {number} has more fields than the header")
        rows = [(n, {k: v for k, v in row.items() if v is not None}) for n, row in rows if any((v or "").strip() for v in row.values())]
        keys = set(header)
    else:
        raise InputError(f"manifest {path.name} must be a .csv (with a header) or a .json list")
    unknown = sorted(keys - set(MANIFEST_FIELDS))
    missing = [k for k in REQUIRED_FIELDS if k not in keys] if suffix == ".csv" else []
    if unknown or missing:
        raise InputError(f"manifest {path.name}: " + (f"unknown field(s) {', '.join(unknown)}" if unknown else "")
                         + ("; " if unknown and missing else "") + (f"missing column(s) {', '.join(missing)}" if missing else "")
                         + f" (fields: {', '.join(MANIFEST_FIELDS)}; file and episode_id required)")
    return rows


def _entry(row: dict[str, Any], folder: Path, where: str) -> ManifestEntry:
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
    values = {k: v for k, v in values.items() if v not in ("", None)}
    for key in REQUIRED_FIELDS:
        if key not in values:
            raise InputError(f"missing {key}")
    eid = values["episode_id"]
    if not isinstance(eid, str) or not _EPISODE_ID.match(eid):
        raise InputError(f"episode_id {eid!r} is not a realitygap episode id (16 lower-case hex digits)")
    name = values["file"]
    fps = _positive_number(values.get("fps"), "fps")
    wall = _positive_number(values.get("prediction_wall_s"), "prediction_wall_s", allow_zero=True)
    return ManifestEntry(where=where, file=_inside(folder, name, "file"), name=str(name), episode_id=eid, fps=fps,
                         calibration=_inside(folder, values["calibration"], "calibration") if "calibration" in values else None,
                         positions_csv=_inside(folder, values["positions_csv"], "positions_csv")
                         if "positions_csv" in values else None,
                         prediction_wall_s=wall)


def _inside(folder: Path, relative: Any, field: str) -> Path:
    """The path `relative` inside the manifest folder, refusing absolute paths, '..' and symlinks out."""
    if not isinstance(relative, str):
        raise InputError(f"{field} must be a path (string), got {relative!r}")
    parts = Path(relative.replace("\\", "/"))
    if parts.is_absolute() or relative.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", relative):
        raise InputError(f"{field} path {relative} is absolute; give it relative to the manifest's folder")
    if ".." in parts.parts:
        raise InputError(f"{field} path {relative} contains '..'; it must stay inside the manifest's folder")
    try:
        return resolve_inside(folder, parts)
    except InputError:
        raise InputError(f"{field} path {relative} leads outside the manifest's folder (symlink)") from None
    except RuntimeError:  # Path.resolve
        raise InputError(f"{field} path {relative} is a symlink loop") from None


def _positive_number(value: Any, field: str, allow_zero: bool = False) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{field} {value!r} is not a number") from None
    if isinstance(value, bool) or not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise InputError(f"{field} must be a finite {'non-negative' if allow_zero else 'positive'} number, got {value!r}")
    return number
