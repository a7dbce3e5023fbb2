"""Shared fixtures: a few ground-truth episodes simulated once per test session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.episode.io import read_episode
from realitygap.episode.types import Context
from realitygap.scenarios import get_scenario
from realitygap.sim.runner import simulate_episode

STATE_ONLY_RIG = RigConfig(sensors=("imu",), camera=CameraConfig(width=32, height=32, fps=10))
"""For law checks: the state table is all that is read; a tiny camera keeps the episode cheap."""
VISUAL_RIG = RigConfig(sensors=("rgb", "segmentation"), camera=CameraConfig(width=96, height=96))
"""For visibility and colour checks."""


def simulate_to(folder: Path, scenario_name: str, params: dict | None = None, seed: int = 0,
                rig: RigConfig | None = None) -> Path:
    scenario = get_scenario(scenario_name)
    resolved = scenario.resolve_params(params or {})
    context = Context(scenario=scenario_name, params=resolved, seed=seed, rig=rig or RigConfig(),
                      prompt=scenario.prompt(resolved))
    out = folder / context.episode_id
    simulate_episode(context, scenario, out)
    return out


@pytest.fixture(scope="session")
def drop_episode(tmp_path_factory):
    """Default drop (h = 1 m, r = 0.1 m), full rig at 256x256."""
    return read_episode(simulate_to(tmp_path_factory.mktemp("drop"), "drop"))


@pytest.fixture(scope="session")
def bounce_episode(tmp_path_factory):
    return read_episode(simulate_to(tmp_path_factory.mktemp("bounce"), "bounce"))


def colour_gap(rgb: np.ndarray, mask: np.ndarray) -> float:
    """RGB distance from the object's mean colour to the nearest scene pixel, skipping the one-pixel
    anti-aliased ring around the object (those pixels blend object and scene colours)."""
    ring = mask.copy()
    ring[1:] |= mask[:-1]
    ring[:-1] |= mask[1:]
    ring[:, 1:] |= ring[:, :-1].copy()
    ring[:, :-1] |= ring[:, 1:].copy()
    scene = rgb[~ring]
    return float(np.linalg.norm(rgb[mask].mean(axis=0) - scene, axis=1).min())
