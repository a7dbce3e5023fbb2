"""Unit-aware number parsing against hand-converted values (exact SI definitions of the units)."""

import math

import pytest

from realitygap.prompts.units import find_quantities, parse_number

FT, INCH, MILE = 0.3048, 0.0254, 1609.344


@pytest.mark.parametrize("text, value, dimension", [
    ("from 2 m", 2.0, "length"),
    ("150 cm above", 1.5, "length"),
    ("a 10-cm ball", 0.1, "length"),
    ("6 ft", 6 * FT, "length"),
    ("three feet", 3 * FT, "length"),
    ("a 4 in ball", 4 * INCH, "length"),
    ("half a metre", 0.5, "length"),
    ("two and a half metres", 2.5, "length"),
    ("a metre above", 1.0, "length"),
    ("2.5m", 2.5, "length"),
    ("20 mph", 20 * MILE / 3600, "speed"),
    ("twenty-five km/h", 25 / 3.6, "speed"),
    ("30 cm/s", 0.3, "speed"),
    ("6 metres per second", 6.0, "speed"),
    ("0.5 rad", math.degrees(0.5), "angle"),
    ("60° above", 60.0, "angle"),
    ("thirty degrees", 30.0, "angle"),
    ("300 ms reaction", 0.3, "time"),
    ("half a second", 0.5, "time"),
    ("200 g ball", 0.2, "mass"),
    ("25 kg", 25.0, "mass"),
    ("90% thrust", 0.9, "dimensionless"),
    ("drag 0.2 per second", 0.2, "rate"),
    ("12 N s push", 12.0, "impulse"),
    ("15 N m s/rad", 15.0, "damping"),
    ("1.6 m/s²", 1.6, "acceleration"),
    ("9.8 m/s^2", 9.8, "acceleration"),
    ("300 K", 300.0, "temperature"),
    ("30°C", 303.15, "temperature"),
    ("friction 0.3", 0.3, "none"),
    ("twice as heavy", 2.0, "none"),
])
def test_quantity_value_and_dimension(text, value, dimension):
    (quantity,) = find_quantities(text)
    assert quantity.dimension == dimension
    assert quantity.value == pytest.approx(value, rel=1e-12)
    assert text[quantity.start:quantity.end] == quantity.text


@pytest.mark.parametrize("text", ["tennis ball", "hits a second puck", "someone drops it", "a ball of dough"])
def test_words_that_are_not_numbers(text):
    assert find_quantities(text) == []


@pytest.mark.parametrize("text, unit_text", [
    ("2 in the air", ""),          # "in" the preposition, not inches
    ("one s", ""),                 # abbreviations follow digits only
    ("two pucks", ""),
    ("20 km/h then 3 m", "km/h"),
])
def test_units_only_where_they_are_units(text, unit_text):
    assert find_quantities(text)[0].unit_text == unit_text


def test_several_quantities_in_order():
    found = find_quantities("a 10 cm ball dropped from 2 m at 300 K")
    assert [q.dimension for q in found] == ["length", "length", "temperature"]
    assert [q.value for q in found] == pytest.approx([0.1, 2.0, 300.0])


@pytest.mark.parametrize("text, value", [("7", 7), ("0.25", 0.25), (".5", 0.5), ("seventeen", 17), ("ninety-nine", 99),
                                          ("one hundred", 100), ("a quarter", 0.25), ("one and a half", 1.5), ("twice", 2)])
def test_parse_number(text, value):
    assert parse_number(text) == value
