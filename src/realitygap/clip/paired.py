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

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from realitygap.clip.fit import clip_law
from realitygap.clip.measure import ClipMeasurement, ClipOptions, measure_clip
from realitygap.clip.paired_manifest import PairSpec
from realitygap.clip.paired_pixels import ClipPixels, clip_pixels
from realitygap.runtime.atomic import json_safe
from realitygap.runtime.errors import InputError

PIXEL_SCALE = 1.0
"""`ClipOptions.scale_px_per_m` for paired mode: one file pixel per unit, so positions stay in file pixels."""
ASPECT_TOLERANCE = 0.01
"""Clips whose width/height ratios differ by more than this fraction cannot share the camera's pixels."""
RATE_TOLERANCE = 1e-3
"""Frame rates within this fraction are one rate (ratios of per-frame quantities)."""
CHECK_SIGMAS = 2.0
CAMERA_STILL_PX = 1.0

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


def _fps(fps: float) -> str:
    return f"{fps:.4g}"


def _pm(value: float, sigma: float | None) -> str:
    if sigma is None or not math.isfinite(sigma) or sigma <= 0:
        return f"{value:.4g}"
    exponent = int(np.floor(np.log10(sigma)))
    digits = max(0, -exponent + (1 if sigma / 10.0**exponent < 2 else 0))
    digits = max(digits, 2)
    return f"{value:.{digits}f} ± {sigma:.{digits}f}"

