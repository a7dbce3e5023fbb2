"""Ground-truth state of the instance bodies: the `state` table, a sensor without noise or calibration."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from realitygap.core.mj import mujoco
from realitygap.sim.sensor import SceneInstances

if TYPE_CHECKING:
    from realitygap.episode.io import EpisodeWriter


class StateRecorder:
    """World-frame pose and twist of every instance body into preallocated arrays (one row per sample and body).

    Positions and quaternions (w, x, y, z, world_from_body) are MuJoCo's world-frame body poses; linear
    (m/s) and angular (rad/s) velocities are world-frame, at the body origin (mj_objectVelocity, flg_local = 0).
    """

    name = "state"

    def __init__(self, model: "mujoco.MjModel", scene: SceneInstances, rate_hz: int, capacity: int):
        self.model, self.rate_hz, self.counts = model, rate_hz, {}
        self.bodies = [inst.body for inst in scene.specs]
        self.body_ids = np.asarray(scene.body_ids)
        n = len(self.body_ids)
        self.t_s = np.zeros(capacity)
        self.position = np.zeros((capacity, n, 3))
        self.quaternion = np.zeros((capacity, n, 4))
        self.velocity = np.zeros((capacity, n, 6))  # angular (3), linear (3), as MuJoCo orders them
        self.count = 0

    def sample(self, data: "mujoco.MjData", t_s: float, index: int) -> None:
        k = self.count
        self.t_s[k] = t_s
        self.position[k] = data.xpos[self.body_ids]
        self.quaternion[k] = data.xquat[self.body_ids]
        for j, body in enumerate(self.body_ids):
            mujoco.mj_objectVelocity(self.model, data, mujoco.mjtObj.mjOBJ_BODY, int(body), self.velocity[k, j], 0)
        self.count += 1

    def finish(self, writer: "EpisodeWriter") -> None:
        writer.write_table("state", self.table())

    def calibration(self, data: "mujoco.MjData") -> None:
        return None

    def table(self) -> dict[str, np.ndarray]:
        """Columns t_s, body, instance_id, position_*_m, quaternion_*, velocity_*_m_s, angular_velocity_*_rad_s."""
        k, n = self.count, len(self.body_ids)
        columns = {
            "t_s": np.repeat(self.t_s[:k], n),
            "body": np.tile(np.array(self.bodies), k),
            "instance_id": np.tile(np.arange(1, n + 1, dtype=np.uint16), k),
        }
        flat = lambda a: a[:k].reshape(k * n, -1)  # noqa: E731
        for i, axis in enumerate("xyz"):
            columns[f"position_{axis}_m"] = flat(self.position)[:, i]
        for i, axis in enumerate("wxyz"):
            columns[f"quaternion_{axis}"] = flat(self.quaternion)[:, i]
        for i, axis in enumerate("xyz"):
            columns[f"velocity_{axis}_m_s"] = flat(self.velocity)[:, 3 + i]
        for i, axis in enumerate("xyz"):
            columns[f"angular_velocity_{axis}_rad_s"] = flat(self.velocity)[:, i]
        return columns
