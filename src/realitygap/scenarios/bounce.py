"""`bounce`: a ball with coefficient of restitution e dropped from height h bounces on the floor.

Law: apex heights of the ball's lowest point h_k = h e^(2k) (k = 1, 2, 3), impact times
t_1 = sqrt(2h/g), t_(k+1) = t_k + 2 e^k sqrt(2h/g).

MuJoCo contacts are soft, so e is not a MuJoCo parameter. We use a linear spring-damper contact
(negative solref = -stiffness, -damping, in constraint-space acceleration units; stiffness 2e5,
constant impedance 0.95 via solimp) and *calibrate* the damping: a Brent root search on a one-impact
MuJoCo simulation at the episode's timestep, impact speed and gravity finds the damping whose velocity
ratio equals e. The analytic spring-damper value exp(-pi zeta / sqrt(1 - zeta^2)) is not used: a
unilateral contact lets go before the spring is unloaded, so it misses e, most at low e. And with
gravity acting during contact, the ratio one damping gives depends on the impact speed, so e would
drift from bounce to bounce. So the damping is *scheduled*: before each impact (ball falling, above
the floor) `control` sets the damping calibrated for the impact speed sqrt(vz^2 + 2 g z), rounded
to 0.01 m/s; impacts slower than 0.3 m/s (`MIN_SCHEDULED_SPEED_M_S`) keep the last damping. The fine
physics step (<= 1/48000 s) makes e nearly independent of where within a step the impact falls.

Development measurements behind these settings: docs/twins.md.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import ClassVar, Mapping

import numpy as np
from scipy.optimize import brentq
from scipy.signal import find_peaks

from realitygap.core.fitting import (
    ARC_OUTLIER_FACTOR,
    MIN_ARC_FRAMES,
    FitResult,
    MeasuredTrack,
    arc_design,
    bootstrap_linear,
    fit_arcs,
    noise_margin_m,
    typical_sigma,
    unmeasured,
)
from realitygap.core.mj import mujoco
from realitygap.core.planefit import RELEASE_SIGMAS, ClipFit, ClipQuantity, PlaneTrack, release_index, window_summary
from realitygap.runtime.errors import InputError
from realitygap.scenarios.base import (
    InstanceSpec,
    LawQuantity,
    Parameter,
    Params,
    ScenarioSpec,
    body_column,
    colour_parameter,
    radius_parameter,
)
from realitygap.scenarios.hints import DROP_HEIGHT_HINTS, RADIUS_HINTS, RESTITUTION_HINTS, Hint
from realitygap.scenarios.world import COLOUR_NAMES, ball_body_mjcf, vertical_motion_bounds, world_mjcf

CONTACT_STIFFNESS = 2.0e5
CONTACT_IMPEDANCE = 0.95
N_BOUNCES = 3
MIN_SCHEDULED_SPEED_M_S = 0.3


class BounceScenario(ScenarioSpec):
    name: str = "bounce"
    summary: str = "A ball with restitution e is dropped and bounces on the floor."
    parameters: tuple[Parameter, ...] = (
        Parameter(name="height_m", unit="m", low=0.5, high=2.5, default=1.0,
                  description="release height of the ball's lowest point above the floor"),
        Parameter(name="restitution", unit="", low=0.4, high=0.95, default=0.7,
                  description="coefficient of restitution e (rebound speed / impact speed)"),
        radius_parameter(),
        colour_parameter("blue", COLOUR_NAMES),
    )
    law: str = "apex heights h_k = h e^(2k); apex ratio e^2; impact times t_1 = sqrt(2h/g), t_(k+1) = t_k + 2 e^k sqrt(2h/g)"
    prompt_template: str = (
        "A {colour} rubber ball of radius {radius_m:.2f} m is dropped from {height_m:.2f} m onto a hard grey "
        "floor and bounces several times, each bounce lower than the last (restitution {restitution:.2f}). "
        "Static camera, plain light background."
    )
    prompt_phrases: ClassVar[tuple[str, ...]] = (
        "a bouncy rubber ball bounces up and down on the floor",
        "a ball is dropped and rebounds several times, each bounce lower than the last",
        "a ball hits the ground and bounces back up",
        "a ball bouncing with a coefficient of restitution",
        "a ball dropped from a height bounces several times on the floor",
    )
    """Paraphrases of the scene, besides the summary and the prompt template, for choosing the scenario."""
    param_hints: ClassVar[Mapping[str, tuple[Hint, ...]]] = {
        "height_m": DROP_HEIGHT_HINTS,
        "radius_m": RADIUS_HINTS,
        "restitution": RESTITUTION_HINTS,
    }
    """Per numeric parameter: the keywords that tie a number in a prompt to it."""
    physical_bounds: ClassVar[Mapping[str, tuple[float, float]]] = {
        "restitution": (0.0, 1.0),
        "apex_ratio": (0.0, 1.0),
        "release_height_m": (0.0, math.inf),
    }
    recovered_params: ClassVar[Mapping[str, tuple[str, float]]] = {
        "height_m": ("release_height_m", 1.0),
        "restitution": ("restitution", 1.0),
    }
    clip_min_frames: ClassVar[int] = 2 * MIN_ARC_FRAMES + 2
    """Two arcs of MIN_ARC_FRAMES and the impacts."""
    clip_main_quantity: ClassVar[str] = "restitution"
    clip_motion: ClassVar[str] = "free_flight"
    instances: tuple[InstanceSpec, ...] = (InstanceSpec(name="ball", body="ball", class_name="ball"),)
    sensor_body: str = "ball"
    event_margin_s: float = 0.3

    def max_timestep_s(self, params: Params) -> float:
        return 1.0 / 48000.0

    def build_mjcf(self, params: Params, timestep_s: float) -> str:
        p = self.resolve_params(params)
        contact = self.contact_settings(p, timestep_s)["ball_floor"]
        r = float(p["radius_m"])
        ball = ball_body_mjcf("ball", (0.0, 0.0, float(p["height_m"]) + r), r, str(p["colour"]),
                              contact["solref"], contact["solimp"])
        return world_mjcf(self.name, ball, self.world_options(p))

    def control(self, params: Params, model, data) -> None:
        joint = data.joint("ball_free")
        height_m = joint.qpos[2] - float(params["radius_m"])
        vz = joint.qvel[2]
        if vz >= 0 or height_m <= 0:
            return
        gravity_m_s2 = float(-model.opt.gravity[2])
        impact_speed = math.sqrt(vz * vz + 2 * gravity_m_s2 * height_m)
        if impact_speed < MIN_SCHEDULED_SPEED_M_S:
            return
        damping = calibrated_damping(float(params["restitution"]), round(impact_speed, 2), float(params["radius_m"]),
                                     float(model.opt.timestep), gravity_m_s2)
        model.geom_solref[model.geom("ball_geom").id, 1] = -damping

    def contact_settings(self, params: Params, timestep_s: float) -> dict:
        p = self.resolve_params(params)
        gravity_m_s2 = self.world_options(p).gravity_m_s2
        impact_speed = math.sqrt(2 * gravity_m_s2 * float(p["height_m"]))
        damping = calibrated_damping(float(p["restitution"]), round(impact_speed, 2), float(p["radius_m"]), timestep_s,
                                     gravity_m_s2)
        return {
            "ball_floor": {
                "solref": (-CONTACT_STIFFNESS, -damping),
                "solimp": (CONTACT_IMPEDANCE, CONTACT_IMPEDANCE, 0.001),
                "note": "linear spring-damper; damping calibrated so that one impact at this timestep has "
                "velocity ratio e; rescheduled before every impact for its speed (this is the first)",
                "calibration_impact_speed_m_s": impact_speed,
            }
        }

    def declared_law(self, params: Params) -> dict[str, LawQuantity]:
        p = self.resolve_params(params)
        h, e = float(p["height_m"]), float(p["restitution"])
        out = {"apex_ratio": LawQuantity(name="apex_ratio", value=e**2, unit="",
                                      description="ratio of successive apex heights, e^2")}
        for k, (t_k, apex_k) in enumerate(zip(self._impact_times(h, e), self._apexes(h, e)), start=1):
            out[f"impact_time_{k}_s"] = LawQuantity(name=f"impact_time_{k}_s", value=t_k, unit="s",
                                                 description=f"time of impact {k}")
            out[f"apex_height_{k}_m"] = LawQuantity(name=f"apex_height_{k}_m", value=apex_k, unit="m",
                                                 description=f"height of the ball's lowest point at apex {k}")
        return out

    def law_position(self, params: Params, t_s: np.ndarray) -> np.ndarray:
        p = self.resolve_params(params)
        h, e, r, g = float(p["height_m"]), float(p["restitution"]), float(p["radius_m"]), self.gravity_m_s2
        t = np.asarray(t_s, dtype=float)
        n_impacts = N_BOUNCES + 1
        while self._impact_times(h, e, n_impacts)[-1] <= (t.max() if t.size else 0.0) and n_impacts < 200:
            n_impacts += 1
        impacts = np.array(self._impact_times(h, e, n_impacts))
        z = np.where(t < impacts[0], h - 0.5 * g * t**2, 0.0)
        for k in range(len(impacts) - 1):
            v_up = e ** (k + 1) * math.sqrt(2 * g * h)
            tau = t - impacts[k]
            arc = (t >= impacts[k]) & (t < impacts[k + 1])
            z = np.where(arc, v_up * tau - 0.5 * g * tau**2, z)
        z = np.maximum(z, 0.0) + r
        return np.stack([np.zeros_like(t), np.zeros_like(t), z], axis=-1)

    def duration_s(self, params: Params) -> float:
        p = self.resolve_params(params)
        return self._impact_times(float(p["height_m"]), float(p["restitution"]), N_BOUNCES + 1)[-1] + self.event_margin_s

    def motion_bounds_m(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        p = self.resolve_params(params)
        return vertical_motion_bounds(float(p["radius_m"]), float(p["height_m"]))

    def fit_clip(self, track: PlaneTrack, noise: np.ndarray, rng: np.random.Generator, n_boot: int, *,
                 automatic: bool, length_m: float | None = None) -> ClipFit:
        return fit_bounce_clip(track, noise, rng, n_boot)

    def fit_declared_law(self, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
        return fit_bounce(self, params, tracks)

    def measure_state(self, params: Params, state: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Apexes are the local maxima of the lowest point's height after each impact."""
        p = self.resolve_params(params)
        h, r = float(p["height_m"]), float(p["radius_m"])
        t = body_column(state, "ball", "t_s")
        bottom = body_column(state, "ball", "position_z_m") - r
        peaks, _ = find_peaks(bottom, prominence=0.002)
        apexes = bottom[peaks][:N_BOUNCES]
        out: dict[str, float] = {}
        for k, apex in enumerate(apexes, start=1):
            out[f"apex_height_{k}_m"] = float(apex)
        heights = np.r_[h, apexes]
        if len(heights) >= 2:
            out["apex_ratio"] = float(np.mean(heights[1:] / heights[:-1]))
        contact = bottom <= 0.0
        starts = np.flatnonzero(contact[1:] & ~contact[:-1]) + 1
        for k, i in enumerate(starts[: N_BOUNCES], start=1):
            out[f"impact_time_{k}_s"] = float(t[i - 1] + (t[i] - t[i - 1]) * bottom[i - 1] / (bottom[i - 1] - bottom[i]))
        return out

    def _impact_times(self, h: float, e: float, n: int = N_BOUNCES) -> list[float]:
        t_fall = math.sqrt(2 * h / self.gravity_m_s2)
        times = [t_fall]
        for k in range(1, n):
            times.append(times[-1] + 2 * e**k * t_fall)
        return times

    @staticmethod
    def _apexes(h: float, e: float, n: int = N_BOUNCES) -> list[float]:
        return [h * e ** (2 * k) for k in range(1, n + 1)]


