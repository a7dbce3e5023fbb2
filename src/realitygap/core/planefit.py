"""Law fits on one object's track in its motion plane (what `realitygap measure-clip` fits): the track
type, the fit windows, the generic parabola fit and the result types. Every scenario that can be
measured from a clip builds its `fit_clip` from these (see `realitygap.scenarios.drop`).

Windows (when the user gives none):
- release: the first frame where the object has left its first position by more than RELEASE_SIGMAS
  sigma (a held object is at rest before), then one earlier frame when it fits the law;
- growth: from the scenario's `clip_min_frames` frames after the release the window grows frame by
  frame while each next frame lies within JUMP_SIGMAS prediction sigmas of the fit so far; where two
  successive frames do not (the law's residual jumps) the window ends and the fit says why: an
  impact (the object reverses or stops), or something else (an occlusion, a hand, a second object
  merging with the object); frames after it are not used. A single outlying frame is skipped.

Uncertainties come from a residual bootstrap (`realitygap.core.fitting.bootstrap_linear`, seeded).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from realitygap.core.fitting import bootstrap_linear
from realitygap.runtime.errors import InputError

JUMP_SIGMAS = 6.0
RELEASE_SIGMAS = 4.0
NOISE_FLOOR_PX = 0.3
"""Least per-axis position noise assumed (px; compressed video), for the window tests."""
N_BOOT = 200


@dataclass(frozen=True)
class PlaneTrack:
    """The object's usable frames in the motion plane: frame index, t_s (N,) s, xy (N, 2) (horizontal,
    up) in `unit` ('m' or 'px'), sigma (N,) per-axis standard uncertainty in the same unit."""

    frame: np.ndarray
    t_s: np.ndarray
    xy: np.ndarray
    sigma: np.ndarray
    unit: str

    def frames_between(self, first: int, stop: int) -> "PlaneTrack":
        """The frames first..stop-1 of the clip."""
        keep = (self.frame >= first) & (self.frame < stop)
        return PlaneTrack(self.frame[keep], self.t_s[keep], self.xy[keep], self.sigma[keep], self.unit)


@dataclass
class ClipQuantity:
    """One quantity a clip fit measured: value and one-sigma uncertainty in `unit`."""

    value: float
    uncertainty: float
    unit: str
    note: str = ""
    metric: bool = False
    """True when it needs the image scale (refused without one)."""


@dataclass
class ClipFit:
    """Result of one law fit: quantities, refused (metric without scale: name -> reason), the window
    (first, last frame used, how it ended), notes, and the model for plotting (t_s, xy)."""

    law: str
    quantities: dict[str, ClipQuantity]
    refused: dict[str, str]
    window: dict
    notes: list[str] = field(default_factory=list)
    used_frames: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    model_t_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    model_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    statistical: dict[str, float] = field(default_factory=dict)
    """Per quantity: the statistical (bootstrap) part of its uncertainty (`realitygap.clip.fit.fit_clip`)."""
    systematic: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per quantity: its systematic parts ('window', 'scale', 'time_base'), one sigma each, same unit."""


@dataclass
class ParabolaFit:
    """A parabola xy(t) = c0 + c1 tau + c2 tau^2 (tau = t - t_mean, per axis) over a window of a plane track:
    the frames used, the bootstrap values and sigmas of the derived quantities, the coefficients (3, 2),
    how the window ended and the skipped frames (indices into the track)."""

    used: np.ndarray
    t_mean: float
    values: dict
    sigmas: dict
    coefficients: np.ndarray
    ended: str
    skipped: list[int]


def fit_parabola(track: PlaneTrack, noise: np.ndarray, derived: Callable[[np.ndarray, float, float], dict],
                 rng: np.random.Generator, n_boot: int, *, min_frames: int, law: str, automatic: bool,
                 stop_at_rest: bool = False) -> ParabolaFit:
    """Fit a parabola per axis over the automatic window (`automatic`, see the module docstring) or the
    whole track, and bootstrap derived(C, t_mean, t_first_used) -> {name: value}. `stop_at_rest`: the
    object comes to rest (a slide): frames after it last moved are not offered to the window.
    InputError with fewer than `min_frames` usable frames."""
    t, xy = track.t_s, track.xy
    if automatic:
        stop = len(t)
        if stop_at_rest:  # at rest after the stop: the parabola would turn back, the object does not
            moving = np.flatnonzero(np.hypot(*(xy - xy[-1]).T) > RELEASE_SIGMAS * np.sqrt(2) * noise)
            stop = int(moving[-1]) + 1 if len(moving) else len(t)
        lo, hi, skipped, ended = grow_window(t[:stop], xy[:stop], noise[:stop], release_index(xy, noise), min_frames,
                                             parabola_design)
        if stop_at_rest and hi == stop < len(t):
            ended = f"the object comes to rest at t = {t[stop]:.3f} s"
    else:
        lo, hi, skipped, ended = 0, len(t), [], "end of --frames"
    used = np.array([i for i in range(lo, hi) if i not in skipped])
    if len(used) < min_frames:
        raise InputError(f"too few frames for the {law} law: {len(used)} usable frames of free motion "
                         f"(need {min_frames}; frames {track.frame[lo]}-{track.frame[max(hi - 1, lo)]})")
    t_mean = float(t[used].mean())
    values, sigmas, fitted = bootstrap_linear(parabola_design(t[used], t_mean), xy[used], noise[used],
                                              lambda C: derived(C, t_mean, float(t[used[0]])), rng, n_boot)
    return ParabolaFit(used, t_mean, values, sigmas, fitted, ended, list(skipped))


