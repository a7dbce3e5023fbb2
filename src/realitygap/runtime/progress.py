"""Progress bars for long work (rich), quiet when stderr is not a terminal unless asked."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def progress_bar(console: Console | None = None) -> Progress:
    """A progress bar with count, elapsed and remaining time; nothing when the console is not a terminal (a
    redirected stderr would get the bar's last state as a line of its own, before any error line)."""
    console = console or Console(stderr=True)
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


class Stage:
    """One task of a progress bar, or nothing when there is no bar: `advance` and `set_total` fit the
    `on_done` and `on_total` callbacks of the jobs (runtime.executor.run_tasks)."""

    def __init__(self, bar: Progress | None, label: str, total: int | None = None):
        self.bar = bar
        self.task = bar.add_task(label, total=total) if bar is not None else None

    def advance(self, *_: Any) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)

    def set_total(self, total: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, total=total)
