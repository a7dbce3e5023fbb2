"""The carbon-copy experiment on the built-in world model: generators trained on generated data.

Generation 0 is the shipped world model (trained on ground-truth sim episodes) fine-tuned for `steps` steps
on the ground-truth episodes of the training contexts, so every generation gets the same treatment and
differs only in its data. Generation k >= 1 is generation k - 1 fine-tuned for `steps` steps on
- replace: the episodes generation k - 1 predicted on the training contexts;
- accumulate: the ground truth and every earlier generation's predictions;
- fresh:F: generation k - 1's predictions plus ceil(F x n) newly simulated ground-truth episodes (contexts
  never used before, from a seed of their own per generation).
Generation 0 is shared by the regimes. Every generation predicts the fixed held-out contexts (its own
source `worldmodel@<tag>` in `eval/`, beside the shipped checkpoint as `worldmodel`); they are measured and
scored (the scorecard, `realitygap.scorecard`) and the curves follow the scorecard's rows per generation.

Layout of --out: train/ and eval/ (datasets: ground truth and every generation's predictions),
checkpoints/<tag>.pt (sampling-only checkpoints), generations/<tag>.json (a generation's record, written
last: a generation is done when it exists), carboncopy.json / carboncopy.parquet (the curves) and the
report. Determinism: contexts, training batches (seeded per generation) and sampling (seeded per context)
are fixed by the seed; a generation killed while training is trained again from its parent (no partial
checkpoint is kept), finished episodes are skipped by checksum, so a killed run resumes to the same numbers.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Callable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from realitygap.carboncopy.gaussian import parse_regime
from realitygap.runtime.atomic import json_safe, remove_stale_temporaries, write_bytes_atomic
from realitygap.runtime.errors import InputError

TRAIN_CONTEXT_SEED = 2_000_000
EVAL_CONTEXT_SEED = 3_000_000
FRESH_CONTEXT_SEED = 4_000_000
"""Dataset seeds of the training, held-out and fresh contexts (plus the run's seed; fresh: plus 1,000 x the run's
seed + the generation): apart from `realitygap run`'s (0) and the shipped checkpoint's training data (1000)."""
TRAIN_SENSORS = ("rgb",)
EVAL_SENSORS = ("rgb", "segmentation")
"""Ground truth's streams: what the world model trains on; on held-out contexts also the masks the scorecard's
label rows use (as in the shipped checkpoint's held-out evaluation)."""
CONFIG_JSON = "carboncopy-config.json"
SHIPPED_SOURCE = "worldmodel"


class CarbonCopyConfig(BaseModel):
    """What `realitygap carboncopy` runs (recorded in carboncopy-config.json; a resumed run must match it except in
    `generations` and `regimes`, which only add work)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    generations: int = Field(5, ge=1, le=100, description="generations after generation 0")
    regimes: tuple[str, ...] = ("replace",)
    steps: int = Field(200, ge=1, le=1_000_000, description="fine-tuning steps per generation")
    budget_minutes: float | None = Field(None, gt=0, description="wall-clock cap per generation's training (not reproducible)")
    learning_rate: float = Field(1e-4, gt=0, le=1.0, description="peak fine-tuning learning rate (warm-up, then cosine)")
    scenarios: tuple[str, ...] = ("drop", "bounce", "projectile", "pendulum", "slide")
    train_per_scenario: int = Field(4, ge=1, le=10_000)
    eval_per_scenario: int = Field(2, ge=1, le=10_000)
    batch_size: int = Field(16, ge=1, le=1024)
    seed: int = Field(0, ge=0, le=2**31 - 1)

    @field_validator("regimes")
    @classmethod
    def _regimes(cls, regimes: tuple[str, ...]) -> tuple[str, ...]:
        if not regimes:
            raise ValueError("give at least one regime")
        for regime in regimes:
            parse_regime(regime)
        return tuple(dict.fromkeys(regimes))

    @field_validator("scenarios")
    @classmethod
    def _scenarios(cls, scenarios: tuple[str, ...]) -> tuple[str, ...]:
        from realitygap.scenarios import scenario_names

        unknown = [s for s in scenarios if s not in scenario_names()]
        if unknown or not scenarios:
            raise ValueError(f"unknown scenario(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(scenario_names())}")
        return tuple(dict.fromkeys(scenarios))

    def comparable(self) -> dict:
        """The fields a resumed run must share with the run it resumes."""
        return self.model_dump(mode="json", exclude={"generations", "regimes"})


def quick_config(**fields) -> CarbonCopyConfig:
    """`--quick`: one scenario, two training contexts, one held-out context, 10 steps, 2 generations (tests)."""
    return CarbonCopyConfig(**{"generations": 2, "scenarios": ("drop",), "train_per_scenario": 2, "eval_per_scenario": 1,
                               "steps": 10, **fields})


def regime_slug(regime: str) -> str:
    """A regime as it appears in a checkpoint tag: 'replace', 'accumulate', 'fresh0p25'."""
    name, fraction = parse_regime(regime)
    return name if name != "fresh" else f"fresh{fraction:g}".replace(".", "p")


def generation_tag(regime: str, generation: int) -> str:
    """Checkpoint tag of a generation (generation 0 is shared: 'cc-g0')."""
    return "cc-g0" if generation == 0 else f"cc-{regime_slug(regime)}-g{generation}"


def source_of(tag: str) -> str:
    return f"worldmodel@{tag}"


def training_seed(config: CarbonCopyConfig, regime: str, generation: int) -> int:
    """Seed of a generation's training batches and noise: from (run seed, regime, generation); generation 0 shares it."""
    key = [config.seed, 0, 0] if generation == 0 else [config.seed, 1 + config.regimes.index(regime), generation]
    return int(np.random.SeedSequence(key).generate_state(1)[0] % 2**31)


def fresh_count(config: CarbonCopyConfig, regime: str) -> int:
    """New ground-truth episodes per scenario a generation of a fresh:F regime gets: ceil(F x train_per_scenario)."""
    _, fraction = parse_regime(regime)
    return math.ceil(fraction * config.train_per_scenario - 1e-9) if fraction > 0 else 0


def training_pairs(regime: str, generation: int, train_ids: list[str], fresh_ids: list[str]) -> list[tuple[str, str]]:
    """(source, episode id) pairs generation `generation` of `regime` trains on (module docstring)."""
    if generation == 0:
        return [("sim", eid) for eid in train_ids]
    name, _ = parse_regime(regime)
    previous = source_of(generation_tag(regime, generation - 1))
    own = [(previous, eid) for eid in train_ids]
    if name == "replace":
        return own
    if name == "fresh":
        return own + [("sim", eid) for eid in fresh_ids]
    earlier = [(source_of(generation_tag(regime, k)), eid) for k in range(generation - 1) for eid in train_ids]
    return [("sim", eid) for eid in train_ids] + earlier + own


def check_config(out_dir: Path, config: CarbonCopyConfig) -> None:
    """InputError when --out holds a run with another configuration (apart from generations and regimes);
    otherwise record this one."""
    path = Path(out_dir) / CONFIG_JSON
    if path.is_file():
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError):
            raise InputError(f"{path} is unreadable: remove it or give a new --out") from None
        if {k: stored.get(k) for k in config.comparable()} != config.comparable():
            changed = sorted(k for k, v in config.comparable().items() if stored.get(k) != v)
            raise InputError(f"--out {out_dir} holds a carbon-copy run with other settings ({', '.join(changed)}): "
                             "give a new --out, or the same settings to resume it")
    write_bytes_atomic(path, (json.dumps(config.model_dump(mode="json"), indent=1) + "\n").encode())


