"""Numbers about a dataset folder, for `realitygap info` and the report."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from realitygap.episode.dataset import DATASET_JSON, read_index
from realitygap.episode.io import read_meta, verify_episode
from realitygap.runtime.errors import InputError


def dataset_summary(root: Path) -> dict:
    """Counts per (source, scenario), integrity (checksums verified) and size on disk."""
    root = Path(root)
    meta_path = root / DATASET_JSON
    if not meta_path.is_file():
        raise InputError(f"{root} is not a realitygap dataset (no {DATASET_JSON})")
    try:
        meta = json.loads(meta_path.read_text())
    except ValueError:
        raise InputError(f"{meta_path} is not valid JSON") from None
    if not isinstance(meta, dict):
        raise InputError(f"{meta_path} is not a realitygap dataset.json (not a JSON object)")
    index = read_index(root)
    groups: dict[tuple[str, str], dict] = defaultdict(lambda: {"episodes": 0, "frames": 0, "duration_s": 0.0,
                                                              "train": 0, "test": 0, "verified": 0})
    sensors: set[str] = set()
    total_bytes = 0
    for i in range(len(index["episode_id"])):
        folder = root / str(index["episode_dir"][i])
        group = groups[(str(index["source"][i]), str(index["scenario"][i]))]
        group["episodes"] += 1
        group["frames"] += int(index["n_frames"][i])
        group["duration_s"] += float(index["duration_s"][i])
        group[str(index["split"][i])] += 1
        ok = verify_episode(folder)
        group["verified"] += int(ok)
        if ok:
            episode_meta = read_meta(folder)
            sensors.update(episode_meta.context.rig.sensors)
            total_bytes += sum(f.bytes for f in episode_meta.files.values())
    return {
        "format_version": meta.get("format_version"),
        "realitygap_version": meta.get("realitygap_version"),
        "episodes": len(index["episode_id"]),
        "bytes": total_bytes,
        "sensors": sorted(sensors),
        "groups": [{"source": s, "scenario": sc, **g} for (s, sc), g in sorted(groups.items())],
    }
