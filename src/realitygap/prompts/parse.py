"""Prompts as context: "a red ball dropped from 2 m onto the floor" -> scenario `drop`, height_m = 2, colour red.

The scenario is the one whose descriptions (its summary, its prompt template at the defaults and the
hand-written paraphrases it declares, `prompt_phrases`) are nearest to the prompt in MiniLM sentence-embedding
space, numbers removed from both sides. A prompt is refused when no scenario is near enough
(`MIN_SIMILARITY`) or when the best two are too close to tell apart (`MIN_MARGIN`).

Parameters come from the quantities of the prompt (`units.find_quantities`): each is given to the chosen
scenario's parameter of its dimension whose keywords (the scenario's `param_hints`) are nearest to it in the text
(a greedy matching, best keyword score first); a quantity with no keyword goes to the first free
parameter of its dimension. Colours and other choices are read by name. Everything not said takes the
scenario default, and every value goes through the scenario's own `resolve_params`, so its domain holds.
"""

from __future__ import annotations

import bisect
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Mapping

from pydantic import BaseModel, ConfigDict

from realitygap.prompts.units import DIMENSION_UNITS, TextQuantity, find_quantities
from realitygap.runtime.errors import InputError
from realitygap.scenarios import Parameter, ScenarioSpec, get_scenario, scenario_names
from realitygap.scenarios.hints import Hint

if TYPE_CHECKING:
    import numpy as np

    from realitygap.prompts.embed import PromptEncoder

MIN_SIMILARITY = 0.5
"""Cosine similarity below which a prompt describes none of the scenarios (calibrated: see tests/prompts)."""
MIN_MARGIN = 0.015
"""Best minus second-best scenario similarity below which a prompt is ambiguous."""
QUOTE_CHARS = 80
"""Longest piece of the prompt a message quotes."""


class ParamOrigin(BaseModel):
    """Where a parameter value came from: the prompt (with the phrase that gave it), the default, or --param."""

    model_config = ConfigDict(frozen=True)

    source: Literal["prompt", "default", "option"]
    phrase: str = ""


class PromptCost(BaseModel):
    """Context-setup cost of a prompt: its length (characters, words, MiniLM tokens) and the parse time (s), of
    which `reference_embed_s` embedded the scenario descriptions (once per encoder: 0 on later prompts)."""

    model_config = ConfigDict(frozen=True)

    prompt_chars: int
    prompt_words: int
    prompt_tokens: int
    parse_wall_s: float
    reference_embed_s: float
    encoder_load_s: float


class PromptSpec(BaseModel):
    """What a prompt specifies: the scenario (with its similarity and the runner-up's), every parameter
    resolved through the scenario's domain, where each value came from, the numbers left unused.
    `prompt` is the user's text as given (what contexts record)."""

    model_config = ConfigDict(frozen=True)

    prompt: str
    scenario: str
    similarity: float
    runner_up: str
    runner_up_similarity: float
    params: dict[str, float | str]
    origins: dict[str, ParamOrigin]
    ignored: tuple[str, ...] = ()
    cost: PromptCost

    def with_options(self, options: Mapping[str, str]) -> "PromptSpec":
        """The spec with some parameters set explicitly (`--param name=value`), re-validated."""
        if not options:
            return self
        params = get_scenario(self.scenario).resolve_params({**self.params, **options})
        origins = {**self.origins, **{name: ParamOrigin(source="option", phrase=f"--param {name}={options[name]}")
                                      for name in options}}
        return self.model_copy(update={"params": params, "origins": origins})

    def setup_timing(self) -> dict[str, float | int]:
        """The non-deterministic part of the context-setup cost, for timing.json."""
        return {"parse_wall_s": self.cost.parse_wall_s, "reference_embed_s": self.cost.reference_embed_s,
                "encoder_load_s": self.cost.encoder_load_s, "prompt_tokens": self.cost.prompt_tokens}


