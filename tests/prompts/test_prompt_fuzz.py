"""Prompts, fuzzed (issue 16, deliverable 3): `realitygap simulate --prompt TEXT` with unicode, control characters,
NUL, bytes that are not UTF-8, 100 kB of text, nothing, only numbers, only units, and the calibrated phrasings with
their numbers and units replaced. Every prompt is read as a valid spec or refused in one short line.

- `test_any_prompt_is_read_or_refused` (1,000 generated prompts and the examples): `parse_prompt` with the real
  sentence encoder, what the command calls. Accepted: a known scenario and parameters its own domain accepts, the
  prompt kept as given. Refused: one InputError, one line of at most `MAX_MESSAGE_CHARS` (a 100 kB prompt is not
  echoed whole).
- `test_any_prompt_on_the_command_line` (100): the same through `realitygap simulate --prompt`, with --param
  options beside it, stopped where the simulation would begin (`tests/fuzzing.py` holds the contract).
"""

from __future__ import annotations

import math

from hypothesis import example, given, settings
from hypothesis import strategies as st

from realitygap.prompts.units import UNITS
from realitygap.runtime.errors import InputError, one_line
from realitygap.scenarios import get_scenario, scenario_names
from tests.fuzzing import FUZZ, Counter, case_folder, check_outcome, run_realitygap, scaled, stop_before_work
from tests.prompts.test_parse import PHRASINGS, REFUSED

MAX_MESSAGE_CHARS = 500
"""Longest refusal: it names the problem and quotes the prompt's words, not the whole prompt."""
PROMPT_BYTES = 100_000

any_text = st.text(st.characters(codec=None), max_size=40)
"""Any code point, surrogates included: argv bytes that are not UTF-8 arrive as surrogates."""
controls = st.sampled_from(["\x00", "\x01", "\x07", "\x08", "\t", "\n", "\r", "\x0b", "\x0c", "\x1b[31m", "\x1c", "\x7f", "\x85",
                            "\u200b", "\u200e", "\u202e", "\u2028", "\u3000", "\ufeff", "\ufffd", "\udcff", "\U0001f3c0"])
numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(lambda v: f"{v:g}"),
    st.floats(0, 100).map(lambda v: f"{v:.3f}"),
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(("0", "-1", "-0", ".5", "5.", "1e400", "1e-400", "9" * 400, "1" * 5000, "0" * 300 + "1", "1,5", "1.2.3",
                     "٣", "２", "²", "½", "Ⅻ", "two and a half", "twenty-five", "a dozen", "half", "zero", "nineteen",
                     "a hundred", "three quarters", "thrice", "nan", "inf", "NaN m", "10^3", "1_000", "0x10")))
units = st.sampled_from(sorted(UNITS) + ["", " ", "m/s²", "furlongs", "metres per fortnight", "°", "%", "µm"])
quantities = st.tuples(numbers, st.sampled_from(("", " ", "  ", "-", " - ")), units).map("".join)
SUBJECTS = ("a red ball", "a ball", "a box", "a blue crate", "a car", "a pendulum", "a bob", "a puck", "two pucks", "a door",
            "a drone", "a quadrotor", "the lamp", "a shadow", "it", "")
VERBS = ("is dropped from", "falls", "bounces with restitution", "slides at", "brakes at", "swings from", "is thrown at",
         "hits", "is pushed with", "rolls behind a wall", "hovers", "weighs", "is", "at", "from a height of", "with friction",
         "at an angle of", "with drag", "after a reaction time of")


@st.composite
def sentences(draw) -> str:
    """Words of the scenarios' phrasings around numbers and units."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        parts += [draw(st.sampled_from(SUBJECTS)), draw(st.sampled_from(VERBS)), draw(quantities)]
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from((",", ".", "and", "onto the floor", "of", "(", ")", draw(controls)))))
    return " ".join(parts)


@st.composite
def mutated_phrasings(draw) -> str:
    """A calibrated phrasing (or a refused one) with numbers, units or characters swapped, cut or repeated."""
    text = draw(st.sampled_from([p for p, _, _ in PHRASINGS] + REFUSED))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        insert = draw(st.one_of(quantities, controls, any_text, st.sampled_from(("", " ", "0", "m", "-"))))
        cut = draw(st.integers(0, 6))
        text = text[:at] + insert + text[at + cut:]
    return text


def long_text(pattern: str) -> str:
    """`pattern` repeated to PROMPT_BYTES characters."""
    pattern = pattern or " "
    return (pattern * (PROMPT_BYTES // len(pattern) + 1))[:PROMPT_BYTES]


short_prompts = st.one_of(
    sentences(), sentences(), sentences(), mutated_phrasings(), mutated_phrasings(), mutated_phrasings(),
    st.sampled_from([p for p, _, _ in PHRASINGS]),
    any_text, any_text,
    st.lists(controls, max_size=8).map("".join),
    st.sampled_from(("", " ", "\t\n", "\u3000", "\x1c\x1d\x1e\x1f", "\u200b", "\x00")),
    st.lists(numbers, min_size=1, max_size=6).map(" ".join),
    st.lists(units, min_size=1, max_size=6).map(" ".join),
    st.lists(quantities, min_size=1, max_size=6).map(" ".join),
)
long_prompts = st.one_of(sentences(), any_text, st.sampled_from(("a ball dropped from 2 m ", "9", "m ", "\x00", "ball "))
                         ).map(long_text)
prompts = st.integers(0, 39).flatmap(lambda k: long_prompts if k == 0 else short_prompts)
"""One prompt in 40 is 100 kB long (about 0.3 s each, the rest take 20 ms)."""


def check_spec(prompt: str, spec) -> None:
    """A spec the scenario's own domain accepts, for the prompt as given."""
    assert spec.prompt == prompt and spec.scenario in scenario_names()
    scenario = get_scenario(spec.scenario)
    assert spec.params == scenario.resolve_params(spec.params)
    assert set(spec.origins) == {p.name for p in scenario.parameters}
    assert all(math.isfinite(v) for v in spec.params.values() if isinstance(v, float))


