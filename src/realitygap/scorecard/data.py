"""What the scorecard reads from a measured dataset: the measurement rows, the ground-truth error floor,
every episode's metadata and timing, grouped by source and episode."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from realitygap.episode.dataset import episode_dir, read_index
from realitygap.episode.io import TIMING_JSON, read_meta
from realitygap.episode.meta import EpisodeMeta
from realitygap.measure.pipeline import ERROR_FLOOR_PARQUET, MEASUREMENTS_PARQUET, REFERENCE_SOURCE
from realitygap.runtime.errors import InputError


@dataclass
class EpisodeRecord:
    """One episode of one source: its metadata, timing.json (empty when absent) and measurement rows by quantity."""

    source: str
    episode_id: str
    scenario: str
    meta: EpisodeMeta
    timing: dict
    rows: dict[str, dict] = field(default_factory=dict)

    def measured(self, quantity: str) -> float:
        """The value measured for `quantity` (NaN where the episode has no such row)."""
        row = self.rows.get(quantity)
        return row["measured"] if row is not None else math.nan


@dataclass
class ScoreInputs:
    """A dataset ready to score: episodes[source][episode_id], the pipeline's error floor ((scenario, quantity) ->
    the largest |error| of the measurement on the ground-truth episodes, error_floor.parquet), the
    ground-truth source's name, and the sources in a stable order (the reference first)."""

    root: Path
    episodes: dict[str, dict[str, EpisodeRecord]]
    floors: dict[tuple[str, str], float]
    reference: str = REFERENCE_SOURCE

    @property
    def sources(self) -> list[str]:
        return [self.reference] + sorted(s for s in self.episodes if s != self.reference)

    def reference_of(self, record: EpisodeRecord) -> EpisodeRecord | None:
        """The ground-truth episode of the same context."""
        return self.episodes[self.reference].get(record.episode_id)

    def scenarios(self) -> list[str]:
        return sorted({r.scenario for r in self.episodes[self.reference].values()})


def load_inputs(root: Path) -> ScoreInputs:
    """Read a measured dataset (after `realitygap measure`); InputError when it has no measurements or no
    ground truth."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root} is not a dataset folder")
    table = root / MEASUREMENTS_PARQUET
    if not table.is_file():
        raise InputError(f"{root} has no {MEASUREMENTS_PARQUET}: run `realitygap measure {root}` first")
    index = read_index(root)
    episodes: dict[str, dict[str, EpisodeRecord]] = {}
    for eid, source, scenario in zip(index["episode_id"], index["source"], index["scenario"]):
        folder = episode_dir(root, str(source), str(eid))
        timing_path = folder / TIMING_JSON
        timing = json.loads(timing_path.read_text()) if timing_path.is_file() else {}
        episodes.setdefault(str(source), {})[str(eid)] = EpisodeRecord(str(source), str(eid), str(scenario),
                                                                     read_meta(folder), timing)
    if REFERENCE_SOURCE not in episodes:
        raise InputError(f"{root} has no ground-truth episodes (source '{REFERENCE_SOURCE}') to score against")
    for row in pq.read_table(table).to_pylist():
        record = episodes.get(row["source"], {}).get(row["episode_id"])
        if record is not None:
            record.rows[row["quantity"]] = row
    floors = {(r["scenario"], r["quantity"]): r["max_abs_error"] for r in pq.read_table(root / ERROR_FLOOR_PARQUET).to_pylist()}
    return ScoreInputs(root, episodes, floors)


def finite(value) -> bool:
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)
