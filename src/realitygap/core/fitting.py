"""The one law-fitting stack: weighted least squares, error propagation and the window helpers
that every law fit uses (a scenario's fit on metric tracks, measure-clip's fits on plane tracks).

Statistics. Fits are (weighted) least squares with weights 1 / sigma^2. Uncertainties are one
standard deviation from the fit covariance scaled by the residual, as scipy.optimize.curve_fit does
by default: cov = (J^T W J)^-1 chi2 / dof, so they also hold when sigma is off by a constant factor.
Derived quantities (impact time, stopping distance, ...) carry the covariance through a
central-difference Jacobian (first order). `reduced_chi2` = chi2 / dof with the given sigma: about 1
when the law and the noise model explain the data, much larger when the data do not follow the
law's form (or sigma is underestimated). `bootstrap_linear` gives distribution-free uncertainties by
resampling the residuals instead.

Types: `MeasuredTrack` (one object's trajectory in world metres) is what the episode path fits;
`FitResult` is one fitted or derived quantity with its goodness of fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, NamedTuple

import numpy as np
from scipy.optimize import brentq, least_squares

NOISE_MARGIN_SIGMAS = 4.0
"""A ball counts as airborne when its centre is this many sigma (and >= MIN_MARGIN_M) above contact height."""
MIN_MARGIN_M = 1e-3
MIN_ARC_FRAMES = 3
"""Fewest airborne frames of a bounce arc (two own parameters + the shared g)."""
ARC_OUTLIER_FACTOR = 4.0
"""A bounce arc whose RMS residual exceeds this multiple of the typical arc's (and 3 sigma) ends the fit:
it merges an unresolved small bounce, or something else pulled the track off the law."""


@dataclass(frozen=True)
class MeasuredTrack:
    """One object's trajectory in world metres, on the camera's frame clock.

    t_s (T,) seconds; present (T,) bool; position_m (T, 3) world metres, NaN where absent or not
    back-projectable; sigma_m (T, 3) one-sigma uncertainty per world axis (metres, NaN where absent);
    visible_fraction (T,) optional, the fraction of the object's full image area that is seen (1 =
    unoccluded; e.g. (radius_px / radius_px when unoccluded)^2 from a tracker, or the annotations'
    visible_fraction), NaN or None where unknown.
    """

    name: str
    t_s: np.ndarray
    present: np.ndarray
    position_m: np.ndarray
    sigma_m: np.ndarray
    visible_fraction: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.t_s)
        if self.present.shape != (n,) or self.position_m.shape != (n, 3) or self.sigma_m.shape != (n, 3):
            raise ValueError(f"track {self.name}: t_s {np.shape(self.t_s)}, present {self.present.shape}, "
                             f"position_m {self.position_m.shape}, sigma_m {self.sigma_m.shape} do not agree")
        if self.visible_fraction is not None and np.shape(self.visible_fraction) != (n,):
            raise ValueError(f"track {self.name}: visible_fraction must have shape ({n},)")

    @property
    def valid(self) -> np.ndarray:
        """(T,) bool: present with a finite position."""
        return np.asarray(self.present, bool) & np.all(np.isfinite(self.position_m), axis=1)

    def axis(self, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(t_s, position_m, sigma_m) of one world axis (0 = x, 1 = y, 2 = z) over the valid frames."""
        valid = self.valid
        return np.asarray(self.t_s, float)[valid], self.position_m[valid, axis], self.sigma_m[valid, axis]


@dataclass(frozen=True)
class FitResult:
    """A quantity measured by a law fit: value and one-sigma uncertainty in `unit`, with the fit's
    goodness: unweighted RMS residual (in `residual_unit`), degrees of freedom and reduced chi-square.
    value NaN means not measurable here; `note` says why."""

    value: float
    unit: str
    uncertainty: float
    residual_rms: float
    residual_unit: str
    dof: int
    reduced_chi2: float
    method: str = ""
    note: str = ""


