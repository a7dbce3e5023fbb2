"""`pendulum`: a ball on a light rigid rod swings freely from a pivot after release from rest.

The twin is a rigid physical pendulum: a sphere of radius r and mass m whose centre hangs a length
L below a hinge about the world y axis (so it swings in the x-z plane the camera sees). The rod is
massless (a zero-density geom in a welded child body, so that it is drawn but is not part of the
bob's instance mask), so the body's moment of inertia about the pivot is I = m (L^2 + 2 r^2 / 5)
and its centre of mass sits d = L below the pivot. No damping, friction, armature or contacts.

Law (exact, finite amplitude): with w0 = sqrt(m g L / I), k = sin(theta0 / 2) and
K = K(k^2) the complete elliptic integral of the first kind,
    period T = 4 K / w0,    theta(t) = 2 asin(k sn(K - w0 t | k^2)),
theta measured from the downward vertical, positive towards +x, released at +theta0. The
point-mass small-angle period 2 pi sqrt(L / g) is declared as a reference quantity: the twin's
period exceeds it by the amplitude factor 2 K / pi (up to 7.3 % at 60 deg) and the bob-inertia
factor sqrt(1 + 2 r^2 / (5 L^2)) (up to 3.1 % at r = 0.12 m, L = 0.3 m).

Physics settings: the default 1/1200 s step with MuJoCo's (semi-implicit, symplectic) Euler
integrator. Symplectic on a conservative pendulum, it keeps the period and the amplitude without
drift; the trajectory lags the law curve by about half a step. No finer step is needed.

Development measurements behind these settings: docs/twins.md.
"""

from __future__ import annotations

import math
from typing import ClassVar, Mapping

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import ellipj, ellipk

from realitygap.core.fitting import FitResult, MeasuredTrack, nonlinear_fit, oscillation_guess, unmeasured
from realitygap.core.planefit import ClipFit, ClipQuantity, PlaneTrack, release_index, window_summary
from realitygap.runtime.errors import InputError
from realitygap.scenarios.base import (
    InstanceSpec,
    LawQuantity,
    Parameter,
    Params,
    ScenarioSpec,
    body_column,
    colour_parameter,
)
from realitygap.scenarios.hints import RADIUS_HINTS, Hint, hint
from realitygap.scenarios.world import COLOUR_NAMES, rgba, world_mjcf

PIVOT_CLEARANCE_M = 0.15
"""Gap between the floor and the bob's lowest point when it hangs at rest."""
ROD_RADIUS_M = 0.008
AXLE_RADIUS_M = 0.015
AXLE_HALF_LENGTH_M = 0.04
HARDWARE_RGBA = "0.22 0.22 0.24 1"
BOB_DENSITY_KG_M3 = 2000.0
"""The law does not depend on the mass; recorded so that the twin is fully specified."""