@lru_cache(maxsize=256)
def calibrated_damping(restitution: float, impact_speed_m_s: float, radius_m: float, timestep_s: float,
                       gravity_m_s2: float) -> float:
    """Contact damping (constraint-space, 1/s) whose simulated rebound/impact speed ratio is e.

    Deterministic: a Brent search over the damping ratio zeta of the linear contact, each
    evaluation a one-impact MuJoCo simulation of the same ball at `timestep_s` in the world's gravity.
    """
    omega = math.sqrt(CONTACT_IMPEDANCE * CONTACT_STIFFNESS)

    def damping(zeta: float) -> float:
        return 2.0 * zeta * omega / CONTACT_IMPEDANCE

    def residual(zeta: float) -> float:
        return _one_impact_ratio(damping(zeta), impact_speed_m_s, radius_m, timestep_s, gravity_m_s2) - restitution

    low, high = 1e-4, 0.99
    r_low, r_high = residual(low), residual(high)
    if r_low * r_high > 0:  # e outside what this contact can produce: take the nearer end
        return damping(low if abs(r_low) < abs(r_high) else high)
    return damping(brentq(residual, low, high, xtol=1e-7))


def _one_impact_ratio(damping: float, impact_speed_m_s: float, radius_m: float, timestep_s: float,
                      gravity_m_s2: float) -> float:
    xml = f"""<mujoco><option timestep="{timestep_s!r}" gravity="0 0 {-gravity_m_s2!r}"/><worldbody>
      <geom type="plane" size="5 5 0.1"/>
      <body pos="0 0 {radius_m!r}"><freejoint/>
        <geom type="sphere" size="{radius_m!r}" density="500" priority="1"
              solref="{-CONTACT_STIFFNESS!r} {-damping!r}" solimp="{CONTACT_IMPEDANCE} {CONTACT_IMPEDANCE} 0.001"/>
      </body></worldbody></mujoco>"""
    model = mujoco.MjModel.from_xml_string(xml)
    data = mujoco.MjData(model)
    data.qvel[2] = -impact_speed_m_s
    max_steps = int(1.0 / timestep_s)
    entered = False
    for _ in range(max_steps):
        mujoco.mj_step(model, data)
        gap = data.qpos[2] - radius_m
        entered = entered or gap < 0
        if entered and gap >= 0:
            return float(data.qvel[2] / impact_speed_m_s)
    return 0.0


