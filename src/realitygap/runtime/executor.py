"""Run one pure function over many tasks: serially or on a local process pool.

Results come back in task order whatever the completion order, so a run's output does not depend
on scheduling. Workers use the 'spawn' start method: EGL contexts must not cross a fork.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_tasks(
    function: Callable[[T], R],
    tasks: Sequence[T],
    workers: int = 1,
    on_done: Callable[[int, R], None] | None = None,
) -> list[R]:
    """Apply `function` to every task; call `on_done(index, result)` as each finishes.

    `workers=1` runs in this process (easiest to debug); more uses a spawn-based process pool.
    An exception in a task is re-raised here after the pool is shut down.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    results: list[R | None] = [None] * len(tasks)
    if workers == 1 or len(tasks) <= 1:
        for index, task in enumerate(tasks):
            results[index] = function(task)
            if on_done:
                on_done(index, results[index])  # type: ignore[arg-type]
        return results  # type: ignore[return-value]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        futures: dict[Future, int] = {pool.submit(function, task): i for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            if on_done:
                on_done(index, results[index])  # type: ignore[arg-type]
    return results  # type: ignore[return-value]

