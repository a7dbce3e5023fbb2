"""The `video` source: videos made elsewhere (any text/image-to-video model, or a real camera),
matched to their contexts by episode id through a manifest.

Two halves:

- `export_contexts(dataset, out_dir)` writes what a user needs to generate the videos: one line of
  `prompts.jsonl` per ground-truth ("sim") episode with an RGB stream (episode_id, scenario, prompt,
  params, seed, requested fps, n_frames, length_s, width, height, first_frame), the conditioning
  frame `<episode_id>_first.png` (frame 0 of rgb.mkv) and `manifest_template.csv`. Byte-stable.
- `import_videos(manifest, dataset, source_name)` checks every manifest entry first and writes
  nothing when any is bad (one InputError listing each problem), then writes one standard episode
  per video into `episodes/<source_name>/<episode_id>/` and rebuilds the index.

The manifest (which file answers which context, optional fps, calibration, positions) is read by
`realitygap.sources.manifest`; video files are scanned by `realitygap.episode.video.scan_video`.

What an import does to a video (all of it recorded in episode.json's `import` block):
- time: frame times are probed from the container (pts), shifted so the first frame is t = 0, or
  are i / fps when the manifest gives fps. Frame k of the episode (t_k = k / context fps) is the
  source frame nearest in time (ties go to the earlier frame: no look-ahead).
- trim/pad policy: the episode is cut at the context's frame count (later source frames are dropped)
  and is never padded: context frames later than half a source frame period after the last source
  frame are left out, so a shorter video gives a shorter episode. A video covering less than 50 %
  of the context's frames is refused (a frozen tail would read as physics).
- size: every frame is resized to the context's width x height (cv2 INTER_AREA) and the calibration
  is scaled from the pixels it describes to the context's (`scale_intrinsics`). An aspect ratio
  (display aspect, sample aspect ratio included) more than 2 % off the context's is refused.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from realitygap.core.camera import scale_intrinsics
from realitygap.episode.calibration import read_calibration
from realitygap.episode.dataset import ensure_writable_dir, episode_dir, open_dataset, read_index, rebuild_index
from realitygap.episode.io import EpisodeWriter, read_meta, sha256_file
from realitygap.episode.meta import EpisodeMeta
from realitygap.episode.video import VideoProbe, decode_error_reason, frame_times, read_video, scan_video
from realitygap.runtime.atomic import write_bytes_atomic
from realitygap.runtime.errors import InputError, one_line
from realitygap.sources.manifest import POSITION_COLUMNS, ManifestEntry, read_manifest, read_positions

GROUND_TRUTH_SOURCE = "sim"
CAPABILITIES = frozenset({"rgb"})
"""What an imported video delivers (a real capture may add the tracked positions, stored beside it)."""
PROMPTS_JSONL = "prompts.jsonl"
MANIFEST_TEMPLATE = "manifest_template.csv"
FIRST_FRAME_TEMPLATE = "{episode_id}_first.png"
POSITIONS_FILE = "positions.parquet"

MIN_COVERAGE = 0.5
"""A video must cover at least this fraction of the context's frames."""
MAX_ASPECT_MISMATCH = 0.02
"""Relative difference of display aspect ratios (width / height) accepted between video and context."""
RESIZE_METHOD = "cv2.resize INTER_AREA"
TIME_METHOD = "nearest source frame in time to t_k = k / fps (ties: earlier frame); trimmed, never padded"

