"""Scenario registry: adding a scenario is one module plus one line in `_REGISTRY`.

Entries are "module:Class" and imported on first use, so listing names costs nothing.
"""

from __future__ import annotations

from importlib import import_module

from realitygap.runtime.errors import InputError
from realitygap.scenarios.base import InstanceSpec, LawQuantity, Parameter, Params, ScenarioSpec

_REGISTRY: dict[str, str] = {
    "drop": "realitygap.scenarios.drop:DropScenario",
    "bounce": "realitygap.scenarios.bounce:BounceScenario",
    "slide": "realitygap.scenarios.slide:SlideScenario",
    "braking": "realitygap.scenarios.braking:BrakingScenario",
    "pendulum": "realitygap.scenarios.pendulum:PendulumScenario",
    "projectile": "realitygap.scenarios.projectile:ProjectileScenario",
    "collision": "realitygap.scenarios.collision:CollisionScenario",
    "door": "realitygap.scenarios.door:DoorScenario",
    "occlusion": "realitygap.scenarios.occlusion:OcclusionScenario",
    "shadow": "realitygap.scenarios.shadow:ShadowScenario",
    "quadrotor": "realitygap.scenarios.quadrotor:QuadrotorScenario",
}


def scenario_names() -> list[str]:
    return list(_REGISTRY)


def get_scenario(name: str) -> ScenarioSpec:
    """The scenario registered under `name`, or an InputError listing the known ones."""
    if name not in _REGISTRY:
        raise InputError(f"unknown scenario {name!r}; known: {', '.join(_REGISTRY)}")
    module_name, class_name = _REGISTRY[name].split(":")
    return getattr(import_module(module_name), class_name)()


__all__ = ["InstanceSpec", "Parameter", "Params", "LawQuantity", "ScenarioSpec", "get_scenario", "scenario_names"]
