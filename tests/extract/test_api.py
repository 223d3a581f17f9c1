"""Strategy api: the shop's JSON API, one candidate per goods entry; and what to fetch."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from monitor.extract import Document, Request, api, extract_document, source_for
from monitor.extract.json_values import json_each
from monitor.models import ApiSpec, Shop, Source, Status
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
    "an order that writes JD's own id as its sku": (
        JD, [{"id": "J_100012043978", "p": "2299.00", "m": "2999.00"}],
        Request(sku="J_100012043978", product_url="https://item.jd.com/"), Status.PRICE,
        Decimal("2299.00"),
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


# --- the shapes of one API, and the variants it lists --------------------------------------


def spec(shop: Shop) -> ApiSpec:
    assert shop.api is not None
    return shop.api


PC_GOODS: dict[str, Any] = {
    "code": 0,
    "data": {
        "goods_list": [
            {"goods_info": {"goods_id": 111, "name": "小米14 12GB+256GB 黑色", "price": "3999"}},
            {"goods_info": {"goods_id": 222, "name": " 小米14  16GB+1TB ", "price": 4999}},
            {"goods_info": {"goods_id": 333, "name": "小米14 定制版", "price": ""}},
        ],
        "related_recommend": {"list": [{"goods_id": 501, "name": "充电器", "price": "99"}]},
    },
}


def test_xiaomis_pc_answer_is_read_goods_list_entry_by_entry() -> None:
    picked = extract_document(
        body(PC_GOODS), Request(sku="222", product_url=XIAOMI_URL), shop=XIAOMI
    )
    assert (picked.status, picked.price and picked.price.amount) == (Status.PRICE, Decimal("4999"))
    # The entry without a price is no candidate; the related accessories are not goods.
    assert [(c.sku, c.amount) for c in picked.candidates] == [
        ("111", Decimal("3999")),
        ("222", Decimal("4999")),
    ]
    # The mobile shape (data.goods_info) is still read: the second path, tried when the first
    # leads nowhere.
    mobile = extract_document(body(GOODS), Request(sku="111", product_url=XIAOMI_URL), shop=XIAOMI)
    assert mobile.price is not None and mobile.price.amount == Decimal("3999")


def test_the_first_items_path_that_leads_to_goods_wins() -> None:
    both = {"data": {**PC_GOODS["data"], **GOODS["data"]}}
    found = api.entries(both, spec(XIAOMI))
    assert [e["goods_id"] for e in found] == [111, 222, 333]  # goods_list, not goods_info
    assert api.entries({"data": {"goods_list": []}}, spec(XIAOMI)) == []


def test_the_variants_are_listed_with_sku_name_and_price() -> None:
    listed = api.variants(PC_GOODS, spec(XIAOMI), Request(product_url=XIAOMI_URL))
    assert listed == [
        api.Variant("111", "小米14 12GB+256GB 黑色", Decimal("3999"), "3999"),
        api.Variant("222", "小米14 16GB+1TB", Decimal("4999"), "4999"),  # spaces tidied
        api.Variant("333", "小米14 定制版", None, ""),
    ]
    # JD names a sku J_<sku>: listed as the sku an order gives, even for a sku not asked for.
    jd = api.variants([{"id": "J_42", "p": "10.00"}], spec(JD), Request())
    assert jd == [api.Variant("42", None, Decimal("10.00"), "10.00")]
    assert api.variants_in(Document("<p>", "", "text/html"), XIAOMI, Request()) == []


@pytest.mark.parametrize(
    ("path", "reached"),
    [
        ("", [PC_GOODS]),
        ("data.goods_list[].goods_info.goods_id", [111, 222, 333]),
        ("data.goods_list[1].goods_info.price", [4999]),
        ("data.goods_list", [PC_GOODS["data"]["goods_list"]]),
        ("data.goods_list[].nothing", []),
        ("code[]", []),  # [] on what is not a list reaches nothing
    ],
)
def test_json_each_steps_into_every_element(path: str, reached: list[object]) -> None:
    assert json_each(PC_GOODS, path) == reached
