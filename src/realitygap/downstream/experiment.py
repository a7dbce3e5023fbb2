"""`realitygap downstream`: make the data, extract the examples, train and test every model, summarise.

Stages (each resumable: finished episodes, measurements and example files are kept):
1. simulate the planned ground-truth contexts (train and test) and predict the train contexts with every
   generating source (`pipeline.simulate_dataset` / `predict_dataset`);
2. measure the dataset (`measure.pipeline.measure_dataset`: the derived tracks some labels and the
   parameter task's input come from);
3. extract each episode's examples once (`examples.py`, cached as .npz under OUT/examples/);
4. train: per source, task and model seed, on the source's train episodes (train-on-GT is source sim),
   plus the mixes and data-size curves of `curve_sources`; each model is tested on every ground-truth
   test episode. Jobs are pure functions of their inputs and run on the local process pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from realitygap.downstream.examples import EpisodeExamples, extract_examples
from realitygap.downstream.plan import DownstreamConfig, episode_source, generators, subset
from realitygap.downstream.tasks import TASKS
from realitygap.episode.dataset import episode_dir, split_of
from realitygap.episode.io import EPISODE_JSON, sha256_file
from realitygap.measure.pipeline import MEASUREMENTS_DIR, REFERENCE_SOURCE, tracks_path
from realitygap.runtime.atomic import write_bytes_atomic
from realitygap.runtime.errors import InputError
from realitygap.runtime.executor import Executor, run_tasks
from realitygap.runtime.progress import Stage

if TYPE_CHECKING:
    from rich.progress import Progress

EXAMPLES_DIR = "examples"
EXAMPLES_FORMAT = 2
"""Version of the cached example files (2: parameters as JSON); a file of another version is extracted again."""
SENSORS = ("rgb", "depth", "segmentation")
"""The rig of the planned contexts (annotations and state come with segmentation)."""


@dataclass(frozen=True)
class Job:
    """Train one task's model(s) on `train` ((source folder, episode id) pairs) with `seed`; test on `test` ids."""

    kind: str  # 'transfer', 'mix' or 'size'
    source: str
    task: str
    seed: int
    amount: float  # mix: extra fraction; size: fraction of the train episodes; transfer: 1
    train: tuple[tuple[str, str], ...]
    test: tuple[str, ...]


def plan_episodes(config: DownstreamConfig) -> tuple[list, dict[str, list[str]], dict[str, list[str]]]:
    """(contexts to simulate, train ids per scenario, test ids per scenario)."""
    from realitygap.core.rig import CameraConfig, RigConfig
    from realitygap.pipeline import plan_contexts

    rig = RigConfig(sensors=SENSORS, camera=CameraConfig(width=config.size_px, height=config.size_px))
    contexts, train, test = [], {}, {}
    for scenario in config.scenarios:
        n = 2 * (config.n_train + config.n_test)
        while True:
            planned = plan_contexts(scenario, n, config.dataset_seed, None, rig)
            train_ctx = [c for c in planned if split_of(c.episode_id) == "train"][:config.n_train]
            test_ctx = [c for c in planned if split_of(c.episode_id) == "test"][:config.n_test]
            if len(train_ctx) == config.n_train and len(test_ctx) == config.n_test:
                break
            n *= 2
        contexts += train_ctx + test_ctx
        train[scenario] = [c.episode_id for c in train_ctx]
        test[scenario] = [c.episode_id for c in test_ctx]
    return contexts, train, test


def make_data(root: Path, config: DownstreamConfig, workers: int | Executor, progress: "Progress | None") -> tuple[dict, dict]:
    """Stages 1 and 2; returns (train ids, test ids) per scenario."""
    from realitygap.measure.pipeline import measure_dataset
    from realitygap.pipeline import predict_dataset, simulate_dataset

    contexts, train, test = plan_episodes(config)
    simulate_dataset(contexts, root, workers=workers, on_done=Stage(progress, "simulate ground truth", len(contexts)).advance)
    train_ids = [eid for ids in train.values() for eid in ids]
    for source in generators(config.sources):
        predict_dataset(source, root, workers=workers, episode_ids=train_ids,
                        on_done=Stage(progress, f"predict {source}", len(train_ids)).advance)
    measuring = Stage(progress, "measure")
    measure_dataset(root, workers=workers, on_done=measuring.advance, on_total=measuring.set_total)
    return train, test


def extract_all(root: Path, out_dir: Path, config: DownstreamConfig, train: dict, test: dict, workers: int | Executor,
                progress: "Progress | None") -> None:
    """Stage 3: the examples of every episode the jobs read."""
    wanted = [(REFERENCE_SOURCE, eid) for ids in list(train.values()) + list(test.values()) for eid in ids]
    wanted += [(source, eid) for source in generators(config.sources) for ids in train.values() for eid in ids]
    paths = (str(Path(root).absolute()), str(Path(out_dir).absolute()))  # workers may run in another folder (Ray)
    tasks = [(*paths, source, eid) for source, eid in wanted if not examples_current(root, out_dir, source, eid)]
    run_tasks(_extract_task, tasks, workers, on_done=Stage(progress, "extract examples", len(tasks)).advance)


