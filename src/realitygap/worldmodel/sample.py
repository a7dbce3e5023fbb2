"""Seeded sampling of a clip: frame by frame (autoregressive), each integrated along the learned flow.

Frames 0 .. k-1 are the conditioning frames. Frame i >= k is generated from the k conditioning frames,
the h frames before it (generated ones once i - h >= k), its time t_s and the prompt: starting from a
noise image x0 ~ N(0, I) (3, S, S), drawn once per clip from a torch.Generator seeded with `seed` and
shared by all frames (temporal coherence), `steps` Euler steps of the velocity (x1_hat - x_tau) / (1 - tau)
from tau = 0 to 1 (the last step lands on x1_hat); the frame is frame 0 + x1_hat, rounded to uint8
(this model-size frame is what later frames see as history). Same model, seed, inputs and thread count: bit-identical
(the source samples on one thread).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

DEFAULT_STEPS = 8


def sample_frames(model, cond_u8: np.ndarray, t_s: np.ndarray, prompt: np.ndarray, seed: int, steps: int = DEFAULT_STEPS,
                  on_frame: Callable[[int], None] | None = None) -> np.ndarray:
    """Frames (T, S, S, 3) uint8 at times `t_s` (T,) seconds (frames k, k+1, ... of the clip), from the
    conditioning frames `cond_u8` (k, S, S, 3) uint8 at t = 0, 1/fps, ... and a prompt embedding (384,)."""
    import torch

    from realitygap.worldmodel.data import from_unit, to_unit

    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    config = model.config
    size, k, h = config.size_px, config.conditioning_frames, config.history_frames
    if cond_u8.shape != (k, size, size, 3):
        raise ValueError(f"conditioning frames are {cond_u8.shape}, the model takes {(k, size, size, 3)}")
    anchors = torch.from_numpy(to_unit(cond_u8)).reshape(1, 3 * k, size, size)
    generator = torch.Generator().manual_seed(int(seed) % 2**63)
    noise = torch.randn((1, 3, size, size), generator=generator)
    prompt_t = torch.from_numpy(np.asarray(prompt, np.float32)).reshape(1, -1)
    clip = list(cond_u8)
    model.eval()
    with torch.inference_mode():
        for n, t in enumerate(np.asarray(t_s, np.float32)):
            history = np.stack([clip[max(len(clip) - h + j, 0)] for j in range(h)])
            cond = torch.cat([anchors, torch.from_numpy(to_unit(history)).reshape(1, 3 * h, size, size)], dim=1)
            t_in = torch.tensor([t])
            x = noise.clone()
            for i in range(steps):
                tau = i / steps
                x1_hat = model(x, cond, torch.tensor([tau]), t_in, prompt_t)
                x = x + (1.0 / steps) * (x1_hat - x) / (1.0 - tau)
            clip.append(from_unit((x[0] + anchors[0, :3]).numpy()))
            if on_frame:
                on_frame(n + 1)
    return np.stack(clip[k:]) if len(clip) > k else np.zeros((0, size, size, 3), np.uint8)


def network_evaluations(n_frames: int, steps: int = DEFAULT_STEPS) -> int:
    """Denoiser evaluations for a clip of n_frames generated frames."""
    return int(n_frames) * int(steps)
