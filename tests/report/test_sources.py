"""Source-vs-twin comparison rows: a copy of the twin differs nowhere, a shifted one everywhere."""

import math

import pytest

from realitygap.report.sources import compare_sources


def _rows(source, values, quantity="g_m_s2"):
    return [{"source": source, "scenario": "drop", "quantity": quantity, "episode_id": f"e{i}", "measured": v}
            for i, v in enumerate(values)]


def test_copy_of_the_twin_differs_nowhere_and_a_shift_everywhere():
    twin = [9.80, 9.79, 9.81, 9.82]
    rows = _rows("sim", twin) + _rows("copy", twin) + _rows("shifted", [v - 0.5 for v in twin])
    out = {r["source"]: r for r in compare_sources(rows, {("drop", "g_m_s2"): 0.05})}
    assert set(out) == {"copy", "shifted"}
    assert out["copy"]["differs_fraction"] == 0.0 and out["copy"]["median_abs_difference"] == 0.0
    assert out["shifted"]["differs_fraction"] == 1.0
    assert out["shifted"]["median_abs_difference"] == pytest.approx(0.5)
    assert out["shifted"]["sim_median"] == pytest.approx(9.805)


def test_a_value_missing_on_one_side_is_a_difference_and_physics_iq_parts_are_skipped():
    rows = (_rows("sim", [9.8, 9.8]) + _rows("gen", [math.nan, 9.8])
            + _rows("sim", [1.0, 1.0], "mse") + _rows("gen", [0.0, 0.0], "mse"))
    out = compare_sources(rows, {("drop", "g_m_s2"): 0.05})
    assert [r["quantity"] for r in out] == ["g_m_s2"]
    assert out[0]["differs_fraction"] == 0.5
