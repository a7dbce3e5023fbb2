"""Consistency: does a source's video obey the declared law and the rules every real video obeys?

Each episode runs a list of checks (`CHECKS`), each on one measured value and judged against the
ground-truth episode of the same context or against the largest value the ground truth shows in that
scenario (its error floor), never against a fixed guess:
- law fit: the law fit's reduced chi-square and residual RMS (m) at most CONSISTENCY_FACTOR x the
  ground truth's largest in the scenario (or an absolute allowance);
- permanence: vanishing and spontaneous objects, untracked objects at most the ground truth's;
- the video: frozen frames at most the ground truth's; camera motion (px) and the largest frame-to-frame
  jump off the law (m) within the allowances;
- lighting: a shadow where the ground truth casts one (contrast at least half the ground truth's);
- geometry: the static scene's epipolar inlier ratio at most 0.1 below the ground truth's (a static scene
  that no longer matches itself across frames, or loses its keypoints, fails);
- physics: every measured law quantity inside its physical bounds (the scenario's `bounds_of`: a
  restitution above 1, a negative g), allowing FLOOR_FACTOR x the error floor;
- cross-sensor coherence (every `coherence_*` row) at most CONSISTENCY_FACTOR x the ground truth's largest.
A check whose value is not delivered or not measurable for an episode is skipped (not passed, not
failed). Per source and scenario: the share of checks passed (stratified bootstrap over episodes) and,
per check, the share of episodes passing and the median value; the spread of g over the episodes
(coefficient of variation of the measured g, all scenarios with a g) is reported beside them.

Where it can be fooled: checks judged against the ground truth's largest value tolerate anything the
pipeline already shows on ground truth; a source that delivers nothing measurable passes no check and
fails none (precision and explanative value show that).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from realitygap.scenarios import get_scenario
from realitygap.scorecard.data import EpisodeRecord, ScoreInputs, finite
from realitygap.scorecard.precision import FLOOR_FACTOR
from realitygap.scorecard.results import ALL_SCENARIOS, result
from realitygap.scorecard.stats import finite_median, share, stratified_bootstrap

AXIS = "consistency"
CONSISTENCY_FACTOR = 2.0
"""A value up to this multiple of the ground truth's largest in the scenario passes."""


@dataclass(frozen=True)
class Check:
    """A consistency check on one measured quantity. `rule`: 'at_most_reference' (<= the ground-truth episode's
    value), 'within_floor' (<= max(CONSISTENCY_FACTOR x the ground truth's largest in the scenario, allowance)),
    'at_least_half_reference' (>= half the ground-truth episode's value, when that is >= allowance)."""

    name: str
    quantity: str
    rule: str
    allowance: float = 0.0
    unit: str = ""


CHECKS = (
    Check("vanishing_objects", "vanishing_events", "at_most_reference", unit="count"),
    Check("spontaneous_objects", "spontaneous_events", "at_most_reference", unit="count"),
    Check("untracked_objects", "untracked_objects", "at_most_reference", unit="count"),
    Check("frozen_frames", "frozen_frames", "at_most_reference", unit="count"),
    Check("camera_motion", "camera_motion_px", "within_floor", 0.5, "px"),
    Check("largest_jump", "largest_jump_m", "within_floor", 0.05, "m"),
    Check("shadow_present", "shadow_contrast", "at_least_half_reference", 8.0, "levels"),
    Check("geometric_consistency", "geometric_consistency", "at_least_reference_less", 0.1),
)
LAW_FIT_CHECKS = (Check("law_fit_reduced_chi2", "reduced_chi2", "within_floor", 3.0),
                  Check("law_fit_residual", "residual_rms_m", "within_floor", 0.002, "m"))
PHYSICS_CHECK = Check("physically_possible", "law quantities", "inside bounds", unit="count")


def consistency_results(inputs: ScoreInputs, seed: int) -> list[dict]:
    """Results rows of the consistency axis for every source (see the module docstring)."""
    checks = list(CHECKS) + sorted({Check(q.replace("coherence_", "coherence:"), q, "within_floor")
                                    for r in inputs.episodes[inputs.reference].values() for q in r.rows
                                    if q.startswith("coherence_")}, key=lambda c: c.name)
    largest = _reference_largest(inputs, checks)
    floors = inputs.floors
    rows = []
    for source in inputs.sources:
        outcomes = []  # (scenario, {check name: (value, passed)})
        for record in inputs.episodes[source].values():
            reference = inputs.reference_of(record)
            if reference is not None:
                outcomes.append((record.scenario, episode_checks(record, reference, checks, largest, floors)))
        rows += _rows(source, outcomes, checks, seed)
        rows += _g_spread(source, inputs.episodes[source].values())
    return rows


