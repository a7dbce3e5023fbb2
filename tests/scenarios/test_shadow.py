"""`shadow`: the ground-truth state obeys the law, and the *rendered* shadow obeys it too.

State: the carried ball moves at exactly v at exactly h (no force acts; tolerance 1e-6 relative).
Image: the shadow is detected in rendered 256x256 frames (floor pixels darker than the shadow-free
background, soft-weighted by how far they drop towards the umbra), back-projected to the floor z = 0
with the stored calibration, and compared with the law: centroid within 8 mm (x) / 12 mm (y) of
the exact ellipse centre and within 2 % of the shadow's travel of the similar-triangles point,
shadow speed within 2 % of v H / (H - h), size magnification under the lamp within 3 % of
H / (H - h). Lighting: the lit floor is linear in the lamp intensity (residual < 2 % of the range).

The pixel measurement is the scenario's own (`measure_shadow`, `ShadowScenario.measure_image`), on
the camera model's floor back-projection (`realitygap.core.camera.floor_back_projection`).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from realitygap.core.camera import floor_back_projection
from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.episode.io import read_episode
from realitygap.episode.types import Context
from realitygap.scenarios import get_scenario
from realitygap.scenarios.shadow import (
    BALL_RADIUS_M,
    LIGHT_CUTOFF_DEG,
    TRAVEL_M,
    ball_shadow_ellipse,
    floor_pixel_terms,
    light_position_m,
    magnification,
    measure_shadow,
    shadow_point_m,
)
from realitygap.sim.runner import simulate_episode
from tests.helpers import VISUAL_RIG, assert_whole_and_distinct, edit_mjcf, simulate_to, simulated_state

IMAGE_RIG = RigConfig(sensors=("rgb", "segmentation"), camera=CameraConfig(width=512, height=512))
"""512 px: at the default 256 px the low-camera corner's shadow is 3-4 px tall and its measured area
8 % short (pixel-limited); see test_rendered_shadow_obeys_the_law."""
RIG_256 = RigConfig(sensors=("rgb", "segmentation"), camera=CameraConfig(width=256, height=256))

STATE_POINTS = [
    {"light_height_m": 2.0, "object_height_m": 1.0, "speed_m_s": 1.0, "light_intensity": 0.3},
    {"light_height_m": 3.0, "object_height_m": 0.3, "speed_m_s": 0.3, "light_intensity": 1.0},
    {"light_height_m": 2.5, "object_height_m": 0.8, "speed_m_s": 0.5, "light_intensity": 0.8},
    {"light_height_m": 2.2, "object_height_m": 0.45, "speed_m_s": 0.8, "light_intensity": 0.5},
    {"light_height_m": 2.8, "object_height_m": 0.95, "speed_m_s": 0.4, "light_intensity": 0.65},
]
IMAGE_POINTS = [  # the strongest and the weakest magnification
    {"light_height_m": 2.0, "object_height_m": 1.0, "speed_m_s": 1.0, "light_intensity": 0.6, "colour": "blue"},
    {"light_height_m": 3.0, "object_height_m": 0.3, "speed_m_s": 0.6, "light_intensity": 0.4, "colour": "orange"},
]


def _state(tmp_path, params, spec=None):
    return simulated_state(tmp_path, "shadow", params, spec)


# --- ground-truth state ------------------------------------------------------------------------------

@pytest.mark.parametrize("params", STATE_POINTS, ids=lambda p: f"H{p['light_height_m']}-h{p['object_height_m']}-v{p['speed_m_s']}")
def test_state_obeys_the_law(tmp_path, params):
    spec = get_scenario("shadow")
    state = _state(tmp_path, params)
    measured, predicted = spec.measure_state(params, state), spec.declared_law(params)
    assert set(measured) == set(predicted)
    for key, quantity in predicted.items():
        assert measured[key] == pytest.approx(quantity.value, rel=1e-6), key
    t = state["t_s"]
    recorded = np.stack([state[f"position_{a}_m"] for a in "xyz"], axis=1)
    assert np.abs(recorded - spec.law_position(params, t)).max() < 1e-6  # metres
    assert t[-1] == pytest.approx(spec.duration_s(params), abs=1e-3)


def test_law_position_and_shadow_are_consistent_with_predict():
    spec = get_scenario("shadow")
    params = spec.resolve_params({"light_height_m": 2.4, "object_height_m": 0.7, "speed_m_s": 0.6})
    H, h, v = 2.4, 0.7, 0.6
    t = np.linspace(0.0, spec.duration_s(params), 7)
    ball = spec.law_position(params, t)
    assert np.polyfit(t, ball[:, 0], 1)[0] == pytest.approx(v, rel=1e-12) and spec.declared_law(params)["speed_m_s"].value == v
    assert ball[[0, -1], 0] == pytest.approx([-TRAVEL_M / 2, TRAVEL_M / 2])
    assert ball[:, 2] == pytest.approx(np.full(7, h)) and ball[:, 1] == pytest.approx(np.zeros(7))
    shadow = spec.predict_shadow_centre(params, t)
    x_light = light_position_m(params)[0]
    assert shadow[:, 0] == pytest.approx(x_light + (ball[:, 0] - x_light) * H / (H - h), rel=1e-12)
    assert np.polyfit(t, shadow[:, 0], 1)[0] == pytest.approx(spec.declared_law(params)["shadow_speed_m_s"].value, rel=1e-12)
    assert spec.declared_law(params)["shadow_magnification"].value == pytest.approx(H / (H - h))
    low, high = spec.motion_bounds_m(params)
    centre, a, b, _ = ball_shadow_ellipse(light_position_m(params), ball, BALL_RADIUS_M)
    assert np.all(low[:2] <= centre - np.c_[a, b]) and np.all(centre + np.c_[a, b] <= high[:2])
    assert low[2] == 0.0 and high[2] == pytest.approx(h + BALL_RADIUS_M)


def test_ball_shadow_ellipse_is_the_section_of_the_tangent_cone():
    light = np.array([-0.2, 0.1, 2.3])
    centre_ball = np.array([[0.35, -0.05, 0.9]])
    centre, a, b, e = ball_shadow_ellipse(light, centre_ball, BALL_RADIUS_M)
    axis = centre_ball[0] - light
    half_angle = math.asin(BALL_RADIUS_M / np.linalg.norm(axis))
    normal = np.array([-e[0, 1], e[0, 0]])
    for point in (centre[0] + a[0] * e[0], centre[0] - a[0] * e[0], centre[0] + b[0] * normal, centre[0] - b[0] * normal):
        ray = np.r_[point, 0.0] - light
        angle = math.acos(ray @ axis / np.linalg.norm(ray) / np.linalg.norm(axis))
        assert angle == pytest.approx(half_angle, abs=1e-12)
    # Under the lamp: a circle of radius H r / sqrt((H - h)^2 - r^2); the centre's shadow is a few mm off elsewhere.
    _, a0, b0, _ = ball_shadow_ellipse(light, np.array([[light[0], light[1], 0.9]]), BALL_RADIUS_M)
    assert a0[0] == pytest.approx(b0[0]) and a0[0] == pytest.approx(2.3 * BALL_RADIUS_M / math.sqrt(1.4**2 - BALL_RADIUS_M**2))
    assert np.linalg.norm(centre[0] - shadow_point_m(light, centre_ball)[0, :2]) < 0.008


def test_gravity_acting_on_the_ball_is_caught_by_the_law_check(tmp_path):
    """Negative control: without gravity compensation the 'carried' ball falls (through the floor:
    it has no contacts); its measured height is off by far more than the tolerance."""
    spec = get_scenario("shadow")
    params = {"light_height_m": 2.5, "object_height_m": 0.8, "speed_m_s": 1.0}

    class DroppedBall(type(spec)):
        def build_mjcf(self, params, timestep_s):
            return edit_mjcf(super().build_mjcf(params, timestep_s), lambda spec: setattr(spec.body("ball"), "gravcomp", 0.0))

    measured = spec.measure_state(params, _state(tmp_path, params, DroppedBall()))
    duration = spec.duration_s(params)
    mean_fall = spec.gravity_m_s2 * duration**2 / 6  # mean of g t^2 / 2 over the episode
    assert measured["object_height_m"] == pytest.approx(0.8 - mean_fall, rel=0.01)
    assert abs(measured["object_height_m"] / 0.8 - 1) > 0.5
    assert measured["speed_m_s"] == pytest.approx(1.0, rel=1e-6)  # gravity does not touch x


def test_world_lighting_is_as_documented():
    """The lighting model's constants are those of the compiled world: one shadow-casting spot lamp of
    diffuse s, no other light but the headlight, the shadow map and floor grid of the module."""
    from realitygap.core.mj import mujoco
    from realitygap.scenarios import shadow

    spec = get_scenario("shadow")
    params = spec.resolve_params({"light_intensity": 0.45, "light_height_m": 2.7})
    model = mujoco.MjModel.from_xml_string(spec.build_mjcf(params, 1e-3))
    assert model.nlight == 1 and bool(model.light_castshadow[0])
    assert model.light_diffuse[0] == pytest.approx([0.45] * 3) and not model.light_ambient[0].any()
    assert not model.light_specular[0].any() and model.light_attenuation[0] == pytest.approx([1, 0, 0])
    assert model.light_pos[0] == pytest.approx(light_position_m(params))
    assert model.vis.headlight.ambient == pytest.approx([shadow.HEADLIGHT_AMBIENT] * 3)
    assert model.vis.headlight.diffuse == pytest.approx([shadow.HEADLIGHT_DIFFUSE] * 3)
    assert model.vis.quality.shadowsize == shadow.SHADOW_MAP_SIZE
    assert model.geom_size[model.geom("floor").id][2] == pytest.approx(shadow.FLOOR_GRID_M)
    assert model.body_gravcomp[model.body("ball").id] == 1.0


# --- rendered shadow -------------------------------------------------------------------------------

def _rendered_shadow(episode, spec, params):
    p = spec.resolve_params(params)
    light = light_position_m(p)
    lit_radius = 0.8 * light[2] * math.tan(math.radians(LIGHT_CUTOFF_DEG))
    centre, area, _ = measure_shadow(episode.videos["rgb"], episode.videos["segmentation"], episode.K,
                                  episode.T_world_camera, light[:2], lit_radius)
    return episode.video_t_s["rgb"], centre, area


@pytest.mark.parametrize("params", IMAGE_POINTS, ids=lambda p: f"magnification{magnification(p):.2f}")
def test_rendered_shadow_obeys_the_law(tmp_path, params):
    spec = get_scenario("shadow")
    p = spec.resolve_params(params)
    episode = read_episode(simulate_to(tmp_path, "shadow", p, rig=IMAGE_RIG), streams=("rgb", "segmentation"))
    t, centre, area = _rendered_shadow(episode, spec, p)
    light, mag = light_position_m(p), magnification(p)
    ball = spec.law_position(p, t)
    exact, a, b, _ = ball_shadow_ellipse(light, ball, BALL_RADIUS_M)
    law = spec.predict_shadow_centre(p, t)[:, :2]
    travel = TRAVEL_M * mag

    assert np.abs(centre[:, 0] - exact[:, 0]).max() < 0.008  # measured <= 4 mm (x is across the image)
    assert np.abs(centre[:, 1] - exact[:, 1]).max() < 0.012  # measured <= 8 mm (y is seen at a grazing angle)
    assert np.abs(centre - law).max() < 0.02 * travel  # similar triangles: measured <= 0.7 % of the travel

    shadow_speed = np.polyfit(t, centre[:, 0], 1)[0]
    assert shadow_speed == pytest.approx(spec.declared_law(p)["shadow_speed_m_s"].value, rel=0.02)  # measured <= 0.5 %

    under = int(np.argmin(np.abs(ball[:, 0] - light[0])))  # the shadow is a circle when the ball is under the lamp
    assert math.sqrt(area[under] / math.pi) / BALL_RADIUS_M == pytest.approx(mag, rel=0.03)  # measured <= 1 %
    assert area / (math.pi * a * b) == pytest.approx(np.ones(len(t)), abs=0.05)  # the whole ellipse, every frame


def test_misplaced_lamp_is_caught_in_the_image(tmp_path):
    """Negative control: the lamp rendered 0.5 m higher than the law assumes; the shadow measured in
    the frames moves 17 % slower than the law says (> 8x the 2 % tolerance)."""
    spec = get_scenario("shadow")
    params = spec.resolve_params({"light_height_m": 2.0, "object_height_m": 1.0, "speed_m_s": 1.0})

    class HighLamp(type(spec)):
        def build_mjcf(self, params, timestep_s):
            def higher(spec):
                spec.light("lamp").pos[2] = 2.5

            return edit_mjcf(super().build_mjcf(params, timestep_s), higher)

    assert HighLamp().build_mjcf(params, 1e-3) != spec.build_mjcf(params, 1e-3)
    simulate_episode(Context(scenario="shadow", params=params, seed=0, rig=RIG_256), HighLamp(), tmp_path / "ep")
    episode = read_episode(tmp_path / "ep", streams=("rgb", "segmentation"))
    t, centre, _ = _rendered_shadow(episode, spec, params)
    ratio = np.polyfit(t, centre[:, 0], 1)[0] / spec.declared_law(params)["shadow_speed_m_s"].value
    assert ratio == pytest.approx((2.5 / 1.5) / 2.0, rel=0.02)
    assert abs(ratio - 1) > 0.15


def test_lit_floor_is_linear_in_light_intensity(tmp_path):
    """The same context at three intensities: every lit-floor pixel fits ambient + s * diffuse within
    2 % of its range (measured < 1 %: 8-bit rounding); the intercept is the headlight's ambient term."""
    spec = get_scenario("shadow")
    context = {"light_height_m": 2.2, "object_height_m": 0.6, "speed_m_s": 1.0, "colour": "green"}
    intensities = np.array([0.3, 0.65, 1.0])
    backgrounds = []
    for s in intensities:
        episode = read_episode(simulate_to(tmp_path, "shadow", {**context, "light_intensity": s}, rig=VISUAL_RIG),
                               streams=("rgb",))
        backgrounds.append(np.median(episode.videos["rgb"].astype(float), axis=0))  # shadow-free floor
    p = spec.resolve_params(context)
    points, _ = floor_back_projection(episode.K, episode.T_world_camera, 96, 96)
    light = light_position_m(p)
    with np.errstate(invalid="ignore"):
        lit = np.hypot(points[..., 0] - light[0], points[..., 1] - light[1]) < 0.8 * light[2] * math.tan(math.radians(LIGHT_CUTOFF_DEG))
    assert lit.sum() > 1000
    values = np.stack([b[lit] for b in backgrounds])  # (3 intensities, N pixels, RGB)
    design = np.stack([np.ones(3), intensities], axis=1)
    coef, *_ = np.linalg.lstsq(design, values.reshape(3, -1), rcond=None)
    residual = np.abs(values.reshape(3, -1) - design @ coef)
    span = coef[1] * (intensities[-1] - intensities[0])
    assert span.min() > 20  # 8-bit levels: the lamp is clearly seen
    assert np.max(residual / span) < 0.02
    assert values.max() < 250  # nothing saturates

    ambient, diffuse = floor_pixel_terms(p, points[lit], camera_forward=episode.T_world_camera[:3, 2])
    intercept = coef[0].reshape(-1, 3)
    assert np.abs(intercept.mean(axis=0) - ambient[0]).max() < 1.0  # 37.5 / 39.3, rounded by the 8-bit output
    assert np.abs(intercept - ambient).max() < 2.5  # per pixel: three rounded values extrapolated to s = 0
    ratio = coef[1].reshape(-1, 3) / diffuse  # per-vertex (Gouraud) lighting on a 0.35 m floor grid
    assert 0.95 < ratio.min() and ratio.max() < 1.04


# --- visibility ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    {"light_height_m": 2.0, "object_height_m": 1.0, "speed_m_s": 1.0, "light_intensity": 1.0, "colour": "yellow"},
    {"light_height_m": 3.0, "object_height_m": 0.3, "speed_m_s": 0.9, "light_intensity": 0.3, "colour": "green"},
])
def test_ball_whole_in_every_frame_and_distinct_from_the_scene(tmp_path, params):
    episode = read_episode(simulate_to(tmp_path, "shadow", params, rig=VISUAL_RIG))
    assert_whole_and_distinct(episode, "ball")  # the scene: background, lit floor, umbra