def unmeasured(keys_units: Mapping[str, str], note: str) -> dict[str, FitResult]:
    """NaN FitResults for quantities that cannot be measured here, each with `note` saying why."""
    return {k: FitResult(float("nan"), u, float("nan"), float("nan"), "", 0, float("nan"), "", note)
            for k, u in keys_units.items()}


class Fit(NamedTuple):
    """A least-squares fit: parameters, their covariance (scaled by chi2 / dof), and its goodness."""

    params: np.ndarray
    cov: np.ndarray
    residual_rms: float
    residual_unit: str
    dof: int
    reduced_chi2: float
    method: str

    def result(self, fn: Callable[[np.ndarray], float], unit: str, note: str = "") -> FitResult:
        """FitResult of the derived quantity fn(params), its uncertainty propagated to first order."""
        value, uncertainty = propagate(lambda c: np.array([fn(c)]), self.params, self.cov)
        return FitResult(float(value[0]), unit, float(uncertainty[0]), self.residual_rms, self.residual_unit, self.dof,
                         self.reduced_chi2, self.method, note)

    def derive(self, fn: Callable[[np.ndarray], Mapping[str, float]], units: Mapping[str, str],
               notes: Mapping[str, str] | None = None) -> dict[str, FitResult]:
        """FitResults of several derived quantities {name: value} = fn(params), propagated together
        (one Jacobian: fn is evaluated 2 P + 1 times)."""
        names = list(units)
        values, uncertainties = propagate(lambda c: np.array([fn(c)[k] for k in names], float), self.params, self.cov)
        notes = notes or {}
        return {k: FitResult(float(v), units[k], float(u), self.residual_rms, self.residual_unit, self.dof,
                             self.reduced_chi2, self.method, notes.get(k, ""))
                for k, v, u in zip(names, values, uncertainties)}


def linear_fit(design: np.ndarray, y: np.ndarray, sigma: np.ndarray, residual_unit: str, method: str) -> Fit:
    """Weighted linear least squares y ~ design @ c with weights 1 / sigma^2.

    cov = (A^T W A)^-1 chi2_red (chi2_red = chi2 / dof; dof = N - P >= 1, else the covariance is NaN).
    """
    s = safe_sigma(sigma)
    A = np.asarray(design, float) / s[:, None]
    b = np.asarray(y, float) / s
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    residual = np.asarray(y, float) - design @ coef
    return _finish(coef, A, residual, s, residual_unit, method)


def nonlinear_fit(model: Callable[[np.ndarray], np.ndarray], y: np.ndarray, sigma: np.ndarray, p0: np.ndarray,
                  residual_unit: str, method: str, bounds=(-np.inf, np.inf)) -> Fit:
    """Weighted nonlinear least squares (scipy least_squares, trust-region reflective, 2-point Jacobian):
    minimises sum ((model(c) - y) / sigma)^2; cov = (J^T J)^-1 chi2_red at the optimum (J of the weighted
    residuals)."""
    s = safe_sigma(sigma)
    y = np.asarray(y, float)
    lower = np.broadcast_to(np.asarray(bounds[0], float), (len(p0),))
    upper = np.broadcast_to(np.asarray(bounds[1], float), (len(p0),))
    inset = 1e-9 * np.maximum(np.abs(np.asarray(p0, float)), 1.0)
    start = np.minimum(np.maximum(np.asarray(p0, float), lower + inset), upper - inset)
    solution = least_squares(lambda c: (model(c) - y) / s, start, bounds=(lower, upper), x_scale="jac",
                             xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=2000)
    residual = y - model(solution.x)
    return _finish(solution.x, solution.jac, residual, s, residual_unit, method)