def examples_current(root: Path, out_dir: Path, source: str, episode_id: str) -> bool:
    """True when the cached examples were extracted, in this version's format, from the episode as it is now
    (same episode.json)."""
    path = examples_path(out_dir, source, episode_id)
    if not path.is_file():
        return False
    with np.load(path, allow_pickle=False) as arrays:
        if "examples_format" not in arrays or int(arrays["examples_format"][0]) != EXAMPLES_FORMAT:
            return False
        recorded = str(arrays["episode_sha256"][0]) if "episode_sha256" in arrays else ""
    return recorded == sha256_file(episode_dir(Path(root), source, episode_id) / EPISODE_JSON)


def examples_path(out_dir: Path, source: str, episode_id: str) -> Path:
    return Path(out_dir) / EXAMPLES_DIR / source / f"{episode_id}.npz"


def _extract_task(task: tuple[str, str, str, str]) -> str:
    import io

    root, out_dir, source, eid = task
    folder = episode_dir(Path(root), source, eid)
    if not folder.is_dir():
        raise InputError(f"episode {source}/{eid} is missing from {root}")
    measured = tracks_path(Path(root) / MEASUREMENTS_DIR / source / f"{eid}.parquet")
    examples = extract_examples(folder, measured)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **examples.to_arrays(), episode_sha256=np.array([sha256_file(folder / EPISODE_JSON)]),
                        examples_format=np.array([EXAMPLES_FORMAT]))
    path = examples_path(Path(out_dir), source, eid)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, buffer.getvalue())
    return str(path)


def plan_jobs(config: DownstreamConfig, train: dict[str, list[str]], test: dict[str, list[str]]) -> list[Job]:
    """Every model to train: transfer (each source and sim), mixes and data-size curves."""
    test_ids = tuple(eid for ids in test.values() for eid in ids)
    jobs: list[Job] = []

    def pairs(source: str, fraction: float = 1.0) -> list[tuple[str, str]]:
        return [(episode_source(source, eid), eid) for ids in train.values() for eid in subset(ids, fraction)]

    sources = [REFERENCE_SOURCE] + [s for s in config.sources if s != REFERENCE_SOURCE]
    curves = config.curve_list()
    for task in config.tasks:
        for seed in range(config.seeds):
            for source in sources:
                jobs.append(Job("transfer", source, task, seed, 1.0, tuple(pairs(source)), test_ids))
            for source in curves:
                for extra in config.mixes:
                    jobs.append(Job("mix", source, task, seed, extra,
                                    tuple(pairs(REFERENCE_SOURCE) + pairs(source, extra)), test_ids))
            for source in [REFERENCE_SOURCE] + list(curves):
                for fraction in config.sizes:
                    if fraction < 1.0:
                        jobs.append(Job("size", source, task, seed, fraction, tuple(pairs(source, fraction)), test_ids))
    return jobs


def run_jobs(out_dir: Path, config: DownstreamConfig, jobs: list[Job], workers: int | Executor,
             on_done: Callable | None = None) -> list[dict]:
    """Stage 4: one record per job and test episode: (kind, source, task, seed, amount, episode_id, scenario, error)."""
    tasks = [(str(Path(out_dir).absolute()), config.train[job.task].model_dump_json(), job) for job in jobs]
    results = run_tasks(_train_task, tasks, workers, on_done=on_done)
    return [row for rows in results for row in rows]


@lru_cache(maxsize=4096)
def load_examples(out_dir: str, source: str, episode_id: str) -> EpisodeExamples:
    with np.load(examples_path(Path(out_dir), source, episode_id), allow_pickle=False) as arrays:
        return EpisodeExamples.from_arrays(dict(arrays))


def _train_task(task: tuple[str, str, Job]) -> list[dict]:
    from realitygap.downstream.models import TrainSettings, train

    out_dir, settings_json, job = task
    spec = TASKS[job.task]
    settings = TrainSettings.model_validate_json(settings_json)
    train_eps = [load_examples(out_dir, source, eid) for source, eid in job.train]
    test_eps = [load_examples(out_dir, REFERENCE_SOURCE, eid) for eid in job.test]
    groups = sorted({e.scenario for e in test_eps}) if spec.per_scenario else [None]
    rows = []
    for group in groups:
        pairs = [p for p in (spec.examples(e) for e in train_eps if group in (None, e.scenario)) if p is not None]
        fitted = None
        if pairs:  # else the source delivers nothing this task can learn from: errors stay NaN
            fitted = train(np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]), spec.model,
                           settings, seed=_model_seed(job))
        for e in test_eps:
            if group not in (None, e.scenario) or e.scenario not in spec.scenarios:
                continue
            pair = spec.examples(e)
            error = spec.episode_error(fitted.predict(pair[0]), pair[1]) if fitted is not None and pair is not None else np.nan
            rows.append({"kind": job.kind, "source": job.source, "task": job.task, "seed": job.seed, "amount": job.amount,
                         "episode_id": e.episode_id, "scenario": e.scenario, "n_train_episodes": len(pairs), "error": error})
    return rows


def _model_seed(job: Job) -> int:
    """The model seed: the same for every source at one seed index, so train-on-source and train-on-GT
    start from the same weights and draw the same batches where their data has the same size."""
    return 1000 + job.seed