def parabola_clip_fit(law: str, track: PlaneTrack, fit: ParabolaFit, quantities: dict[str, ClipQuantity]) -> ClipFit:
    """The ClipFit of a parabola fit: its window, notes on skipped frames and why the window ended, and
    the fitted curve on 100 times for plotting."""
    notes = []
    if fit.skipped:
        notes.append(f"skipped {len(fit.skipped)} outlying frame(s): {', '.join(str(int(track.frame[i])) for i in fit.skipped)}")
    if fit.ended not in ("end of track", "end of --frames"):
        notes.append(fit.ended)
    t = track.t_s
    grid = np.linspace(t[fit.used[0]], t[fit.used[-1]], 100)
    return ClipFit(law, quantities, {}, window_summary(track, fit.used, fit.ended), notes, track.frame[fit.used], grid,
                   parabola_design(grid, fit.t_mean) @ fit.coefficients)


def parabola_design(t: np.ndarray, t_mean: float | None = None) -> np.ndarray:
    """Columns 1, tau, tau^2 with tau = t - t_mean (default: the mean of t)."""
    tau = t - (float(np.mean(t)) if t_mean is None else t_mean)
    return np.stack([np.ones_like(tau), tau, tau**2], axis=1)


def release_index(xy: np.ndarray, noise: np.ndarray) -> int:
    """First frame that has left frame 0's position by more than RELEASE_SIGMAS noise, minus one (the
    last frame at rest may already be on the law; `grow_window` tests it); InputError if none."""
    moved = np.hypot(*(xy - xy[0]).T) > RELEASE_SIGMAS * np.sqrt(2) * np.median(noise)
    if not moved.any():
        raise InputError("the object does not move (no frame leaves its first position by more than the noise)")
    return max(int(np.argmax(moved)) - 1, 0)


def grow_window(t: np.ndarray, xy: np.ndarray, noise: np.ndarray, start: int, min_frames: int,
                design_fn) -> tuple[int, int, list[int], str]:
    """(lo, hi, skipped, why it ended) of the window [lo, hi) grown from `start` (see module docstring).
    The first frame (start) is dropped when it does not fit the law of the next ones (still at rest)."""
    n = len(t)
    lo, hi = start, min(start + min_frames, n)
    if hi - lo < min_frames:
        return lo, hi, [], "end of track"
    # the last frame at rest may precede the release: keep it only if it fits the law of the next frames
    if lo == start and _jumps(t, xy, noise, list(range(lo + 1, min(lo + 1 + min_frames, n))), lo, design_fn):
        lo, hi = lo + 1, min(lo + 1 + min_frames, n)
    skipped: list[int] = []
    while hi < n:
        used = [i for i in range(lo, hi) if i not in skipped]
        if not _jumps(t, xy, noise, used, hi, design_fn):
            hi += 1
            continue
        if hi + 1 < n and not _jumps(t, xy, noise, used, hi + 1, design_fn):
            skipped.append(hi)
            hi += 2
            continue
        return lo, hi, skipped, _why_stopped(t, xy, used, hi, design_fn)
    return lo, hi, skipped, "end of track"


def _jumps(t, xy, noise, used: list[int], k: int, design_fn) -> bool:
    """Whether frame k lies more than JUMP_SIGMAS prediction sigmas from the fit over `used`."""
    if len(used) < 4:
        return False
    t_mean = float(t[used].mean())
    A = design_fn(t[used], t_mean) / noise[used, None]
    C, *_ = np.linalg.lstsq(A, xy[used] / noise[used, None], rcond=None)
    resid = (xy[used] - design_fn(t[used], t_mean) @ C) / noise[used, None]
    dof = max(len(used) - A.shape[1], 1)
    scale = max(1.0, float(np.sqrt(np.sum(resid**2) / (2 * dof))))
    a = design_fn(t[k:k + 1], t_mean)[0] / noise[k]
    lever = float(a @ np.linalg.pinv(A.T @ A) @ a)
    r = (xy[k] - design_fn(t[k:k + 1], t_mean)[0] @ C) / noise[k]
    return bool(np.max(np.abs(r)) > JUMP_SIGMAS * scale * math.sqrt(1 + lever))


def _why_stopped(t, xy, used, k, design_fn) -> str:
    """'impact ...' when the object's motion along the fitted acceleration stops short (it hits the floor
    or comes to rest), else a 'law residual jumps' note (something pulled the track off the law)."""
    t_mean = float(t[used].mean())
    C, *_ = np.linalg.lstsq(design_fn(t[used], t_mean), xy[used], rcond=None)
    acceleration = 2 * C[2] / max(float(np.hypot(*C[2])), 1e-12)
    predicted = float((design_fn(t[k:k + 1], t_mean)[0] @ C - xy[used[-1]]) @ acceleration)
    actual = float((xy[k] - xy[used[-1]]) @ acceleration)
    if predicted > 0 and actual < 0.5 * predicted:
        return f"impact: the object reverses or stops at frame index {k} (t = {t[k]:.3f} s); the fit ends before it"
    return (f"fit stopped at t = {t[k]:.3f} s: the law's residual jumps there (an occlusion, a hand or a second "
            "object?); later frames are not used")


def window_summary(track: PlaneTrack, used: np.ndarray, ended: str) -> dict:
    """First and last frame used, their count and times, and how the window ended (clip.json's window)."""
    return {"first_frame": int(track.frame[used[0]]), "last_frame": int(track.frame[used[-1]]), "frames_used": int(len(used)),
            "t_start_s": float(track.t_s[used[0]]), "t_end_s": float(track.t_s[used[-1]]), "ended": ended}
