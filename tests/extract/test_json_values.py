"""Embedded JSON as shops write it: lenient where browsers' consumers are, Decimal throughout."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from monitor.extract.json_values import loads_lenient


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"price": 19.99}', {"price": Decimal("19.99")}),
        ('{"price": "19.99",}', {"price": "19.99"}),  # a trailing comma
        ('{"a": [1, 2,],}', {"a": [1, 2]}),
        ('{"d": "two\nlines"}', {"d": "two\nlines"}),  # a raw newline inside a string
        ('<!-- {"a": 1} -->', {"a": 1}),
        ('//<![CDATA[\n{"a": 1}\n//]]>', {"a": 1}),
        ('/*<![CDATA[*/ {"a": 1} /*]]>*/', {"a": 1}),
        ('{"a": 1};', {"a": 1}),
        ('{"a": 1}\n{"b": 2.50}', [{"a": 1}, {"b": Decimal("2.50")}]),  # one after another
        ('[{"a": 1}] [{"b": 2}]', [[{"a": 1}], [{"b": 2}]]),
        ("{// a comment\n 'price': 24.5, name: 'x'}", {"price": Decimal("24.5"), "name": "x"}),
        (
            '{"price": 12345678901234567890.12, "x": 1,}',
            {"price": Decimal("12345678901234567890.12"), "x": 1},
        ),
        ('{"price": NaN}', {"price": None}),  # NaN is no price
    ],
)
def test_embedded_json_is_read_leniently_with_decimal_numbers(text: str, expected: Any) -> None:
    assert loads_lenient(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "not json at all", "[" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000, "<p>19.99</p>"],
)
def test_what_is_not_json_or_nests_without_end_is_none(text: str) -> None:
    assert loads_lenient(text) is None


def test_no_float_is_ever_returned() -> None:
    found = loads_lenient("{price: 0.1, list: [0.2, {'p': 0.3}],}")
    assert found == {"price": Decimal("0.1"), "list": [Decimal("0.2"), {"p": Decimal("0.3")}]}
