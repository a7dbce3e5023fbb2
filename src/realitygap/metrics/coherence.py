"""Cross-sensor coherence: do a source's streams agree with each other through its recorded calibration?

Every function is pure numpy/scipy on arrays, in the package's conventions: world frame Z-up, metres
and seconds; cameras in the OpenCV convention (x right, y down, z forward), pixel (col, row) centred at
(u, v) = (col, row), intrinsics K (px), pose `T_world_camera` (4x4, m); rotations `R_world_body` (3x3).
A coherent source reads each residual at its sensors' declared noise; a defect between two streams
(a wrong intrinsic, a teleport, a velocity that does not integrate to the track) shows as a residual
far above it.

- Depth vs LiDAR: LiDAR points X (world) projected with the recorded camera calibration,
      (u, v) = pi(K, T_world_camera^-1 X),   z = camera-z of X,
      r = D(u, v) - z   [m],
  with D the depth image at (u, v), from an affine fit of 1/D on the 3x3 pixels around (u, v) (exact on
  planes: 1/z is affine in (u, v) on a plane), and only where that fit shows one surface
  (`depth_at_pixels`): points at silhouette edges and creases do not count.
- Projection: r = |p - c|   [px], p where the object's 3-D box (pose from the state) projects with the
  recorded calibration (the centroid of its projected silhouette, `projected_box_centroid_px`; for a small
  object the projection of its centre), c its image position (the centroid of its mask, `mask_centroid_px`).
- IMU vs GPS: a Savitzky-Golay second derivative of the GPS positions on the GPS clock (see
  `savgol_acceleration`), compared at the same times with the IMU smoothed by the very same filter
  (`filtered_imu_acceleration`, `imu_position_residuals`), both as specific force in the body frame f = R^T (a - g)  [m/s^2].
- Radar: r = v_radar - v_track . (p - o) / |p - o|   [m/s], the detected radial velocity against
  the differentiated track (`track_velocity`) along the line of sight from the radar at o.

Example:
    >>> import numpy as np
    >>> K = np.array([[100.0, 0, 31.5], [0, 100.0, 31.5], [0, 0, 1]])
    >>> depth = np.full((64, 64), 2.0)                       # a wall 2 m in front of the camera
    >>> points = np.array([[0.1, -0.05, 2.0], [0.0, 0.0, 2.03]])
    >>> np.round(depth_lidar_residuals_m(depth, points, K, np.eye(4)), 6)
    array([ 0.  , -0.03])
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.signal import savgol_coeffs

from realitygap.metrics.info import MetricInfo

METRIC_INFO: dict[str, MetricInfo] = {info.name: info for info in (
    MetricInfo("coherence_depth_lidar_m", False, (0.0, np.inf), "m",
               "median |depth image - camera z of the LiDAR point| over points on surfaces", ideal=0.0),
    MetricInfo("coherence_depth_lidar_outliers", False, (0.0, 1.0), "1",
               "share of LiDAR points on surfaces whose depth residual exceeds the tolerance", ideal=0.0),
    MetricInfo("coherence_projection_px", False, (0.0, np.inf), "px",
               "median |projected 3-D box centroid - segmentation centroid|", ideal=0.0),
    MetricInfo("coherence_imu_gps_m_s2", False, (0.0, np.inf), "m/s^2",
               "RMS |GPS second derivative - IMU specific force|, one filter on both, body frame", ideal=0.0),
    MetricInfo("coherence_imu_state_m_s2", False, (0.0, np.inf), "m/s^2",
               "RMS |state-track second derivative - IMU specific force|, one filter on both, body frame", ideal=0.0),
    MetricInfo("coherence_radar_velocity_m_s", False, (0.0, np.inf), "m/s",
               "RMS of radar radial velocity - differentiated track along the line of sight", ideal=0.0),
)}
"""Properties of the coherence rows (measure/coherence.py): lower is better, 0 is perfect; a coherent source
reads its sensors' noise (the rows' `uncertainty` where it is declared)."""

DEPTH_PLANE_RESIDUAL = 0.003
"""Largest residual of the affine fit of 1/depth on the 3x3 pixels around a LiDAR point, relative to 1/depth,
for the point to lie on one surface (mm-quantised depth is 0.05 % at 1 m; a 5 cm step at 3 m leaves 0.6 %)."""
SAVGOL_WINDOW = 5
SAVGOL_POLYORDER = 2
"""GPS second derivative: 5 fixes (0.8 s at 5 Hz), a quadratic (a cubic gives the same centre weights)."""
OFFSET_RESOLUTION_S = 1e-9
"""Time offsets between IMU period boundaries and filter centres closer than this share one kernel value."""
TRACK_HALF_WINDOW_S = 0.05
"""Half-width of the Savitzky-Golay window on a dense noise-free track (the state): 10 IMU periods at 200 Hz.
The IMU reports means over its periods, so an impact is placed at its period's middle; through the filter
that errs by up to |K'| dt_imu / 2 per m/s of impulse, which shrinks as 1 / window^2: on sim's bounces a
+-5 ms window reads 27 m/s^2 RMS, +-50 ms 0.2-0.4, while a 0.3 m teleport reads 30-120."""


@dataclass(frozen=True)
class ResidualSummary:
    """Statistics of a residual over its valid (finite) samples, in the residual's unit."""

    median_abs: float
    rms: float
    share_within: float
    """Share of the valid samples with |r| <= tolerance (NaN without any)."""
    count: int


