"""Every non-reference source of a dataset against the twin: the same quantities measured from both videos,
the twin's error floor, and the prediction cost per frame."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from realitygap.episode.dataset import read_index
from realitygap.episode.io import TIMING_JSON, read_meta

REFERENCE = "sim"
SKIPPED_QUANTITIES = frozenset({"spatial_iou", "spatiotemporal_iou", "weighted_spatial_iou", "mse"})
"""Physics-IQ parts: the combined `physics_iq_score` stands for them."""


def compare_sources(measurements: list[dict], floors: dict[tuple[str, str], float]) -> list[dict]:
    """One row per (source, scenario, quantity) measured on both the source's and the twin's episode of the
    same context: medians of both, the median |difference|, the twin's error floor (max |error| of the
    twin's own measurement; 0 for counts) and the fraction of episodes whose difference exceeds it."""
    by_key: dict[tuple[str, str, str], dict[str, float]] = {}
    for row in measurements:
        if row["quantity"] in SKIPPED_QUANTITIES:
            continue
        by_key.setdefault((row["source"], row["scenario"], row["quantity"]), {})[row["episode_id"]] = row["measured"]
    out = []
    for (source, scenario, quantity), values in sorted(by_key.items()):
        reference = by_key.get((REFERENCE, scenario, quantity), {})
        if source == REFERENCE or not reference:
            continue
        pairs = [(values[e], reference[e]) for e in values if e in reference]
        if not pairs:
            continue
        own, ref = np.array(pairs, float).T
        diff = np.abs(own - ref)
        floor = floors.get((scenario, quantity), 0.0)
        both = np.isfinite(diff)
        # a value the twin measures but the source does not (or the other way round) differs too
        differs = np.where(both, diff > floor, np.isfinite(own) != np.isfinite(ref))
        out.append({"source": source, "scenario": scenario, "quantity": quantity, "episodes": len(pairs),
                    "source_median": _median(own), "sim_median": _median(ref),
                    "median_abs_difference": _median(diff), "floor": floor,
                    "differs_fraction": float(np.mean(differs))})
    return out


def prediction_cost(dataset_root: Path) -> dict[str, dict]:
    """Per source: episodes, frames and wall seconds per predicted frame (timing.json; NaN when not recorded)."""
    index = read_index(dataset_root)
    totals: dict[str, dict] = {}
    for source, folder, n_frames in zip(index["source"], index["episode_dir"], index["n_frames"]):
        entry = totals.setdefault(str(source), {"episodes": 0, "frames": 0, "wall_s": 0.0, "timed_frames": 0})
        entry["episodes"] += 1
        entry["frames"] += int(n_frames)
        timing_path = Path(dataset_root) / str(folder) / TIMING_JSON
        timing = json.loads(timing_path.read_text()) if timing_path.is_file() else {}
        per_frame = timing.get("per_frame_s")
        if per_frame is not None and math.isfinite(per_frame):
            entry["wall_s"] += per_frame * int(n_frames)
            entry["timed_frames"] += int(n_frames)
    for entry in totals.values():
        entry["per_frame_ms"] = 1000 * entry["wall_s"] / entry["timed_frames"] if entry["timed_frames"] else math.nan
    return totals


def source_descriptions_of(dataset_root: Path) -> dict[str, str]:
    """What each source of the dataset is (from the registry; imported videos by their manifest)."""
    from realitygap.sources.registry import source_descriptions

    known = source_descriptions()
    index = read_index(dataset_root)
    out = {}
    for source, folder in zip(index["source"], index["episode_dir"]):
        source = str(source)
        if source in out:
            continue
        meta = read_meta(Path(dataset_root) / str(folder))
        out[source] = known.get(source) or (f"videos imported from {meta.imported['manifest']}" if meta.imported
                                            else "unregistered source")
    return out


def _median(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else math.nan
