"""Strategy microdata: ``itemprop=price`` in the page's main Product, not its neighbours'."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor.extract import microdata
from monitor.models import Availability
from monitor.testing import ShopProduct, product_page
from tests.extract.pages import GENERIC, NO_ORDER, amounts, document, page

D = Decimal


def scope(price: str, *, currency: str = "CNY", extra: str = "") -> str:
    return (
        '<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
        f'<meta itemprop="priceCurrency" content="{currency}">'
        f'<span itemprop="price" content="{price}">{price}</span>{extra}</div>'
    )


def item(inner: str, *, name: str = "Phone X") -> str:
    return (
        f'<section itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">{name}</h1>'
        f"{inner}</section>"
    )


CASES = {
    "the price in the Product": (item(scope("4999.00")), [D("4999.00")]),
    "a price as text with its sign": (
        item('<span itemprop="price">¥4,999.00</span>'),
        [D("4999.00")],
    ),
    "a nested related Product is left out": (
        item(scope("4999.00") + item(scope("79.00"), name="Case")),
        [D("4999.00")],
    ),
    "an old price struck through is left out": (
        item(scope("4599.00") + '<del><span itemprop="price">4999.00</span></del>'),
        [D("4599.00")],
    ),
    "no price item at all": (item("<p>Sold out</p>"), []),
    # A strategy reads a bounded number of price nodes; those it leaves out do not count.
    "150 accessories' prices before the main one": (
        item(
            "".join(item(scope(f"{n}.00"), name=f"Case {n}") for n in range(1, 151))
            + scope("4999.00")
        ),
        [D("4999.00")],
    ),
}


@pytest.mark.parametrize(("body", "expected"), CASES.values(), ids=CASES.keys())
def test_microdata_candidates(body: str, expected: list[Decimal]) -> None:
    assert amounts(microdata.find(document(page(body=body)), NO_ORDER, GENERIC)) == expected


def test_the_scope_gives_the_currency_and_availability() -> None:
    availability = '<link itemprop="availability" href="https://schema.org/OutOfStock">'
    (found,) = microdata.find(
        document(page(body=item(scope("349.00", currency="USD", extra=availability)))),
        NO_ORDER,
        GENERIC,
    )
    assert (found.currency, found.availability) == ("USD", Availability.OUT_OF_STOCK)


def test_of_two_top_level_products_the_one_holding_the_heading_wins() -> None:
    main = item(scope("4999.00"))
    aside = '<aside itemscope itemtype="https://schema.org/Product">' + scope("99.00") + "</aside>"
    found = microdata.find(document(page(body=aside + main)), NO_ORDER, GENERIC)
    assert amounts(found) == [D("4999.00")]


def test_a_shop_page_with_a_related_carousel_gives_its_own_price() -> None:
    html = product_page(ShopProduct("/p", "Phone", D("4999.00"), related=(("Case", D("79.00")),)))
    assert amounts(microdata.find(document(html), NO_ORDER, GENERIC)) == [D("4999.00")]
