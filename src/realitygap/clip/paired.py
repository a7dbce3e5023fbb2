"""Paired mode of `realitygap measure-clip`: a generated continuation against the real take it continues.

`measure_pair(generated, reference, options)` measures both clips on the one clip pipeline
(`realitygap.clip.measure.measure_clip`, same tracker, windows and law fits) in the pixels of their
shared camera and reports the generated clip's physics in the reference's units, unit-free: no scale
and no frame rate need to be known.

- Positions stay in file pixels (after rotation): `measure_clip` is run with one pixel per "metre"
  (`PIXEL_SCALE`), so its metric quantities (g, heights, speeds) come out in px and px/s. A generated
  clip of another size with the same aspect ratio (within `ASPECT_TOLERANCE`) is rescaled to the
  reference's pixels, with a warning (same field of view assumed); another aspect ratio is refused.
- Times are each file's own (`clip/probe.py`); `--fps` applies to both. When both clips share a rate
  the ratios are those of per-frame quantities (px per frame^2, frames), which no rate changes; when
  the files state different rates, each file's seconds are used (a warning says so).
- Per clip, in pixels and seconds: the fitted acceleration (drop, projectile, bounce: |2 c2| of the
  law fit, px/s^2; slide: the deceleration), the fall from the release to the first impact (drop: from
  the vertex of the parabola fitted over the law fit's window down to the rest level after the impact,
  h = vertex - rest level, t = sqrt(2 h / a_up); bounce: the release apex H0 above the contact level,
  t = sqrt(2 H0 / a)), restitution and apex ratio (bounce), the first bounce interval, the pendulum's
  period, amplitude and length from the pivot (a circle fitted to the path; equivalent length
  L + 2 r^2 / (5 L) for a ball bob of apparent radius r). The fall needs the
  release seen: the vertex is the release only when the object is seen there (held, or let go at the
  first frame); a clip that starts mid-fall, or an object thrown down, gives no fall time.
- Ratios generated / reference with uncertainty sigma_r = |r| sqrt((s_g / g)^2 + (s_r / r)^2) from the
  two fits' bootstrap sigmas (independent clips). A ratio that cannot be formed carries the reason
  instead of a number.
- Law checks that need no scale: two drops obey t_gen^2 / t_ref^2 = h_gen / h_ref when they share g
  (the implied g ratio (h_gen / t_gen^2) / (h_ref / t_ref^2); one parabola gives h and t, so it equals the
  ratio of the vertical accelerations, with the rest level's uncertainty added); two pendulums T0_gen / T0_ref =
  sqrt(L_gen / L_ref) (T0: the period reduced to small amplitude by pi / (2 K(sin^2(theta0 / 2))));
  within one bouncing clip, the successive apex-height ratio = e^2. A check holds when its two sides
  agree within `CHECK_SIGMAS` sigma.
- Physics first: a pair whose clip is implausible (`clip/plausibility.py`, without the 3x-Earth g test,
  which needs metres) is reported as implausible, with no number as a result.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares
from scipy.special import ellipk

from realitygap.clip.fit import clip_law
from realitygap.clip.measure import ClipMeasurement, ClipOptions, measure_clip
from realitygap.clip.plausibility import Implausible, check_clip
from realitygap.core.planefit import N_BOOT, NOISE_FLOOR_PX, ClipQuantity, PlaneTrack, fit_parabola
from realitygap.runtime.atomic import json_safe
from realitygap.runtime.errors import InputError

PIXEL_SCALE = 1.0
"""`ClipOptions.scale_px_per_m` for paired mode: one file pixel per unit, so positions stay in file pixels."""
ASPECT_TOLERANCE = 0.01
"""Clips whose width/height ratios differ by more than this fraction cannot share the camera's pixels."""
RATE_TOLERANCE = 1e-3
"""Frame rates within this fraction are one rate (ratios of per-frame quantities)."""
CHECK_SIGMAS = 2.0
RADIUS_SYSTEMATIC = 0.005
"""Relative systematic uncertainty of a pendulum's radius from a circle fit: centroids at the swing's ends sit
0.1-0.4 px off the disc's centre in H.264 clips (measured on painted swings), more than the points' scatter says."""
RELEASE_SIGMAS = 4.0
"""The release is seen when the last frame up to one frame period after the fall's vertex lies within this many noise
sigmas (or 1 px) of the vertex (the object held there, or released there)."""
CAMERA_STILL_PX = 1.0
MAX_MANIFEST_BYTES = 16 * 2**20
MANIFEST_COLUMNS = ("generated", "reference", "law")
PIXEL_MEANINGLESS = ("friction",)
"""Quantities the clip fit derives from metres (friction = deceleration / standard gravity): meaningless in pixels."""

