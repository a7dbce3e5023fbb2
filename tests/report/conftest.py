"""The report of a small measured dataset, written once per test session (tests/helpers.py: write_small_report)."""

from __future__ import annotations

import pytest

from tests.helpers import write_small_report


@pytest.fixture(scope="session")
def small_report(tmp_path_factory):
    """index.html of the report on drop + bounce (one episode each) and the low_gravity control's predictions."""
    return write_small_report(tmp_path_factory.mktemp("small_report"))
