"""Pixels -> world metres: ray-plane intersection and apparent size, with propagated uncertainty.

Conventions (those of `realitygap.core.camera`): K is the 3x3 pinhole matrix in pixels; T_world_camera
the 4x4 pose of the OpenCV camera frame (x right, y down, z forward) in the world; pixel (col, row)
is centred at (u, v) = (col, row). The ray through pixel (u, v) is

    X(s) = C + s d,   d = R K^-1 [u, v, 1]^T,

with C the camera centre and R the camera-to-world rotation; d has camera-frame z component 1,
so s is the depth along the optical axis (metres).

Plane back-projection: the ray meets the plane n . (X - P0) = 0 at s = n . (P0 - C) / (n . d).
Its Jacobian with respect to the pixel is

    dX/d(u, v) = s (I - d n^T / (n . d)) R K^-1[:, :2]          (3 x 2, metres per pixel),

and an isotropic centroid uncertainty sigma_px gives the covariance sigma_px^2 J J^T; `sigma_m`
is the square root of its diagonal (world x, y, z).

Spheres. The image of a sphere (radius R, centre at distance D, angular radius beta = asin(R / D),
centre direction at angle alpha from the optical axis) is an ellipse. In the normalised image plane
(z = 1), with p = tan(alpha) and t = tan(beta):

    centre at radial distance   rho_c = (tan(alpha + beta) + tan(alpha - beta)) / 2 = p (1 + t^2) / (1 - p^2 t^2),
    semi-axes                   a = t (1 + p^2) / (1 - p^2 t^2),   b = t sqrt(1 + p^2) / sqrt(1 - p^2 t^2),
    equivalent radius           sqrt(a b) = t (1 + p^2)^(3/4) / (1 - p^2 t^2)^(3/4).

So the mask centroid of a sphere is not the projection of its centre: it sits further out by about
p (1 + p^2) t^2 (0.25 px for a 0.1 m ball 2 m away, 15 degrees off axis, at f = 309 px: a 0.3 %
scale error of positions, hence of g). `backproject_to_plane(..., sphere_radius_m=R)` removes it;
`backproject_sphere_by_size` inverts both relations for depth from the apparent (equivalent) radius,
D = R sqrt(1 + t^2) / t, which on the optical axis is D = R sqrt(f^2 + r_px^2) / r_px ~ f R / r_px.

Example:
    >>> from realitygap.core.camera import intrinsics_from_fovy, project_points
    >>> K = intrinsics_from_fovy(45.0, 256, 256)
    >>> T = np.eye(4); T[:3, :3] = [[1, 0, 0], [0, 0, 1], [0, -1, 0]]; T[:3, 3] = [0, -2, 0.5]
    >>> points = np.array([[0.1, 0.0, 0.3], [-0.4, 0.0, 1.2]])
    >>> uv, _ = project_points(points, K, T)
    >>> position_m, sigma_m = backproject_to_plane(uv, K, T, np.zeros(3), np.array([0, 1.0, 0]), sigma_px=0.3)
    >>> bool(np.allclose(position_m, points))
    True
"""

from __future__ import annotations

import numpy as np

from realitygap.core.fitting import MeasuredTrack

SPHERE_CORRECTION_ITERATIONS = 4
"""Fixed-point iterations of the sphere centroid correction (each shrinks the error by ~t^2 < 1e-2)."""
NEWTON_ITERATIONS = 12


def backproject_track(name: str, t_s: np.ndarray, present: np.ndarray, centroid_px: np.ndarray, sigma_px,
                      K: np.ndarray, T_world_camera: np.ndarray, plane: tuple[np.ndarray, np.ndarray],
                      sphere_radius_m: float | None = None,
                      visible_fraction: np.ndarray | None = None) -> MeasuredTrack:
    """A pixel track (centroids (T, 2) px, NaN when absent; sigma_px scalar or (T,)) as a MeasuredTrack
    on `plane` = (point, unit normal) in world metres, e.g. `scenario.motion_plane(params)` or
    `ground_plane(radius_m)`. `sphere_radius_m`: the object is a sphere of that radius (removes the
    perspective offset of its mask centroid, see the module docstring)."""
    present = np.asarray(present, bool)
    uv = np.where(present[:, None], np.asarray(centroid_px, float), np.nan)
    position, sigma = backproject_to_plane(uv, K, T_world_camera, plane[0], plane[1], sigma_px=sigma_px,
                                           sphere_radius_m=sphere_radius_m)
    return MeasuredTrack(name=name, t_s=np.asarray(t_s, float), present=present, position_m=position, sigma_m=sigma,
                         visible_fraction=None if visible_fraction is None else np.asarray(visible_fraction, float))


