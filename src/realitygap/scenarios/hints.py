"""How a prompt's words tie to a scenario's parameters: the vocabulary scenarios use to declare
their prompt hints and facts (`ScenarioSpec.param_hints`, `ScenarioSpec.prompt_facts`).

A `Hint` is a keyword near a number ("from 2 m", "radius 5 cm"); the prompt parser
(`realitygap.prompts.parse`) scores weight / distance in words and gives the number to the parameter
with the best hint. A `Fact` is a fixed property a scenario's prompt template states (not a
parameter): a prompt may repeat it, but not change it. The shared hint sets below are for parameters
that several scenarios have (a ball's radius, a speed, a friction coefficient, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Side = Literal["left", "right", "both"]


@dataclass(frozen=True)
class Hint:
    """A keyword that ties a nearby quantity to a parameter: `weight / distance` in words, on `side` of the
    quantity within `reach` words; the value is multiplied by `factor` (a diameter is twice the radius)."""

    phrase: str
    side: Side = "both"
    factor: float = 1.0
    weight: float = 1.0
    reach: int = 4

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.phrase.split())


def hint(phrase: str, side: Side = "both", factor: float = 1.0, weight: float = 1.0, reach: int = 4) -> Hint:
    """Positional shorthand for `Hint`, for compact hint tables."""
    return Hint(phrase, side, factor, weight, reach)


@dataclass(frozen=True)
class Fact:
    """A fixed property of a scenario that its prompt template states (not a parameter): `value` in the
    SI unit of `dimension` ('length', 'speed', ...), recognised by its `hints`."""

    description: str
    value: float
    dimension: str
    hints: tuple[Hint, ...]


RADIUS_HINTS = (hint("radius", weight=2), hint("radii", weight=2), hint("diameter", factor=0.5, weight=2),
                hint("across", factor=0.5), hint("ball", "right", 0.5, reach=1), hint("sphere", "right", 0.5, reach=1),
                hint("bob", "right", 0.5, reach=1), hint("wide", "right", 0.5, reach=1), hint("big", "right", 0.5, reach=1))
DROP_HEIGHT_HINTS = (hint("from"), hint("height", weight=1.5), hint("high"), hint("above"), hint("up"), hint("falls"),
                     hint("drop"), hint("dropped"))
SPEED_HINTS = (hint("at"), hint("speed", weight=1.5), hint("velocity", weight=1.5), hint("going"), hint("doing"),
               hint("moving"))
FRICTION_HINTS = (hint("friction", weight=2), hint("mu", weight=2), hint("grip"), hint("coefficient", "left"))
RESTITUTION_HINTS = (hint("restitution", weight=2), hint("bounciness", weight=2), hint("elasticity", weight=2),
                     hint("coefficient", "left"))
