"""Strategy script-json: a price inside JSON embedded in a script, at the profile's path."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from monitor.extract import script_json
from tests.extract.pages import NO_ORDER, document, page, shop

NEXT = shop(
    script_json=[
        {
            "selector": "script#__NEXT_DATA__",
            "path": "props.product.price.current",
            "currency_path": "props.product.price.unit",
        }
    ]
)


def next_data(text: str) -> str:
    return f'<script id="__NEXT_DATA__" type="application/json">{text}</script>'


def priced(price: object) -> str:
    return json.dumps({"props": {"product": {"price": {"current": price, "unit": "USD"}}}})


CASES = {
    "a price as text": (next_data(priced("19.97")), [(Decimal("19.97"), "USD")]),
    "a price as a number": (next_data(priced(19.97)), [(Decimal("19.97"), "USD")]),
    "trailing commas": (
        next_data('{"props": {"product": {"price": {"current": 5, "unit": "USD",},},},}'),
        [(Decimal("5"), "USD")],
    ),
    "the path leads nowhere": (next_data('{"props": {}}'), []),
    "not JSON": (next_data("window.x = 1"), []),
}


@pytest.mark.parametrize(("body", "expected"), CASES.values(), ids=CASES.keys())
def test_script_json_candidates(body: str, expected: list[tuple[Decimal, str | None]]) -> None:
    found = script_json.find(document(page(body=body)), NO_ORDER, NEXT)
    assert [(c.amount, c.currency) for c in found] == expected


def test_a_shop_without_script_json_reads_nothing() -> None:
    assert script_json.find(document(page(body=next_data(priced("1")))), NO_ORDER, shop()) == []
