"""`realitygap export`: select a dataset's episodes and write them in another format, atomically.

The whole export is staged in a hidden folder beside `out` (`.<name>.<random>.partial`) and renamed to `out` when
every episode is written, so a killed export leaves nothing under `out` (only a stale staging folder beside it,
removed by the next export to the same `out`). `out` must not exist, or be an empty folder.
Every format also writes `realitygap_export.json` at its root: what was exported, from where, and the time base.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from realitygap import __version__
from realitygap.episode.dataset import read_index, resolve_inside
from realitygap.episode.export.streams import read_streams
from realitygap.runtime.atomic import write_json_atomic
from realitygap.runtime.errors import InputError

MANIFEST = "realitygap_export.json"
FORMATS = {
    "mcap": ("realitygap.episode.export.to_mcap:McapExport", ("foxglove",), "foxglove-sdk"),
    "rerun": ("realitygap.episode.export.to_rerun:RerunExport", ("rerun",), "rerun-sdk"),
    "lerobot": ("realitygap.episode.export.to_lerobot:LeRobotExport", ("av", "cv2"), "av and opencv-python-headless"),
}
"""Format name -> (writer class, modules it imports, the packages that provide them)."""
INSTALL_HINT = "pip install 'realitygap[export]'"


@dataclass(frozen=True)
class ExportPlan:
    """A checked export: the writer of the format, a free `out`, the index rows of the episodes to write."""

    dataset: Path
    format: str
    out: Path
    writer_class: type
    rows: list[dict]


@dataclass(frozen=True)
class ExportResult:
    out: Path
    format: str
    episodes: int
    files: list[Path]


def export_dataset(dataset: Path, to: str, out: Path, source: str | None = None, episodes: list[str] | None = None,
                   on_done: Callable[[], None] | None = None) -> ExportResult:
    """Write the selected episodes of `dataset` (all; or those of `source`; or the listed ids) as `to` into `out`."""
    return run_export(plan_export(dataset, to, out, source, episodes), on_done)


def plan_export(dataset: Path, to: str, out: Path, source: str | None = None, episodes: list[str] | None = None) -> ExportPlan:
    """Check everything that can be checked before any work: format, its packages, `out`, the selection."""
    writer_class = format_writer(to)
    out = check_out(Path(out))
    rows = select_episodes(Path(dataset), source, episodes)
    return ExportPlan(dataset=Path(dataset), format=to, out=out, writer_class=writer_class, rows=rows)


def run_export(plan: ExportPlan, on_done: Callable[[], None] | None = None) -> ExportResult:
    """Write a planned export into a staging folder beside `out`, then rename it to `out`."""
    out = plan.out
    remove_stale_staging(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        writer = plan.writer_class(staging)
        for row in plan.rows:
            writer.add(read_streams(resolve_inside(plan.dataset, row["episode_dir"])))
            if on_done is not None:
                on_done()
        layout = writer.finish()
        write_json_atomic(staging / MANIFEST, manifest(plan.dataset, plan.format, plan.rows, layout))
        files = [out / path.relative_to(staging) for path in writer.files]
        if out.is_dir():
            out.rmdir()  # empty (checked when planned); the rename needs the name free
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(out=out, format=plan.format, episodes=len(plan.rows), files=files)


def format_writer(to: str):
    """The writer class of format `to`; InputError for an unknown format or a missing optional package."""
    if to not in FORMATS:
        raise InputError(f"unknown export format {to!r}: choose one of {', '.join(FORMATS)}")
    target, modules, packages = FORMATS[to]
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(f"--to {to} needs {packages} (module {missing[0]} is not installed): {INSTALL_HINT}")
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def check_out(out: Path) -> Path:
    """`out` as given when it is free (absent, or an empty folder) and its parent can be created; else InputError."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is an existing file: give a new folder for the export")
    if out.is_dir() and any(out.iterdir()):
        raise InputError(f"--out {out} is a folder that is not empty: give a new (or empty) folder for the export")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"--out {out}: cannot create its parent folder ({error.strerror or error})") from None
    if not os.access(out.parent, os.W_OK):
        raise InputError(f"--out {out}: its parent folder is not writable")
    return out


def select_episodes(dataset: Path, source: str | None, ids: list[str] | None) -> list[dict]:
    """The index rows to export, in index order; InputError for an unknown source or episode id, or none at all."""
    if not dataset.is_dir():
        raise InputError(f"dataset {dataset} does not exist (give a folder made by `realitygap simulate`)")
    index = read_index(dataset)
    rows = [{k: index[k][i] for k in index} for i in range(len(index["episode_id"]))]
    rows = [r for r in rows if r["status"] == "complete"]
    if source is not None:
        sources = sorted({r["source"] for r in rows})
        if source not in sources:
            raise InputError(f"--source {source!r} is not in {dataset} (sources: {', '.join(sources) or 'none'})")
        rows = [r for r in rows if r["source"] == source]
    if ids is not None:
        known = {r["episode_id"] for r in rows}
        unknown = [i for i in ids if i not in known]
        if unknown:
            where = f" of source {source}" if source else ""
            raise InputError(f"--episodes: unknown episode id(s){where}: {', '.join(unknown[:5])}"
                             + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""))
        rows = [r for r in rows if r["episode_id"] in set(ids)]
    if not rows:
        raise InputError(f"nothing to export: {dataset} has no complete episodes")
    return rows


def parse_episode_ids(text: str | None) -> list[str] | None:
    """'id1,id2' -> ['id1', 'id2'] (blanks dropped, order kept, duplicates once); None stays None."""
    if text is None:
        return None
    ids = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not ids:
        raise InputError("--episodes expects comma-separated episode ids, got none")
    return ids


def remove_stale_staging(out: Path) -> None:
    """Staging folders of an earlier export to the same `out` that was killed."""
    for path in out.parent.glob(f".{out.name}.*.partial"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def manifest(dataset: Path, to: str, rows: list[dict], layout: dict) -> dict:
    return {
        "format": to, "realitygap_version": __version__, "dataset": str(Path(dataset).resolve()), **layout,
        "time_base": "each episode's own clock: t = 0 at its start, seconds (SI units throughout)",
        "episodes": [{"episode_id": r["episode_id"], "source": r["source"], "scenario": r["scenario"],
                      "split": r["split"]} for r in rows],
    }
