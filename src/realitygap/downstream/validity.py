"""Predictive validity: does the scorecard, computed without training anything, predict the downstream outcome?

Per source of the family (every downstream source except the reference, mixes included):
- downstream quality q = 1 / (geometric mean over tasks of the transfer ratio), 1 = as good as ground
  truth, over the tasks where the source has a ratio (RGB-only sources have no depth task);
- the scorecard's headline value per axis (precision, consistency, explanative value,
  indistinguishability, information richness, intentionality), `3i` = the mean of the three 3i
  values, and `weakest_check` (below), scored on the same dataset (mixes scored as the same view of
  episodes they train on).

Reported: Spearman and Pearson correlation of each axis with q over the family, with percentile intervals
from resampling sources (seeded); then, held out: the family is split in two halves by a seeded
permutation, a ridge regression of q on the axis values is fitted on one half and its predictions are
correlated with q on the other half (and the raw axes on that half, which need no fit).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy import stats

from realitygap.downstream.plan import DownstreamConfig, episode_source, mix_parts
from realitygap.measure.pipeline import REFERENCE_SOURCE

AXES: tuple[tuple[str, str, str], ...] = (
    ("precision", "within_floor", "share"),
    ("consistency", "checks_passed", "share"),
    ("explanative", "streams_delivered", "share"),
    ("indistinguishability", "indistinguishability", "value"),
    ("information_richness", "information_richness", "value"),
    ("intentionality", "intentionality", "share"),
)
"""(name here, scorecard metric, statistic) of the axes correlated with the downstream outcome."""
THREE_I = ("indistinguishability", "information_richness", "intentionality")
WEAKEST = "weakest_check"
"""The share of episodes passing the consistency check the source passes least often (no parameters: a
weakest-link reading of the consistency axis, proposed after the first family run showed the share of
checks passed diluting single fatal defects; see docs/downstream.md)."""
RIDGE = 1e-2
N_BOOT = 1000


def family_scores(dataset: Path, sources: list[str], train_ids: list[str], seed: int) -> dict[str, dict[str, float]]:
    """The headline axis values of each source, scored on `dataset` (mixes as views over their parts)."""
    from realitygap.scorecard.data import load_inputs
    from realitygap.scorecard.results import ALL_SCENARIOS, lookup
    from realitygap.scorecard.score import score_rows

    inputs = load_inputs(dataset)
    episodes = {REFERENCE_SOURCE: inputs.episodes[REFERENCE_SOURCE]}
    for source in sources:
        if mix_parts(source) is None:
            episodes[source] = {e: r for e, r in inputs.episodes.get(source, {}).items() if e in set(train_ids)}
        else:
            episodes[source] = {e: inputs.episodes[episode_source(source, e)][e] for e in train_ids
                                if e in inputs.episodes.get(episode_source(source, e), {})}
    inputs.episodes = episodes
    rows = score_rows(inputs, seed)
    out: dict[str, dict[str, float]] = {}
    for source in sources:
        values = {}
        for name, metric, statistic in AXES:
            row = lookup(rows, source, ALL_SCENARIOS, metric, statistic)
            values[name] = float(row["value"]) if row is not None and row["value"] is not None else math.nan
        values["3i"] = float(np.mean([values[a] for a in THREE_I]))
        checks = [r["value"] for r in rows if r["source"] == source and r["scenario"] == ALL_SCENARIOS
                  and r["axis"] == "consistency" and r["metric"].endswith(":passed") and r["statistic"] == "share"
                  and r["value"] is not None and math.isfinite(r["value"])]
        values[WEAKEST] = float(min(checks)) if checks else math.nan
        out[source] = values
    return out


def downstream_quality(summary: list[dict], source: str) -> float:
    ratios = [r["ratio"] for r in summary if r["kind"] == "transfer" and r["source"] == source and np.isfinite(r["ratio"])
              and r["ratio"] > 0]
    return float(1.0 / np.exp(np.mean(np.log(ratios)))) if ratios else math.nan


def correlation(x: np.ndarray, y: np.ndarray, seed: int, n_boot: int = N_BOOT) -> dict:
    """Spearman and Pearson r with percentile intervals over sources resampled with replacement."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    out = {"n": int(len(x))}
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {**out, "spearman": math.nan, "spearman_interval": [math.nan, math.nan], "pearson": math.nan,
                "pearson_interval": [math.nan, math.nan], "note": "fewer than 3 sources or a constant value"}
    rng = np.random.default_rng(seed)
    draws = {"spearman": [], "pearson": []}
    for _ in range(n_boot):
        i = rng.integers(0, len(x), size=len(x))
        if np.ptp(x[i]) == 0 or np.ptp(y[i]) == 0:
            continue
        draws["spearman"].append(stats.spearmanr(x[i], y[i]).statistic)
        draws["pearson"].append(stats.pearsonr(x[i], y[i]).statistic)
    for name, value in (("spearman", stats.spearmanr(x, y).statistic), ("pearson", stats.pearsonr(x, y).statistic)):
        out[name] = float(value)
        out[f"{name}_interval"] = [float(v) for v in np.nanquantile(draws[name], [0.025, 0.975])] if draws[name] else [math.nan] * 2
    return out