ACCELERATION_OF = {"drop": "g_m_s2", "projectile": "g_m_s2", "bounce": "g_m_s2", "slide": "deceleration_m_s2"}
RATIOS = {  # law -> ratios formed, in this order (quantity names of `ClipPixels.quantities`)
    "drop": ("acceleration", "fall_time", "fall_height"),
    "projectile": ("acceleration", "horizontal_speed"),
    "bounce": ("restitution", "acceleration", "apex_ratio", "fall_time", "fall_height", "bounce_interval_1"),
    "pendulum": ("period", "small_angle_period", "length"),
    "slide": ("acceleration",),
}
LABELS = {"acceleration": "g ratio", "fall_time": "fall time ratio", "fall_height": "fall height ratio",
          "horizontal_speed": "horizontal speed ratio", "restitution": "e ratio", "apex_ratio": "apex ratio ratio",
          "bounce_interval_1": "first bounce interval ratio", "period": "period ratio",
          "small_angle_period": "small-angle period ratio", "length": "length ratio"}
SUMMARY_SKIPS = ("apex_ratio", "small_angle_period")
"""Ratios paired.json and paired.html give but the summary line leaves out (they repeat e and the period)."""
UNITS = {"acceleration": "px/s^2", "fall_time": "s", "fall_height": "px", "horizontal_speed": "px/s", "restitution": "",
         "apex_ratio": "", "bounce_interval_1": "s", "period": "s", "small_angle_period": "s", "length": "px",
         "amplitude": "deg"}
TIME_POWER = {"acceleration": -2, "fall_time": 1, "horizontal_speed": -1, "bounce_interval_1": 1, "period": 1,
              "small_angle_period": 1}
"""Power of time in each quantity's unit (for the per-frame form when both clips share a rate)."""


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


@dataclass
class Ratio:
    """generated / reference of one quantity, or the reason it cannot be formed (value None)."""

    name: str
    value: float | None
    uncertainty: float | None
    generated: float | None
    reference: float | None
    unit: str
    """Unit of the two values (px, s, px/s^2, or per frame when the clips share a rate)."""
    reason: str = ""
    law: str = ""

    @property
    def label(self) -> str:
        if self.law == "slide" and self.name == "acceleration":
            return "deceleration ratio"
        return LABELS.get(self.name, self.name)

    def to_json(self) -> dict:
        return json_safe(dataclasses.asdict(self) | {"label": self.label})


@dataclass
class LawCheck:
    """A law that needs no scale: `law` (text); its two sides with sigmas; what they imply; whether they agree."""

    name: str
    law: str
    left: tuple[float, float] | None
    right: tuple[float, float] | None
    implied: str = ""
    implied_value: tuple[float, float] | None = None
    holds: bool | None = None
    reason: str = ""

    def to_json(self) -> dict:
        return json_safe(dataclasses.asdict(self))

    def line(self) -> str:
        if self.holds is None:
            return f"{self.name}: not checked ({self.reason})"
        implied = f" ({self.implied} {_pm(*self.implied_value)})" if self.implied_value else ""
        return f"{self.name}: {'holds' if self.holds else 'fails'}{implied}"