_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def export_contexts(dataset_root: Path, out_dir: Path) -> Path:
    """Write prompts.jsonl, one `<episode_id>_first.png` per context and manifest_template.csv into
    `out_dir` for every ground-truth episode of the dataset that has an RGB stream; returns the path
    of prompts.jsonl. Lines are sorted by (scenario, episode_id); the same dataset gives the same bytes.
    """
    import cv2

    dataset_root, out_dir = Path(dataset_root), Path(out_dir)
    contexts = _ground_truth_metas(dataset_root)
    with_rgb = {eid: meta for eid, meta in contexts.items() if "rgb" in meta.streams}
    if not with_rgb:
        raise InputError(f"dataset {dataset_root} has no ground-truth ('{GROUND_TRUTH_SOURCE}') episode with an rgb "
                         "stream: simulate with the rgb sensor first")
    ensure_writable_dir(out_dir)
    lines, template = [], ["file,episode_id"]
    for eid, meta in sorted(with_rgb.items(), key=lambda item: (item[1].context.scenario, item[0])):
        context, camera = meta.context, meta.calibration.camera
        fps = meta.rates_hz["camera"]
        first = FIRST_FRAME_TEMPLATE.format(episode_id=eid)
        rgb = _first_frame(episode_dir(dataset_root, GROUND_TRUTH_SOURCE, eid) / meta.streams["rgb"].file)
        ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        if not ok:
            raise InputError(f"cannot encode the first frame of {eid} as PNG")
        write_bytes_atomic(out_dir / first, png.tobytes())
        lines.append(json.dumps({
            "episode_id": eid, "scenario": context.scenario, "prompt": context.prompt,
            "params": context.params, "seed": context.seed, "fps": fps, "n_frames": meta.n_frames,
            "length_s": meta.n_frames / fps, "width": camera.width_px,
            "height": camera.height_px, "first_frame": first,
        }, sort_keys=True, allow_nan=False))
        template.append(f"{eid}.mp4,{eid}")
    write_bytes_atomic(out_dir / MANIFEST_TEMPLATE, ("\n".join(template) + "\n").encode())
    write_bytes_atomic(out_dir / PROMPTS_JSONL, ("\n".join(lines) + "\n").encode())
    return out_dir / PROMPTS_JSONL


def import_videos(manifest_path: Path, dataset_root: Path, source_name: str = "video",
                  out_root: Path | None = None) -> list[str]:
    """Import every video of the manifest, matched to the ground-truth contexts of `dataset_root`, into
    `episodes/<source_name>/<episode_id>/` of `out_root` (default: the same dataset) and rebuild that
    index; returns the episode ids in manifest order.

    Every entry is checked first (paths, manifest fields, decodability, frame count, aspect ratio,
    calibration, positions); any problem raises one InputError naming each bad file and nothing is
    written. An episode already imported under the same source and id is replaced.
    """
    started = time.perf_counter()
    manifest_path, dataset_root = Path(manifest_path), Path(dataset_root)
    out_root = Path(out_root) if out_root is not None else dataset_root
    if not _SOURCE_NAME.match(source_name) or source_name == GROUND_TRUTH_SOURCE:
        raise InputError(f"source name {source_name!r} is not allowed: use lower-case letters, digits, '_', '-', '.' "
                         f"and not '{GROUND_TRUTH_SOURCE}' (the ground truth)")
    entries = read_manifest(manifest_path)
    contexts = _ground_truth_metas(dataset_root)
    plans, problems = [], []
    for entry in entries:
        try:
            plans.append(_plan(entry, contexts))
        except InputError as error:
            problems.append(f"{entry.where}: {one_line(str(error))}")
    if problems:
        raise InputError(f"nothing imported from {manifest_path.name}, {len(problems)} bad "
                         f"entr{'y' if len(problems) == 1 else 'ies'}: " + "; ".join(problems))

    checked_s = time.perf_counter() - started
    ensure_writable_dir(out_root)
    open_dataset(out_root)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=out_root))  # same file system: renames are atomic
    try:
        for plan in plans:
            _write_episode(plan, staging / plan.entry.episode_id, source_name, manifest_path.name, checked_s)
        for plan in plans:
            _move_into_place(staging / plan.entry.episode_id, episode_dir(out_root, source_name, plan.entry.episode_id))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    rebuild_index(out_root)
    return [plan.entry.episode_id for plan in plans]


