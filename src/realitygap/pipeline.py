"""Jobs the CLI calls: plan contexts, simulate a dataset (resumable), predict it with a source, the main `run`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from realitygap.core.rig import RigConfig
from realitygap.episode.dataset import ensure_writable_dir, episode_dir, open_dataset, rebuild_index
from realitygap.episode.io import verify_episode
from realitygap.episode.types import Context
from realitygap.runtime.atomic import remove_stale_partials
from realitygap.runtime.errors import InputError
from realitygap.runtime.executor import Executor, as_executor, run_tasks
from realitygap.runtime.progress import Stage
from realitygap.scenarios import get_scenario, scenario_names

if TYPE_CHECKING:
    from rich.progress import Progress

MAIN_DATASET = "dataset"
MAIN_REPORT = "report"
"""Folders of the main job's output: the dataset (ground truth, predictions, measurements) and the report."""


def run_main_job(out_dir: Path, n_per_scenario: int, seed: int, sources: Sequence[str], workers: int | Executor,
                 progress: "Progress | None" = None, controls: bool = True) -> Path:
    """The main job on the default rig: simulate `n_per_scenario` episodes of every scenario, predict the
    same contexts with each of `sources` (compared with the twin), measure everything from RGB, write the
    scorecard (results.parquet beside the measurements) and the report; returns the report's page.
    Resumable: finished episodes and measurements are kept.
    `controls`: every negative control also predicts the first context of each scenario its defect shows on
    (`TwinSource.shows_on`), for the report's sanity panel. `progress` (a started rich Progress) gets one task per stage."""
    from realitygap.measure.pipeline import measure_dataset
    from realitygap.report.overview import write_overview
    from realitygap.scorecard.score import score_dataset
    from realitygap.sources.registry import check_source_name
    from realitygap.sources.twins import TWINS

    for name in sources:
        check_source_name(name)
        if name == "sim":
            raise InputError("--sources lists sources compared with the twin; 'sim' is the twin itself")
    workers = as_executor(workers)  # before any work: a bad worker count is one line
    dataset = Path(out_dir) / MAIN_DATASET
    contexts = [c for name in scenario_names() for c in plan_contexts(name, n_per_scenario, seed, None, RigConfig())]
    simulate_dataset(contexts, dataset, workers=workers, on_done=Stage(progress, "simulate", len(contexts)).advance)
    for name in sources:
        predict_dataset(name, dataset, workers=workers, on_done=Stage(progress, f"predict {name}", len(contexts)).advance)
    if controls:
        first = {c.scenario: c.episode_id for c in reversed(contexts)}  # each scenario's first context
        plan = {name: [first[s] for s in twin.shows_on] for name, twin in TWINS.items() if twin.breaks and name not in sources}
        stage = Stage(progress, "negative controls", sum(len(ids) for ids in plan.values()))
        for name, ids in plan.items():
            predict_dataset(name, dataset, workers=workers, on_done=stage.advance, episode_ids=ids)
    measuring = Stage(progress, "measure")
    measure_dataset(dataset, workers=workers, on_done=measuring.advance, on_total=measuring.set_total)
    scoring = Stage(progress, "score", 1)
    score_dataset(dataset, seed=seed)
    scoring.advance()
    return write_overview(dataset, Path(out_dir) / MAIN_REPORT)


MAX_EPISODES = 1_000_000
"""Most episodes one call plans (per scenario)."""


def plan_contexts(scenario_name: str, n: int, seed: int, fixed_params: Mapping[str, Any] | None,
                  rig: RigConfig, prompt: str | None = None) -> list[Context]:
    """The contexts of episodes 0..n-1 of a dataset seed; `prompt` (the user's, when the run was specified
    by one) replaces the scenario's prompt template in every context.

    Episode i uses child i of `np.random.SeedSequence(seed)`, split in two: one stream samples the
    parameters not fixed by the user, the other gives the episode seed (sensor noise). Episode i
    is therefore the same whatever n is. Raises InputError on bad scenario or parameters.
    """
    if n < 1:
        raise InputError(f"--n must be at least 1, got {n}")
    if n > MAX_EPISODES:  # numpy cannot spawn more than 2**63 seeds; a million already takes a minute to plan
        raise InputError(f"--n must be at most {MAX_EPISODES:,}, got {n:,}")
    scenario = get_scenario(scenario_name)
    scenario.sample_params(np.random.default_rng(0), fixed_params)  # validate before any work: the fixed values, and
    # that the others can be drawn beside them (resolving with defaults refused colour_a=blue: colour_b's default is blue)
    contexts = []
    for child in np.random.SeedSequence(seed).spawn(n):
        params_seq, noise_seq = child.spawn(2)
        params = scenario.sample_params(np.random.default_rng(params_seq), fixed_params)
        contexts.append(Context(scenario=scenario.name, params=params, seed=int(noise_seq.generate_state(1)[0]),
                                rig=rig, prompt=scenario.prompt(params) if prompt is None else prompt))
    return contexts


