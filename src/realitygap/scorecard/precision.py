"""Precision: how far the physics measured from a source's video is from ground truth, in physical units.

For each law quantity q of an episode (the scenario's declared law for that context), the error is
e = |q measured from the source's pixels - q of the ground-truth state| (units of q), relative error
e / |q_true|. The pipeline's error floor F(scenario, q) is the largest |error| of the same measurement
on the ground-truth episodes themselves (what the measurement cannot resolve); a quantity is within
the floor when e <= FLOOR_FACTOR * F, and its error in floor units is e / (FLOOR_FACTOR * F). A
quantity the ground truth measures but the source's video does not let us measure counts as not
within the floor (its error is unknown, not zero). Per source and scenario (and over all scenarios):
the share of quantities within the floor and the median error in floor units, with stratified
bootstrap intervals over episodes (`scorecard.stats`).

Where it can be fooled: with few ground-truth episodes F is a small-sample maximum (hence the factor);
a quantity the pipeline measures badly on ground truth has a large F and hides source errors.
"""

from __future__ import annotations

import math

import numpy as np

from realitygap.scorecard.data import EpisodeRecord, ScoreInputs, finite
from realitygap.scorecard.results import ALL_SCENARIOS, result
from realitygap.scorecard.stats import finite_median, share, stratified_bootstrap

FLOOR_FACTOR = 2.0
"""Errors up to this multiple of the ground truth's largest error count as within the floor."""
AXIS = "precision"


def episode_errors(record: EpisodeRecord, reference: EpisodeRecord, floors: dict[tuple[str, str], float]) -> list[dict]:
    """Per law quantity of the episode that the ground truth measures: error, relative error, floor, within."""
    out = []
    for quantity in record.meta.law:
        floor = floors.get((record.scenario, quantity))
        truth_row = reference.rows.get(quantity)
        if floor is None or truth_row is None or not (finite(truth_row["ground_truth"]) and finite(truth_row["measured"])):
            continue
        row = record.rows.get(quantity)
        truth = truth_row["ground_truth"]
        error = abs(row["measured"] - truth) if row is not None and finite(row["measured"]) else math.nan
        scale = max(FLOOR_FACTOR * floor, 1e-12 * max(abs(truth), 1.0))
        out.append({"quantity": quantity, "unit": truth_row["unit"], "error": error,
                    "relative": error / abs(truth) if truth else math.nan, "floor": floor,
                    "floor_units": error / scale, "within": bool(error <= scale)})
    return out


def precision_results(inputs: ScoreInputs, seed: int) -> list[dict]:
    """Results rows of the precision axis for every source (see the module docstring)."""
    laws = {(r.scenario, q) for r in inputs.episodes[inputs.reference].values() for q in r.meta.law}
    floors = {key: floor for key, floor in inputs.floors.items() if key in laws}
    rows = []
    for source in inputs.sources:
        per_episode = []
        for record in inputs.episodes[source].values():
            reference = inputs.reference_of(record)
            if reference is not None:
                per_episode.append((record.scenario, episode_errors(record, reference, floors)))
        rows += _summary_rows(source, per_episode, seed)
        rows += _quantity_rows(source, per_episode, floors, seed)
        rows += _physics_iq_rows(inputs, source, seed)
    return rows


PHYSICS_IQ = {"physics_iq_score": True, "spatial_iou": True, "spatiotemporal_iou": True, "weighted_spatial_iou": True,
              "mse": False}
"""The Physics-IQ motion-mask metrics of the source's video against the ground truth's (measurement rows), and
whether higher is better."""


def _physics_iq_rows(inputs: ScoreInputs, source: str, seed: int) -> list[dict]:
    """Median of each Physics-IQ metric over the source's episodes, per scenario and overall (Motamed et al. 2025:
    the motion masks of the two videos compared frame by frame)."""
    records = list(inputs.episodes[source].values())
    rows = []
    for name, better in PHYSICS_IQ.items():
        for scenario in [ALL_SCENARIOS] + sorted({r.scenario for r in records}):
            found = [(r.scenario, r.measured(name)) for r in records
                     if scenario in (ALL_SCENARIOS, r.scenario) and finite(r.measured(name))]
            if found:
                groups, strata = [np.array([v]) for _, v in found], [s for s, _ in found]
                rows.append(result(source, scenario, AXIS, f"physics_iq:{name}", "median",
                                   *_boot(groups, strata, finite_median, seed), n=len(found),
                                   unit="%" if name == "physics_iq_score" else "", higher_is_better=better))
    return rows


def _summary_rows(source: str, per_episode: list[tuple[str, list[dict]]], seed: int) -> list[dict]:
    rows = []
    for scenario in [ALL_SCENARIOS] + sorted({s for s, _ in per_episode}):
        chosen = [(s, e) for s, e in per_episode if scenario in (ALL_SCENARIOS, s) and e]
        if not chosen:
            continue
        strata = [s for s, _ in chosen]
        within = [np.array([q["within"] for q in e]) for _, e in chosen]
        units = [np.array([q["floor_units"] for q in e]) for _, e in chosen]
        n = len(chosen)
        rows.append(result(source, scenario, AXIS, "within_floor", "share",
                           *_boot(within, strata, share, seed), n=n, higher_is_better=True,
                           note=f"share of law quantities within {FLOOR_FACTOR:g}x the ground truth's error floor"))
        rows.append(result(source, scenario, AXIS, "error_floor_units", "median",
                           *_boot(units, strata, finite_median, seed), n=n, higher_is_better=False,
                           note=f"|error| / ({FLOOR_FACTOR:g} x floor), median over law quantities"))
    return rows


def _quantity_rows(source: str, per_episode: list[tuple[str, list[dict]]], floors: dict, seed: int) -> list[dict]:
    rows = []
    for (scenario, quantity), floor in sorted(floors.items()):
        found = [(q, s) for s, errors in per_episode if s == scenario for q in errors if q["quantity"] == quantity]
        if not found:
            continue
        unit, strata = found[0][0]["unit"], [s for _, s in found]
        errors = [np.array([q["error"]]) for q, _ in found]
        relative = [np.array([q["relative"]]) for q, _ in found]
        within = [np.array([q["within"]]) for q, _ in found]
        rows.append(result(source, scenario, AXIS, f"abs_error:{quantity}", "median", *_boot(errors, strata, finite_median, seed),
                           n=len(found), unit=unit, higher_is_better=False))
        rows.append(result(source, scenario, AXIS, f"rel_error:{quantity}", "median",
                           *_boot(relative, strata, finite_median, seed), n=len(found), higher_is_better=False))
        rows.append(result(source, scenario, AXIS, f"within_floor:{quantity}", "share", *_boot(within, strata, share, seed),
                           n=len(found), higher_is_better=True))
        rows.append(result(source, scenario, AXIS, f"floor:{quantity}", "max", floor, n=len(found), unit=unit,
                           note="largest |error| of the measurement on the ground-truth episodes"))
    return rows


def _boot(groups, strata, statistic, seed) -> tuple[float, tuple[float, float]]:
    value, low, high = stratified_bootstrap(groups, strata, statistic, seed=seed)
    return value, (low, high)
