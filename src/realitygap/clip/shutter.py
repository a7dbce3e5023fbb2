"""Rolling shutter: most CMOS cameras (phones, webcams) expose the rows of a frame one after another, top to
bottom, over a readout time r. Row v of the frame shown at t_k is taken at t_k + r (v / H - 1/2) (H rows; the
frame's time is its middle row's). A falling object lower in each frame is seen later than the frame's time:
its apparent acceleration is g / (1 - r v'/H)^3 for an image speed v' (rows/s), so a 30 fps clip with a 16 ms
readout reads g about 7 % high on a 1 m drop, with no other sign than a jerk: the apparent acceleration grows
with the speed.

`estimate_readout` finds r from that jerk on a free flight's fitted frames: the readout that makes the track
one parabola per axis in the corrected times (a profile of the residual over r in [0, one frame period]).
It is used only when it is positive beyond `READOUT_SIGMAS` standard deviations and inside the frame period;
air drag gives the opposite sign (the acceleration falls with speed), so it is never mistaken for a shutter.
A user who knows the readout gives it (`--readout-ms`) and nothing is estimated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from realitygap.core.planefit import PlaneTrack

READOUT_SIGMAS = 5.0
"""A readout is applied when it exceeds this many of its standard deviations (a jerk of that significance)."""
MIN_FRAMES = 10
"""Fewest fitted frames the readout is estimated on (a parabola per axis and the readout: 7 parameters)."""


@dataclass(frozen=True)
class Readout:
    """A rolling shutter's readout time (top row to bottom row) in seconds, its standard uncertainty, where
    it came from ('estimated from the free flight's jerk' or '--readout-ms'), and whether it was applied."""

    readout_s: float
    sigma_s: float
    origin: str
    applied: bool

    def to_json(self) -> dict:
        return {"readout_ms": round(self.readout_s * 1e3, 4), "sigma_ms": round(self.sigma_s * 1e3, 4), "origin": self.origin,
                "applied": self.applied}

    def note(self) -> str:
        return (f"rolling shutter: a readout of {self.readout_s * 1e3:.3g} ± {self.sigma_s * 1e3:.2g} ms (top to bottom, "
                f"{self.origin}); each sample's time corrected by its row")


def row_fraction(centroid_row_px: np.ndarray, height_px: int) -> np.ndarray:
    """Row of each sample as a fraction of the frame's height, centred: v / H - 1/2 (rows centred at integers)."""
    return (np.asarray(centroid_row_px, float) + 0.5) / height_px - 0.5


def shutter_times(t_s: np.ndarray, row_frac: np.ndarray, readout_s: float) -> np.ndarray:
    """When each sample was taken (s): the frame's time plus the readout's share of its row."""
    return np.asarray(t_s, float) + readout_s * np.asarray(row_frac, float)


def corrected_track(plane: PlaneTrack, row_frac: np.ndarray, readout_s: float) -> PlaneTrack:
    """`plane` with each sample's time corrected for the readout (`row_frac` per plane sample)."""
    return PlaneTrack(plane.frame, shutter_times(plane.t_s, row_frac, readout_s), plane.xy, plane.sigma, plane.unit)


def parabola_rss(t_s: np.ndarray, xy: np.ndarray, weights: np.ndarray) -> float:
    """Weighted residual sum of squares of one parabola per axis of xy (N, 2) over t_s."""
    tau = t_s - t_s.mean()
    design = np.stack([np.ones_like(tau), tau, tau * tau], axis=1) * weights[:, None]
    target = xy * weights[:, None]
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    return float(np.sum((design @ coef - target) ** 2))


def estimate_readout(t_s: np.ndarray, xy: np.ndarray, sigma: np.ndarray, row_frac: np.ndarray,
                     frame_period_s: float) -> Readout | None:
    """The readout (s) that makes a free flight one parabola per axis in the corrected times, searched in
    [0, `frame_period_s`]; applied when significant (module docstring). None with fewer than `MIN_FRAMES`
    samples or no vertical spread of rows (nothing to estimate it from)."""
    t_s, xy, row_frac = np.asarray(t_s, float), np.asarray(xy, float), np.asarray(row_frac, float)
    n = len(t_s)
    if n < MIN_FRAMES or np.ptp(row_frac) <= 0 or not frame_period_s > 0:
        return None
    s = np.asarray(sigma, float)
    weights = 1.0 / np.where(np.isfinite(s) & (s > 0), s, np.nanmedian(s[s > 0]) if (s > 0).any() else 1.0)

    def rss(readout_s: float) -> float:
        return parabola_rss(shutter_times(t_s, row_frac, readout_s), xy, weights)

    grid = np.linspace(0.0, frame_period_s, 33)
    values = [rss(a) for a in grid]
    k = int(np.argmin(values))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    best = minimize_scalar(rss, bounds=(lo, hi), method="bounded", options={"xatol": frame_period_s * 1e-6})
    a = float(best.x)
    s2 = rss(a) / max(2 * n - 7, 1)  # residual variance per sample (the track's sigma is often too small)
    h = frame_period_s * 1e-3
    curvature = (rss(a + h) - 2 * rss(a) + rss(a - h)) / h**2
    sigma_a = math.sqrt(2 * s2 / curvature) if curvature > 0 else math.inf
    inside = a < frame_period_s * (1 - 1e-3)
    applied = bool(inside and math.isfinite(sigma_a) and a > READOUT_SIGMAS * sigma_a)
    return Readout(a, sigma_a, "estimated from the free flight's jerk", applied)
