"""Thermal (long-wave IR) camera, idealised.

Model: every surface is a grey Lambertian body. A pixel that sees geom g has radiance

    L = eps_g * sigma * T_g^4 / pi  +  (1 - eps_g) * sigma * T_amb^4 / pi      [W m^-2 sr^-1]

(emission plus the reflected ambient, Stefan-Boltzmann over all wavelengths; no atmosphere, no
optics blur, no waveband weighting); a pixel that sees nothing has the sky's radiance
sigma * T_sky^4 / pi. The sensor adds white Gaussian noise of a declared NETD (noise-equivalent
temperature difference) converted to radiance at the ambient temperature, and stores
round(L / scale) as uint16 with the scale recorded in episode.json.

The geometry comes from the segmentation pass (the same visible surface per pixel), so the
thermal image costs a lookup, not another render.
"""

from __future__ import annotations

import numpy as np

STEFAN_BOLTZMANN_W_M2_K4 = 5.670374419e-8


def radiance_w_m2_sr(temperature_k: np.ndarray | float, emissivity: np.ndarray | float,
                     ambient_k: float) -> np.ndarray:
    """Grey-body radiance of a surface at `temperature_k` reflecting an ambient at `ambient_k`."""
    t, eps = np.asarray(temperature_k, float), np.asarray(emissivity, float)
    return (eps * t**4 + (1.0 - eps) * ambient_k**4) * STEFAN_BOLTZMANN_W_M2_K4 / np.pi


def radiance_noise_std(netd_k: float, ambient_k: float) -> float:
    """Radiance noise equivalent to `netd_k` kelvin at the ambient temperature: NETD * dL/dT."""
    return netd_k * 4.0 * STEFAN_BOLTZMANN_W_M2_K4 * ambient_k**3 / np.pi


def thermal_counts(radiance: np.ndarray, scale_w_m2_sr: float, noise_std: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Noisy radiance image -> uint16 counts (count * scale = radiance), clipped to the uint16 range."""
    noisy = radiance + rng.normal(0.0, noise_std, size=radiance.shape) if noise_std > 0 else radiance
    return np.clip(np.rint(noisy / scale_w_m2_sr), 0, 65535).astype(np.uint16)
