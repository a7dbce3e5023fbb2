"""A scored dataset with every negative control, built once per test session (about a minute and a half):
the contexts of `realitygap run` (seed 0) for drop, bounce and shadow, two per scenario, every sensor at
96 px, predicted by the twin and the ten controls, measured and scored."""

from __future__ import annotations

import pytest

from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.sources.twins import TWINS

CONTROL_SCENARIOS = ("drop", "bounce", "shadow")
"""Where every control's defect can show: a fall (gravity, parameters, jumps, permanence, video, intrinsics),
a bounce (energy), a shadow (lighting)."""
RIG = RigConfig(camera=CameraConfig(width=96, height=96))


@pytest.fixture(scope="session")
def controls_dataset(tmp_path_factory):
    from realitygap.measure.pipeline import measure_dataset
    from realitygap.pipeline import plan_contexts, predict_dataset, simulate_dataset
    from realitygap.scorecard.score import score_dataset

    root = tmp_path_factory.mktemp("controls") / "data"
    simulate_dataset([c for name in CONTROL_SCENARIOS for c in plan_contexts(name, 2, 0, None, RIG)], root, workers=2)
    for name in TWINS:
        if name != "sim":
            predict_dataset(name, root, workers=2)
    measure_dataset(root, workers=2)
    return root, score_dataset(root, seed=0)
