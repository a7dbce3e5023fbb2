"""Prompt -> (scenario, parameters): 20 phrasings, refusals, template round trips, the calibrated thresholds."""

import json
import math

import numpy as np
import pytest

from realitygap.episode.types import Context, context_setup_cost
from realitygap.prompts.parse import MIN_MARGIN, MIN_SIMILARITY, parse_prompt, rank_scenarios
from realitygap.runtime.errors import InputError
from realitygap.scenarios import get_scenario, scenario_names

FT, MILE = 0.3048, 1609.344

# (prompt, scenario, parameters the prompt sets, converted by hand); every other parameter must be the default
PHRASINGS = [
    ("a red ball dropped from 2 m onto the floor", "drop", {"height_m": 2.0, "colour": "red"}),
    ("Let go of a blue ball 150 cm above the ground", "drop", {"height_m": 1.5, "colour": "blue"}),
    ("A green ball 10 cm in diameter is released from a height of 6 ft", "drop",
     {"height_m": 6 * FT, "radius_m": 0.05, "colour": "green"}),
    ("From two and a half metres up, a yellow ball falls to the floor", "drop", {"height_m": 2.5, "colour": "yellow"}),
    ("A rubber ball dropped from 1.2 m bounces on the floor, restitution 0.8", "bounce",
     {"height_m": 1.2, "restitution": 0.8}),
    ("Drop a bouncy orange ball from half a metre and watch it bounce back up with a coefficient of restitution of 0.9",
     "bounce", {"height_m": 0.5, "restitution": 0.9, "colour": "orange"}),
    ("A box slides along the floor at 3 m/s with friction 0.3 and stops", "slide", {"speed_m_s": 3.0, "friction": 0.3}),
    ("A 30 cm wide blue crate skids across the floor after being pushed at 5 km/h", "slide",
     {"size_m": 0.3, "speed_m_s": 5 / 3.6, "colour": "blue"}),
    ("A car driving at 30 km/h brakes hard and skids to a stop", "braking", {"speed_m_s": 30 / 3.6}),
    ("The driver of a yellow car going 20 mph slams on the brakes after a 300 ms reaction time", "braking",
     {"speed_m_s": 20 * MILE / 3600, "reaction_time_s": 0.3, "colour": "yellow"}),
    ("A pendulum 1 m long swings from 20 degrees", "pendulum", {"length_m": 1.0, "release_angle_deg": 20.0}),
    ("Swing a red bob on a 50 cm rod, released at 0.5 rad", "pendulum",
     {"length_m": 0.5, "release_angle_deg": math.degrees(0.5), "colour": "red"}),
    ("A ball is thrown at 6 m/s at 60° above the horizontal", "projectile", {"speed_m_s": 6.0, "launch_angle_deg": 60.0}),
    ("Launch a ball at 15 km/h and 30 degrees with air drag 0.2 per second", "projectile",
     {"speed_m_s": 15 / 3.6, "launch_angle_deg": 30.0, "drag_per_s": 0.2}),
    ("A red puck sliding at 2 m/s hits a blue puck at rest that is twice as heavy", "collision",
     {"speed_m_s": 2.0, "mass_ratio": 2.0, "colour_a": "red", "colour_b": "blue"}),
    ("A hinged door 90 cm wide weighing 25 kg is pushed open", "door", {"width_m": 0.9, "mass_kg": 25.0}),
    ("A ball rolls at 0.5 m/s behind a wall 40 cm wide and comes out the other side", "occlusion",
     {"speed_m_s": 0.5, "wall_width_m": 0.4}),
    ("Under a lamp 3 m high, a ball is carried 50 cm above the floor at 0.8 m/s, casting a shadow", "shadow",
     {"light_height_m": 3.0, "object_height_m": 0.5, "speed_m_s": 0.8}),
    ("A quadrotor hovering with its rear left rotor at 90% thrust tips over", "quadrotor",
     {"defective_rotor": "rear_left", "thrust_scale": 0.9}),
    ("A drone with 20 cm arms whose front right motor is weak (0.88 of hover thrust) flips", "quadrotor",
     {"arm_length_m": 0.2, "defective_rotor": "front_right", "thrust_scale": 0.88}),
]

REFUSED = ["bake a chocolate cake", "what is the weather in Paris", "a car flies to the moon", "a cat sleeps on a sofa",
           "the stock market crashes", "play some music", "a rocket launches into orbit", "write a poem about the sea",
           "a glass shatters on the floor", "a balloon pops", "a plane takes off from the runway", "two people shake hands"]


def test_phrasings_span_eight_scenarios():
    assert len(PHRASINGS) == 20 and len({scenario for _, scenario, _ in PHRASINGS}) >= 8


