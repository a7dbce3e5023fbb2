"""The sensor protocol: every sensor of the rig is mounted, the enabled ones sample on their own clock."""

import pytest

from realitygap.core.mj import mujoco
from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.episode.io import EpisodeWriter
from realitygap.scenarios import get_scenario
from realitygap.sim.clock import EpisodeClock
from realitygap.sim.render import SceneRenderer
from realitygap.sim.rig import wide_view_px
from realitygap.sim.runner import build_model, mount_sensors

CALIBRATED = {"camera", "thermal", "imu", "gps", "lidar", "radar"}


@pytest.fixture
def mounted(tmp_path):
    """mount(rig) -> (sensors, data, clock) of a default drop; its writer and renderer are discarded after the test."""

    def mount(rig: RigConfig):
        spec = get_scenario("drop")
        params = spec.resolve_params({})
        model, physics = build_model(spec, params, rig)
        data = mujoco.MjData(model)
        spec.initialize(params, model, data)
        mujoco.mj_forward(model, data)
        clock = EpisodeClock.for_duration(physics.rate_hz, physics.base_tick_hz, spec.duration_s(params))
        writer = EpisodeWriter(tmp_path / "ep")
        renderer = SceneRenderer(model, *wide_view_px(rig.camera))
        opened.append((writer, renderer))
        return mount_sensors(model, rig, spec, 0, clock, writer, renderer), data, clock

    opened = []
    yield mount
    for writer, renderer in opened:
        renderer.close()
        writer.abort()


def test_disabled_sensors_have_no_rate_but_keep_their_calibration(mounted):
    sensors, data, clock = mounted(RigConfig(sensors=("imu",), camera=CameraConfig(width=32, height=32, fps=10)))
    assert {s.name: s.rate_hz for s in sensors} == {"state": 1200, "camera": 10, "thermal": None, "imu": 200,
                                                    "gps": None, "lidar": None, "radar": None}
    for sensor in sensors:
        if sensor.rate_hz is not None:
            assert clock.base_hz % sensor.rate_hz == 0, sensor.name
            sensor.sample(data, 0.0, 0)
    assert {s.name for s in sensors if s.calibration(data) is not None} == CALIBRATED


def test_the_thermal_camera_reads_the_camera_pass_of_its_own_frame(mounted):
    sensors, data, _ = mounted(RigConfig(sensors=("thermal",), camera=CameraConfig(width=32, height=32, fps=10)))
    camera, thermal = (next(s for s in sensors if s.name == name) for name in ("camera", "thermal"))
    assert thermal.rate_hz == camera.rate_hz == 10
    with pytest.raises(RuntimeError, match="sample the camera first"):
        thermal.sample(data, 0.0, 0)
    camera.sample(data, 0.0, 0)
    thermal.sample(data, 0.0, 0)
    assert camera.counts == {"frames": 1, "renders": 1}


def test_episode_clock_counts_samples_on_shared_ticks():
    clock = EpisodeClock.for_duration(physics_hz=9600, base_hz=1200, duration_s=1.0266666666666666)
    assert (clock.n_ticks, clock.steps_per_tick, clock.duration_s) == (1232, 8, 1232 / 1200)
    assert (clock.ticks_per_sample(30), clock.n_samples(30)) == (40, 31)
    assert clock.n_samples(1200) == 1233
