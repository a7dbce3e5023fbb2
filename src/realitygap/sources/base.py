"""The Source protocol: given a context, predict an episode in the on-disk format, with a cost ledger.

A source is anything that predicts what the rig would record under a context: the reference twin,
a perturbed twin (negative control), imported videos, a learned generator. Every source writes the
same episode format (episode/io.py) under `episodes/<source name>/<episode_id>/`, so measurement and
metrics run on all of them alike.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict

from realitygap.episode.meta import EpisodeMeta, episode_meta
from realitygap.episode.types import Context


class Cost(BaseModel):
    """Model-setup cost of a source (training or loading), recorded once per run."""

    model_config = ConfigDict(frozen=True)

    setup_wall_s: float = 0.0
    training_data_episodes: int = 0
    note: str = ""


@dataclass(frozen=True)
class Conditioning:
    """What a learned source is shown besides the context: the first `rgb.shape[0]` frames of the
    ground-truth episode, (k, H, W, 3) uint8 at t = i / fps, and that episode's metadata (`meta`),
    which carries the rig's calibration, rates, frame count, instances and law."""

    rgb: np.ndarray
    meta: EpisodeMeta


@runtime_checkable
class Source(Protocol):
    name: str
    capabilities: frozenset[str]
    """Streams and annotations it delivers (e.g. 'rgb', 'depth', 'segmentation', 'state')."""
    conditioning_frames: int
    """How many first ground-truth frames `predict` is shown (0: none; twins simulate from the context)."""

    def setup(self) -> Cost:
        """Load or train what the source needs; returns the setup cost."""
        ...

    def predict(self, context: Context, out_dir: Path, conditioning: Conditioning | None = None) -> EpisodeMeta:
        """Write the predicted episode for `context` into `out_dir` (atomically); returns its metadata,
        whose `cost` records the prediction cost."""
        ...


def write_rgb_episode(out_dir: Path, frames: Iterable[np.ndarray], source_name: str, conditioning: Conditioning,
                      cost: dict, extra_meta: dict | None = None, timing: dict | None = None) -> EpisodeMeta:
    """Write an RGB-only episode predicted for `conditioning.meta`'s context: frames (H, W, 3) uint8 at the
    context's size and camera rate, t = i / fps. Calibration, instances and law are the context's (copied
    from the ground-truth episode.json); `cost` holds the ledger's `prediction` (and `setup`) entries, and
    `extra_meta` the source's own blocks. Atomic: nothing is left in `out_dir` if `frames` raises."""
    from realitygap.episode.io import EpisodeWriter

    started = time.perf_counter()
    meta = conditioning.meta
    camera = meta.calibration.camera
    width, height, fps = camera.width_px, camera.height_px, meta.rates_hz["camera"]
    n_frames = 0
    with EpisodeWriter(out_dir) as writer:
        video = writer.open_video("rgb", width, height, fps)
        for frame in frames:
            if frame.shape != (height, width, 3) or frame.dtype != np.uint8:
                raise ValueError(f"{source_name}: frame {n_frames} is {frame.shape} {frame.dtype}, "
                                 f"expected ({height}, {width}, 3) uint8")
            video.write(frame)
            n_frames += 1
        predicted = episode_meta(meta.context, source_name, {"camera": camera}, {"camera": fps}, n_frames=n_frames,
                                 duration_s=(n_frames - 1) / fps, instances=meta.instances, law=meta.law, cost=cost,
                                 **(extra_meta or {}))
        return writer.finish(predicted, {**(timing or {}), "write_wall_s": time.perf_counter() - started})
