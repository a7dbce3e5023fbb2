"""The matched input conditions of an episode (Context) and what a reader returns (Episode: typed
metadata, see episode/meta.py, plus numpy arrays)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, computed_field, model_validator

from realitygap.core.rig import RigConfig

if TYPE_CHECKING:
    from realitygap.episode.meta import EpisodeMeta

EPISODE_ID_LENGTH = 16


class Context(BaseModel):
    """Scenario, parameters, seed, rig and prompt: everything a source is given to predict an episode."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: str
    params: dict[str, float | str]
    seed: int
    rig: RigConfig = RigConfig()
    prompt: str = ""

    @model_validator(mode="before")
    @classmethod
    def _drop_derived_id(cls, data: Any) -> Any:
        """Accept dumped contexts: `episode_id` is derived, so it is dropped on input."""
        if isinstance(data, dict) and "episode_id" in data:
            data = {k: v for k, v in data.items() if k != "episode_id"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def episode_id(self) -> str:
        return episode_id(self.scenario, self.params, self.seed, self.rig)


def episode_id(scenario: str, params: dict[str, Any], seed: int, rig: RigConfig) -> str:
    """Stable hash of (scenario, params, seed, rig): sha256 of canonical JSON, first 16 hex digits.

    Floats are written with repr (shortest round-trip), keys sorted, so the id does not depend on
    dict order, platform or process.
    """
    payload = {"scenario": scenario, "params": params, "seed": int(seed), "rig": rig.model_dump(mode="json")}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:EPISODE_ID_LENGTH]


def context_setup_cost(context: Context) -> dict[str, int]:
    """Deterministic context-setup cost of an episode: bytes of the context's canonical JSON (keys sorted,
    no spaces), characters and words of its prompt."""
    spec = json.dumps(context.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return {"spec_bytes": len(spec.encode()), "prompt_chars": len(context.prompt), "prompt_words": len(context.prompt.split())}


@dataclass
class Episode:
    """An episode read from disk: metadata plus numpy arrays, each stream with its timestamps.

    `videos` maps stream name to (T, H, W[, 3]) arrays: 'rgb' uint8, 'depth' uint16 millimetres,
    'segmentation' uint16 instance ids. `tables` maps name to column arrays; every table has `t_s`.
    """

    meta: EpisodeMeta
    videos: dict[str, np.ndarray] = field(default_factory=dict)
    video_t_s: dict[str, np.ndarray] = field(default_factory=dict)
    tables: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def episode_id(self) -> str:
        return self.meta.episode_id

    @property
    def context(self) -> Context:
        return self.meta.context

    @property
    def K(self) -> np.ndarray:
        """3x3 camera intrinsics (pixels, OpenCV convention)."""
        return self.meta.calibration.camera.K

    @property
    def T_world_camera(self) -> np.ndarray:
        """4x4 camera pose in the world (OpenCV camera frame), metres."""
        return np.array(self.meta.calibration.camera.T_world_camera, float)

    def depth_m(self) -> np.ndarray:
        """Depth along the camera z axis in metres, NaN where no surface was seen."""
        depth = self.videos["depth"].astype(np.float32) / 1000.0
        depth[self.videos["depth"] == 0] = np.nan
        return depth
