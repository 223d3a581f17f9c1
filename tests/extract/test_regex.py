"""Strategy regex: the profile's pattern over the raw page, the last resort."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor.extract import regex
from tests.extract.pages import NO_ORDER, document, page, shop

SCRIPT = '<script>var product = {"price": "1299.00", "was": "1499.00"};</script>'

CASES = {
    "the group is the price": (r'"price":\s*"([\d.]+)"', [Decimal("1299.00")]),
    "without a group, the whole match": (r"1499\.00", [Decimal("1499.00")]),
    "every match counts": (
        r'"(?:price|was)":\s*"([\d.]+)"',
        [Decimal("1299.00"), Decimal("1499.00")],
    ),
    "no match": (r"price=(\d+)", []),
}


@pytest.mark.parametrize(("pattern", "expected"), CASES.values(), ids=CASES.keys())
def test_regex_candidates(pattern: str, expected: list[Decimal]) -> None:
    found = regex.find(document(page(SCRIPT)), NO_ORDER, shop(regex=pattern))
    assert [c.amount for c in found] == expected


def test_a_shop_without_a_regex_reads_nothing() -> None:
    assert regex.find(document(page(SCRIPT)), NO_ORDER, shop()) == []
