"""The decision: one strategy's candidates -> a price, or unknown saying why; never a guess."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor.extract import Request, extract, extract_document
from monitor.extract.decide import decide
from monitor.models import Availability, Candidate, Money, Status
from tests.extract.pages import document, ld, offer, page, product

D = Decimal


def candidate(amount: str, currency: str | None = "CNY", **more: object) -> Candidate:
    return Candidate("json-ld", D(amount), currency, raw=amount, **more)  # type: ignore[arg-type]


CASES = {
    "one price": ([candidate("4999.00")], Request(currency="CNY"), Status.PRICE, "4999.00"),
    "the same price twice": (
        [candidate("4999.00"), candidate("4999.0")], Request(currency="CNY"), Status.PRICE, "4999.00",
    ),
    "two prices, no sku": (
        [candidate("3999.00"), candidate("4999.00")], Request(currency="CNY"), Status.UNKNOWN,
        "several prices (3999.00, 4999.00) and no sku to choose one",
    ),
    "two prices, the sku picks one": (
        [candidate("3999.00", sku="8-256"), candidate("4999.00", sku="12-512")],
        Request(sku="12-512", currency="CNY"), Status.PRICE, "4999.00",
    ),
    "a sku the page does not offer": (
        [candidate("3999.00", sku="8-256")], Request(sku="16-1T", currency="CNY"), Status.UNKNOWN,
        "no offer for sku 16-1T (the page offers 8-256)",
    ),
    "zero": ([candidate("0.00")], Request(currency="CNY"), Status.UNKNOWN, "no valid price"),
    "another currency": (
        [candidate("12.00", "EUR")], Request(currency="CNY"), Status.UNKNOWN,
        "the price is in EUR, not CNY",
    ),
    "no stated currency takes the order's": (
        [candidate("12.00", None)], Request(currency="USD"), Status.PRICE, "12.00",
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("candidates", "request_", "status", "expected"), CASES.values(), ids=CASES.keys()
)
def test_the_decision(
    candidates: list[Candidate], request_: Request, status: Status, expected: str
) -> None:
    result = decide("json-ld", candidates, request_)
    assert result.status is status, result.reason
    if status is Status.PRICE:
        assert result.price is not None and result.price.amount == D(expected)
    else:
        assert result.reason.startswith(expected)


def test_a_price_in_another_currency_is_carried_for_review() -> None:
    result = decide("json-ld", [candidate("12.00", "EUR")], Request(currency="CNY"))
    assert result.foreign == Money(D("12.00"), "EUR")


def test_a_stated_availability_is_kept() -> None:
    sold_out = candidate("1.00", availability=Availability.OUT_OF_STOCK)
    result = decide("json-ld", [sold_out], Request(currency="CNY"))
    assert result.availability is Availability.OUT_OF_STOCK


def test_a_sku_nothing_on_the_page_names_is_not_confirmed_unless_the_url_is_the_variant() -> None:
    found = [candidate("4999.00")]
    assert not decide("x", found, Request(sku="12-512", currency="CNY")).variant_confirmed
    in_url = Request(sku="12-512", currency="CNY", product_url="https://shop/p?v=12-512")
    assert decide("x", found, in_url).variant_confirmed


@pytest.mark.parametrize(
    ("sign", "lang", "currency"),
    [("¥", "zh-CN", "CNY"), ("¥", "ja", "JPY"), ("$", "en-CA", "CAD"), ("$", "", "USD")],
)
def test_without_an_order_an_ambiguous_sign_is_read_by_the_pages_language(
    sign: str, lang: str, currency: str
) -> None:
    result = decide("selector", [candidate("10.00", sign)], Request(), lang=lang)
    assert result.price == Money(D("10.00"), currency)


def test_the_first_strategy_that_found_anything_decides() -> None:
    head = ld(product(offer("4999.00"))) + '<meta property="product:price:amount" content="1.00">'
    result = extract(page(head), Request(currency="CNY"))
    assert (result.strategy, result.price) == ("json-ld", Money(D("4999.00"), "CNY"))
    assert {c.strategy for c in result.candidates} == {"json-ld"}  # a check stops there
    explained = extract_document(document(page(head)), Request(currency="CNY"), every_strategy=True)
    assert (explained.strategy, explained.price) == (result.strategy, result.price)
    assert {c.strategy for c in explained.candidates} == {"json-ld", "opengraph"}  # for probe


def test_the_orders_selector_decides_alone() -> None:
    html = page(
        ld(product(offer("999"))),
        '<div class="buy"><span class="now">¥899.00</span><del class="was">¥999.00</del></div>',
    )
    result = extract(html, Request(selector="div.buy .now", currency="CNY"))
    assert (result.strategy, result.price) == ("selector", Money(D("899.00"), "CNY"))
    missing = extract(html, Request(selector=".nope", currency="CNY"))
    assert missing.status is Status.UNKNOWN
    assert 'selector ".nope" matched no price' in missing.reason


def test_a_page_without_any_price_asks_for_a_selector() -> None:
    result = extract(page(body="<h1>Phone</h1>"), Request(currency="CNY"))
    assert result.status is Status.UNKNOWN and "add a CSS selector" in result.reason


NUMBERS = {
    "a number beyond float": ('{"@type":"Product","offers":{"price":1e309,"priceCurrency":"CNY"}}', None),
    "an absurd number": ('{"@type":"Product","offers":{"price":1e30,"priceCurrency":"CNY"}}', None),
    "an absurd number as text": ('{"@type":"Product","offers":{"price":"1e309","priceCurrency":"CNY"}}', None),
    "NaN": ('{"@type":"Product","offers":{"price":NaN,"priceCurrency":"CNY"}}', None),
    "every digit kept": (
        '{"@type":"Product","offers":{"price":12345678.91,"priceCurrency":"CNY"}}',
        D("12345678.91"),
    ),
}  # fmt: skip


@pytest.mark.parametrize(("block", "amount"), NUMBERS.values(), ids=NUMBERS.keys())
def test_a_json_number_is_a_decimal_and_a_price_that_cannot_be_one_is_none(
    block: str, amount: Decimal | None
) -> None:
    result = extract(
        page(f'<script type="application/ld+json">{block}</script>'), Request(currency="CNY")
    )
    assert (result.price.amount if result.price else None) == amount, result.reason
    if amount is None:
        assert result.status is Status.UNKNOWN and result.price is None


@pytest.mark.parametrize(
    "broken",
    ['{"@type":"Product","offers":{"price":NaN}}', "[" * 100_000 + "]" * 100_000],
    ids=["NaN", "nested 100,000 deep"],
)
def test_a_broken_block_costs_only_itself_not_the_price_in_its_sibling(broken: str) -> None:
    blocks = f'<script type="application/ld+json">{broken}</script>' + ld(product(offer("4999.00")))
    result = extract(page(blocks), Request(currency="CNY"))
    assert result.price == Money(D("4999.00"), "CNY"), result.reason
