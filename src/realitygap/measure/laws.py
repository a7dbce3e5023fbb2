"""Fit each scenario's declared law to measured trajectories (world metres) and return its constants.

`fit_law(scenario_name, params, tracks_m)` takes one `MeasuredTrack` per tracked instance (keyed by
instance name: ball, bob, box, car, door, puck_a, puck_b, drone), fits the scenario's law and returns
`FitResult`s keyed by the names the scenario's `predict()` / `measure_state()` use (so measured,
predicted and ground-truth values line up), plus fitted physical constants (g_m_s2, restitution,
friction, ...). Nothing here reads the law's predicted values: only the declared *form* of the law
and the known scene geometry (floor at z = 0, ball radius, pendulum pivot, door hinge, puck radius,
declared mass ratio).

Statistics. Fits are (weighted) least squares with weights 1 / sigma^2 from the tracks' sigma_m.
Uncertainties are one standard deviation from the fit covariance scaled by the residual, as
scipy.optimize.curve_fit does by default: cov = (J^T W J)^-1 chi2 / dof, so they also hold when the
tracks' sigma is off by a constant factor. Derived quantities (impact time, stopping distance,
momentum ratio, ...) carry the covariance through a central-difference Jacobian (first order).
`reduced_chi2` = chi2 / dof with the given sigma: about 1 when the law and the noise model explain
the data; much larger when the source does not obey the law's form (or sigma is underestimated).
`residual_rms` is the unweighted RMS residual of the fit that produced the value, in `residual_unit`.

Per scenario (what is fitted; see each `fit_<scenario>` docstring):
- drop: parabola z(t) over the free-fall frames -> g, impact time (fitted curve meets z = r) and speed.
- projectile: z = z0 + vz E1(t) - g E2(t), x = x0 + vx E1(t) over the flight (E1, E2: the linear-drag
  integrals at the declared drag rate, t and t^2 / 2 without drag) -> g, range, apex, flight time.
- bounce: per-arc parabolas with one shared g -> apex heights, impact times, restitution.
- pendulum: exact finite-amplitude angle theta(t) about the known pivot -> period, amplitude, g.
- slide, braking: piecewise constant-deceleration x(t) -> deceleration, friction, stopping distance/time
  (braking also the reaction time and brake speed).
- door: opening angle about the known hinge, exponential approach -> final angle, time constant.
- collision: two continuous piecewise-linear x(t) with a shared kink -> velocities, momentum and energy ratios.
- occlusion: presence -> disappearance and reappearance times; line fits -> speeds and exit position.
- quadrotor: only the image-plane drift of the centroid is measurable (see `fit_quadrotor`).
- shadow: only the ball (speed, height); the shadow is not a tracked instance (see `fit_shadow`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, NamedTuple

import numpy as np
from scipy.optimize import brentq, least_squares
from scipy.signal import find_peaks
from scipy.special import ellipk

from realitygap.measure.backproject import MeasuredTrack
from realitygap.scenarios import get_scenario
from realitygap.scenarios.base import Params, ScenarioSpec
from realitygap.scenarios.bounce import N_BOUNCES
from realitygap.scenarios.collision import PUCK_RADIUS_M
from realitygap.scenarios.door import angular_impulse_n_m_s, door_time_constant_s
from realitygap.scenarios.pendulum import inertia_factor, pendulum_angle_rad, pivot_position_m
from realitygap.scenarios.projectile import drag_integrals

NOISE_MARGIN_SIGMAS = 4.0
"""A ball counts as airborne when its centre is this many sigma (and >= MIN_MARGIN_M) above contact height."""
MIN_MARGIN_M = 1e-3
MIN_ARC_FRAMES = 3
"""Fewest airborne frames of a bounce arc (two own parameters + the shared g)."""
ARC_OUTLIER_FACTOR = 4.0
"""A bounce arc whose RMS residual exceeds this multiple of the median arc's (and 3 sigma) ends the fit:
it merges an unresolved small bounce."""
RESTART_REDUCED_CHI2 = 3.0
"""Braking: a fit with chi2 / dof at or above this is retried from other starts."""
CONTACT_EXCLUSION_S = 0.015
"""Collision: frames this close to the fitted impact are left out (the bumper contact lasts ~7 ms)."""
FULL_VISIBILITY = 0.99
"""Occlusion: a frame with at least this visible fraction counts as fully visible."""
EDGE_FRAMES = 2
"""Occlusion without visible fractions: frames this close to the gap are left out of the speed fits
(a partly hidden ball's mask centroid is biased)."""


@dataclass(frozen=True)
class FitResult:
    """A quantity measured by a law fit: value and one-sigma uncertainty in `unit`, with the fit's
    goodness: unweighted RMS residual (in `residual_unit`), degrees of freedom and reduced chi-square.
    value NaN means not measurable here; `note` says why."""

    value: float
    unit: str
    uncertainty: float
    residual_rms: float
    residual_unit: str
    dof: int
    reduced_chi2: float
    method: str = ""
    note: str = ""


def fit_law(scenario_name: str, params: Mapping, tracks_m: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """Fit the law of `scenario_name` to `tracks_m` (keyed by instance name) for the episode's `params`."""
    spec = get_scenario(scenario_name)
    if scenario_name not in FITTERS:
        raise KeyError(f"no law fit for scenario {scenario_name!r}")
    p = spec.resolve_params(params)
    missing = [i.name for i in spec.instances if i.name not in tracks_m]
    if missing:
        raise KeyError(f"scenario {scenario_name} needs tracks for {', '.join(missing)}")
    return FITTERS[scenario_name](spec, p, tracks_m)


# ---------------------------------------------------------------------------------------------------
# per-scenario fits
# ---------------------------------------------------------------------------------------------------
def fit_drop(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """Parabola z = c0 + c1 tau + c2 tau^2 (tau = t - mean t) over the airborne frames before the ball
    first reaches the floor (centre within the noise margin of z = r). g = -2 c2; impact = later root
    of the parabola at z = r, its speed sqrt(c1^2 - 4 c2 (c0 - r)); release = vertex."""
    r = float(params["radius_m"])
    t, z, sz = _axis(tracks["ball"], 2)
    window = _leading_run(z - r > _margin(sz))
    keys = {"g_m_s2": "m/s^2", "impact_time_s": "s", "impact_speed_m_s": "m/s", "release_height_m": "m",
            "release_time_s": "s"}
    if window.sum() < 4:
        return _unmeasured(keys, "fewer than 4 free-fall frames")
    t_mean = float(t[window].mean())
    tau = t[window] - t_mean
    fit = linear_fit(np.stack([np.ones_like(tau), tau, tau**2], axis=1), z[window], sz[window], "m",
                     "weighted parabola z(t) over the free-fall frames")

    def derived(c):
        root = math.sqrt(max(c[1] ** 2 - 4 * c[2] * (c[0] - r), 0.0))  # |dz/dt| where z = r
        return {"g_m_s2": -2 * c[2], "impact_time_s": t_mean + (-c[1] - root) / (2 * c[2]), "impact_speed_m_s": root,
                "release_height_m": c[0] - c[1] ** 2 / (4 * c[2]) - r, "release_time_s": t_mean - c[1] / (2 * c[2])}

    return fit.derive(derived, keys, {"release_height_m": "vertex of the parabola above contact height",
                                      "release_time_s": "time of the vertex"})


def fit_projectile(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """Over the longest run of airborne frames, one linear least-squares fit of
    z = z0 + vz E1(t) - g E2(t) and x = x0 + vx E1(t), E1 = (1 - e^(-kt)) / k, E2 = (t - E1) / k at the
    declared drag rate k (t and t^2 / 2 at k = 0; any time origin gives the same family). Launch and
    landing are the fitted curve's crossings of the launch height z = r on either side of the apex
    t_a = ln(1 + k vz / g) / k (vz / g at k = 0); range = x(landing) - x(launch)."""
    r, k = float(params["radius_m"]), float(params["drag_per_s"])
    track = tracks["ball"]
    t, z, sz = _axis(track, 2)
    _, x, sx = _axis(track, 0)
    window = _longest_run(z - r > _margin(sz))
    units = {"g_m_s2": "m/s^2", "range_m": "m", "apex_height_m": "m", "flight_time_s": "s",
             "launch_speed_m_s": "m/s", "launch_angle_deg": "deg"}
    if window.sum() < 4:
        return _unmeasured(units, "fewer than 4 airborne frames")
    tw = t[window]
    e1, e2 = drag_integrals(k, tw)
    zeros, ones = np.zeros_like(tw), np.ones_like(tw)
    design = np.block([[np.stack([ones, e1, -e2, zeros, zeros], axis=1)],
                       [np.stack([zeros, zeros, zeros, ones, e1], axis=1)]])
    fit = linear_fit(design, np.r_[z[window], x[window]], np.r_[sz[window], sx[window]], "m",
                     "joint linear fit of z(t) and x(t) with the declared drag rate over the flight")
    span = 2.0 * (float(tw[-1] - tw[0]) + 1.0)

    def derived(c):
        z0, vz, g, x0, vx = c

        def height(time: float) -> float:
            a1, a2 = _drag_integrals_scalar(k, time)
            return z0 + vz * a1 - g * a2 - r

        t_apex = math.log1p(k * vz / g) / k if k > 0 else vz / g
        if k > 0:
            t_launch = _bracketed_root(height, t_apex, t_apex - span)
            t_land = _bracketed_root(height, t_apex, t_apex + span)
        else:  # z0 + vz t - g t^2 / 2 = r
            root = math.sqrt(max(vz * vz + 2 * g * (z0 - r), 0.0))
            t_launch, t_land = (vz - root) / g, (vz + root) / g
        decay = math.exp(-k * t_launch)
        v_launch = (vx * decay, vz * decay - g * _drag_integrals_scalar(k, t_launch)[0])
        return {"g_m_s2": g,
                "range_m": vx * (_drag_integrals_scalar(k, t_land)[0] - _drag_integrals_scalar(k, t_launch)[0]),
                "apex_height_m": height(t_apex), "flight_time_s": t_land - t_launch,
                "launch_speed_m_s": math.hypot(*v_launch),
                "launch_angle_deg": math.degrees(math.atan2(v_launch[1], v_launch[0]))}

    return fit.derive(derived, units)


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
    t, z, sz = _axis(tracks["ball"], 2)
    noise = _typical(sz)
    airborne = z - r > _margin(sz)
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
        fit, arc_rms = _fit_arcs(t, z, sz, arcs)
        typical = float(np.median(arc_rms))
        bad = np.flatnonzero((arc_rms > ARC_OUTLIER_FACTOR * typical) & (arc_rms > 3 * noise))
        if bad.size == 0 or bad[0] == 0:
            break
        arcs = arcs[: int(bad[0])]
    n = len(arcs)
    keys = {"g_m_s2": "m/s^2", "restitution": "", "apex_ratio": "", "release_height_m": "m"}
    if fit is None or n < 2:
        return _unmeasured(keys, "fewer than two arcs with >= 3 airborne frames")
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


def fit_pendulum(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """Angle about the known pivot, theta = atan2(x - x_p, z_p - z), fitted with the exact
    finite-amplitude law theta(t) = c + 2 asin(k sn(K - w0 (t - t0) | k^2)), k = sin(A / 2)
    (parameters A, w0, t0, c; started from zero crossings). Period 4 K(k^2) / w0; small-angle period
    2 pi / w0 / sqrt(1 + 2 r^2 / (5 L^2)) (as `measure_state`); g = w0^2 L (1 + 2 r^2 / (5 L^2))."""
    length, radius = float(params["length_m"]), float(params["radius_m"])
    pivot = pivot_position_m(length, radius)
    track = tracks["bob"]
    valid = track.valid
    t = track.t_s[valid]
    dx = track.position_m[valid, 0] - pivot[0]
    dz = pivot[2] - track.position_m[valid, 2]
    theta = np.arctan2(dx, dz)
    sigma = np.hypot(dz * track.sigma_m[valid, 0], dx * track.sigma_m[valid, 2]) / (dx**2 + dz**2)
    keys = {"period_s": "s", "amplitude_rad": "rad", "small_angle_period_s": "s", "g_m_s2": "m/s^2"}
    guess = _oscillation_guess(t, theta)
    if guess is None or len(t) < 8:
        return _unmeasured(keys, "fewer than two zero crossings of the angle")
    amplitude0, period0, t_peak, offset0 = guess
    omega0 = 4 * float(ellipk(math.sin(amplitude0 / 2) ** 2)) / period0

    def model(c):
        return c[3] + pendulum_angle_rad(t - c[2], c[1], c[0])

    fit = nonlinear_fit(model, theta, sigma, np.array([amplitude0, omega0, t_peak, offset0]), "rad",
                        "exact finite-amplitude pendulum angle about the known pivot",
                        bounds=([1e-6, 1e-6, -np.inf, -np.inf], [math.pi - 1e-6, np.inf, np.inf, np.inf]))
    factor = inertia_factor(length, radius)
    return fit.derive(lambda c: {"period_s": 4 * float(ellipk(math.sin(c[0] / 2) ** 2)) / c[1], "amplitude_rad": c[0],
                                 "small_angle_period_s": 2 * math.pi / c[1] / factor,
                                 "g_m_s2": c[1] ** 2 * length * factor**2},
                      keys, {"g_m_s2": "from w0 with the declared length and bob radius"})


def fit_slide(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """x(t) = x0 + v0 tau - a tau^2 / 2, tau = min(t, v0 / a) (launch at t = 0, at rest after the stop),
    nonlinear least squares in (x0, v0, a). Stopping distance v0^2 / (2 a), time v0 / a, mu = a / g
    (declared g)."""
    t, x, sx = _axis(tracks["box"], 0)
    keys = {"stopping_distance_m": "m", "stopping_time_s": "s", "deceleration_m_s2": "m/s^2", "friction": "",
            "launch_speed_m_s": "m/s"}
    if len(t) < 5:
        return _unmeasured(keys, "fewer than 5 frames")
    v0 = max(float(np.polyfit(t[:3], x[:3], 1)[0]), 1e-3)
    travel = max(float(np.max(x) - x[0]), 1e-3)

    def model(c):
        tau = np.clip(t, 0.0, c[1] / c[2])
        return c[0] + c[1] * tau - 0.5 * c[2] * tau**2

    fit = nonlinear_fit(model, x, sx, np.array([x[0], v0, v0**2 / (2 * travel)]), "m",
                        "constant deceleration from t = 0 until the stop, then at rest",
                        bounds=([-np.inf, 1e-6, 1e-6], [np.inf, np.inf, np.inf]))
    g = spec.gravity_m_s2
    return fit.derive(lambda c: {"stopping_distance_m": c[1] ** 2 / (2 * c[2]), "stopping_time_s": c[1] / c[2],
                                 "deceleration_m_s2": c[2], "friction": c[2] / g, "launch_speed_m_s": c[1]},
                      keys, {"friction": f"a / g with g = {g} m/s^2"})


def fit_braking(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """x(t) = x0 + v min(t, t_r) + v tau - a tau^2 / 2, tau = clip(t - t_r, 0, v / a): nonlinear least
    squares in (x0, v, t_r, a) with t_r >= the first frame, started where x first falls behind the initial
    constant-speed line (and, if that fit has chi2 / dof >= 3, also from five reaction times over the
    first half; the best is kept). If the car brakes from the first frame on (t_r at its bound), t_r and
    v are not separable (x = x0 + v t - a (t - t_r)^2 / 2): t_r is fixed at the first frame time, its
    uncertainty NaN, and v is the speed there. Stopping distance v t_r + v^2 / (2 a), time t_r + v / a,
    brake speed v, mu = a / g (declared g)."""
    t, x, sx = _axis(tracks["car"], 0)
    keys = {"stopping_distance_m": "m", "stopping_time_s": "s", "brake_speed_m_s": "m/s", "deceleration_m_s2": "m/s^2",
            "reaction_time_s": "s", "friction": ""}
    if len(t) < 6:
        return _unmeasured(keys, "fewer than 6 frames")
    v0 = max(float(np.polyfit(t[:3], x[:3], 1)[0]), 1e-3)
    travel = max(float(np.max(x) - x[0]), 1e-3)
    method = "constant speed until t_r, then constant deceleration until the stop"

    def model(c):
        tau = np.clip(t - c[2], 0.0, c[1] / c[3])
        return c[0] + c[1] * np.minimum(t, c[2]) + c[1] * tau - 0.5 * c[3] * tau**2

    def solve(reaction: float) -> Fit:
        a0 = v0**2 / (2 * max(travel - v0 * reaction, 0.1 * travel))
        return nonlinear_fit(model, x, sx, np.array([x[0], v0, reaction, a0]), "m", method,
                             bounds=([-np.inf, 1e-6, float(t[0]), 1e-6], [np.inf, np.inf, np.inf, np.inf]))

    # start where x first falls behind the initial constant-speed line by more than the noise margin
    behind = np.flatnonzero(x[0] + v0 * (t - t[0]) - x > _margin(sx))
    best = solve(float(t[max(int(behind[0]) - 1, 0)]) if behind.size else float(t[0]))
    if not best.reduced_chi2 < RESTART_REDUCED_CHI2:  # a poor optimum: try starts over the first half
        for reaction in np.linspace(float(t[0]), 0.5 * float(t[-1] + t[0]), 5):
            fit = solve(float(reaction))
            if fit.reduced_chi2 < best.reduced_chi2:
                best = fit
    g = spec.gravity_m_s2
    notes = {"friction": f"a / g with g = {g} m/s^2"}

    def derived(c):
        return {"stopping_distance_m": c[1] * c[2] + c[1] ** 2 / (2 * c[3]), "stopping_time_s": c[2] + c[1] / c[3],
                "brake_speed_m_s": c[1], "deceleration_m_s2": c[3], "reaction_time_s": c[2], "friction": c[3] / g}

    if best.params[2] - t[0] > 1e-6:
        return best.derive(derived, keys, notes)
    # braking from the first frame: t_r fixed there
    reduced = nonlinear_fit(lambda c: model(np.array([c[0], c[1], t[0], c[2]])), x, sx, best.params[[0, 1, 3]], "m",
                            method + " (braking from the first frame)", bounds=([-np.inf, 1e-6, 1e-6], np.inf))
    out = reduced.derive(lambda c: derived(np.array([c[0], c[1], t[0], c[2]])), keys, notes)
    out["reaction_time_s"] = FitResult(float(t[0]), "s", float("nan"), reduced.residual_rms, "m", reduced.dof,
                                       reduced.reduced_chi2, reduced.method, "braking from the first frame: t_r <= this")
    return out


def fit_door(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """The door centre (back-projected onto its horizontal motion plane) moves on the circle of radius
    w / 2 about the known hinge (world x = y = 0): x = (w / 2) cos theta(t), y = (w / 2) sin theta(t) with
    the declared theta(t) = Theta (1 - exp(-t / tau)) (closed until the push at t = 0), fitted to both
    coordinates with their own sigmas (the depth, here y, is several times less certain than x; a free
    angle offset would multiply the final angle's uncertainty by six). Final angle Theta; angle at the
    declared t = I / c (as `measure_state`); initial angular velocity Theta / tau; hinge damping
    J r / Theta with the declared push."""
    track = tracks["door"]
    t, x, sx = _axis(track, 0)
    _, y, sy = _axis(track, 1)
    units = {"final_angle_rad": "rad", "angle_at_time_constant_rad": "rad", "initial_angular_velocity_rad_s": "rad/s",
             "time_constant_s": "s", "hinge_damping_n_m_s": "N m s/rad"}
    if len(t) < 5:
        return _unmeasured(units, "fewer than 5 frames")
    radius = float(params["width_m"]) / 2
    theta = np.unwrap(np.arctan2(y, x))
    opening = float(np.median(theta[-3:]))
    reached = np.flatnonzero(theta >= (1 - math.exp(-1.0)) * opening)
    tau0 = float(t[reached[0]]) if reached.size and t[reached[0]] > 0 else 0.2

    def model(c):
        angle = c[0] * (1 - np.exp(-np.maximum(t, 0.0) / c[1]))
        return np.r_[radius * np.cos(angle), radius * np.sin(angle)]

    fit = nonlinear_fit(model, np.r_[x, y], np.r_[sx, sy], np.array([opening, tau0]), "m",
                        "door centre on its circle about the known hinge, exponential approach of the angle",
                        bounds=([-np.inf, 1e-4], [np.inf, np.inf]))
    law_tau = door_time_constant_s(params)
    impulse = angular_impulse_n_m_s(params)
    return fit.derive(lambda c: {"final_angle_rad": c[0], "angle_at_time_constant_rad": c[0] * (1 - math.exp(-law_tau / c[1])),
                                 "initial_angular_velocity_rad_s": c[0] / c[1], "time_constant_s": c[1],
                                 "hinge_damping_n_m_s": impulse / c[0]},
                      units, {"angle_at_time_constant_rad": "fitted opening at the declared t = I / c",
                              "hinge_damping_n_m_s": "declared J r / final angle"})


def fit_collision(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """Both pucks' x(t) as continuous piecewise-linear curves with one shared kink time t_c (least
    squares in t_c, x_A(t_c), v_A, v_A', x_B(t_c), v_B, v_B'), started from where the centre gap first
    reaches 2 r; frames within 15 ms of t_c (the contact) are left out. With the declared mass ratio q:
    momentum ratio (v_A' + q v_B') / (v_A + q v_B), energy ratio (v_A'^2 + q v_B'^2) / (v_A^2 + q v_B^2),
    restitution (v_B' - v_A') / (v_A - v_B); impact time = when the pre-impact lines are 2 r apart."""
    q = float(params["mass_ratio"])
    ta, xa, sa = _axis(tracks["puck_a"], 0)
    tb, xb, sb = _axis(tracks["puck_b"], 0)
    keys = {"velocity_a_before_m_s": "m/s", "velocity_a_after_m_s": "m/s", "velocity_b_after_m_s": "m/s",
            "momentum_ratio": "", "energy_ratio": "", "impact_time_s": "s", "restitution": "",
            "velocity_b_before_m_s": "m/s"}
    if len(ta) < 6 or len(tb) < 6:
        return _unmeasured(keys, "fewer than 6 frames of a puck")
    gap = np.interp(ta, tb, xb) - xa - 2 * PUCK_RADIUS_M
    touching = np.flatnonzero(gap <= 0)
    if touching.size and touching[0] > 0:
        i = int(touching[0])
        t_c0 = float(ta[i - 1] + (ta[i] - ta[i - 1]) * gap[i - 1] / (gap[i - 1] - gap[i]))
    else:
        t_c0 = float(ta[np.argmin(gap)])

    def model_for(keep_a, keep_b):
        def model(c):
            t_c = c[0]
            da, db = ta[keep_a] - t_c, tb[keep_b] - t_c
            return np.r_[c[1] + np.where(da < 0, c[2], c[3]) * da, c[4] + np.where(db < 0, c[5], c[6]) * db]
        return model

    def start(t_c, keep_a, keep_b):
        """Linear least squares for the six line parameters at a fixed kink time."""
        c = [t_c]
        for times, xs in ((ta[keep_a], xa[keep_a]), (tb[keep_b], xb[keep_b])):
            d = times - t_c
            design = np.stack([np.ones_like(d), np.where(d < 0, d, 0.0), np.where(d >= 0, d, 0.0)], axis=1)
            c += list(np.linalg.lstsq(design, xs, rcond=None)[0])
        return np.array(c)

    keep_a, keep_b = np.ones(len(ta), bool), np.ones(len(tb), bool)
    y, s = np.r_[xa, xb], np.r_[sa, sb]
    model = model_for(keep_a, keep_b)
    frame = float(np.median(np.diff(ta)))
    grid = t_c0 + np.linspace(-frame, frame, 9)
    costs = [np.sum(((model(start(tc, keep_a, keep_b)) - y) / _safe_sigma(s)) ** 2) for tc in grid]
    c0 = start(float(grid[int(np.argmin(costs))]), keep_a, keep_b)
    fit = nonlinear_fit(model, y, s, c0, "m", "two continuous piecewise-linear x(t) with a shared impact time")
    keep_a, keep_b = np.abs(ta - fit.params[0]) > CONTACT_EXCLUSION_S, np.abs(tb - fit.params[0]) > CONTACT_EXCLUSION_S
    if not (keep_a.all() and keep_b.all()):
        fit = nonlinear_fit(model_for(keep_a, keep_b), np.r_[xa[keep_a], xb[keep_b]], np.r_[sa[keep_a], sb[keep_b]],
                            fit.params, "m", "two continuous piecewise-linear x(t) with a shared impact time")
    assert fit is not None
    r = PUCK_RADIUS_M

    def derived(c):
        t_c, xa_c, va0, va1, xb_c, vb0, vb1 = c
        return {"velocity_a_before_m_s": va0, "velocity_a_after_m_s": va1, "velocity_b_after_m_s": vb1,
                "momentum_ratio": (va1 + q * vb1) / (va0 + q * vb0),
                "energy_ratio": (va1**2 + q * vb1**2) / (va0**2 + q * vb0**2),
                "impact_time_s": t_c + (xb_c - xa_c - 2 * r) / (va0 - vb0),
                "restitution": (vb1 - va1) / (va0 - vb0), "velocity_b_before_m_s": vb0}

    return fit.derive(derived, keys, {"momentum_ratio": f"declared mass ratio {q:g}",
                                      "energy_ratio": f"declared mass ratio {q:g}",
                                      "impact_time_s": "pre-impact lines 2 r apart (rims touch)"})


def fit_occlusion(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """Events from presence: the longest run of absent frames between present ones is the hidden
    interval; the ball disappears (fully_hidden) half-way between the last frame seen and the next,
    and re-emerges (reemerge_start) half-way between the last unseen frame and the first seen
    (uncertainty frame interval / sqrt(12)). With visible fractions, occlusion_start and
    fully_visible likewise from the last / first fully visible frames (>= 0.99). Speeds: one linear
    fit x = x_1 + v_1 t before and x = x_2 + v_2 t after (fully visible frames, or frames >= 3 frames
    from the gap); exit position = the after-line at fully_visible; reemerge position at reemerge_start."""
    track = tracks["ball"]
    present = np.asarray(track.present, bool)
    t = np.asarray(track.t_s, float)
    keys = {"fully_hidden_time_s": "s", "reemerge_start_time_s": "s", "hidden_duration_s": "s",
            "speed_start_m_s": "m/s", "speed_end_m_s": "m/s", "reemerge_position_x_m": "m"}
    gaps = _inner_gaps(present)
    if not gaps:
        return _unmeasured(keys, "the ball is never hidden between two sightings")
    first_absent, last_absent = max(gaps, key=lambda g: g[1] - g[0])
    frame = float(np.median(np.diff(t)))
    timing = frame / math.sqrt(12)
    out = {}

    def event(value: float, note: str) -> FitResult:
        return FitResult(value, "s", timing, float("nan"), "", 0, float("nan"), "presence transition, mid-frame", note)

    t_hidden = (t[first_absent - 1] + t[first_absent]) / 2
    t_back = (t[last_absent] + t[last_absent + 1]) / 2
    out["fully_hidden_time_s"] = event(t_hidden, "last frame seen + half a frame")
    out["reemerge_start_time_s"] = event(t_back, "first frame seen again - half a frame")
    out["hidden_duration_s"] = FitResult(t_back - t_hidden, "s", math.sqrt(2) * timing, float("nan"), "", 0,
                                         float("nan"), "presence transition, mid-frame")
    fraction = track.visible_fraction
    has_fraction = fraction is not None and np.all(np.isfinite(np.asarray(fraction)[present]))
    before = np.arange(len(t)) < first_absent
    after = np.arange(len(t)) > last_absent
    if has_fraction:
        full = present & (np.asarray(fraction) >= FULL_VISIBILITY)
        last_full = np.flatnonzero(full & before)
        first_full = np.flatnonzero(full & after)
        clean_before, clean_after = full & before, full & after
        if last_full.size and last_full[-1] + 1 < len(t):
            i = int(last_full[-1])
            out["occlusion_start_time_s"] = event((t[i] + t[i + 1]) / 2, "last fully visible frame + half a frame")
            clean_before &= np.arange(len(t)) <= i
        if first_full.size and first_full[0] > 0:
            j = int(first_full[0])
            out["fully_visible_time_s"] = event((t[j - 1] + t[j]) / 2, "first fully visible frame - half a frame")
            clean_after &= np.arange(len(t)) >= j
    else:
        clean_before = present & before & (np.arange(len(t)) < first_absent - EDGE_FRAMES)
        clean_after = present & after & (np.arange(len(t)) > last_absent + EDGE_FRAMES)
    clean_before &= track.valid
    clean_after &= track.valid
    if clean_before.sum() < 2 or clean_after.sum() < 2 or clean_before.sum() + clean_after.sum() < 5:
        return {**out, **_unmeasured({k: u for k, u in keys.items() if k not in out}, "too few clean frames for the speeds")}
    rows = np.r_[np.flatnonzero(clean_before), np.flatnonzero(clean_after)]
    side = np.r_[np.zeros(clean_before.sum()), np.ones(clean_after.sum())]
    tt = t[rows]
    design = np.stack([1 - side, (1 - side) * tt, side, side * tt], axis=1)
    fit = linear_fit(design, track.position_m[rows, 0], track.sigma_m[rows, 0], "m",
                     "lines x(t) before and after the occlusion")
    lines = {"speed_start_m_s": "m/s", "speed_end_m_s": "m/s", "reemerge_position_x_m": "m"}
    t_visible = out["fully_visible_time_s"].value if "fully_visible_time_s" in out else None
    if t_visible is not None:
        lines["exit_position_x_m"] = "m"
    out.update(fit.derive(lambda c: {"speed_start_m_s": c[1], "speed_end_m_s": c[3],
                                     "reemerge_position_x_m": c[2] + c[3] * t_back,
                                     "exit_position_x_m": c[2] + c[3] * (t_visible if t_visible is not None else t_back)},
                          lines, {"reemerge_position_x_m": "after-line at reemerge_start",
                                  "exit_position_x_m": "after-line at fully_visible"}))
    return out


def fit_quadrotor(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """What one centroid can show of a tipping drone: its drift across the image and its apparent
    vertical displacement, on the x-z plane through the start (the motion plane), at the horizon T.

    Fits x = x0 + c4 t^4 (the law's drift form) and z = z0 + a2 t^2 + a4 t^4 jointly; drift_x_m =
    c4 T^4. Not measurable from a centroid, returned as NaN with a note: roll, pitch, yaw (need the
    attitude, e.g. from the mask's shape or keypoints), drift_y_m (along the viewing direction: it
    changes only the apparent size, which the tilt changes too), altitude_change_m (the camera looks
    down at elevation e, so moving away by dy raises the image like dz = tan(e) dy: the plane
    back-projection reports apparent_altitude_change_m ~ altitude change + tan(e) drift_y)."""
    track = tracks["drone"]
    t, x, sx = _axis(track, 0)
    _, z, sz = _axis(track, 2)
    horizon = spec.horizon_s(params) if hasattr(spec, "horizon_s") else float(t[-1])
    unmeasurable = {
        "roll_rad": ("rad", "attitude is not measurable from a centroid"),
        "pitch_rad": ("rad", "attitude is not measurable from a centroid"),
        "yaw_rad": ("rad", "attitude is not measurable from a centroid"),
        "drift_y_m": ("m", "motion along the viewing direction is not measurable from a centroid"),
        "altitude_change_m": ("m", "not measurable from a centroid: confounded with drift_y by the camera's elevation; "
                                   "see apparent_altitude_change_m"),
    }
    out = {k: FitResult(float("nan"), u, float("nan"), float("nan"), "", 0, float("nan"), "", note)
           for k, (u, note) in unmeasurable.items()}
    if len(t) < 4:
        return {**out, **_unmeasured({"drift_x_m": "m", "apparent_altitude_change_m": "m"}, "fewer than 4 frames")}
    t_rel = t - t[0]
    zeros, ones = np.zeros_like(t_rel), np.ones_like(t_rel)
    design = np.block([[np.stack([ones, t_rel**4, zeros, zeros, zeros], axis=1)],
                       [np.stack([zeros, zeros, ones, t_rel**2, t_rel**4], axis=1)]])
    fit = linear_fit(design, np.r_[x, z], np.r_[sx, sz], "m", "x = x0 + c4 t^4, z = z0 + a2 t^2 + a4 t^4")
    out.update(fit.derive(lambda c: {"drift_x_m": c[1] * horizon**4,
                                     "apparent_altitude_change_m": c[3] * horizon**2 + c[4] * horizon**4},
                          {"drift_x_m": "m", "apparent_altitude_change_m": "m"},
                          {"drift_x_m": f"at the horizon T = {horizon:.4f} s",
                           "apparent_altitude_change_m": "altitude change + tan(camera elevation) x drift along the "
                                                         "viewing direction (not separable)"}))
    return out


def fit_shadow(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """Minimal: the carried ball's speed (slope of x(t)) and height (z = constant), one joint linear
    fit. The shadow's speed and magnification need the shadow tracked (it is not an instance; see
    tests/scenarios/test_shadow.py for a pixel measurement): NaN with a note."""
    t, x, sx = _axis(tracks["ball"], 0)
    _, z, sz = _axis(tracks["ball"], 2)
    note = "the shadow is not a tracked instance: not measured here"
    out = {k: FitResult(float("nan"), u, float("nan"), float("nan"), "", 0, float("nan"), "", note)
           for k, u in (("shadow_speed_m_s", "m/s"), ("shadow_magnification", ""))}
    if len(t) < 3:
        return {**out, **_unmeasured({"speed_m_s": "m/s", "object_height_m": "m"}, "fewer than 3 frames")}
    zeros, ones = np.zeros_like(t), np.ones_like(t)
    design = np.block([[np.stack([ones, t, zeros], axis=1)], [np.stack([zeros, zeros, ones], axis=1)]])
    fit = linear_fit(design, np.r_[x, z], np.r_[sx, sz], "m", "x = x0 + v t, z = h")
    out.update(fit.derive(lambda c: {"speed_m_s": c[1], "object_height_m": c[2]},
                          {"speed_m_s": "m/s", "object_height_m": "m"}))
    return out


FITTERS: dict[str, Callable[[ScenarioSpec, Params, Mapping[str, MeasuredTrack]], dict[str, FitResult]]] = {
    "drop": fit_drop, "projectile": fit_projectile, "bounce": fit_bounce, "pendulum": fit_pendulum,
    "slide": fit_slide, "braking": fit_braking, "door": fit_door, "collision": fit_collision,
    "occlusion": fit_occlusion, "quadrotor": fit_quadrotor, "shadow": fit_shadow,
}


# ---------------------------------------------------------------------------------------------------
# fitting machinery
# ---------------------------------------------------------------------------------------------------
class Fit(NamedTuple):
    """A least-squares fit: parameters, their covariance (scaled by chi2 / dof), and its goodness."""

    params: np.ndarray
    cov: np.ndarray
    residual_rms: float
    residual_unit: str
    dof: int
    reduced_chi2: float
    method: str

    def result(self, fn: Callable[[np.ndarray], float], unit: str, note: str = "") -> FitResult:
        """FitResult of the derived quantity fn(params), its uncertainty propagated to first order."""
        value, uncertainty = propagate(lambda c: np.array([fn(c)]), self.params, self.cov)
        return FitResult(float(value[0]), unit, float(uncertainty[0]), self.residual_rms, self.residual_unit, self.dof,
                         self.reduced_chi2, self.method, note)

    def derive(self, fn: Callable[[np.ndarray], Mapping[str, float]], units: Mapping[str, str],
               notes: Mapping[str, str] | None = None) -> dict[str, FitResult]:
        """FitResults of several derived quantities {name: value} = fn(params), propagated together
        (one Jacobian: fn is evaluated 2 P + 1 times)."""
        names = list(units)
        values, uncertainties = propagate(lambda c: np.array([fn(c)[k] for k in names], float), self.params, self.cov)
        notes = notes or {}
        return {k: FitResult(float(v), units[k], float(u), self.residual_rms, self.residual_unit, self.dof,
                             self.reduced_chi2, self.method, notes.get(k, ""))
                for k, v, u in zip(names, values, uncertainties)}


def linear_fit(design: np.ndarray, y: np.ndarray, sigma: np.ndarray, residual_unit: str, method: str) -> Fit:
    """Weighted linear least squares y ~ design @ c with weights 1 / sigma^2.

    cov = (A^T W A)^-1 chi2_red (chi2_red = chi2 / dof; dof = N - P >= 1, else the covariance is NaN).
    """
    s = _safe_sigma(sigma)
    A = np.asarray(design, float) / s[:, None]
    b = np.asarray(y, float) / s
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    residual = np.asarray(y, float) - design @ coef
    return _finish(coef, A, residual, s, residual_unit, method)


def nonlinear_fit(model: Callable[[np.ndarray], np.ndarray], y: np.ndarray, sigma: np.ndarray, p0: np.ndarray,
                  residual_unit: str, method: str, bounds=(-np.inf, np.inf)) -> Fit:
    """Weighted nonlinear least squares (scipy least_squares, trust-region reflective, 2-point Jacobian):
    minimises sum ((model(c) - y) / sigma)^2; cov = (J^T J)^-1 chi2_red at the optimum (J of the weighted
    residuals)."""
    s = _safe_sigma(sigma)
    y = np.asarray(y, float)
    lower = np.broadcast_to(np.asarray(bounds[0], float), (len(p0),))
    upper = np.broadcast_to(np.asarray(bounds[1], float), (len(p0),))
    inset = 1e-9 * np.maximum(np.abs(np.asarray(p0, float)), 1.0)
    start = np.minimum(np.maximum(np.asarray(p0, float), lower + inset), upper - inset)
    solution = least_squares(lambda c: (model(c) - y) / s, start, bounds=(lower, upper), x_scale="jac",
                             xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=2000)
    residual = y - model(solution.x)
    return _finish(solution.x, solution.jac, residual, s, residual_unit, method)


def propagate(fn: Callable[[np.ndarray], np.ndarray], params: np.ndarray, cov: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """(fn(params), sqrt(diag(G cov G^T))) for a vector-valued fn, G its central-difference Jacobian with
    steps of 1e-3 of each parameter's standard deviation (1e-7 relative where that is zero). NaN
    uncertainties where fn fails near params or the covariance is undefined; NaN values where fn fails."""
    params = np.asarray(params, float)
    try:
        value = np.asarray(fn(params), float)
    except (ValueError, ZeroDivisionError, FloatingPointError, ArithmeticError):
        return np.array([np.nan]), np.array([np.nan])
    nan = np.full(value.shape, np.nan)
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None)) if np.all(np.isfinite(cov)) else None
    if sd is None:
        return value, nan
    steps = np.where(sd > 0, 1e-3 * sd, 1e-7 * np.maximum(np.abs(params), 1.0))
    jacobian = np.zeros((value.size, params.size))
    for i, h in enumerate(steps):
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        try:
            jacobian[:, i] = (np.asarray(fn(up), float) - np.asarray(fn(down), float)) / (2 * h)
        except (ValueError, ZeroDivisionError, FloatingPointError, ArithmeticError):
            return value, nan
    variance = np.einsum("ij,jk,ik->i", jacobian, cov, jacobian)
    return value, np.where(variance >= 0, np.sqrt(np.abs(variance)), np.nan)


def _finish(coef, weighted_jacobian, residual, sigma, residual_unit, method) -> Fit:
    n, k = weighted_jacobian.shape
    dof = n - k
    chi2 = float(np.sum((residual / sigma) ** 2))
    reduced = chi2 / dof if dof > 0 else float("nan")
    try:
        cov = np.linalg.pinv(weighted_jacobian.T @ weighted_jacobian) * reduced
    except np.linalg.LinAlgError:
        cov = np.full((k, k), np.nan)
    rms = float(np.sqrt(np.mean(residual**2))) if n else float("nan")
    return Fit(np.asarray(coef, float), cov, rms, residual_unit, dof, reduced, method)


def _safe_sigma(sigma: np.ndarray) -> np.ndarray:
    """Sigma with non-positive or non-finite entries replaced by the median positive one (all ones
    when there is none: then the fit is unweighted and chi2 / dof is the residual variance)."""
    s = np.asarray(sigma, float).copy()
    good = np.isfinite(s) & (s > 0)
    if not good.any():
        return np.ones_like(s)
    s[~good] = float(np.median(s[good]))
    return s


def _axis(track: MeasuredTrack, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t_s, position, sigma) of one world axis over the track's valid frames."""
    valid = track.valid
    return (np.asarray(track.t_s, float)[valid], track.position_m[valid, axis], track.sigma_m[valid, axis])


def _typical(sigma: np.ndarray) -> float:
    s = np.asarray(sigma, float)
    s = s[np.isfinite(s)]
    return float(np.median(s)) if s.size else 0.0


def _margin(sigma: np.ndarray) -> float:
    return max(NOISE_MARGIN_SIGMAS * _typical(sigma), MIN_MARGIN_M)


def _leading_run(mask: np.ndarray) -> np.ndarray:
    """The first run of True in `mask` (boolean array of the same shape)."""
    out = np.zeros(len(mask), bool)
    true = np.flatnonzero(mask)
    if true.size == 0:
        return out
    start = int(true[0])
    false_after = np.flatnonzero(~np.asarray(mask[start:], bool))
    stop = start + int(false_after[0]) if false_after.size else len(mask)
    out[start:stop] = True
    return out


def _longest_run(mask: np.ndarray) -> np.ndarray:
    """The longest run of True in `mask` (the first of equal ones)."""
    m = np.r_[False, np.asarray(mask, bool), False].astype(int)
    starts, stops = np.flatnonzero(np.diff(m) == 1), np.flatnonzero(np.diff(m) == -1)
    out = np.zeros(len(mask), bool)
    if starts.size:
        i = int(np.argmax(stops - starts))
        out[starts[i]:stops[i]] = True
    return out


def _inner_gaps(present: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of every run of absent frames with present frames on both sides."""
    absent = np.r_[False, ~np.asarray(present, bool), False].astype(int)
    starts, stops = np.flatnonzero(np.diff(absent) == 1), np.flatnonzero(np.diff(absent) == -1)
    return [(int(a), int(b) - 1) for a, b in zip(starts, stops) if a > 0 and b < len(present)]


def _bracketed_root(fn: Callable[[float], float], inside: float, outside: float) -> float:
    """Root of fn between `inside` (fn > 0) and `outside`, moving `outside` away until the sign changes."""
    for _ in range(40):
        if fn(outside) < 0:
            return float(brentq(fn, min(inside, outside), max(inside, outside), xtol=1e-13, rtol=1e-13))
        outside = inside + 2 * (outside - inside)
    raise ValueError("no crossing found")


def _drag_integrals_scalar(k_per_s: float, t_s: float) -> tuple[float, float]:
    """E1 = (1 - e^(-kt)) / k and E2 = (t - E1) / k for one time (series below |k t| = 1e-4, as
    `realitygap.scenarios.projectile.drag_integrals`)."""
    x = k_per_s * t_s
    if abs(x) < 1e-4:
        return (t_s * (1 - x / 2 + x * x / 6 - x**3 / 24), t_s * t_s * (0.5 - x / 6 + x * x / 24 - x**3 / 120))
    e1 = -math.expm1(-x) / k_per_s
    return e1, (t_s - e1) / k_per_s


def _fit_arcs(t, z, sz, arcs) -> tuple[Fit, np.ndarray]:
    """Joint linear fit of parabolas with a shared g over the arcs; also each arc's RMS residual."""
    design, rows = arc_design(t, arcs)
    fit = linear_fit(design, z[rows], sz[rows], "m", "parabolic arcs with one shared g")
    residual = z[rows] - design @ fit.params
    bounds = np.cumsum([0] + [len(a) for a in arcs])
    arc_rms = np.array([np.sqrt(np.mean(residual[a:b] ** 2)) for a, b in zip(bounds[:-1], bounds[1:])])
    return fit, arc_rms


def arc_design(t: np.ndarray, arcs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(design, rows) of parabolic arcs with one shared g: rows = the arcs' frames concatenated; columns
    g, then (a_k, b_k) per arc, for z = a_k + b_k tau - g tau^2 / 2 with tau = t - mean t of arc k."""
    rows = np.concatenate(arcs)
    design = np.zeros((len(rows), 1 + 2 * len(arcs)))
    offset = 0
    for i, frames in enumerate(arcs):
        tau = t[frames] - t[frames].mean()
        block = slice(offset, offset + len(frames))
        design[block, 0] = -tau**2 / 2
        design[block, 1 + 2 * i] = 1.0
        design[block, 2 + 2 * i] = tau
        offset += len(frames)
    return design, rows


def _oscillation_guess(t: np.ndarray, angle: np.ndarray) -> tuple[float, float, float, float] | None:
    """(amplitude, period, time of a maximum, offset) of an oscillation from its samples: period = twice
    the mean spacing of the interpolated crossings of the mid level; None with fewer than 3 crossings."""
    if len(angle) < 4:
        return None
    high, low = float(np.max(angle)), float(np.min(angle))
    offset = (high + low) / 2
    s = angle - offset
    i = np.flatnonzero(np.sign(s[:-1]) * np.sign(s[1:]) < 0)
    if len(i) < 3:
        return None
    crossings = t[i] + (t[i + 1] - t[i]) * s[i] / (s[i] - s[i + 1])
    period = 2 * float(np.mean(np.diff(crossings)))
    return (high - low) / 2, period, float(t[int(np.argmax(angle))]), offset


def _unmeasured(keys_units: Mapping[str, str], note: str) -> dict[str, FitResult]:
    return {k: FitResult(float("nan"), u, float("nan"), float("nan"), "", 0, float("nan"), "", note)
            for k, u in keys_units.items()}
