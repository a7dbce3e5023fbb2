"""The shadow on the floor, measured from RGB (for the `shadow` scenario's law).

Floor pixels are back-projected to z = 0 with the calibration; the shadow is the darkening against
the shadow-free background (per-pixel median over time), weighted by each pixel's floor area so that
perspective does not bias the centroid. Registered in `IMAGE_MEASUREMENTS`, which the measurement
pipeline applies after the track-based law fit.
"""

from __future__ import annotations

import math

import numpy as np

from realitygap.measure.laws import FitResult

SHADOW_DEPTH_RANK = 5
MIN_SHADOW_LEVELS = 8.0
"""Darkening (8-bit grey levels) below which a frame shows no shadow."""


def floor_back_projection(K: np.ndarray, T_world_camera: np.ndarray, width: int, height: int
                          ) -> tuple[np.ndarray, np.ndarray]:
    """World points (H, W, 3) where each pixel centre's ray meets the floor z = 0 (NaN where it does
    not, above the horizon) and each pixel's floor area (H, W) in m^2 (from its four corners)."""
    rows, cols = np.mgrid[0:height, 0:width].astype(float)

    def hit(u, v):
        rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1) @ T_world_camera[:3, :3].T
        with np.errstate(divide="ignore", invalid="ignore"):
            reach = -T_world_camera[2, 3] / rays[..., 2]
        points = T_world_camera[:3, 3] + reach[..., None] * rays
        return np.where((rays[..., 2] < 0)[..., None], points, np.nan)

    corners = [hit(cols + du, rows + dv) for du, dv in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5))]
    x, y = np.stack([c[..., 0] for c in corners]), np.stack([c[..., 1] for c in corners])
    area = 0.5 * np.abs(np.sum(x * np.roll(y, -1, axis=0) - np.roll(x, -1, axis=0) * y, axis=0))  # shoelace
    return hit(cols, rows), area


def measure_shadow(rgb: np.ndarray, segmentation: np.ndarray, K: np.ndarray, T_world_camera: np.ndarray,
                   region_centre_m: np.ndarray, region_radius_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shadow centroid (N, 2) on the floor in world metres, shadow area (N,) in m^2 and shadow depth (N,)
    in grey levels (the 5th-largest darkening of a floor pixel below the background), per frame.

    Floor pixels (ray meets z = 0 within `region_radius_m` of `region_centre_m`, not the object) are
    compared with the shadow-free background (per-pixel median over time: the moving shadow covers
    any pixel in < 25 % of the frames). Weight w = (background - pixel) / (background - umbra) in
    [0, 1], the umbra being the deep-shadow level; w counts partly covered (anti-aliased) edge
    pixels fractionally. Each pixel contributes its floor area, so perspective does not bias the
    centroid: centre = sum(w A p) / sum(w A), area = sum(w A).
    """
    gray = rgb.astype(float).mean(axis=-1)
    points, pixel_area = floor_back_projection(K, T_world_camera, gray.shape[2], gray.shape[1])
    with np.errstate(invalid="ignore"):
        near = np.hypot(points[..., 0] - region_centre_m[0], points[..., 1] - region_centre_m[1]) < region_radius_m
    floor = near & np.isfinite(pixel_area)
    background = np.median(gray, axis=0)
    drop = np.where(floor & (segmentation == 0), background - gray, 0.0)
    floor_drop = drop.reshape(len(drop), -1)[:, floor.ravel()]
    k = min(SHADOW_DEPTH_RANK, floor_drop.shape[1])
    depth = -np.partition(-floor_drop, k - 1, axis=1)[:, k - 1] if k else np.zeros(len(drop))
    if drop.max() <= 0:
        return np.full((len(drop), 2), np.nan), np.zeros(len(drop)), depth
    umbra = float(np.median(gray[drop > 0.7 * drop.max()]))
    weight = np.clip(drop / np.maximum(background - umbra, 1e-9), 0.0, 1.0) * np.where(floor, pixel_area, 0.0)
    xy = np.where(floor[..., None], points[..., :2], 0.0)
    area = weight.sum(axis=(1, 2))
    centre = np.einsum("thw,hwk->tk", weight, xy) / area[:, None]
    return centre, area, depth


def shadow_quantities(params: dict, rgb: np.ndarray, t_s: np.ndarray, object_mask: np.ndarray, K: np.ndarray,
                      T_world_camera: np.ndarray) -> dict[str, FitResult]:
    """Shadow speed (slope of the shadow centroid's x(t), least squares) and magnification (shadow
    radius / ball radius in the frame where the ball is nearest above the lamp's foot point)."""
    from realitygap.scenarios.shadow import BALL_RADIUS_M, LIGHT_CUTOFF_DEG, light_position_m

    light = light_position_m(params)
    lit_radius = 0.8 * light[2] * math.tan(math.radians(LIGHT_CUTOFF_DEG))
    centre, area, depth = measure_shadow(rgb, object_mask.astype(np.uint16), K, T_world_camera, light[:2], lit_radius)
    contrast = FitResult(float(np.median(depth)), "levels", math.nan, math.nan, "", 0, math.nan,
                         "median over frames of the 5th-largest darkening of a lit-floor pixel below its background",
                         f"below {MIN_SHADOW_LEVELS:g} levels: no shadow")
    ok = np.isfinite(centre[:, 0]) & (area > 0) & (depth >= MIN_SHADOW_LEVELS)
    if ok.sum() < 3:
        note = f"fewer than 3 frames with a shadow (darkening >= {MIN_SHADOW_LEVELS:g} grey levels)"
        return {**{k: FitResult(math.nan, u, math.nan, math.nan, "m", 0, math.nan, "shadow", note)
                   for k, u in (("shadow_speed_m_s", "m/s"), ("shadow_magnification", ""))}, "shadow_contrast": contrast}
    t, x = np.asarray(t_s)[ok], centre[ok, 0]
    coef, cov = np.polyfit(t, x, 1, cov=True)
    residual = x - np.polyval(coef, t)
    rms = float(np.sqrt(np.mean(residual**2)))
    under = int(np.argmin(np.abs(x - light[0])))
    magnification = math.sqrt(area[ok][under] / math.pi) / BALL_RADIUS_M
    return {
        "shadow_speed_m_s": FitResult(float(coef[0]), "m/s", float(math.sqrt(cov[0, 0])), rms, "m", int(ok.sum() - 2),
                                      math.nan, "line fit of the shadow centroid on the floor"),
        "shadow_magnification": FitResult(magnification, "", math.nan, math.nan, "", 0, math.nan,
                                          "shadow radius / ball radius with the shadow nearest the lamp's foot"),
        "shadow_contrast": contrast,
    }


IMAGE_MEASUREMENTS = {"shadow": shadow_quantities}
"""Scenario name -> measurement from the image itself (quantities that are not an object's track)."""
