"""The `diffusers` source: an open image-to-video pipeline (Stable Video Diffusion through `diffusers`),
conditioned on the first ground-truth frame of each context.

Optional extra `diffusers`. The model is loaded only from a local folder (a pipeline saved with
`save_pretrained`, or downloaded beforehand, e.g. `huggingface-cli download
stabilityai/stable-video-diffusion-img2vid-xt --local-dir DIR`); nothing is downloaded. The folder is
`make_source(model=...)` or the environment variable REALITYGAP_DIFFUSERS_MODEL; generation settings
(`DiffusersConfig` fields) are `make_source(config=...)` or REALITYGAP_DIFFUSERS_OPTIONS (JSON). Environment
variables reach the worker processes of `predict --workers N`, which each load the model once.
Device: cuda (float16) when `torch.cuda.is_available()`, else cpu (float32).

What a prediction does (all of it recorded in episode.json's `generator` block):
- image: frame 0 of the ground-truth RGB stream. SVD is image-only: the context prompt is not used
  (`prompt_used: false`).
- frames and rate: `num_frames` frames (default: the context's frame count, at most the model's native
  count, e.g. 14 or 25) at `fps` (default: the rate at which those frames span the context's duration;
  the context's camera rate when they are as many as the context's frames). `fps` is also the model's
  frame-rate conditioning. Generated frame j is at t = j / fps.
- time: context frame k (t_k = k / camera fps) is the generated frame nearest in time (ties: the earlier
  one), as for imported videos (`sources.video.nearest_frames`): trimmed, never padded. Each episode frame's
  generated time is recorded (`resampling.time.capture_t_s`), as an import records its capture times.
- size: generated at the context's size rounded to the pipeline's size multiple (unless `height_px` /
  `width_px` are set), then resized to the context's size (cv2 INTER_AREA shrinking, INTER_LINEAR
  enlarging); the context's calibration applies unchanged.
- seed: `torch.Generator("cpu").manual_seed(s)`, s drawn from `np.random.SeedSequence([context seed,
  SEED_SALT])`: the same context gives the same frames on a given device and software stack.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from realitygap.episode.types import Context
from realitygap.runtime.errors import InputError, one_line
from realitygap.sources.base import Conditioning, Cost, write_rgb_episode
from realitygap.sources.video import nearest_frames

SOURCE_NAME = "diffusers"
MODEL_ENV = "REALITYGAP_DIFFUSERS_MODEL"  # = sources.registry.MODEL_ENV["diffusers"]
OPTIONS_ENV = "REALITYGAP_DIFFUSERS_OPTIONS"
PIPELINE_CLASS = "StableVideoDiffusionPipeline"
SEED_SALT = 0x5D1F
"""Mixed with the context seed, so the generator's noise is independent of the twin's sensor noise streams."""
CAPABILITIES = frozenset({"rgb"})
TIME_METHOD = "nearest generated frame in time to t_k = k / fps (ties: earlier frame); trimmed, never padded"
HOW_TO_POINT = (f"set {MODEL_ENV}=/path/to/model (a local {PIPELINE_CLASS} folder with model_index.json, e.g. from "
                "`huggingface-cli download stabilityai/stable-video-diffusion-img2vid-xt --local-dir DIR`); nothing is downloaded")


class DiffusersConfig(BaseModel):
    """Generation settings of the image-to-video pipeline (recorded in every episode)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    num_inference_steps: int = Field(25, ge=1)
    num_frames: int | None = Field(None, ge=1)
    """Frames generated per clip; None: the context's frame count, at most the model's native count."""
    fps: float | None = Field(None, gt=0)
    """Frame rate of the generated clip in Hz (also the model's fps conditioning); None: the clip spans the context."""
    motion_bucket_id: int = Field(127, ge=0)
    noise_aug_strength: float = Field(0.02, ge=0)
    min_guidance_scale: float = Field(1.0, ge=0)
    max_guidance_scale: float = Field(3.0, ge=0)
    decode_chunk_size: int = Field(8, ge=1)
    """Frames decoded by the VAE at once (memory)."""
    width_px: int | None = Field(None, ge=8)
    height_px: int | None = Field(None, ge=8)
    """Generation size; None: the context's size rounded to the pipeline's size multiple."""


