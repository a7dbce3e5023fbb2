"""Training: conditional flow matching (rectified flow) on the sim episodes of a dataset, for a number of
steps and/or a wall-clock budget (whichever ends first).

Objective. A training example is (the first k frames c of a sim episode, the h frames before frame i,
with Gaussian noise of a random level as the model's own imperfect frames will have, the frame time
t_s = i / fps, the prompt embedding p) and the target x1 = frame i - frame 0. With noise x0 ~ N(0, I)
and flow time tau ~ U[0, 1): x_tau = (1 - tau) x0 + tau x1; the network predicts x1 from
(x_tau, c, history, tau, t_s, p); loss = mean w (x1_hat - x1)^2, with w = 1 + `object_weight` on the
pixels that differ from frame 0 (the moving object is a few dozen of 4096 pixels). The flow velocity
used by the sampler is (x1_hat - x_tau) / (1 - tau), the rectified-flow target x1 - x0 written in
x-prediction.

Schedule. AdamW, linear warm-up over the first `warmup_steps` steps, then a cosine decay to 10 % over
this run's budget (the learning rate follows run steps / `max_steps` when it is given, so the schedule
never reads the clock; else elapsed / `minutes`, so a run of M minutes anneals fully);
an exponential moving average of the weights (`ema_decay`) is what the sampler uses. Mixed precision
(bfloat16 autocast) where the CPU supports it natively (AVX-512 BF16 / AMX), else float32.

Determinism. The initial weights are drawn from `seed`, and step n's batch, noise and flow times from
`np.random.SeedSequence([seed, n])`, so a resumed run draws what an uninterrupted run would have drawn.
A run with `max_steps` takes the same steps with the same learning rates every time (on one machine and
thread count: the same weights) unless `minutes` runs out first; a run bounded by the wall clock alone
takes as many steps as the machine's speed allows. Checkpoints (every `checkpoint_every` steps and at
the end) are written atomically and hold everything needed to resume: weights, EMA, optimizer state,
step count and the ledger (steps, the budget that stopped the run, wall and process CPU seconds,
threads, data, loss) of every run.
"""

from __future__ import annotations

import hashlib
import io
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from realitygap.runtime.errors import InputError
from realitygap.worldmodel.model import ModelConfig

CHECKPOINT_FORMAT = "realitygap-worldmodel"
CHECKPOINT_VERSION = 1


class TrainConfig(BaseModel):
    """Optimisation settings of one training run (recorded in the checkpoint)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    minutes: float | None = Field(None, gt=0.0, description="wall-clock budget of this run in minutes")
    max_steps: int | None = Field(None, ge=1, description="training steps of this run")
    seed: int = 0
    threads: int = Field(1, ge=1, le=256)
    batch_size: int = Field(16, ge=1, le=1024)
    learning_rate: float = Field(1e-3, gt=0.0)
    warmup_steps: int = Field(100, ge=0)
    weight_decay: float = Field(0.0, ge=0.0)
    ema_decay: float = Field(0.998, ge=0.0, lt=1.0)
    history_noise: float = Field(0.1, ge=0.0, le=1.0)
    """Largest standard deviation (unit scale, frames in [-1, 1]) of the noise added to history frames."""
    object_weight: float = Field(10.0, ge=0.0)
    """Extra loss weight on pixels that change from frame 0 (what moves), dilated by one pixel."""
    checkpoint_every: int = Field(200, ge=1, description="steps between checkpoints")
    bf16: bool | None = None
    """bfloat16 autocast; None: where the CPU supports it natively."""

    @model_validator(mode="after")
    def _has_a_budget(self) -> TrainConfig:
        if self.minutes is None and self.max_steps is None:
            raise ValueError("a training run needs a budget: minutes and/or max_steps")
        return self


@dataclass(frozen=True)
class Progress:
    """What a training run reports after each step."""

    step: int
    run_steps: int
    elapsed_s: float
    budget_s: float
    """The wall-clock budget (inf without one)."""
    loss: float


def train(data_root: Path, out: Path, config: TrainConfig, model_config: ModelConfig | None = None,
          on_progress: Callable[[Progress], None] | None = None,
          on_data: Callable[[int, int], None] | None = None,
          episodes: Sequence[tuple[str, str]] | None = None, init_from: Path | None = None) -> dict:
    """Train (or resume from `out`, when it exists) on the sim episodes of `data_root` (or its (source,
    episode id) pairs `episodes`); write the checkpoint to `out`. A new run starts from the weights drawn
    from the seed, or with `init_from` from that checkpoint's EMA weights (a fine-tune: new optimizer state,
    the model configuration taken from it). Returns the checkpoint's metadata (everything but the tensors)."""
    import torch

    torch.set_flush_denormal(True)  # denormals in the weights' tails slow CPU math many-fold
    try:
        return _train(data_root, out, config, model_config, on_progress, on_data, episodes, init_from)
    finally:
        torch.set_flush_denormal(False)  # a process-wide CPU flag (FTZ/DAZ): off again for whatever runs next


