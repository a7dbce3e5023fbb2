"""`shadow`: a ball carried at constant speed under a point light casts a moving shadow on the floor.

The rendering cause-and-effect scenario: the ball is the cause, its shadow on the floor the effect.

Scene. A ball of radius r (centre at height h) is carried along +x at constant speed v from
x = -TRAVEL_M/2 to +TRAVEL_M/2 (y = 0) under a spot lamp at (x_L, y_L, H) = (LIGHT_X_M, 0, H)
pointing straight down. The ball is a free body with gravity compensation (`gravcomp="1"`) and no
contacts, launched in `initialize`: no force acts on it, so Euler integration carries it exactly
(the state records x = x_0 + v t, z = h to floating-point precision; no timestep requirement).

Law (geometric optics, point light at height H):
  * shadow of the ball's centre, by similar triangles: x_s = x_L + (x_o - x_L) H / (H - h), and the
    same for y; the shadow moves at v H / (H - h); sizes parallel to the floor are magnified by
    H / (H - h);
  * the ball's whole shadow is the floor section of the cone from the light tangent to the ball: an
    ellipse (`ball_shadow_ellipse`, exact). Its centre is offset from the shadow of the ball's centre
    by about H r^2 tan(alpha) / (H - h)^2 (alpha: tilt of the cone axis from the vertical), at most
    7.7 mm over this domain (0.5 % of the shadow's travel). When the ball passes under the lamp the
    shadow is a circle of radius H r / sqrt((H - h)^2 - r^2), within 0.32 % of r H / (H - h); away from
    it the ellipse stretches along the tilt (its area by up to 17.5 % at the far end of the path);
  * lit-floor pixel values are linear in the lamp intensity s = `light_intensity` (see the lighting
    model below), pixel = ambient_term + s * diffuse_term; nothing saturates.

Lighting model (MuJoCo's fixed-function OpenGL renderer, linear 8-bit output, no gamma):
  floor pixel / 255 = rho * (A + D_head * max(0, n . (-f_cam)) + s * max(0, n . l(p)) * lit(p))
with rho = floor colour (0.42, 0.42, 0.44), A = 0.35 the headlight's ambient, D_head = 0.45 the
headlight's diffuse (a directional light along the camera axis f_cam: zero on the floor for the
rig's horizontal camera), l(p) the unit vector from the floor point p to the lamp, lit(p) = 0 in the
shadow and outside the cone, else 1. The lamp has no ambient, no specular, no distance attenuation
and a flat cone (exponent 0, cutoff LIGHT_CUTOFF_DEG); there is no other light (sun=False). So the
umbra is the ambient floor (0.147 -> 37/255: dark, not black) and the brightest floor is
rho (0.35 + 0.45 + 1) = 0.76 < 1 for any camera orientation: no channel saturates.
`floor_pixel_terms` evaluates the model per pixel; MuJoCo evaluates n . l per vertex of the floor's
render grid and interpolates (Gouraud). On world_mjcf's default 4 m grid the pool of light is a blur
of 4 m cells; FLOOR_GRID_M = 0.35 m follows the per-pixel model closely at a moderate render cost
(a finer grid gains little and costs more). Linearity in s holds at any grid.

Shadow map. MuJoCo renders a spot light's shadow map with a square frustum of full angle
2 * cutoff * shadowscale (0.6) = 72 deg, i.e. +-0.73 H on the floor, which contains every shadow of
this domain (at most 0.69 H from the lamp's foot; checked at import). SHADOW_MAP_SIZE = 1024 texels
gives 2.8-4.3 mm per texel on the floor: the shadow centroid measured from 256x256 frames is then
limited by the pixels, not the texels, and world_mjcf's default 4096 map would only cost render time.

Development measurements behind these settings (accuracy and render cost): docs/twins.md.
"""

from __future__ import annotations

import math
from typing import ClassVar, Mapping

import numpy as np

from realitygap.core.camera import floor_back_projection
from realitygap.core.fitting import FitResult, MeasuredTrack, linear_fit, unmeasured
from realitygap.scenarios.base import (
    InstanceSpec,
    LawQuantity,
    Parameter,
    Params,
    ScenarioSpec,
    body_column,
    colour_parameter,
)
from realitygap.scenarios.hints import SPEED_HINTS, Fact, Hint, hint
from realitygap.scenarios.world import COLOUR_NAMES, FLOOR_RGBA, WorldOptions, cast_shadow, rgba, world_mjcf

