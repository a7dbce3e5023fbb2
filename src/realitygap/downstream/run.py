"""The downstream job: data, examples, training, summary, files (downstream.parquet, downstream.json).

- downstream.parquet: one row per trained model and ground-truth test episode (kind, source, task, seed,
  amount, episode_id, scenario, n_train_episodes, error);
- downstream.json: the configuration, the tasks with their label provenance and error unit, the
  summary rows (transfer ratios, mixes, data-size points with intervals), the exchange rates, and the
  scorecard's predictive validity where it was computed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from realitygap import __version__
from realitygap.downstream.experiment import extract_all, make_data, plan_jobs, run_jobs
from realitygap.downstream.plan import DownstreamConfig, generators
from realitygap.downstream.summary import exchange_rates, summarise
from realitygap.downstream.tasks import FORECAST_S, TASKS
from realitygap.episode.dataset import ensure_writable_dir
from realitygap.runtime.atomic import json_safe, write_json_atomic, write_parquet_atomic
from realitygap.runtime.errors import InputError
from realitygap.runtime.executor import Executor, as_executor
from realitygap.runtime.progress import Stage

if TYPE_CHECKING:
    from rich.progress import Progress

DOWNSTREAM_PARQUET = "downstream.parquet"
DOWNSTREAM_JSON = "downstream.json"
ERRORS_SCHEMA = pa.schema([("kind", pa.string()), ("source", pa.string()), ("task", pa.string()), ("seed", pa.int64()),
                           ("amount", pa.float64()), ("episode_id", pa.string()), ("scenario", pa.string()),
                           ("n_train_episodes", pa.int64()), ("error", pa.float64())])


def check_sources(sources: tuple[str, ...]) -> None:
    from realitygap.sources.registry import check_source_name

    if not sources:
        raise InputError("--sources lists at least one source")
    for name in generators(sources):
        check_source_name(name)


def run_downstream(dataset: Path, out_dir: Path, config: DownstreamConfig, workers: int | Executor = 1,
                   progress: "Progress | None" = None, validity: bool = False, seed: int = 0) -> dict:
    """Run every stage; returns the content of downstream.json. `validity`: also score the dataset and
    correlate the scorecard with the transfer ratios (downstream/validity.py)."""
    check_sources(config.sources)
    workers = as_executor(workers)
    dataset = ensure_writable_dir(Path(dataset))
    wall_s: dict[str, float] = {}
    started = time.perf_counter()
    train, test = make_data(dataset, config, workers, progress)
    wall_s["data (simulate, predict, measure)"] = time.perf_counter() - started
    out_dir = ensure_writable_dir(Path(out_dir))  # after the dataset exists: it may lie inside it
    started = time.perf_counter()
    extract_all(dataset, out_dir, config, train, test, workers, progress)
    wall_s["extract examples"] = time.perf_counter() - started
    jobs = plan_jobs(config, train, test)
    started = time.perf_counter()
    rows = run_jobs(out_dir, config, jobs, workers, on_done=Stage(progress, "train and test models", len(jobs)).advance)
    wall_s["train and test"] = time.perf_counter() - started
    write_parquet_atomic(out_dir / DOWNSTREAM_PARQUET, pa.Table.from_pylist(rows, schema=ERRORS_SCHEMA))
    summary = summarise(rows, seed, config.bootstrap)
    document = {
        "realitygap_version": __version__, "seed": seed, "config": config.model_dump(mode="json"),
        "dataset": str(dataset),
        "splits": {"train": train, "test": test},
        "tasks": {name: {"description": TASKS[name].description, "labels": TASKS[name].labels,
                         "error_unit": TASKS[name].error_unit, "scenarios": list(TASKS[name].scenarios),
                         "model": TASKS[name].model} for name in config.tasks},
        "forecast_s": FORECAST_S,
        "summary": summary,
        "exchange_rates": exchange_rates(summary, config.sizes),
        "models_trained": len(jobs),
        "wall_s": {k: round(v, 1) for k, v in wall_s.items()},
        "workers": workers.workers,
    }
    if validity:
        from realitygap.downstream.validity import predictive_validity

        scoring = Stage(progress, "score and correlate", 1)
        started = time.perf_counter()
        document["validity"] = predictive_validity(dataset, summary, config, seed,
                                                   [eid for ids in train.values() for eid in ids])
        document["wall_s"]["score and correlate"] = round(time.perf_counter() - started, 1)
        scoring.advance()
    write_json_atomic(out_dir / DOWNSTREAM_JSON, json_safe(document))
    return document

