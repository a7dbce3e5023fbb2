"""One simulation clock: the physics step divides every sensor period exactly."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable


def physics_rate_hz(rates_hz: Iterable[int], max_timestep_s: float) -> tuple[int, int]:
    """(physics rate in Hz, base tick rate in Hz) with physics rate = k * lcm(rates) and 1/rate <= max step.

    Every sensor sample then falls exactly on a physics step: sample i of a stream at rate r is
    taken at t = i / r after step i * physics_rate / r.
    """
    rates = [int(r) for r in rates_hz]
    if not rates or min(rates) < 1:
        raise ValueError("rates must be positive integers")
    base = math.lcm(*rates)
    if base > 100_000:
        raise ValueError(f"the sensor rates {sorted(set(rates))} Hz have no common clock below 100 kHz")
    steps_per_tick = max(1, math.ceil(1.0 / (max_timestep_s * base) - 1e-9))
    return base * steps_per_tick, base


@dataclass(frozen=True)
class EpisodeClock:
    """The episode's clock: `n_ticks + 1` base ticks at `base_hz` (t = tick / base_hz, from 0), each
    `steps_per_tick` physics steps apart; a stream at rate r samples every base_hz / r ticks."""

    physics_hz: int
    base_hz: int
    n_ticks: int

    @classmethod
    def for_duration(cls, physics_hz: int, base_hz: int, duration_s: float) -> "EpisodeClock":
        return cls(physics_hz, base_hz, int(round(duration_s * base_hz)))

    @property
    def steps_per_tick(self) -> int:
        return self.physics_hz // self.base_hz

    @property
    def duration_s(self) -> float:
        return self.n_ticks / self.base_hz

    def ticks_per_sample(self, rate_hz: int) -> int:
        return self.base_hz // rate_hz

    def n_samples(self, rate_hz: int) -> int:
        """Samples a stream at `rate_hz` takes over the episode (ticks 0, k, 2k, ... <= n_ticks)."""
        return self.n_ticks // self.ticks_per_sample(rate_hz) + 1
