"""The request asks for the right thing: installments go back into the plan, the provider is
named, what the user left empty is left out, and the variant reads as a name."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.config import parse_config
from monitor.errors import ConfigError
from monitor.messages import support_request
from monitor.models import (
    DropAlert,
    Extraction,
    Money,
    Observation,
    Order,
    OrderState,
    Shop,
    Status,
)
from monitor.rules import evaluate
from monitor.shops import catalogue
from monitor.testing import TEST_SHOPS, make_order, order_table, toml_value

JD = catalogue()["jd"]
BESTBUY = catalogue()["bestbuy"]
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def request(order: Order, shop: Shop = JD, price: str = "4599.00") -> str:
    observation = Observation(
        order.url, NOW, Extraction(Status.PRICE, price=Money(Decimal(price), order.currency))
    )
    (alert,) = evaluate(order, shop, observation, OrderState(), NOW)
    assert isinstance(alert, DropAlert)
    return support_request(alert, order, shop, now=NOW)


INSTALLMENT_NOTE_ZH = (
    "请将差价原路退回分期账户（冲抵分期本金），并告知每期应还金额和手续费如何调整。"
)


def test_an_installment_order_asks_for_the_difference_back_into_the_plan() -> None:
    text = request(make_order(payment="installments", installments=12))
    assert f"本单为 12 期分期付款：{INSTALLMENT_NOTE_ZH}" in text
    assert "付款账户" not in text and "如无法" not in text  # the paying account *is* the plan


def test_the_installment_provider_is_named_when_given() -> None:
    order = make_order(payment="installments", installments=24, installment_provider="京东白条")
    text = request(order)
    assert "支付方式：分期付款（京东白条，24 期）" in text
    assert f"本单为 24 期分期付款（京东白条）：{INSTALLMENT_NOTE_ZH}" in text


def test_a_provider_named_with_its_plan_is_not_doubled() -> None:
    text = request(
        make_order(payment="installments", installments=12, installment_provider="小米分期")
    )
    assert "支付方式：分期付款（小米分期，12 期）" in text
    assert "本单为 12 期分期付款（小米分期）：" in text and "分期分期" not in text


def test_the_english_installment_note_says_the_same() -> None:
    order = make_order(
        currency="USD",
        paid=Decimal("1799.00"),
        payment="installments",
        installments=12,
        installment_provider="Affirm",
    )
    text = request(order, BESTBUY, "1599.00")
    assert "Payment: installments (Affirm, 12 payments)" in text
    assert (
        "This order is paid in 12 installments through Affirm: please return the difference "
        "to the installment account along the original path (against the principal), and "
        "tell me how much each remaining payment will be and how the fees change."
    ) in text


def test_xiaomis_refund_path_agrees_with_the_installment_note() -> None:
    path = catalogue()["xiaomi"].refund_path
    assert path.startswith("差价按原支付路径退回") and "分期账户" in path
    assert "付款账户" not in path and "而非" not in path  # it used to say the opposite


def test_fields_the_user_left_empty_are_left_out() -> None:
    text = request(make_order(delivered=None, payment=None))
    assert "下单日期：2026-11-20\n价保截止" in text
    for absent in ("签收日期", "未填写", "支付方式：", "未注明"):
        assert absent not in text, absent
    assert "请将差价按原支付方式退回。" in text  # where it goes back is still said

    english = request(
        make_order(currency="USD", paid=Decimal("1799.00"), delivered=None, payment=None),
        BESTBUY,
        "1599.00",
    )
    for absent in ("Delivered", "delivered", "not recorded", "Payment:", "not stated"):
        assert absent not in english, absent


def test_the_product_line_names_the_variant_with_the_sku_in_brackets() -> None:
    both = request(make_order(variant="12GB+256GB 黑色", sku="100012043978"))
    assert "商品：Phone，12GB+256GB 黑色（SKU 100012043978）\n" in both
    sku_only = request(make_order(sku="100012043978"))
    assert "商品：Phone（SKU 100012043978）\n" in sku_only
    neither = request(make_order())
    assert "商品：Phone\n" in neither
    english = request(
        make_order(currency="USD", paid=Decimal("1799.00"), variant="256GB Black", sku="6525401"),
        BESTBUY,
        "1599.00",
    )
    assert "Item: Phone, 256GB Black (SKU 6525401)\n" in english


def test_a_provider_without_installments_is_a_config_error(tmp_path: Path) -> None:
    order = order_table("https://shop.example/p", payment="card", installment_provider="花呗")
    text = "\n".join(
        [TEST_SHOPS, "[[orders]]", *(f"{k} = {toml_value(v)}" for k, v in order.items())]
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path=tmp_path / "config.toml", env={})
    assert [str(p) for p in caught.value.problems] == [
        'orders[0].payment: must be "installments" when installment_provider is given'
    ]
