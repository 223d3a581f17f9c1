"""Strategy api: the shop's JSON API, one candidate per goods entry; and what to fetch."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from monitor.extract import Document, Request, api, extract_document, source_for
from monitor.models import Source, Status
from monitor.shops import catalogue

XIAOMI, JD = catalogue()["xiaomi"], catalogue()["jd"]
XIAOMI_URL = "https://www.mi.com/shop/buy/detail?product_id=19153"
JD_URL = "https://item.jd.com/100012043978.html"


def body(data: object) -> Document:
    return Document(json.dumps(data), "", "application/json")


GOODS = {
    "data": {"goods_info": [{"goods_id": 111, "price": "3999"}, {"goods_id": 222, "price": 4999}]}
}

CASES = {
    "the goods the order's sku names": (
        XIAOMI, GOODS, Request(sku="222", product_url=XIAOMI_URL), Status.PRICE, Decimal("4999"),
    ),
    "several goods and no sku": (
        XIAOMI, GOODS, Request(product_url=XIAOMI_URL), Status.UNKNOWN, None,
    ),
    "a sku the API does not list": (
        XIAOMI, GOODS, Request(sku="333", product_url=XIAOMI_URL), Status.UNKNOWN, None,
    ),
    "JD names the sku J_<sku>": (
        JD, [{"id": "J_100012043978", "p": "2299.00", "m": "2999.00"}],
        Request(sku="100012043978", product_url=JD_URL), Status.PRICE, Decimal("2299.00"),
    ),
    "JD's -1.00 is a placeholder, not a price": (
        JD, [{"id": "J_1", "p": "-1.00"}], Request(sku="1", product_url=JD_URL), Status.UNKNOWN, None,
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("shop", "data", "request_", "status", "amount"), CASES.values(), ids=CASES.keys()
)
def test_api_answers(
    shop: object, data: object, request_: Request, status: Status, amount: Decimal | None
) -> None:
    result = extract_document(body(data), request_, shop=shop)  # type: ignore[arg-type]
    assert result.status is status, result.reason
    assert (result.price.amount if result.price else None) == amount
    if status is Status.PRICE:
        assert result.strategy == "api" and result.price is not None
        assert result.price.currency == "CNY"


def test_a_body_that_is_not_json_or_a_shop_without_an_api_is_unknown() -> None:
    broken = Document("{not json", "", "application/json")
    assert api.read(broken, Request(), XIAOMI).reason == "the response is not valid JSON"
    generic = catalogue()["generic"]
    assert "has no API profile" in api.read(body([]), Request(), generic).reason


def test_what_to_fetch_is_the_api_unless_the_order_has_a_selector() -> None:
    assert source_for(XIAOMI, Request(product_url=XIAOMI_URL)) == Source(
        "https://api2.order.mi.com/product/view?product_id=19153&version=2",
        {"Referer": "https://www.mi.com/"},
        domains=("mi.com", "xiaomi.com", "api2.order.mi.com"),  # where it may redirect
    )
    assert source_for(JD, Request(product_url=JD_URL)).url == (
        "https://p.3.cn/prices/mgets?skuIds=J_100012043978"
    )
    page = source_for(JD, Request(product_url=JD_URL, selector=".price"))
    assert (page.url, dict(page.headers)) == (JD_URL, {})
    # An id the template needs that neither the URL nor the sku gives: the page, then.
    assert (
        source_for(XIAOMI, Request(product_url="https://www.mi.com/")).url == "https://www.mi.com/"
    )
    generic = catalogue()["generic"]
    assert source_for(generic, Request(product_url="https://shop.example/p")).url == (
        "https://shop.example/p"
    )
