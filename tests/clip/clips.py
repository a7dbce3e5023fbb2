"""Clips the clip tests render themselves: a realitygap scene on a rig the measurement code does not
know (other size, aspect, fps, field of view, colours), degraded like a real recording (lighting,
noise, motion blur; H.264 in MP4 at another size is `tests.helpers.write_mp4`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.episode.io import read_episode
from realitygap.episode.types import Context
from realitygap.scenarios import get_scenario
from realitygap.sim.runner import simulate_episode


def render(scenario: str, params: dict, width: int, height: int, fps: int, fovy_deg: float = 45.0,
           duration_s: float | None = None, seed: int = 0, camera_out: dict | None = None) -> tuple[np.ndarray, dict, float]:
    """Frames (T, H, W, 3) uint8 of a simulated episode, its resolved parameters, and the image scale
    of the plane its object's silhouette centroid moves in (px per metre: fy / depth of that plane, what a
    ruler there would give). `camera_out`, when given, receives the episode's camera calibration."""
    spec = get_scenario(scenario)
    resolved = spec.resolve_params(params)
    if duration_s is not None:
        spec = type(spec)(event_margin_s=spec.event_margin_s + duration_s - spec.duration_s(resolved))
    rig = RigConfig(sensors=("rgb",), camera=CameraConfig(width=width, height=height, fps=fps, fovy_deg=fovy_deg))
    with tempfile.TemporaryDirectory(prefix="rg-clip-") as folder:
        simulate_episode(Context(scenario=scenario, params=resolved, seed=seed, rig=rig), spec, Path(folder) / "ep")
        episode = read_episode(Path(folder) / "ep", streams=("rgb",))
        if camera_out is not None:
            camera_out.update(episode.meta.calibration.camera.model_dump())
    point, normal = spec.tracking_plane(resolved, spec.instances[0].name)
    T = np.asarray(episode.T_world_camera, float)
    depth = float(normal @ (point - T[:3, 3]) / (normal @ T[:3, 2]))
    return episode.videos["rgb"], dict(resolved), float(episode.K[1, 1]) / depth


def motion_blur(frames: np.ndarray, factor: int) -> np.ndarray:
    """Frames rendered at `factor` x the rate, averaged in groups of `factor` (an exposure of one frame period)."""
    n = len(frames) // factor
    return frames[: n * factor].reshape(n, factor, *frames.shape[1:]).astype(np.float32).mean(axis=1).round().astype(np.uint8)


def relight(frames: np.ndarray, gain: float, gamma: float, noise_sigma: float, seed: int) -> np.ndarray:
    """Another exposure and tone curve, plus Gaussian noise (8-bit levels)."""
    rng = np.random.default_rng(seed)
    x = 255.0 * (gain * frames.astype(np.float32) / 255.0) ** gamma
    x += rng.normal(0.0, noise_sigma, x.shape)
    return np.clip(x, 0, 255).round().astype(np.uint8)


def paint_disc(frames: np.ndarray, centres_px: np.ndarray, radius_px: float, rgb: tuple[int, int, int]) -> np.ndarray:
    """Paint an anti-aliased disc (4x supersampled coverage) at centres_px[t] (NaN: not painted) into each frame."""
    out = frames.copy()
    H, W = frames.shape[1:3]
    yy, xx = np.mgrid[0:H * 4, 0:W * 4]
    xx, yy = (xx + 0.5) / 4 - 0.5, (yy + 0.5) / 4 - 0.5
    for t, c in enumerate(centres_px):
        if not np.all(np.isfinite(c)):
            continue
        inside = ((xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= radius_px**2).astype(np.float32)
        alpha = inside.reshape(H, 4, W, 4).mean(axis=(1, 3))[..., None]
        out[t] = np.round(out[t] * (1 - alpha) + np.array(rgb, np.float32) * alpha).astype(np.uint8)
    return out