def ground_plane(height_m: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(point, normal) of the horizontal plane z = height_m, e.g. the centres of balls of radius r on the floor."""
    return np.array([0.0, 0.0, float(height_m)]), np.array([0.0, 0.0, 1.0])


def pixel_rays(uv_px: np.ndarray, K: np.ndarray, T_world_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera centre C (3,) and ray directions d (N, 3) in the world, d = R K^-1 [u, v, 1] (camera z = 1)."""
    uv = np.atleast_2d(np.asarray(uv_px, float))
    homogeneous = np.concatenate([uv, np.ones((len(uv), 1))], axis=1)
    R = np.asarray(T_world_camera, float)[:3, :3]
    return np.asarray(T_world_camera, float)[:3, 3].copy(), homogeneous @ np.linalg.inv(K).T @ R.T


def backproject_to_plane(uv_px: np.ndarray, K: np.ndarray, T_world_camera: np.ndarray, plane_point_m: np.ndarray,
                         plane_normal: np.ndarray, sigma_px=0.0,
                         sphere_radius_m: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """World points (N, 3) where the rays through `uv_px` (N, 2) meet the plane, and their one-sigma
    uncertainty (N, 3) for an isotropic centroid uncertainty `sigma_px` (scalar or (N,)).

    NaN rows where the pixel is NaN, the ray is parallel to the plane or meets it behind the camera.
    With `sphere_radius_m`, `uv_px` is a sphere's mask centroid: it is moved to the projection of the
    sphere's centre first (fixed point over the distance, see the module docstring).
    """
    uv = np.atleast_2d(np.asarray(uv_px, float))
    n = np.asarray(plane_normal, float) / np.linalg.norm(plane_normal)
    centre_uv = uv
    for _ in range(SPHERE_CORRECTION_ITERATIONS if sphere_radius_m else 1):
        C, d = pixel_rays(centre_uv, K, T_world_camera)
        n_dot_d = d @ n
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (n @ (np.asarray(plane_point_m, float) - C)) / n_dot_d
        s = np.where(np.isfinite(s) & (s > 0), s, np.nan)
        position = C + s[:, None] * d
        if sphere_radius_m:
            distance = np.linalg.norm(position - C, axis=1)
            centre_uv = sphere_centre_px(uv, K, sphere_radius_m, distance)
    # Jacobian dX/d(u, v) = s (I - d n^T / (n . d)) M, M = R K^-1[:, :2]
    M = np.asarray(T_world_camera, float)[:3, :3] @ np.linalg.inv(K)[:, :2]
    with np.errstate(divide="ignore", invalid="ignore"):
        J = s[:, None, None] * (M[None] - d[:, :, None] * (n @ M)[None, None, :] / n_dot_d[:, None, None])
    sigma_px = np.broadcast_to(np.asarray(sigma_px, float), (len(uv),))
    sigma_m = sigma_px[:, None] * np.sqrt(np.sum(J**2, axis=2))
    return position, sigma_m


def sphere_centre_px(centroid_px: np.ndarray, K: np.ndarray, radius_m: float, distance_m: np.ndarray) -> np.ndarray:
    """Projection (N, 2) of a sphere's centre from its mask (ellipse) centroid (N, 2), radius R and
    centre distance D (N,): invert rho_c = p (1 + t^2) / (1 - p^2 t^2) for p, t^2 = R^2 / (D^2 - R^2),
    p = 2 rho_c / ((1 + t^2) + sqrt((1 + t^2)^2 + 4 rho_c^2 t^2)) (the positive root, stable at rho_c = 0)."""
    xy = _normalised(centroid_px, K)
    rho_c = np.linalg.norm(xy, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = radius_m**2 / (np.asarray(distance_m, float) ** 2 - radius_m**2)
        p = 2 * rho_c / ((1 + q) + np.sqrt((1 + q) ** 2 + 4 * rho_c**2 * q))
        scale = np.where(rho_c > 0, p / rho_c, 1.0 / (1 + q))
    return _pixels(xy * scale[:, None], K)


def backproject_sphere_by_size(uv_px: np.ndarray, radius_px: np.ndarray, K: np.ndarray, T_world_camera: np.ndarray,
                               radius_m: float, sigma_px=0.0, sigma_radius_px=None) -> tuple[np.ndarray, np.ndarray]:
    """Centres (N, 3) of spheres of radius `radius_m` from their mask centroids (N, 2) and equivalent
    radii sqrt(area / pi) (N,) in pixels, and one-sigma uncertainties (N, 3).

    Solves sqrt(a b) = r_px / f for t = tan(beta) (Newton on the cubic in y = t^(2/3):
    r^(4/3) p^2 y^3 + (1 + p^2) y^2 - r^(4/3) = 0, r = r_px / f, f = sqrt(fx fy)) jointly with the
    centroid offset for p; D = R sqrt(1 + t^2) / t. Uncertainty (first order): sigma_D = D sigma_r / r_px
    along the ray, D sigma_px / f across it (`sigma_radius_px` defaults to `sigma_px`).
    """
    uv = np.atleast_2d(np.asarray(uv_px, float))
    r_px = np.asarray(radius_px, float).reshape(-1)
    f = float(np.sqrt(K[0, 0] * K[1, 1]))
    r_n = r_px / f
    xy = _normalised(uv, K)
    rho_c = np.linalg.norm(xy, axis=1)
    p = rho_c.copy()
    for _ in range(SPHERE_CORRECTION_ITERATIONS):
        t = _tan_half_angle(r_n, p)
        q = t**2
        with np.errstate(invalid="ignore"):
            p = 2 * rho_c / ((1 + q) + np.sqrt((1 + q) ** 2 + 4 * rho_c**2 * q))
    t = _tan_half_angle(r_n, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = radius_m * np.sqrt(1 + t**2) / t
        scale = np.where(rho_c > 0, p / rho_c, 1.0)
    centre_xy = xy * scale[:, None]
    rays_cam = np.concatenate([centre_xy, np.ones((len(uv), 1))], axis=1)
    unit_cam = rays_cam / np.linalg.norm(rays_cam, axis=1, keepdims=True)
    R, C = np.asarray(T_world_camera, float)[:3, :3], np.asarray(T_world_camera, float)[:3, 3]
    unit_world = unit_cam @ R.T
    position = C + distance[:, None] * unit_world
    sigma_px = np.broadcast_to(np.asarray(sigma_px, float), (len(uv),))
    sigma_r = sigma_px if sigma_radius_px is None else np.broadcast_to(np.asarray(sigma_radius_px, float), (len(uv),))
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma_along = distance * sigma_r / r_px
    sigma_across = distance * sigma_px / f
    # covariance = sigma_across^2 (I - u u^T) + sigma_along^2 u u^T; diagonal per world axis
    uu = unit_world**2
    sigma_m = np.sqrt(sigma_across[:, None] ** 2 * (1 - uu) + sigma_along[:, None] ** 2 * uu)
    return position, sigma_m


def _tan_half_angle(r_n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """t = tan(beta) with t (1 + p^2)^(3/4) / (1 - p^2 t^2)^(3/4) = r_n: Newton on y = t^(2/3). The cubic
    F(y) = c p^2 y^3 + (1 + p^2) y^2 - c (c = r_n^(4/3)) is increasing and convex for y > 0, and
    F(sqrt(c / (1 + p^2))) >= 0, so Newton from there decreases monotonically to the root."""
    c = np.asarray(r_n, float) ** (4.0 / 3.0)
    p2 = np.asarray(p, float) ** 2
    y = c**0.5 / np.sqrt(1 + p2)
    for _ in range(NEWTON_ITERATIONS):
        value = c * p2 * y**3 + (1 + p2) * y**2 - c
        slope = 3 * c * p2 * y**2 + 2 * (1 + p2) * y
        with np.errstate(divide="ignore", invalid="ignore"):
            y = y - value / slope
    return y**1.5


def _normalised(uv_px: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(N, 2) pixel coordinates -> normalised image coordinates (x, y) = K^-1 [u, v, 1] (first two)."""
    uv = np.atleast_2d(np.asarray(uv_px, float))
    homogeneous = np.concatenate([uv, np.ones((len(uv), 1))], axis=1)
    return (homogeneous @ np.linalg.inv(K).T)[:, :2]


def _pixels(xy: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(N, 2) normalised image coordinates -> pixels."""
    return xy @ np.asarray(K, float)[:2, :2].T + np.asarray(K, float)[:2, 2]
