"""Scenario registry: adding a scenario is one module plus one line in `_REGISTRY`."""

from __future__ import annotations

from realitygap.runtime.errors import InputError
from realitygap.scenarios.base import InstanceSpec, Parameter, Params, Quantity, ScenarioSpec
from realitygap.scenarios.bounce import BounceScenario
from realitygap.scenarios.drop import DropScenario

_REGISTRY: dict[str, type[ScenarioSpec]] = {
    "drop": DropScenario,
    "bounce": BounceScenario,
}


def scenario_names() -> list[str]:
    return list(_REGISTRY)


def get_scenario(name: str) -> ScenarioSpec:
    """The scenario registered under `name`, or an InputError listing the known ones."""
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise InputError(f"unknown scenario {name!r}; known: {', '.join(_REGISTRY)}") from None


__all__ = ["InstanceSpec", "Parameter", "Params", "Quantity", "ScenarioSpec", "get_scenario", "scenario_names"]
