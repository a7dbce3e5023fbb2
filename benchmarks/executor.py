"""What Ray costs per task against the local process pool, on one machine.

Measures, with the same worker count for both executors (WORKERS processes / CPUs):
  * tiny tasks: N_TINY calls of math.sqrt, so the wall time is all executor overhead;
  * real tasks: `simulate_dataset` of N_EPISODES short drop episodes (the CLI's `simulate` path);
for the local pool (a new spawn pool per run_tasks call, as every command makes one) and for Ray, both
cold (a local Ray instance started for the call, then stopped: what one `realitygap simulate --executor ray`
pays) and warm (one session, workers already started: what each later stage of `run` pays, and what joining a
running cluster approaches). Serial runs give the work itself. Overhead per task = (wall - serial wall /
WORKERS) / tasks; Ray's own cost per task = (its wall - the local pool's) / tasks. Prints a table and saves
benchmarks/results/executor.json.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from realitygap.core.rig import CameraConfig, RigConfig  # noqa: E402
from realitygap.pipeline import plan_contexts, simulate_dataset  # noqa: E402
from realitygap.runtime.executor import Executor, run_tasks  # noqa: E402

WORKERS = 2
N_TINY = 400
N_EPISODES = 8
RIG = RigConfig(sensors=("rgb", "segmentation", "imu"), camera=CameraConfig(width=128, height=128, fps=30))
"""Short drop episodes (height 0.4 m: about 0.5 s, 16 frames) at 128 x 128."""


def tiny(executor) -> float:
    start = time.perf_counter()
    run_tasks(math.sqrt, [float(i) for i in range(N_TINY)], executor)
    return time.perf_counter() - start


def episodes(executor, folder: Path) -> float:
    contexts = plan_contexts("drop", N_EPISODES, 0, {"height_m": 0.4}, RIG)
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    simulate_dataset(contexts, folder, workers=executor)
    return time.perf_counter() - start


def main() -> int:
    import ray

    folder = Path(tempfile.mkdtemp(prefix="rg-bench-executor-"))
    pool, ray_executor = Executor(workers=WORKERS), Executor(kind="ray", workers=WORKERS)
    walls: dict[str, dict[str, float]] = {"tiny": {}, "episodes": {}}
    try:
        episodes(1, folder / "warm-up")  # imports, GL context and calibration caches of this process
        for name, run in (("tiny", tiny), ("episodes", lambda e: episodes(e, folder / "data"))):
            walls[name]["serial"] = run(1)
            walls[name]["local pool"] = run(pool)
            walls[name]["ray cold"] = run(ray_executor)  # starts and stops a local instance
        start = time.perf_counter()
        with ray_executor.session():
            session_start_s = time.perf_counter() - start
            for name, run in (("tiny", tiny), ("episodes", lambda e: episodes(e, folder / "data"))):
                run(ray_executor)  # the first call of a session starts its workers
                walls[name]["ray warm"] = run(ray_executor)
            start = time.perf_counter()
        session_stop_s = time.perf_counter() - start
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    tasks = {"tiny": N_TINY, "episodes": N_EPISODES}
    rows = []
    for name, by_executor in walls.items():
        ideal, pool_wall = by_executor["serial"] / WORKERS, by_executor["local pool"]
        for executor, wall in by_executor.items():
            parallel = executor != "serial"
            rows.append({"tasks": name, "n": tasks[name], "executor": executor, "wall_s": wall,
                         "per_task_ms": 1000 * wall / tasks[name],
                         "overhead_per_task_ms": 1000 * (wall - ideal) / tasks[name] if parallel else None,
                         "vs_local_pool_per_task_ms": 1000 * (wall - pool_wall) / tasks[name] if parallel else None})
    result = {
        "benchmark": "executor", "workers": WORKERS, "rig": RIG.model_dump(mode="json"),
        "episodes": {"scenario": "drop", "height_m": 0.4, "n": N_EPISODES},
        "rows": rows, "ray_session_start_s": session_start_s, "ray_session_stop_s": session_stop_s,
        "overhead": "(wall - serial wall / workers) / tasks; cold Ray includes starting and stopping the instance",
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
                    "ray": ray.__version__},
    }
    print(f"{'tasks':>8} {'n':>4} {'executor':>11} {'wall s':>8} {'ms/task':>8} {'overhead ms/task':>17} {'vs pool ms/task':>16}")
    for row in rows:
        extra = "" if row["overhead_per_task_ms"] is None else \
            f"{row['overhead_per_task_ms']:17.1f} {row['vs_local_pool_per_task_ms']:16.1f}"
        print(f"{row['tasks']:>8} {row['n']:>4} {row['executor']:>11} {row['wall_s']:8.2f} {row['per_task_ms']:8.1f} {extra}")
    print(f"Ray local instance: start {session_start_s:.1f} s, stop {session_stop_s:.1f} s")
    out = Path(__file__).parent / "results" / "executor.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