class PendulumScenario(ScenarioSpec):
    name: str = "pendulum"
    summary: str = "A ball on a light rigid rod is released from rest and swings freely from a pivot."
    parameters: tuple[Parameter, ...] = (
        Parameter(name="length_m", unit="m", low=0.3, high=1.5, default=0.8,
                  description="distance from the pivot to the centre of the ball"),
        Parameter(name="release_angle_deg", unit="deg", low=5.0, high=60.0, default=30.0,
                  description="release angle theta0 from the downward vertical (released from rest)"),
        Parameter(name="radius_m", unit="m", low=0.05, high=0.12, default=0.07, description="ball (bob) radius"),
        colour_parameter("green", COLOUR_NAMES),
    )
    law: str = (
        "T = 4 sqrt(I/(m g L)) K(k), k = sin(theta0/2), I = m (L^2 + 2 r^2/5); "
        "theta(t) = 2 asin(k sn(K - sqrt(m g L/I) t | k^2)); small-angle reference 2 pi sqrt(L/g)"
    )
    prompt_template: str = (
        "A pendulum: a {colour} ball of radius {radius_m:.2f} m hangs from a fixed pivot on a thin, light, rigid rod; its "
        "centre is {length_m:.2f} m below the pivot. It is released from rest at {release_angle_deg:.0f} degrees "
        "from the vertical and swings freely, without friction, from side to side across the view. Static camera, "
        "plain light background, grey floor."
    )
    prompt_phrases: ClassVar[tuple[str, ...]] = (
        "a pendulum swings back and forth",
        "a ball on a rod swings from side to side",
        "a weight on a string oscillates like a pendulum",
        "a bob released at an angle swings",
    )
    """Paraphrases of the scene, besides the summary and the prompt template, for choosing the scenario."""
    param_hints: ClassVar[Mapping[str, tuple[Hint, ...]]] = {
        "length_m": (hint("long"), hint("length", weight=1.5), hint("rod"), hint("string"), hint("cord"), hint("below"),
                     hint("pivot"), hint("pendulum", "left")),
        "radius_m": RADIUS_HINTS,
        "release_angle_deg": (hint("from"), hint("at"), hint("angle"), hint("released")),
    }
    """Per numeric parameter: the keywords that tie a number in a prompt to it."""
    physical_bounds: ClassVar[Mapping[str, tuple[float, float]]] = {
        "period_s": (0.0, math.inf),
        "small_angle_period_s": (0.0, math.inf),
        "amplitude_rad": (0.0, math.pi),
    }
    recovered_params: ClassVar[Mapping[str, tuple[str, float]]] = {"release_angle_deg": ("amplitude_rad", 180.0 / math.pi)}
    clip_min_frames: ClassVar[int] = 12
    clip_main_quantity: ClassVar[str] = "period_s"
    clip_motion: ClassVar[str] = "oscillation"
    instances: tuple[InstanceSpec, ...] = (InstanceSpec(name="bob", body="bob", class_name="ball"),)
    sensor_body: str = "bob"

    def build_mjcf(self, params: Params, timestep_s: float) -> str:
        p = self.resolve_params(params)
        length, radius = float(p["length_m"]), float(p["radius_m"])
        pivot = pivot_position_m(length, radius)
        bob_centre = pivot - np.array([0.0, 0.0, length])
        bodies = f"""    <geom name="axle" type="cylinder" pos="{pivot[0]:.6f} 0 {pivot[2]:.6f}" zaxis="0 1 0"
          size="{AXLE_RADIUS_M} {AXLE_HALF_LENGTH_M}" rgba="{HARDWARE_RGBA}" contype="0" conaffinity="0"/>
    <body name="bob" pos="{bob_centre[0]:.6f} 0 {bob_centre[2]:.6f}">
      <joint name="pivot" type="hinge" axis="0 -1 0" pos="0 0 {length:.6f}" damping="0" armature="0" frictionloss="0"/>
      <geom name="bob_geom" type="sphere" size="{radius:.6f}" density="{BOB_DENSITY_KG_M3:g}" rgba="{rgba(str(p["colour"]))}"
            contype="0" conaffinity="0"/>
      <body name="bob_rod">
        <geom name="rod_geom" type="capsule" fromto="0 0 0 0 0 {length:.6f}" size="{ROD_RADIUS_M}" density="0"
              rgba="{HARDWARE_RGBA}" contype="0" conaffinity="0"/>
      </body>
    </body>"""
        return world_mjcf(self.name, bodies, self.world_options(p))

    def initialize(self, params: Params, model, data) -> None:
        """Released from rest at +theta0 (the joint axis is -y, so a positive angle moves the bob to +x)."""
        p = self.resolve_params(params)
        data.joint("pivot").qpos[0] = math.radians(float(p["release_angle_deg"]))
        data.joint("pivot").qvel[0] = 0.0

    def contact_settings(self, params: Params, timestep_s: float) -> dict:
        return {"bob": {"contacts": "none (contype = conaffinity = 0)", "joint_damping": 0.0, "frictionloss": 0.0,
                        "armature": 0.0, "rod": "massless (density 0)",
                        "note": "conservative rigid pendulum; semi-implicit Euler keeps the period to < 1e-6"}}

    def declared_law(self, params: Params) -> dict[str, LawQuantity]:
        p = self.resolve_params(params)
        length, theta0 = float(p["length_m"]), math.radians(float(p["release_angle_deg"]))
        omega0 = natural_frequency_rad_s(length, float(p["radius_m"]), self.gravity_m_s2)
        return {
            "period_s": LawQuantity(name="period_s", value=finite_amplitude_period_s(omega0, theta0), unit="s",
                                 description="period of the swing at amplitude theta0: 4 K(sin^2(theta0/2)) / w0"),
            "small_angle_period_s": LawQuantity(
                name="small_angle_period_s", value=2 * math.pi * math.sqrt(length / self.gravity_m_s2), unit="s",
                description="reference: point-mass small-angle period 2 pi sqrt(L/g); measured as the period "
                "reduced by the amplitude and bob-inertia factors"),
            "amplitude_rad": LawQuantity(name="amplitude_rad", value=theta0, unit="rad",
                                      description="swing amplitude (no damping: the release angle)"),
        }

    def law_position(self, params: Params, t_s: np.ndarray) -> np.ndarray:
        p = self.resolve_params(params)
        length, radius = float(p["length_m"]), float(p["radius_m"])
        omega0 = natural_frequency_rad_s(length, radius, self.gravity_m_s2)
        theta = pendulum_angle_rad(np.asarray(t_s, dtype=float), omega0, math.radians(float(p["release_angle_deg"])))
        pivot = pivot_position_m(length, radius)
        return np.stack([pivot[0] + length * np.sin(theta), np.zeros_like(theta), pivot[2] - length * np.cos(theta)],
                        axis=-1)

    def duration_s(self, params: Params) -> float:
        """2.2 periods plus the margin: the third downward zero crossing (at 2.25 T) lies inside."""
        return 2.2 * self.declared_law(params)["period_s"].value + self.event_margin_s

    def motion_bounds_m(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        """The bob's swept arc and the pivot axle (so the whole pendulum is in view)."""
        p = self.resolve_params(params)
        length, radius = float(p["length_m"]), float(p["radius_m"])
        theta0 = math.radians(float(p["release_angle_deg"]))
        pivot = pivot_position_m(length, radius)
        half_x = length * math.sin(theta0) + radius
        half_y = max(radius, AXLE_HALF_LENGTH_M)
        low = np.array([pivot[0] - half_x, -half_y, pivot[2] - length - radius])
        high = np.array([pivot[0] + half_x, half_y, max(pivot[2] + AXLE_RADIUS_M, pivot[2] - length * math.cos(theta0) + radius)])
        return low, high

    def fit_clip(self, track: PlaneTrack, noise: np.ndarray, rng: np.random.Generator, n_boot: int, *,
                 automatic: bool, length_m: float | None = None) -> ClipFit:
        return fit_pendulum_clip(track, noise, rng, n_boot, self.clip_min_frames, length_m)

    def fit_declared_law(self, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
        return fit_pendulum(self, params, tracks)

    def measure_state(self, params: Params, state: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Angle of the bob about the pivot; period from same-direction zero crossings over >= 2 periods."""
        p = self.resolve_params(params)
        length, radius = float(p["length_m"]), float(p["radius_m"])
        pivot = pivot_position_m(length, radius)
        t = body_column(state, "bob", "t_s")
        theta = np.arctan2(body_column(state, "bob", "position_x_m") - pivot[0],
                           pivot[2] - body_column(state, "bob", "position_z_m"))
        period = period_from_zero_crossings_s(t, theta)
        amplitude = float((theta.max() - theta.min()) / 2)
        small_angle = period * (math.pi / (2 * ellipk(math.sin(amplitude / 2) ** 2))) / inertia_factor(length, radius)
        return {"period_s": period, "small_angle_period_s": float(small_angle), "amplitude_rad": amplitude}


def pivot_position_m(length_m: float, radius_m: float) -> np.ndarray:
    """World position of the pivot: above the origin, high enough for the bob to clear the floor."""
    return np.array([0.0, 0.0, length_m + radius_m + PIVOT_CLEARANCE_M])


def inertia_factor(length_m: float, radius_m: float) -> float:
    """sqrt(I / (m L^2)) for a sphere on a massless rod: the bob's own inertia lengthens the period."""
    return math.sqrt(1.0 + 0.4 * radius_m**2 / length_m**2)


def natural_frequency_rad_s(length_m: float, radius_m: float, gravity_m_s2: float) -> float:
    """Small-oscillation angular frequency w0 = sqrt(m g L / I) of the rigid pendulum, rad/s."""
    return math.sqrt(gravity_m_s2 / length_m) / inertia_factor(length_m, radius_m)


def finite_amplitude_period_s(omega0_rad_s: float, amplitude_rad: float) -> float:
    """Exact period 4 K(k^2) / w0, k = sin(amplitude / 2) (scipy's ellipk takes the parameter m = k^2)."""
    return float(4.0 * ellipk(math.sin(amplitude_rad / 2) ** 2) / omega0_rad_s)


def pendulum_angle_rad(t_s: np.ndarray, omega0_rad_s: float, amplitude_rad: float) -> np.ndarray:
    """Exact angle theta(t) = 2 asin(k sn(K - w0 t | k^2)) after release from rest at +amplitude."""
    k = math.sin(amplitude_rad / 2)
    m = k * k
    sn, _, _, _ = ellipj(ellipk(m) - omega0_rad_s * np.asarray(t_s, dtype=float), m)
    return 2.0 * np.arcsin(np.clip(k * sn, -1.0, 1.0))


def period_from_zero_crossings_s(t_s: np.ndarray, angle_rad: np.ndarray) -> float:
    """Pooled period from the linearly interpolated zero crossings of the angle, each direction separately.

    (sum over directions of last - first crossing) / (number of crossing intervals); NaN unless the
    crossings span at least two periods.
    """
    spans, intervals, most = 0.0, 0, 0
    for direction in (-1.0, 1.0):
        s = direction * angle_rad
        i = np.flatnonzero((s[:-1] < 0) & (s[1:] >= 0))
        crossings = t_s[i] + (t_s[i + 1] - t_s[i]) * s[i] / (s[i] - s[i + 1])
        if len(crossings) >= 2:
            spans += crossings[-1] - crossings[0]
            intervals += len(crossings) - 1
        most = max(most, len(crossings))
    if most < 3:
        return float("nan")
    return float(spans / intervals)


# --- law fit on tracks measured from pixels --------------------------------------------------------

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
    guess = oscillation_guess(t, theta)
    if guess is None or len(t) < 8:
        return unmeasured(keys, "fewer than two zero crossings of the angle")
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


# --- law fit on a clip's plane track (measure-clip) --------------------------------------------------
def fit_pendulum_clip(track: PlaneTrack, noise: np.ndarray, rng: np.random.Generator, n_boot: int, min_frames: int,
                      length_m: float | None) -> ClipFit:
    """The coordinate along the swing, s(t) = c + sum_(k=1..3) a_k cos(k w t) + b_k sin(k w t) + d t (odd and even
    harmonics of a finite-amplitude swing), w by a bounded 1-D search -> period 2 pi / w (no scale; uncertainty
    from a residual bootstrap); with `length_m` also g = L (4 K(sin^2(theta0 / 2)) / T)^2 (finite amplitude theta0
    from a circle fitted to the path, no scale needed; L from the pivot to the centre of mass)."""
    start = release_index(track.xy, noise)
    t, xy, w = track.t_s[start:], track.xy[start:], noise[start:]
    centre = xy.mean(axis=0)
    _, _, vt = np.linalg.svd(xy - centre, full_matrices=False)
    s = (xy - centre) @ vt[0]
    guess = oscillation_guess(t, s)
    if guess is None or len(t) < min_frames:
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
    perpendicular = vt[1] if vt[1][1] >= 0 else -vt[1]  # image up: the pivot is above the path
    swing = swing_amplitude(fitted_s, (xy - centre) @ perpendicular, w)
    amplitude = None if swing is None else swing[0]
    notes = []
    if swing is not None:
        q["amplitude_deg"] = ClipQuantity(math.degrees(swing[0]), math.degrees(swing[1]), "deg",
                                          "asin(largest swing / R), R of a circle fitted to height against the fitted swing")
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
    return ClipFit("pendulum", q, {}, window_summary(track, used, "end of track"), notes, track.frame[used], grid, model_xy)


def _harmonics(t: np.ndarray, omega: float) -> np.ndarray:
    cols = [np.ones_like(t)]
    for k in (1, 2, 3):
        cols += [np.cos(k * omega * t), np.sin(k * omega * t)]
    cols.append(t - t.mean())
    return np.stack(cols, axis=1)


def swing_amplitude(s_fit: np.ndarray, u: np.ndarray, noise: np.ndarray) -> tuple[float, float] | None:
    """(amplitude rad, its sigma) of a swing: the bob's height u above its lowest point against its fitted
    (noise-free) coordinate along the swing s_fit, u = u0 + R - sqrt(R^2 - (s - s0)^2) (a circle about the
    pivot, radius R), fitted by weighted least squares (scipy) started from a parabola; amplitude =
    asin(max |s - s0| / R). The regressor is the fitted swing, not the noisy path, so a nearly flat noisy
    arc does not shrink R (an algebraic circle fit to the points does, and reads a 6 deg swing as 28 deg).
    None when the path does not curve up at the ends (no pivot above it) or the fit fails."""
    from scipy.optimize import least_squares

    c2, c1, c0 = np.polyfit(s_fit, u, 2, w=1 / noise)
    if not c2 > 0:
        return None
    s_span = float(np.ptp(s_fit))
    x0 = np.array([c0 - c1**2 / (4 * c2), -c1 / (2 * c2), max(1 / (2 * c2), 0.51 * s_span)])

    def residual(p):
        u0, s0, R = p
        return (u0 + R - np.sqrt(np.maximum(R**2 - (s_fit - s0) ** 2, 0.0)) - u) / noise

    try:
        fit = least_squares(residual, x0, bounds=([-np.inf, -np.inf, 0.5 * s_span], np.inf), x_scale="jac")
    except ValueError:
        return None
    u0, s0, R = fit.x
    reach = float(np.max(np.abs(s_fit - s0)))
    if not fit.success or not np.isfinite(R) or reach >= R:
        return None
    amplitude = math.asin(reach / R)
    dof = max(len(u) - 3, 1)
    scale2 = max(1.0, float(np.sum(fit.fun**2)) / dof)
    try:
        cov = np.linalg.inv(fit.jac.T @ fit.jac) * scale2
    except np.linalg.LinAlgError:
        return amplitude, math.nan
    d_amplitude_dR = -reach / (R**2 * math.cos(amplitude))
    return amplitude, abs(d_amplitude_dR) * math.sqrt(max(cov[2, 2], 0.0))
