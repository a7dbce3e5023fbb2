"""Law fits on a clip's track in the motion plane (metres with a scale, pixels without).

`fit_clip(law, track, ...)` fits the law of the scenario of that name (`ScenarioSpec.fit_clip`: each
scenario that can be measured from a clip owns its fit, built on `realitygap.core.planefit`), then
refuses the quantities that need a scale when there is none and adds the scale's relative uncertainty
in quadrature to the metric ones. The window is automatic unless `frames=(a, b)` (frames a..b-1 of
the clip) is given; uncertainties come from a seeded residual bootstrap.
"""

from __future__ import annotations

import math

import numpy as np

from realitygap.core.planefit import N_BOOT, NOISE_FLOOR_PX, ClipFit, PlaneTrack
from realitygap.runtime.errors import InputError
from realitygap.scenarios import get_scenario, scenario_names

SCALE_HINT = "give --scale PX_PER_M, --object-diameter M or --calibration FILE"


def clip_laws() -> tuple[str, ...]:
    """The laws measure-clip can fit: the scenarios with a clip fit, in registry order."""
    return tuple(name for name in scenario_names() if get_scenario(name).clip_min_frames > 0)


def clip_law(law: str):
    """The scenario whose law `--law` names; InputError for any other name."""
    laws = clip_laws()
    if law not in laws:
        raise InputError(f"--law {law!r}: choose one of {', '.join(laws)}")
    return get_scenario(law)


def fit_clip(law: str, track: PlaneTrack, *, unit_per_px: float, rel_scale_sigma: float = 0.0,
             rel_time_sigma: float = 0.0, frames: tuple[int, int] | None = None, length_m: float | None = None,
             seed: int = 0, n_boot: int = N_BOOT) -> ClipFit:
    """Fit `law` to `track` (see the module docstring). `unit_per_px`: track units per image pixel
    (for the noise floor); `rel_scale_sigma`, `rel_time_sigma`: relative standard uncertainties of the
    scale (metres per unit) and of the frame rate. InputError when the law cannot be measured on the track.

    Each quantity's `uncertainty` is the total: the statistical one (residual bootstrap) and the systematic
    parts in quadrature, kept apart in `ClipFit.systematic[name]`: 'window' (automatic windows: the rms
    change when the fit loses the first or the last `WINDOW_TRIM` of its frames), 'scale' (metric
    quantities) and 'time_base' (power of seconds in the unit x the frame rate's uncertainty)."""
    scenario = clip_law(law)
    if frames is not None:
        track = track.frames_between(*frames)
    if len(track.t_s) < 3:
        raise InputError(f"too few frames for the {law} law: the object is seen in {len(track.t_s)} frames"
                         + (f" of --frames {frames[0]}:{frames[1]}" if frames else ""))
    rng = np.random.default_rng(seed)
    noise = np.maximum(track.sigma, NOISE_FLOOR_PX * unit_per_px)
    result = scenario.fit_clip(track, noise, rng, n_boot, automatic=frames is None, length_m=length_m)
    if track.unit != "m":
        for name in [k for k, q in result.quantities.items() if q.metric]:
            del result.quantities[name]
            result.refused[name] = f"metric quantity refused: no scale ({SCALE_HINT})"
    window = window_sensitivity(scenario, track, noise, result, length_m, seed) if frames is None else {}
    for name, q in result.quantities.items():
        parts = {"window": window.get(name, 0.0),
                 "scale": rel_scale_sigma * abs(q.value) if q.metric else 0.0,
                 "time_base": time_power(name, q.unit) * rel_time_sigma * abs(q.value)}
        result.statistical[name] = q.uncertainty
        result.systematic[name] = parts
        q.uncertainty = math.hypot(q.uncertainty, *parts.values())
    return result


WINDOW_TRIM = 0.15
"""Share of the fitted frames left out at either end to measure the window's systematic."""


def window_sensitivity(scenario, track: PlaneTrack, noise: np.ndarray, fit: ClipFit, length_m: float | None,
                       seed: int) -> dict[str, float]:
    """{quantity: rms change} when the automatic fit runs on the track without the first, or without the
    last, `WINDOW_TRIM` of the frames it used (0 for a quantity no variant measures)."""
    used = np.asarray(fit.used_frames)
    trim = max(1, int(WINDOW_TRIM * len(used)))
    if len(used) < 2 * trim + scenario.clip_min_frames:
        return {}
    changes: dict[str, list[float]] = {name: [] for name in fit.quantities}
    for first, stop in ((int(used[trim]), int(track.frame[-1]) + 1), (int(track.frame[0]), int(used[-1 - trim]) + 1)):
        part = track.frames_between(first, stop)
        keep = (track.frame >= first) & (track.frame < stop)
        try:
            variant = scenario.fit_clip(part, noise[keep], np.random.default_rng(seed), 8, automatic=True, length_m=length_m)
        except InputError:
            continue
        for name, q in fit.quantities.items():
            other = variant.quantities.get(name)
            if other is not None and math.isfinite(other.value) and math.isfinite(q.value):
                changes[name].append(other.value - q.value)
    return {name: float(np.sqrt(np.mean(np.square(d)))) for name, d in changes.items() if d}


def time_power(name: str, unit: str) -> int:
    """How a quantity scales with the time base: g (m/s^2) and friction (a / g) 2, speeds and periods 1,
    ratios and angles 0."""
    if name == "friction" or unit.endswith("/s^2"):
        return 2
    return 1 if unit.endswith("/s") or unit == "s" else 0
