"""One clip of a pair in pixels and seconds (`clip_pixels`): the law fit's quantities, plus those paired mode
forms itself (a drop's fall time and height, a bounce's fall, a pendulum's length and small-angle period)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.special import ellipk

from realitygap.clip.fit import clip_law
from realitygap.clip.measure import ClipMeasurement
from realitygap.clip.plausibility import Implausible, check_clip
from realitygap.core.planefit import N_BOOT, NOISE_FLOOR_PX, ClipQuantity, PlaneTrack, fit_parabola
from realitygap.runtime.atomic import json_safe
from realitygap.runtime.errors import InputError

RADIUS_SYSTEMATIC = 0.005
"""Relative systematic uncertainty of a pendulum's radius from a circle fit: centroids at the swing's ends sit
0.1-0.4 px off the disc's centre in H.264 clips (measured on painted swings), more than the points' scatter says."""
RELEASE_SIGMAS = 4.0
"""The release is seen when the last frame up to one frame period after the fall's vertex lies within this many noise
sigmas (or 1 px) of the vertex (the object held there, or released there)."""
PIXEL_MEANINGLESS = ("friction",)
"""Quantities the clip fit derives from metres (friction = deceleration / standard gravity): meaningless in pixels."""
ACCELERATION_OF = {"drop": "g_m_s2", "projectile": "g_m_s2", "bounce": "g_m_s2", "slide": "deceleration_m_s2"}


@dataclass
class ClipPixels:
    """One clip of a pair: its measurement and its quantities in (the reference's) pixels and seconds."""

    role: str
    measurement: ClipMeasurement
    quantities: dict[str, ClipQuantity]
    missing: dict[str, str]
    """Quantities that could not be measured: name -> why."""
    implausible: list[Implausible]
    px_factor: float = 1.0
    """Reference pixels per pixel of this clip's file."""

    @property
    def fps(self) -> float:
        return self.measurement.timebase.fps_used

    def to_json(self) -> dict:
        m, tb = self.measurement, self.measurement.timebase
        return json_safe({
            "video": str(m.video), "status": "implausible" if self.implausible else "measured",
            "implausible": [i.to_json() for i in self.implausible],
            "fps_used": tb.fps_used, "rate_from": tb.rate_from, "size_px": [tb.width_px, tb.height_px],
            "px_factor": self.px_factor, "object": m.object_method, "window": m.fit.window,
            "quantities": {k: {"value": q.value, "uncertainty": q.uncertainty, "unit": q.unit, "note": q.note}
                           for k, q in self.quantities.items()},
            "not_measured": dict(self.missing), "consistency": m.consistency,
            "warnings": list(tb.warnings), "notes": list(m.fit.notes),
        })


def clip_pixels(role: str, m: ClipMeasurement, px_factor: float, seed: int = 0) -> ClipPixels:
    """The quantities of one clip measured in file pixels (`measure_clip` with `PIXEL_SCALE`), converted to
    reference pixels (x `px_factor`) and seconds; the unmeasurable ones with their reason."""
    law, fit, q, missing = m.fit.law, m.fit, {}, {}
    k = px_factor
    acc = fit.quantities.get(ACCELERATION_OF.get(law, ""))
    if acc is not None:
        q["acceleration"] = ClipQuantity(acc.value * k, acc.uncertainty * k, "px/s^2", "size of the fitted acceleration")
    elif law in ACCELERATION_OF:
        missing["acceleration"] = "the law fit gives no acceleration"
    noise = np.maximum(m.plane.sigma, NOISE_FLOOR_PX / m.timebase.processed_scale)
    rng = np.random.default_rng(seed)
    if law == "drop":
        _drop_fall(m, noise, rng, k, q, missing)
    elif law == "projectile" and "horizontal_speed_m_s" in fit.quantities:
        h = fit.quantities["horizontal_speed_m_s"]
        q["horizontal_speed"] = ClipQuantity(h.value * k, h.uncertainty * k, "px/s", "|horizontal velocity| of the fit")
    elif law == "bounce":
        _bounce(m, noise, rng, k, q, missing)
    elif law == "pendulum":
        _pendulum(m, rng, k, q, missing)
    return ClipPixels(role, m, q, missing, pixel_implausible(m), px_factor)


def pixel_implausible(m: ClipMeasurement) -> list[Implausible]:
    """`check_clip` on a fit measured in pixels: bounds, direction of gravity; not the size of g (needs metres)."""
    quantities = {name: dataclasses.replace(q, metric=False) for name, q in m.fit.quantities.items()
                  if name not in PIXEL_MEANINGLESS}
    fit = dataclasses.replace(m.fit, quantities=quantities)
    return check_clip(fit, clip_law(m.fit.law).bounds_of, m.timebase.fps_used, m.timebase.rate_from)


def _drop_fall(m: ClipMeasurement, noise: np.ndarray, rng, k: float, q: dict, missing: dict) -> None:
    """Fall height (vertex of the fitted parabola to the rest level after the impact) and fall time sqrt(2 h / a_up)."""
    fit, plane = m.fit, m.plane
    ended = str(fit.window.get("ended", ""))
    reason = None
    after = plane.frame > (fit.used_frames[-1] if len(fit.used_frames) else -1)
    if not ended.startswith("impact"):
        reason = f"the first impact is not seen (the free fall ends: {ended})"
    elif not after.any():
        reason = "the track ends at the impact: no frame shows the rest level"
    if reason is None:
        y_after = plane.xy[after, 1]
        typical = float(np.median(noise))
        near = y_after[y_after <= y_after.min() + max(3 * typical, 1.0)]
        floor = float(np.median(near))
        floor_sigma = max(float(np.std(near)), typical) / math.sqrt(len(near))
        fall, reason = _fall_fit(m, np.isin(plane.frame, fit.used_frames), noise, rng, floor)
    if reason is None:
        (t, st), (h, sh) = fall
        st = math.hypot(st, t / (2 * h) * floor_sigma)
        sh = math.hypot(sh, floor_sigma)
        q["fall_time"] = ClipQuantity(t, st, "s", "release (vertex of the fitted fall) to the rest level after the impact")
        q["fall_height"] = ClipQuantity(h * k, sh * k, "px", "vertex of the fitted fall above the rest level after the impact")
        return
    missing["fall_time"] = missing["fall_height"] = reason


def _fall_fit(m: ClipMeasurement, used: np.ndarray, noise: np.ndarray, rng, floor: float):
    """((t_fall, sigma), (h, sigma)) of a parabola over the `used` frames falling from its vertex to `floor`
    (up coordinate), or (None, reason)."""
    plane = m.plane
    sub = PlaneTrack(plane.frame[used], plane.t_s[used], plane.xy[used], plane.sigma[used], plane.unit)

    def derived(C, t_mean, t_first):
        c0, c1, c2 = C[:, 1]
        if c2 >= 0:
            return {"t_vertex": math.nan, "t_fall": math.nan, "h": math.nan}
        h = c0 - c1**2 / (4 * c2) - floor
        return {"t_vertex": t_mean - c1 / (2 * c2), "h": h, "t_fall": math.sqrt(max(2 * h / (-2 * c2), 0.0))}

    try:
        pf = fit_parabola(sub, noise[used], derived, rng, N_BOOT, min_frames=3, law=m.fit.law, automatic=False)
    except InputError as error:
        return None, str(error)
    v, s = pf.values, pf.sigmas
    if not math.isfinite(v["t_vertex"]):
        return None, "the fitted fall does not accelerate downwards"
    seen = np.flatnonzero(plane.t_s <= v["t_vertex"] + 1.0 / m.timebase.fps_used)
    if len(seen) == 0:
        return None, "the release is not seen: the clip starts after the fall's vertex (the object enters falling)"
    away = abs(plane.xy[seen[-1], 1] - (v["h"] + floor))
    if away > max(RELEASE_SIGMAS * float(np.median(noise)), 1.0):
        return None, (f"the release is not seen: at the fall's vertex the object is {away:.3g} px away from it (it "
                      "enters falling, or is thrown down)")
    if not v["h"] > 0:
        return None, "the fall's vertex is not above the contact level"
    return ((v["t_fall"], s["t_fall"]), (v["h"], s["h"])), None


def _bounce(m: ClipMeasurement, noise: np.ndarray, rng, k: float, q: dict, missing: dict) -> None:
    """Restitution and apex ratio (unit-free), the first bounce interval, the fall from the release apex (H0 above
    the contact level, t = sqrt(2 H0 / a)) when the release is seen."""
    fit = m.fit
    for name, key, unit in (("restitution", "restitution", ""), ("apex_ratio", "apex_ratio", ""),
                            ("bounce_interval_1", "bounce_interval_1_s", "s")):
        value = fit.quantities.get(key)
        if value is not None:
            q[name] = ClipQuantity(value.value, value.uncertainty, unit, value.note)
        else:
            missing[name] = ("fewer than three arcs: no interval between two impacts" if name == "bounce_interval_1"
                             else "not measured by the bounce fit")
    h0, a = fit.quantities.get("release_height_m"), fit.quantities.get("g_m_s2")
    arcs = fit.window.get("arcs") or []
    reason = None
    if h0 is None or a is None or not arcs:
        reason = "the bounce fit gives no release height"
    else:
        first = np.isin(m.plane.frame, np.arange(arcs[0][0], arcs[0][1] + 1))
        floor = float(m.plane.xy[first, 1].min()) if first.any() else 0.0
        _, reason = _fall_fit(m, first, noise, rng, floor)  # the release check: the first arc's vertex is seen
        if reason is None and not (h0.value > 0 and a.value > 0):
            reason = "the release apex is not above the contact level"
    if reason is None:
        t = math.sqrt(2 * h0.value / a.value)
        st = 0.5 * t * math.hypot(h0.uncertainty / h0.value, a.uncertainty / a.value)
        q["fall_time"] = ClipQuantity(t, st, "s", "sqrt(2 H0 / a): release apex to the first impact")
        q["fall_height"] = ClipQuantity(h0.value * k, h0.uncertainty * k, "px", "release apex above the contact level")
        return
    missing["fall_time"] = missing["fall_height"] = reason


def _pendulum(m: ClipMeasurement, rng, k: float, q: dict, missing: dict) -> None:
    """Period (the clip fit), amplitude and length from a circle fitted to the path (pivot above it), the equivalent
    length of a ball bob of the tracked apparent radius, and the period reduced to small amplitude."""
    fit, plane = m.fit, m.plane
    period = fit.quantities.get("period_s")
    if period is None:
        missing["period"] = missing["small_angle_period"] = "not measured by the pendulum fit"
        return
    q["period"] = ClipQuantity(period.value, period.uncertainty, "s", period.note)
    used = np.isin(plane.frame, fit.used_frames)
    circle = _circle_bootstrap(plane.xy[used], rng)
    if circle is None:
        missing["length"] = missing["small_angle_period"] = ("the path does not curve about a pivot above it (no circle "
                                                               "fits the bob's path)")
        return
    (length, length_sigma), amplitude = circle
    present = m.track.present & np.isfinite(m.track.radius_px)
    bob = float(np.median(m.track.radius_px[present])) / m.timebase.processed_scale if present.any() else 0.0
    equivalent = length + 0.4 * bob**2 / length
    q["length"] = ClipQuantity(equivalent * k, length_sigma * k, "px", f"pivot to the bob's centre {length * k:.4g} px "
                               f"(circle fit), + 2 r^2 / (5 L) for a ball bob of apparent radius {bob * k:.3g} px")
    q["amplitude"] = ClipQuantity(math.degrees(amplitude), math.nan, "deg", "half the swing's angle about the pivot")
    factor = math.pi / (2 * float(ellipk(math.sin(amplitude / 2) ** 2)))
    q["small_angle_period"] = ClipQuantity(period.value * factor, period.uncertainty * factor, "s",
                                           "period x pi / (2 K(sin^2(theta0 / 2))) (amplitude theta0)")


def _circle_bootstrap(xy: np.ndarray, rng, n_boot: int = N_BOOT // 2):
    """((radius, sigma), amplitude rad) of a circle through the points (geometric fit; sigma by resampling the
    points, plus `RADIUS_SYSTEMATIC` in quadrature), or None when no circle with its centre above the path fits."""
    found = _circle(xy)
    if found is None:
        return None
    cx, cy, r = found
    if not (math.isfinite(r) and r > 0 and cy > xy[:, 1].max()):
        return None
    radii = []
    for _ in range(n_boot):
        sample = _circle(xy[rng.integers(0, len(xy), len(xy))], (cx, cy, r))
        if sample is not None:
            radii.append(sample[2])
    angles = np.arctan2(xy[:, 0] - cx, cy - xy[:, 1])
    sigma = math.hypot(float(np.std(radii, ddof=1)), RADIUS_SYSTEMATIC * r) if len(radii) > 2 else math.nan
    return (r, sigma), float((angles.max() - angles.min()) / 2)


def _circle(xy: np.ndarray, start: tuple[float, float, float] | None = None):
    """(cx, cy, r) of the least-squares circle through xy (algebraic start, geometric refinement), or None."""
    x, y = xy[:, 0], xy[:, 1]
    if start is None:
        A = np.stack([x, y, np.ones_like(x)], axis=1)
        (a, b, c), *_ = np.linalg.lstsq(A, x**2 + y**2, rcond=None)
        start = (a / 2, b / 2, math.sqrt(max(c + a**2 / 4 + b**2 / 4, 0.0)))
    if not all(math.isfinite(v) for v in start) or start[2] <= 0:
        return None
    solved = least_squares(lambda p: np.hypot(x - p[0], y - p[1]) - p[2], np.asarray(start, float), method="lm")
    return tuple(float(v) for v in solved.x) if solved.success else None


# --- ratios and checks --------------------------------------------------------------------------------
