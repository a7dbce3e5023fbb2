"""Training and inference throughput of the downstream models, per task, on one core.

Inputs have the shapes the tasks build (`realitygap.downstream.tasks`): the parameter task's track vector
(one example per episode), the localisation task's two stacked 32 x 32 RGB frames, the multi-sensor task's
RGB + depth frame; values are seeded noise (throughput does not depend on them). Each task trains with
the default settings of `DownstreamConfig` (steps, batch size, width) through `downstream.models.train`,
timed from the call to its return; inference is timed over 4,096 examples.

Prints a table and saves benchmarks/results/downstream.json. No target: the numbers are the ledger
(the issue asks for the throughput; the default `realitygap downstream` run's wall time is in the README).
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from realitygap.downstream.examples import FRAME_PX, TRACK_GRID_S
from realitygap.downstream.models import train
from realitygap.downstream.plan import DownstreamConfig
from realitygap.downstream.tasks import TASKS

SHAPES = {"parameters": ((len(TRACK_GRID_S) * 4,), 2), "localisation": ((6, FRAME_PX, FRAME_PX), 6),
          "depth_position": ((4, FRAME_PX, FRAME_PX), 3)}
"""Per task: the shape of one input and the number of targets."""


def main() -> int:
    import torch

    torch.set_num_threads(1)
    config = DownstreamConfig(sources=("sim",))
    rng = np.random.default_rng(0)
    rows = {}
    for name, (shape, n_out) in SHAPES.items():
        settings = config.train[name]
        n_train = 64 if TASKS[name].model == "mlp" else 2048
        x = rng.standard_normal((n_train, *shape)).astype(np.float32)
        y = rng.standard_normal((n_train, n_out)).astype(np.float32)
        train(x[:8], y[:8], TASKS[name].model, settings.model_copy(update={"steps": 2}), seed=0)  # warm-up (imports)
        started = time.perf_counter()
        fitted = train(x, y, TASKS[name].model, settings, seed=0)
        train_s = time.perf_counter() - started
        probe = rng.standard_normal((4096, *shape)).astype(np.float32)
        started = time.perf_counter()
        fitted.predict(probe)
        infer_s = time.perf_counter() - started
        rows[name] = {"model": TASKS[name].model, "steps": settings.steps, "batch_size": settings.batch_size,
                      "train_s": round(train_s, 3), "train_samples_per_s": round(settings.steps * settings.batch_size / train_s, 1),
                      "inference_samples_per_s": round(len(probe) / infer_s, 1)}
    print(f"{'task':16} {'model':5} {'steps':>6} {'batch':>6} {'train s':>8} {'train samples/s':>16} {'infer samples/s':>16}")
    for name, r in rows.items():
        print(f"{name:16} {r['model']:5} {r['steps']:6d} {r['batch_size']:6d} {r['train_s']:8.2f} "
              f"{r['train_samples_per_s']:16.0f} {r['inference_samples_per_s']:16.0f}")
    out = Path(__file__).parent / "results" / "downstream.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": platform.processor() or platform.machine(), "python": sys.version.split()[0],
                               "torch": torch.__version__, "threads": 1, "tasks": rows}, indent=1) + "\n")
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