def _train(data_root: Path, out: Path, config: TrainConfig, model_config: ModelConfig | None,
           on_progress: Callable[[Progress], None] | None, on_data: Callable[[int, int], None] | None,
           episodes: Sequence[tuple[str, str]] | None, init_from: Path | None) -> dict:
    import torch

    started_wall, started_cpu = time.perf_counter(), time.process_time()
    _check_budget(config)
    torch.set_num_threads(config.threads)
    out = Path(out)
    resumed = load_checkpoint(out) if out.exists() else None
    if resumed is not None:
        stored = ModelConfig.model_validate(resumed["model_config"])
        if model_config is not None and model_config != stored:
            raise InputError(f"{out} was trained with another model configuration; pass a new --out to start over")
        if "optimizer" not in resumed:
            raise InputError(f"{out} is an exported (sampling-only) checkpoint and cannot be resumed; pass a new --out")
        model_config = stored
    parent = None
    if resumed is None and init_from is not None:
        parent = load_checkpoint(init_from)
        model_config = ModelConfig.model_validate(parent["model_config"])
    model_config = model_config or ModelConfig()

    from realitygap.prompts.embed import load_encoder
    from realitygap.worldmodel.data import load_training_data, sample_batch, training_episode_ids
    from realitygap.worldmodel.model import FrameDenoiser, count_parameters

    training_episode_ids(data_root)  # one clear error before the slow part
    data = load_training_data(data_root, model_config.size_px, model_config.conditioning_frames,
                              lambda prompts: load_encoder().encode(prompts), on_data, episodes)
    data_load_s = time.perf_counter() - started_wall

    model = _initial_model(model_config, config.seed)
    ema = FrameDenoiser(model_config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    step, history, runs = 0, [], []
    initialised_from = None if resumed is None else resumed.get("initialised_from")
    if parent is not None:
        model.load_state_dict(_float32(parent["ema"]))
        initialised_from = {"checkpoint": Path(init_from).name, "sha256": hashlib.sha256(Path(init_from).read_bytes()).hexdigest(),
                            "steps": int(parent.get("steps", 0))}
    if resumed is not None:
        model.load_state_dict(resumed["weights"])
        ema.load_state_dict(_float32(resumed["ema"]))
        optimizer.load_state_dict(resumed["optimizer"])
        step, history, runs = int(resumed["steps"]), list(resumed["loss_history"]), list(resumed["runs"])
        for group in optimizer.param_groups:
            group["initial_lr"] = config.learning_rate
    else:
        ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    bf16 = _native_bf16() if config.bf16 is None else config.bf16

    budget_s = config.minutes * 60.0 if config.minutes is not None else math.inf
    loop_start = time.perf_counter()
    run_steps, smoothed, stopped_by = 0, math.nan, None
    k = model_config.conditioning_frames

    def save() -> dict:
        meta = {
            "format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_VERSION,
            "model_config": model_config.model_dump(mode="json"), "parameters": count_parameters(model),
            "steps": step, "final_loss": smoothed, "loss_history": history,
            "runs": runs + [_run_record(config, data.summary, run_steps, started_wall, started_cpu, data_load_s, bf16,
                                        stopped_by)],
            "data": data.summary, "seed": config.seed, "initialised_from": initialised_from,
        }
        meta["wall_s"] = sum(r["wall_s"] for r in meta["runs"])
        meta["cpu_s"] = sum(r["process_cpu_s"] for r in meta["runs"])
        meta["threads"] = max(r["threads"] for r in meta["runs"])
        write_checkpoint(out, {**meta, "weights": model.state_dict(), "ema": ema.state_dict(),
                               "optimizer": optimizer.state_dict()})
        return meta

    while True:
        elapsed = time.perf_counter() - loop_start
        stopped_by = _stopped_by(config, run_steps, elapsed)
        if stopped_by is not None:
            break
        lr = _learning_rate(config, step, _budget_fraction(config, run_steps, elapsed))
        for group in optimizer.param_groups:
            group["lr"] = lr
        rng = np.random.default_rng(np.random.SeedSequence([config.seed, step]))
        batch = {name: torch.from_numpy(np.ascontiguousarray(a)) for name, a in
                 sample_batch(data, rng, config.batch_size, k, model_config.history_frames, config.history_noise).items()}
        loss = flow_matching_loss(model, batch, rng, bf16, config.object_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        _update_ema(ema, model, config.ema_decay, step)
        step += 1
        run_steps += 1
        value = float(loss.detach())
        smoothed = value if math.isnan(smoothed) else 0.98 * smoothed + 0.02 * value
        if step % 50 == 0:
            history.append([step, round(smoothed, 6)])
        if on_progress:
            on_progress(Progress(step, run_steps, time.perf_counter() - loop_start, budget_s, smoothed))
        if step % config.checkpoint_every == 0:
            save()
    return save()


def flow_matching_loss(model, batch: dict, rng: np.random.Generator, bf16: bool, object_weight: float = 0.0):
    """Rectified-flow loss in x-prediction: mean w (net(x_tau, ...) - x1)^2 over the batch, with per-pixel
    weight w = 1 + object_weight where the target differs from frame 0 by more than 0.1 (unit scale) in
    any channel, dilated by one pixel (the moving object is a few dozen of 4096 pixels)."""
    import torch
    from torch.nn import functional as F

    x1 = batch["target"]
    generator = torch.Generator().manual_seed(int(rng.integers(2**63)))
    noise = torch.randn(x1.shape, generator=generator)
    tau = torch.from_numpy(rng.random(x1.shape[0]).astype(np.float32))
    x_tau = (1 - tau)[:, None, None, None] * noise + tau[:, None, None, None] * x1
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        x1_hat = model(x_tau, batch["cond"], tau, batch["t_s"], batch["prompt"])
    moving = F.max_pool2d((x1.abs().amax(dim=1, keepdim=True) > 0.1).float(), 3, stride=1, padding=1)
    return ((1.0 + object_weight * moving) * (x1_hat.float() - x1).pow(2)).mean()


def write_checkpoint(path: Path, checkpoint: dict) -> None:
    """torch.save into memory, then an atomic replace of `path`."""
    import torch

    from realitygap.runtime.atomic import write_bytes_atomic

    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    write_bytes_atomic(Path(path), buffer.getvalue())


def load_checkpoint(path: Path) -> dict:
    """A training or exported checkpoint, or InputError naming the problem."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise InputError(f"world-model checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unpickling failure is an unreadable file
        raise InputError(f"{path} is not a readable world-model checkpoint ({type(error).__name__})") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{path} is not a realitygap world-model checkpoint")
    if checkpoint.get("format_version") != CHECKPOINT_VERSION:
        raise InputError(f"{path} has checkpoint format version {checkpoint.get('format_version')}, "
                         f"this realitygap reads {CHECKPOINT_VERSION}")
    return checkpoint


def export_checkpoint(source: Path, out: Path) -> dict:
    """Write the sampling-only part of a training checkpoint to `out`: the EMA weights in float16 and
    the metadata (no optimizer state, no raw weights). Returns the metadata written."""
    import torch

    checkpoint = load_checkpoint(source)
    meta = {k: v for k, v in checkpoint.items() if k not in ("weights", "ema", "optimizer")}
    meta["exported_from_sha256"] = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    ema = {name: t.to(torch.float16) if t.is_floating_point() else t for name, t in checkpoint["ema"].items()}
    write_checkpoint(out, {**meta, "ema": ema})
    return meta


def checkpoint_metadata(checkpoint: dict) -> dict:
    """The checkpoint without its tensors."""
    return {k: v for k, v in checkpoint.items() if k not in ("weights", "ema", "optimizer")}


def _check_budget(config: TrainConfig) -> None:
    """One clear error for a budget that allows no training (a config built without validation)."""
    if config.minutes is None and config.max_steps is None:
        raise InputError("the training run needs a budget: minutes and/or max_steps")
    if config.minutes is not None and not config.minutes > 0:
        raise InputError(f"the training budget must be positive, got {config.minutes:g} minutes")
    if config.max_steps is not None and not config.max_steps >= 1:
        raise InputError(f"the training budget must be at least one step, got max_steps {config.max_steps}")


def _stopped_by(config: TrainConfig, run_steps: int, elapsed_s: float) -> str | None:
    """'max_steps' or 'minutes' once that budget of the run is spent, else None (steps are checked first)."""
    if config.max_steps is not None and run_steps >= config.max_steps:
        return "max_steps"
    if config.minutes is not None and elapsed_s >= config.minutes * 60.0:
        return "minutes"
    return None


def _budget_fraction(config: TrainConfig, run_steps: int, elapsed_s: float) -> float:
    """How far the run is through its budget, for the schedule: steps / max_steps when given, else elapsed / minutes."""
    if config.max_steps is not None:
        return run_steps / config.max_steps
    return elapsed_s / (config.minutes * 60.0)


def _initial_model(model_config: ModelConfig, seed: int):
    """A new FrameDenoiser whose initial weights are drawn from `seed` (torch's global generator is left as it was)."""
    import torch

    from realitygap.worldmodel.model import FrameDenoiser

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return FrameDenoiser(model_config)


def _native_bf16() -> bool:
    """Whether this CPU runs bfloat16 convolutions natively (oneDNN: AVX-512 BF16 or AMX)."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _float32(state: dict) -> dict:
    return {name: t.float() if t.is_floating_point() else t for name, t in state.items()}


def _learning_rate(config: TrainConfig, step: int, fraction: float) -> float:
    warm = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps else 1.0
    cosine = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(max(fraction, 0.0), 1.0)))
    return config.learning_rate * warm * cosine


def _update_ema(ema, model, decay: float, step: int) -> None:
    import torch

    rate = min(decay, (1 + step) / (10 + step))
    with torch.no_grad():
        for target, source in zip(ema.parameters(), model.parameters()):
            target.lerp_(source, 1 - rate)


def _run_record(config: TrainConfig, data: dict, run_steps: int, started_wall: float, started_cpu: float,
                data_load_s: float, bf16: bool, stopped_by: str | None) -> dict:
    """The ledger of one run; `stopped_by` is the budget that ended it ('max_steps', 'minutes'; None while running)."""
    import torch

    from realitygap import __version__

    return {
        "train_config": config.model_dump(mode="json"), "steps": run_steps, "stopped_by": stopped_by,
        "threads": config.threads,
        "wall_s": round(time.perf_counter() - started_wall, 3),
        "process_cpu_s": round(time.process_time(), 3),
        "run_cpu_s": round(time.process_time() - started_cpu, 3),
        "data_load_wall_s": round(data_load_s, 3), "bf16": bool(bf16), "data": data,
        "torch": str(torch.__version__), "realitygap": __version__,
    }
