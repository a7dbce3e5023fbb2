"""The small PyTorch models of the downstream tasks and their seeded training.

Two shapes: an MLP over a fixed-length vector (the measured track) and a small CNN over a stack of
`FRAME_PX` images (frames, depth). Inputs are standardised with the training set's mean and standard
deviation, targets too, so one learning rate fits every task. Training is a fixed number of Adam steps
(mini-batches drawn with replacement from `np.random.default_rng(seed)`), whatever the training-set
size, so runs with more or less data get the same compute. The loss is the mean squared error over the
finite targets (NaN targets, e.g. a box where the object is hidden, are left out).

Deterministic for a seed on one machine: torch runs on one thread with deterministic algorithms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class TrainSettings(BaseModel):
    """Optimisation of one downstream model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: int = Field(400, ge=1, description="Adam steps")
    batch_size: int = Field(64, ge=1)
    learning_rate: float = Field(3e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    hidden: int = Field(64, ge=4, description="width of the MLP layers / channels of the CNN's last layer")


@dataclass
class Fitted:
    """A trained model with the standardisation it was trained with."""

    net: object
    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: np.ndarray
    y_std: np.ndarray

    def predict(self, x: np.ndarray, batch: int = 512) -> np.ndarray:
        import torch

        with torch.no_grad():
            out = [self.net(torch.from_numpy(((x[i:i + batch] - self.x_mean) / self.x_std).astype(np.float32))).numpy()
                   for i in range(0, len(x), batch)]
        return np.concatenate(out) * self.y_std + self.y_mean


def mlp(n_in: int, n_out: int, hidden: int):
    import torch.nn as nn

    return nn.Sequential(nn.Linear(n_in, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, n_out))


def cnn(channels: int, n_out: int, hidden: int):
    """32 x 32 input: three stride-2 convolutions (8, 16, hidden channels) then a two-layer head."""
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(channels, 8, 3, stride=2, padding=1), nn.GELU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.GELU(),
        nn.Conv2d(16, hidden, 3, stride=2, padding=1), nn.GELU(),
        nn.Flatten(), nn.Linear(hidden * 16, hidden), nn.GELU(), nn.Linear(hidden, n_out))


def train(x: np.ndarray, y: np.ndarray, kind: str, settings: TrainSettings, seed: int) -> Fitted:
    """Fit a model ('mlp' on (N, D) inputs, 'cnn' on (N, C, H, W)) to targets (N, K) with NaN for unknown."""
    import torch

    if len(x) == 0:
        raise ValueError("no training examples")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    axes = (0,) if kind == "mlp" else (0, 2, 3)
    x_mean = x.mean(axis=axes, keepdims=True)[0].astype(np.float32)
    x_std = (x.std(axis=axes, keepdims=True)[0] + 1e-3).astype(np.float32)
    y_mean = np.nan_to_num(np.nanmean(y, axis=0)).astype(np.float32)  # unknown targets are NaN
    y_std = (np.nan_to_num(np.nanstd(y, axis=0)) + 1e-3).astype(np.float32)
    xs = torch.from_numpy(((x - x_mean) / x_std).astype(np.float32))
    ys = torch.from_numpy(np.nan_to_num((y - y_mean) / y_std).astype(np.float32))
    known = torch.from_numpy(np.isfinite(y).astype(np.float32))
    net = mlp(xs.shape[1], y.shape[1], settings.hidden) if kind == "mlp" else cnn(xs.shape[1], y.shape[1], settings.hidden)
    optimiser = torch.optim.AdamW(net.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, settings.steps)
    for _ in range(settings.steps):
        batch = torch.from_numpy(rng.integers(0, len(xs), size=min(settings.batch_size, len(xs))))
        error = (net(xs[batch]) - ys[batch]) ** 2 * known[batch]
        loss = error.sum() / known[batch].sum().clamp(min=1.0)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    net.eval()
    return Fitted(net, x_mean, x_std, y_mean, y_std)
