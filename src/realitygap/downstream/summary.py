"""From per-episode test errors to the downstream results: transfer ratios, mixes, data-size curves.

Transfer ratio of a source on a task = mean test error of the models trained on the source / mean test
error of the models trained on ground truth (same tasks, seeds and test episodes): 1 is as good as ground
truth, 2 is twice the error. Its 95 % interval resamples, jointly for numerator and denominator, the model
seeds and the test episodes (within each scenario), `bootstrap` times with a seeded generator (percentile).
The same interval is given for every mix (error relative to ground truth alone) and every point of a
data-size curve.

Exchange rate: the number of source episodes whose model matches the test error of the model trained on
all N ground-truth episodes, over N (log-linear interpolation along the source's data-size curve); where
even all the source's episodes do not reach that error it is reported as a lower bound (> n_max / N), and
where the smallest subset already beats it as an upper bound.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from realitygap.measure.pipeline import REFERENCE_SOURCE

LEVEL = 0.95


def error_table(rows: list[dict]) -> dict[tuple, np.ndarray]:
    """(kind, source, task, amount) -> errors (seeds x test episodes) in a fixed episode order, and the
    scenario of each episode under key ('scenarios', task)."""
    cells: dict[tuple, dict[tuple[int, str], float]] = defaultdict(dict)
    episodes: dict[str, dict[str, str]] = defaultdict(dict)
    for r in rows:
        cells[(r["kind"], r["source"], r["task"], float(r["amount"]))][(int(r["seed"]), r["episode_id"])] = float(r["error"])
        episodes[r["task"]][r["episode_id"]] = r["scenario"]
    out: dict[tuple, np.ndarray] = {}
    for key, values in cells.items():
        ids = sorted(episodes[key[2]])
        seeds = sorted({s for s, _ in values})
        out[key] = np.array([[values.get((s, e), np.nan) for e in ids] for s in seeds])
    for task, scenario_of in episodes.items():
        out[("scenarios", task)] = np.array([scenario_of[e] for e in sorted(scenario_of)])
    return out


def ratio_with_interval(numerator: np.ndarray, denominator: np.ndarray, scenarios: np.ndarray, seed: int,
                        n_boot: int) -> tuple[float, float, float]:
    """mean(numerator) / mean(denominator) over the finite cells of both, with its bootstrap interval
    (seeds and episodes resampled, episodes within scenario)."""
    both = np.isfinite(numerator) & np.isfinite(denominator)
    columns = both.all(axis=0)
    if not columns.any() or numerator.shape[0] != denominator.shape[0]:
        return math.nan, math.nan, math.nan
    num, den, strata = numerator[:, columns], denominator[:, columns], scenarios[columns]
    point = float(num.mean() / den.mean())
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(strata == s) for s in sorted(set(strata))]
    draws = np.empty(n_boot)
    for b in range(n_boot):
        seeds = rng.integers(0, num.shape[0], size=num.shape[0])
        cols = np.concatenate([g[rng.integers(0, len(g), size=len(g))] for g in groups])
        draws[b] = num[np.ix_(seeds, cols)].mean() / den[np.ix_(seeds, cols)].mean()
    low, high = np.quantile(draws, [(1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2])
    return point, float(low), float(high)


def summarise(rows: list[dict], seed: int, n_boot: int) -> list[dict]:
    """The result rows: per (kind, source, task, amount) the mean test error, the ground-truth error it is
    compared with, their ratio and its interval (for transfer rows also per scenario)."""
    table = error_table(rows)
    out = []
    for key in sorted(k for k in table if k[0] != "scenarios"):
        kind, source, task, amount = key
        errors = table[key]
        if kind == "size":
            reference = table.get(("size", REFERENCE_SOURCE, task, amount), table[("transfer", REFERENCE_SOURCE, task, 1.0)])
        else:
            reference = table[("transfer", REFERENCE_SOURCE, task, 1.0)]
        ratio, low, high = ratio_with_interval(errors, reference, table[("scenarios", task)], seed, n_boot)
        finite = errors[np.isfinite(errors)]
        strata = table[("scenarios", task)]
        by_scenario = {}
        if kind == "transfer":
            for scenario in sorted(set(strata)):
                cols = strata == scenario
                r, lo, hi = ratio_with_interval(errors[:, cols], reference[:, cols], strata[cols], seed, n_boot)
                by_scenario[str(scenario)] = {"ratio": r, "ratio_low": lo, "ratio_high": hi}
        out.append({"kind": kind, "source": source, "task": task, "amount": amount, "by_scenario": by_scenario,
                    "error": float(finite.mean()) if finite.size else math.nan,
                    "error_per_seed": [float(np.nanmean(r)) if np.isfinite(r).any() else math.nan for r in errors],
                    "reference_error": float(np.nanmean(reference)) if np.isfinite(reference).any() else math.nan,
                    "ratio": ratio, "ratio_low": low, "ratio_high": high,
                    "n_seeds": int(errors.shape[0]), "n_test_episodes": int(np.isfinite(errors).any(axis=0).sum())})
    return out


def exchange_rates(summary: list[dict], sizes: tuple[float, ...]) -> list[dict]:
    """Per curve source and task: source episodes needed to match ground truth trained on all N, over N."""
    by = {(r["kind"], r["source"], r["task"], r["amount"]): r["error"] for r in summary}
    out = []
    for source, task in sorted({(s, t) for kind, s, t, _ in by if kind == "size" and s != REFERENCE_SOURCE}):
        fractions = sorted(f for f in set(sizes) if f < 1.0) + [1.0]
        curve = np.array([by.get(("size", source, task, f), math.nan) for f in fractions[:-1]]
                         + [by.get(("transfer", source, task, 1.0), math.nan)])
        target = by.get(("transfer", REFERENCE_SOURCE, task, 1.0), math.nan)
        out.append({"source": source, "task": task, **exchange_rate(np.array(fractions), curve, target)})
    return out


def exchange_rate(fractions: np.ndarray, errors: np.ndarray, target: float) -> dict:
    """Fraction of N at which the error curve first reaches `target` (log-linear between the points around it)."""
    ok = np.isfinite(errors)
    if not ok.any() or not math.isfinite(target):
        return {"rate": math.nan, "bound": "none"}
    f, e = fractions[ok], errors[ok]
    reached = np.flatnonzero(e <= target)
    if not reached.size:
        return {"rate": float(f[-1]), "bound": "lower"}
    j = int(reached[0])
    if j == 0:
        return {"rate": float(f[0]), "bound": "upper"}
    w = (e[j - 1] - target) / (e[j - 1] - e[j])
    return {"rate": float(np.exp(np.log(f[j - 1]) + w * (np.log(f[j]) - np.log(f[j - 1])))), "bound": "estimate"}