@dataclass
class PairedMeasurement:
    """Everything paired.json and paired.html need for one pair."""

    law: str
    generated: ClipPixels
    reference: ClipPixels
    ratios: list[Ratio]
    checks: list[LawCheck]
    time_unit: str
    """'frame' when both clips share a rate, else 's' (each file's own seconds)."""
    warnings: list[str] = field(default_factory=list)
    name: str = ""

    @property
    def implausible(self) -> bool:
        return bool(self.generated.implausible or self.reference.implausible)

    @property
    def status(self) -> str:
        return "implausible" if self.implausible else "measured"

    def summary(self) -> str:
        """One line, e.g. 'g ratio = 0.800 ± 0.004 (px/frame^2, both 30 fps), fall time ratio = 1.118 ± 0.003, ...'."""
        if self.implausible:
            reasons = " | ".join(f"{c.role}: {i.line()}" for c in (self.generated, self.reference) for i in c.implausible)
            return f"implausible: {reasons} ({self.law}, paired)"
        parts, missing = [], []
        for r in self.ratios:
            if r.name in SUMMARY_SKIPS:
                continue
            if r.value is None:
                missing.append(f"{r.label.removesuffix(' ratio')} ({r.reason})")
            elif r.name == "restitution":
                parts.append(f"e = {r.generated:.2f} vs {r.reference:.2f} (ratio {_pm(r.value, r.uncertainty)})")
            else:
                parts.append(f"{r.label} = {_pm(r.value, r.uncertainty)}")
        checks = [c.line() for c in self.checks if c.holds is not None and not c.name.startswith("apex ratio")]
        apex = [f"{'holds' if c.holds else 'fails'} ({c.name.split('(')[-1].rstrip(')')})" for c in self.checks
                if c.name.startswith("apex ratio") and c.holds is not None]
        if apex:
            checks.append("apex ratio = e^2: " + ", ".join(apex))
        rate = (f"both {_fps(self.reference.fps)} fps" if self.time_unit == "frame"
                else f"{_fps(self.generated.fps)} vs {_fps(self.reference.fps)} fps")
        text = ", ".join(parts) or "no ratio formed"
        text += f" ({self.law}, generated / reference, {rate})"
        if checks:
            text += "; " + "; ".join(checks)
        if missing:
            text += "; not formed: " + "; ".join(missing)
        return text

    def to_json(self) -> dict:
        return {"name": self.name, "law": self.law, "status": self.status, "summary": self.summary(),
                "time_unit": self.time_unit, "warnings": list(self.warnings),
                "ratios": [r.to_json() for r in self.ratios], "law_checks": [c.to_json() for c in self.checks],
                "generated": self.generated.to_json(), "reference": self.reference.to_json(),
                "uncertainty_method": "each clip's residual bootstrap (fixed seed) of its law fit; ratios propagate the two "
                                      "sigmas in quadrature (independent clips); systematic errors (lens, a crop between "
                                      "the clips, a wrong rate) are not included"}


@dataclass(frozen=True)
class PairSpec:
    """One pair of a manifest: generated and reference videos (resolved), the law, and where it was given."""

    generated: Path
    reference: Path
    law: str
    where: str