def parse_prompt(text: str, encoder: "PromptEncoder") -> PromptSpec:
    """The scenario and parameters that `text` asks for; InputError (one line) for a prompt outside the domain."""
    started = time.perf_counter()
    given_text, text = text, " ".join(text.split())
    if not text:
        raise InputError("the prompt is empty: describe a scene, e.g. 'a red ball dropped from 2 m onto the floor'")
    if not _is_text(text):
        raise InputError(f"the prompt {_quoted(text)} holds bytes that are not UTF-8 text (shown as \\udcXX)")
    quantities = find_quantities(text)
    reference_started = time.perf_counter()
    reference_vectors(encoder)
    reference_embed_s = time.perf_counter() - reference_started
    ranking = rank_scenarios(text, encoder)
    (best, similarity), (runner_up, runner_up_similarity) = ranking[0], ranking[1]
    if similarity < MIN_SIMILARITY:
        raise InputError(f"the prompt {_quoted(text)} describes none of the scenarios (nearest: {best}, similarity "
                         f"{similarity:.2f} < {MIN_SIMILARITY}); known: {', '.join(scenario_names())}")
    if similarity - runner_up_similarity < MIN_MARGIN:
        raise InputError(f"the prompt {_quoted(text)} is ambiguous between {best} ({similarity:.2f}) and {runner_up} "
                         f"({runner_up_similarity:.2f}): say what happens more precisely, or name the scenario")
    scenario = get_scenario(best)
    given, phrases, ignored = read_params(scenario, text, quantities)
    params = scenario.resolve_params(given)
    origins = {p.name: ParamOrigin(source="prompt", phrase=phrases[p.name]) if p.name in phrases
               else ParamOrigin(source="default") for p in scenario.parameters}
    cost = PromptCost(prompt_chars=len(given_text), prompt_words=len(text.split()), prompt_tokens=encoder.count_tokens(text),
                      parse_wall_s=time.perf_counter() - started, reference_embed_s=reference_embed_s,
                      encoder_load_s=encoder.load_s)
    return PromptSpec(prompt=given_text, scenario=best, similarity=similarity, runner_up=runner_up,
                      runner_up_similarity=runner_up_similarity, params=params, origins=origins,
                      ignored=tuple(ignored), cost=cost)


def _quoted(text: str, limit: int = QUOTE_CHARS) -> str:
    """`text` quoted for a message, at most `limit` characters: a long prompt is not echoed whole."""
    shown = repr(text)
    if len(shown) <= limit:
        return shown
    cut = text[:limit]
    while len(repr(cut + "…")) > limit:  # escapes (\x00) take more than one character
        cut = cut[:-1]
    return repr(cut + "…")


