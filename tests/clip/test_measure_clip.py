"""`realitygap measure-clip` on clips rendered here with a rig the measurement code does not know.

Tolerances: issue 5's (g 3 %, restitution 4 %, period 2 %) widened by a stated allowance:
- +1 % for g with a known scale (H.264 at another size and rate, motion blur, noise, relighting);
- +2 % for g with the scale from the object's apparent size (measured 0.997-1.014 x the true px/m on
  these clips; any error of the scale goes straight into g);
- +2 % for the restitution (contact level from where arcs meet, not a known floor).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from realitygap.clip.measure import ClipOptions, measure_clip
from realitygap.clip.probe import _times, read_clip
from realitygap.episode.video import VideoProbe
from realitygap.measure.tracking import ObjectSeed, track_objects
from realitygap.scenarios import get_scenario
from realitygap.scenarios.world import COLOURS_RGBA
from tests.clip.clips import motion_blur, paint_disc, relight, render
from tests.helpers import run_cli, write_mp4

G = 9.81
G_KNOWN_SCALE = 0.03 + 0.01
G_APPARENT_SIZE = 0.03 + 0.02
E_TOL = 0.04 + 0.02
PERIOD_TOL = 0.02


@pytest.fixture(scope="module")
def drop_render():
    """A blue ball dropped 1.2 m, 224x160 px (wide), fovy 55 deg, rendered at 120 fps; and its camera."""
    camera = {}
    frames, params, px_per_m = render("drop", {"height_m": 1.2, "radius_m": 0.08, "colour": "blue"}, 224, 160, 120,
                                      fovy_deg=55, duration_s=0.9, camera_out=camera)
    return frames, params, px_per_m, camera


@pytest.fixture(scope="module")
def drop_mp4(drop_render, tmp_path_factory):
    """60 fps with a 1/60 s exposure (motion blur), relit, noisy, H.264 at 320x228."""
    frames, params, px_per_m, _ = drop_render
    clip = relight(motion_blur(frames, 2), gain=0.8, gamma=1.2, noise_sigma=3.0, seed=1)
    path = write_mp4(tmp_path_factory.mktemp("drop") / "drop.mp4", clip, 60, size=(320, 228))
    return path, params, px_per_m * 228 / 160


def test_drop_g_with_known_scale_and_apparent_size(drop_mp4, tmp_path, capsys):
    path, params, px_per_m = drop_mp4
    code, out, err = run_cli(["measure-clip", path, "--law", "drop", "--scale", px_per_m, "--out", tmp_path / "a"], capsys)
    assert code == 0, err
    data = json.loads((tmp_path / "a" / "clip.json").read_text())
    g = data["quantities"]["g_m_s2"]
    assert abs(g["value"] / G - 1) < G_KNOWN_SCALE
    assert 0 < g["uncertainty"] < 0.1 * G
    assert abs(data["quantities"]["g_direction_deg"]["value"]) < 2.0
    assert "impact" in data["window"]["ended"]
    assert out.strip().startswith("g = ") and "drop" in out and out.count("\n") == 1
    assert (tmp_path / "a" / "clip.html").is_file() and (tmp_path / "a" / "clip_fit.png").is_file()

    by_size = measure_clip(path, ClipOptions(law="drop", object_diameter_m=2 * params["radius_m"], object="auto"))
    assert abs(by_size.fit.quantities["g_m_s2"].value / G - 1) < G_APPARENT_SIZE
    assert by_size.scale.origin == "scale from object diameter"
    assert "auto" in by_size.object_method
    in_roi = measure_clip(path, ClipOptions(law="drop", object_diameter_m=2 * params["radius_m"], roi=(100, 0, 120, 228)))
    assert in_roi.fit.quantities["g_m_s2"].value == pytest.approx(by_size.fit.quantities["g_m_s2"].value, rel=0.01)
    assert np.nanmin(in_roi.track.centroid_px[:, 0]) > 100


def test_drop_with_a_calibration_file(drop_render, drop_mp4, tmp_path):
    camera = drop_render[3]
    calibration = tmp_path / "camera.json"
    calibration.write_text(json.dumps({k: camera[k] for k in ("fx_px", "fy_px", "cx_px", "cy_px", "width_px", "height_px",
                                                              "T_world_camera")}))
    result = measure_clip(drop_mp4[0], ClipOptions(law="drop", calibration=calibration, object_diameter_m=None))
    assert result.scale.origin == "scale from calibration file camera.json"
    assert abs(result.fit.quantities["g_m_s2"].value / G - 1) < G_KNOWN_SCALE


def test_drop_with_late_distractor_stops_where_the_residual_jumps(drop_render):
    frames, params, px_per_m, _ = drop_render
    clip = motion_blur(frames, 2)
    t_s = np.arange(len(clip)) / 60
    track = track_objects(clip, t_s, [ObjectSeed("ball", rgb=COLOURS_RGBA["blue"][:3])])[0]
    ball = track.centroid_px
    colour = tuple(int(v) for v in clip[0][tuple(np.round(ball[0, ::-1]).astype(int))])
    r = float(np.nanmedian(track.radius_px))
    impact = int(np.nanargmax(ball[:, 1]))
    enter = impact - 10
    offset = np.full((len(clip), 2), np.nan)
    k = np.arange(enter, len(clip))
    offset[k, 0] = np.maximum(6 * r - (k - enter) * r, 1.5 * r)  # a same-coloured disc slides in beside the ball
    offset[k, 1] = 0.0
    painted = paint_disc(clip, ball + offset, r, colour)
    result = measure_clip(_mp4(painted, 60, "distractor.mp4"), ClipOptions(law="drop", scale_px_per_m=px_per_m, object="blue"))
    # the merged silhouette (twice the ball's area) is not measured; or its pull shows in the residual
    assert any("residual jumps" in n or "merged with another object" in n for n in result.fit.notes), result.fit.notes
    assert result.fit.window["last_frame"] < impact - 2
    assert abs(result.fit.quantities["g_m_s2"].value / G - 1) < G_KNOWN_SCALE


def test_slow_motion_clip_is_measured_on_the_capture_rate(drop_render, tmp_path, capsys):
    frames, params, px_per_m, _ = drop_render
    path = write_mp4(tmp_path / "slowmo.mp4", frames, 30, container_metadata={"com.android.capture.fps": "120.000000"})
    code, out, err = run_cli(["measure-clip", path, "--law", "drop", "--scale", px_per_m, "--out", tmp_path / "o"], capsys)
    assert code == 0, err
    assert "120 fps from capture-rate metadata com.android.capture.fps" in out
    assert "slow motion" in err
    data = json.loads((tmp_path / "o" / "clip.json").read_text())
    assert data["time_base"]["fps_used"] == 120 and data["time_base"]["container_fps"] == 30
    assert abs(data["quantities"]["g_m_s2"]["value"] / G - 1) < G_KNOWN_SCALE
    # an explicit --fps wins (here a wrong one: g scales with fps^2)
    wrong = measure_clip(path, ClipOptions(law="drop", scale_px_per_m=px_per_m, fps=30.0))
    assert wrong.timebase.rate_from == "--fps"
    assert abs(wrong.fit.quantities["g_m_s2"].value / (G / 16) - 1) < G_KNOWN_SCALE


def test_bounce_without_scale_returns_ratios_and_refuses_g(tmp_path, capsys):
    frames, params, _ = render("bounce", {"height_m": 0.6, "restitution": 0.75, "radius_m": 0.06, "colour": "yellow"},
                               192, 256, 50, fovy_deg=40)
    path = write_mp4(tmp_path / "bounce.mp4", relight(frames, 1.1, 0.9, 2.0, seed=3), 50, size=(144, 192))
    code, out, err = run_cli(["measure-clip", path, "--law", "bounce", "--out", tmp_path / "o"], capsys)
    assert code == 0, err
    data = json.loads((tmp_path / "o" / "clip.json").read_text())
    assert abs(data["quantities"]["restitution"]["value"] / params["restitution"] - 1) < E_TOL
    assert abs(data["quantities"]["apex_ratio"]["value"] / params["restitution"] ** 2 - 1) < 2 * E_TOL
    assert "g_m_s2" not in data["quantities"] and "no scale" in data["refused"]["g_m_s2"]
    assert "refused without a scale: g_m_s2" in out and out.startswith("e = ")
    assert len(data["window"]["arcs"]) >= 3


def test_pendulum_period_without_scale_and_g_from_length(tmp_path):
    params = {"length_m": 0.35, "release_angle_deg": 25.0, "radius_m": 0.05, "colour": "orange"}
    frames, resolved, _ = render("pendulum", params, 240, 180, 30, fovy_deg=50)
    path = write_mp4(tmp_path / "pendulum.mp4", relight(frames, 0.7, 1.0, 2.0, seed=5), 30, size=(320, 240), crf=28)
    result = measure_clip(path, ClipOptions(law="pendulum", length_m=params["length_m"]))
    spec = get_scenario("pendulum")
    period = spec.declared_law(resolved)["period_s"].value
    assert abs(result.fit.quantities["period_s"].value / period - 1) < PERIOD_TOL
    assert abs(result.fit.quantities["amplitude_deg"].value / params["release_angle_deg"] - 1) < 0.1
    # the bob's rotational inertia lengthens the equivalent pendulum: g_apparent = g / (1 + 2 r^2 / (5 L^2))
    inertia = 1 + 2 * params["radius_m"] ** 2 / (5 * params["length_m"] ** 2)
    assert abs(result.fit.quantities["g_m_s2"].value * inertia / G - 1) < G_KNOWN_SCALE
    assert not result.scale.metric and not result.fit.refused


def test_episode_folder_uses_its_calibration(tmp_path):
    from realitygap.core.rig import CameraConfig, RigConfig
    from tests.helpers import simulate_to

    folder = simulate_to(tmp_path, "bounce", {"height_m": 0.8, "restitution": 0.6},
                         rig=RigConfig(sensors=("rgb",), camera=CameraConfig(width=96, height=128, fps=60)))
    result = measure_clip(folder, ClipOptions(law="bounce"))
    assert "episode's calibration" in result.scale.origin and result.episode["scenario"] == "bounce"
    assert abs(result.fit.quantities["restitution"].value / 0.6 - 1) < E_TOL
    assert abs(result.fit.quantities["g_m_s2"].value / G - 1) < G_KNOWN_SCALE


def test_slide_episode_uses_the_scenarios_silhouette_model(tmp_path):
    from realitygap.core.rig import CameraConfig, RigConfig
    from tests.helpers import simulate_to

    folder = simulate_to(tmp_path, "slide", {"speed_m_s": 2.0, "friction": 0.4, "colour": "green"},
                         rig=RigConfig(sensors=("rgb",), camera=CameraConfig(width=256, height=144, fps=60, fovy_deg=50)))
    result = measure_clip(folder / "rgb.mkv", ClipOptions(law="slide"))
    assert abs(result.fit.quantities["friction"].value / 0.4 - 1) < G_KNOWN_SCALE
    assert "comes to rest" in result.fit.window["ended"]


def test_projectile_and_frames_override(tmp_path, capsys):
    frames, params, px_per_m = render("projectile", {"speed_m_s": 4.0, "launch_angle_deg": 50.0, "colour": "red"},
                                      256, 144, 60, fovy_deg=50)
    path = write_mp4(tmp_path / "projectile.mp4", motion_blur(frames, 1), 60, size=(320, 180))
    scale = px_per_m * 320 / 256
    auto = measure_clip(path, ClipOptions(law="projectile", scale_px_per_m=scale))
    assert abs(auto.fit.quantities["g_m_s2"].value / G - 1) < G_KNOWN_SCALE
    vx = params["speed_m_s"] * math.cos(math.radians(params["launch_angle_deg"]))
    assert abs(auto.fit.quantities["horizontal_speed_m_s"].value / vx - 1) < G_KNOWN_SCALE
    assert "impact" in auto.fit.window["ended"]
    first, last = auto.fit.window["first_frame"], auto.fit.window["last_frame"]
    code, out, err = run_cli(["measure-clip", path, "--law", "projectile", "--scale", scale, "--frames", f"{first + 5}:{last - 5}",
                              "--out", tmp_path / "o"], capsys)
    assert code == 0, err
    window = json.loads((tmp_path / "o" / "clip.json").read_text())["window"]
    assert (window["first_frame"], window["last_frame"]) == (first + 5, last - 6)
    code, _, err = run_cli(["measure-clip", path, "--law", "projectile", "--scale", scale, "--frames", "9:3", "--out",
                            tmp_path / "p"], capsys)
    assert code == 2 and "--frames expects a:b" in err


# --------------------------------------------------------------------------------------------------
# painted clips: analytic trajectories in pixels


def painted_fall(n: int, fps: float, g_px_s2: float, size=(160, 120), fg=(60, 60, 64), bg=(38, 38, 42),
                 start=(80.0, 20.0), vx_px_s=0.0, radius=7.0, seed=0) -> np.ndarray:
    """A disc falling with acceleration g_px_s2 (px/s^2) on a dark textured background, with a specular highlight."""
    rng = np.random.default_rng(seed)
    w, h = size
    background = np.clip(np.array(bg, float) + rng.normal(0, 4, (h, w, 1)), 0, 255).astype(np.uint8)
    frames = np.repeat(background[None], n, axis=0)
    t = np.arange(n) / fps
    centres = np.stack([start[0] + vx_px_s * t, start[1] + 0.5 * g_px_s2 * t**2], axis=1)
    frames = paint_disc(frames, centres, radius, fg)
    frames = paint_disc(frames, centres - 0.35 * radius, 0.3 * radius, (200, 200, 200))
    noise = rng.normal(0, 2.0, frames.shape)
    return np.clip(frames + noise, 0, 255).astype(np.uint8)


def _mp4(frames: np.ndarray, fps: float, name: str, **kwargs) -> Path:
    import tempfile

    return write_mp4(Path(tempfile.mkdtemp(prefix="rg-clip-test-")) / name, frames, fps, **kwargs)


def test_dark_object_on_dark_background_analytic_g_in_pixels():
    g_px = 400.0
    frames = painted_fall(36, 60, g_px)
    result = measure_clip(_mp4(frames, 60, "dark.mp4", crf=18), ClipOptions(law="drop", scale_px_per_m=1.0))
    assert "silhouette" in result.object_method  # grey on grey: the colour model cannot separate it
    assert abs(result.fit.quantities["g_m_s2"].value / g_px - 1) < G_KNOWN_SCALE


def test_rotation_metadata_is_honoured(tmp_path):
    g_px = 300.0
    upright = painted_fall(30, 50, g_px, size=(96, 128), start=(48.0, 20.0), fg=(30, 160, 40), bg=(200, 200, 205))
    stored = np.ascontiguousarray(np.rot90(upright, k=-1, axes=(1, 2)))  # what a phone held sideways stores
    path = write_mp4(tmp_path / "rotated.mp4", stored, 50, rotation_deg=90, crf=18)
    frames, _, timebase = read_clip(path)
    assert timebase.rotation_deg == 90 and frames.shape[1:3] == (128, 96)
    result = measure_clip(path, ClipOptions(law="drop", scale_px_per_m=1.0, object="green"))
    assert abs(result.fit.quantities["g_direction_deg"].value) < 3.0
    assert abs(result.fit.quantities["g_m_s2"].value / g_px - 1) < G_KNOWN_SCALE


def test_time_base_fallbacks():
    def probe(times):
        return VideoProbe(width=8, height=8, sample_aspect_ratio=Fraction(1), codec="h264", pix_fmt="yuv420p", container="mp4",
                      container_fps=25.0, n_frames=len(times), t_s=np.asarray(times, float))

    times, info = _times(probe([0.0, 0.04, 0.04, 0.12, 0.08]), None)
    assert info["rate_from"] == "frame index / container rate" and info["warnings"]
    assert np.allclose(times, np.arange(5) / 25.0)
    times, info = _times(probe([0.0, 0.04, 0.1, 0.12, 0.2]), None)
    assert info["rate_from"] == "container timestamps" and "variable frame rate" in info["warnings"][0]
    assert np.allclose(times, [0.0, 0.04, 0.1, 0.12, 0.2])


# --------------------------------------------------------------------------------------------------
# one clear line, exit code 2


@pytest.mark.parametrize("case, expected", [
    ("corrupt", "corrupt"),
    ("static", "no moving object"),
    ("leaves", "leaves the frame"),
    ("few", "too few frames"),
    ("drop_no_scale", "no scale was given"),
    ("still_image", "still image"),
    ("one_frame", "still image"),
    ("out_is_a_file", "is an existing file"),
])
def test_user_errors_are_one_line_exit_2(case, expected, tmp_path, capsys):
    law = "drop"
    if case == "corrupt":
        path = tmp_path / "corrupt.mp4"
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    elif case == "static":
        frame = painted_fall(1, 30, 0.0, fg=(200, 40, 40), bg=(220, 220, 220))[0]
        path = write_mp4(tmp_path / "static.mp4", np.repeat(frame[None], 20, axis=0), 30)
    elif case == "leaves":  # thrown sideways out of the frame after 3 frames
        path = write_mp4(tmp_path / "leaves.mp4", painted_fall(20, 30, 300.0, start=(120.0, 40.0), vx_px_s=480.0,
                                                                fg=(200, 40, 40), bg=(220, 220, 220)), 30)
    elif case == "few":
        path = write_mp4(tmp_path / "few.mp4", painted_fall(4, 30, 300.0, fg=(200, 40, 40), bg=(220, 220, 220)), 30)
    elif case == "still_image":
        path = tmp_path / "still.png"
        cv2.imwrite(str(path), painted_fall(1, 30, 0.0, fg=(200, 40, 40), bg=(220, 220, 220))[0])
    elif case == "one_frame":
        path = write_mp4(tmp_path / "one.mp4", painted_fall(1, 30, 0.0, fg=(200, 40, 40), bg=(220, 220, 220)), 30)
    else:
        path = write_mp4(tmp_path / "fall.mp4", painted_fall(20, 30, 300.0, fg=(200, 40, 40), bg=(220, 220, 220)), 30)
    out_dir = tmp_path / "o"
    if case == "out_is_a_file":
        out_dir.write_text("not a folder")
    args = ["measure-clip", path, "--law", law, "--out", out_dir]
    if case not in ("drop_no_scale",):
        args += ["--scale", "100"]
    code, out, err = run_cli(args, capsys)
    assert code == 2, (out, err)
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err, err
    assert not math.isnan(code)


def test_frames_limit_the_tracking_not_only_the_fit():
    g_px = 400.0
    frames = painted_fall(40, 60, g_px)
    result = measure_clip(_mp4(frames, 60, "limited.mp4", crf=18), ClipOptions(law="drop", scale_px_per_m=1.0, frames=(5, 25)))
    seen = np.flatnonzero(result.track.present)
    assert seen.min() >= 5 and seen.max() <= 24, seen
    assert abs(result.fit.quantities["g_m_s2"].value / g_px - 1) < G_KNOWN_SCALE
