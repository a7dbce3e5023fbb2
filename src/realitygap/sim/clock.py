"""One simulation clock: the physics step divides every sensor period exactly."""

from __future__ import annotations

import math
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
