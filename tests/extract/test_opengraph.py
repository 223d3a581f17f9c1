"""Strategy opengraph: the price meta tags in the page's head."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor.extract import opengraph
from tests.extract.pages import GENERIC, NO_ORDER, document, page

CASES = {
    "product:price with its currency": (
        '<meta property="product:price:amount" content="349.00">'
        '<meta property="product:price:currency" content="USD">',
        "",
        [(Decimal("349.00"), "USD")],
    ),
    "og:price": (
        '<meta property="og:price:amount" content="12.00">'
        '<meta property="og:price:currency" content="EUR">',
        "",
        [(Decimal("12.00"), "EUR")],
    ),
    "a tag in the body is not read": (
        "",
        '<meta property="product:price:amount" content="1.00">',
        [],
    ),
    "an amount that is no number": (
        '<meta property="product:price:amount" content="soon">',
        "",
        [],
    ),
}


@pytest.mark.parametrize(("head", "body", "expected"), CASES.values(), ids=CASES.keys())
def test_opengraph_candidates(
    head: str, body: str, expected: list[tuple[Decimal, str | None]]
) -> None:
    found = opengraph.find(document(page(head, body)), NO_ORDER, GENERIC)
    assert [(c.amount, c.currency) for c in found] == expected