def measure_pair(generated: Path, reference: Path, options: ClipOptions, cache: dict | None = None,
                 name: str = "") -> PairedMeasurement:
    """Measure `generated` against `reference` under `options.law` (see the module docstring). `options` may set
    fps (both clips), object, roi, max_side_px and seed; a scale, --frames or --length-m are refused (InputError).
    `cache` (optional, {(path, law): ClipMeasurement}) reuses a clip measured for an earlier pair."""
    _refuse_scale_options(options)
    law = options.law
    clip_law(law)
    pixel_options = options.model_copy(update={"scale_px_per_m": PIXEL_SCALE})
    ref_m = _measure(reference, pixel_options, "reference", cache)
    gen_m = _measure(generated, pixel_options, "generated", cache)
    warnings: list[str] = []
    factor = _pixel_factor(gen_m, ref_m, warnings)
    ref = clip_pixels("reference", ref_m, 1.0, options.seed)
    gen = clip_pixels("generated", gen_m, factor, options.seed)
    shared = abs(gen.fps / ref.fps - 1) <= RATE_TOLERANCE
    if not shared:
        warnings.append(f"the clips' rates differ ({_fps(gen.fps)} fps from {gen_m.timebase.rate_from} vs {_fps(ref.fps)} "
                        f"fps from {ref_m.timebase.rate_from}): times are each file's own seconds; --fps F sets one rate "
                        "for both")
    for clip in (gen, ref):
        camera = clip.measurement.consistency.get("camera_motion_px")
        if camera is not None and camera >= CAMERA_STILL_PX:
            warnings.append(f"the {clip.role} clip's camera moves ({camera:.3g} px): the pixel ratios assume one still "
                            "camera for both clips")
    ratios = [dataclasses.replace(_ratio(key, gen, ref, shared), law=law) for key in RATIOS[law]]
    checks = law_checks(law, gen, ref)
    return PairedMeasurement(law, gen, ref, ratios, checks, "frame" if shared else "s", warnings, name)


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


def law_checks(law: str, gen: ClipPixels, ref: ClipPixels) -> list[LawCheck]:
    """The checks of the module docstring that apply to `law`."""
    checks = []
    if law in ("drop", "bounce"):
        checks.append(_same_g_check("same g (fall)", "t_gen^2 / t_ref^2 = h_gen / h_ref", gen, ref, "fall_time", "fall_height"))
    if law == "pendulum":
        checks.append(_same_g_check("same g (swing)", "T0_gen^2 / T0_ref^2 = L_gen / L_ref", gen, ref,
                                    "small_angle_period", "length"))
    if law == "bounce":
        for clip in (gen, ref):
            checks.append(_apex_check(clip))
    return checks


def pair_specs(generated: Path | None, reference: Path | None, manifest: Path | None, law: str | None) -> list[PairSpec]:
    """The pairs the command line names: GENERATED --reference REAL (with --law), or --pairs FILE."""
    if manifest is not None:
        if reference is not None or generated is not None:
            raise InputError("give either GENERATED --reference REAL or --pairs FILE, not both")
        return read_pairs(manifest, law)
    if generated is None or reference is None:
        raise InputError("paired mode needs the generated clip and the real take: measure-clip GENERATED --reference REAL")
    if law is None:
        raise InputError("paired mode needs --law LAW (drop, projectile, bounce, pendulum, slide)")
    clip_law(law)
    return [PairSpec(Path(generated), Path(reference), law, "")]


def measure_pairs(specs: list[PairSpec], options: dict) -> list[PairedMeasurement]:
    """`measure_pair` for every spec with the `ClipOptions` fields `options` (law from the spec); a clip shared by
    several pairs is measured once. InputError names the pair of a manifest."""
    cache: dict = {}
    results = []
    for i, spec in enumerate(specs):
        name = f"pair {i + 1} ({spec.where})" if spec.where else ""
        try:
            results.append(measure_pair(spec.generated, spec.reference, ClipOptions(law=spec.law, **options), cache, name))
        except InputError as error:
            raise InputError(f"{name}: {error}" if name else str(error)) from None
    return results


