"""The network: a small U-Net that denoises one frame, conditioned on the first frames, the frames just
before it, the frame's time and the prompt.

Input (channels first, at `size_px` x `size_px`, RGB scaled to [-1, 1]): the noisy target x_tau
(3 channels), the k first (conditioning) frames and the h previous frames (3 (k + h) channels), two
pixel-coordinate channels in [-1, 1] (CoordConv: the camera is fixed, where a thing is matters) and a
constant plane t_s / max_time_s (the frame time, seen by the convolutions directly). A pixel-unshuffle
stem (`patch_px`) folds 2 x 2 pixels into channels, so the first level runs at half the size. The
target x1 is the frame minus conditioning frame 0: the static scene cancels, what moved remains.
Output: the network's estimate of the clean target (x-prediction; the flow velocity is
(x1_hat - x_tau) / (1 - tau)).

Conditioning vector (FiLM: a per-channel scale and shift after each residual block's second
normalisation): sinusoidal features of the flow time tau in [0, 1]; t_s, t_s^2 and sinusoids of t_s
(0.1-8 Hz); a linear projection of the 384-d prompt embedding; concatenated and passed through an MLP.
"""

from __future__ import annotations

import math

import torch
from pydantic import BaseModel, ConfigDict, model_validator
from torch import nn
from torch.nn import functional as F


class ModelConfig(BaseModel):
    """Architecture of the frame denoiser (stored in every checkpoint)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    size_px: int = 64
    """Model frame width and height in pixels."""
    conditioning_frames: int = 2
    """k: the first ground-truth frames every frame is conditioned on (appearance and initial motion)."""
    history_frames: int = 2
    """h: the frames just before the one generated (autoregressive: the model's own earlier output)."""
    patch_px: int = 2
    """Pixel-unshuffle factor of the stem: the first U-Net level runs at size_px / patch_px."""
    channels: tuple[int, ...] = (48, 64, 96, 128)
    """Feature channels per U-Net level; each level halves the resolution."""
    blocks_per_level: tuple[int, ...] = (1, 1, 2, 2)
    embedding_dim: int = 128
    prompt_dim: int = 384
    max_time_s: float = 4.0
    """Frame time (seconds) that maps to 1 in the time input plane."""

    @model_validator(mode="after")
    def _check_shape(self) -> "ModelConfig":
        if len(self.channels) != len(self.blocks_per_level) or not self.channels:
            raise ValueError("channels and blocks_per_level need one entry per U-Net level")
        if self.size_px % (self.patch_px * 2 ** (len(self.channels) - 1)):
            raise ValueError(f"size_px {self.size_px} must be divisible by patch_px * 2^(levels - 1)")
        if self.conditioning_frames < 1 or self.history_frames < 1:
            raise ValueError("the model needs at least one conditioning and one history frame")
        return self


class FrameDenoiser(nn.Module):
    """x1_hat = net(x_tau, cond, tau, t_s, prompt embedding); shapes (B, 3, S, S), (B, 3 (k + h), S, S)
    (the k first frames, then the h previous frames, oldest first), (B,), (B,), (B, prompt_dim)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        c, e = config.channels, config.embedding_dim
        in_channels = (3 + 3 * (config.conditioning_frames + config.history_frames) + 3) * config.patch_px**2
        self.embed = nn.Sequential(nn.Linear(2 * e + e, 2 * e), nn.SiLU(), nn.Linear(2 * e, e))
        self.prompt_proj = nn.Linear(config.prompt_dim, e)
        self.stem = nn.Conv2d(in_channels, c[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        skips = []
        width = c[0]
        for level, (channels, blocks) in enumerate(zip(c, config.blocks_per_level)):
            stage = nn.ModuleList()
            for _ in range(blocks):
                stage.append(ResBlock(width, channels, e))
                width = channels
            self.down.append(stage)
            skips.append(width)
            if level < len(c) - 1:
                self.downsample.append(nn.Conv2d(width, width, 3, stride=2, padding=1))
        self.mid = ResBlock(width, width, e)
        self.up = nn.ModuleList()
        for level in reversed(range(len(c))):
            stage = nn.ModuleList([ResBlock(width + skips[level], c[level], e)])
            width = c[level]
            for _ in range(config.blocks_per_level[level] - 1):
                stage.append(ResBlock(width, width, e))
            self.up.append(stage)
        self.out_norm = nn.GroupNorm(_groups(width), width)
        self.out = nn.Conv2d(width, 3 * config.patch_px**2, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        size = config.size_px
        axis = torch.linspace(-1.0, 1.0, size)
        self.register_buffer("coords", torch.stack(torch.meshgrid(axis, axis, indexing="ij"))[None], persistent=False)

    def forward(self, x_tau: torch.Tensor, cond: torch.Tensor, tau: torch.Tensor, t_s: torch.Tensor,
                prompt: torch.Tensor) -> torch.Tensor:
        e = self.config.embedding_dim
        emb = torch.cat([sinusoidal(tau * 1000.0, e), time_features(t_s, e), self.prompt_proj(prompt)], dim=1)
        emb = self.embed(emb)
        b, size = x_tau.shape[0], self.config.size_px
        time_plane = (t_s.float() / self.config.max_time_s)[:, None, None, None].expand(b, 1, size, size)
        h = torch.cat([x_tau, cond, self.coords.expand(b, -1, -1, -1), time_plane.to(x_tau.dtype)], dim=1)
        h = self.stem(F.pixel_unshuffle(h, self.config.patch_px))
        skips = []
        for level, stage in enumerate(self.down):
            for block in stage:
                h = block(h, emb)
            skips.append(h)
            if level < len(self.downsample):
                h = self.downsample[level](h)
        h = self.mid(h, emb)
        for stage in self.up:
            skip = skips.pop()
            if h.shape[-1] != skip.shape[-1]:
                h = F.interpolate(h, size=skip.shape[-2:], mode="nearest")
            h = torch.cat([h, skip], dim=1)
            for block in stage:
                h = block(h, emb)
        return F.pixel_shuffle(self.out(F.silu(self.out_norm(h))), self.config.patch_px)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv, FiLM from the conditioning vector, GroupNorm-SiLU-conv, plus a skip."""

    def __init__(self, in_channels: int, out_channels: int, embedding_dim: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(in_channels), in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.film = nn.Linear(embedding_dim, 2 * out_channels)
        self.norm2 = nn.GroupNorm(_groups(out_channels), out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        return self.skip(x) + self.conv2(F.silu(h))


def sinusoidal(x: torch.Tensor, dim: int) -> torch.Tensor:
    """(B,) -> (B, dim) transformer-style features of x (x spans about [0, 1000])."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=x.device) / half)
    angles = x.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def time_features(t_s: torch.Tensor, dim: int) -> torch.Tensor:
    """(B,) seconds -> (B, dim): t, t^2 and sin / cos of 2 pi f t for frequencies f log-spaced over 0.1-8 Hz."""
    n = (dim - 2) // 2
    freqs_hz = torch.logspace(-1.0, math.log10(8.0), n, dtype=torch.float32, device=t_s.device)
    t = t_s.float()[:, None]
    angles = 2 * math.pi * t * freqs_hz[None]
    return torch.cat([t, t * t, angles.sin(), angles.cos()], dim=1)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _groups(channels: int) -> int:
    return 8 if channels % 8 == 0 else 1
