"""Shared fixtures: a few ground-truth episodes simulated once per test session (helpers: tests/helpers.py)."""

from __future__ import annotations

import pytest

from realitygap.episode.io import read_episode
from tests.helpers import simulate_to


@pytest.fixture(scope="session")
def drop_episode(tmp_path_factory):
    """Default drop (h = 1 m, r = 0.1 m), full rig at 256x256."""
    return read_episode(simulate_to(tmp_path_factory.mktemp("drop"), "drop"))


@pytest.fixture(scope="session")
def bounce_episode(tmp_path_factory):
    return read_episode(simulate_to(tmp_path_factory.mktemp("bounce"), "bounce"))
