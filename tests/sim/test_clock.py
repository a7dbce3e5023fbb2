import numpy as np
import pytest

from realitygap.sim.clock import physics_rate_hz


def test_physics_rate_divides_every_stream_and_respects_max_step():
    assert physics_rate_hz([30, 200, 10, 5, 1200], 1e-3) == (1200, 1200)
    assert physics_rate_hz([30, 200, 10, 5], 1e-3) == (1200, 600)
    assert physics_rate_hz([30, 200, 10, 5, 1200], 1 / 48000) == (48000, 1200)
    with pytest.raises(ValueError):
        physics_rate_hz([7919, 7907, 7901], 1e-3)


def test_every_stream_sampled_on_its_own_clock(drop_episode):
    rates = drop_episode.meta.rates_hz
    for name, rate in (("imu", rates["imu"]), ("gps", rates["gps"]), ("state", rates["state"])):
        t = drop_episode.tables[name]["t_s"]
        t = np.unique(t)
        assert t[0] == 0.0
        assert np.allclose(np.diff(t), 1 / rate, atol=1e-12), name
    scans = np.unique(drop_episode.tables["lidar"]["t_s"])
    assert np.allclose(np.diff(scans), 1 / rates["lidar"], atol=1e-12)
    frames = drop_episode.videos["rgb"]
    assert len(frames) == drop_episode.meta.n_frames == len(drop_episode.video_t_s["rgb"])
    assert np.allclose(np.diff(drop_episode.video_t_s["rgb"]), 1 / rates["camera"], atol=1e-3)
    assert drop_episode.meta.physics.timestep_s <= 1e-3