def propagate(fn: Callable[[np.ndarray], np.ndarray], params: np.ndarray, cov: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """(fn(params), sqrt(diag(G cov G^T))) for a vector-valued fn, G its central-difference Jacobian with
    steps of 1e-3 of each parameter's standard deviation (1e-7 relative where that is zero). NaN
    uncertainties where fn fails near params or the covariance is undefined; NaN values where fn fails."""
    params = np.asarray(params, float)
    try:
        value = np.asarray(fn(params), float)
    except (ValueError, ZeroDivisionError, FloatingPointError, ArithmeticError):
        return np.array([np.nan]), np.array([np.nan])
    nan = np.full(value.shape, np.nan)
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None)) if np.all(np.isfinite(cov)) else None
    if sd is None:
        return value, nan
    steps = np.where(sd > 0, 1e-3 * sd, 1e-7 * np.maximum(np.abs(params), 1.0))
    jacobian = np.zeros((value.size, params.size))
    for i, h in enumerate(steps):
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        try:
            jacobian[:, i] = (np.asarray(fn(up), float) - np.asarray(fn(down), float)) / (2 * h)
        except (ValueError, ZeroDivisionError, FloatingPointError, ArithmeticError):
            return value, nan
    variance = np.einsum("ij,jk,ik->i", jacobian, cov, jacobian)
    return value, np.where(variance >= 0, np.sqrt(np.abs(variance)), np.nan)


def bootstrap_linear(design: np.ndarray, Y: np.ndarray, sigma: np.ndarray, derived, rng: np.random.Generator,
                     n_boot: int) -> tuple[dict, dict, np.ndarray]:
    """Weighted least squares Y (N, D) ~ design @ C and a residual bootstrap of derived(C) -> {name: value}:
    the weighted residuals (leverage corrected, centred) are resampled with replacement, added to the
    fitted values and refitted `n_boot` times. Returns (values, standard deviations over the bootstrap, C)."""
    w = 1.0 / np.asarray(sigma, float)
    A = design * w[:, None]
    B = Y * w[:, None]
    pinv = np.linalg.pinv(A)
    C = pinv @ B
    fitted = A @ C
    hat = np.clip(np.einsum("ij,ji->i", A, pinv), 0.0, 0.99)
    resid = (B - fitted) / np.sqrt(1 - hat)[:, None]
    resid -= resid.mean(axis=0)
    values = derived(C)
    draws = {k: [] for k in values}
    for _ in range(n_boot):
        sample = fitted + resid[rng.integers(0, len(resid), len(resid))]
        try:
            d = derived(pinv @ sample)
        except (ValueError, ZeroDivisionError, FloatingPointError):
            continue
        for k in values:
            draws[k].append(d[k])
    sigmas = {k: float(np.nanstd(v, ddof=1)) if np.count_nonzero(~np.isnan(v)) > 1 else math.nan for k, v in draws.items()}
    return values, sigmas, C


def safe_sigma(sigma: np.ndarray) -> np.ndarray:
    """Sigma with non-positive or non-finite entries replaced by the median positive one (all ones
    when there is none: then the fit is unweighted and chi2 / dof is the residual variance)."""
    s = np.asarray(sigma, float).copy()
    good = np.isfinite(s) & (s > 0)
    if not good.any():
        return np.ones_like(s)
    s[~good] = float(np.median(s[good]))
    return s


def typical_sigma(sigma: np.ndarray) -> float:
    """Median of the finite entries of `sigma` (0 when there is none)."""
    s = np.asarray(sigma, float)
    s = s[np.isfinite(s)]
    return float(np.median(s)) if s.size else 0.0


def noise_margin_m(sigma_m: np.ndarray) -> float:
    """Height above contact that counts as airborne: NOISE_MARGIN_SIGMAS typical sigmas, at least MIN_MARGIN_M."""
    return max(NOISE_MARGIN_SIGMAS * typical_sigma(sigma_m), MIN_MARGIN_M)


def leading_run(mask: np.ndarray) -> np.ndarray:
    """The first run of True in `mask` (boolean array of the same shape)."""
    out = np.zeros(len(mask), bool)
    true = np.flatnonzero(mask)
    if true.size == 0:
        return out
    start = int(true[0])
    false_after = np.flatnonzero(~np.asarray(mask[start:], bool))
    stop = start + int(false_after[0]) if false_after.size else len(mask)
    out[start:stop] = True
    return out


def longest_run(mask: np.ndarray) -> np.ndarray:
    """The longest run of True in `mask` (the first of equal ones)."""
    m = np.r_[False, np.asarray(mask, bool), False].astype(int)
    starts, stops = np.flatnonzero(np.diff(m) == 1), np.flatnonzero(np.diff(m) == -1)
    out = np.zeros(len(mask), bool)
    if starts.size:
        i = int(np.argmax(stops - starts))
        out[starts[i]:stops[i]] = True
    return out