@dataclass(frozen=True)
class EpisodeOutcome:
    episode_id: str
    scenario: str
    skipped: bool


def simulate_dataset(contexts: list[Context], root: Path, workers: int | Executor = 1,
                     on_done: Callable[[int, EpisodeOutcome], None] | None = None,
                     setup_timing: dict | None = None) -> list[EpisodeOutcome]:
    """Simulate every context into the dataset at `root` as source 'sim'; finished episodes are skipped.
    `setup_timing` (the context-setup seconds of the run, e.g. parsing its prompt) goes into each new
    episode's timing.json.

    An episode counts as finished when its episode.json exists and every checksum matches.
    """
    root = ensure_writable_dir(root)
    origin = None
    if contexts:
        gps = contexts[0].rig.gps
        origin = {"lat_deg": gps.origin_lat_deg, "lon_deg": gps.origin_lon_deg, "alt_m": gps.origin_alt_m}
    open_dataset(root, origin)
    remove_stale_partials(root / "episodes" / "sim")
    tasks = [(context.model_dump_json(), str(root.absolute()), setup_timing) for context in contexts]  # absolute: workers may run elsewhere
    outcomes = run_tasks(_simulate_task, tasks, workers, on_done=on_done)
    rebuild_index(root)
    return outcomes


def _simulate_task(task: tuple[str, str, dict | None]) -> EpisodeOutcome:
    context_json, root, setup_timing = task
    context = Context.model_validate_json(context_json)
    out = episode_dir(Path(root), "sim", context.episode_id)
    if verify_episode(out):
        return EpisodeOutcome(context.episode_id, context.scenario, skipped=True)
    from realitygap.sim.runner import simulate_episode

    simulate_episode(context, get_scenario(context.scenario), out, source="sim", setup_timing=setup_timing)
    return EpisodeOutcome(context.episode_id, context.scenario, skipped=False)


def predict_dataset(source_name: str, contexts_root: Path, out_root: Path | None = None, workers: int | Executor = 1,
                    on_done: Callable[[int, EpisodeOutcome], None] | None = None,
                    episode_ids: Sequence[str] | None = None) -> list[EpisodeOutcome]:
    """Predict, with source `source_name`, every ground-truth context of the dataset at `contexts_root` (or
    those of `episode_ids`) into `out_root` (default: the same dataset, under episodes/<source_name>/).
    Finished episodes are skipped; the index is rebuilt."""
    from realitygap.episode.dataset import read_index
    from realitygap.episode.io import read_meta
    from realitygap.sources.registry import check_source_name

    check_source_name(source_name)  # one clear error for an unknown source, before any work
    contexts_root = Path(contexts_root)
    out_root = ensure_writable_dir(Path(out_root) if out_root else contexts_root)
    open_dataset(out_root)
    index = read_index(contexts_root)
    contexts = [read_meta(episode_dir(contexts_root, "sim", str(eid))).context
                for eid, source in zip(index["episode_id"], index["source"])
                if source == "sim" and (episode_ids is None or str(eid) in episode_ids)]
    remove_stale_partials(out_root / "episodes" / source_name)
    tasks = [(source_name, context.model_dump_json(), str(out_root.absolute()), str(contexts_root.absolute())) for context in contexts]
    outcomes = run_tasks(_predict_task, tasks, workers, on_done=on_done)
    rebuild_index(out_root)
    return outcomes


def _predict_task(task: tuple[str, str, str]) -> EpisodeOutcome:
    from realitygap.sources.registry import get_source

    source_name, context_json, root, contexts_root = task
    context = Context.model_validate_json(context_json)
    out = episode_dir(Path(root), source_name, context.episode_id)
    if verify_episode(out):
        return EpisodeOutcome(context.episode_id, context.scenario, skipped=True)
    source = get_source(source_name)
    conditioning = _conditioning(Path(contexts_root), context.episode_id, source.conditioning_frames)
    source.predict(context, out, conditioning)
    return EpisodeOutcome(context.episode_id, context.scenario, skipped=False)


def _conditioning(contexts_root: Path, episode_id: str, n_frames: int):
    """The ground-truth episode's first `n_frames` RGB frames and episode.json (None when n_frames is 0)."""
    from realitygap.episode.io import read_meta
    from realitygap.episode.video import read_video
    from realitygap.sources.base import Conditioning

    if n_frames <= 0:
        return None
    gt_dir = episode_dir(contexts_root, "sim", episode_id)
    meta = read_meta(gt_dir)
    if "rgb" not in meta.streams:
        raise InputError(f"ground-truth episode {episode_id} has no rgb stream to condition on: simulate with the rgb sensor")
    rgb, _ = read_video(gt_dir / meta.streams["rgb"].file, "rgb", max_frames=n_frames)
    return Conditioning(rgb=rgb, meta=meta)