# --- law fit on tracks measured from pixels --------------------------------------------------------

def fit_bounce(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """Arcs are the airborne frames between the impacts, which are the local minima of z (prominence
    >= 6 sigma and 5 mm). Arcs with >= 3 airborne frames, in order from the release, are fitted
    together: z = a_k + b_k tau - g tau^2 / 2 (tau = t - mean t of arc k), one g. Apex heights
    H_k = a_k + b_k^2 / (2 g) - r (H_0: the release); impact k = arc k-1's landing at z = r (the soft
    contact lasts ~7 ms: the next arc takes off later). Restitution over all n arcs:
    e = sqrt((H_1 + ... + H_(n-1)) / (H_0 + ... + H_(n-2))) (H_k = e^2 H_(k-1), weighted towards the
    large, well-measured apexes); apex_ratio = mean of H_k / H_(k-1) over the first three bounces (as
    `measure_state`). A speed ratio gives the same e: a parabola crosses z = r at the same speed
    sqrt(2 g H) on both sides."""
    r = float(params["radius_m"])
    t, z, sz = tracks["ball"].axis(2)
    noise = typical_sigma(sz)
    airborne = z - r > noise_margin_m(sz)
    minima, _ = find_peaks(-z, prominence=max(6 * noise, 0.005))
    edges = np.r_[-1, minima, len(z)]
    arcs = []
    for start, stop in zip(edges[:-1], edges[1:]):
        frames = np.arange(start + 1, stop)
        frames = frames[airborne[frames]]
        if len(frames) < MIN_ARC_FRAMES:
            break
        arcs.append(frames)
    fit = None
    while len(arcs) >= 1:
        fit, arc_rms = fit_arcs(t, z, sz, arcs)
        typical = float(np.median(arc_rms))
        bad = np.flatnonzero((arc_rms > ARC_OUTLIER_FACTOR * typical) & (arc_rms > 3 * noise))
        if bad.size == 0 or bad[0] == 0:
            break
        arcs = arcs[: int(bad[0])]
    n = len(arcs)
    keys = {"g_m_s2": "m/s^2", "restitution": "", "apex_ratio": "", "release_height_m": "m"}
    if fit is None or n < 2:
        return unmeasured(keys, "fewer than two arcs with >= 3 airborne frames")
    centres = [float(t[a].mean()) for a in arcs]
    shown = min(N_BOUNCES, n - 1)
    units = {"g_m_s2": "m/s^2", "release_height_m": "m", "restitution": "", "apex_ratio": "",
             **{f"apex_height_{k}_m": "m" for k in range(1, shown + 1)},
             **{f"impact_time_{k}_s": "s" for k in range(1, shown + 1)}}

    def derived(c):
        g = c[0]
        a, b = c[1::2], c[2::2]
        heights = a + b**2 / (2 * g) - r
        landing = np.array(centres) + (b + np.sqrt(np.maximum(b * b + 2 * g * (a - r), 0.0))) / g
        out = {"g_m_s2": g, "release_height_m": heights[0],
               "restitution": math.sqrt(heights[1:].sum() / heights[:-1].sum()),
               "apex_ratio": float(np.mean(heights[1:shown + 1] / heights[:shown]))}
        for k in range(1, shown + 1):
            out[f"apex_height_{k}_m"] = heights[k]
            out[f"impact_time_{k}_s"] = landing[k - 1]
        return out

    notes = {"release_height_m": "apex of the first (release) arc",
             "restitution": f"sqrt(sum of apexes 1..{n - 1} / sum of apexes 0..{n - 2}) over {n} arcs",
             **{f"impact_time_{k}_s": "landing of the arc before it at z = r" for k in range(1, shown + 1)}}
    return fit.derive(derived, units, notes)


# --- law fit on a clip's plane track (measure-clip) --------------------------------------------------
MAX_IMPACT_GAP_S = 0.1
"""Successive arcs are at most this far apart in time (the impact between them, its unmeasured frames);
the longest run of arcs so linked is fitted."""
MIN_BOUNCE_SPAN = 0.015
"""An impact in a clip is a minimum of the height at least this fraction of the motion's span below both
neighbouring apexes (and 6 noise sigmas): the small last bounces before a ball rolls are impacts too, and an
arc must not run over them."""


def fit_bounce_clip(track: PlaneTrack, noise: np.ndarray, rng: np.random.Generator, n_boot: int) -> ClipFit:
    """Arcs between impacts (local minima of the height), after the release and before the ball rests,
    fitted jointly: y = a_k + b_k tau_k - g tau_k^2 / 2 with one g. The contact level is where successive
    arcs meet (one line each, since they share g); apex heights H_k above it; restitution
    e = sqrt(sum H_1..n-1 / sum H_0..n-2) and apex_ratio = mean H_k / H_(k-1) (ratios: no scale), g (metric)."""
    t, y = track.t_s, track.xy[:, 1]
    start = release_index(track.xy, noise)
    typical = float(np.median(noise))
    moving = np.flatnonzero(np.abs(y - y[-1]) > RELEASE_SIGMAS * typical)
    stop = int(moving[-1]) + 1 if len(moving) else len(y)  # the ball at rest at the end is no arc
    span = float(y[start:stop].max() - y[start:stop].min())
    minima, _ = find_peaks(-y[start:stop], prominence=max(6 * typical, MIN_BOUNCE_SPAN * span))
    edges = np.r_[start - 1, minima + start, stop]
    arcs = []
    for a, b in zip(edges[:-1], edges[1:]):
        frames = np.arange(a + 1, b)
        if len(frames) < MIN_ARC_FRAMES:
            break
        arcs.append(frames)
    notes = []
    runs = [[arcs[0]]] if arcs else []
    for arc in arcs[1:]:  # an arc after a stretch the track misses is not the previous one's bounce
        if t[arc[0]] - t[runs[-1][-1][-1]] > MAX_IMPACT_GAP_S:
            runs.append([arc])
        else:
            runs[-1].append(arc)
    if len(runs) > 1:
        best = max(runs, key=len)
        notes.append(f"{len(arcs) - len(best)} arc(s) left out: the track misses more than {MAX_IMPACT_GAP_S} s between "
                     "arcs there (an impact and the arc after it may be missing), so they are not successive bounces")
        arcs = best
    while len(arcs) >= 2:
        _, arc_rms = fit_arcs(t, y, noise, arcs)
        earlier = np.array([np.median(arc_rms[:k]) if k >= 2 else np.inf for k in range(len(arcs))])
        bad = np.flatnonzero((arc_rms > ARC_OUTLIER_FACTOR * earlier) & (arc_rms > 3 * typical))
        if bad.size == 0:
            break
        notes.append(f"arc {int(bad[0])} and later left out: the law's residual jumps there (rms {arc_rms[bad[0]]:.3g} "
                     f"{track.unit} against {earlier[bad[0]]:.3g} for the arcs before; unresolved small bounces?)")
        arcs = arcs[: int(bad[0])]
    if len(arcs) < 2:
        raise InputError(f"too few frames for the bounce law: {len(arcs)} arc(s) with >= {MIN_ARC_FRAMES} airborne frames "
                         "(need 2: the release and one bounce)")
    design, rows = arc_design(t, arcs)
    centres = np.array([float(t[a].mean()) for a in arcs])
    n = len(arcs)
    shown = min(N_BOUNCES, n - 1)

    def derived(C):
        g = float(C[0, 0])
        a, b = C[1::2, 0], C[2::2, 0]
        # successive arcs y_k(t) = a_k + b_k (t - m_k) - g (t - m_k)^2 / 2 share g: they meet where a line is 0
        levels, times = [], []
        for k in range(1, n):
            m0, m1 = centres[k - 1], centres[k]
            # y_(k-1)(t) - y_k(t) = p + q t
            q = b[k - 1] - b[k] + g * (m0 - m1)
            p = a[k - 1] - a[k] - b[k - 1] * m0 + b[k] * m1 - g / 2 * (m0**2 - m1**2)
            tc = -p / q
            times.append(tc)
            levels.append(a[k] + b[k] * (tc - m1) - g / 2 * (tc - m1) ** 2)
        contact = float(np.mean(levels))
        heights = a + b**2 / (2 * g) - contact
        out = {"g": g, "restitution": math.sqrt(max(heights[1:].sum(), 0.0) / heights[:-1].sum()),
               "apex_ratio": float(np.mean(heights[1:shown + 1] / heights[:shown])), "release_height": float(heights[0])}
        for k in range(1, n - 1):
            out[f"interval_{k}"] = times[k] - times[k - 1]
        return out

    values, sigmas, fitted = bootstrap_linear(design, y[rows, None], noise[rows], derived, rng, n_boot)
    q = {"restitution": ClipQuantity(values["restitution"], sigmas["restitution"], "",
                                 f"sqrt(sum of apex heights 1..{n - 1} / 0..{n - 2}) over {n} arcs; contact level where arcs meet"),
         "apex_ratio": ClipQuantity(values["apex_ratio"], sigmas["apex_ratio"], "",
                                f"mean H_k / H_(k-1) over the first {shown} bounce(s)"),
         "g_m_s2": ClipQuantity(values["g"], sigmas["g"], "m/s^2", "one g shared by the arcs", metric=True),
         "release_height_m": ClipQuantity(values["release_height"], sigmas["release_height"], "m",
                                      "first apex above the contact level", metric=True)}
    for k in range(1, n - 1):
        q[f"bounce_interval_{k}_s"] = ClipQuantity(values[f"interval_{k}"], sigmas[f"interval_{k}"], "s",
                                               f"time between impacts {k} and {k + 1}")
    used = np.concatenate(arcs)
    grid_t, grid_y = [], []
    for i, frames in enumerate(arcs):
        g_t = np.linspace(t[frames[0]], t[frames[-1]], 30)
        tau = g_t - centres[i]
        grid_t.append(g_t)
        grid_y.append(fitted[1 + 2 * i, 0] + fitted[2 + 2 * i, 0] * tau - fitted[0, 0] * tau**2 / 2)
    grid_t, grid_y = np.concatenate(grid_t), np.concatenate(grid_y)
    model_xy = np.stack([np.interp(grid_t, t, track.xy[:, 0]), grid_y], axis=1)
    window = window_summary(track, used, f"{n} arcs")
    window["arcs"] = [[int(track.frame[a[0]]), int(track.frame[a[-1]])] for a in arcs]
    return ClipFit("bounce", q, {}, window, notes, track.frame[used], grid_t, model_xy)