def ridge_fit(x: np.ndarray, y: np.ndarray, ridge: float = RIDGE) -> np.ndarray:
    """Coefficients (intercept first) of a ridge regression on standardised columns (NaN columns -> 0)."""
    x = np.nan_to_num(x)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.column_stack([np.ones(len(x)), (x - mean) / std])
    penalty = ridge * np.eye(z.shape[1])
    penalty[0, 0] = 0.0
    beta = np.linalg.solve(z.T @ z + penalty, z.T @ y)
    return np.concatenate([[beta[0] - np.sum(beta[1:] * mean / std)], beta[1:] / std])


def predictive_validity(dataset: Path, summary: list[dict], config: DownstreamConfig, seed: int,
                        train_ids: list[str]) -> dict:
    """The validity block of downstream.json (see the module docstring); `train_ids`: the train contexts the
    sources were trained (and are scored) on."""
    family = [s for s in config.sources if s != REFERENCE_SOURCE]
    scores = family_scores(Path(dataset), family, train_ids, seed)
    quality = np.array([downstream_quality(summary, s) for s in family])
    names = [a[0] for a in AXES] + ["3i", WEAKEST]
    matrix = np.array([[scores[s][a] for a in names] for s in family])
    all_sources = {name: correlation(matrix[:, j], quality, seed) for j, name in enumerate(names)}
    order = np.random.default_rng(seed).permutation(len(family))
    fit_half, held_half = np.sort(order[: len(family) // 2]), np.sort(order[len(family) // 2:])
    axes_used = [j for j, (name, _, _) in enumerate(AXES) if np.isfinite(matrix[fit_half, j]).all()]
    held_out: dict = {"fit_sources": [family[i] for i in fit_half], "held_out_sources": [family[i] for i in held_half]}
    if len(fit_half) >= 3 and axes_used:
        beta = ridge_fit(matrix[np.ix_(fit_half, axes_used)], quality[fit_half])
        predicted = beta[0] + np.nan_to_num(matrix[np.ix_(held_half, axes_used)]) @ beta[1:]
        held_out["combined"] = {"axes": [names[j] for j in axes_used], "coefficients": beta.tolist(),
                                **correlation(predicted, quality[held_half], seed)}
    held_out["axes"] = {name: correlation(matrix[held_half, j], quality[held_half], seed) for j, name in enumerate(names)}
    return {"sources": family, "quality": dict(zip(family, quality.tolist())),
            "scores": scores, "all_sources": all_sources, "held_out": held_out,
            "definition": "q = 1 / geometric mean over tasks of the transfer ratio; 3i = mean of the three 3i values"}
