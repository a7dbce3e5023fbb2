"""Physics before output: is what measure-clip measured physically possible in a camera clip?

A result that fails is *implausible*: it is reported with the reason, the likely cause and the fix, never
as a number (clip.json keeps the fitted values under `implausible` for diagnosis). Checks:

- bounds: every quantity within the scenario's physical bounds (`ScenarioSpec.bounds_of`: g > 0,
  restitution in [0, 1], heights, times and speeds >= 0; periods and times in s > 0), unless the bound
  lies inside its 95 % interval (value +- 2 sigma). Restitution up to `RESTITUTION_FINDING` above 1 is a
  finding (a generator that creates energy), not an implausibility;
- gravity's direction: the fitted acceleration of a free flight must point within `DOWN_TOLERANCE_DEG`
  of the frame's down (a camera rolled further, or an acceleration pointing up, is not a free fall seen
  by an upright camera);
- gravity's size: a metric g more than `G_FACTOR` times away from Earth's is not a clip of a fall on Earth
  at that frame rate and scale: the time base or the scale is wrong. The frame rate that would make it
  9.81 m/s^2 is computed (a 240 fps high-speed clip stored at 30 fps reads g / 64) and offered as --fps.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from realitygap.core.planefit import ClipFit
from realitygap.runtime.atomic import json_safe

EARTH_G_M_S2 = 9.81
G_FACTOR = 3.0
"""A measured g outside [9.81 / 3, 9.81 * 3] m/s^2 is implausible for a camera clip (a generator's physics may be
off by less, which is a finding: generated video is measured, not judged, inside this range)."""
DOWN_TOLERANCE_DEG = 30.0
RESTITUTION_FINDING = 0.25
INTERVAL_SIGMAS = 2.0
COMMON_FPS = (24, 25, 30, 48, 50, 60, 90, 100, 120, 180, 200, 240, 300, 480, 500, 960, 1000)
"""Capture rates cameras offer; an implied rate within 10 % of one is offered as that one."""


@dataclass(frozen=True)
class Implausible:
    """One failed check: which quantity, why it cannot be true, the likely cause, and what to do."""

    quantity: str
    value: float
    reason: str
    likely_cause: str
    fix: str

    def line(self) -> str:
        return f"{self.reason}; likely {self.likely_cause}; {self.fix}"

    def to_json(self) -> dict:
        return json_safe(asdict(self))


def check_clip(fit: ClipFit, bounds_of, fps_used: float, rate_from: str) -> list[Implausible]:
    """Every implausibility of a clip fit (empty: plausible). `bounds_of(quantity)` is the law's scenario's
    `bounds_of`; `fps_used` and `rate_from` describe the time base the fit used."""
    out: list[Implausible] = []
    for name, q in fit.quantities.items():
        if not math.isfinite(q.value):
            continue
        low, high = bounds_of(name)
        if q.unit == "s" and low == -math.inf:
            low = 0.0
        sigma = q.uncertainty if math.isfinite(q.uncertainty) else 0.0
        margin = RESTITUTION_FINDING if name == "restitution" else 0.0
        if q.value + INTERVAL_SIGMAS * sigma < low or q.value - INTERVAL_SIGMAS * sigma > high + margin:
            out.append(_out_of_bounds(name, q.value, q.unit, low, high))
    direction = fit.quantities.get("g_direction_deg")
    if direction is not None and math.isfinite(direction.value) and abs(direction.value) > DOWN_TOLERANCE_DEG:
        up = abs(direction.value) > 150
        out.append(Implausible("g_direction_deg", direction.value,
                               f"the fitted acceleration points {abs(direction.value):.0f} deg from the frame's down"
                               + (" (upwards)" if up else ""),
                               "a hand or a throw moving the object in the fitted frames, or a camera or file rotated "
                               "without rotation metadata" if up else "a camera rolled by that angle, or a tracked object "
                               "that is not in free flight",
                               "limit the fit to the free flight with --frames a:b, or rotate the video upright"))
    g = fit.quantities.get("g_m_s2")
    if g is not None and g.metric and math.isfinite(g.value) and g.value > 0:
        ratio = g.value / EARTH_G_M_S2
        if not 1 / G_FACTOR <= ratio <= G_FACTOR:
            out.append(_wrong_time_base(g.value, ratio, fps_used, rate_from, fit.law))
    return out


def _out_of_bounds(name: str, value: float, unit: str, low: float, high: float) -> Implausible:
    unit = f" {unit}" if unit else ""
    if name == "restitution":
        return Implausible(name, value, f"restitution {value:.3g} is far above 1: the object would leave the floor much "
                           "faster than it arrived", "two objects or a thrown object in the fitted arcs, or arcs cut by "
                           "the frame's edge", "check the tracked object in clip.html and limit the fit with --frames a:b")
    if name == "g_m_s2" or value < low:
        return Implausible(name, value, f"{name} = {value:.3g}{unit} is below its physical minimum {low:g}",
                           "the wrong object or window (a hand, a second object), or a track that runs backwards",
                           "choose the object with --object COLOUR or --roi, and the window with --frames a:b")
    return Implausible(name, value, f"{name} = {value:.3g}{unit} is above its physical maximum {high:g}",
                       "the wrong object or window", "choose the object with --object COLOUR or --roi, and the window "
                       "with --frames a:b")


def _wrong_time_base(g: float, ratio: float, fps_used: float, rate_from: str, law: str) -> Implausible:
    implied = fps_used * math.sqrt(1 / ratio)  # g scales with the square of the assumed frame rate
    nearest = min(COMMON_FPS, key=lambda f: abs(f / implied - 1))
    offered = nearest if abs(nearest / implied - 1) < 0.1 else round(implied)
    if ratio < 1:
        cause = (f"a high-speed clip played at {fps_used:g} fps ({rate_from}): at {offered:g} fps it reads 9.81"
                 if implied > fps_used * 1.5 else "a wrong scale (too many pixels per metre) or frame rate")
    else:
        cause = (f"a clip sped up for playback, captured at about {offered:g} fps" if implied < fps_used / 1.5
                 else "a wrong scale (too few pixels per metre) or frame rate")
    length = "--length-m (pivot to the bob's centre, metres)" if law == "pendulum" else "--scale / --object-diameter"
    return Implausible("g_m_s2", g, f"g = {g:.3g} m/s^2 is {max(ratio, 1 / ratio):.0f}x {'below' if ratio < 1 else 'above'} "
                       f"Earth's {EARTH_G_M_S2}", cause, f"give the capture rate with --fps {offered:g} (or check {length})")