def summarise(residuals: np.ndarray, tolerance: float) -> ResidualSummary:
    """median |r|, sqrt(mean r^2) and the share with |r| <= tolerance over the finite entries of `residuals`
    (vectors, shape (N, k): |r| is the Euclidean norm of each row); NaN and count 0 when there is none."""
    r = np.asarray(residuals, float)
    magnitude = np.linalg.norm(r, axis=-1) if r.ndim > 1 else np.abs(r)
    magnitude = magnitude[np.isfinite(magnitude)]
    if magnitude.size == 0:
        return ResidualSummary(np.nan, np.nan, np.nan, 0)
    return ResidualSummary(float(np.median(magnitude)), float(np.sqrt(np.mean(magnitude**2))),
                           float(np.mean(magnitude <= tolerance)), int(magnitude.size))


# --------------------------------------------------------------------------------------------------
# Geometry: depth image vs LiDAR, projected centre vs image position


def project_points(points_world: np.ndarray, K: np.ndarray, T_world_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pinhole projection (no distortion): (N, 3) world points -> (N, 2) pixels (u, v) and (N,) camera z (m);
    points at z <= 0 (behind the camera) get NaN pixels."""
    T = np.asarray(T_world_camera, float)
    p_cam = (np.atleast_2d(np.asarray(points_world, float)) - T[:3, 3]) @ T[:3, :3]
    z = p_cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = (p_cam[:, :2] / z[:, None]) @ np.asarray(K, float)[:2, :2].T + np.asarray(K, float)[:2, 2]
    uv[z <= 0] = np.nan
    return uv, z


def depth_at_pixels(depth_m: np.ndarray, uv: np.ndarray, max_plane_residual: float = DEPTH_PLANE_RESIDUAL,
                    frame: np.ndarray | None = None, scale_m: float = 1.0) -> np.ndarray:
    """Depth (m) of the (H, W) image `depth_m` at sub-pixel (N, 2) positions (u, v), where they lie on one surface
    (or of the (T, H, W) images at `frame` (N,) indices, one per position). `scale_m`: metres per unit of the
    image (0.001 for the stored uint16 millimetres: only the pixels used are converted).

    Around the nearest pixel (c, r) the 3x3 inverse depths w = 1/D are fitted by an affine function
    w ~ a + b (u - c) + e (v - r) (least squares; on the 3x3 grid a = mean w, b = sum du w / 6, e = sum dv w / 6),
    which is exact on any plane (1/z is affine in the image on a plane), and the depth is 1/(a + b du + e dv)
    at the position. NaN where the 3x3 neighbourhood leaves the image, a pixel has no depth (NaN or <= 0), or
    the fit's largest residual exceeds `max_plane_residual` x a: silhouette edges, creases, and a point hidden
    from the camera by a nearer edge do not count."""
    depth = np.asarray(depth_m)
    uv = np.atleast_2d(np.asarray(uv, float))
    out = np.full(len(uv), np.nan)
    H, W = depth.shape[-2:]
    with np.errstate(invalid="ignore"):
        inside = np.isfinite(uv).all(axis=1) & (uv[:, 0] >= 0.5) & (uv[:, 1] >= 0.5) & (uv[:, 0] < W - 1.5) & (uv[:, 1] < H - 1.5)
    if not inside.any():
        return out
    u, v = uv[inside, 0], uv[inside, 1]
    c, r = np.rint(u).astype(int), np.rint(v).astype(int)
    du, dv = np.meshgrid([-1, 0, 1], [-1, 0, 1])
    du, dv = du.ravel(), dv.ravel()
    if depth.ndim == 3:
        patch = depth[np.asarray(frame)[inside][:, None], r[:, None] + dv, c[:, None] + du] * float(scale_m)  # (n, 9)
    else:
        patch = depth[r[:, None] + dv, c[:, None] + du] * float(scale_m)
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = np.all(np.isfinite(patch) & (patch > 0), axis=1)
        w = 1.0 / np.where(valid[:, None], patch, 1.0)
        a, b, e = w.mean(axis=1), w @ du / 6.0, w @ dv / 6.0
        residual = np.abs(w - (a[:, None] + b[:, None] * du + e[:, None] * dv)).max(axis=1)
        valid &= residual <= max_plane_residual * a
        value = 1.0 / (a + b * (u - c) + e * (v - r))
    out[np.flatnonzero(inside)] = np.where(valid, value, np.nan)
    return out


def depth_lidar_residuals_m(depth_m: np.ndarray, points_world: np.ndarray, K: np.ndarray, T_world_camera: np.ndarray,
                            max_plane_residual: float = DEPTH_PLANE_RESIDUAL, frame: np.ndarray | None = None,
                            scale_m: float = 1.0) -> np.ndarray:
    """r = D(pi(X)) - z(X) (m) for each LiDAR point X (world, (N, 3)) taken at the time of the depth image D
    (H, W, metres along the camera z, NaN or 0 where nothing was seen; or (T, H, W) with the frame of each point
    in `frame` (N,)): NaN where the point projects outside the image, behind the camera or not onto one
    surface (`depth_at_pixels`; `scale_m` metres per image unit)."""
    uv, z = project_points(points_world, K, T_world_camera)
    return depth_at_pixels(depth_m, uv, max_plane_residual, frame, scale_m) - z


def box_corners_world(centre_m: np.ndarray, size_m: np.ndarray, R_world_box: np.ndarray) -> np.ndarray:
    """(N, 8, 3) world corners of oriented boxes: centres (N, 3), full sizes (N, 3) m, rotations (N, 3, 3)."""
    signs = np.array([[sx, sy, sz] for sx in (-0.5, 0.5) for sy in (-0.5, 0.5) for sz in (-0.5, 0.5)])
    local = signs[None] * np.asarray(size_m, float)[:, None, :]
    return np.asarray(centre_m, float)[:, None, :] + np.einsum("nij,nkj->nki", np.asarray(R_world_box, float), local)


def projected_box_centroid_px(corners_world: np.ndarray, K: np.ndarray, T_world_camera: np.ndarray) -> np.ndarray:
    """(N, 2) px: the area centroid of the convex hull of each box's 8 projected corners (N, 8, 3) world, i.e. the
    centroid of the box's silhouette. This is where a box-shaped object's image centroid lies; the projection of
    the 3-D centre is not (perspective: a door 1.7 m tall seen from above at 2.7 m has its silhouette centroid
    5 px from its projected centre at 128 px). Shoelace: C = sum (p_i + p_(i+1)) (p_i x p_(i+1)) / (6 A).
    NaN where a corner is behind the camera."""
    corners = np.asarray(corners_world, float)
    uv, z = project_points(corners.reshape(-1, 3), K, T_world_camera)
    uv, z = uv.reshape(len(corners), -1, 2), z.reshape(len(corners), -1)
    out = np.full((len(corners), 2), np.nan)
    for i in np.flatnonzero((z > 0).all(axis=1)):
        hull = cv2.convexHull(uv[i].astype(np.float32)).reshape(-1, 2).astype(float)
        x, y = hull[:, 0], hull[:, 1]
        cross = x * np.roll(y, -1) - np.roll(x, -1) * y
        area = cross.sum() / 2
        if abs(area) > 1e-12:
            out[i] = [((x + np.roll(x, -1)) * cross).sum() / (6 * area), ((y + np.roll(y, -1)) * cross).sum() / (6 * area)]
        else:
            out[i] = hull.mean(axis=0)
    return out


def projection_residuals_px(projected_uv: np.ndarray, image_uv: np.ndarray) -> np.ndarray:
    """|p - c| (px) per row: where the 3-D state projects (p, (N, 2), e.g. `projected_box_centroid_px`) against the
    object's image position (c, (N, 2), e.g. `mask_centroid_px`)."""
    return np.linalg.norm(np.asarray(projected_uv, float) - np.asarray(image_uv, float), axis=-1)


def mask_centroid_px(masks: np.ndarray) -> np.ndarray:
    """(u, v) = (mean column, mean row) of the True pixels of each (..., H, W) mask (or weighted by a coverage in
    [0, 1], as a matted mask gives it): shape (..., 2), NaN when empty."""
    masks = np.asarray(masks)
    masks = masks if masks.dtype == bool else masks.astype(float)
    H, W = masks.shape[-2:]
    count = masks.sum(axis=(-2, -1)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = masks.sum(axis=-2) @ np.arange(W, dtype=float) / count
        v = masks.sum(axis=-1) @ np.arange(H, dtype=float) / count
    return np.stack([u, v], axis=-1)


# --------------------------------------------------------------------------------------------------
# Dynamics: IMU vs GPS, radar vs track


def savgol_weights(dt_s: float, window: int = SAVGOL_WINDOW, polyorder: int = SAVGOL_POLYORDER) -> np.ndarray:
    """Weights c_j (1/s^2), j = -m..m, of the Savitzky-Golay second derivative at the window's centre:
    a(t_k) = sum_j c_j p(t_k + j dt). Why Savitzky-Golay: it is a fixed linear FIR filter, so its noise
    gain is known (std sigma sqrt(sum c_j^2) for white position noise sigma) and the same filter can be
    applied exactly to the IMU (`peano_kernel`); a smoothing spline's effective kernel depends on the data
    and its smoothing weight, and an interpolating spline's second derivative amplifies the noise most.
    At 5 Hz with 2 cm noise a 3-point difference reads sqrt(6) sigma / dt^2 = 1.2 m/s^2 of noise per axis,
    the 5-point quadratic fit sqrt(1/14) 2 sigma / dt^2 = 0.27 m/s^2."""
    return savgol_coeffs(window, polyorder, deriv=2, delta=dt_s, use="dot")


def savgol_acceleration(t_s: np.ndarray, position_m: np.ndarray, window: int = SAVGOL_WINDOW,
                        polyorder: int = SAVGOL_POLYORDER) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times (M,), accelerations (M, 3) m/s^2, weights c_j) at the fixes that have `window // 2` fixes on
    each side, from positions (N, 3) on a uniform clock `t_s` (N,) s. ValueError on a non-uniform clock."""
    t = np.asarray(t_s, float)
    p = np.asarray(position_m, float).reshape(len(t), -1)
    if len(t) < window:
        return np.empty(0), np.empty((0, p.shape[1])), np.empty(0)
    dt = float(np.median(np.diff(t)))
    if not np.allclose(np.diff(t), dt, rtol=1e-6, atol=1e-9):
        raise ValueError("savgol_acceleration needs a uniform clock")
    c = savgol_weights(dt, window, polyorder)
    m = window // 2
    windows = np.lib.stride_tricks.sliding_window_view(p, window, axis=0)  # (M, 3, window)
    return t[m:len(t) - m], windows @ c, c


def peano_kernel(weights: np.ndarray, dt_s: float, tau_s: np.ndarray) -> np.ndarray:
    """The filter's Peano kernel K(tau) (1/s): for any smooth p, sum_j c_j p(t + j dt) = int K(tau) p''(t + tau) dtau,
        K(tau) = sum_{j > 0, j dt > tau} c_j (j dt - tau)   (tau >= 0),
        K(tau) = sum_{j < 0, j dt < tau} c_j (tau - j dt)   (tau < 0),
    (Taylor with integral remainder; c annihilates constants and slopes). int K = sum c_j (j dt)^2 / 2 = 1,
    K is piecewise linear with knots at the fixes and zero outside the window."""
    c = np.asarray(weights, float)
    m = len(c) // 2
    offsets = (np.arange(len(c)) - m) * dt_s
    tau = np.asarray(tau_s, float)[..., None]
    ahead = (tau >= 0) & (offsets > tau)
    behind = (tau < 0) & (offsets < tau)
    terms = np.where(ahead, c * (offsets - tau), 0.0) + np.where(behind, c * (tau - offsets), 0.0)
    return terms.sum(axis=-1)


def peano_kernel_integral(weights: np.ndarray, dt_s: float, tau_s: np.ndarray) -> np.ndarray:
    """P(tau) = int_0^tau K (s), K the `peano_kernel`, in closed form: with F(x, s) = s min(x, s) - min(x, s)^2 / 2,
        P(tau) = sum_{j > 0} c_j F(tau, j dt)  (tau >= 0),    P(tau) = -sum_{j < 0} c_j F(-tau, -j dt)  (tau < 0).
    int_a^b K = P(b) - P(a) exactly, whatever a and b (no alignment with the fixes needed)."""
    c = np.asarray(weights, float)
    m = len(c) // 2
    offsets = (np.arange(len(c)) - m) * dt_s
    tau = np.asarray(tau_s, float)[..., None]
    reach = np.minimum(np.abs(tau), np.abs(offsets))
    F = np.abs(offsets) * reach - reach**2 / 2
    ahead = np.where((tau >= 0) & (offsets > 0), c * F, 0.0).sum(axis=-1)
    behind = np.where((tau < 0) & (offsets < 0), c * F, 0.0).sum(axis=-1)
    return ahead - behind


def filtered_imu_acceleration(t_eval_s: np.ndarray, weights: np.ndarray, dt_s: float, t_imu_s: np.ndarray,
                              specific_force_body: np.ndarray, R_world_body: np.ndarray,
                              gravity_world: np.ndarray) -> np.ndarray:
    """World acceleration (M, 3) m/s^2 from the IMU through the position filter c_j (spacing `dt_s`): IMU reading i,
    the mean specific force over (t_(i-1), t_i], gives the mean world acceleration a_i = R_i f_i + g over that
    period (R_i (n, 3, 3): world_from_body at the period's middle), and
        a(t_k) = sum_i a_i int_(t_(i-1) - t_k)^(t_i - t_k) K(tau) dtau      (`peano_kernel_integral`),
    exact when the acceleration is constant over each IMU period (an impulse inside one is placed at the
    period's mean). The first reading has no predecessor and is skipped."""
    t, t_eval = np.asarray(t_imu_s, float), np.asarray(t_eval_s, float)
    if len(t) < 2 or len(t_eval) == 0:
        return np.full((len(t_eval), 3), np.nan)
    accel = np.einsum("nij,nj->ni", np.asarray(R_world_body, float)[1:], np.asarray(specific_force_body, float)[1:])
    accel = accel + np.asarray(gravity_world, float)
    # Only the period boundaries inside the kernel's support matter (outside it P is constant): a band.
    half = (len(weights) // 2) * dt_s
    first = np.clip(np.searchsorted(t, t_eval - half, side="right") - 1, 0, len(t) - 1)
    last = np.clip(np.searchsorted(t, t_eval + half, side="left"), 0, len(t) - 1)
    band = first[:, None] + np.arange(int((last - first).max()) + 1)
    boundaries = np.minimum(band, len(t) - 1)
    offsets = t[boundaries] - t_eval[:, None]  # (M, B + 1); on a common clock most offsets repeat: compute each once
    unique, inverse = np.unique(np.round(offsets / OFFSET_RESOLUTION_S), return_inverse=True)
    P = peano_kernel_integral(weights, dt_s, unique * OFFSET_RESOLUTION_S)[inverse.reshape(offsets.shape)]
    readings = np.minimum(boundaries[:, :-1], len(accel) - 1)  # period (t_j, t_(j+1)] is reading j + 1 = accel[j]
    return np.einsum("mb,mbk->mk", np.diff(P, axis=1), accel[readings])


def imu_position_residuals(t_pos_s: np.ndarray, position_m: np.ndarray, t_imu_s: np.ndarray,
                           specific_force_body: np.ndarray, R_world_body_imu: np.ndarray, R_world_body_pos: np.ndarray,
                           gravity_world: np.ndarray, window: int = SAVGOL_WINDOW, polyorder: int = SAVGOL_POLYORDER,
                           stride: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times (M,), f_pos (M, 3), f_pos - f_imu (M, 3)) in m/s^2, body frame, at every `stride`-th position sample
    (GPS fixes, or a state track) whose filter window lies inside both the track and the IMU's readings:
        f_pos = R_k^T (a_pos(t_k) - g),   a_pos = Savitzky-Golay second derivative of the positions (`savgol_acceleration`),
        f_imu = R_k^T (a_imu(t_k) - g),   a_imu = the IMU's world acceleration through the same filter
                                          (`filtered_imu_acceleration`),
    with R_k the body's world_from_body rotation at t_k (`R_world_body_pos`, one per position sample) and
    `R_world_body_imu` at the middle of each IMU period. The residual's norm is frame-independent
    (|R^T x| = |x|). For a coherent source it is the position noise through the filter (`gps_noise_rms`)."""
    t_pos = np.asarray(t_pos_s, float)
    t_k, a_pos, c = savgol_acceleration(t_pos, position_m, window, polyorder)
    m = window // 2
    if len(t_k) == 0:
        return t_k, np.empty((0, 3)), np.empty((0, 3))
    dt = float(np.median(np.diff(t_pos)))
    t_imu = np.asarray(t_imu_s, float)
    keep = np.zeros(len(t_k), bool)
    keep[::stride] = True
    keep &= (t_k - m * dt >= t_imu[0] - 1e-9) & (t_k + m * dt <= t_imu[-1] + 1e-9)
    t_k, a_pos = t_k[keep], a_pos[keep]
    a_imu = filtered_imu_acceleration(t_k, c, dt, t_imu, specific_force_body, R_world_body_imu, gravity_world)
    R_k = np.asarray(R_world_body_pos, float)[m:len(t_pos) - m][keep]
    g = np.asarray(gravity_world, float)
    f_pos = np.einsum("nji,nj->ni", R_k, a_pos - g)
    f_imu = np.einsum("nji,nj->ni", R_k, a_imu - g)
    return t_k, f_pos, f_pos - f_imu


def gps_noise_rms(dt_s: float, noise_std_m: np.ndarray, window: int = SAVGOL_WINDOW,
                  polyorder: int = SAVGOL_POLYORDER) -> float:
    """Expected RMS (m/s^2) of |f_gps - f_imu| for a coherent source with independent white GPS noise of std
    `noise_std_m` (3,) per axis (m): sqrt(sum_j c_j^2 * sum_axes sigma^2) (IMU noise, averaged over the
    window, is negligible beside it)."""
    c = savgol_weights(dt_s, window, polyorder)
    return float(np.sqrt(np.sum(c**2) * np.sum(np.square(noise_std_m))))


def imu_noise_rms(weights: np.ndarray, dt_s: float, imu_period_s: float, noise_density: float) -> float:
    """Expected RMS (m/s^2) of |f_pos - f_imu| from the IMU's white noise alone (noise density sigma_w, (m/s^2)/sqrt(Hz),
    per axis: sigma_w / sqrt(dt_imu) per reading) through the filter, for filter centres on IMU samples and a
    noise-free track: sqrt(3 sum_i w_i^2) sigma_w / sqrt(dt_imu), w_i = int K over IMU period i."""
    half = (len(weights) // 2) * dt_s
    n = int(np.ceil(half / imu_period_s))
    w = np.diff(peano_kernel_integral(weights, dt_s, np.arange(-n, n + 1) * imu_period_s))
    return float(np.sqrt(3 * np.sum(w**2)) * noise_density / np.sqrt(imu_period_s))


def track_velocity(t_s: np.ndarray, position_m: np.ndarray) -> np.ndarray:
    """Velocity (N, 3) m/s of a densely sampled, noise-free track (N, 3) by second-order central differences
    on its own clock (one-sided at the ends; `numpy.gradient`): error O(h^2 p''') at step h, and at a velocity
    jump (an impact) the mean over the two neighbouring steps."""
    t = np.asarray(t_s, float)
    return np.gradient(np.asarray(position_m, float), t, axis=0) if len(t) > 1 else np.full((len(t), 3), np.nan)


def radial_velocity_residuals(radial_velocity_m_s: np.ndarray, track_position_m: np.ndarray,
                              track_velocity_m_s: np.ndarray, radar_origin_m: np.ndarray) -> np.ndarray:
    """v_radar - v . (p - o) / |p - o| (m/s) per detection: track positions p (N, 3) and velocities v (N, 3)
    at the detections' times, world frame; radar at o (3,); radial velocity positive receding."""
    sight = np.asarray(track_position_m, float) - np.asarray(radar_origin_m, float)
    sight /= np.linalg.norm(sight, axis=1, keepdims=True)
    return np.asarray(radial_velocity_m_s, float) - np.einsum("ij,ij->i", np.asarray(track_velocity_m_s, float), sight)