def _is_text(text: str) -> bool:
    """Whether `text` is valid Unicode text (argv bytes that are not UTF-8 arrive as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- scenario choice ------------------------------------------------------------------------------

def scenario_descriptions() -> list[tuple[str, str]]:
    """(scenario name, description) pairs that prompts are compared with."""
    pairs = []
    for name in scenario_names():
        scenario = get_scenario(name)
        for text in (scenario.summary, scenario.prompt({}), *scenario.prompt_phrases):
            pairs.append((name, text))
    return pairs


def rank_scenarios(text: str, encoder: "PromptEncoder") -> list[tuple[str, float]]:
    """Every scenario with its similarity to `text` (the largest cosine similarity between the number-free
    prompt and one of its number-free descriptions), best first; ties keep registry order."""
    pairs = scenario_descriptions()
    similarities = reference_vectors(encoder) @ encoder.encode([without_numbers(text)])[0]
    best: dict[str, float] = {}
    for (name, _), value in zip(pairs, similarities):
        best[name] = max(best.get(name, -1.0), float(value))
    return sorted(best.items(), key=lambda item: -item[1])


def reference_vectors(encoder: "PromptEncoder") -> "np.ndarray":
    """(N, 384) embeddings of the number-free `scenario_descriptions()`, computed once per encoder."""
    return encoder.encode_cached([without_numbers(d) for _, d in scenario_descriptions()])


def without_numbers(text: str) -> str:
    """`text` with every quantity (number and unit) removed, spaces collapsed: what is embedded."""
    kept, position = [], 0
    for quantity in find_quantities(text):
        kept.append(text[position:quantity.start])
        position = quantity.end
    kept.append(text[position:])
    return " ".join("".join(kept).split())


# --- parameters -----------------------------------------------------------------------------------

_DIMENSIONS = {unit: dimension for dimension, unit in DIMENSION_UNITS.items() if dimension not in ("none", "dimensionless")}
COLOURS = ("red", "blue", "green", "yellow", "orange", "purple", "pink", "white", "black", "grey", "gray", "brown",
           "violet", "cyan", "magenta", "silver", "gold", "golden", "turquoise", "beige")
OBJECT_NOUNS = frozenset("ball balls sphere bob box crate block cube car vehicle truck puck pucks disc disk door drone "
                         "quadrotor quadcopter one".split())
SCENE_NOUNS = frozenset("floor wall background road ground sky table surface lamp light shadow pivot rod hinge street "
                        "track ice room scene".split())
_REST_WORDS = frozenset("rest stationary resting still standing parked waiting motionless".split())
_HIT_WORDS = frozenset("hits hit strikes struck into against collides meets reaches bumps".split())
_MOVING_WORDS = frozenset("slides sliding slide moves moving travels travelling traveling glides gliding comes".split())
_BOUNDARY = frozenset(".,;!?()")


def parameter_dimension(parameter: Parameter) -> str:
    """'length', 'speed', ... of a numeric parameter (from its unit); 'dimensionless' for unit ''."""
    return _DIMENSIONS.get(parameter.unit, "dimensionless")


def read_params(scenario: ScenarioSpec, text: str, quantities: list[TextQuantity]
                ) -> tuple[dict[str, float | str], dict[str, str], list[str]]:
    """(parameter values said in `text`, the phrase that gave each, numbers left unused) for `scenario`.

    Raises InputError for a quantity whose dimension no parameter has, a value outside a parameter's
    domain, a number that needs a unit, two values for one parameter, or a colour the scenario lacks.
    """
    items = _items(text, quantities)
    values, phrases, used = _numeric_params(scenario, text, quantities, items)
    ignored = [q.text for i, q in enumerate(quantities) if i not in used]
    for name, (value, phrase) in _choice_params(scenario, text, items).items():
        values[name], phrases[name] = value, phrase
    return values, phrases, ignored


def _numeric_params(scenario: ScenarioSpec, text: str, quantities: list[TextQuantity], items: list[_Item]
                    ) -> tuple[dict[str, float | str], dict[str, str], set[int]]:
    """Numeric parameter values, their phrases, and the indices of the quantities used."""
    numeric = [p for p in scenario.parameters if p.is_numeric]
    facts = scenario.prompt_facts
    hints = scenario.param_hints
    targets = [(p.name, parameter_dimension(p), hints.get(p.name, ())) for p in numeric]
    targets += [(f"fact:{i}", fact.dimension, fact.hints) for i, fact in enumerate(facts)]
    scored = []  # (-score, quantity index, target index, hint)
    windows = _all_windows(items)
    for qi, quantity in enumerate(quantities):
        left, right = windows[qi]
        dimension = "dimensionless" if quantity.dimension == "none" else quantity.dimension
        for ti, (_, target_dimension, target_hints) in enumerate(targets):
            if target_dimension != dimension:
                continue
            bare = 0 if quantity.dimension != "none" else 1 if quantity.spelled else 3
            score, hint = _hint_score(target_hints, left, right, bare_reach=bare)
            if score > 0:
                scored.append((-score, qi, ti, hint))
    scored.sort(key=lambda s: (s[0], s[1], s[2]))
    assigned: dict[int, tuple[int, Hint | None]] = {}  # quantity index -> (target index, hint)
    taken: dict[int, int] = {}  # target index -> quantity index
    for _, qi, ti, hint in scored:
        if qi not in assigned and ti not in taken:
            assigned[qi], taken[ti] = (ti, hint), qi
    hinted = {qi for _, qi, _, _ in scored}
    for qi, quantity in enumerate(quantities):
        if qi in assigned or quantity.dimension == "none":
            continue
        dimension = quantity.dimension
        same = [ti for ti, t in enumerate(targets) if t[1] == dimension and not t[0].startswith("fact:")]
        if not same:
            names = ", ".join(f"{p.name} ({p.unit or 'no unit'})" for p in numeric)
            article = "an" if dimension[0] in "aeiou" else "a"
            raise InputError(f"{_quoted(quantity.text)} ({article} {dimension}, {quantity.unit}) cannot be mapped to any parameter "
                             f"of {scenario.name}: its numeric parameters are {names}")
        free = [ti for ti in same if ti not in taken]
        if qi in hinted or not free:
            owners = ", ".join(f"{targets[ti][0]} by {_quoted(quantities[taken[ti]].text)}" for ti in same if ti in taken)
            raise InputError(f"{_quoted(quantity.text)} is one {dimension} too many for {scenario.name}: {owners} already")
        assigned[qi], taken[free[0]] = (free[0], None), qi
    for qi, quantity in enumerate(quantities):
        if qi not in assigned and quantity.dimension == "none" and not quantity.spelled:
            _refuse_unitless(scenario, quantity, windows[qi], targets)

    values: dict[str, float | str] = {}
    phrases: dict[str, str] = {}
    for qi, (ti, hint) in sorted(assigned.items()):
        quantity, (name, _, _) = quantities[qi], targets[ti]
        value = float(f"{quantity.value * (hint.factor if hint else 1.0):.6g}")
        phrase = _phrase(text, items, qi, hint)
        if name.startswith("fact:"):
            fact = facts[int(name[5:])]
            if abs(value - fact.value) > 0.01 * fact.value:
                raise InputError(f"{scenario.name} has a fixed {fact.description} of {fact.value:g} "
                                 f"{DIMENSION_UNITS[fact.dimension]}; {_quoted(phrase)} cannot change it")
            continue
        parameter = scenario.parameter(name)
        assert parameter.low is not None and parameter.high is not None
        if not parameter.low <= value <= parameter.high:
            raise InputError(f"{scenario.name} {name} = {value:g} {parameter.unit} (from {_quoted(phrase)}) is outside "
                             f"{parameter.domain_text()}".replace("  ", " "))
        values[name], phrases[name] = value, phrase
    return values, phrases, set(assigned)


def _refuse_unitless(scenario, quantity, windows, targets) -> None:
    """A digit number right next to a keyword of a parameter with a unit: the user forgot the unit."""
    left, right = windows
    hints = scenario.param_hints
    for name, dimension, _ in targets:
        if dimension == "dimensionless" or name.startswith("fact:"):
            continue
        near = [h for h in hints.get(name, ()) if h.side != "right" and _find(left, h.words, 2) is not None]
        if near:
            unit = DIMENSION_UNITS[dimension]
            raise InputError(f"{_quoted(quantity.text)} after {near[0].phrase!r} has no unit: write e.g. "
                             f"{_quoted(f'{quantity.text} {unit}')} for {scenario.name} {name}")


# --- text helpers ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Item:
    kind: Literal["word", "boundary", "quantity"]
    text: str
    start: int
    end: int
    quantity: int = -1


def _items(text: str, quantities: list[TextQuantity]) -> list[_Item]:
    """Words, boundaries (punctuation) and quantities of `text` in order; words inside a quantity are dropped."""
    lowered = text.lower()
    items = [_Item("quantity", q.text, q.start, q.end, i) for i, q in enumerate(quantities)]
    starts = [q.start for q in quantities]  # in order, not overlapping: a word is inside the last one starting before it
    for match in re.finditer(r"[a-z]+(?:_[a-z]+)*|[.,;!?()]", lowered):
        k = bisect.bisect_right(starts, match.start()) - 1
        if k >= 0 and match.start() < quantities[k].end:
            continue
        kind = "boundary" if match.group() in _BOUNDARY else "word"
        items.append(_Item(kind, match.group(), match.start(), match.end()))
    return sorted(items, key=lambda item: item.start)


def _windows(items: list[_Item], quantity: int) -> tuple[list[_Item], list[_Item]]:
    """Words left of the quantity (nearest first) and right of it, up to a boundary or another quantity."""
    return _windows_at(items, next(i for i, item in enumerate(items) if item.quantity == quantity))


def _all_windows(items: list[_Item]) -> dict[int, tuple[list[_Item], list[_Item]]]:
    """`_windows` of every quantity, in one pass (a prompt may hold thousands of quantities)."""
    return {item.quantity: _windows_at(items, k) for k, item in enumerate(items) if item.kind == "quantity"}


def _windows_at(items: list[_Item], k: int) -> tuple[list[_Item], list[_Item]]:
    left, right = [], []
    for i in range(k - 1, -1, -1):
        if items[i].kind != "word":
            break
        left.append(items[i])
    for i in range(k + 1, len(items)):
        if items[i].kind != "word":
            break
        right.append(items[i])
    return left, right


def _find(window: list[_Item], words: tuple[str, ...], reach: int, reverse: bool = True) -> int | None:
    """Distance (1 = adjacent) of the nearest occurrence of `words` in `window` (nearest item first), or None."""
    n = len(words)
    for d in range(min(reach, len(window))):
        span = window[d:d + n] if not reverse else window[d:d + n][::-1]
        if len(span) == n and tuple(item.text for item in span) == words:
            return d + 1
    return None


def _hint_score(hints: tuple[Hint, ...], left: list[_Item], right: list[_Item], bare_reach: int = 0
                ) -> tuple[float, Hint | None]:
    """Best `weight / distance` of the hints found near a quantity (right side x 0.9). A number without a unit
    takes right-hand hints only within `bare_reach` words ("0.3 friction", "twice as heavy")."""
    best, best_hint = 0.0, None
    for hint in hints:
        for side, window, scale in (("left", left, 1.0), ("right", right, 0.9)):
            if hint.side not in (side, "both"):
                continue
            reach = min(hint.reach, (bare_reach or 3) if side == "right" else 4)
            distance = _find(window, hint.words, reach, reverse=side == "left")
            if distance is not None and hint.weight * scale / distance > best:
                best, best_hint = hint.weight * scale / distance, hint
    return best, best_hint


def _phrase(text: str, items: list[_Item], quantity: int, hint: Hint | None) -> str:
    """The words of `text` from the hint to the quantity (or the quantity alone)."""
    item = next(i for i in items if i.quantity == quantity)
    if hint is None:
        return item.text
    left, right = _windows(items, quantity)
    distance = _find(left, hint.words, 4)
    if distance is not None and hint.side != "right":
        return text[left[distance + len(hint.words) - 2].start:item.end]
    distance = _find(right, hint.words, 3, reverse=False)
    if distance is not None:
        return text[item.start:right[distance + len(hint.words) - 2].end]
    return item.text


def _choice_params(scenario: ScenarioSpec, text: str, items: list[_Item]) -> dict[str, tuple[str, str]]:
    """Colours and other choices said in the text: name -> (value, phrase)."""
    found: dict[str, tuple[str, str]] = {}
    colour_params = [p for p in scenario.parameters if not p.is_numeric and set(p.choices or ()) <= set(COLOURS)]
    if colour_params:
        found.update(_colours(scenario, colour_params, items))
    lowered = text.lower()
    for parameter in scenario.parameters:
        if parameter.is_numeric or parameter in colour_params:
            continue
        for choice in parameter.choices or ():
            words = [("(?:rear|back)" if w == "rear" else re.escape(w)) for w in choice.split("_")]
            pattern = r"\b(?:" + r"[ _-]?".join(words) + "|" + r"[ _-]?".join(words[::-1]) + r")\b"
            match = re.search(pattern, lowered)
            if match:
                found[parameter.name] = (choice, text[match.start():match.end()])
                break
    return found


def _colours(scenario: ScenarioSpec, parameters: list[Parameter], items: list[_Item]) -> dict[str, tuple[str, str]]:
    """Object colours: a colour word not followed by a scene noun ('grey floor'). With two colour parameters
    (a moving and a resting object), a colour followed by 'slides' goes to the first, one followed by
    'at rest' or after 'hits' to the second, the others in order of appearance."""
    words = [(i, item) for i, item in enumerate(items) if item.kind == "word"]
    said: list[tuple[str, bool, bool, str]] = []  # (colour, said of a moving object, of a resting one, phrase)
    for position, (i, item) in enumerate(words):
        if item.text not in COLOURS:
            continue
        following = _words_until_boundary(items, i + 1, 3)
        noun = next((w for w in following if w in OBJECT_NOUNS or w in SCENE_NOUNS), None)
        if noun in SCENE_NOUNS:
            continue
        painted = position > 0 and words[position - 1][1].text in ("painted", "coloured", "colored")
        if item.text not in parameters[0].choices:
            if noun in OBJECT_NOUNS or painted:
                raise InputError(f"{scenario.name} has no {item.text} {noun or 'object'}: {parameters[0].name} is one of "
                                 f"{', '.join(parameters[0].choices or ())}")
            continue
        after = _words_until_boundary(items, i + 1, 4)
        before = [w.text for _, w in words[max(0, position - 3):position]]
        moving = bool(_MOVING_WORDS & set(after))
        resting = not moving and (bool(_REST_WORDS & set(after)) or bool(_HIT_WORDS & set(before)))
        said.append((item.text, moving, resting, f"{item.text} {noun}" if noun else item.text))
    found: dict[str, tuple[str, str]] = {}
    if len(parameters) > 1:
        for parameter, role in ((parameters[0], 1), (parameters[1], 2)):
            explicit = next((s for s in said if s[role] and s[0] not in {v for v, _ in found.values()}), None)
            if explicit:
                found[parameter.name] = (explicit[0], explicit[3])
    used = {value for value, _ in found.values()}
    free = [p for p in parameters if p.name not in found]
    for colour, _, _, phrase in said:
        if not free:
            break
        if colour not in used:
            found[free.pop(0).name] = (colour, phrase)
            used.add(colour)
    return found


def _words_until_boundary(items: list[_Item], start: int, count: int) -> list[str]:
    words = []
    for item in items[start:]:
        if item.kind != "word" or len(words) == count:
            break
        words.append(item.text)
    return words