def make_source(model: str | Path | None = None, config: DiffusersConfig | None = None, device: str | None = None) -> DiffusersSource:
    """The diffusers source with the pipeline in the local folder `model` (default: $REALITYGAP_DIFFUSERS_MODEL)
    loaded on `device` (default: cuda when available, else cpu). `config` defaults to $REALITYGAP_DIFFUSERS_OPTIONS
    (JSON of DiffusersConfig fields) or the defaults. InputError when no model is configured or it cannot be loaded."""
    started = time.perf_counter()
    folder = model_folder(model if model is not None else os.environ.get(MODEL_ENV))
    config = config if config is not None else options_from_env(os.environ.get(OPTIONS_ENV))
    try:
        import torch
        from diffusers import StableVideoDiffusionPipeline
    except ImportError as error:
        raise InputError(f"the diffusers source needs the optional extra: pip install 'realitygap[diffusers]' ({error})") from None

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    variant = _weights_variant(folder)
    try:
        pipeline = StableVideoDiffusionPipeline.from_pretrained(folder, dtype=dtype, variant=variant, local_files_only=True)
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise InputError(f"cannot load the {PIPELINE_CLASS} in {folder}: {one_line(str(error))}") from None
    multiple = size_multiple(pipeline.vae_scale_factor, len(pipeline.unet.config.block_out_channels))
    if any(size % multiple for size in (config.width_px or 0, config.height_px or 0)):
        raise InputError(f"diffusers generation size width_px={config.width_px} height_px={config.height_px} must be "
                         f"multiples of {multiple} px for this model")
    pipeline = pipeline.to(device)
    pipeline.set_progress_bar_config(disable=True)
    return DiffusersSource(pipeline=pipeline, model=str(folder), device=device, dtype=str(dtype).removeprefix("torch."),
                           config=config, variant=variant,
                           setup_cost=Cost(setup_wall_s=time.perf_counter() - started,
                                           note=f"loaded {PIPELINE_CLASS} from {folder} on {device} ({dtype}); pretrained, "
                                                "no realitygap training data"))


def model_folder(model: str | Path | None) -> Path:
    """The local pipeline folder `model`, checked; InputError saying how to point at one otherwise."""
    if model is None or not str(model).strip():
        raise InputError(f"the diffusers source has no model: {HOW_TO_POINT}")
    folder = Path(model).expanduser()
    if not folder.is_dir():
        raise InputError(f"diffusers model folder {folder} does not exist (it must be a local folder): {HOW_TO_POINT}")
    index = folder / "model_index.json"
    if not index.is_file():
        raise InputError(f"{folder} is not a diffusers pipeline folder (no model_index.json): {HOW_TO_POINT}")
    try:
        class_name = json.loads(index.read_text()).get("_class_name")
    except (OSError, ValueError, AttributeError) as error:
        raise InputError(f"cannot read {index}: {one_line(str(error))}") from None
    if class_name != PIPELINE_CLASS:
        raise InputError(f"{folder} holds a {class_name}; the diffusers source runs image-to-video {PIPELINE_CLASS} models")
    return folder.resolve()


def options_from_env(text: str | None) -> DiffusersConfig:
    """DiffusersConfig from a JSON object (e.g. '{"num_inference_steps": 10}'); defaults when empty."""
    if text is None or not text.strip():
        return DiffusersConfig()
    try:
        return DiffusersConfig.model_validate_json(text)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in error.errors())
        raise InputError(f"bad {OPTIONS_ENV}: {problems} (fields: {', '.join(DiffusersConfig.model_fields)})") from None


