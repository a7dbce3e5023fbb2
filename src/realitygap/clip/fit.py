"""Law fits on a clip's track in the motion plane (metres with a scale, pixels without).

`fit_clip(law, track, ...)` chooses the fit window, fits the law and returns its quantities with
uncertainties from a residual bootstrap (fixed seed): the weighted residuals of the fit (leverage
corrected, centred) are resampled with replacement per frame, added to the fitted values, refitted,
and the standard deviation of each derived quantity over `n_boot` refits is its uncertainty (the
relative uncertainty of the scale is added in quadrature to metric quantities).

Windows (overridable with `frames=(a, b)`: frames a..b-1 of the clip):
- release: the first frame where the object has left its first position by more than 4 sigma (a held
  object is at rest before), then one earlier frame when it fits the law;
- growth: from the first `MIN_FRAMES[law]` frames after the release the window grows frame by frame
  while each next frame lies within `JUMP_SIGMAS` prediction sigmas of the fit so far; where two
  successive frames do not (the law's residual jumps) the window ends and the fit says why: an
  impact (the object reverses or stops), or something else (an occlusion, a hand, a second object
  merging with the object), frames after it are not used. A single outlying frame is skipped.
- bounce: arcs between impacts (local minima of the height), fitted jointly with one g.
- pendulum: the whole track after the release (steady oscillation).

Per law (the acceleration is the 2-D vector of the fit, so a camera roll does not bias its size):
- drop, projectile: xy(t) = c0 + c1 tau + c2 tau^2 per axis -> g = |2 c2| (metric), the direction of
  g against the frame's down (deg), and for a projectile the horizontal speed (metric).
- slide: the same parabola over the sliding frames -> deceleration |2 c2| and friction = deceleration
  / 9.80665 (metric), the sliding time (s, from the release to the vertex).
- bounce: arcs y = a_k + b_k tau_k - g tau_k^2 / 2 with one g; the contact level is where successive
  arcs meet (one line each, since they share g), apex heights H_k above it; restitution
  e = sqrt(sum H_1..n-1 / sum H_0..n-2) and apex_ratio = mean H_k / H_(k-1) (ratios: no scale), g (metric).
- pendulum: the coordinate along the swing, s(t) = c + sum_(k=1..3) a_k cos(k w t) + b_k sin(k w t)
  (odd and even harmonics of a finite-amplitude swing), w by a bounded 1-D search -> period 2 pi / w
  (no scale); with `length_m` also g = L (4 K(sin^2(theta0 / 2)) / T)^2 (finite amplitude theta0
  from a circle fitted to the path, no scale needed; L from the pivot to the centre of mass).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.signal import find_peaks
from scipy.special import ellipk

from realitygap.clip.scale import PlaneTrack
from realitygap.core.fitting import ARC_OUTLIER_FACTOR, MIN_ARC_FRAMES, arc_design, bootstrap_linear, fit_arcs, oscillation_guess
from realitygap.runtime.errors import InputError

LAWS = ("drop", "projectile", "bounce", "pendulum", "slide")
STANDARD_GRAVITY_M_S2 = 9.80665
MIN_FRAMES = {"drop": 5, "projectile": 6, "slide": 5, "pendulum": 12, "bounce": 2 * 3 + 2}
"""Fewest frames of free motion a law is fitted on (bounce: two arcs of 3 and the impacts)."""
MAIN_QUANTITY = {"drop": "g_m_s2", "projectile": "g_m_s2", "slide": "friction", "bounce": "restitution", "pendulum": "period_s"}
"""The quantity a law is measured for: refusing it (no scale) refuses the measurement."""
JUMP_SIGMAS = 6.0
RELEASE_SIGMAS = 4.0
NOISE_FLOOR_PX = 0.3
"""Least per-axis position noise assumed (px; compressed video), for the window tests."""
N_BOOT = 200


@dataclass
class ClipQuantity:
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


def fit_clip(law: str, track: PlaneTrack, *, unit_per_px: float, rel_scale_sigma: float = 0.0,
             frames: tuple[int, int] | None = None, length_m: float | None = None, seed: int = 0,
             n_boot: int = N_BOOT) -> ClipFit:
    """Fit `law` to `track` (see the module docstring). `unit_per_px`: track units per image pixel
    (for the noise floor). InputError when the law cannot be measured on the track."""
    if law not in LAWS:
        raise InputError(f"--law {law!r}: choose one of {', '.join(LAWS)}")
    if frames is not None:
        keep = (track.frame >= frames[0]) & (track.frame < frames[1])
        track = PlaneTrack(track.frame[keep], track.t_s[keep], track.xy[keep], track.sigma[keep], track.unit)
    if len(track.t_s) < 3:
        raise InputError(f"too few frames for the {law} law: the object is seen in {len(track.t_s)} frames"
                         + (f" of --frames {frames[0]}:{frames[1]}" if frames else ""))
    rng = np.random.default_rng(seed)
    noise = np.maximum(track.sigma, NOISE_FLOOR_PX * unit_per_px)
    metric = track.unit == "m"
    if law in ("drop", "projectile", "slide"):
        result = _fit_parabola(law, track, noise, rng, n_boot, automatic=frames is None)
    elif law == "bounce":
        result = _fit_bounce(track, noise, rng, n_boot)
    else:
        result = _fit_pendulum(track, noise, rng, n_boot, length_m)
    if not metric:
        for name in [k for k, q in result.quantities.items() if q.metric]:
            del result.quantities[name]
            result.refused[name] = "metric quantity refused: no scale (give --scale PX_PER_M, --object-diameter M or --calibration FILE)"
    for q in result.quantities.values():
        if q.metric and rel_scale_sigma > 0:
            q.uncertainty = math.hypot(q.uncertainty, rel_scale_sigma * abs(q.value))
    return result


# --------------------------------------------------------------------------------------------------
# drop, projectile, slide: one parabola per axis


def _fit_parabola(law: str, track: PlaneTrack, noise: np.ndarray, rng, n_boot: int, automatic: bool) -> ClipFit:
    t, xy, unit = track.t_s, track.xy, track.unit
    notes = []
    if automatic:
        stop = len(t)
        if law == "slide":  # at rest after the stop: the parabola would turn back, the object does not
            moving = np.flatnonzero(np.hypot(*(xy - xy[-1]).T) > RELEASE_SIGMAS * np.sqrt(2) * noise)
            stop = int(moving[-1]) + 1 if len(moving) else len(t)
        lo, hi, skipped, ended = grow_window(t[:stop], xy[:stop], noise[:stop], release_index(xy, noise), MIN_FRAMES[law],
                                             _parabola_design)
        if law == "slide" and hi == stop < len(t):
            ended = f"the object comes to rest at t = {t[stop]:.3f} s"
    else:
        lo, hi, skipped, ended = 0, len(t), [], "end of --frames"
    used = np.array([i for i in range(lo, hi) if i not in skipped])
    if len(used) < MIN_FRAMES[law]:
        raise InputError(f"too few frames for the {law} law: {len(used)} usable frames of free motion "
                         f"(need {MIN_FRAMES[law]}; frames {track.frame[lo]}-{track.frame[max(hi - 1, lo)]})")
    t_mean = float(t[used].mean())
    A = _parabola_design(t[used], t_mean)

    def derived(C):
        acc = 2 * C[2]
        out = {"tilt_deg": math.degrees(math.atan2(acc[0], -acc[1]))}
        size = float(np.hypot(*acc))
        if law == "slide":
            out.update(deceleration=size, friction=size / STANDARD_GRAVITY_M_S2 if unit == "m" else math.nan,
                       sliding_time_s=float(np.dot(-C[1], acc) / max(size**2, 1e-12)) + t_mean - float(t[used[0]]))
        else:
            out["g"] = size
            if law == "projectile":
                out["horizontal_speed"] = float(abs(C[1, 0]))
        return out

    values, sigmas, fitted = bootstrap_linear(A, xy[used], noise[used], derived, rng, n_boot)
    q = {}
    if law == "slide":
        q["deceleration_m_s2"] = ClipQuantity(values["deceleration"], sigmas["deceleration"], "m/s^2", metric=True)
        q["friction"] = ClipQuantity(values["friction"], sigmas["friction"], "", f"deceleration / {STANDARD_GRAVITY_M_S2} m/s^2 "
                                 "(standard gravity)", metric=True)
        q["sliding_time_s"] = ClipQuantity(values["sliding_time_s"], sigmas["sliding_time_s"], "s",
                                       "from the first used frame to the stop (vertex of the fit)")
    else:
        q["g_m_s2"] = ClipQuantity(values["g"], sigmas["g"], "m/s^2", "size of the fitted acceleration vector", metric=True)
        q["g_direction_deg"] = ClipQuantity(values["tilt_deg"], sigmas["tilt_deg"], "deg",
                                        "angle of the fitted acceleration from the frame's down (0: straight down)")
        if law == "projectile":
            q["horizontal_speed_m_s"] = ClipQuantity(values["horizontal_speed"], sigmas["horizontal_speed"], "m/s", metric=True)
    if skipped:
        notes.append(f"skipped {len(skipped)} outlying frame(s): {', '.join(str(int(track.frame[i])) for i in skipped)}")
    if ended not in ("end of track", "end of --frames"):
        notes.append(ended)
    grid = np.linspace(t[used[0]], t[used[-1]], 100)
    return ClipFit(law, q, {}, _window(track, used, ended), notes, track.frame[used], grid,
                   _parabola_design(grid, t_mean) @ fitted)


def _parabola_design(t: np.ndarray, t_mean: float | None = None) -> np.ndarray:
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


# --------------------------------------------------------------------------------------------------
# bounce


def _fit_bounce(track: PlaneTrack, noise: np.ndarray, rng, n_boot: int) -> ClipFit:
    t, y = track.t_s, track.xy[:, 1]
    start = release_index(track.xy, noise)
    typical = float(np.median(noise))
    moving = np.flatnonzero(np.abs(y - y[-1]) > RELEASE_SIGMAS * typical)
    stop = int(moving[-1]) + 1 if len(moving) else len(y)  # the ball at rest at the end is no arc
    span = float(y[start:stop].max() - y[start:stop].min())
    minima, _ = find_peaks(-y[start:stop], prominence=max(6 * typical, 0.03 * span))
    edges = np.r_[start - 1, minima + start, stop]
    arcs = []
    for a, b in zip(edges[:-1], edges[1:]):
        frames = np.arange(a + 1, b)
        if len(frames) < MIN_ARC_FRAMES:
            break
        arcs.append(frames)
    notes = []
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
    shown = min(3, n - 1)

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
    window = _window(track, used, f"{n} arcs")
    window["arcs"] = [[int(track.frame[a[0]]), int(track.frame[a[-1]])] for a in arcs]
    return ClipFit("bounce", q, {}, window, notes, track.frame[used], grid_t, model_xy)


# --------------------------------------------------------------------------------------------------
# pendulum


def _fit_pendulum(track: PlaneTrack, noise: np.ndarray, rng, n_boot: int, length_m: float | None) -> ClipFit:
    start = release_index(track.xy, noise)
    t, xy, w = track.t_s[start:], track.xy[start:], noise[start:]
    centre = xy.mean(axis=0)
    _, _, vt = np.linalg.svd(xy - centre, full_matrices=False)
    s = (xy - centre) @ vt[0]
    guess = oscillation_guess(t, s)
    if guess is None or len(t) < MIN_FRAMES["pendulum"]:
        raise InputError(f"too few frames for the pendulum law: {len(t)} frames with "
                         f"{'fewer than 3 crossings of the mid line' if guess is None else 'too few samples'} "
                         "(need at least one full swing)")
    w0 = 2 * math.pi / guess[1]

    def solve(values: np.ndarray, omega_hint: float) -> tuple[float, np.ndarray]:
        def rss(omega):
            A = _harmonics(t, omega) / w[:, None]
            c, *_ = np.linalg.lstsq(A, values / w, rcond=None)
            return float(np.sum((A @ c - values / w) ** 2))
        best = minimize_scalar(rss, bounds=(0.85 * omega_hint, 1.15 * omega_hint), method="bounded",
                               options={"xatol": 1e-9 * omega_hint})
        A = _harmonics(t, best.x) / w[:, None]
        c, *_ = np.linalg.lstsq(A, values / w, rcond=None)
        return float(best.x), c

    omega, coef = solve(s, w0)
    fitted_s = _harmonics(t, omega) @ coef
    resid = (s - fitted_s) / w
    p = 8
    resid = (resid - resid.mean()) * math.sqrt(len(t) / max(len(t) - p, 1))
    periods = []
    for _ in range(n_boot // 2):
        sample = fitted_s + w * rng.choice(resid, len(resid))
        periods.append(2 * math.pi / solve(sample, omega)[0])
    period = 2 * math.pi / omega
    q = {"period_s": ClipQuantity(period, float(np.std(periods, ddof=1)), "s",
                              "fundamental of s(t) = c + sum_(k=1..3) a_k cos(k w t) + b_k sin(k w t) along the swing")}
    amplitude = _swing_amplitude_rad(xy)
    notes = []
    if amplitude is not None:
        q["amplitude_deg"] = ClipQuantity(math.degrees(amplitude), math.nan, "deg", "half the swing's angle about the centre of "
                                      "a circle fitted to the path")
    if length_m is not None:
        k2 = math.sin((amplitude or 0.0) / 2) ** 2
        g = length_m * (4 * float(ellipk(k2)) / period) ** 2
        g_sigma = 2 * g * q["period_s"].uncertainty / period
        q["g_m_s2"] = ClipQuantity(g, g_sigma, "m/s^2", f"L (4 K(k^2) / T)^2 with L = {length_m} m from --length-m (pivot to "
                               "centre of mass; a physical pendulum needs its equivalent length); needs no image scale")
        if amplitude is None:
            notes.append("amplitude not measurable (circle fit failed): g uses the small-angle period")
    grid = np.linspace(t[0], t[-1], 300)
    model_xy = centre + np.outer(_harmonics(grid, omega) @ coef, vt[0])
    used = np.arange(start, len(track.t_s))
    return ClipFit("pendulum", q, {}, _window(track, used, "end of track"), notes, track.frame[used], grid, model_xy)


def _harmonics(t: np.ndarray, omega: float) -> np.ndarray:
    cols = [np.ones_like(t)]
    for k in (1, 2, 3):
        cols += [np.cos(k * omega * t), np.sin(k * omega * t)]
    cols.append(t - t.mean())
    return np.stack(cols, axis=1)


def _swing_amplitude_rad(xy: np.ndarray) -> float | None:
    """Half the angle the path spans about the centre of an algebraic (Kasa) circle fit; None when the
    fit is degenerate or the centre is below the path (not a pendulum hanging from a pivot)."""
    x, y = xy[:, 0], xy[:, 1]
    A = np.stack([x, y, np.ones_like(x)], axis=1)
    try:
        (a, b, c), *_ = np.linalg.lstsq(A, x**2 + y**2, rcond=None)
    except np.linalg.LinAlgError:
        return None
    cx, cy = a / 2, b / 2
    r2 = c + cx**2 + cy**2
    if not np.isfinite(r2) or r2 <= 0 or cy < y.max():
        return None
    angles = np.arctan2(x - cx, cy - y)
    return float((angles.max() - angles.min()) / 2)


# --------------------------------------------------------------------------------------------------
# shared


def _window(track: PlaneTrack, used: np.ndarray, ended: str) -> dict:
    return {"first_frame": int(track.frame[used[0]]), "last_frame": int(track.frame[used[-1]]), "frames_used": int(len(used)),
            "t_start_s": float(track.t_s[used[0]]), "t_end_s": float(track.t_s[used[-1]]), "ended": ended}
