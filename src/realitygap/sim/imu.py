"""IMU: the sensor, its integrating (delta-velocity / delta-angle) readings and the noise model applied by realitygap.

Readings are means over each sample period, as a MEMS IMU's internal filter and integration give
(and as contact impulses in a stiff simulation need: an instantaneous accelerometer sample aliases
with step-to-step contact chatter): for sample k at t_k with period dt,
    specific force  f_k = R_mid^T ((v_k - v_(k-1)) / dt - g)
    angular rate    w_k = log(R_(k-1)^T R_k) / dt
with v the world velocity of the IMU site, R its world_from_body rotation and R_mid the rotation
half-way between R_(k-1) and R_k. The first sample has no predecessor and is MuJoCo's
instantaneous accelerometer and gyro reading.

Noise (MuJoCo's own `noise` attribute is not applied):
Per axis, discrete time with period dt (Kalibr / Furgale convention):
    bias_0 = 0,  bias_(k+1) = bias_k + sigma_b * sqrt(dt) * n_k
    reading_k = truth_k + bias_k + sigma_w / sqrt(dt) * m_k,    n_k, m_k ~ N(0, 1)
sigma_w is the white-noise density (unit/sqrt(Hz)), sigma_b the bias random walk (unit/s/sqrt(Hz)).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial.transform import Rotation

from realitygap.core.mj import mujoco
from realitygap.core.rig import ImuConfig
from realitygap.sim.rig import ACCEL_SENSOR, GYRO_SENSOR, IMU_SITE

if TYPE_CHECKING:
    from realitygap.episode.io import EpisodeWriter


class Imu:
    """The IMU at the sensor body's origin (site `IMU_SITE`, body frame): the `imu` table with its noise."""

    name = "imu"

    def __init__(self, model: "mujoco.MjModel", config: ImuConfig, body: str, enabled: bool, rng: np.random.Generator):
        self.model, self.config, self.body, self.rng = model, config, body, rng
        self.rate_hz = config.rate_hz if enabled else None
        self.site = model.site(IMU_SITE).id
        self.counts: dict[str, int] = {}
        self._twist = np.zeros(6)
        self._rows: list[list[float]] = []

    def sample(self, data: "mujoco.MjData", t_s: float, index: int) -> None:
        """Row [t, accel (3), gyro (3) instantaneous, site velocity world (3), site xmat (9)]."""
        mujoco.mj_objectVelocity(self.model, data, mujoco.mjtObj.mjOBJ_SITE, self.site, self._twist, 0)
        self._rows.append([t_s, *data.sensor(ACCEL_SENSOR).data, *data.sensor(GYRO_SENSOR).data, *self._twist[3:],
                           *data.site_xmat[self.site]])

    def finish(self, writer: "EpisodeWriter") -> None:
        if self.rate_hz is not None:
            writer.write_table("imu", imu_table(np.array(self._rows), self.config, np.array(self.model.opt.gravity),
                                                self.rng))

    def calibration(self, data: "mujoco.MjData") -> dict:
        return {"body": self.body, "T_body_imu": np.eye(4).tolist()}


def imu_table(samples: np.ndarray, config: ImuConfig, gravity_world: np.ndarray, rng: np.random.Generator
              ) -> dict[str, np.ndarray]:
    """Rows of `Imu.sample` -> the IMU table: noisy and true specific force (m/s^2) and angular rate (rad/s)."""
    accel_true, gyro_true = integrated_readings(samples[:, 0], samples[:, 7:10], samples[:, 10:19].reshape(-1, 3, 3),
                                                gravity_world, samples[:, 1:4], samples[:, 4:7])
    accel, _ = apply_imu_noise(accel_true, config.rate_hz, config.accel_noise_density, config.accel_bias_random_walk, rng)
    gyro, _ = apply_imu_noise(gyro_true, config.rate_hz, config.gyro_noise_density, config.gyro_bias_random_walk, rng)
    table = {"t_s": samples[:, 0]}
    for i, a in enumerate("xyz"):
        table[f"accel_{a}_m_s2"] = accel[:, i]
    for i, a in enumerate("xyz"):
        table[f"gyro_{a}_rad_s"] = gyro[:, i]
    for i, a in enumerate("xyz"):
        table[f"accel_true_{a}_m_s2"] = accel_true[:, i]
    for i, a in enumerate("xyz"):
        table[f"gyro_true_{a}_rad_s"] = gyro_true[:, i]
    return table


def integrated_readings(t_s: np.ndarray, velocity_world: np.ndarray, R_world_body: np.ndarray,
                        gravity_world: np.ndarray, accel_instant: np.ndarray, gyro_instant: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Mean specific force (m/s^2) and angular rate (rad/s), body frame, over each sample period.

    Shapes: t_s (N,), velocity_world (N, 3), R_world_body (N, 3, 3), gravity (3,); instantaneous
    readings (N, 3) are used for the first sample.
    """
    accel, gyro = np.array(accel_instant, float), np.array(gyro_instant, float)
    if len(t_s) < 2:
        return accel, gyro
    dt = np.diff(t_s)[:, None]
    rotations = Rotation.from_matrix(R_world_body)
    delta = (rotations[:-1].inv() * rotations[1:]).as_rotvec()  # body-frame rotation over each period
    midpoint = rotations[:-1] * Rotation.from_rotvec(delta / 2)
    mean_accel_world = np.diff(velocity_world, axis=0) / dt
    accel[1:] = midpoint.inv().apply(mean_accel_world - gravity_world)
    gyro[1:] = delta / dt
    return accel, gyro


def apply_imu_noise(truth: np.ndarray, rate_hz: float, noise_density: float, bias_random_walk: float,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noisy readings and the bias track, both shaped like `truth` (N, 3)."""
    truth = np.asarray(truth, float)
    dt = 1.0 / rate_hz
    steps = rng.normal(0.0, bias_random_walk * np.sqrt(dt), size=truth.shape)
    bias = np.vstack([np.zeros((1, truth.shape[1])), np.cumsum(steps, axis=0)[:-1]]) if len(truth) else steps
    white = rng.normal(0.0, noise_density / np.sqrt(dt), size=truth.shape)
    return truth + bias + white, bias
