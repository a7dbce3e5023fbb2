"""IMU and GPS against physics and the declared noise models."""

import numpy as np
import pytest

from realitygap.core.rig import GpsConfig
from realitygap.sim.gps import enu_to_wgs84, wgs84_to_enu
from realitygap.sim.imu import apply_imu_noise


def test_imu_reads_gravity_at_rest_and_zero_in_free_fall(drop_episode):
    imu = drop_episode.tables["imu"]
    t_impact = drop_episode.meta.law["impact_time_s"].value
    accel = np.stack([imu[f"accel_{a}_m_s2"] for a in "xyz"], axis=1)
    gyro = np.stack([imu[f"gyro_{a}_rad_s"] for a in "xyz"], axis=1)
    rest = imu["t_s"] > t_impact + 0.25
    fall = imu["t_s"] < t_impact - 0.02
    assert rest.sum() > 20 and fall.sum() > 50
    assert np.mean(accel[rest], axis=0) == pytest.approx([0, 0, 9.81], abs=0.03)
    assert np.abs(np.mean(gyro[rest], axis=0)).max() < 0.005
    assert np.abs(np.mean(accel[fall], axis=0)).max() < 0.03
    assert np.linalg.norm(accel[fall], axis=1).max() < 0.3  # noise only: sigma = 2e-3 * sqrt(200) = 0.028


def test_imu_noise_model_statistics():
    rate, density, walk = 200.0, 2e-3, 3e-4
    n = 200_000
    readings, bias = apply_imu_noise(np.zeros((n, 3)), rate, density, walk, np.random.default_rng(1))
    white = readings - bias
    assert np.std(white) == pytest.approx(density * np.sqrt(rate), rel=0.02)
    # Bias random walk: Var(bias(t)) = walk^2 t. Check over many independent short walks.
    walks = [apply_imu_noise(np.zeros((2001, 1)), rate, 0.0, walk, np.random.default_rng(s))[1][-1, 0] for s in range(400)]
    assert np.var(walks) == pytest.approx(walk**2 * 2000 / rate, rel=0.2)


def test_gps_track_converts_back_to_enu_within_declared_noise(drop_episode):
    gps = drop_episode.tables["gps"]
    config = drop_episode.meta.context.rig.gps
    enu = wgs84_to_enu(np.stack([gps["latitude_deg"], gps["longitude_deg"], gps["altitude_m"]], axis=1), config)
    truth = np.stack([gps["east_true_m"], gps["north_true_m"], gps["up_true_m"]], axis=1)
    error = enu - truth
    assert np.all(np.abs(error[:, :2]) < 4 * config.horizontal_noise_std_m)
    assert np.all(np.abs(error[:, 2]) < 4 * config.vertical_noise_std_m)
    assert np.diff(gps["t_s"]) == pytest.approx(np.full(len(gps["t_s"]) - 1, 1 / config.rate_hz))


def test_enu_to_wgs84_against_closed_form_meridian_radius():
    """1 km north changes latitude by 1000 / M (M = WGS84 meridional radius of curvature)."""
    config = GpsConfig()
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    phi = np.radians(config.origin_lat_deg)
    meridional = a * (1 - e2) / (1 - e2 * np.sin(phi) ** 2) ** 1.5
    lla = enu_to_wgs84(np.array([[0.0, 1000.0, 0.0]]), config)[0]
    assert np.radians(lla[0] - config.origin_lat_deg) == pytest.approx(1000 / meridional, rel=1e-4)
    assert lla[1] == pytest.approx(config.origin_lon_deg, abs=1e-9)
    back = wgs84_to_enu(enu_to_wgs84(np.array([[12.3, -45.6, 7.8]]), config), config)[0]
    assert back == pytest.approx([12.3, -45.6, 7.8], abs=1e-6)


def test_integrating_imu_reads_the_skid_deceleration_despite_contact_chatter(tmp_path):
    """The braking car's tyres lose contact for single physics steps; an instantaneous accelerometer
    sample aliases with that (up to 18 % off), the period-mean reading must not."""
    from realitygap.core.rig import CameraConfig, RigConfig
    from realitygap.episode.io import read_episode
    from tests.helpers import simulate_to

    params = {"speed_m_s": 10.0, "friction": 1.0, "reaction_time_s": 0.0}
    rig = RigConfig(sensors=("imu",), camera=CameraConfig(width=32, height=32, fps=10))
    episode = read_episode(simulate_to(tmp_path, "braking", params, rig=rig), streams=("imu",))
    imu, law = episode.tables["imu"], episode.meta.law
    skid = (imu["t_s"] > 0.05) & (imu["t_s"] < law["stopping_time_s"].value - 0.05)
    assert -imu["accel_true_x_m_s2"][skid].mean() == pytest.approx(law["deceleration_m_s2"].value, rel=0.01)
    assert -imu["accel_x_m_s2"][skid].mean() == pytest.approx(law["deceleration_m_s2"].value, rel=0.01)


def test_integrating_gyro_matches_the_pendulum_rate(tmp_path):
    from realitygap.core.rig import CameraConfig, RigConfig
    from realitygap.episode.io import read_episode
    from tests.helpers import simulate_to

    rig = RigConfig(sensors=("imu",), camera=CameraConfig(width=32, height=32, fps=10))
    episode = read_episode(simulate_to(tmp_path, "pendulum", {"release_angle_deg": 40.0}, rig=rig), streams=("imu", "state"))
    imu, state = episode.tables["imu"], episode.tables["state"]
    # Mean rate over each 5 ms period = angle change / period; compare with the state's rate at mid-period.
    t_mid = imu["t_s"][1:] - 0.5 / episode.meta.rates_hz["imu"]
    rate_state = np.interp(t_mid, state["t_s"], state["angular_velocity_y_rad_s"])
    assert np.abs(imu["gyro_true_y_rad_s"][1:] - rate_state).max() < 0.01 * np.abs(rate_state).max()
