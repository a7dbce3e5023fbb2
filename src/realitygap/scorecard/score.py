"""`realitygap score DATASET`: the scorecard of every source of a measured dataset against the twin.

Reads the measurement (`realitygap measure`), computes every axis (precision, consistency, explanative
value, efficiency; distribution metrics and 3i where available), writes results.parquet and
results.json, and returns the rows; `headline` picks one number per source and axis for the terminal
and the report. Deterministic for a seed: the same dataset gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from realitygap import __version__
from realitygap.episode.dataset import ensure_writable_dir
from realitygap.scorecard.consistency import CONSISTENCY_FACTOR, consistency_results
from realitygap.scorecard.data import ScoreInputs, load_inputs
from realitygap.scorecard.efficiency import efficiency_results
from realitygap.scorecard.explanative import explanative_results
from realitygap.scorecard.features import PHYSICAL, VISUAL
from realitygap.scorecard.precision import FLOOR_FACTOR, precision_results
from realitygap.scorecard.results import ALL_SCENARIOS, lookup, write_results
from realitygap.scorecard.similarity import distribution_results
from realitygap.scorecard.stats import LEVEL, N_BOOT
from realitygap.scorecard.threei import threei_results

HEADLINE: tuple[tuple[str, str, str, str], ...] = (
    ("precision", "within_floor", "share", "law quantities within the error floor"),
    ("consistency", "checks_passed", "share", "consistency checks passed"),
    ("explanative", "streams_delivered", "share", "streams delivered"),
    ("efficiency", "prediction_per_frame", "median", "prediction ms per frame"),
    ("3i", "indistinguishability", "value", "indistinguishability"),
    ("3i", "information_richness", "value", "information richness"),
    ("3i", "intentionality", "share", "intentionality"),
)
"""(axis, metric, statistic, label) of the one number per axis the headline table shows."""


@dataclass(frozen=True)
class Scorecard:
    rows: list[dict]
    parquet: Path
    json: Path
    sources: list[str]


def score_dataset(root: Path, out_dir: Path | None = None, seed: int = 0) -> Scorecard:
    """Score every source of the measured dataset at `root`; results go to `out_dir` (default: `root`)."""
    inputs = load_inputs(Path(root))
    out_dir = ensure_writable_dir(Path(out_dir) if out_dir else Path(root))
    rows = score_rows(inputs, seed)
    header = {"realitygap_version": __version__, "seed": seed, "bootstrap": {"resamples": N_BOOT, "level": LEVEL,
              "method": "percentile, episodes resampled within each scenario"},
              "floor_factor": FLOOR_FACTOR, "consistency_factor": CONSISTENCY_FACTOR, "reference_source": inputs.reference,
              "sources": inputs.sources, "scenarios": inputs.scenarios(),
              "episodes": {s: len(inputs.episodes[s]) for s in inputs.sources},
              "feature_sets": {PHYSICAL: "per episode: the moving object's displacement on a common clock, seen fraction, g, "
                                         "law agreement (scorecard/features.py)",
                               VISUAL: "per frame, 8 per episode: 4x4 grey layout, hue histogram, motion energy (hand-made)"}}
    parquet, json_path = write_results(rows, out_dir, header)
    return Scorecard(rows, parquet, json_path, inputs.sources)


def score_rows(inputs: ScoreInputs, seed: int = 0) -> list[dict]:
    """Every result row of every source of `inputs` (what results.parquet holds)."""
    rows = (precision_results(inputs, seed) + consistency_results(inputs, seed) + explanative_results(inputs, seed)
            + efficiency_results(inputs) + distribution_results(inputs, seed))
    return rows + threei_results(inputs, rows, seed)


def headline(rows: list[dict], sources: list[str], scenario: str = ALL_SCENARIOS) -> list[tuple[str, list[dict | None]]]:
    """Per source, the headline row of each axis (None where the source has none)."""
    return [(source, [lookup(rows, source, scenario, metric, statistic) for _, metric, statistic, _ in HEADLINE])
            for source in sources]
