"""Alerts in words: both languages carry every field; money and times read as people write them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from monitor.messages import compose, format_money, support_request
from monitor.models import (
    AlertKind,
    Disagreement,
    DropAlert,
    Extraction,
    Money,
    Observation,
    Order,
    OrderState,
    Shop,
    Status,
    Threshold,
)
from monitor.rules import evaluate
from monitor.shops import catalogue
from monitor.testing import make_order

JD = catalogue()["jd"]
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
ORDER = make_order()
INSTALLMENTS = make_order(
    payment="installments", installments=12, variant="12GB+256GB 黑色", sku="2230000362"
)


NO_ALERTS_YET = OrderState()


def drop_alert(
    order: Order = INSTALLMENTS,
    shop: Shop = JD,
    amount: str = "4599.00",
    currency: str = "CNY",
    state: OrderState = NO_ALERTS_YET,
) -> DropAlert:
    observation = Observation(
        "https://item.jd.com/1.html",
        NOW,
        Extraction(Status.PRICE, price=Money(Decimal(amount), currency)),
    )
    (alert,) = evaluate(order, shop, observation, state, NOW)
    return alert


def test_the_chinese_support_request_carries_every_field() -> None:
    text = support_request(drop_alert(), INSTALLMENTS, JD, now=NOW)
    for fragment in (
        "订单号：JD-1",
        "商品：Phone，12GB+256GB 黑色（SKU 2230000362）",
        "数量：2",
        "实付单价：¥4,999.00",
        "当前价格：¥4,599.00（北京时间 2026-11-25 12:00 于 https://item.jd.com/1.html 查看）",
        "差价：¥400.00 × 2 = ¥800.00",
        "下单日期：2026-11-20\n签收日期：2026-11-22",
        "价保截止：2026-11-29 23:59，还剩 4 天",  # 4 days and 12 hours: whole days
        "支付方式：分期付款（12 期）",
        "本单为 12 期分期付款：请将差价原路退回分期账户（冲抵分期本金），"
        "并告知每期应还金额和手续费如何调整。",
    ):
        assert fragment in text, fragment
    assert len(text) < 600  # short enough for a chat box


def test_the_english_support_request_carries_every_field() -> None:
    order = make_order(
        currency="USD",
        paid=Decimal("1799.00"),
        delivered=None,
        window_days=15,
        threshold=Threshold(amount=Decimal(1)),
    )
    shop = catalogue()["bestbuy"]
    alert = drop_alert(order, shop, "1599.99", "USD")
    text = support_request(alert, order, shop, now=NOW)
    for fragment in (
        "Order number: JD-1",
        "Quantity: 2",
        "Price paid (each): $1,799.00",
        # Best Buy's staff read it: their zone, named
        "Current price: $1,599.99 (seen 2026-11-24 22:00 Central Time at https://item.jd.com/1.html)",
        "Difference: $199.01 × 2 = $398.02",
        "Ordered: 2026-11-20\nPrice protection ends: 2026-12-05 23:59 (11 days left)",
        "Payment: card",
        "Please refund the difference to my original payment method.",
    ):
        assert fragment in text, fragment
    assert "elivered" not in text  # the order records no delivery date: no line says so


def test_the_alert_puts_the_request_in_its_own_block_with_the_claim_channel() -> None:
    message = compose(drop_alert(), INSTALLMENTS, catalogue()["xiaomi"], now=NOW, zone=SHANGHAI)
    assert message.kind is AlertKind.DROP and message.dedupe_key == "JD-1|drop|4599.00 CNY"
    assert message.title == "可申请退差价 ¥800.00：Phone（订单 JD-1）"
    body = message.body
    request = support_request(drop_alert(), INSTALLMENTS, catalogue()["xiaomi"], now=NOW).rstrip()
    assert f"────────────────────────\n{request}\n────────────────────────" in body
    assert "400-100-5678" in body  # Xiaomi's claim channel for installment orders
    assert "请以小米商城当前政策为准" in body  # the policy is marked uncertain


def test_a_delivery_counted_window_without_delivery_says_it_is_estimated() -> None:
    order = INSTALLMENTS.model_copy(update={"delivered": None})
    message = compose(drop_alert(order), order, JD, now=NOW, zone=SHANGHAI)
    assert "按下单日估算" in message.body


def test_a_further_drop_asks_for_the_whole_difference_when_nothing_was_claimed() -> None:
    alert = drop_alert(
        amount="4499.00", state=OrderState(last_alerted=Money(Decimal("4599.00"), "CNY"))
    )
    message = compose(alert, INSTALLMENTS, JD, now=NOW, zone=SHANGHAI)
    assert message.title == "又降价了，可申请退差价 ¥1,000.00：Phone（订单 JD-1）"
    assert "比上次提醒或申请的 ¥4,599.00 又低了 ¥100.00/件" in message.body
    assert "本次申请" not in message.body and "已退" not in message.body  # nothing before it


def test_an_implausible_drop_asks_for_a_check_and_has_no_support_request() -> None:
    message = compose(drop_alert(amount="999.00"), INSTALLMENTS, JD, now=NOW, zone=SHANGHAI)
    assert message.kind is AlertKind.NEEDS_REVIEW
    assert "请人工核实" in message.title and "80%" in message.body
    assert "实付单价" not in message.body and "复制" not in message.body  # nothing to paste


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(Decimal("4999"), "CNY"), "¥4,999.00"),
        (Money(Decimal("0.5"), "USD"), "$0.50"),
        (Money(Decimal("1299.005"), "EUR"), "€1,299.01"),
        (Money(Decimal("12000"), "JPY"), "¥12,000"),
        (Money(Decimal("1299"), "CHF"), "1,299.00 CHF"),
    ],
)
def test_money_is_formatted_as_people_write_it(money: Money, text: str) -> None:
    assert format_money(money) == text


def test_after_a_partial_refund_the_request_asks_for_what_is_left_and_says_what_came_back() -> None:
    from monitor.models import Claim, ClaimState

    refund_at = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 11-24 10:00 in Shanghai
    claims = (
        Claim(
            "JD-1",
            ClaimState.CLAIMED,
            Money(Decimal("4599.00"), "CNY"),
            Money(Decimal("800"), "CNY"),
            NOW,
        ),
        Claim("JD-1", ClaimState.REFUNDED, None, Money(Decimal("400"), "CNY"), refund_at),
        Claim("JD-1", ClaimState.CLAIMED, None, Money(Decimal("100"), "CNY"), NOW),
    )
    state = OrderState(last_alerted=Money(Decimal("4599.00"), "CNY"), claims=claims)
    alert = drop_alert(amount="4499.00", state=state)
    assert (alert.total, alert.asked) == (
        Money(Decimal("1000.00"), "CNY"),
        Money(Decimal("500.00"), "CNY"),
    )
    message = compose(alert, INSTALLMENTS, JD, now=NOW, zone=SHANGHAI)
    assert message.title == "又降价了，可申请退差价 ¥500.00：Phone（订单 JD-1）"
    assert message.asked == Money(Decimal("500.00"), "CNY")  # what `claim` will record
    for fragment in (
        "差价：¥500.00 × 2 = ¥1,000.00",
        "已退差价：¥400.00（11-24）",
        "已申请、待处理：¥100.00",
        "本次申请退差价：¥500.00",
        "共可申请退差价 ¥500.00（差价共 ¥1,000.00；已退 ¥400.00（11-24）；已申请、待处理 ¥100.00）。",
    ):
        assert fragment in message.body, fragment


def test_a_price_worth_no_more_than_was_refunded_and_claimed_asks_for_nothing() -> None:
    from monitor.models import Claim, ClaimState

    claimed = (Claim("JD-1", ClaimState.CLAIMED, None, Money(Decimal("1000"), "CNY"), NOW),)
    state = OrderState(last_alerted=Money(Decimal("4599.00"), "CNY"), claims=claimed)
    observation = Observation(
        ORDER.url, NOW, Extraction(Status.PRICE, price=Money(Decimal("4499.00"), "CNY"))
    )
    assert evaluate(INSTALLMENTS, JD, observation, state, NOW) == []


def test_stale_structured_data_asks_for_a_look_with_both_prices() -> None:
    observation = Observation(
        "https://item.jd.com/1.html",
        NOW,
        Extraction(
            Status.UNKNOWN,
            reason="needs review",
            disagreement=Disagreement(
                shown=Money(Decimal("4599"), "CNY"), structured=Money(Decimal("4999"), "CNY")
            ),
        ),
    )
    (alert,) = evaluate(INSTALLMENTS, JD, observation, NO_ALERTS_YET, NOW)
    message = compose(alert, INSTALLMENTS, JD, now=NOW, zone=SHANGHAI)
    assert message.kind is AlertKind.NEEDS_REVIEW
    assert "页面上显示 ¥4,599.00，页面的结构化数据却是 ¥4,999.00" in message.body
    assert "复制" not in message.body  # nothing to paste until a person has looked
