"""The `realitygap export` command: parse, call `export_dataset` with a progress bar over episodes, print."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console


def export_command(
    dataset: Path = typer.Argument(..., help="dataset folder (made by `realitygap simulate` / `predict`)"),
    to: str = typer.Option(..., "--to", help="format: mcap (Foxglove), rerun (.rrd) or lerobot (LeRobot v2.1 dataset)"),
    out: Path = typer.Option(..., "--out", help="new (or empty) folder for the export; written atomically"),
    source: Optional[str] = typer.Option(None, "--source", help="only the episodes of this source (default: every source)"),
    episodes: Optional[str] = typer.Option(None, "--episodes", help="only these episode ids, comma-separated"),
) -> None:
    """Export a dataset's episodes to MCAP (Foxglove schemas, one file per episode), Rerun recordings (one .rrd per
    episode) or a LeRobot dataset (one for all), on each episode's own clock (t = 0 at its start)."""
    from realitygap.episode.export.run import parse_episode_ids, plan_export, run_export
    from realitygap.runtime.progress import Stage, progress_bar

    plan = plan_export(dataset, to, out, source=source, episodes=parse_episode_ids(episodes))  # bad input: before any bar
    with progress_bar(Console(stderr=True)) as bar:
        result = run_export(plan, on_done=Stage(bar, f"export {to}", total=len(plan.rows)).advance)
    typer.echo(f"exported {result.episodes} episode{'s' if result.episodes != 1 else ''} as {to} into {result.out}")