def read_pairs(manifest: Path, default_law: str | None) -> list[PairSpec]:
    """The pairs a manifest lists: CSV with a header generated,reference[,law], or a JSON list of objects with those
    keys; paths relative to the manifest's folder; a row without a law takes `default_law`. InputError, naming the
    row, for anything unusable."""
    manifest = Path(manifest)
    text = _read_manifest_text(manifest)
    rows = _json_rows(manifest, text) if manifest.suffix.lower() == ".json" else _csv_rows(manifest, text)
    if not rows:
        raise InputError(f"--pairs {manifest.name}: no pairs listed")
    pairs = []
    for where, row in rows:
        law = row.get("law") or default_law
        if not law:
            raise InputError(f"--pairs {manifest.name} {where}: no law (give --law or a law column)")
        try:
            clip_law(law)
        except InputError:
            raise InputError(f"--pairs {manifest.name} {where}: law {law[:40]!r} is not one of the laws measure-clip fits "
                             "(drop, projectile, bounce, pendulum, slide)") from None
        pairs.append(PairSpec(_manifest_path(manifest, where, "generated", row.get("generated")),
                              _manifest_path(manifest, where, "reference", row.get("reference")), law, where))
    return pairs


# --- per-law quantities ------------------------------------------------------------------------------

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

def _ratio(key: str, gen: ClipPixels, ref: ClipPixels, shared_rate: bool) -> Ratio:
    unit = UNITS.get(key, "")
    power = TIME_POWER.get(key, 0)
    per_frame = shared_rate and power != 0
    if per_frame:  # seconds -> frames: t_frames = t_s * fps, so a quantity in unit s^p scales by fps^p
        unit = _per_frame_unit(unit, power)
    reasons = [f"{clip.role}: {clip.missing.get(key, 'not measured')}" for clip in (gen, ref) if key not in clip.quantities]
    if reasons:
        return Ratio(key, None, None, _value(gen, key, power, per_frame), _value(ref, key, power, per_frame), unit,
                     "; ".join(reasons))
    g, r = gen.quantities[key], ref.quantities[key]
    gv, rv = _value(gen, key, power, per_frame), _value(ref, key, power, per_frame)
    if not (math.isfinite(g.value) and math.isfinite(r.value)) or r.value == 0:
        return Ratio(key, None, None, gv, rv, unit, "the reference value is zero or not finite")
    value = gv / rv
    sigma = abs(value) * math.hypot(g.uncertainty / g.value, r.uncertainty / r.value) if g.value else math.nan
    return Ratio(key, value, sigma, gv, rv, unit)


def _value(clip: ClipPixels, key: str, power: int, per_frame: bool) -> float | None:
    q = clip.quantities.get(key)
    if q is None:
        return None
    return q.value * clip.fps**power if per_frame else q.value


def _per_frame_unit(unit: str, power: int) -> str:
    return {-2: unit.replace("/s^2", "/frame^2"), -1: unit.replace("/s", "/frame"), 1: "frames"}[power]


def _same_g_check(name: str, law: str, gen: ClipPixels, ref: ClipPixels, time_key: str, length_key: str) -> LawCheck:
    """t ratio^2 against length ratio: they agree when both clips share g; implied g ratio = length ratio / t ratio^2."""
    need = [f"{c.role} {k.replace('_', ' ')}" for c in (gen, ref) for k in (time_key, length_key) if k not in c.quantities]
    if need:
        return LawCheck(name, law, None, None, reason=f"needs the {', '.join(need)}")
    tg, tr = gen.quantities[time_key], ref.quantities[time_key]
    lg, lr = gen.quantities[length_key], ref.quantities[length_key]
    t2 = (tg.value / tr.value) ** 2
    t2_sigma = 2 * t2 * math.hypot(tg.uncertainty / tg.value, tr.uncertainty / tr.value)
    lengths = lg.value / lr.value
    lengths_sigma = lengths * math.hypot(lg.uncertainty / lg.value, lr.uncertainty / lr.value)
    implied = lengths / t2
    implied_sigma = implied * math.hypot(t2_sigma / t2, lengths_sigma / lengths)
    holds = bool(abs(implied - 1) <= CHECK_SIGMAS * implied_sigma) if math.isfinite(implied_sigma) else None
    return LawCheck(name, law, (t2, t2_sigma), (lengths, lengths_sigma), "implied g ratio", (implied, implied_sigma),
                    holds, "" if holds is not None else "no uncertainty")


