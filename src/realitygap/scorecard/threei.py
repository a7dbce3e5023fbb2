"""3i: indistinguishability, information richness, intentionality, each in [0, 1] (1 = like the twin).

Each is the mean of named ingredients, every one in [0, 1] and written to results.parquet beside it
(metric '<criterion>:<ingredient>'), so the value can be recomputed from the rows:

- **indistinguishability** = mean over the feature sets (physical-v1, pixel-stats-v1) of
  2 (1 - a) clipped to [0, 1] (a: the classifier two-sample test's held-out accuracy; 0.5 -> 1, 1 -> 0),
  PRDC precision, and min(1, PRDC density). Rewards a source whose samples fall where the ground truth's do
  and that a classifier cannot tell apart. Fooled by: features blind to the defect (pixel-stats-v1 does
  not see texture), few samples (an accuracy over 11 held-out episodes is coarse), copying ground truth.
- **information richness** = mean of PRDC recall and coverage on both feature sets, the domain coverage
  (over the parameters a law fit recovers: the number of tenths of each declared parameter range the
  recovered values fall in, over the number the requested values fall in, capped at 1 and pooled) and
  the share of the twin's streams delivered. Rewards diversity that spans the ground truth's and the
  requested domain, and data beyond RGB. Fooled by: diverse nonsense that happens to land in the
  reference's balls; recall on a small reference set.
- **intentionality** = the share of (episode, recovered parameter) pairs where the value recovered from
  the source's pixels lies within FLOOR_FACTOR x the ground truth's recovery error of what the context
  requested (bootstrap interval as for precision; pairs the ground truth itself does not recover are
  not judged). Rewards doing what was asked. Fooled by: parameters
  no law fit recovers (they are not judged; quadrotor has none), a wide floor where the pipeline is imprecise.
"""

from __future__ import annotations

import math

import numpy as np

from realitygap.scenarios import get_scenario
from realitygap.scorecard.data import ScoreInputs, finite
from realitygap.scorecard.features import PHYSICAL, VISUAL
from realitygap.scorecard.precision import FLOOR_FACTOR
from realitygap.scorecard.results import ALL_SCENARIOS, lookup, result
from realitygap.scorecard.stats import share, stratified_bootstrap

AXIS = "3i"
FEATURE_SETS = (PHYSICAL, VISUAL)
DOMAIN_BINS = 10


def threei_results(inputs: ScoreInputs, rows: list[dict], seed: int) -> list[dict]:
    """3i rows for every source, from the distribution and explanative rows already computed (`rows`)."""
    out = []
    floors = recovery_floors(inputs)
    for source in inputs.sources:
        indist, rich = {}, {}
        for feature_set in FEATURE_SETS:
            accuracy = _value(rows, source, f"accuracy:{feature_set}")
            if finite(accuracy):
                indist[f"two_sample:{feature_set}"] = float(np.clip(2 * (1 - accuracy), 0.0, 1.0))
            for key, target in (("precision", indist), ("density", indist), ("recall", rich), ("coverage", rich)):
                value = _value(rows, source, f"{key}:{feature_set}")
                if finite(value):
                    target[f"{key}:{feature_set}"] = float(min(1.0, value))
        domain = domain_coverage(inputs, source)
        if finite(domain):
            rich["domain_coverage"] = domain
        streams = _value(rows, source, "streams_delivered", "share")
        if finite(streams):
            rich["streams_delivered"] = streams
        for name, parts in (("indistinguishability", indist), ("information_richness", rich)):
            for part, value in parts.items():
                out.append(result(source, ALL_SCENARIOS, AXIS, f"{name}:{part}", "value", value, higher_is_better=True))
            if parts:
                out.append(result(source, ALL_SCENARIOS, AXIS, name, "value", float(np.mean(list(parts.values()))),
                                  n=len(parts), higher_is_better=True, note="mean of its ingredients (rows '" + name + ":*')"))
        out += _intentionality(inputs, source, floors, seed)
    return out


def recovered(record, params: dict) -> dict[str, tuple[float, float]]:
    """Parameter -> (requested, recovered from pixels) for the parameters the episode's law fit recovers."""
    scenario = get_scenario(record.scenario)
    out = {}
    for name, (quantity, factor) in scenario.recovered_params.items():
        out[name] = (float(params[name]), record.measured(quantity) * factor)
    return out


def recovery_floors(inputs: ScoreInputs) -> dict[tuple[str, str], float]:
    """(scenario, parameter) -> the largest |recovered - requested| on the ground-truth episodes."""
    floors: dict[tuple[str, str], float] = {}
    for record in inputs.episodes[inputs.reference].values():
        for name, (requested, value) in recovered(record, record.meta.context.params).items():
            if finite(value):
                key = (record.scenario, name)
                floors[key] = max(floors.get(key, 0.0), abs(value - requested))
    return floors


def domain_coverage(inputs: ScoreInputs, source: str) -> float:
    """Pooled over (scenario, recovered parameter): tenths of the declared range that recovered values fall
    in, each capped at the number of tenths the requested values fall in, over the latter."""
    requested_bins: dict[tuple[str, str], set[int]] = {}
    realised_bins: dict[tuple[str, str], set[int]] = {}
    for record in inputs.episodes[source].values():
        scenario = get_scenario(record.scenario)
        for name, (requested, value) in recovered(record, record.meta.context.params).items():
            parameter = scenario.parameter(name)
            key = (record.scenario, name)
            requested_bins.setdefault(key, set()).add(_bin(requested, parameter.low, parameter.high))
            if finite(value) and parameter.low <= value <= parameter.high:
                realised_bins.setdefault(key, set()).add(_bin(value, parameter.low, parameter.high))
    wanted = sum(len(b) for b in requested_bins.values())
    got = sum(min(len(realised_bins.get(k, ())), len(b)) for k, b in requested_bins.items())
    return got / wanted if wanted else math.nan


def _intentionality(inputs: ScoreInputs, source: str, floors: dict, seed: int) -> list[dict]:
    groups, strata = [], []
    for record in inputs.episodes[source].values():
        reference = inputs.reference_of(record)
        if reference is None:
            continue
        truth = recovered(reference, reference.meta.context.params)
        within = []
        for name, (requested, value) in recovered(record, record.meta.context.params).items():
            floor = floors.get((record.scenario, name))
            if floor is not None and finite(truth[name][1]):  # judged only where the ground truth recovers it
                within.append(finite(value) and abs(value - requested) <= max(FLOOR_FACTOR * floor, 1e-12 * abs(requested)))
        if within:
            groups.append(np.array(within))
            strata.append(record.scenario)
    if not groups:
        return []
    value, low, high = stratified_bootstrap(groups, strata, share, seed=seed)
    return [result(source, ALL_SCENARIOS, AXIS, "intentionality", "share", value, (low, high), n=len(groups),
                   higher_is_better=True, note="requested parameters recovered from pixels within the ground truth's floor")]


def _bin(value: float, low: float, high: float) -> int:
    return int(min(DOMAIN_BINS - 1, max(0, math.floor((value - low) / (high - low) * DOMAIN_BINS))))


def _value(rows: list[dict], source: str, metric: str, statistic: str = "value") -> float:
    row = lookup(rows, source, ALL_SCENARIOS, metric, statistic)
    return row["value"] if row is not None else math.nan