def nearest_frames(source_t_s: np.ndarray, target_t_s: np.ndarray) -> np.ndarray:
    """Index of the source frame nearest in time to each target time (ties: the earlier frame), for the
    target times up to half a source period after the last source frame (trimmed, never padded).

    >>> nearest_frames(np.array([0.0, 1 / 30, 2 / 30]), np.arange(6) / 60).tolist()
    [0, 0, 1, 1, 2, 2]
    """
    source_t_s, target_t_s = np.asarray(source_t_s, float), np.asarray(target_t_s, float)
    period = float(np.median(np.diff(source_t_s))) if len(source_t_s) > 1 else math.inf
    eps = 1e-9
    end = source_t_s[-1] + (0.5 * period if math.isfinite(period) else 0.0) + eps
    target = target_t_s[target_t_s <= end]
    later = np.clip(np.searchsorted(source_t_s, target), 0, len(source_t_s) - 1)
    earlier = np.clip(later - 1, 0, len(source_t_s) - 1)
    take_later = np.abs(source_t_s[later] - target) < np.abs(target - source_t_s[earlier]) - eps
    return np.where(take_later, later, earlier).astype(np.int64)


# --------------------------------------------------------------------------------------------------
# Checking (everything before anything is written)


@dataclass(frozen=True)
class _Plan:
    entry: ManifestEntry
    meta: EpisodeMeta
    """The ground-truth episode's episode.json."""
    probe: VideoProbe
    sha256: str
    t_s: np.ndarray
    """Source frame times used, from 0."""
    timing: dict
    source_index: np.ndarray
    """Source frame of each output frame."""
    calibration: dict
    calibration_origin: dict
    positions: dict[str, np.ndarray] | None


def _ground_truth_metas(dataset_root: Path) -> dict[str, EpisodeMeta]:
    index = read_index(dataset_root)
    metas = {}
    for eid, source in zip(index["episode_id"], index["source"]):
        if str(source) == GROUND_TRUTH_SOURCE:
            metas[str(eid)] = read_meta(episode_dir(dataset_root, GROUND_TRUTH_SOURCE, str(eid)))
    if not metas:
        raise InputError(f"dataset {dataset_root} has no ground-truth ('{GROUND_TRUTH_SOURCE}') episodes to match videos to")
    return metas


def _plan(entry: ManifestEntry, contexts: dict[str, EpisodeMeta]) -> _Plan:
    """Check one entry completely and decide what the import does; InputError names the problem."""
    meta = contexts.get(entry.episode_id)
    if meta is None:
        raise InputError(f"unknown episode_id {entry.episode_id}: no ground-truth ('{GROUND_TRUTH_SOURCE}') episode "
                         "of the dataset has it (see prompts.jsonl from `realitygap contexts`)")
    if not entry.file.is_file():
        raise InputError("file not found" if not entry.file.exists() else "not a regular file")
    probe = _probe(entry.file)
    camera = meta.calibration.camera
    width, height = camera.width_px, camera.height_px
    aspect = probe.width * float(probe.sample_aspect_ratio) / probe.height
    if abs(aspect / (width / height) - 1) > MAX_ASPECT_MISMATCH:
        raise InputError(f"aspect ratio {probe.width}x{probe.height} ({aspect:.4f}) differs from the context's "
                         f"{width}x{height} ({width / height:.4f}) by more than {MAX_ASPECT_MISMATCH:.0%}")
    t_s, timing = frame_times(probe, entry.fps)
    fps = meta.rates_hz["camera"]
    n_context = meta.n_frames
    source_index = nearest_frames(t_s, np.arange(n_context) / fps)
    if len(source_index) < MIN_COVERAGE * n_context:
        covered = t_s[-1] + 0.5 * timing["period_s"]
        raise InputError(f"too short: covers {covered:.3f} s = {len(source_index)} of the context's {n_context} frames "
                         f"at {fps} fps (at least {MIN_COVERAGE:.0%} needed)")
    calibration, origin = _calibration(entry, camera.model_dump(), probe, (width, height))
    positions = read_positions(entry.positions_csv) if entry.positions_csv is not None else None
    return _Plan(entry=entry, meta=meta, probe=probe, sha256=sha256_file(entry.file), t_s=t_s, timing=timing,
                 source_index=source_index, calibration=calibration, calibration_origin=origin, positions=positions)


