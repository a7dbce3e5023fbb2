"""Bootstrap intervals over episodes, stratified by scenario.

A source's statistic over a dataset (a share of checks passed, a median error) pools rows from its
episodes; episodes are the units that were sampled (contexts drawn from the scenarios' domains), the
scenarios are a fixed design. So intervals resample episodes with replacement *within each scenario*
(a stratified cluster bootstrap: an episode's rows travel together) and recompute the pooled
statistic; the interval is the percentile interval of `n_boot` resamples (seeded). A scenario with
one episode contributes that episode to every resample: its uncertainty is not seen, and an interval
over a single episode is NaN.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable, Sequence

import numpy as np

N_BOOT = 1000
LEVEL = 0.95


def stratified_bootstrap(groups: Sequence[np.ndarray], strata: Sequence[str], statistic: Callable[[np.ndarray], float],
                         *, seed: int, n_boot: int = N_BOOT, level: float = LEVEL) -> tuple[float, float, float]:
    """(statistic of all rows, low, high): `groups[i]` holds the rows (any leading-axis array) of episode i in
    stratum `strata[i]`; each resample draws, per stratum, as many episodes as it has, with replacement,
    and applies `statistic` to their rows stacked. Low/high are the (1 - level) / 2 and (1 + level) / 2
    percentiles; NaN when there are fewer than two episodes or the statistic is undefined.
    `share`, `finite_mean` and `finite_median` of one value per episode are computed for all resamples at once."""
    groups = [np.asarray(g) for g in groups]
    if not groups:
        return math.nan, math.nan, math.nan
    value = _safe(statistic, np.concatenate(groups))
    if len(groups) < 2:
        return value, math.nan, math.nan
    chosen = resample_indices(strata, seed, n_boot)
    if statistic is share:
        hits = np.array([np.count_nonzero(g) for g in groups], float)
        sizes = np.array([g.size for g in groups], float)
        with np.errstate(invalid="ignore", divide="ignore"):
            draws = hits[chosen].sum(axis=1) / sizes[chosen].sum(axis=1)
    elif statistic in _AXIS_STATISTICS and all(g.size == 1 for g in groups):
        values = np.array([float(g.reshape(-1)[0]) for g in groups])[chosen]
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            draws = _AXIS_STATISTICS[statistic](np.where(np.isfinite(values), values, np.nan), axis=1)
    else:
        draws = np.array([_safe(statistic, np.concatenate([groups[i] for i in row])) for row in chosen])
    draws = draws[np.isfinite(draws)]
    if draws.size < n_boot // 2:
        return value, math.nan, math.nan
    low, high = np.percentile(draws, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return value, float(low), float(high)


def resample_indices(strata: Sequence[str], seed: int, n_boot: int = N_BOOT) -> np.ndarray:
    """(n_boot, n) episode indices: per resample and stratum, as many of its episodes as it has, with replacement."""
    rng = np.random.default_rng(seed)
    by_stratum: dict[str, list[int]] = {}
    for i, stratum in enumerate(strata):
        by_stratum.setdefault(stratum, []).append(i)
    parts = [np.array(members)[rng.integers(0, len(members), (n_boot, len(members)))]
             for _, members in sorted(by_stratum.items())]
    return np.concatenate(parts, axis=1)


def share(rows: np.ndarray) -> float:
    """Fraction of True in a boolean array (NaN when empty)."""
    rows = np.asarray(rows, bool)
    return float(rows.mean()) if rows.size else math.nan


def finite_median(rows: np.ndarray) -> float:
    """Median of the finite values (NaN when none)."""
    rows = np.asarray(rows, float)
    rows = rows[np.isfinite(rows)]
    return float(np.median(rows)) if rows.size else math.nan


def finite_mean(rows: np.ndarray) -> float:
    rows = np.asarray(rows, float)
    rows = rows[np.isfinite(rows)]
    return float(np.mean(rows)) if rows.size else math.nan


def _safe(statistic: Callable[[np.ndarray], float], rows: np.ndarray) -> float:
    try:
        value = float(statistic(rows))
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return math.nan
    return value if math.isfinite(value) else math.nan


_AXIS_STATISTICS = {finite_median: np.nanmedian, finite_mean: np.nanmean}
