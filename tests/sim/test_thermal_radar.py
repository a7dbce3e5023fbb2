"""Thermal camera and radar against their declared models and the ground truth."""

import numpy as np
import pytest

from realitygap.core.rig import CameraConfig, RigConfig, ThermalConfig
from realitygap.episode.io import read_episode
from realitygap.episode.types import Context
from realitygap.scenarios import get_scenario
from realitygap.scenarios.base import InstanceSpec
from realitygap.sim.runner import simulate_episode
from realitygap.sim.thermal import STEFAN_BOLTZMANN_W_M2_K4, radiance_noise_std, radiance_w_m2_sr

HOT_K = 340.0


def test_radiance_is_stefan_boltzmann_over_pi():
    assert radiance_w_m2_sr(300.0, 1.0, 0.0) == pytest.approx(STEFAN_BOLTZMANN_W_M2_K4 * 300.0**4 / np.pi)
    # A grey body reflects the ambient: at T = ambient, any emissivity gives the black-body value.
    assert radiance_w_m2_sr(290.0, 0.3, 290.0) == pytest.approx(radiance_w_m2_sr(290.0, 1.0, 290.0))
    # NETD converts through dL/dT at the ambient: a 1 K step equals 1 K of noise std (first order).
    step = radiance_w_m2_sr(294.15, 1.0, 0.0) - radiance_w_m2_sr(293.15, 1.0, 0.0)
    assert radiance_noise_std(1.0, 293.15) == pytest.approx(step, rel=0.01)


@pytest.fixture(scope="module")
def hot_drop(tmp_path_factory):
    spec = get_scenario("drop")

    class HotBallDrop(type(spec)):
        instances: tuple = (InstanceSpec(name="ball", body="ball", class_name="ball", temperature_k=HOT_K, emissivity=0.9),)

    params = spec.resolve_params({"height_m": 1.0, "radius_m": 0.12})
    rig = RigConfig(sensors=("segmentation", "thermal", "radar", "imu"), camera=CameraConfig(width=128, height=128),
                    thermal=ThermalConfig(netd_k=0.1))
    out = tmp_path_factory.mktemp("hot") / "ep"
    simulate_episode(Context(scenario="drop", params=params, seed=4, rig=rig), HotBallDrop(), out)
    return read_episode(out)


def test_hot_object_exceeds_background_by_the_predicted_radiance_ratio(hot_drop):
    rig = hot_drop.context.rig.thermal
    scale = hot_drop.meta.calibration.thermal.scale_w_m2_sr
    thermal = hot_drop.videos["thermal"].astype(float) * scale
    seg = hot_drop.videos["segmentation"]
    floor = radiance_w_m2_sr(rig.ambient_k, 0.95, rig.ambient_k)
    ball = radiance_w_m2_sr(HOT_K, 0.9, rig.ambient_k)
    predicted_ratio = ball / floor
    assert predicted_ratio > 1.3
    for frame in range(0, len(thermal), 5):
        on_ball = seg[frame] == 1
        on_floor = (seg[frame] == 0) & (thermal[frame] > 0.9 * floor)
        assert on_ball.sum() > 20 and on_floor.sum() > 100
        ratio = thermal[frame][on_ball].mean() / thermal[frame][on_floor].mean()
        assert ratio == pytest.approx(predicted_ratio, rel=0.05)
    noise = np.std(thermal[0][(seg[0] == 0) & (thermal[0] > 0.9 * floor)])
    assert noise == pytest.approx(radiance_noise_std(rig.netd_k, rig.ambient_k), rel=0.2)


def test_radar_range_and_radial_velocity_match_ground_truth(hot_drop):
    radar = hot_drop.tables["radar"]
    cfg = hot_drop.context.rig.radar
    assert len(radar["t_s"]) >= 10 and set(radar["instance_id"]) == {1}
    T = np.array(hot_drop.meta.calibration.radar.T_world_radar)
    state = hot_drop.tables["state"]
    radius = hot_drop.meta.context.params["radius_m"]
    t = radar["t_s"]
    centre = np.stack([np.interp(t, state["t_s"], state[f"position_{a}_m"]) for a in "xyz"], axis=1)
    velocity = np.stack([np.interp(t, state["t_s"], state[f"velocity_{a}_m_s"]) for a in "xyz"], axis=1)
    line_of_sight = centre - T[:3, 3]
    distance = np.linalg.norm(line_of_sight, axis=1)
    true_range = distance - radius
    true_radial = np.einsum("ij,ij->i", velocity, line_of_sight / distance[:, None])
    # Ray discretisation: the nearest ray misses the sphere's nearest point by at most half a ray
    # spacing, adding < 1 cm of range; the declared noise is 5 cm.
    assert np.all(np.abs(radar["range_m"] - true_range) < 4 * cfg.range_noise_std_m + 0.01)
    assert np.all(np.abs(radar["radial_velocity_m_s"] - true_radial) < 4 * cfg.velocity_noise_std_m_s + 0.02)
    assert np.abs(radar["true_radial_velocity_m_s"] - true_radial).max() < 0.02
    falling = t < hot_drop.meta.law["impact_time_s"].value - 0.05
    assert np.ptp(true_radial[falling]) > 0.5  # the ball's motion shows up in the radial velocity
