"""A small two-source dataset for the export tests, simulated once per session (about 3 s)."""

from __future__ import annotations

import pytest

from realitygap.core.rig import CameraConfig, LidarConfig, RigConfig
from realitygap.episode.dataset import read_index
from realitygap.episode.io import read_episode

EXPORT_RIG = RigConfig(sensors=("rgb", "depth", "segmentation", "thermal", "lidar", "imu", "gps"),
                       camera=CameraConfig(width=32, height=32, fps=10), lidar=LidarConfig(channels=8, azimuth_steps=64))
"""Every exported stream at low resolution: 32x32 at 10 fps, an 8 x 64 LiDAR."""


@pytest.fixture(scope="session")
def export_dataset(tmp_path_factory):
    """Two drop episodes (source sim) and their low_gravity predictions (same episode ids, another source)."""
    from realitygap.pipeline import plan_contexts, predict_dataset, simulate_dataset

    root = tmp_path_factory.mktemp("export") / "data"
    simulate_dataset(plan_contexts("drop", 2, 0, None, EXPORT_RIG), root)
    predict_dataset("low_gravity", root)
    return root


@pytest.fixture(scope="session")
def export_episodes(export_dataset):
    """{(source, episode_id): Episode} read with the dataset's own reader: the reference of every round trip."""
    index = read_index(export_dataset)
    return {(source, episode_id): read_episode(export_dataset / path)
            for source, episode_id, path in zip(index["source"], index["episode_id"], index["episode_dir"])}
