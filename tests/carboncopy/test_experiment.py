"""The carbon-copy experiment's plan and curves (carboncopy/experiment.py, carboncopy/curves.py), without training."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from realitygap.carboncopy.curves import generation_zero_check, physics_rows, plotted_curves
from realitygap.carboncopy.experiment import (
    CarbonCopyConfig,
    check_config,
    fresh_count,
    generation_tag,
    quick_config,
    regime_slug,
    source_of,
    training_pairs,
    training_seed,
)
from realitygap.runtime.errors import InputError

TRAIN, FRESH = ["a", "b", "c"], ["f1"]


def test_generation_zero_trains_on_ground_truth_whatever_the_regime():
    for regime in ("replace", "accumulate", "fresh:0.5"):
        assert training_pairs(regime, 0, TRAIN, FRESH) == [("sim", e) for e in TRAIN]
        assert generation_tag(regime, 0) == "cc-g0"


def test_replace_trains_on_the_previous_generation_only():
    assert training_pairs("replace", 1, TRAIN, []) == [("worldmodel@cc-g0", e) for e in TRAIN]
    assert training_pairs("replace", 3, TRAIN, []) == [("worldmodel@cc-replace-g2", e) for e in TRAIN]


def test_accumulate_keeps_the_ground_truth_and_every_earlier_generation():
    pairs = training_pairs("accumulate", 3, TRAIN, [])
    sources = [s for s, _ in pairs]
    assert sources.count("sim") == 3
    for tag in ("cc-g0", "cc-accumulate-g1", "cc-accumulate-g2"):
        assert sources.count(source_of(tag)) == 3
    assert len(pairs) == 12


def test_fresh_adds_new_ground_truth_to_the_previous_generation():
    pairs = training_pairs("fresh:0.25", 2, TRAIN, FRESH)
    assert pairs == [("worldmodel@cc-fresh0p25-g1", e) for e in TRAIN] + [("sim", "f1")]
    config = CarbonCopyConfig(train_per_scenario=4, regimes=("fresh:0.25", "fresh:0.3"))
    assert fresh_count(config, "fresh:0.25") == 1 and fresh_count(config, "fresh:0.3") == 2
    assert fresh_count(config, "replace") == 0


def test_tags_and_seeds_are_distinct_per_regime_and_generation():
    config = CarbonCopyConfig(regimes=("replace", "accumulate", "fresh:0.1"), generations=3)
    tags = {generation_tag(r, k) for r in config.regimes for k in range(4)}
    assert len(tags) == 1 + 3 * 3
    seeds = {training_seed(config, r, k) for r in config.regimes for k in range(1, 4)}
    assert len(seeds) == 9 and training_seed(config, "replace", 0) == training_seed(config, "accumulate", 0)
    assert regime_slug("fresh:0.1") == "fresh0p1"


@pytest.mark.parametrize("fields", [{"regimes": ("copy",)}, {"regimes": ("fresh:-1",)}, {"regimes": ()},
                                    {"scenarios": ("nope",)}, {"generations": 0}, {"steps": 0}, {"budget_minutes": -1.0}])
def test_bad_settings_are_refused(fields):
    with pytest.raises(ValidationError):
        CarbonCopyConfig(**fields)


def test_a_run_with_other_settings_is_not_resumed(tmp_path):
    check_config(tmp_path, quick_config())
    check_config(tmp_path, quick_config(generations=4, regimes=("replace", "accumulate")))  # only adds work
    with pytest.raises(InputError, match="steps"):
        check_config(tmp_path, quick_config(steps=11))


def _measurement(source, episode, scenario, quantity, measured, truth):
    return {"source": source, "episode_id": episode, "scenario": scenario, "quantity": quantity, "measured": measured,
            "ground_truth": truth}


def test_physics_rows_are_relative_errors_against_the_ground_truth():
    rows = [_measurement("m", f"e{i}", "drop", "g_m_s2", 9.81 * (1 + d), 9.81) for i, d in enumerate((0.1, -0.2, 0.3))]
    rows += [_measurement("m", "p", "pendulum", "period_s", 2.2, 2.0), _measurement("m", "x", "drop", "impact_time_s", 1.0, 0.5)]
    rows += [_measurement("m", "e0", "drop", "vanishing_events", 1.0, 0.0), _measurement("m", "e0", "drop", "spontaneous_events", 2.0, 0.0),
             _measurement("m", "e1", "drop", "vanishing_events", 0.0, 0.0), _measurement("m", "e1", "drop", "spontaneous_events", 0.0, 0.0)]
    out = {(r["metric"], r["statistic"]): r for r in physics_rows(rows, seed=0)}
    g = out[("rel_error:g_m_s2", "median")]
    assert g["value"] == pytest.approx(0.2) and g["n"] == 3 and g["ci_low"] <= 0.2 <= g["ci_high"]
    assert out[("rel_error:period_s", "median")]["value"] == pytest.approx(0.1)
    assert math.isnan(out[("rel_error:period_s", "median")]["ci_low"])  # one episode: no interval
    assert out[("permanence_violations", "mean")]["value"] == pytest.approx(1.5)
    assert ("rel_error:impact_time_s", "median") not in out


def _row(regime, generation, value, low=math.nan, high=math.nan):
    return {"regime": regime, "generation": generation, "scenario": "all", "axis": "3i", "metric": "indistinguishability",
            "statistic": "value", "value": value, "ci_low": low, "ci_high": high}


def test_generation_zero_is_compared_with_the_shipped_checkpoint_by_interval():
    rows = [_row("replace", -1, 0.50, 0.40, 0.60), _row("replace", 0, 0.55, 0.45, 0.65), _row("replace", 1, 0.2, 0.1, 0.3)]
    curves = plotted_curves(rows, ("replace",))
    assert curves[0]["generation"] == [0, 1] and curves[0]["shipped"]["value"] == 0.5
    assert generation_zero_check(curves)[0]["within"]
    far = plotted_curves([_row("replace", -1, 0.9, 0.85, 0.95), _row("replace", 0, 0.5, 0.45, 0.55)], ("replace",))
    assert generation_zero_check(far)[0]["within"] is False
    unbounded = plotted_curves([_row("replace", -1, 0.9), _row("replace", 0, 0.5)], ("replace",))
    assert generation_zero_check(unbounded)[0]["within"] is None  # no interval: not compared


def test_curve_values_keep_their_order_by_generation():
    rows = [_row("accumulate", k, v) for k, v in ((2, 0.3), (0, 0.9), (1, 0.6))]
    (curve,) = plotted_curves(rows, ("accumulate",))
    assert curve["generation"] == [0, 1, 2] and np.allclose(curve["value"], [0.9, 0.6, 0.3])


def test_the_report_shows_both_plots_and_the_generation_zero_table(tmp_path):
    from realitygap.carboncopy.gaussian import gaussian_curves
    from realitygap.report.carboncopy import write_carboncopy_report

    curves = plotted_curves([_row("replace", -1, 0.5, 0.4, 0.6), _row("replace", 0, 0.55, 0.45, 0.65), _row("replace", 1, 0.2)],
                            ("replace",))
    document = {"config": quick_config(generations=1).model_dump(mode="json"), "curves": curves,
                "generation_0_vs_shipped": generation_zero_check(curves), "intervals": "test"}
    page = write_carboncopy_report(document, gaussian_curves(("replace", "accumulate"), generations=5, runs=50), tmp_path)
    text = page.read_text()
    assert "carboncopy-gaussian.png" in text and "carboncopy-curves.png" in text and "id='g0'" in text
    assert (tmp_path / "carboncopy-gaussian.png").stat().st_size > 0 and (tmp_path / "carboncopy-curves.png").is_file()
