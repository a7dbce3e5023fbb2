"""Training data: the `sim` episodes of a dataset as small frames, frame times and prompt embeddings.

Every RGB frame is downsampled (cv2 INTER_AREA, which averages pixels: the object stays anti-aliased)
to the model size; all frames of all episodes are kept in memory as uint8 (64 x 64 x 3 = 12 KiB a
frame). A training example is (the first k frames of an episode, the h frames before frame i >= k, frame i,
its time t_s = i / fps, the episode's prompt embedding), drawn scenario-balanced: a scenario uniformly, then
one of its episodes, then one of its frames.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from realitygap.runtime.errors import InputError


@dataclass(frozen=True)
class TrainingData:
    """All frames of the training episodes at the model size, with per-episode metadata.

    frames: (N, S, S, 3) uint8, the episodes one after another; start, length: (E,) int64 index of each
    episode's frame 0 in `frames` and its frame count; fps: (E,) camera rate in Hz; prompts: (E, 384)
    float32 unit vectors; scenarios: (E,) scenario names; summary: what was read (for the checkpoint)."""

    frames: np.ndarray
    start: np.ndarray
    length: np.ndarray
    fps: np.ndarray
    prompts: np.ndarray
    scenarios: np.ndarray
    summary: dict


def load_training_data(root: Path, size_px: int, conditioning_frames: int, encode: Callable[[list[str]], np.ndarray],
                       on_episode: Callable[[int, int], None] | None = None,
                       episodes: Sequence[tuple[str, str]] | None = None) -> TrainingData:
    """Read every `sim` episode (or the (source, episode id) pairs of `episodes`: a generator's own episodes
    for the carbon-copy experiment) with an rgb stream and more than `conditioning_frames` frames from the
    dataset at `root`; `encode` maps prompts to (N, 384) embeddings. InputError when there is none."""
    from realitygap.episode.dataset import episode_dir
    from realitygap.episode.io import read_meta
    from realitygap.episode.video import read_video

    root = Path(root)
    pairs = [("sim", eid) for eid in training_episode_ids(root)] if episodes is None else list(episodes)
    frames, start, length, fps, prompts, scenarios = [], [], [], [], [], []
    skipped = 0
    offset = 0
    for n, (source, eid) in enumerate(pairs):
        folder = episode_dir(root, source, eid)
        meta = read_meta(folder)
        if "rgb" not in meta.streams or meta.n_frames <= conditioning_frames:
            skipped += 1
            continue
        rgb, _ = read_video(folder / meta.streams["rgb"].file, "rgb")
        small = to_model_frames(rgb, size_px)
        frames.append(small)
        start.append(offset)
        length.append(len(small))
        offset += len(small)
        fps.append(float(meta.rates_hz["camera"]))
        prompts.append(meta.context.prompt)
        scenarios.append(meta.context.scenario)
        if on_episode:
            on_episode(n + 1, len(pairs))
    if not frames:
        raise InputError(f"{root} has no sim episode with an rgb stream of more than {conditioning_frames} frames: "
                         "simulate with --sensors rgb")
    counts = Counter(scenarios)
    summary = {
        "dataset": root.resolve().name,
        "episodes": len(start),
        "frames": int(offset),
        "skipped_episodes": skipped,
        "episodes_per_scenario": dict(sorted(counts.items())),
        "frames_per_scenario": {s: int(sum(n for n, sc in zip(length, scenarios) if sc == s)) for s in sorted(counts)},
        "episode_ids_sha256": _ids_digest(sorted(eid for _, eid in pairs)),
        "episodes_per_source": dict(sorted(Counter(source for source, _ in pairs).items())),
    }
    return TrainingData(frames=np.concatenate(frames), start=np.asarray(start, np.int64), length=np.asarray(length, np.int64),
                        fps=np.asarray(fps, np.float64), prompts=np.asarray(encode(prompts), np.float32),
                        scenarios=np.asarray(scenarios), summary=summary)


def training_episode_ids(root: Path) -> list[str]:
    """Ids of the dataset's sim episodes (cheap: reads index.parquet); InputError when there is none."""
    from realitygap.episode.dataset import read_index

    index = read_index(Path(root))
    ids = [str(eid) for eid, source in zip(index["episode_id"], index["source"]) if source == "sim"]
    if not ids:
        raise InputError(f"{root} has no sim episodes to train on: `realitygap simulate SCENARIO --sensors rgb --out {root}`")
    return ids


def to_model_frames(rgb: np.ndarray, size_px: int) -> np.ndarray:
    """(T, H, W, 3) uint8 -> (T, size_px, size_px, 3) uint8, area-averaged."""
    import cv2

    if rgb.shape[1:3] == (size_px, size_px):
        return np.ascontiguousarray(rgb)
    return np.stack([cv2.resize(frame, (size_px, size_px), interpolation=cv2.INTER_AREA) for frame in rgb])


def to_unit(frames_u8: np.ndarray) -> np.ndarray:
    """uint8 RGB (..., H, W, 3) -> float32 (..., 3, H, W) in [-1, 1]."""
    return np.moveaxis(frames_u8.astype(np.float32) / 127.5 - 1.0, -1, -3)


def from_unit(frames: np.ndarray) -> np.ndarray:
    """float (..., 3, H, W) in [-1, 1] -> uint8 (..., H, W, 3), rounded and clipped."""
    return np.clip(np.rint((np.moveaxis(frames, -3, -1) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def sample_batch(data: TrainingData, rng: np.random.Generator, batch_size: int, conditioning_frames: int,
                 history_frames: int, history_noise: float = 0.0) -> dict[str, np.ndarray]:
    """A scenario-balanced batch for generating frame i >= k of an episode, in unit scale:
    cond (B, 3 (k + h), S, S): the first k frames, then frames i - h .. i - 1 (each history frame with
    Gaussian noise of a standard deviation drawn uniformly in [0, history_noise], as the model's own
    imperfect frames will be at sampling time); target (B, 3, S, S) = frame i - frame 0 (clean: the static
scene cancels, what moved remains, and errors in the history do not accumulate in the background);
    t_s (B,) = i / fps seconds; prompt (B, 384)."""
    names = np.unique(data.scenarios)
    k, h = conditioning_frames, history_frames
    picked_scenarios = names[rng.integers(len(names), size=batch_size)]
    episodes = np.array([rng.choice(np.flatnonzero(data.scenarios == s)) for s in picked_scenarios])
    frame = k + (rng.random(batch_size) * (data.length[episodes] - k)).astype(np.int64)
    first = data.start[episodes]
    anchors = to_unit(np.stack([data.frames[first + j] for j in range(k)], axis=1))  # (B, k, 3, S, S)
    history = to_unit(np.stack([data.frames[first + np.maximum(frame - h + j, 0)] for j in range(h)], axis=1))
    if history_noise > 0:
        sigma = rng.random(batch_size).astype(np.float32) * history_noise
        history += sigma[:, None, None, None, None] * rng.standard_normal(history.shape, dtype=np.float32)
    cond = np.concatenate([anchors, history], axis=1)
    target = to_unit(data.frames[first + frame]) - anchors[:, 0]
    return {"cond": cond.reshape(batch_size, 3 * (k + h), *cond.shape[-2:]), "target": target,
            "t_s": (frame / data.fps[episodes]).astype(np.float32), "prompt": data.prompts[episodes]}


def _ids_digest(ids: list[str]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(ids).encode()).hexdigest()
