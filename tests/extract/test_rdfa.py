"""Strategy rdfa: ``property="price"`` with the currency beside it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor.extract import rdfa
from tests.extract.pages import GENERIC, NO_ORDER, document, page

CASES = {
    "price and currency siblings": (
        '<div vocab="https://schema.org/" typeof="Offer"><span property="price" content="19.99">'
        '19.99</span><span property="priceCurrency" content="EUR">EUR</span></div>',
        [(Decimal("19.99"), "EUR")],
    ),
    "schema: prefixed": (
        '<div><span property="schema:price">25.00</span>'
        '<meta property="schema:priceCurrency" content="GBP"></div>',
        [(Decimal("25.00"), "GBP")],
    ),
    "an old price struck through is left out": (
        '<div><del><span property="price">30.00</span></del><span property="price">25.00</span></div>',
        [(Decimal("25.00"), None)],
    ),
    "nothing that looks like a price": ('<span property="price">call us</span>', []),
}


@pytest.mark.parametrize(("body", "expected"), CASES.values(), ids=CASES.keys())
def test_rdfa_candidates(body: str, expected: list[tuple[Decimal, str | None]]) -> None:
    found = rdfa.find(document(page(body=body)), NO_ORDER, GENERIC)
    assert [(c.amount, c.currency) for c in found] == expected
