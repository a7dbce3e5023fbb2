"""Acceptance of the shipped checkpoint: trained for at most 20 CPU-minutes on the default sim data
(seed 1000), it predicts held-out contexts (seed 0, as `realitygap run`; default rig 256 x 256 at 30 fps)
whose measured object accelerates downward: the law fit's g is positive. Its value is not required to be
right (see checkpoints/recipe.json for what it measured).
"""

import json
import math
from hashlib import sha256

import pyarrow.parquet as pq
import pytest

from realitygap.core.rig import RigConfig
from realitygap.measure.pipeline import measure_dataset
from realitygap.pipeline import plan_contexts, predict_dataset, simulate_dataset
from realitygap.sources.registry import get_source
from realitygap.worldmodel.source import CHECKPOINT_ENV, SHIPPED_CHECKPOINT
from realitygap.worldmodel.train import load_checkpoint

RECIPE = SHIPPED_CHECKPOINT.parent / "recipe.json"
CASES = ("drop", "projectile")
"""Scenarios with a free-fall arc whose g is fitted; two held-out contexts each."""


@pytest.fixture(scope="module")
def measurements(tmp_path_factory):
    root = tmp_path_factory.mktemp("wm_shipped")
    rig = RigConfig(sensors=("rgb", "segmentation"))
    simulate_dataset([c for name in CASES for c in plan_contexts(name, 2, 0, None, rig)], root)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(CHECKPOINT_ENV, raising=False)
        get_source.cache_clear()
        try:
            predict_dataset("worldmodel", root)
        finally:
            get_source.cache_clear()
    return pq.read_table(measure_dataset(root)).to_pylist()


def test_shipped_checkpoint_is_small_and_recorded():
    assert SHIPPED_CHECKPOINT.is_file() and RECIPE.is_file()
    assert SHIPPED_CHECKPOINT.stat().st_size + RECIPE.stat().st_size < 8e6
    recipe = json.loads(RECIPE.read_text())
    assert recipe["checkpoint_sha256"] == sha256(SHIPPED_CHECKPOINT.read_bytes()).hexdigest()
    checkpoint = load_checkpoint(SHIPPED_CHECKPOINT)
    assert "optimizer" not in checkpoint
    assert checkpoint["cpu_s"] <= 20 * 60, "trained with at most 20 CPU-minutes"
    assert checkpoint["steps"] == recipe["training"]["steps"]
    assert set(checkpoint["data"]["episodes_per_scenario"]) >= {"drop", "bounce", "projectile", "pendulum", "slide"}


@pytest.mark.parametrize("scenario", CASES)
def test_held_out_objects_accelerate_downward(measurements, scenario):
    g = {r["episode_id"]: r["measured"] for r in measurements
         if r["source"] == "worldmodel" and r["scenario"] == scenario and r["quantity"] == "g_m_s2"}
    truth = {r["episode_id"]: r["measured"] for r in measurements
             if r["source"] == "sim" and r["scenario"] == scenario and r["quantity"] == "g_m_s2"}
    assert len(g) == 2 and set(g) == set(truth)
    for episode_id, value in g.items():
        assert math.isfinite(value) and value > 0, f"{scenario} {episode_id}: measured g {value} m/s^2"
        assert abs(truth[episode_id] - 9.81) < 0.2  # the ground truth it is compared with is itself right