@pytest.mark.parametrize("prompt, scenario, expected", PHRASINGS, ids=[p[:40] for p in (row[0] for row in PHRASINGS)])
def test_phrasing_maps_to_scenario_and_parameters(encoder, prompt, scenario, expected):
    spec = parse_prompt(prompt, encoder)
    assert spec.scenario == scenario
    defaults = get_scenario(scenario).resolve_params({})
    for name, value in spec.params.items():
        want = expected.get(name, defaults[name])
        assert value == (pytest.approx(want, rel=1e-5) if isinstance(want, float) else want), name
        assert spec.origins[name].source == ("prompt" if name in expected else "default"), name
        if name in expected:
            assert spec.origins[name].phrase and spec.origins[name].phrase in prompt
    assert spec.prompt == prompt and spec.cost.prompt_chars == len(prompt) and spec.cost.prompt_tokens > 0


def test_thresholds_separate_phrasings_from_refused_prompts(encoder):
    """The calibration: every phrasing is above MIN_SIMILARITY with its scenario ahead by more than MIN_MARGIN,
    every refused prompt is below MIN_SIMILARITY."""
    margins, best = [], []
    for prompt, scenario, _ in PHRASINGS:
        (first, s1), (_, s2) = rank_scenarios(prompt, encoder)[:2]
        assert first == scenario, prompt
        margins.append(s1 - s2)
        best.append(s1)
    refused = [rank_scenarios(prompt, encoder)[0][1] for prompt in REFUSED]
    print(f"min margin {min(margins):.3f}, min best {min(best):.3f}, max refused {max(refused):.3f}")
    assert min(margins) > MIN_MARGIN
    assert max(refused) < MIN_SIMILARITY < min(best)


@pytest.mark.parametrize("prompt", REFUSED)
def test_prompts_outside_every_scenario_are_refused(encoder, prompt):
    with pytest.raises(InputError, match="describes none of the scenarios"):
        parse_prompt(prompt, encoder)


@pytest.mark.parametrize("prompt, fragment", [
    ("a ball", "ambiguous between"),
    ("", "the prompt is empty"),
    ("a ball dropped from 20 ft", "drop height_m = 6.096 m (from 'from 20 ft') is outside [0.3, 3] m"),
    ("a pendulum swings from 90 degrees", "release_angle_deg = 90 deg"),
    ("a ball dropped from 2 m at 300 K", "'300 K' (a temperature, K) cannot be mapped to any parameter of drop"),
    ("a ball falls on the moon at 1.6 m/s²", "(an acceleration, m/s^2) cannot be mapped"),
    ("a 5 kg box slides across the floor", "'5 kg' (a mass, kg) cannot be mapped to any parameter of slide"),
    ("a box slides across the floor at 2 m/s then 3 m/s", "'3 m/s' is one speed too many for slide"),
    ("a ball falls from 2", "'2' after 'from' has no unit"),
    ("a purple ball is dropped from 1 m", "drop has no purple ball"),
    ("two pucks collide at 1 m/s; the pucks are 0.3 m wide", "fixed puck width of 0.2 m"),
])
def test_refusals_name_the_problem(encoder, prompt, fragment):
    with pytest.raises(InputError) as refused:
        parse_prompt(prompt, encoder)
    assert fragment in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize("name", scenario_names())
def test_scenario_templates_round_trip(encoder, name):
    """A scenario's own prompt (defaults and two random draws) gives back that scenario and parameters that
    format to the same prompt: every number of every template is read and mapped to its parameter."""
    scenario = get_scenario(name)
    rng = np.random.default_rng(7)
    for params in (scenario.resolve_params({}), scenario.sample_params(rng), scenario.sample_params(rng)):
        text = scenario.prompt(params)
        spec = parse_prompt(text, encoder)
        assert spec.scenario == name
        assert scenario.prompt(spec.params) == text


def test_parsing_is_deterministic_and_embeds_references_once(encoder, monkeypatch):
    prompt = PHRASINGS[14][0]
    first = parse_prompt(prompt, encoder)
    calls = []
    encode = encoder.encode
    monkeypatch.setattr(encoder, "encode", lambda texts: calls.append(len(texts)) or encode(texts))
    second = parse_prompt(prompt, encoder)
    assert first.model_dump(exclude={"cost"}) == second.model_dump(exclude={"cost"})
    assert calls == [1]  # the prompt only: the scenario descriptions were embedded by the first call


def test_options_override_the_prompt(encoder):
    spec = parse_prompt(PHRASINGS[0][0], encoder).with_options({"height_m": "0.5"})
    assert spec.params["height_m"] == 0.5 and spec.origins["height_m"].source == "option"
    with pytest.raises(InputError, match="outside its domain"):
        spec.with_options({"height_m": "9"})


def test_context_setup_cost_counts():
    context = Context(scenario="drop", params=get_scenario("drop").resolve_params({}), seed=3,
                      prompt="a red  ball dropped")
    cost = context_setup_cost(context)
    canonical = json.dumps(context.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    assert cost == {"spec_bytes": len(canonical.encode()), "prompt_chars": 19, "prompt_words": 4}
    longer = context_setup_cost(context.model_copy(update={"prompt": context.prompt + "!"}))
    assert longer["spec_bytes"] == cost["spec_bytes"] + 1 and longer["prompt_chars"] == 20
