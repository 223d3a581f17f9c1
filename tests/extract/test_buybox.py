"""The price a page's buy box shows: near the heading, one amount, never an old or unit price."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor.extract import Request, buybox, extract
from monitor.models import Status
from tests.extract.pages import document, ld, offer, page, product


def shown(buy_box: str, currency: str | None = "USD", heading: str = "<h1>Phone X</h1>") -> object:
    html = page(body=f'<div class="product-info">{heading}{buy_box}</div>')
    return buybox.shown_price(document(html), currency)


@pytest.mark.parametrize(
    ("buy_box", "expected"),
    [
        ('<span class="price">$299.00</span>', Decimal("299.00")),
        ('<div class="product-price"><span class="price-current">$299</span></div>', Decimal(299)),
        ('<span class="productPrice">USD 299.00</span>', Decimal("299.00")),
        ('<span id="priceblock_ourprice">$299.00</span>', Decimal("299.00")),
        ('<span itemprop="price">$299.00</span>', Decimal("299.00")),
        ('<span itemprop="price" content="299.00">$299.00</span>', Decimal("299.00")),
        # BigCommerce: the price without tax, beside the "was" price of a sale
        (
            '<span class="price price--withoutTax">$89.00</span>'
            '<span class="price price--non-sale">$110.00</span>',
            Decimal("89.00"),
        ),
        ('<span data-price="299">Now $299</span>', Decimal(299)),
        # the old, compared and saved amounts beside it are left out
        (
            '<span class="price price--sale">$249</span><s class="price">$299</s>'
            '<span class="price-was">$299</span><span class="price-saving">Save $50</span>'
            '<span class="price-per-unit">$0.50</span><span class="monthly-price">$21</span>',
            Decimal(249),
        ),
    ],
)
def test_the_buy_box_price_is_read_near_the_heading(buy_box: str, expected: Decimal) -> None:
    assert shown(buy_box) == expected


@pytest.mark.parametrize(
    ("buy_box", "currency"),
    [
        ("", "USD"),  # no price element
        ('<span class="price">$249</span><span class="price">$299</span>', "USD"),  # which one?
        ('<span class="price">$249 – $299</span>', "USD"),  # a range
        ('<span class="price">$24.99/mo</span>', "USD"),
        ('<span class="price">20% off</span>', "USD"),
        ('<span class="price">€249</span>', "USD"),  # another currency
        ('<span class="a-price"><span>$19.99</span><span>$19.99</span></span>', "USD"),
        # a price drawn in pieces cannot be read back safely
        ('<div class="price"><span>$</span>699<sup>99</sup></div>', "USD"),
        ('<span class="price"><span class="w">699</span><span class="f">99</span></span>', "USD"),
        # the structured data itself is no check on the structured data
        ('<span itemprop="price" content="699.99">$699<sup>99</sup></span>', "USD"),
        # the low end of a range, a price per unit
        ('<span class="price-label">As low as</span> <span class="price">$24.99</span>', "USD"),
        ('<span class="price">From $699.00</span>', "USD"),
        ('<span class="price">ab 699,00 €</span>', "EUR"),
        ('<span class="price">¥2999起</span>', "CNY"),
        ('<span class="price-kg">€5,98 per kg</span>', "EUR"),
        ('<span class="price">$0.00</span>', "USD"),  # an empty cart, not a price
    ],
)
def test_no_shown_price_when_the_buy_box_is_not_one_clear_amount(
    buy_box: str, currency: str
) -> None:
    assert shown(buy_box, currency) is None


def test_a_price_struck_by_its_class_is_no_current_price() -> None:
    lazada = '<span class="pdp-price">RM249</span><span class="pdp-price_type_deleted">RM299</span>'
    assert shown(lazada, "MYR") == Decimal(249)


def test_a_from_price_is_no_shown_price_but_says_the_product_has_a_range() -> None:
    body = '<div class="info"><h1>Phone X</h1><p class="price">From $699.00</p></div>'
    box = buybox.buy_box(document(page(body=body)), "USD")
    assert (box.shown, box.from_price) == (None, Decimal("699.00"))
    result = extract(page(ld(product(offer("699.00", "USD"))), body=body), Request(currency="USD"))
    assert result.status is Status.UNKNOWN and "price range" in result.reason
    assert not result.needs_review


def test_a_price_in_a_tile_of_another_product_is_not_the_buy_boxs() -> None:
    html = page(
        body='<div class="pdp"><h1 class="mobile">Shirt</h1><div class="prices"><span>Sale</span></div>'
        '<div class="product-tile"><span class="price">$89.00</span></div>'
        '<a href="/p/2"><span class="price">$79.00</span></a></div>'
    )
    assert buybox.shown_price(document(html), "USD") is None


def test_no_heading_no_buy_box() -> None:
    assert shown('<span class="price">$299</span>', heading="") is None


def test_a_heading_in_the_sites_header_is_not_the_products() -> None:
    header = '<header><h1 class="logo">Shop</h1><a class="cart"><span class="price">$0.00</span></a></header>'
    html = page(
        body=f'{header}<div class="info"><h1>Phone X</h1><span class="price">$299</span></div>'
    )
    assert buybox.shown_price(document(html), "USD") == Decimal(299)
    logo_only = page(
        body=f'{header}<div class="info"><h2>Phone X</h2><span class="price">$299</span></div>'
    )
    assert buybox.shown_price(document(logo_only), "USD") is None


def test_a_sale_on_the_page_beside_stale_json_ld_is_needs_review_with_both_prices() -> None:
    html = page(
        ld(product(offer("299.00", "USD"))),
        body='<div class="info"><h1>Phone X</h1><span class="price">$249.00</span></div>',
    )
    result = extract(html, Request(currency="USD"))
    assert result.status is Status.UNKNOWN and result.needs_review
    assert result.disagreement is not None
    assert (result.disagreement.shown.amount, result.disagreement.structured.amount) == (
        Decimal("249.00"),
        Decimal("299.00"),
    )
    assert "249.00 USD" in result.reason and "299.00" in result.reason
    agreeing = html.replace("$249.00", "$299.00")
    assert extract(agreeing, Request(currency="USD")).price is not None


@pytest.mark.parametrize(
    "words",
    [
        "<span>Ships from and sold by Acme</span>",
        "<span>Oferta da semana</span>",
        "<span>Sofort ab Lager</span>",
        "<span>Choose from three colours</span>",
        "<span>Pick up from store</span>",
    ],
)
def test_a_from_word_in_a_sentence_beside_the_price_is_no_range(words: str) -> None:
    for buy_box in (
        f'<div class="buy"><span class="price">$299.00</span>{words}</div>',
        f'<div class="buy">{words}<span class="price">$299.00</span></div>',
    ):
        box = buybox.buy_box(document(page(body=f"<div><h1>Phone X</h1>{buy_box}</div>")), "USD")
        assert (box.shown, box.from_price) == (Decimal("299.00"), None), buy_box


def test_a_from_label_right_before_the_amount_is_a_range() -> None:
    for label in ("As low as", "From:", "4 neufs dès", "ab"):
        buy_box = f'<p class="p"><span>{label}</span> <span class="price">$24.99</span></p>'
        box = buybox.buy_box(document(page(body=f"<div><h1>Paint</h1>{buy_box}</div>")), "USD")
        assert box.from_price == Decimal("24.99"), label


def test_the_low_end_shown_is_the_price_but_a_variant_picker_leaves_it_unconfirmed() -> None:
    aggregate = {"@type": "AggregateOffer", "lowPrice": "299.00", "highPrice": "399.00"}
    head = ld(product({**aggregate, "priceCurrency": "USD"}))
    plain = '<div class="info"><h1>Phone X</h1><span class="price">$299.00</span></div>'
    read = extract(page(head, body=plain), Request(currency="USD"))
    assert read.price is not None and read.price.amount == Decimal("299.00")
    assert read.variant_confirmed
    picker = plain.replace("</div>", "<select name=storage><option>64 GB</option></select></div>")
    unsure = extract(page(head, body=picker), Request(currency="USD"))
    assert unsure.price == read.price and not unsure.variant_confirmed
