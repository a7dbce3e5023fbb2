import math

import numpy as np
import pytest

from realitygap.runtime.errors import InputError
from realitygap.scenarios import get_scenario, scenario_names


@pytest.mark.parametrize("name", scenario_names())
def test_defaults_resolve_and_prompt_mentions_parameters(name):
    spec = get_scenario(name)
    params = spec.resolve_params({})
    assert set(params) == {p.name for p in spec.parameters}
    prompt = spec.prompt(params)
    assert len(prompt) > 40
    for p in spec.parameters:
        if not p.is_numeric:
            assert str(params[p.name]) in prompt, f"prompt does not mention {p.name}"


@pytest.mark.parametrize("value, fragment", [
    ("5.0", "outside its domain"),
    ("nan", "not a finite number"),
    ("inf", "not a finite number"),
    ("tall", "not a number"),
    (float("nan"), "not a finite number"),
])
def test_bad_height_is_one_clear_error(value, fragment):
    with pytest.raises(InputError, match=fragment):
        get_scenario("drop").resolve_params({"height_m": value})


def test_unknown_parameter_and_choice_and_scenario():
    with pytest.raises(InputError, match="has no parameter 'mass_kg'"):
        get_scenario("drop").resolve_params({"mass_kg": 1})
    with pytest.raises(InputError, match="not one of"):
        get_scenario("drop").resolve_params({"colour": "purple"})
    with pytest.raises(InputError, match="unknown scenario 'fly'"):
        get_scenario("fly")


@pytest.mark.parametrize("name", scenario_names())
def test_sampling_is_seeded_inside_domain_and_respects_fixed_values(name):
    spec = get_scenario(name)
    draws = [spec.sample_params(np.random.default_rng(7)) for _ in range(2)]
    assert draws[0] == draws[1]
    rng = np.random.default_rng(0)
    first = spec.parameters[0]
    pinned = (first.low + first.high) / 2 if first.is_numeric else first.choices[-1]
    for _ in range(200):
        params = spec.sample_params(rng, {first.name: pinned})
        assert params[first.name] == pinned
        for p in spec.parameters:
            if p.is_numeric:
                assert p.low <= params[p.name] <= p.high and math.isfinite(params[p.name])
            else:
                assert params[p.name] in p.choices
