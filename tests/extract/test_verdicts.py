"""Pages that are not the product: robot checks and login walls, gone products, app shells."""

from __future__ import annotations

import pytest

from monitor.extract import Request, extract, verdicts
from monitor.models import PageVerdict, Status
from tests.extract.pages import document, ld, offer, page, product

PRICED = ld(product(offer("1")))

BLOCKED = {
    "a captcha title, even with a price on the page": (page(PRICED, title="安全验证"), ""),
    "a robot check title": (page(title="Robot Check"), ""),
    "a challenge form": (page(body='<form id="challenge-form"></form>' + "aptcha"), ""),
    "a redirect to a login page": (page(PRICED), "https://passport.shop.example/login?next=/p"),
}


@pytest.mark.parametrize(("html", "url"), BLOCKED.values(), ids=BLOCKED.keys())
def test_blocked_pages_are_unknown_never_a_price(html: str, url: str) -> None:
    result = extract(html, Request(currency="CNY"), url=url)
    assert result.status is Status.UNKNOWN and result.reason.startswith("blocked")
    assert result.page is PageVerdict.BLOCKED


GONE = {
    "404 Not Found": page(title="404 Not Found"),
    "Error 404": page(title="Error 404"),
    "a not-found title": page(title="Page not found | Shop"),
    "off the shelf, said in the page": page(
        body="<div class='tip'>该商品已下柜，欢迎挑选其他商品</div>"
    ),
}


@pytest.mark.parametrize("html", GONE.values(), ids=GONE.keys())
def test_gone_pages_are_not_found(html: str) -> None:
    result = extract(html, Request(currency="USD"))
    assert (result.status, result.page) == (Status.NOT_FOUND, PageVerdict.GONE)


def test_a_product_named_with_404_or_a_phrase_in_a_script_is_not_gone() -> None:
    named = page(
        ld(product(offer("99", "USD"))), body="<h1>Runner 404 shoe</h1>", title="Runner 404 shoe"
    )
    assert extract(named, Request(currency="USD")).status is Status.PRICE
    scripted = page(PRICED + "<script>var tip = '该商品已下柜';</script>")
    assert verdicts.gone(document(scripted)) is None


def test_an_app_shell_needs_javascript_only_when_nothing_was_found() -> None:
    shell = (
        "<html><head><title>Shop</title></head><body><div id=app></div>"
        "<noscript>Please enable JavaScript</noscript></body></html>"
    )
    result = extract(shell, Request(currency="CNY"))
    assert result.status is Status.UNKNOWN and "JavaScript" in result.reason
    assert result.page is PageVerdict.NEEDS_JAVASCRIPT
    assert extract(shell.replace("<div id=app>", PRICED + "<div>")).status is Status.PRICE


def test_a_window_label_is_read_from_the_visible_text_not_from_scripts() -> None:
    from monitor.extract import labels
    from monitor.shops import catalogue

    jd = catalogue()["jd"]
    shown = page(body="<div class=services><a>7天价保</a></div>")
    assert labels.window_label(document(shown), jd) == 7
    scripted = page(
        body="<script>var plus = 'PLUS会员享30天价保';</script><div class=services><a>7天价保</a></div>"
    )
    assert labels.window_label(document(scripted), jd) == 7
    assert labels.window_label(document(page(body="<p>支持退换</p>")), jd) is None


def test_a_page_that_sells_the_product_in_stock_is_not_searched_for_gone_or_captcha_text() -> None:
    in_stock = offer("99.00", "USD", availability="https://schema.org/InStock")
    notice = "<p>This colour is no longer available.</p><div class=g-recaptcha></div>"
    selling = extract(page(ld(product(in_stock)), body=notice), Request(currency="USD"))
    assert selling.status is Status.PRICE  # a review box's captcha, another colour's notice
    sold_out = offer("99.00", "USD", availability="https://schema.org/OutOfStock")
    gone_notice = "<p>This product is no longer available.</p>"
    gone = extract(page(ld(product(sold_out)), body=gone_notice), Request(currency="USD"))
    assert gone.status is Status.NOT_FOUND and gone.page is PageVerdict.GONE
