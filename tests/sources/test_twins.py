"""Negative controls are caught by the measurement layer with margin: the measured defect differs
from sim's by more than sim's error floor on at least 90 % of episodes (issue 6)."""

import numpy as np
import pyarrow.parquet as pq
import pytest

from realitygap.measure.pipeline import measure_dataset
from realitygap.pipeline import plan_contexts, predict_dataset, simulate_dataset
from realitygap.sim.rig import CameraConfig, RigConfig
from realitygap.sources.registry import get_source
from realitygap.sources.twins import TWINS as SOURCES

N_EPISODES = 10
RIG = RigConfig(sensors=("rgb", "segmentation"), camera=CameraConfig(width=128, height=128))


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    root = tmp_path_factory.mktemp("controls")
    simulate_dataset(plan_contexts("drop", N_EPISODES, 11, {}, RIG), root)
    for name in SOURCES:
        if name != "sim":
            predict_dataset(name, root)
    rows = pq.read_table(measure_dataset(root)).to_pylist()
    table: dict[str, dict[str, dict[str, dict]]] = {}
    for row in rows:
        table.setdefault(row["source"], {}).setdefault(row["episode_id"], {})[row["quantity"]] = row
    return table


def _caught_fraction(measured, source, statistic, floor) -> float:
    hits = [statistic(measured[source][eid], measured["sim"][eid]) > floor for eid in measured["sim"]]
    return float(np.mean(hits))


def test_every_source_predicts_every_context(measured):
    assert set(measured) == set(SOURCES)
    assert all(len(episodes) == N_EPISODES for episodes in measured.values())


def test_low_gravity_is_caught(measured):
    floor = max(abs(ep["g_m_s2"]["error"]) for ep in measured["sim"].values())
    assert _caught_fraction(measured, "low_gravity", lambda c, s: abs(c["g_m_s2"]["measured"] - s["g_m_s2"]["measured"]),
                            floor) >= 0.9


def test_imprecise_parameters_are_caught(measured):
    floor = max(abs(ep["impact_time_s"]["error"]) for ep in measured["sim"].values())
    statistic = lambda c, s: abs(c["impact_time_s"]["measured"] - s["impact_time_s"]["measured"])  # noqa: E731
    assert _caught_fraction(measured, "plausible_imprecise", statistic, floor) >= 0.9


def test_teleport_is_caught(measured):
    floor = max(ep["largest_jump_m"]["measured"] for ep in measured["sim"].values())
    assert _caught_fraction(measured, "teleport", lambda c, s: c["largest_jump_m"]["measured"], floor) >= 0.9


def test_vanishing_object_is_caught(measured):
    assert all(ep["vanishing_events"]["measured"] == 0 for ep in measured["sim"].values())
    assert _caught_fraction(measured, "vanishing_object", lambda c, s: c["vanishing_events"]["measured"], 0.5) >= 0.9


def test_unknown_source_is_a_clear_error():
    from realitygap.runtime.errors import InputError

    with pytest.raises(InputError, match="unknown source 'dream'"):
        get_source("dream")