def episode_checks(record: EpisodeRecord, reference: EpisodeRecord, checks: list[Check],
                   largest: dict[tuple[str, str], float], floors: dict[tuple[str, str], float]) -> dict[str, tuple[float, bool]]:
    """Check name -> (value, passed) for one episode; checks that do not apply are absent."""
    out = {}
    for check in checks + list(LAW_FIT_CHECKS):
        value = _check_value(record, check)
        if check.rule == "at_least_reference_less":
            own = reference.measured(check.quantity)
            if finite(own):
                out[check.name] = (value, finite(value) and value >= own - check.allowance)
            continue
        if not finite(value):
            continue
        if check.rule == "at_most_reference":
            own = reference.measured(check.quantity)
            if finite(own):
                out[check.name] = (value, value <= own)
        elif check.rule == "within_floor":
            ceiling = max(CONSISTENCY_FACTOR * largest.get((record.scenario, check.name), 0.0), check.allowance)
            out[check.name] = (value, value <= ceiling)
        elif check.rule == "at_least_half_reference":
            own = reference.measured(check.quantity)
            if finite(own) and own >= check.allowance:
                out[check.name] = (value, value >= 0.5 * own)
    impossible = _impossible(record, floors)
    if impossible is not None:
        out[PHYSICS_CHECK.name] = (float(impossible), impossible == 0)
    return out


def _impossible(record: EpisodeRecord, floors: dict[tuple[str, str], float]) -> int | None:
    """How many measured law quantities lie outside their physical bounds (None: nothing measured)."""
    scenario = get_scenario(record.scenario)
    count, measured = 0, 0
    for quantity in [*record.meta.law, *(["g_m_s2"] if "g_m_s2" not in record.meta.law else [])]:  # + the fitted g
        value = record.measured(quantity)
        if not finite(value):
            continue
        measured += 1
        low, high = scenario.bounds_of(quantity)
        slack = FLOOR_FACTOR * floors.get((record.scenario, quantity), 0.0) if quantity in record.meta.law else 0.0
        count += not (low - slack <= value <= high + slack)
    return count if measured else None


def _check_value(record: EpisodeRecord, check: Check) -> float:
    """The value a check judges: the law fit's goodness, or a measured quantity."""
    return _law_fit_value(record, check.quantity) if check in LAW_FIT_CHECKS else record.measured(check.quantity)


def _law_fit_value(record: EpisodeRecord, what: str) -> float:
    """Median over the episode's law-quantity rows of their fit's reduced chi-square, or residual RMS in metres."""
    values = []
    for quantity in record.meta.law:
        row = record.rows.get(quantity)
        if row is None:
            continue
        if what == "reduced_chi2" and finite(row["reduced_chi2"]):
            values.append(row["reduced_chi2"])
        elif what == "residual_rms_m" and row["residual_unit"] == "m" and finite(row["residual_rms"]):
            values.append(row["residual_rms"])
    return float(np.median(values)) if values else math.nan


def _reference_largest(inputs: ScoreInputs, checks: list[Check]) -> dict[tuple[str, str], float]:
    """(scenario, check name) -> the largest value the ground-truth episodes show."""
    largest: dict[tuple[str, str], float] = {}
    for record in inputs.episodes[inputs.reference].values():
        for check in checks + list(LAW_FIT_CHECKS):
            value = _check_value(record, check)
            if finite(value):
                key = (record.scenario, check.name)
                largest[key] = max(largest.get(key, -math.inf), value)
    return largest


def _rows(source: str, outcomes: list[tuple[str, dict]], checks: list[Check], seed: int) -> list[dict]:
    rows = []
    names = [c.name for c in list(LAW_FIT_CHECKS) + checks] + [PHYSICS_CHECK.name]
    units = {c.name: c.unit for c in list(LAW_FIT_CHECKS) + checks + [PHYSICS_CHECK]}
    for scenario in [ALL_SCENARIOS] + sorted({s for s, _ in outcomes}):
        chosen = [(s, o) for s, o in outcomes if scenario in (ALL_SCENARIOS, s) and o]
        if not chosen:
            continue
        strata = [s for s, _ in chosen]
        passed = [np.array([p for _, p in o.values()]) for _, o in chosen]
        value, low, high = stratified_bootstrap(passed, strata, share, seed=seed)
        rows.append(result(source, scenario, AXIS, "checks_passed", "share", value, (low, high), n=len(chosen),
                           higher_is_better=True, note="share of the episodes' consistency checks passed"))
        for name in names:
            found = [(s, o[name]) for s, o in chosen if name in o]
            if not found:
                continue
            strata_n = [s for s, _ in found]
            value, low, high = stratified_bootstrap([np.array([p]) for _, (_, p) in found], strata_n, share, seed=seed)
            rows.append(result(source, scenario, AXIS, f"{name}:passed", "share", value, (low, high), n=len(found),
                               higher_is_better=True))
            value, low, high = stratified_bootstrap([np.array([v]) for _, (v, _) in found], strata_n, finite_median, seed=seed)
            rows.append(result(source, scenario, AXIS, name, "median", value, (low, high), n=len(found), unit=units.get(name, "")))
    return rows


def _g_spread(source: str, records) -> list[dict]:
    """Coefficient of variation (std / mean) of the measured g over the source's episodes, all scenarios."""
    g = np.array([r.measured("g_m_s2") for r in records])
    g = g[np.isfinite(g)]
    if g.size < 2 or g.mean() == 0:
        return []
    return [result(source, ALL_SCENARIOS, AXIS, "g_spread", "coefficient_of_variation", float(g.std(ddof=1) / abs(g.mean())),
                   n=int(g.size), higher_is_better=False, note="std / |mean| of g measured over all episodes with a g fit")]
