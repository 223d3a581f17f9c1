"""Price strings to Decimal and currency, as shops write them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor.extract.prices import currencies_for, currency_agrees, parse_amount, parse_price


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("¥4,999.00", "4999.00", "CNY"),
        ("￥4999", "4999", "CNY"),
        ("4999元", "4999", "CNY"),
        ("4999.00 元起", "4999.00", "CNY"),
        ("$1,799.00", "1799.00", "USD"),
        ("1.299,00 €", "1299.00", "EUR"),
        ("1 299,00 zł", "1299.00", "PLN"),
        ("CHF 1'299.–", "1299", "CHF"),
        ("£12", "12", "GBP"),
        ("Rs. 1,23,456", "123456", "INR"),
        ("US$ 12.50", "12.50", "USD"),
    ],
)
def test_price_strings_parse_to_exact_decimals(text: str, amount: str, currency: str) -> None:
    parsed = parse_price(text)
    assert parsed is not None
    assert parsed.amount == Decimal(amount)
    assert currency_agrees(parsed.currency, currency)


def test_text_without_a_number_is_not_a_price() -> None:
    assert parse_price("暂无报价") is None
    assert parse_amount("call us") is None


def test_machine_amounts_are_read_as_written() -> None:
    assert parse_amount("4999.00") == Decimal("4999.00")
    assert parse_amount(" 12 ") == Decimal("12")


def test_a_sign_may_mean_several_currencies_and_the_order_picks_one() -> None:
    assert currencies_for("¥") == {"CNY", "JPY"}
    assert currency_agrees("¥", "JPY") and currency_agrees("¥", "CNY")
    assert not currency_agrees("€", "CNY")
    assert not currency_agrees("元", "USD")
    assert currency_agrees(None, "USD")  # the page states none: the shop's currency holds
    assert not currency_agrees("₿", "USD")  # a sign we do not know never agrees
