"""Strategy selector: a CSS selector's matches, text or attribute, old prices left out."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor.extract import selector
from tests.extract.pages import NO_ORDER, document, page, shop

D = Decimal
BUY_BOX = (
    '<div class="buy"><span class="now" data-value="899.00">¥899.00</span>'
    '<del class="was">¥999.00</del><span class="range">$8.00 - $10.00</span>'
    '<meta class="meta" content="899.50"></div>'
)

CASES = {
    "the element's text": ("div.buy .now", [(D("899.00"), "¥")]),
    "an attribute after @": ("div.buy .now@data-value", [(D("899.00"), None)]),
    "a content attribute wins over the text": ("div.buy .meta", [(D("899.50"), None)]),
    "a struck-through match is left out": ("div.buy .was", []),
    "a range gives both ends": (".range", [(D("8.00"), "$"), (D("10.00"), "$")]),
    "no match": (".nope", []),
    "a selector the parser refuses finds nothing": ("div[[[", []),
}


@pytest.mark.parametrize(("css", "expected"), CASES.values(), ids=CASES.keys())
def test_selector_candidates(css: str, expected: list[tuple[Decimal, str | None]]) -> None:
    found = selector.from_selector(document(page(body=BUY_BOX)).tree, css)
    assert [(c.amount, c.currency) for c in found] == expected


def test_the_strategy_reads_the_shops_selector_and_nothing_without_one() -> None:
    html = document(page(body=BUY_BOX))
    assert [c.amount for c in selector.find(html, NO_ORDER, shop(selector="div.buy .now"))] == [
        D("899.00")
    ]
    assert selector.find(html, NO_ORDER, shop()) == []
