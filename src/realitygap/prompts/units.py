"""Unit-aware number parsing: find the quantities ("2 m", "twenty km/h", "half a metre", "30°") in a prompt.

Every quantity is converted to the unit its dimension uses for scenario parameters: length m, speed m/s,
angle deg, time s, mass kg, rate 1/s, impulse N s, damping N m s/rad, dimensionless 1 (a % is / 100);
dimensions no scenario parameter has (acceleration m/s^2, temperature K, force N, frequency Hz, ...) are
still recognised, so that a prompt using them is refused instead of silently ignored. A number with no
unit is a quantity of dimension "none" (e.g. "friction 0.3", "two pucks").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# dimension -> the unit scenario parameters use for it (as in `Parameter.unit`)
DIMENSION_UNITS: dict[str, str] = {
    "length": "m", "speed": "m/s", "angle": "deg", "time": "s", "mass": "kg", "dimensionless": "", "rate": "1/s",
    "impulse": "N s", "damping": "N m s/rad", "acceleration": "m/s^2", "temperature": "K", "force": "N",
    "energy": "J", "power": "W", "frequency": "Hz", "volume": "m^3", "none": "",
}

_FT, _IN, _MILE = 0.3048, 0.0254, 1609.344
# (dimension, scale, offset): value in the dimension's unit = number * scale + offset
_UNIT_TABLE: dict[tuple[str, float, float], tuple[str, ...]] = {
    ("length", 1.0, 0.0): ("m", "meter", "meters", "metre", "metres"),
    ("length", 0.01, 0.0): ("cm", "centimeter", "centimeters", "centimetre", "centimetres"),
    ("length", 0.001, 0.0): ("mm", "millimeter", "millimeters", "millimetre", "millimetres"),
    ("length", 1000.0, 0.0): ("km", "kilometer", "kilometers", "kilometre", "kilometres"),
    ("length", _FT, 0.0): ("ft", "foot", "feet"),
    ("length", _IN, 0.0): ("in", "inch", "inches"),
    ("length", _MILE, 0.0): ("mi", "mile", "miles"),
    ("speed", 1.0, 0.0): ("m/s", "m s^-1", "m s-1", "mps", "meters per second", "metres per second",
                          "meter per second", "metre per second", "m per second", "meters a second", "metres a second"),
    ("speed", 0.01, 0.0): ("cm/s", "centimeters per second", "centimetres per second", "cm per second"),
    ("speed", 1 / 3.6, 0.0): ("km/h", "km/hr", "kmh", "kph", "km per hour", "kilometers per hour", "kilometres per hour",
                              "kilometers an hour", "kilometres an hour"),
    ("speed", _MILE / 3600, 0.0): ("mph", "miles per hour", "miles an hour", "mile per hour"),
    ("speed", _FT, 0.0): ("ft/s", "fps", "feet per second", "foot per second"),
    ("speed", 1852 / 3600, 0.0): ("knot", "knots", "kn", "kt"),
    ("acceleration", 1.0, 0.0): ("m/s^2", "m/s²", "m/s2", "m s^-2", "m s-2", "meters per second squared",
                                 "metres per second squared", "m per second squared"),
    ("angle", 1.0, 0.0): ("deg", "degree", "degrees", "°"),
    ("angle", 180 / math.pi, 0.0): ("rad", "radian", "radians"),
    ("mass", 1.0, 0.0): ("kg", "kilogram", "kilograms", "kilo", "kilos"),
    ("mass", 0.001, 0.0): ("g", "gram", "grams", "gramme", "grammes"),
    ("mass", 0.45359237, 0.0): ("lb", "lbs", "pound", "pounds"),
    ("time", 1.0, 0.0): ("s", "sec", "secs", "second", "seconds"),
    ("time", 0.001, 0.0): ("ms", "millisecond", "milliseconds", "msec"),
    ("time", 60.0, 0.0): ("min", "minute", "minutes"),
    ("dimensionless", 0.01, 0.0): ("%", "percent", "per cent"),
    ("rate", 1.0, 0.0): ("/s", "1/s", "per second", "per s", "s^-1", "s-1"),
    ("impulse", 1.0, 0.0): ("n s", "n·s", "n*s", "ns", "newton seconds", "newton-seconds", "newton second"),
    ("damping", 1.0, 0.0): ("n m s/rad", "n·m·s/rad", "nms/rad", "n m s / rad", "newton meter seconds per radian",
                            "newton metre seconds per radian"),
    ("temperature", 1.0, 0.0): ("k", "kelvin", "kelvins"),
    ("temperature", 1.0, 273.15): ("°c", "celsius", "degrees celsius", "degree celsius", "deg c", "centigrade"),
    ("temperature", 5 / 9, 273.15 - 32 * 5 / 9): ("°f", "fahrenheit", "degrees fahrenheit", "deg f"),
    ("force", 1.0, 0.0): ("n", "newton", "newtons"),
    ("energy", 1.0, 0.0): ("j", "joule", "joules"),
    ("power", 1.0, 0.0): ("w", "watt", "watts"),
    ("frequency", 1.0, 0.0): ("hz", "hertz"),
    ("frequency", 1 / 60, 0.0): ("rpm",),
    ("volume", 0.001, 0.0): ("l", "liter", "liters", "litre", "litres"),
}
UNITS: dict[str, tuple[str, float, float]] = {alias: unit for unit, aliases in _UNIT_TABLE.items() for alias in aliases}
"""Unit alias (lower case) -> (dimension, scale, offset)."""

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
         "seventeen eighteen nineteen").split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_WORD_VALUES = {**{w: float(i) for i, w in enumerate(_ONES)}, **{w: float(v) for w, v in _TENS.items()},
                "hundred": 100.0, "a hundred": 100.0, "one hundred": 100.0, "half": 0.5, "a half": 0.5, "quarter": 0.25,
                "a quarter": 0.25, "three quarters": 0.75, "twice": 2.0, "thrice": 3.0, "a dozen": 12.0, "dozen": 12.0}
_A_UNITS = ("metre", "meter", "foot", "inch", "kilogram", "kilo", "centimetre", "centimeter", "yard")
"""Units that "a"/"an" may count as one of ("a metre above the floor"); not "second" ("a second puck")."""

_ones_re = "|".join(sorted(_ONES, key=len, reverse=True))
_tens_re = "|".join(_TENS)
_word_number = (rf"(?:(?:{_tens_re})(?:[- ](?:{_ones_re}))?|three quarters|an? (?:hundred|quarter|half|dozen)"
                rf"|one hundred|hundred|dozen|{_ones_re}|half|quarter|twice|thrice)\b")
_unit_re = "|".join(re.escape(alias) for alias in sorted(UNITS, key=len, reverse=True))
_QUANTITY = re.compile(
    rf"(?<![\w.])(?P<number>\d*\.\d+|\d+(?:\.\d+)?|{_word_number}(?: and a half)?"
    rf"|an? (?=(?:{'|'.join(_A_UNITS)})\b))"
    rf"(?P<article>(?<=half) an?(?= ))?"
    rf"(?:[ \t]*-?[ \t]*(?P<unit>{_unit_re})(?![a-z0-9²]))?",
)
_ARTICLES = ("the", "a", "an", "front", "its", "which", "this", "that", "it")


@dataclass(frozen=True)
class TextQuantity:
    """A number found in a prompt, converted to its dimension's unit (`DIMENSION_UNITS`).

    `start`/`end` are character offsets of `text` in the prompt; `unit_text` is the unit as written
    ("" for a bare number); `spelled` is True for number words ("two", "half a").
    """

    value: float
    dimension: str
    start: int
    end: int
    text: str
    unit_text: str
    spelled: bool

    @property
    def unit(self) -> str:
        return DIMENSION_UNITS[self.dimension]


def find_quantities(text: str) -> list[TextQuantity]:
    """Every number of `text`, with its unit when one follows, in order of appearance."""
    lowered = _lower(text)
    quantities = []
    for match in _QUANTITY.finditer(lowered):
        number_text, unit_text = match["number"], match["unit"] or ""
        spelled = not number_text[0].isdigit() and number_text[0] != "."
        if unit_text in ("in", "mi", "kn", "kt", "n", "j", "w", "l", "g") and _is_word(lowered, match.end("unit")):
            unit_text = ""  # "2 in the air", "one in front", "2 g of": an English word, not a unit
        if spelled and unit_text in ("in", "s", "k", "n", "j", "w", "l", "g", "mi"):
            unit_text = ""  # "one s", "two in": abbreviations follow digits only
        if number_text.startswith(("a ", "an ")) and number_text.rstrip() in ("a", "an") and not unit_text:
            continue  # "a" not followed by a unit is an article
        value = parse_number(number_text)
        end = match.end("unit") if unit_text else match.end("number")
        if unit_text:
            dimension, scale, offset = UNITS[unit_text]
            value = value * scale + offset
        else:
            dimension = "none"
        quantities.append(TextQuantity(value=value, dimension=dimension, start=match.start(), end=end,
                                   text=text[match.start():end], unit_text=unit_text, spelled=spelled))
    return quantities


def parse_number(text: str) -> float:
    """'2.5' -> 2.5; 'twenty-five' -> 25; 'two and a half' -> 2.5; 'half' -> 0.5; 'a' -> 1."""
    text = text.strip().lower()
    extra = 0.0
    if text.endswith(" and a half"):
        text, extra = text[: -len(" and a half")], 0.5
    if text in ("a", "an"):
        return 1.0 + extra
    if text[0].isdigit() or text[0] == ".":
        return float(text) + extra
    if text in _WORD_VALUES:
        return _WORD_VALUES[text] + extra
    tens, _, ones = text.replace("-", " ").partition(" ")
    return _TENS[tens] + float(_ONES.index(ones)) + extra


def _lower(text: str) -> str:
    """Lower case with the same length (offsets stay valid); the rare characters that change length are kept."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _is_word(lowered: str, position: int) -> bool:
    """True when `lowered` goes on after `position` with a space and an article or pronoun (an English phrase)."""
    rest = lowered[position:].lstrip(" ")
    return position < len(lowered) and lowered[position] == " " and rest.split(" ", 1)[0].strip(",.;") in _ARTICLES
