"""The carbon-copy validation case with a known answer: a one-dimensional Gaussian refitted, generation after
generation, to samples of the previous generation's fit.

Generation 0 is the maximum-likelihood fit (mean, variance with 1 / M) to M samples of N(0, 1); generation
k + 1 is the fit to:
- 'replace': M samples of generation k only. Then sigma^2_(k+1) = sigma^2_k X / M with X ~ chi^2_(M-1), so
  log sigma^2_k / sigma^2_0 is a sum of k independent log(X / M), each of mean psi((M - 1) / 2) + log(2 / M)
  (psi the digamma function) and variance psi'((M - 1) / 2): the log-variance drifts down by that mean per
  generation (`replace_log_drift`); the median ratio after k generations is exp of the sum's median
  (`replace_median_ratio`: its mean corrected for its skew);
- 'accumulate': the ground truth's M samples and all M-sample draws of generations 0..k: the fit keeps the
  truth's samples and an ever larger pool, and stays near 1;
- 'fresh:F': M samples of generation k plus F x M fresh ground-truth samples.

`simulate(regime, M, generations, runs, seed)` returns the variance ratio sigma^2_k / sigma^2_0 per run and
generation (runs, generations + 1), vectorised over runs, deterministic for a seed.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import digamma, polygamma


def parse_regime(regime: str) -> tuple[str, float]:
    """'replace' | 'accumulate' | 'fresh:F' (F >= 0) -> (name, fresh fraction); ValueError otherwise."""
    if regime in ("replace", "accumulate"):
        return regime, 0.0
    if regime.startswith("fresh:"):
        fraction = float(regime.split(":", 1)[1])
        if math.isfinite(fraction) and fraction >= 0:
            return "fresh", fraction
    raise ValueError(f"regime {regime!r}: give replace, accumulate or fresh:F with F >= 0")


def simulate(regime: str, samples: int, generations: int, runs: int, seed: int) -> np.ndarray:
    """(runs, generations + 1) variance ratio sigma^2_k / sigma^2_0 of the refitted Gaussians (module
    docstring); generation 0 is the fit to `samples` draws of N(0, 1). Sufficient statistics (count, sum,
    sum of squares) carry the pooled data of 'accumulate'."""
    name, fresh = parse_regime(regime)
    if samples < 2 or generations < 0 or runs < 1:
        raise ValueError("need samples >= 2, generations >= 0, runs >= 1")
    rng = np.random.default_rng(seed)
    truth = rng.standard_normal((runs, samples))
    count, total, squares = float(samples), truth.sum(axis=1), (truth**2).sum(axis=1)
    mean, var = total / count, squares / count - (total / count) ** 2
    first = var.copy()
    ratios = np.ones((runs, generations + 1))
    n_fresh = int(round(fresh * samples))
    for k in range(1, generations + 1):
        drawn = mean[:, None] + np.sqrt(var)[:, None] * rng.standard_normal((runs, samples))
        if name == "accumulate":  # everything so far, the ground truth's samples included
            count, total, squares = count + samples, total + drawn.sum(axis=1), squares + (drawn**2).sum(axis=1)
        else:
            count, total, squares = float(samples), drawn.sum(axis=1), (drawn**2).sum(axis=1)
            if n_fresh:
                extra = rng.standard_normal((runs, n_fresh))
                count, total, squares = count + n_fresh, total + extra.sum(axis=1), squares + (extra**2).sum(axis=1)
        mean = total / count
        var = np.maximum(squares / count - mean**2, 0.0)
        ratios[:, k] = var / first
    return ratios


def replace_log_drift(samples: int) -> float:
    """E[log sigma^2_(k+1) / sigma^2_k] under 'replace': psi((M - 1) / 2) + log(2 / M)."""
    return float(digamma((samples - 1) / 2) + math.log(2 / samples))


def replace_median_ratio(samples: int, generation: int) -> float:
    """Median of sigma^2_k / sigma^2_0 under 'replace' at generation k: the k-fold sum of log(X / M), X ~
    chi^2_(M-1), has mean k psi((M-1)/2) + k log(2/M), variance k psi'((M-1)/2) and third cumulant
    k psi''((M-1)/2); its median by the Cornish-Fisher expansion, mean - skewness sd / 6."""
    if generation == 0:
        return 1.0
    half = (samples - 1) / 2
    mean = generation * replace_log_drift(samples)
    variance = generation * float(polygamma(1, half))
    third = generation * float(polygamma(2, half))
    skew = third / variance**1.5
    return float(math.exp(mean - skew * math.sqrt(variance) / 6))


def gaussian_curves(regimes: tuple[str, ...], samples: int = 100, generations: int = 50, runs: int = 4000,
                    seed: int = 0) -> dict:
    """The known-answer case for the report: per regime the median and the 5 % / 95 % quantiles of the variance
    ratio per generation over `runs` runs, and replace's theory (`replace_median_ratio`)."""
    out = {"samples": samples, "runs": runs, "generation": list(range(generations + 1)), "regimes": {},
           "replace_theory": [replace_median_ratio(samples, k) for k in range(generations + 1)]}
    for i, regime in enumerate(dict.fromkeys(("replace",) + tuple(regimes))):
        ratios = simulate(regime, samples, generations, runs, seed + i)
        low, median, high = np.quantile(ratios, [0.05, 0.5, 0.95], axis=0)
        out["regimes"][regime] = {"median": median.tolist(), "q05": low.tolist(), "q95": high.tolist()}
    return out