def run_carboncopy(out_dir: Path, config: CarbonCopyConfig, workers: int = 1, progress=None,
                   on_stage: Callable[[str], None] | None = None) -> dict:
    """Run (or resume) the experiment into `out_dir` (module docstring); returns the curves document
    (also written as carboncopy.json / carboncopy.parquet)."""
    from realitygap.core.rig import RigConfig
    from realitygap.episode.dataset import ensure_writable_dir
    from realitygap.pipeline import plan_contexts, simulate_dataset
    from realitygap.runtime.progress import Stage
    from realitygap.sources.registry import CHECKPOINT_VARIANTS_ENV, get_source

    out = ensure_writable_dir(Path(out_dir))
    check_config(out, config)
    train_root, eval_root, checkpoints = out / "train", out / "eval", out / "checkpoints"
    for folder in (out, checkpoints, out / "generations", out / "training", train_root, eval_root):
        folder.mkdir(exist_ok=True)
        remove_stale_temporaries(folder)  # a killed run's half-written files

    def contexts(seed: int, n: int, sensors: tuple[str, ...] = TRAIN_SENSORS):
        return [c for s in config.scenarios for c in plan_contexts(s, n, seed, None, RigConfig(sensors=sensors))]

    train_contexts = contexts(TRAIN_CONTEXT_SEED + config.seed, config.train_per_scenario)
    eval_contexts = contexts(EVAL_CONTEXT_SEED + config.seed, config.eval_per_scenario, EVAL_SENSORS)
    stage = Stage(progress, "simulate ground truth", len(train_contexts) + len(eval_contexts))
    simulate_dataset(train_contexts, train_root, workers=workers, on_done=stage.advance)
    simulate_dataset(eval_contexts, eval_root, workers=workers, on_done=stage.advance)
    train_ids, eval_ids = [c.episode_id for c in train_contexts], [c.episode_id for c in eval_contexts]

    # The world-model sources of the generations are `worldmodel@<tag>` on checkpoints/<tag>.pt; the variable
    # reaches the prediction workers (put back afterwards), and get_source's per-process cache is cleared around
    # the run (a run in another folder has sources of the same names).
    previous = os.environ.get(CHECKPOINT_VARIANTS_ENV)
    os.environ[CHECKPOINT_VARIANTS_ENV] = str(checkpoints)
    get_source.cache_clear()
    try:
        return _generations(out, config, train_ids, eval_ids, contexts, workers, progress, on_stage)
    finally:
        get_source.cache_clear()
        if previous is None:
            os.environ.pop(CHECKPOINT_VARIANTS_ENV, None)
        else:
            os.environ[CHECKPOINT_VARIANTS_ENV] = previous