@dataclass
class DiffusersSource:
    """A loaded image-to-video pipeline that predicts one RGB episode per context."""

    pipeline: Any
    model: str
    device: str
    dtype: str
    config: DiffusersConfig
    variant: str | None = None
    setup_cost: Cost = field(default_factory=Cost)
    name: str = SOURCE_NAME
    capabilities: frozenset[str] = CAPABILITIES
    conditioning_frames: int = 1

    def setup(self) -> Cost:
        return self.setup_cost

    def predict(self, context: Context, out_dir: Path, conditioning: Conditioning | None = None) -> dict:
        """Generate a clip from the first ground-truth frame and write it as the episode of `context`."""
        import PIL.Image
        import torch

        if conditioning is None or len(conditioning.rgb) < 1:
            raise InputError("the diffusers source needs the first ground-truth RGB frame: simulate with the rgb sensor")
        started = time.perf_counter()
        meta, config = conditioning.meta, self.config
        camera = meta.calibration.camera
        width, height = camera.width_px, camera.height_px
        fps_context, n_context = float(meta.rates_hz["camera"]), meta.n_frames
        n_generated, fps_generated = generation_frames(n_context, fps_context, int(self.pipeline.unet.config.num_frames),
                                                       config.num_frames, config.fps)
        multiple = size_multiple(self.pipeline.vae_scale_factor, len(self.pipeline.unet.config.block_out_channels))
        gen_width, gen_height = (config.width_px or round_to_multiple(width, multiple),
                                 config.height_px or round_to_multiple(height, multiple))
        seed = generation_seed(context.seed)

        output = self.pipeline(
            PIL.Image.fromarray(np.ascontiguousarray(conditioning.rgb[0])), height=gen_height, width=gen_width,
            num_frames=n_generated, num_inference_steps=config.num_inference_steps, fps=fps_generated,
            motion_bucket_id=config.motion_bucket_id, noise_aug_strength=config.noise_aug_strength,
            min_guidance_scale=config.min_guidance_scale, max_guidance_scale=config.max_guidance_scale,
            decode_chunk_size=config.decode_chunk_size, generator=torch.Generator("cpu").manual_seed(seed), output_type="np")
        generate_s = time.perf_counter() - started

        post_started = time.perf_counter()
        frames, n_nonfinite = to_uint8(np.asarray(output.frames)[0])
        frames = np.stack([resize_frame(frame, width, height) for frame in frames])
        source_index = nearest_frames(np.arange(len(frames)) / fps_generated, np.arange(n_context) / fps_context)
        counts = np.bincount(source_index, minlength=len(frames))
        post_s = time.perf_counter() - post_started

        wall_s = time.perf_counter() - started
        cost = {"prediction": {
            "frames": int(len(source_index)), "pipeline_frames": int(len(frames)), "num_inference_steps": config.num_inference_steps,
            "model": self.model, "device": self.device, "wall_s": wall_s, "wall_s_per_frame": wall_s / max(len(source_index), 1)}}
        generator = {
            "pipeline": PIPELINE_CLASS, "model": self.model, "model_name": Path(self.model).name, "weights_variant": self.variant,
            "device": self.device, "dtype": self.dtype, "seed": seed, "seed_from": f"SeedSequence([context seed, {SEED_SALT}])",
            "conditioning_image": "frame 0 of the ground-truth rgb stream",
            "prompt_used": False, "prompt_note": "image-only pipeline: the context prompt is not given to the model",
            "settings": {**config.model_dump(), "num_frames": n_generated, "fps": fps_generated,
                         "width_px": gen_width, "height_px": gen_height},
            "nonfinite_values": n_nonfinite,
            "resampling": {
                "size": {"from_px": [gen_width, gen_height], "to_px": [width, height],
                         "method": resize_method(gen_width, gen_height, width, height)},
                "time": {"method": TIME_METHOD, "from_fps": fps_generated, "to_fps": fps_context, "context_frames": n_context,
                         "frames": int(len(source_index)), "padded_frames": 0,
                         "missing_context_frames": n_context - int(len(source_index)),
                         "duplicated_frames": int(np.sum(np.maximum(counts - 1, 0))),
                         "skipped_generated_frames": int(np.sum(counts == 0)),
                         "source_frame_index": source_index.tolist(),
                         "capture_t_s": (source_index / fps_generated).tolist()},
            },
            "versions": _versions(),
        }
        return write_rgb_episode(out_dir, (frames[j] for j in source_index), self.name, conditioning, cost,
                                 extra_meta={"generator": generator},
                                 timing={"generate_wall_s": generate_s, "postprocess_wall_s": post_s,
                                         "per_frame_s": wall_s / max(len(source_index), 1)})