def check_refusal(error: InputError) -> None:
    message = one_line(str(error))
    assert message and len(message) <= MAX_MESSAGE_CHARS, f"{len(message)} characters: {message[:300]}..."


def test_any_prompt_is_read_or_refused(encoder):
    """1,000 generated prompts (and the examples below), parsed with the real encoder."""
    from realitygap.prompts.parse import parse_prompt

    count = Counter()

    @settings(FUZZ, max_examples=scaled(1000))
    @given(prompt=prompts)
    @example(prompt="a red ball dropped from 2 m onto the floor")
    @example(prompt="a ball dropped from 2 m \udcff")  # TypeError in the tokenizer: argv bytes that are not UTF-8
    @example(prompt="\udcff\udcfe")
    @example(prompt=long_text("xyzzy "))  # refused with the whole 100 kB prompt in the line
    @example(prompt="a ball dropped from " + "1" * 100_000 + " m")  # the 100 kB number quoted whole
    @example(prompt="a red ball dropped from 2 m onto the floor " + "2 m " * 25_000)  # a minute: quadratic in quantities
    @example(prompt="a ball dropped from 1e400 m")
    @example(prompt="")
    @example(prompt="\x00")
    @example(prompt="2 m 3 m 4 m 5 m")
    @example(prompt="m s kg km/h °c %")
    def one_case(prompt):
        count()
        try:
            spec = parse_prompt(prompt, encoder)
        except InputError as error:
            check_refusal(error)
            count.ended("refused")
            return
        check_spec(prompt, spec)
        count.ended("accepted")

    one_case()
    print(f"prompts parsed: {count}")
    assert count.n >= scaled(1000)


def test_any_prompt_on_the_command_line(encoder, tmp_path_factory):
    """100 generated `realitygap simulate --prompt ...` command lines (and the examples below), stopped where the
    simulation would begin."""
    root, folders, count = tmp_path_factory.mktemp("fuzz-prompt"), [0], Counter()
    params = st.lists(st.sampled_from(("height_m=1", "radius_m=0.05", "colour=blue", "colour=RED", "height_m=nan",
                                       "restitution=0.5", "nope=1", "height_m", "")), max_size=2)

    @settings(FUZZ, max_examples=scaled(100))
    @given(prompt=st.one_of(st.sampled_from([p for p, _, _ in PHRASINGS]), prompts.filter(lambda p: "\x00" not in p)),
           params=params, with_scenario=st.integers(0, 9))
    @example(prompt="a red ball dropped from 2 m onto the floor", params=["radius_m=0.05"], with_scenario=1)
    @example(prompt="a ball dropped from 2 m \udcff", params=[], with_scenario=1)
    @example(prompt="a ball dropped from 1 m", params=[], with_scenario=0)  # a SCENARIO and --prompt
    def one_case(prompt, params, with_scenario):
        count()
        with case_folder(root, folders) as where, stop_before_work():
            scenario = ["drop"] if with_scenario == 0 else []
            args = ["simulate", *scenario, "--prompt", prompt, *[a for p in params for a in ("--param", p)],
                    "--out", where / "out", "--size", "32", "--fps", "10", "--sensors", "rgb"]
            outcome = run_realitygap(args, where)
            count.ended(outcome.how)
            check_outcome(outcome, roots=[where], new_outs=[where / "out"])
            if outcome.code == 2:
                assert len(outcome.err.strip()) <= MAX_MESSAGE_CHARS + len("error: "), outcome.err[:300]

    one_case()
    print(f"simulate --prompt command lines: {count}")
    assert count.n >= scaled(100)