def _generations(out: Path, config: CarbonCopyConfig, train_ids: list[str], eval_ids: list[str], contexts, workers: int,
                 progress, on_stage) -> dict:
    """Every generation of every regime, then the held-out measurement, scorecard and curves (run_carboncopy)."""
    from realitygap.carboncopy.curves import write_curves
    from realitygap.measure.pipeline import measure_dataset
    from realitygap.pipeline import predict_dataset, simulate_dataset
    from realitygap.runtime.progress import Stage
    from realitygap.scorecard.score import score_dataset

    train_root, eval_root, checkpoints = out / "train", out / "eval", out / "checkpoints"
    plan = [("replace", 0)] + [(regime, k) for regime in config.regimes for k in range(1, config.generations + 1)]
    bar = Stage(progress, "generations", len(plan))
    records = {}
    for regime, k in plan:
        tag = generation_tag(regime, k)
        if on_stage:
            on_stage(f"generation {k}" + (f" ({regime})" if k else " (shared)"))
        fresh_ids = []
        if k > 0 and fresh_count(config, regime):
            fresh = contexts(FRESH_CONTEXT_SEED + 1000 * config.seed + k, fresh_count(config, regime))
            simulate_dataset(fresh, train_root, workers=workers)
            fresh_ids = [c.episode_id for c in fresh]
        parent = None if k == 0 else checkpoints / f"{generation_tag(regime, k - 1)}.pt"
        records[tag] = run_generation(out, tag, training_pairs(regime, k, train_ids, fresh_ids), parent,
                                      training_seed(config, regime, k), config, train_ids, eval_ids,
                                      predict_train=k < config.generations, workers=workers, progress=progress)
        bar.advance()
    stage = Stage(progress, "predict held-out: shipped checkpoint", len(eval_ids))
    predict_dataset(SHIPPED_SOURCE, eval_root, workers=pool_size(workers, len(eval_ids)), on_done=stage.advance,
                    episode_ids=eval_ids)
    measuring = Stage(progress, "measure held-out predictions")
    measure_dataset(eval_root, workers=workers, on_done=measuring.advance, on_total=measuring.set_total)
    score_dataset(eval_root, seed=config.seed)
    return write_curves(out, config, records)


