"""Distribution metrics of each source against the ground truth, on the named feature sets of
`scorecard.features`, over all the dataset's contexts the source predicted (its matched ground-truth
episodes are the reference set). Features are standardised with the reference set's mean and standard
deviation (at least MIN_RELATIVE_SCALE of the mean, and MIN_SCALE) before every metric, so each
feature weighs about the same. No bootstrap: each value
comes with its sample sizes (n), and the kernel distance with its spread over subsets."""

from __future__ import annotations

import math

import numpy as np

from realitygap.metrics.distribution import (
    METRIC_INFO,
    classifier_two_sample_test,
    frechet_distance,
    kernel_distance,
    precision_recall_density_coverage,
)
from realitygap.scorecard.data import ScoreInputs
from realitygap.scorecard.features import PHYSICAL, VISUAL, physical_features, visual_features
from realitygap.scorecard.results import ALL_SCENARIOS, result

AXIS = "distribution"
PRDC_K = 5
MIN_RELATIVE_SCALE = 0.05
"""A feature's scale is at least this fraction of its reference mean: a constant in the ground truth (g where
no scenario fits one) must not turn a small deviation into thousands of standard deviations."""
MIN_SCALE = 1e-3
MIN_SAMPLES = 2 * PRDC_K + 2


def feature_sets(inputs: ScoreInputs) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """feature set -> source -> episode id -> its features (physical: (1, 20); visual: (8, 25))."""
    out: dict[str, dict[str, dict[str, np.ndarray]]] = {PHYSICAL: {}, VISUAL: {}}
    for source in inputs.sources:
        for eid, record in sorted(inputs.episodes[source].items()):
            reference = inputs.reference_of(record)
            if reference is None or "rgb" not in record.meta.streams:
                continue
            out[PHYSICAL].setdefault(source, {})[eid] = physical_features(inputs.root, record, reference)[None, :]
            out[VISUAL].setdefault(source, {})[eid] = visual_features(inputs.root, record)
    return out


def distribution_results(inputs: ScoreInputs, seed: int, features: dict | None = None) -> list[dict]:
    """Results rows of the distribution axis (see the module docstring)."""
    features = feature_sets(inputs) if features is None else features
    rows = []
    for name, by_source in features.items():
        reference = by_source.get(inputs.reference, {})
        for source in inputs.sources:
            own = by_source.get(source, {})
            shared = sorted(set(own) & set(reference))
            if not shared:
                continue
            x = np.concatenate([reference[e] for e in shared])
            y = np.concatenate([own[e] for e in shared])
            rows += compare_sets(source, name, x, y, seed, len(shared))
    return rows


def compare_sets(source: str, feature_set: str, reference: np.ndarray, candidate: np.ndarray, seed: int,
                 episodes: int) -> list[dict]:
    """Rows for one source and feature set: Fréchet and kernel distance, PRDC, two-sample test accuracy."""
    mean = reference.mean(axis=0)
    scale = np.maximum(reference.std(axis=0), np.maximum(MIN_RELATIVE_SCALE * np.abs(mean), MIN_SCALE))
    x, y = (reference - mean) / scale, (candidate - mean) / scale
    n = len(x)
    note = f"{feature_set}: {n} vs {len(y)} samples from {episodes} contexts"

    def add(metric: str, value: float, statistic: str = "value", extra: str = "") -> dict:
        info = METRIC_INFO.get(metric.split(":")[0])
        return result(source, ALL_SCENARIOS, AXIS, f"{metric}:{feature_set}", statistic, value, n=n,
                      unit=info.unit if info and info.unit != "1" else "",
                      higher_is_better=info.higher_is_better if info and info.ideal is None else None, note=note + extra)

    if min(len(x), len(y)) < 2:
        return [add(metric, math.nan, statistic, "; fewer than 2 samples: not computed")
                for metric, statistic in (("frechet_distance", "value"), ("kernel_distance", "mean"), ("accuracy", "value"))]
    rows = [add("frechet_distance", frechet_distance(x, y))]
    kd_mean, kd_std = kernel_distance(x, y, n_subsets=100, subset_size=min(len(x), len(y), 1000), seed=seed)
    rows.append(add("kernel_distance", kd_mean, "mean", f"; std over subsets {kd_std:.3g}"))
    if min(len(x), len(y)) >= MIN_SAMPLES:
        for key, value in precision_recall_density_coverage(x, y, k=PRDC_K).items():
            rows.append(add(key, value))
        test = classifier_two_sample_test(x, y, seed=seed)
        rows.append(add("accuracy", test["accuracy"], "value", f"; logistic {test['accuracy_logistic']:.3f}, "
                        f"k-NN {test['accuracy_knn']:.3f}, p = {test['p_value']:.3g}, {test['n_test']} held out"))
    else:
        rows.append(add("accuracy", math.nan, "value", f"; fewer than {MIN_SAMPLES} samples: not computed"))
    return rows
