"""The sensor protocol: what is sensed, at what rate, with which noise (dm_control's Observable, per episode).

A sensor is made once per episode from the compiled model (its mount site or camera, its lookup tables,
its own seeded noise generator). Then the runner, on the one episode clock,
- calls `sample(data, t_s, index)` at each of the sensor's ticks: sample `index` at `t_s` = index / rate,
  read from the shared MjData (a sensor keeps no copy of the scene's state);
- calls `finish(writer)` once after the last tick: it writes its table (or completes its video),
  applying its declared noise;
- asks `calibration(data)` for its entry of episode.json's `calibration` (None: it has none).

The rig is mounted whole: a sensor not enabled in `rig.sensors` still exists with `rate_hz = None`. It
never samples nor writes, but its calibration (mounting) is recorded all the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Sequence

import numpy as np

if TYPE_CHECKING:
    from realitygap.core.mj import mujoco
    from realitygap.episode.io import EpisodeWriter
    from realitygap.scenarios import InstanceSpec

NOISE_STREAMS = ("imu", "gps", "lidar", "thermal", "radar")
"""Each noisy sensor draws from its own child of the episode seed, in this order, so enabling one sensor
never changes another's noise."""


class Sensor(Protocol):
    name: str
    """Its key in episode.json's `calibration` and cost ledger."""
    rate_hz: int | None
    """Samples per second on the episode clock; None when mounted but not enabled."""
    counts: dict[str, int]
    """Work done (frames, renders, rays), for the episode's prediction cost."""

    def sample(self, data: "mujoco.MjData", t_s: float, index: int) -> None: ...

    def finish(self, writer: "EpisodeWriter") -> None: ...

    def calibration(self, data: "mujoco.MjData") -> dict | None: ...


@dataclass(frozen=True)
class SceneInstances:
    """The scenario's labelled objects in a compiled model: instance i (1-based) is `specs[i - 1]` on body
    `body_ids[i - 1]`; `by_geom[g + 1]` is the instance id of geom g (index 0: no geom, background or miss)."""

    specs: tuple["InstanceSpec", ...]
    body_ids: tuple[int, ...]
    by_geom: np.ndarray

    @classmethod
    def of(cls, model: "mujoco.MjModel", specs: Sequence["InstanceSpec"]) -> "SceneInstances":
        body_ids = tuple(model.body(inst.body).id for inst in specs)
        by_geom = np.zeros(model.ngeom + 1, dtype=np.uint16)
        for number, body_id in enumerate(body_ids, start=1):
            by_geom[1:][model.geom_bodyid == body_id] = number
        return cls(tuple(specs), body_ids, by_geom)

    def ids_of_geoms(self, geoms: np.ndarray) -> np.ndarray:
        """Instance ids (uint16, 0 = none) of an array of geom ids (-1 = none)."""
        return self.by_geom[geoms + 1]


def noise_generators(seed: int) -> dict[str, np.random.Generator]:
    """One generator per noisy sensor, children of the episode seed (see NOISE_STREAMS)."""
    children = np.random.SeedSequence(seed).spawn(len(NOISE_STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(NOISE_STREAMS, children)}


def site_pose(data: "mujoco.MjData", site_id: int) -> np.ndarray:
    """4x4 world pose of a site, metres."""
    T = np.eye(4)
    T[:3, :3] = data.site_xmat[site_id].reshape(3, 3)
    T[:3, 3] = data.site_xpos[site_id]
    return T


def concat_rows(chunks: list[dict]) -> dict[str, np.ndarray]:
    """Column-wise concatenation of per-sample column dicts ({} when there is none)."""
    if not chunks:
        return {}
    return {k: np.concatenate([np.asarray(c[k]) for c in chunks]) for k in chunks[0]}