def run_generation(out: Path, tag: str, pairs: list[tuple[str, str]], parent: Path | None, seed: int,
                   config: CarbonCopyConfig, train_ids: list[str], eval_ids: list[str], predict_train: bool,
                   workers: int, progress=None) -> dict:
    """Train one generation (unless its checkpoint exists), predict the training contexts (its successors' data,
    when `predict_train`) and the held-out contexts; write and return its record (generations/<tag>.json)."""
    from realitygap.pipeline import predict_dataset
    from realitygap.runtime.progress import Stage
    from realitygap.worldmodel.source import SHIPPED_CHECKPOINT
    from realitygap.worldmodel.train import TrainConfig, export_checkpoint, train

    record_path = out / "generations" / f"{tag}.json"
    checkpoint = out / "checkpoints" / f"{tag}.pt"
    ledger_path = out / "training" / f"{tag}.json"
    if not (checkpoint.is_file() and ledger_path.is_file()):
        work = out / "training" / f"{tag}.pt"
        work.unlink(missing_ok=True)  # a generation killed while training starts again from its parent
        settings = TrainConfig(max_steps=config.steps, minutes=config.budget_minutes, seed=seed, threads=1,
                               batch_size=config.batch_size, learning_rate=config.learning_rate,
                               warmup_steps=min(100, config.steps // 5), checkpoint_every=config.steps + 1)
        meta = train(out / "train", work, settings, episodes=pairs, init_from=parent or SHIPPED_CHECKPOINT)
        export_checkpoint(work, checkpoint)
        work.unlink()
        run = meta["runs"][-1]
        ledger = {"steps": meta["steps"], "final_loss": meta["final_loss"], "stopped_by": run["stopped_by"],
                  "wall_s": run["wall_s"], "cpu_s": run["run_cpu_s"], "data": meta["data"], "seed": seed,
                  "initialised_from": meta["initialised_from"]}
        write_bytes_atomic(ledger_path, (json.dumps(json_safe(ledger), indent=1) + "\n").encode())
    source = source_of(tag)
    ids = (train_ids if predict_train else []) + eval_ids
    stage = Stage(progress, f"predict {tag}", len(ids))
    if predict_train:  # finished episodes are skipped: cheap when resumed
        predict_dataset(source, out / "train", workers=pool_size(workers, len(train_ids)), on_done=stage.advance,
                        episode_ids=train_ids)
    predict_dataset(source, out / "eval", workers=pool_size(workers, len(eval_ids)), on_done=stage.advance, episode_ids=eval_ids)
    record = {"tag": tag, "source": source, "checkpoint": checkpoint.name, "training": json.loads(ledger_path.read_text()),
              "trained_on": {"episodes": len(pairs), "per_source": _count(p[0] for p in pairs)},
              "parent": parent.name if parent else f"shipped {SHIPPED_CHECKPOINT.name}"}
    if not record_path.is_file():
        write_bytes_atomic(record_path, (json.dumps(json_safe(record), indent=1) + "\n").encode())
    return record


EPISODES_PER_WORKER = 4
"""A prediction pool starts a process per worker, each loading torch, the model and the prompt encoder (seconds):
fewer than this many episodes per worker run in this process."""


def pool_size(workers: int, episodes: int) -> int:
    """Workers worth starting for `episodes` predictions (`EPISODES_PER_WORKER`)."""
    return max(1, min(workers, episodes // EPISODES_PER_WORKER))


def _count(items) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return dict(sorted(counts.items()))