def _apex_check(clip: ClipPixels) -> LawCheck:
    name = f"apex ratio = e^2 ({clip.role})"
    e, apex = clip.quantities.get("restitution"), clip.quantities.get("apex_ratio")
    if e is None or apex is None:
        return LawCheck(name, "H_(k+1) / H_k = e^2", None, None, reason="needs the restitution and the apex ratio")
    e2, e2_sigma = e.value**2, 2 * abs(e.value) * e.uncertainty
    sigma = math.hypot(apex.uncertainty, e2_sigma)
    holds = bool(abs(apex.value - e2) <= CHECK_SIGMAS * sigma) if math.isfinite(sigma) else None
    return LawCheck(name, "H_(k+1) / H_k = e^2", (apex.value, apex.uncertainty), (e2, e2_sigma), "apex ratio - e^2",
                    (apex.value - e2, sigma), holds, "" if holds is not None else "no uncertainty")


# --- clips and manifests --------------------------------------------------------------------------------

def _refuse_scale_options(options: ClipOptions) -> None:
    given = [flag for flag, value in (("--scale", options.scale_px_per_m), ("--object-diameter", options.object_diameter_m),
                                      ("--calibration", options.calibration), ("--frames", options.frames),
                                      ("--length-m", options.length_m)) if value is not None]
    if given:
        raise InputError(f"paired mode (--reference / --pairs) measures unit-free ratios in the shared camera's pixels: "
                         f"{', '.join(given)} do{'es' if len(given) == 1 else ''} not apply")


def _measure(video: Path, options: ClipOptions, role: str, cache: dict | None) -> ClipMeasurement:
    key = (str(Path(video).resolve()), options.model_dump_json())
    if cache is not None and key in cache:
        return cache[key]
    try:
        measurement = measure_clip(Path(video), options)
    except InputError as error:
        raise InputError(f"{role} clip {Path(video).name}: {error}") from None
    if cache is not None:
        cache[key] = measurement
    return measurement


def _pixel_factor(gen: ClipMeasurement, ref: ClipMeasurement, warnings: list[str]) -> float:
    """Reference pixels per generated pixel: 1 for one size; the width ratio for another size of the same aspect
    ratio (with a warning); InputError for another aspect ratio."""
    gw, gh = gen.timebase.width_px, gen.timebase.height_px
    rw, rh = ref.timebase.width_px, ref.timebase.height_px
    if (gw, gh) == (rw, rh):
        return 1.0
    if abs((gw / gh) / (rw / rh) - 1) > ASPECT_TOLERANCE:
        raise InputError(f"the generated clip is {gw}x{gh} px and the reference {rw}x{rh} px: different aspect ratios "
                         "cannot share the camera's pixels; crop or scale the generated clip to the reference's framing")
    factor = rw / gw
    warnings.append(f"the generated clip is {gw}x{gh} px, the reference {rw}x{rh} px: generated lengths are rescaled "
                    f"x{factor:.4g} to the reference's pixels (same field of view assumed; a crop would bias them)")
    return factor


