"""Extraction verdicts on pages written the way shops write them."""

from __future__ import annotations

import json
from decimal import Decimal

from monitor.demo import DemoProduct, product_page
from monitor.extract import Request, extract
from monitor.models import Availability, Money, Status


def page(head: str = "", body: str = "", title: str = "Phone X - Shop") -> str:
    filler = "<p>" + "Specifications and reviews. " * 30 + "</p>"
    return (
        f"<!doctype html><html><head><title>{title}</title>{head}</head>"
        f"<body><nav>Home | Phones</nav>{body}{filler}</body></html>"
    )


def ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def test_json_ld_offer_price() -> None:
    html = page(
        ld(
            {
                "@type": "Product",
                "name": "X",
                "offers": {"@type": "Offer", "price": "4999.00", "priceCurrency": "CNY"},
            }
        )
    )
    result = extract(html, Request(currency="CNY"))
    assert result.status is Status.PRICE
    assert result.price == Money(Decimal("4999.00"), "CNY")
    assert result.strategy == "json-ld"


def test_json_ld_in_graph_with_numeric_price_and_out_of_stock() -> None:
    data = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebPage", "name": "x"},
            {
                "@type": "Product",
                "offers": [
                    {
                        "@type": "Offer",
                        "price": 1799,
                        "priceCurrency": "USD",
                        "availability": "https://schema.org/OutOfStock",
                    }
                ],
            },
        ],
    }
    result = extract(page(ld(data)), Request(currency="USD"))
    assert result.price == Money(Decimal("1799"), "USD")
    assert result.availability is Availability.OUT_OF_STOCK


def test_variant_lock_picks_the_offer_with_the_orders_sku() -> None:
    data = {
        "@type": "Product",
        "offers": [
            {"@type": "Offer", "sku": "8-256", "price": "3999.00", "priceCurrency": "CNY"},
            {"@type": "Offer", "sku": "12-512", "price": "4999.00", "priceCurrency": "CNY"},
        ],
    }
    html = page(ld(data))
    assert extract(html, Request(sku="12-512", currency="CNY")).price == Money(
        Decimal("4999.00"), "CNY"
    )
    unlocked = extract(html, Request(currency="CNY"))
    assert unlocked.status is Status.UNKNOWN
    assert "several prices (3999.00, 4999.00)" in unlocked.reason
    missing = extract(html, Request(sku="16-1T", currency="CNY"))
    assert missing.status is Status.UNKNOWN and "no offer for sku 16-1T" in missing.reason


def test_related_products_in_microdata_are_not_the_price() -> None:
    product = DemoProduct(
        "/p", "Phone", Decimal("4999.00"), "CNY", "S", (("Case", Decimal("79.00")),)
    )
    html = product_page(product).replace('<script type="application/ld+json">', "<script>")
    result = extract(html, Request(currency="CNY"))
    assert result.strategy == "microdata"
    assert result.price == Money(Decimal("4999.00"), "CNY")


def test_opengraph_price_with_its_currency() -> None:
    head = '<meta property="product:price:amount" content="349.00"><meta property="product:price:currency" content="USD">'
    result = extract(page(head), Request(currency="USD"))
    assert (result.status, result.strategy, result.price) == (
        Status.PRICE,
        "opengraph",
        Money(Decimal("349.00"), "USD"),
    )


def test_a_currency_other_than_the_orders_is_unknown_not_a_drop() -> None:
    head = '<meta property="og:price:amount" content="12.00"><meta property="og:price:currency" content="EUR">'
    result = extract(page(head), Request(currency="CNY"))
    assert result.status is Status.UNKNOWN
    assert "EUR" in result.reason


def test_the_orders_selector_decides_alone() -> None:
    html = page(
        ld(
            {
                "@type": "Product",
                "offers": {"@type": "Offer", "price": "999", "priceCurrency": "CNY"},
            }
        ),
        '<div class="buy"><span class="now">¥899.00</span><del class="was">¥999.00</del></div>',
    )
    result = extract(html, Request(selector="div.buy .now", currency="CNY"))
    assert (result.strategy, result.price) == ("selector", Money(Decimal("899.00"), "CNY"))
    missing = extract(html, Request(selector=".nope", currency="CNY"))
    assert (
        missing.status is Status.UNKNOWN and 'selector ".nope" matched no price' in missing.reason
    )


def test_a_zero_price_is_never_recorded() -> None:
    html = page(
        ld(
            {
                "@type": "Product",
                "offers": {"@type": "Offer", "price": "0.00", "priceCurrency": "CNY"},
            }
        )
    )
    result = extract(html, Request(currency="CNY"))
    assert result.status is Status.UNKNOWN and result.price is None


def test_captcha_and_login_pages_are_unknown_even_with_a_price_on_them() -> None:
    priced = ld(
        {"@type": "Product", "offers": {"@type": "Offer", "price": "1", "priceCurrency": "CNY"}}
    )
    captcha = extract(page(priced, title="安全验证"), Request(currency="CNY"))
    assert captcha.status is Status.UNKNOWN and captcha.reason.startswith("blocked")
    challenge = extract(page(body='<form id="challenge-form"></form>'), Request(currency="CNY"))
    assert challenge.status is Status.UNKNOWN and "challenge" in challenge.reason
    login = extract(
        page(priced), Request(currency="CNY"), url="https://passport.shop.example/login?next=/p"
    )
    assert login.status is Status.UNKNOWN and "login" in login.reason


def test_a_javascript_shell_is_unknown() -> None:
    html = "<html><head><title>Shop</title></head><body><div id=app></div><noscript>Please enable JavaScript</noscript></body></html>"
    result = extract(html, Request(currency="CNY"))
    assert result.status is Status.UNKNOWN and "JavaScript" in result.reason


def test_a_page_without_any_price_asks_for_a_selector() -> None:
    result = extract(page(body="<h1>Phone</h1>"), Request(currency="CNY"))
    assert result.status is Status.UNKNOWN
    assert "add a CSS selector" in result.reason


def test_slightly_malformed_json_ld_is_still_read() -> None:
    broken = '<script type="application/ld+json">{"@type": "Product", "offers": {"@type": "Offer", "price": "59.90", "priceCurrency": "EUR",},}</script>'
    assert extract(page(broken), Request(currency="EUR")).price == Money(Decimal("59.90"), "EUR")


def test_a_product_named_with_404_is_not_a_gone_page() -> None:
    html = page(
        ld(
            {
                "@type": "Product",
                "offers": {"@type": "Offer", "price": "99", "priceCurrency": "USD"},
            }
        ),
        body="<h1>Runner 404 shoe</h1>",
        title="Runner 404 shoe",
    )
    assert extract(html, Request(currency="USD")).status is Status.PRICE
    for title in ("404 Not Found", "Error 404", "Page not found | Shop"):
        gone = extract(page(title=title), Request(currency="USD"))
        assert gone.status is Status.NOT_FOUND, title
