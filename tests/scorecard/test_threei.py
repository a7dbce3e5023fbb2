"""3i from results.parquet alone: each criterion is the mean of its ingredient rows, and each ingredient is
the documented function of the distribution and explanative rows beside it."""

from __future__ import annotations

import math

import numpy as np
import pyarrow.parquet as pq
import pytest

from realitygap.scorecard.results import ALL_SCENARIOS


def test_3i_recomputed_from_its_ingredients_in_results_parquet(controls_dataset):
    _, card = controls_dataset
    rows = pq.read_table(card.parquet).to_pylist()
    by_key = {(r["source"], r["metric"], r["statistic"]): r["value"] for r in rows if r["scenario"] == ALL_SCENARIOS}
    checked = 0
    for source in card.sources:
        for criterion in ("indistinguishability", "information_richness"):
            parts = {m.split(":", 1)[1]: v for (s, m, _), v in by_key.items() if s == source and m.startswith(criterion + ":")}
            if not parts:
                continue
            assert by_key[(source, criterion, "value")] == pytest.approx(np.mean(list(parts.values())), abs=1e-12)
            assert all(0.0 <= v <= 1.0 for v in parts.values())
            checked += 1
        for feature_set in ("physical-v1", "pixel-stats-v1"):
            accuracy = by_key.get((source, f"accuracy:{feature_set}", "value"))
            ingredient = by_key.get((source, f"indistinguishability:two_sample:{feature_set}", "value"))
            if accuracy is not None and math.isfinite(accuracy):
                assert ingredient == pytest.approx(min(1.0, max(0.0, 2 * (1 - accuracy))))
            for key in ("precision", "recall", "coverage"):
                value = by_key.get((source, f"{key}:{feature_set}", "value"))
                criterion = "indistinguishability" if key == "precision" else "information_richness"
                if value is not None:
                    assert by_key[(source, f"{criterion}:{key}:{feature_set}", "value")] == pytest.approx(min(1.0, value))
        streams = by_key[(source, "streams_delivered", "share")]
        assert by_key[(source, "information_richness:streams_delivered", "value")] == pytest.approx(streams)
    assert checked >= 2 * len(card.sources)


def test_the_twin_is_indistinguishable_from_itself_and_gets_the_highest_3i(controls_dataset):
    _, card = controls_dataset
    rows = [r for r in card.rows if r["scenario"] == ALL_SCENARIOS and r["axis"] == "3i" and ":" not in r["metric"]]
    twin = {r["metric"]: r["value"] for r in rows if r["source"] == "sim"}
    assert twin["intentionality"] == 1.0 and twin["information_richness"] > 0.95 and twin["indistinguishability"] > 0.9
    for metric in ("intentionality", "indistinguishability"):
        assert twin[metric] >= max(r["value"] for r in rows if r["metric"] == metric) - 0.05
