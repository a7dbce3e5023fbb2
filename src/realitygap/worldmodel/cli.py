"""`realitygap worldmodel ...`: train the built-in world model, inspect a checkpoint.

Importing this module does not import torch (the main CLI adds it as a sub-app).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from realitygap.runtime.errors import InputError

worldmodel_app = typer.Typer(no_args_is_help=True, help="The built-in learned world model: train it on sim episodes, inspect a checkpoint.")
out = Console()
err = Console(stderr=True)
MAX_MINUTES = 1e6
"""Longest training budget accepted (about two years; inf or 1e308 minutes would overflow the progress bar's seconds)."""


@worldmodel_app.command()
def train(
    data: Path = typer.Option(..., "--data", help="dataset whose sim episodes (with rgb) are the training data"),
    minutes: Optional[float] = typer.Option(None, "--minutes", help="wall-clock budget of this run in minutes"),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="training steps of this run (reproducible: "
                                                                     "the same steps give the same model)"),
    out_path: Path = typer.Option(..., "--out", help="checkpoint file (resumed from when it exists)"),
    seed: int = typer.Option(0, "--seed", min=0, max=2**64 - 1, help="training seed (batches, noise)"),
    threads: int = typer.Option(1, "--threads", help="torch CPU threads"),
    batch_size: int = typer.Option(16, "--batch-size", help="frames per training step"),
    export: Optional[Path] = typer.Option(None, "--export", help="also write a sampling-only copy (EMA weights as float16) here"),
) -> None:
    """Train the world model on the sim episodes of a dataset for --max-steps steps and/or --minutes of wall
    clock, whichever ends first; checkpoints as it goes and resumes from --out."""
    from realitygap.runtime.progress import progress_bar

    if minutes is None and max_steps is None:
        raise InputError("give a training budget: --max-steps and/or --minutes")
    if minutes is not None and not 0 < minutes <= MAX_MINUTES:
        raise InputError(f"--minutes must be positive and at most {MAX_MINUTES:g}, got {minutes:g}")
    if max_steps is not None and max_steps < 1:
        raise InputError(f"--max-steps must be at least 1, got {max_steps}")
    if threads < 1:
        raise InputError(f"--threads must be at least 1, got {threads}")
    if batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, got {batch_size}")
    from realitygap.worldmodel.train import TrainConfig, export_checkpoint
    from realitygap.worldmodel.train import train as run_training

    config = TrainConfig(minutes=minutes, max_steps=max_steps, seed=seed, threads=threads, batch_size=batch_size)
    in_seconds = config.minutes is not None  # the bar counts seconds of the time budget, else steps
    bar_total = round(config.minutes * 60) if in_seconds else config.max_steps
    with progress_bar(err) as bar:
        loading = bar.add_task("read training episodes", total=None)
        task = bar.add_task("train worldmodel", total=bar_total, visible=False)

        def on_data(done: int, total: int) -> None:
            bar.update(loading, completed=done, total=total)

        def on_progress(p) -> None:
            done = round(p.elapsed_s) if in_seconds else p.run_steps
            bar.update(task, visible=True, completed=min(done, bar_total),
                       description=f"train worldmodel ({'s' if in_seconds else 'steps'}) step {p.step} loss {p.loss:.4f}")

        meta = run_training(data, out_path, config, on_progress=on_progress, on_data=on_data)
    run = meta["runs"][-1]
    out.print(f"checkpoint {out_path}: {meta['steps']} steps ({run['steps']} in this run, stopped by {run['stopped_by']}), "
              f"loss {meta['final_loss']:.4f}, "
              f"{meta['parameters']:,} parameters; this run {run['wall_s']:.0f} s wall, {run['process_cpu_s']:.0f} s process "
              f"CPU on {run['threads']} thread(s); data {meta['data']['episodes']} episodes, {meta['data']['frames']} frames")
    if export is not None:
        export_checkpoint(out_path, export)
        out.print(f"exported sampling-only checkpoint {export} ({export.stat().st_size / 1e6:.1f} MB)")


@worldmodel_app.command()
def info(checkpoint: Path = typer.Argument(..., help="checkpoint file")) -> None:
    """Print a checkpoint's training ledger: model, data, steps, time, loss."""
    import json

    from realitygap.worldmodel.train import checkpoint_metadata, load_checkpoint

    meta = checkpoint_metadata(load_checkpoint(checkpoint))
    meta.pop("loss_history", None)
    out.print_json(json.dumps(meta, default=str))
