"""IMU noise model applied by realitygap (MuJoCo's own `noise` attribute is not applied).

Per axis, discrete time with period dt (Kalibr / Furgale convention):
    bias_0 = 0,  bias_(k+1) = bias_k + sigma_b * sqrt(dt) * n_k
    reading_k = truth_k + bias_k + sigma_w / sqrt(dt) * m_k,    n_k, m_k ~ N(0, 1)
sigma_w is the white-noise density (unit/sqrt(Hz)), sigma_b the bias random walk (unit/s/sqrt(Hz)).
"""

from __future__ import annotations

import numpy as np


def apply_imu_noise(truth: np.ndarray, rate_hz: float, noise_density: float, bias_random_walk: float,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noisy readings and the bias track, both shaped like `truth` (N, 3)."""
    truth = np.asarray(truth, float)
    dt = 1.0 / rate_hz
    steps = rng.normal(0.0, bias_random_walk * np.sqrt(dt), size=truth.shape)
    bias = np.vstack([np.zeros((1, truth.shape[1])), np.cumsum(steps, axis=0)[:-1]]) if len(truth) else steps
    white = rng.normal(0.0, noise_density / np.sqrt(dt), size=truth.shape)
    return truth + bias + white, bias