def inner_gaps(present: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of every run of absent frames with present frames on both sides."""
    absent = np.r_[False, ~np.asarray(present, bool), False].astype(int)
    starts, stops = np.flatnonzero(np.diff(absent) == 1), np.flatnonzero(np.diff(absent) == -1)
    return [(int(a), int(b) - 1) for a, b in zip(starts, stops) if a > 0 and b < len(present)]


def bracketed_root(fn: Callable[[float], float], inside: float, outside: float) -> float:
    """Root of fn between `inside` (fn > 0) and `outside`, moving `outside` away until the sign changes."""
    for _ in range(40):
        if fn(outside) < 0:
            return float(brentq(fn, min(inside, outside), max(inside, outside), xtol=1e-13, rtol=1e-13))
        outside = inside + 2 * (outside - inside)
    raise ValueError("no crossing found")


def arc_design(t: np.ndarray, arcs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(design, rows) of parabolic arcs with one shared g: rows = the arcs' frames concatenated; columns
    g, then (a_k, b_k) per arc, for z = a_k + b_k tau - g tau^2 / 2 with tau = t - mean t of arc k."""
    rows = np.concatenate(arcs)
    design = np.zeros((len(rows), 1 + 2 * len(arcs)))
    offset = 0
    for i, frames in enumerate(arcs):
        tau = t[frames] - t[frames].mean()
        block = slice(offset, offset + len(frames))
        design[block, 0] = -tau**2 / 2
        design[block, 1 + 2 * i] = 1.0
        design[block, 2 + 2 * i] = tau
        offset += len(frames)
    return design, rows


def fit_arcs(t: np.ndarray, z: np.ndarray, sigma: np.ndarray, arcs: list[np.ndarray]) -> tuple[Fit, np.ndarray]:
    """Joint linear fit of parabolas with a shared g over the arcs (`arc_design`); also each arc's RMS residual."""
    design, rows = arc_design(t, arcs)
    fit = linear_fit(design, z[rows], sigma[rows], "m", "parabolic arcs with one shared g")
    residual = z[rows] - design @ fit.params
    bounds = np.cumsum([0] + [len(a) for a in arcs])
    arc_rms = np.array([np.sqrt(np.mean(residual[a:b] ** 2)) for a, b in zip(bounds[:-1], bounds[1:])])
    return fit, arc_rms


def oscillation_guess(t: np.ndarray, angle: np.ndarray) -> tuple[float, float, float, float] | None:
    """(amplitude, period, time of a maximum, offset) of an oscillation from its samples: period = twice
    the mean spacing of the interpolated crossings of the mid level; None with fewer than 3 crossings."""
    if len(angle) < 4:
        return None
    high, low = float(np.max(angle)), float(np.min(angle))
    offset = (high + low) / 2
    s = angle - offset
    i = np.flatnonzero(np.sign(s[:-1]) * np.sign(s[1:]) < 0)
    if len(i) < 3:
        return None
    crossings = t[i] + (t[i + 1] - t[i]) * s[i] / (s[i] - s[i + 1])
    period = 2 * float(np.mean(np.diff(crossings)))
    return (high - low) / 2, period, float(t[int(np.argmax(angle))]), offset


def _finish(coef, weighted_jacobian, residual, sigma, residual_unit, method) -> Fit:
    n, k = weighted_jacobian.shape
    dof = n - k
    chi2 = float(np.sum((residual / sigma) ** 2))
    reduced = chi2 / dof if dof > 0 else float("nan")
    try:
        cov = np.linalg.pinv(weighted_jacobian.T @ weighted_jacobian) * reduced
    except np.linalg.LinAlgError:
        cov = np.full((k, k), np.nan)
    rms = float(np.sqrt(np.mean(residual**2))) if n else float("nan")
    return Fit(np.asarray(coef, float), cov, rms, residual_unit, dof, reduced, method)
