"""Strategy json-ld: the page's own Product offers, and nothing else's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor.extract import jsonld
from monitor.models import Availability
from tests.extract.pages import GENERIC, NO_ORDER, amounts, document, ld, offer, page, product

D = Decimal

CASES = {
    "one offer": (ld(product(offer("4999.00"))), [D("4999.00")]),
    "a numeric price": (ld(product(offer(1799, "USD"))), [D("1799")]),
    "offers as one object": (
        ld({"@type": "Product", "offers": offer("59.90", "EUR")}),
        [D("59.90")],
    ),
    "a Product in @graph": (
        ld({"@graph": [{"@type": "WebPage"}, product(offer("899.00"))]}),
        [D("899.00")],
    ),
    "the mainEntity of a page": (
        ld({"@type": "ItemPage", "mainEntity": product(offer("899.00"))}),
        [D("899.00")],
    ),
    "an AggregateOffer range gives both ends": (
        ld(product({"@type": "AggregateOffer", "lowPrice": "8.00", "highPrice": "10.00"})),
        [D("8.00"), D("10.00")],
    ),
    "an AggregateOffer holding offers reads those": (
        ld(product({"@type": "AggregateOffer", "offers": [offer("7.00"), offer("9.00")]})),
        [D("7.00"), D("9.00")],
    ),
    "a used offer is not the item bought": (
        ld(
            product(
                offer("300.00", itemCondition="https://schema.org/UsedCondition"),
                offer("349.00", itemCondition="https://schema.org/NewCondition"),
            )
        ),
        [D("349.00")],
    ),
    "a list price specification is left out": (
        ld(
            product(
                {
                    "@type": "Offer",
                    "priceCurrency": "USD",
                    "priceSpecification": [
                        {"@type": "UnitPriceSpecification", "price": "199.00"},
                        {"priceType": "https://schema.org/ListPrice", "price": "249.00"},
                    ],
                }
            )
        ),
        [D("199.00")],
    ),
    "ProductGroup variants each give their price": (
        ld(
            {
                "@type": "ProductGroup",
                "hasVariant": [product(offer("10.00")), product(offer("12.00"))],
            }
        ),
        [D("10.00"), D("12.00")],
    ),
    "an ItemList of other products is not read": (
        ld({"@type": "ItemList", "itemListElement": [product(offer("79.00"))]}),
        [],
    ),
    "trailing commas are forgiven": (
        '<script type="application/ld+json">{"@type": "Product", "offers": {"@type": "Offer",'
        ' "price": "59.90", "priceCurrency": "EUR",},}</script>',
        [D("59.90")],
    ),
    "text that is not JSON at all is skipped": (
        '<script type="application/ld+json">not json</script>',
        [],
    ),
}


@pytest.mark.parametrize(("head", "expected"), CASES.values(), ids=CASES.keys())
def test_json_ld_candidates(head: str, expected: list[Decimal]) -> None:
    assert amounts(jsonld.find(document(page(head)), NO_ORDER, GENERIC)) == expected


def test_offers_carry_their_sku_currency_and_availability() -> None:
    data = product(
        offer("3999.00", sku="8-256", availability="https://schema.org/InStock"),
        offer("4999.00", "USD", availability="OutOfStock"),
        sku="BASE",
    )
    found = jsonld.find(document(page(ld(data))), NO_ORDER, GENERIC)
    assert [(c.sku, c.currency, c.availability) for c in found] == [
        ("8-256", "CNY", Availability.IN_STOCK),
        ("BASE", "USD", Availability.OUT_OF_STOCK),
    ]


def test_of_several_products_the_one_whose_url_is_this_page_wins() -> None:
    mine = product(offer("4999.00"), url="https://shop.example/p/1")
    other = product(offer("79.00"), url="https://shop.example/p/2")
    html = page(ld(mine) + ld(other))
    assert amounts(jsonld.find(document(html, "https://shop.example/p/1/"), NO_ORDER, GENERIC)) == [
        Decimal("4999.00")
    ]
    assert len(jsonld.find(document(html), NO_ORDER, GENERIC)) == 2  # no URL to tell them apart


USED = "https://schema.org/UsedCondition"
REFURBISHED = "https://schema.org/RefurbishedCondition"


@pytest.mark.parametrize(
    ("offers", "more", "expected"),
    [
        ([offer("499", itemCondition=USED)], {}, [D(499)]),  # one used listing: its price
        ([offer("899"), offer("499", itemCondition=USED)], {}, [D(899)]),  # beside a new one
        # several grades of a used item: all of them, for the order's sku to pick one
        (
            [offer("499", itemCondition=USED), offer("459", itemCondition=REFURBISHED)],
            {},
            [D(499), D(459)],
        ),
        (
            [offer("499", itemCondition=USED), offer("459", itemCondition=USED)],
            {"itemCondition": USED},  # the product itself is a used one
            [D(499), D(459)],
        ),
    ],
)
def test_used_offers_count_only_where_no_new_offer_is(
    offers: list[dict[str, object]], more: dict[str, object], expected: list[Decimal]
) -> None:
    found = jsonld.find(document(page(ld(product(*offers, **more)))), NO_ORDER, GENERIC)
    assert amounts(found) == expected


def test_an_offer_past_its_price_valid_until_is_left_out_within_its_own_variant() -> None:
    from datetime import date

    from monitor.extract import Request

    group = {
        "@type": "ProductGroup",
        "hasVariant": [
            # S: its sale ended yesterday beside a current regular price
            product(
                offer("39.00", priceValidUntil="2026-12-01"),
                offer("49.00", priceValidUntil="2027-06-30"),
                sku="S",
            ),
            # XL: its only offer's date has passed: the shop never updated it, still its price
            product(offer("54.00", priceValidUntil="2026-11-30"), sku="XL"),
        ],
    }
    request = Request(today=date(2026, 12, 2))
    found = jsonld.find(document(page(ld(group))), request, GENERIC)
    assert [(c.sku, c.amount) for c in found] == [("S", D("49.00")), ("XL", D("54.00"))]
    undated = jsonld.find(document(page(ld(group))), NO_ORDER, GENERIC)  # no day: no judgement
    assert len(undated) == 3