BALL_RADIUS_M = 0.08
TRAVEL_M = 0.8
"""The ball moves from x = -TRAVEL_M / 2 to +TRAVEL_M / 2 during the episode."""
LIGHT_X_M = -0.2
"""The lamp is not above the middle of the path, so the law's x_L term is exercised."""
LIGHT_Y_M = 0.0
LIGHT_CUTOFF_DEG = 60.0
SHADOW_MAP_SIZE = 1024
FLOOR_GRID_M = 0.35
"""Render grid of the floor plane (lighting is evaluated per vertex); physics ignores it."""
SPHERE_SLICES, SPHERE_STACKS = 64, 32
"""Tessellation of the rendered ball (MuJoCo's default 28 x 16 casts a smaller shadow; see docs/twins.md)."""
HEADLIGHT_AMBIENT = 0.35
"""Headlight ambient set by `world.world_mjcf` (the only ambient light of the scene)."""
HEADLIGHT_DIFFUSE = 0.45
BALL_DENSITY_KG_M3 = 500.0


class ShadowScenario(ScenarioSpec):
    name: str = "shadow"
    summary: str = "A ball carried at constant speed under a lamp casts a moving shadow on the floor."
    parameters: tuple[Parameter, ...] = (
        Parameter(name="light_height_m", unit="m", low=2.0, high=3.0, default=2.5,
                  description="height H of the point light (spot lamp pointing down) above the floor"),
        Parameter(name="object_height_m", unit="m", low=0.3, high=1.0, default=0.8,
                  description="height h of the ball's centre above the floor"),
        Parameter(name="speed_m_s", unit="m/s", low=0.3, high=1.0, default=0.5,
                  description="constant horizontal speed v of the ball along +x"),
        Parameter(name="light_intensity", unit="", low=0.3, high=1.0, default=0.8,
                  description="lamp intensity s: the light's diffuse colour (s, s, s)"),
        colour_parameter("red", COLOUR_NAMES),
    )
    law: str = ("shadow centre x_s = x_L + (x_o - x_L) H / (H - h) (same for y); shadow speed v H / (H - h); "
                "shadow size magnification H / (H - h); lit-floor pixel = ambient + s * diffuse")
    prompt_template: str = (
        "A {colour} ball of radius " f"{BALL_RADIUS_M:g}" " m is carried horizontally at a constant {speed_m_s:.2f} m/s, "
        "{object_height_m:.2f} m above a grey floor, beneath a single small lamp {light_height_m:.2f} m high "
        "shining straight down at {light_intensity:.0%} brightness. The ball casts a sharp dark shadow on the "
        "floor that moves with it. Static camera, plain light background, dim ambient light."
    )
    prompt_phrases: ClassVar[tuple[str, ...]] = (
        "a lamp casts the shadow of a moving ball on the floor",
        "a ball is carried under a light and its shadow moves",
        "a shadow moves across the floor under a lamp",
        "a light shines down on a ball and casts a shadow",
    )
    """Paraphrases of the scene, besides the summary and the prompt template, for choosing the scenario."""
    param_hints: ClassVar[Mapping[str, tuple[Hint, ...]]] = {
        "speed_m_s": SPEED_HINTS,
        "light_height_m": (hint("lamp", weight=2), hint("light", weight=2), hint("bulb", weight=2),
                           hint("lamp height", weight=2)),
        "object_height_m": (hint("above"), hint("ball"), hint("carried"), hint("held"), hint("height"), hint("high")),
        "light_intensity": (hint("brightness", weight=2), hint("bright"), hint("intensity", weight=2), hint("power")),
    }
    """Per numeric parameter: the keywords that tie a number in a prompt to it."""
    prompt_facts: ClassVar[tuple[Fact, ...]] = (Fact("ball radius", BALL_RADIUS_M, "length", (hint("radius", weight=2),)),)
    """The ball size the prompt template states: a prompt may repeat it, not change it."""
    physical_bounds: ClassVar[Mapping[str, tuple[float, float]]] = {"shadow_magnification": (1.0, math.inf)}
    recovered_params: ClassVar[Mapping[str, tuple[str, float]]] = {
        "speed_m_s": ("speed_m_s", 1.0),
        "object_height_m": ("object_height_m", 1.0),
    }
    instances: tuple[InstanceSpec, ...] = (InstanceSpec(name="ball", body="ball", class_name="ball"),)
    sensor_body: str = "ball"
    event_margin_s: float = 0.0
    """The event is the whole traverse; no margin, so the motion box is the traverse."""

    # --- world ----------------------------------------------------------------------------------
    def build_mjcf(self, params: Params, timestep_s: float) -> str:
        p = self.resolve_params(params)
        options = self.world_options(p)
        light = light_position_m(p)
        s = float(p["light_intensity"])
        lamp = (f'    <light name="lamp" type="spot" pos="{light[0]:.6f} {light[1]:.6f} {light[2]:.6f}" dir="0 0 -1" '
                f'cutoff="{LIGHT_CUTOFF_DEG:g}" exponent="0" attenuation="1 0 0" diffuse="{s:.6g} {s:.6g} {s:.6g}" '
                f'ambient="0 0 0" specular="0 0 0" castshadow="{cast_shadow(options)}"/>')
        x0, h = self._start_x_m(), float(p["object_height_m"])
        ball = (
            f'    <body name="ball" pos="{x0:.6f} 0 {h:.6f}" gravcomp="1">\n'
            f'      <freejoint name="ball_free"/>\n'
            f'      <geom name="ball_geom" type="sphere" size="{BALL_RADIUS_M:g}" density="{BALL_DENSITY_KG_M3:g}" '
            f'rgba="{rgba(str(p["colour"]))}" contype="0" conaffinity="0"/>\n'
            f"    </body>"
        )
        return world_mjcf(self.name, lamp + "\n" + ball, options)

    def scene_options(self, params: Params) -> WorldOptions:
        """Shadows on (a SHADOW_MAP_SIZE map), no sun, a uniform floor with a FLOOR_GRID_M lighting grid,
        spheres tessellated SPHERE_SLICES x SPHERE_STACKS."""
        return super().scene_options(params).model_copy(update={
            "shadows": True, "shadow_map_size": SHADOW_MAP_SIZE, "sun": False, "floor_texture": False,
            "floor_grid_m": FLOOR_GRID_M, "sphere_slices": SPHERE_SLICES, "sphere_stacks": SPHERE_STACKS})

    def initialize(self, params: Params, model, data) -> None:
        data.joint("ball_free").qvel[:3] = (float(params["speed_m_s"]), 0.0, 0.0)

    def contact_settings(self, params: Params, timestep_s: float) -> dict:
        return {"ball": {"contact": "none (contype = conaffinity = 0)", "gravcomp": 1.0,
                         "note": "carried: gravity compensated, launched at v along +x; no force acts"}}

    # --- law ------------------------------------------------------------------------------------
    def declared_law(self, params: Params) -> dict[str, LawQuantity]:
        p = self.resolve_params(params)
        v, mag = float(p["speed_m_s"]), magnification(p)
        return {
            "speed_m_s": LawQuantity(name="speed_m_s", value=v, unit="m/s", description="ball speed along +x"),
            "object_height_m": LawQuantity(name="object_height_m", value=float(p["object_height_m"]), unit="m",
                                        description="height of the ball's centre above the floor"),
            "shadow_speed_m_s": LawQuantity(name="shadow_speed_m_s", value=v * mag, unit="m/s",
                                         description="speed of the shadow centre on the floor, v H / (H - h)"),
            "shadow_magnification": LawQuantity(name="shadow_magnification", value=mag, unit="",
                                             description="shadow size / ball size, H / (H - h)"),
        }

    def law_position(self, params: Params, t_s: np.ndarray) -> np.ndarray:
        p = self.resolve_params(params)
        t = np.asarray(t_s, dtype=float)
        x = self._start_x_m() + float(p["speed_m_s"]) * t
        return np.stack([x, np.zeros_like(t), np.full_like(t, float(p["object_height_m"]))], axis=-1)

    def predict_shadow_centre(self, params: Params, t_s: np.ndarray) -> np.ndarray:
        """(N, 3) law position (similar triangles) of the shadow of the ball's centre on the floor at `t_s`."""
        p = self.resolve_params(params)
        return shadow_point_m(light_position_m(p), self.law_position(p, t_s))

    def duration_s(self, params: Params) -> float:
        return TRAVEL_M / float(self.resolve_params(params)["speed_m_s"]) + self.event_margin_s

    def motion_bounds_m(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        """Box around the ball's path and the floor area its shadow sweeps (so the camera sees both)."""
        p = self.resolve_params(params)
        ends = self.law_position(p, np.array([0.0, self.duration_s(p)]))
        centre, semi_major, semi_minor, _ = ball_shadow_ellipse(light_position_m(p), ends, BALL_RADIUS_M)
        reach = np.maximum(semi_major, semi_minor)[:, None]
        low = np.minimum((ends - BALL_RADIUS_M).min(axis=0), np.r_[(centre - reach).min(axis=0), 0.0])
        high = np.maximum((ends + BALL_RADIUS_M).max(axis=0), np.r_[(centre + reach).max(axis=0), 0.0])
        return low, high

    def measure_image(self, params: Params, rgb: np.ndarray, t_s: np.ndarray, object_mask: np.ndarray, K: np.ndarray,
                      T_world_camera: np.ndarray) -> dict[str, FitResult]:
        return shadow_quantities(self.resolve_params(params), rgb, t_s, object_mask, K, T_world_camera)

    def fit_declared_law(self, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
        return fit_shadow(self, params, tracks)

    def measure_state(self, params: Params, state: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Ball speed (least-squares slope of x(t)) and height from the state; the shadow quantities from
        the recorded centres ray-cast through the lamp onto the floor (geometry of the recorded motion;
        the *rendered* shadow is measured from pixels in tests/scenarios/test_shadow.py)."""
        p = self.resolve_params(params)
        t = body_column(state, "ball", "t_s")
        centres = np.stack([body_column(state, "ball", f"position_{a}_m") for a in "xyz"], axis=1)
        speed = float(np.polyfit(t, centres[:, 0], 1)[0])
        shadow_x = shadow_point_m(light_position_m(p), centres)[:, 0]
        shadow_speed = float(np.polyfit(t, shadow_x, 1)[0])
        return {
            "speed_m_s": speed,
            "object_height_m": float(np.mean(centres[:, 2])),
            "shadow_speed_m_s": shadow_speed,
            "shadow_magnification": shadow_speed / speed,
        }

    @staticmethod
    def _start_x_m() -> float:
        return -TRAVEL_M / 2


# --- geometry and lighting (pure functions, world metres) -------------------------------------------

def light_position_m(params: Params) -> np.ndarray:
    """World position (3,) of the point light."""
    return np.array([LIGHT_X_M, LIGHT_Y_M, float(params["light_height_m"])])


def magnification(params: Params) -> float:
    """H / (H - h): shadow speed / object speed and shadow size / object size."""
    H, h = float(params["light_height_m"]), float(params["object_height_m"])
    return H / (H - h)


def shadow_point_m(light_m: np.ndarray, points_m: np.ndarray) -> np.ndarray:
    """(N, 3) floor points (z = 0) where rays from `light_m` through `points_m` (N, 3) meet the floor.

    Similar triangles: p_s = L + (p - L) L_z / (L_z - p_z), for points below the light.
    """
    L, P = np.asarray(light_m, float), np.atleast_2d(np.asarray(points_m, float))
    scale = L[2] / (L[2] - P[:, 2])
    out = L + (P - L) * scale[:, None]
    out[:, 2] = 0.0
    return out


def ball_shadow_ellipse(light_m: np.ndarray, centres_m: np.ndarray, radius_m: float
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact shadow of a ball on the floor z = 0 under a point light: an ellipse (conic section of the
    cone from the light tangent to the ball).

    Returns the centres (N, 2) in metres, semi-major (N,) and semi-minor (N,) axes in metres and the
    unit major-axis directions (N, 2). With alpha the angle of the cone axis from the downward
    vertical and beta = asin(r / |C - L|) its half-angle, the major axis lies along the horizontal
    direction e of C - L; the extreme rays at alpha +- beta give
      centre = L_xy + H (tan(alpha + beta) + tan(alpha - beta)) / 2 e,
      a = H (tan(alpha + beta) - tan(alpha - beta)) / 2,  b = H sin(beta) / sqrt(cos(alpha - beta) cos(alpha + beta)).
    """
    L, C = np.asarray(light_m, float), np.atleast_2d(np.asarray(centres_m, float))
    H = L[2]
    w = C - L
    rho = np.hypot(w[:, 0], w[:, 1])
    beta = np.arcsin(radius_m / np.linalg.norm(w, axis=1))
    alpha = np.arctan2(rho, -w[:, 2])
    safe = np.where(rho > 0, rho, 1.0)
    e = np.where((rho > 0)[:, None], w[:, :2] / safe[:, None], np.array([1.0, 0.0]))
    t_plus, t_minus = np.tan(alpha + beta), np.tan(alpha - beta)
    centre = L[:2] + (H * (t_plus + t_minus) / 2)[:, None] * e
    semi_major = H * (t_plus - t_minus) / 2
    semi_minor = H * np.sin(beta) / np.sqrt(np.cos(alpha - beta) * np.cos(alpha + beta))
    return centre, semi_major, semi_minor, e


def floor_pixel_terms(params: Params, floor_points_m: np.ndarray, camera_forward: tuple[float, float, float] = (0.0, 1.0, 0.0)
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Lighting model of the lit floor, per RGB channel in 8-bit units: (ambient_term (N, 3), diffuse_term (N, 3))
    such that pixel = ambient_term + s * diffuse_term at floor points (N, 3) in the lamp's cone and
    outside the shadow (per-pixel evaluation; MuJoCo interpolates per vertex, see the module docstring).
    `camera_forward` is the world direction of the optical axis (the headlight's direction)."""
    P = np.atleast_2d(np.asarray(floor_points_m, float))
    rho = np.array(FLOOR_RGBA[:3])
    normal = np.array([0.0, 0.0, 1.0])
    head = HEADLIGHT_AMBIENT + HEADLIGHT_DIFFUSE * max(0.0, float(-normal @ np.asarray(camera_forward, float)))
    to_light = light_position_m(params) - P
    cos_in = np.clip(to_light @ normal / np.linalg.norm(to_light, axis=1), 0.0, None)
    ambient = np.broadcast_to(255.0 * rho * head, (len(P), 3))
    diffuse = 255.0 * cos_in[:, None] * rho
    return ambient, diffuse


# --- the shadow measured from RGB ------------------------------------------------------------------
SHADOW_DEPTH_RANK = 5
MIN_SHADOW_LEVELS = 8.0
"""Darkening (8-bit grey levels) below which a frame shows no shadow."""


def shadow_quantities(params: Params, rgb: np.ndarray, t_s: np.ndarray, object_mask: np.ndarray, K: np.ndarray,
                      T_world_camera: np.ndarray) -> dict[str, FitResult]:
    """Shadow speed (slope of the shadow centroid's x(t), least squares) and magnification (shadow
    radius / ball radius in the frame where the ball is nearest above the lamp's foot point)."""
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
    with np.errstate(invalid="ignore", divide="ignore"):  # a frame without shadow has no centroid (NaN)
        centre = np.einsum("thw,hwk->tk", weight, xy) / area[:, None]
    return centre, area, depth


def _check_domain_fits_shadow_frustum() -> None:
    """The worst-case shadow (lowest lamp, highest ball, far end of the path) lies inside the spot's
    shadow-map frustum (half-angle cutoff * 0.6): fail loudly at import if a constant is changed."""
    H, h = 2.0, 1.0
    far_x = max(abs(-TRAVEL_M / 2 - LIGHT_X_M), abs(TRAVEL_M / 2 - LIGHT_X_M))
    reach = far_x * H / (H - h) + 1.1 * BALL_RADIUS_M * H / (H - h)
    assert math.atan2(reach, H) < math.radians(LIGHT_CUTOFF_DEG * 0.6), "shadow leaves the shadow-map frustum"


_check_domain_fits_shadow_frustum()


# --- law fit on tracks measured from pixels --------------------------------------------------------

def fit_shadow(spec: ScenarioSpec, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
    """Minimal: the carried ball's speed (slope of x(t)) and height (z = constant), one joint linear
    fit. The shadow's speed and magnification need the shadow tracked (it is not an instance; see
    tests/scenarios/test_shadow.py for a pixel measurement): NaN with a note."""
    t, x, sx = tracks["ball"].axis(0)
    _, z, sz = tracks["ball"].axis(2)
    note = "the shadow is not a tracked instance: not measured here"
    out = {k: FitResult(float("nan"), u, float("nan"), float("nan"), "", 0, float("nan"), "", note)
           for k, u in (("shadow_speed_m_s", "m/s"), ("shadow_magnification", ""))}
    if len(t) < 3:
        return {**out, **unmeasured({"speed_m_s": "m/s", "object_height_m": "m"}, "fewer than 3 frames")}
    zeros, ones = np.zeros_like(t), np.ones_like(t)
    design = np.block([[np.stack([ones, t, zeros], axis=1)], [np.stack([zeros, zeros, ones], axis=1)]])
    fit = linear_fit(design, np.r_[x, z], np.r_[sx, sz], "m", "x = x0 + v t, z = h")
    out.update(fit.derive(lambda c: {"speed_m_s": c[1], "object_height_m": c[2]},
                          {"speed_m_s": "m/s", "object_height_m": "m"}))
    return out

