"""`realitygap carboncopy`: the carbon-copy experiment on the built-in world model (registered by the main CLI)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)


def carboncopy_command(
    generations: Optional[int] = typer.Option(None, "--generations", help="generations after generation 0 (default 5; quick 2)"),
    regime: str = typer.Option("replace", "--regime", help="replace, accumulate or fresh:F (F: share of fresh ground truth); "
                               "several comma-separated"),
    steps: Optional[int] = typer.Option(None, "--steps", help="fine-tuning steps per generation (default 200; quick 10)"),
    learning_rate: Optional[float] = typer.Option(None, "--learning-rate", help="peak fine-tuning learning rate (default 1e-4)"),
    budget_minutes: Optional[float] = typer.Option(None, "--budget-minutes", help="wall-clock cap per generation's training "
                                                   "(whichever of --steps and this ends first; a capped run is not reproducible)"),
    quick: bool = typer.Option(False, "--quick", help="one scenario, 2 training and 1 held-out context, 10 steps, 2 generations"),
    out_dir: Path = typer.Option(Path("realitygap-carboncopy"), "--out", help="folder of the run (resumed when it holds one)"),
    seed: int = typer.Option(0, "--seed", min=0, help="contexts, training batches and bootstrap"),
    workers: int = typer.Option(max(1, min(2, os.cpu_count() or 1)), "--workers", help="local worker processes"),
) -> None:
    """Train the world model on its own predictions, generation after generation (replace, accumulate or fresh:F), and
    score every generation on fixed held-out contexts; with the known-answer Gaussian case beside it."""
    from realitygap.carboncopy.experiment import CarbonCopyConfig, quick_config, run_carboncopy
    from realitygap.carboncopy.gaussian import gaussian_curves
    from realitygap.report.carboncopy import write_carboncopy_report
    from realitygap.runtime.errors import InputError
    from realitygap.runtime.progress import progress_bar

    if workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    fields = {"regimes": tuple(r.strip() for r in regime.split(",") if r.strip()), "seed": seed,
              **({"generations": generations} if generations is not None else {}),
              **({"steps": steps} if steps is not None else {}),
              **({"learning_rate": learning_rate} if learning_rate is not None else {}),
              **({"budget_minutes": budget_minutes} if budget_minutes is not None else {})}
    config = quick_config(**fields) if quick else CarbonCopyConfig(**fields)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir} is an existing file: give a folder")
    with progress_bar(err) as bar:
        document = run_carboncopy(out_dir, config, workers=workers, progress=bar)
    page = write_carboncopy_report(document, gaussian_curves(config.regimes, seed=seed), out_dir)
    table = Table("metric", "regime", *[f"g{k}" for k in range(config.generations + 1)], "shipped",
                  title="carbon copy: held-out scorecard per generation")
    for c in document["curves"]:
        cells = dict(zip(c["generation"], c["value"]))
        shipped = c["shipped"]["value"] if c["shipped"] else None
        table.add_row(c["label"], c["regime"], *[_cell(cells.get(k)) for k in range(config.generations + 1)], _cell(shipped))
    out.print(table)
    out.print(f"report: {(out_dir / 'carboncopy.html').resolve() if page else ''}")


def _cell(value) -> str:
    import math

    return "-" if value is None or not math.isfinite(value) else f"{value:.3g}"