def generation_frames(n_context: int, fps_context: float, native_frames: int, num_frames: int | None = None,
                      fps: float | None = None) -> tuple[int, float]:
    """(frames to generate, their rate in Hz). Frames default to min(n_context, native_frames); the rate defaults
    to the one at which they span the context's duration (n_context - 1) / fps_context, which is fps_context when
    as many frames are generated as the context has.

    >>> generation_frames(34, 30.0, 14)
    (14, 11.818181818181818)
    >>> generation_frames(10, 30.0, 25)
    (10, 30.0)
    """
    n = int(num_frames) if num_frames is not None else max(1, min(int(n_context), int(native_frames)))
    if fps is not None:
        return n, float(fps)
    if n <= 1 or n_context <= 1:
        return n, float(fps_context)
    return n, (n - 1) * float(fps_context) / (n_context - 1)


def size_multiple(vae_scale_factor: int, n_unet_blocks: int) -> int:
    """Pixels a generated frame's sides must be a multiple of: the VAE's downsampling times the UNet's
    (one halving between consecutive blocks), and at least 8 (the pipeline's check).

    >>> size_multiple(8, 4)
    64
    """
    unit = int(vae_scale_factor) * 2 ** max(int(n_unet_blocks) - 1, 0)
    return math.lcm(unit, 8)


def round_to_multiple(size_px: int, multiple: int) -> int:
    """`size_px` rounded to the nearest multiple of `multiple` (at least one multiple)."""
    return max(int(multiple), int(round(size_px / multiple)) * int(multiple))


def generation_seed(context_seed: int) -> int:
    """The torch generator seed of a context: 63 bits drawn from SeedSequence([context_seed, SEED_SALT])."""
    state = np.random.SeedSequence([int(context_seed), SEED_SALT]).generate_state(2, dtype=np.uint32)
    return int(((int(state[0]) << 32) | int(state[1])) & ((1 << 63) - 1))


def to_uint8(frames: np.ndarray) -> tuple[np.ndarray, int]:
    """Pipeline frames (T, H, W, 3) float in [0, 1] to uint8 (rounded, clipped); non-finite values become 0 and
    are counted (second value)."""
    frames = np.asarray(frames, dtype=np.float32)
    finite = np.isfinite(frames)
    values = np.where(finite, frames, 0.0)
    return np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8), int(frames.size - np.count_nonzero(finite))


def resize_frame(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """(H, W, 3) uint8 resized to width x height (INTER_AREA shrinking, INTER_LINEAR enlarging)."""
    import cv2

    if frame.shape[:2] == (height, width):
        return frame
    interpolation = cv2.INTER_AREA if frame.shape[1] >= width and frame.shape[0] >= height else cv2.INTER_LINEAR
    return cv2.resize(frame, (width, height), interpolation=interpolation)


def resize_method(from_w: int, from_h: int, to_w: int, to_h: int) -> str:
    if (from_w, from_h) == (to_w, to_h):
        return "none"
    return "cv2.resize INTER_AREA" if from_w >= to_w and from_h >= to_h else "cv2.resize INTER_LINEAR"


def _weights_variant(folder: Path) -> str | None:
    """'fp16' when the UNet folder holds only fp16-variant weights (as some published SVD folders do), else None."""
    unet = folder / "unet"
    names = [p.name for p in unet.iterdir()] if unet.is_dir() else []
    weights = [n for n in names if n.startswith("diffusion_pytorch_model")]
    fp16 = any(".fp16." in n for n in weights)
    plain = any(".fp16." not in n for n in weights)
    return "fp16" if fp16 and not plain else None


def _versions() -> dict[str, str]:
    import diffusers
    import torch
    import transformers

    return {"diffusers": diffusers.__version__, "torch": torch.__version__, "transformers": transformers.__version__}
