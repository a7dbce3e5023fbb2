"""Thermal (long-wave IR) camera, idealised.

Model: every surface is a grey Lambertian body. A pixel that sees geom g has radiance

    L = eps_g * sigma * T_g^4 / pi  +  (1 - eps_g) * sigma * T_amb^4 / pi      [W m^-2 sr^-1]

(emission plus the reflected ambient, Stefan-Boltzmann over all wavelengths; no atmosphere, no
optics blur, no waveband weighting); a pixel that sees nothing has the sky's radiance
sigma * T_sky^4 / pi. The sensor adds white Gaussian noise of a declared NETD (noise-equivalent
temperature difference) converted to radiance at the ambient temperature, and stores
round(L / scale) as uint16 with the scale recorded in episode.json.

The geometry comes from the camera's segmentation pass (the same visible surface per pixel), so the
thermal image costs a lookup, not another render.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from realitygap.core.rig import ThermalConfig
from realitygap.sim.sensor import SceneInstances

if TYPE_CHECKING:
    from realitygap.core.mj import mujoco
    from realitygap.episode.io import EpisodeWriter
    from realitygap.sim.render import CameraSensor

STEFAN_BOLTZMANN_W_M2_K4 = 5.670374419e-8
DEFAULT_EMISSIVITY = 0.95
"""Emissivity of every surface that is not an instance (instances carry their own)."""


class ThermalCamera:
    """The thermal camera, co-located with the RGB camera: the `thermal` video, from the camera's segmentation
    pass of the same frame (so it samples after the camera, at the camera's rate)."""

    name = "thermal"

    def __init__(self, model: "mujoco.MjModel", config: ThermalConfig, scene: SceneInstances, camera: "CameraSensor",
                 writer: "EpisodeWriter | None", rng: np.random.Generator):
        """`writer` None: mounted but not enabled (no video; the calibration is still recorded)."""
        self.config, self.scene, self.camera, self.rng = config, scene, camera, rng
        self.rate_hz = camera.rate_hz if writer is not None else None
        self.radiance_by_geom = radiance_lut(model, scene, config)
        self.noise_std = radiance_noise_std(config.netd_k, config.ambient_k)
        self.counts: dict[str, int] = {}
        cam = camera.config
        self._video = writer.open_video("thermal", cam.width, cam.height, cam.fps) if writer is not None else None
        self._geom_bodyid = model.geom_bodyid

    def sample(self, data: "mujoco.MjData", t_s: float, index: int) -> None:
        if self.camera.frame != index:
            raise RuntimeError("the thermal camera reads the camera's pass of its frame: sample the camera first")
        radiance = self.radiance_by_geom[self.camera.geoms + 1]
        self._video.write(thermal_counts(radiance, self.config.scale_w_m2_sr, self.noise_std, self.rng))

    def finish(self, writer: "EpisodeWriter") -> None:
        """Nothing to add: the video is complete when the writer closes it."""

    def calibration(self, data: "mujoco.MjData") -> dict:
        by_instance = {inst.name: float(self.radiance_by_geom[1:][self._geom_bodyid == body][0])
                       for inst, body in zip(self.scene.specs, self.scene.body_ids)}
        return {"camera": "the RGB camera's intrinsics and extrinsics", "scale_w_m2_sr": self.config.scale_w_m2_sr,
                "radiance_w_m2_sr_by_instance": by_instance,
                "background_radiance_w_m2_sr": float(self.radiance_by_geom[0])}


def radiance_lut(model: "mujoco.MjModel", scene: SceneInstances, config: ThermalConfig) -> np.ndarray:
    """Radiance (W m^-2 sr^-1) per geom id + 1 (index 0: the sky); instances carry their own temperature."""
    temperature = np.full(model.ngeom, config.ambient_k)
    emissivity = np.full(model.ngeom, DEFAULT_EMISSIVITY)
    for inst, body in zip(scene.specs, scene.body_ids):
        own = model.geom_bodyid == body
        temperature[own], emissivity[own] = inst.temperature_k, inst.emissivity
    sky = radiance_w_m2_sr(config.sky_k, 1.0, config.ambient_k)
    return np.concatenate([[sky], radiance_w_m2_sr(temperature, emissivity, config.ambient_k)])


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