def _probe(path: Path) -> VideoProbe:
    probe, _, _, _, header_frames = scan_video(path)
    if header_frames and probe.n_frames < header_frames:
        raise InputError(f"truncated or corrupt: the container lists {header_frames} frames, only {probe.n_frames} decode")
    return probe


def _calibration(entry: ManifestEntry, camera: dict, probe: VideoProbe, size: tuple[int, int]) -> tuple[dict, dict]:
    """The camera calibration of the imported episode (context's size) and where it came from."""
    if entry.calibration is None:
        base, origin = camera, {"from": "context (the ground-truth episode's camera)"}
    else:
        base = read_calibration(entry.calibration)
        origin = {"from": "calibration file", "file": entry.calibration.name, "sha256": sha256_file(entry.calibration)}
        own = base["width_px"] / base["height_px"]
        video = probe.width * float(probe.sample_aspect_ratio) / probe.height
        if abs(own / video - 1) > MAX_ASPECT_MISMATCH:
            raise InputError(f"calibration {entry.calibration.name} describes {base['width_px']}x{base['height_px']} "
                             f"pixels, another aspect ratio than the video's {probe.width}x{probe.height}")
    from_wh = (int(base["width_px"]), int(base["height_px"]))
    K = np.array([[base["fx_px"], 0.0, base["cx_px"]], [0.0, base["fy_px"], base["cy_px"]], [0.0, 0.0, 1.0]], float)
    K = scale_intrinsics(K, from_wh, size)
    origin.update(scaled_from_px=list(from_wh), scaled_to_px=list(size))
    return {
        "model": "pinhole", "fx_px": float(K[0, 0]), "fy_px": float(K[1, 1]), "cx_px": float(K[0, 2]),
        "cy_px": float(K[1, 2]), "width_px": size[0], "height_px": size[1], "distortion": [0.0] * 5,
        "T_world_camera": [[float(v) for v in row] for row in base.get("T_world_camera", camera["T_world_camera"])],
    }, origin


# --------------------------------------------------------------------------------------------------
# Writing


