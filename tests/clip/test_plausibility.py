"""measure-clip refuses physically impossible results: each check against a case with a known cause."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from realitygap.cli import EXIT_IMPLAUSIBLE
from realitygap.clip.plausibility import check_clip
from realitygap.core.planefit import ClipFit, ClipQuantity
from realitygap.scenarios import get_scenario
from tests.clip.test_measure_clip import painted_fall
from tests.helpers import run_cli, write_mp4


def _fit(law: str, **quantities: tuple[float, float, str, bool]) -> ClipFit:
    return ClipFit(law, {k: ClipQuantity(v, s, unit, "", metric=metric) for k, (v, s, unit, metric) in quantities.items()},
                   {}, {})


def _check(fit: ClipFit, fps: float = 30.0):
    return check_clip(fit, get_scenario(fit.law).bounds_of, fps, "the container")


def test_earth_gravity_straight_down_is_plausible_and_a_generators_weak_gravity_is_a_finding():
    assert _check(_fit("drop", g_m_s2=(9.8, 0.1, "m/s^2", True), g_direction_deg=(1.0, 0.5, "deg", False))) == []
    assert _check(_fit("drop", g_m_s2=(5.0, 0.1, "m/s^2", True))) == []  # measured, not judged: the physics is off
    assert _check(_fit("drop", g_m_s2=(400.0, 1.0, "m/s^2", False))) == []  # pixels: no Earth to compare with


def test_gravity_64_times_too_small_at_30_fps_names_the_high_speed_rate():
    found = _check(_fit("drop", g_m_s2=(9.81 / 64, 0.002, "m/s^2", True)))
    assert [f.quantity for f in found] == ["g_m_s2"]
    assert "64x below" in found[0].reason and "high-speed" in found[0].likely_cause and "--fps 240" in found[0].fix


def test_a_pendulum_g_100_times_too_large_points_at_the_length():
    found = _check(_fit("pendulum", period_s=(1.4, 0.01, "s", False), g_m_s2=(981.0, 5.0, "m/s^2", True)))
    assert [f.quantity for f in found] == ["g_m_s2"] and "--length-m" in found[0].fix


def test_gravity_pointing_up_or_sideways_is_not_a_free_fall():
    up = _check(_fit("drop", g_m_s2=(9.8, 0.1, "m/s^2", True), g_direction_deg=(178.0, 1.0, "deg", False)))
    assert len(up) == 1 and "upwards" in up[0].reason and "--frames" in up[0].fix
    assert _check(_fit("projectile", g_direction_deg=(45.0, 1.0, "deg", False)))[0].quantity == "g_direction_deg"
    assert _check(_fit("projectile", g_direction_deg=(12.0, 1.0, "deg", False))) == []  # a tilted phone


@pytest.mark.parametrize("value, sigma, implausible", [(0.8, 0.02, False), (1.1, 0.02, False), (1.5, 0.02, True),
                                                      (-0.2, 0.02, True), (-0.02, 0.02, False)])
def test_restitution_a_little_above_one_is_a_finding_far_above_or_negative_is_implausible(value, sigma, implausible):
    assert bool(_check(_fit("bounce", restitution=(value, sigma, "", False)))) is implausible


def test_a_negative_period_is_implausible():
    assert _check(_fit("pendulum", period_s=(-1.2, 0.01, "s", False)))[0].quantity == "period_s"
    assert _check(_fit("pendulum", period_s=(1.2, 0.01, "s", False))) == []


def test_high_speed_clip_without_metadata_exits_implausible_with_the_fix_and_measures_with_it(tmp_path, capsys):
    px_per_m = 100.0
    frames = painted_fall(100, 240, 9.81 * px_per_m, fg=(40, 70, 200), bg=(200, 200, 205))
    path = write_mp4(tmp_path / "highspeed.mp4", frames, 30, crf=18)  # 240 fps capture stored at 30 fps
    code, out, err = run_cli(["measure-clip", path, "--law", "drop", "--scale", px_per_m, "--out", tmp_path / "a"], capsys)
    assert code == EXIT_IMPLAUSIBLE, err
    assert out.startswith("implausible: g = ") and "--fps 240" in out and "±" not in out  # a diagnosis, not a result
    data = json.loads((tmp_path / "a" / "clip.json").read_text())
    assert data["status"] == "implausible" and data["implausible"][0]["quantity"] == "g_m_s2"
    assert "id=\"implausible\"" in (tmp_path / "a" / "clip.html").read_text()
    code, out, err = run_cli(["measure-clip", path, "--law", "drop", "--scale", px_per_m, "--fps", 240, "--out", tmp_path / "b"],
                             capsys)
    assert code == 0, err
    g = json.loads((tmp_path / "b" / "clip.json").read_text())["quantities"]["g_m_s2"]["value"]
    assert math.isclose(g, 9.81, rel_tol=0.03) and np.isfinite(g)
