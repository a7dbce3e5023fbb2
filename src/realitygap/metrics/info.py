"""Properties of a metric as data, so that a report can sort and colour every metric without special cases."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    """Properties of one metric (or one statistic of a metric) as data: the report sorts and colours from these.

    name: the key the metric's function returns it under.
    higher_is_better: the direction in which a source looks better.
    range: (low, high) of the values it can take; +-inf where unbounded.
    unit: of the value ("1" for a dimensionless ratio).
    description: one line, what it means.
    ideal: the value expected when the source is indistinguishable from the reference (None where no one
        value is ideal). Needed where "better" is not monotone: a classifier's accuracy of 0.5, a density of 1.
    """

    name: str
    higher_is_better: bool
    range: tuple[float, float]
    unit: str
    description: str
    ideal: float | None = None