def _read_manifest_text(manifest: Path) -> str:
    try:
        if not manifest.is_file():
            raise InputError(f"--pairs {manifest}: {'not found' if not manifest.exists() else 'not a file'}")
        if manifest.stat().st_size > MAX_MANIFEST_BYTES:
            raise InputError(f"--pairs {manifest.name}: larger than {MAX_MANIFEST_BYTES // 2**20} MiB; not a manifest")
        data = manifest.read_bytes()
    except (OSError, ValueError) as error:
        raise InputError(f"--pairs {manifest}: cannot be read ({getattr(error, 'strerror', None) or error})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"--pairs {manifest.name}: not a UTF-8 text file (CSV with a header generated,reference[,law], "
                         "or a JSON list)") from None


def _csv_rows(manifest: Path, text: str) -> list[tuple[str, dict]]:
    if "\x00" in text:
        raise InputError(f"--pairs {manifest.name}: contains NUL characters; not a CSV file")
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise InputError(f"--pairs {manifest.name}: not a readable CSV file ({error})") from None
    rows = [(n, row) for n, row in enumerate(rows, start=1) if any(cell.strip() for cell in row)]
    if not rows:
        raise InputError(f"--pairs {manifest.name}: empty (a CSV needs a header generated,reference[,law])")
    header = [cell.strip().lower() for cell in rows[0][1]]
    unknown = [h for h in header if h not in MANIFEST_COLUMNS]
    if unknown or len(set(header)) != len(header) or not {"generated", "reference"} <= set(header):
        raise InputError(f"--pairs {manifest.name}: the header must name the columns generated,reference and optionally "
                         f"law, got {','.join(header)[:200]!r}")
    out = []
    for n, row in rows[1:]:
        if len(row) > len(header):
            raise InputError(f"--pairs {manifest.name} row {n}: {len(row)} fields for {len(header)} columns")
        out.append((f"row {n}", {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}))
    return out


def _json_rows(manifest: Path, text: str) -> list[tuple[str, dict]]:
    try:
        items = json.loads(text)
    except ValueError as error:
        raise InputError(f"--pairs {manifest.name}: not valid JSON ({error})") from None
    if isinstance(items, dict) and isinstance(items.get("pairs"), list):
        items = items["pairs"]
    if not isinstance(items, list):
        raise InputError(f"--pairs {manifest.name}: expected a JSON list of objects with generated, reference (and law)")
    out = []
    for i, item in enumerate(items):
        where = f"item {i}"
        if not isinstance(item, dict):
            raise InputError(f"--pairs {manifest.name} {where}: expected an object with generated, reference (and law)")
        unknown = [str(k)[:40] for k in item if k not in MANIFEST_COLUMNS]
        if unknown:
            raise InputError(f"--pairs {manifest.name} {where}: unknown key(s) {', '.join(unknown)} (the keys are "
                             "generated, reference and optionally law)")
        for key, value in item.items():
            if value is not None and not isinstance(value, str):
                raise InputError(f"--pairs {manifest.name} {where}: {key} must be a string, got {type(value).__name__}")
        out.append((where, {k: (v or "").strip() for k, v in item.items()}))
    return out


def _manifest_path(manifest: Path, where: str, column: str, value: str | None) -> Path:
    """The video a manifest cell names, relative to the manifest's folder; InputError for an unusable one."""
    head = f"--pairs {manifest.name} {where}"
    if not value:
        raise InputError(f"{head}: no {column} video")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InputError(f"{head}: the {column} path contains control characters")
    if "://" in value:
        raise InputError(f"{head}: the {column} path {value[:80]!r} is a URL; give a local file")
    path = Path(value)
    path = path if path.is_absolute() else manifest.parent / path
    try:
        exists = path.exists()
    except (OSError, ValueError) as error:
        raise InputError(f"{head}: the {column} path cannot be used ({getattr(error, 'strerror', None) or error})") from None
    if not exists:
        raise InputError(f"{head}: {column} video {value[:200]!r} not found (paths are relative to the manifest's folder)")
    return path


def _fps(fps: float) -> str:
    return f"{fps:.4g}"


def _pm(value: float, sigma: float | None) -> str:
    if sigma is None or not math.isfinite(sigma) or sigma <= 0:
        return f"{value:.4g}"
    exponent = int(np.floor(np.log10(sigma)))
    digits = max(0, -exponent + (1 if sigma / 10.0**exponent < 2 else 0))
    digits = max(digits, 2)
    return f"{value:.{digits}f} ± {sigma:.{digits}f}"

