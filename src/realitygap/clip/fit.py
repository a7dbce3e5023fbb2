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
             frames: tuple[int, int] | None = None, length_m: float | None = None, seed: int = 0,
             n_boot: int = N_BOOT) -> ClipFit:
    """Fit `law` to `track` (see the module docstring). `unit_per_px`: track units per image pixel
    (for the noise floor). InputError when the law cannot be measured on the track."""
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
    for q in result.quantities.values():
        if q.metric and rel_scale_sigma > 0:
            q.uncertainty = math.hypot(q.uncertainty, rel_scale_sigma * abs(q.value))
    return result
