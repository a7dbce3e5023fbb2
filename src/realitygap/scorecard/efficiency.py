"""Predictive efficiency: the cost ledger of each source, from its episodes' records.

Model setup: training CPU and wall seconds and the training data used (as the source recorded them in
episode.json's cost.setup; twins need none). Context setup: the specification's size (bytes of the
context's JSON), the prompt's characters and words, and whether the source is driven by the prompt,
by first frames or by the parameters. Prediction: seconds per episode and per frame (timing.json,
wall clock of the worker, so it depends on the machine and its load), and the work counted per
episode (frames, physics steps, rays, network evaluations). Values are medians over episodes.
"""

from __future__ import annotations

import math

import numpy as np

from realitygap.scorecard.data import ScoreInputs, finite
from realitygap.scorecard.results import ALL_SCENARIOS, result

AXIS = "efficiency"


def efficiency_results(inputs: ScoreInputs) -> list[dict]:
    """Results rows of the efficiency axis (one ledger per source, over all its episodes)."""
    rows = []
    for source in inputs.sources:
        records = list(inputs.episodes[source].values())
        n = len(records)

        def add(metric: str, values, unit: str, note: str = "", better: bool | None = False, source: str = source) -> None:
            values = np.array([v for v in values if finite(v)], float)
            if values.size:
                rows.append(result(source, ALL_SCENARIOS, AXIS, metric, "median", float(np.median(values)), n=int(values.size),
                                   unit=unit, higher_is_better=better, note=note))

        per_frame = [r.timing.get("per_frame_s") for r in records]
        wall = [r.timing.get("simulate_wall_s", f * r.meta.n_frames if finite(f) else math.nan) for r, f in zip(records, per_frame)]
        add("prediction_per_episode", wall, "s", "wall clock of the worker (timing.json)")
        add("prediction_per_frame", [v * 1000 if finite(v) else math.nan for v in per_frame], "ms")
        prediction = [r.meta.cost.prediction for r in records]
        for key in sorted({k for p in prediction for k, v in p.items() if isinstance(v, (int, float))}):
            add(f"work:{key}", [p.get(key) for p in prediction], "count", better=None)
        setup = [getattr(r.meta.cost, "setup", None) or {} for r in records]
        add("setup_training_cpu", [s.get("training_cpu_s", 0.0) for s in setup], "s",
            "CPU seconds spent training the model (0: no model)")
        add("setup_training_wall", [s.get("training_wall_s", 0.0) for s in setup], "s", "wall seconds spent training the model")
        add("setup_training_episodes", [(s.get("training_data") or {}).get("episodes", 0) for s in setup], "episodes",
            "episodes of training data", better=None)
        context = [r.meta.cost.context_setup or {} for r in records]
        add("context_spec_bytes", [c.get("spec_bytes") for c in context], "bytes", "size of the context's specification")
        add("context_prompt_chars", [c.get("prompt_chars") for c in context], "chars", "length of the prompt")
        rows.append(result(source, ALL_SCENARIOS, AXIS, "driven_by", "value", math.nan, n=n, note=_driven_by(records)))
    return rows


def _driven_by(records) -> str:
    """What a source's episodes were predicted from: 'parameters' (a twin simulates them), or the prompt and
    first frames a learned source was conditioned on."""
    if not records:
        return "nothing"
    meta = records[0].meta
    if meta.physics is not None:
        return "parameters (simulated from the context)"
    frames = meta.cost.prediction.get("conditioning_frames")
    parts = ["prompt"] if "worldmodel" in (meta.model_extra or {}) else []
    if frames:
        parts.append(f"first {frames} ground-truth frames")
    return " + ".join(parts) or "imported video"