def _write_episode(plan: _Plan, out_dir: Path, source_name: str, manifest_name: str, checked_s: float) -> None:
    started = time.perf_counter()
    meta, probe = plan.meta, plan.probe
    camera = meta.calibration.camera
    width, height, fps = camera.width_px, camera.height_px, meta.rates_hz["camera"]
    if sha256_file(plan.entry.file) != plan.sha256:
        raise InputError(f"{plan.entry.where}: the file changed while it was being imported")
    counts = np.bincount(plan.source_index, minlength=probe.n_frames)
    n_out = len(plan.source_index)
    with EpisodeWriter(out_dir) as writer:
        video = writer.open_video("rgb", width, height, fps)
        for frame in _resampled(plan.entry.file, counts, (width, height)):
            video.write(frame)
        if plan.positions is not None:
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pydict(plan.positions), writer.staging / POSITIONS_FILE, compression="zstd")
        t_out = np.arange(n_out) / fps
        time_error = plan.t_s[plan.source_index] - t_out
        used = counts > 0
        last_used = int(plan.source_index[-1])
        resampling = {
            "size": {"from_px": [probe.width, probe.height], "to_px": [width, height],
                     "method": RESIZE_METHOD if (probe.width, probe.height) != (width, height) else "none"},
            "time": {
                "method": TIME_METHOD, "times_from": plan.timing["times_from"], "from_fps": plan.timing["fps_used"],
                "to_fps": fps, "context_frames": meta.n_frames, "frames": n_out,
                "padded_frames": 0, "missing_context_frames": meta.n_frames - n_out,
                "trimmed_source_frames": probe.n_frames - 1 - last_used,
                "skipped_source_frames": int(np.sum(~used[: last_used + 1])),
                "duplicated_frames": int(np.sum(np.maximum(counts - 1, 0))),
                "max_abs_time_error_s": float(np.max(np.abs(time_error))),
                "source_frame_index": plan.source_index.tolist(),
                "capture_t_s": plan.t_s[plan.source_index].tolist(),
            },
        }
        imported = {
            "file": plan.entry.name, "manifest": manifest_name, "sha256": plan.sha256,
            "bytes": plan.entry.file.stat().st_size,
            "original": {
                "container": probe.container, "codec": probe.codec, "pix_fmt": probe.pix_fmt,
                "width_px": probe.width, "height_px": probe.height,
                "sample_aspect_ratio": f"{probe.sample_aspect_ratio.numerator}:{probe.sample_aspect_ratio.denominator}",
                "n_frames": probe.n_frames, "fps_container": plan.timing["fps_container"],
                "fps_from_timestamps": plan.timing["fps_from_timestamps"], "fps_manifest": plan.entry.fps,
                "start_offset_s": plan.timing["start_offset_s"],
                "duration_s": float(plan.t_s[-1] + plan.timing["period_s"]),
            },
            "resampling": resampling,
            "calibration": plan.calibration_origin,
        }
        if plan.positions is not None:
            imported["positions"] = {
                "file": POSITIONS_FILE, "source_file": plan.entry.positions_csv.name,
                "sha256": sha256_file(plan.entry.positions_csv), "columns": list(POSITION_COLUMNS),
                "frame": "world", "unit": "s, m", "clock": "episode (t = 0 at the video's first frame)",
                "rows": int(len(plan.positions["t_s"])),
            }
        episode_meta = {
            "episode_id": plan.entry.episode_id,
            "source": source_name,
            "context": meta.context,
            "calibration": {"camera": plan.calibration},
            "rates_hz": {"camera": fps},
            "n_frames": n_out,
            "duration_s": (n_out - 1) / fps,
            "instances": meta.instances,
            "law": meta.law,
            "cost": {"prediction": {"frames": n_out, "wall_s": plan.entry.prediction_wall_s,
                                    "note": "made outside realitygap; wall_s as given in the manifest (null: not given)"}},
            "import": imported,
        }
        import_s = time.perf_counter() - started
        writer.finish(EpisodeMeta.model_validate(episode_meta), {"import_wall_s": import_s, "check_all_entries_wall_s": checked_s,
                                     "per_frame_s": import_s / max(n_out, 1)})


def _resampled(path: Path, counts: np.ndarray, size: tuple[int, int]) -> Iterator[np.ndarray]:
    """Decode `path` again and yield source frame i, resized to `size` (width, height), counts[i] times."""
    import av
    import cv2

    last = int(np.flatnonzero(counts)[-1])
    n = 0
    try:
        with av.open(str(path)) as container:
            for i, frame in enumerate(container.decode(container.streams.video[0])):
                if i > last:
                    break
                n = i + 1
                if counts[i] == 0:
                    continue
                rgb = frame.to_ndarray(format="rgb24")
                if (rgb.shape[1], rgb.shape[0]) != size:
                    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
                for _ in range(int(counts[i])):
                    yield rgb
    except (av.FFmpegError, OSError) as error:
        raise InputError(f"cannot decode video {path.name} on the second pass ({decode_error_reason(error)})") from None
    if n < last + 1:
        raise InputError(f"video {path.name} gave fewer frames on the second pass than when it was checked")


def _move_into_place(staged: Path, final: Path) -> None:
    """Rename a finished episode folder into the dataset, replacing an older import of the same id."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.{os.getpid()}.replaced"
        os.replace(final, old)
    os.replace(staged, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _first_frame(path: Path) -> np.ndarray:
    """Frame 0 of a video as (H, W, 3) uint8 RGB."""
    return read_video(path, "rgb", max_frames=1)[0][0]
