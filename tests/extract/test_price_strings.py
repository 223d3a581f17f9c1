"""Price strings as shops in ~40 currencies write them, read through an order's selector.

Each string is the text of the element an order's selector points at, read in the order's
currency. It is read as the amount it means, or refused saying why: never as another
number. The currency's minor units settle a lone separator before three digits (a decimal
point for the Kuwaiti dinar, thousands for the dollar and the yen).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.extract import Request, extract
from monitor.extract.decide import decide
from monitor.extract.prices import parse_price
from monitor.models import Candidate, Extraction, Status
from tests.extract.pages import page

NBSP, NNBSP, THIN = "\u00a0", "\u202f", "\u2009"


@dataclass(frozen=True)
class Refused:
    """The string is refused, the reason saying this."""

    why: str


def read(text: str, currency: str) -> Extraction:
    body = f'<div class="buy"><span class="p">{html.escape(text)}</span></div>'
    return extract(page(body=body), Request(selector=".p", currency=currency))


# (text on the page, the order's currency, the amount it means or why it is refused)
CASES: list[tuple[str, str, str | Refused]] = [
    # Chinese yuan: sign before, or 元 after
    ("¥4,999.00", "CNY", "4999.00"),
    ("4999元", "CNY", "4999"),
    ("￥12,888", "CNY", "12888"),
    ("RMB 1,299", "CNY", "1299"),
    # Japanese yen (no minor unit): 円 after, a lone dot groups thousands
    ("3,500円", "JPY", "3500"),
    ("¥ 12 800", "JPY", "12800"),
    ("1.234 ¥", "JPY", "1234"),
    # Korean won
    ("12,000원", "KRW", "12000"),
    ("₩1,290,000", "KRW", "1290000"),
    # Taiwan, Hong Kong and Singapore dollars
    ("NT$ 1,160", "TWD", "1160"),
    ("HK$1,299", "HKD", "1299"),
    ("$1,299", "HKD", "1299"),
    ("S$ 49.90", "SGD", "49.90"),
    # US, Canadian, Australian dollars, Mexican, Chilean and Colombian pesos
    ("$1,799.00", "USD", "1799.00"),
    ("US$ 12.50", "USD", "12.50"),
    ("$699,000", "USD", "699000"),  # a house: thousands, as price-parser reads it
    ("C$5.95", "CAD", "5.95"),
    ("CA$1.23", "CAD", "1.23"),
    ("AU$ 1,175", "AUD", "1175"),
    ("MX$3,179.00", "MXN", "3179.00"),
    ("$ 119.990", "CLP", "119990"),
    ("$ 1.144.000", "COP", "1144000"),
    # Brazilian real: dot groups, comma decimals
    ("R$ 1.299,90", "BRL", "1299.90"),
    ("R$260,00", "BRL", "260.00"),
    # euro: dot, space, no-break space or narrow no-break space grouping, decimal comma
    ("1.299,00 €", "EUR", "1299.00"),
    (f"1{NBSP}299,00{NBSP}€", "EUR", "1299.00"),
    (f"1{NNBSP}299,00 €", "EUR", "1299.00"),
    ("€1'049,95", "EUR", "1049.95"),
    ("35€ 99", "EUR", "35.99"),
    ("749,00 euro", "EUR", "749.00"),
    # pound sterling
    ("£12", "GBP", "12"),
    ("£3,301.00", "GBP", "3301.00"),
    # Swiss franc: apostrophe (ASCII or ’) or thin space grouping, .– for no cents
    ("CHF 1'299.–", "CHF", "1299"),
    ("CHF 1’299.50", "CHF", "1299.50"),
    (f"CHF 1{THIN}299.50", "CHF", "1299.50"),
    ("199.90 Fr.", "CHF", "199.90"),
    # Polish złoty, Czech koruna, Hungarian forint
    (f"1{NBSP}299,00 zł", "PLN", "1299.00"),
    ("140,00 pln", "PLN", "140.00"),
    (f"9{NNBSP}800 Kč", "CZK", "9800"),
    ("50,- Kč", "CZK", "50"),
    ("9 472 Ft", "HUF", "9472"),
    ("1.727 Ft", "HUF", "1727"),
    # Romanian leu, Bulgarian lev
    ("145,00 lei", "RON", "145.00"),
    ("99 LEI", "RON", "99"),
    ("27.00 лв.", "BGN", "27.00"),
    ("550,00 лв", "BGN", "550.00"),
    # Russian ruble (RUR still written for it), Ukrainian hryvnia, Belarusian ruble
    ("171900 руб.", "RUB", "171900"),
    ("6 300 Р", "RUB", "6300"),
    ("1 890 ₽", "RUB", "1890"),
    ("1 500 RUR", "RUB", "1500"),
    ("2 285,81 грн.", "UAH", "2285.81"),
    ("25 грн", "UAH", "25"),
    ("11,33 Br", "BYN", "11.33"),
    # Israeli shekel, Turkish lira
    ("₪370", "ILS", "370"),
    ("10,75 TL", "TRY", "10.75"),
    ("1.299,90 ₺", "TRY", "1299.90"),
    # Indian rupee: lakh grouping; Pakistani rupee
    ("₹ 1,23,456.00", "INR", "123456.00"),
    ("Rs. 1,23,456", "INR", "123456"),
    ("Rs 3,600.00", "PKR", "3600.00"),
    # Indonesian rupiah and Vietnamese đồng (no minor unit in CLDR): dot groups
    ("Rp 1.550.000", "IDR", "1550000"),
    ("Rp 31.500", "IDR", "31500"),
    ("880,000 ₫", "VND", "880000"),
    ("200.000 đ", "VND", "200000"),
    # Thai baht, Malaysian ringgit, Philippine peso, Nigerian naira
    ("฿ 3.3900", "THB", "3.39"),
    ("RM50", "MYR", "50"),
    ("₱1,299.00", "PHP", "1299.00"),
    ("₦ 5,000", "NGN", "5000"),
    # Nordic crowns
    ("7 990 kr", "SEK", "7990"),
    ("Pris NOK 899,00", "NOK", "899.00"),
    ("1.890,00 DKK", "DKK", "1890.00"),
    ("12.990 kr.", "ISK", "12990"),
    # three-decimal dinars and rials: the countries' own decimal mark is a decimal point
    ("12.500 KD", "KWD", "12.500"),
    ("423.923 KD", "KWD", "423.923"),
    ("KD 1,299.000", "KWD", "1299.000"),
    ("123,456.789 OMR", "OMR", "123456.789"),
    ("BD 2.750", "BHD", "2.750"),
    ("JD 12.500", "JOD", "12.500"),
    ("49,900 DT", "TND", "49.900"),
    ("1 299,000 DT", "TND", "1299.000"),
    # Iranian rial, Saudi riyal, UAE dirham, Egyptian pound, Kazakh tenge
    ("850,000 ریال", "IRR", "850000"),
    ("106.61 ريال", "SAR", "106.61"),
    ("3,439.00 درهم", "AED", "3439.00"),
    ("644.00 جنيه", "EGP", "644.00"),
    ("15 000 ₸", "KZT", "15000"),
    # refused: the string could be two numbers, or is in another unit
    ("$1,234.567", "USD", Refused("ambiguous amount '1,234.567' for USD")),
    ("1.234,567 €", "EUR", Refused("ambiguous amount '1.234,567' for EUR")),
    ("¥1,234.567", "JPY", Refused("ambiguous amount '1,234.567' for JPY")),
    ("12,000 KD", "KWD", Refused("ambiguous amount '12,000' for KWD")),
    ("12.000 DT", "TND", Refused("ambiguous amount '12.000' for TND")),
    ("157,000 تومان", "IRR", Refused("1 تومان is 10 IRR")),
    ("1.5万元", "CNY", Refused("multiplied by '万'")),
    ("12만원", "KRW", Refused("multiplied by '만'")),
    ("Rs 1.5 lakh", "INR", Refused("multiplied by 'lakh'")),
    ("$1.2k", "USD", Refused("multiplied by 'k'")),
    # refused: the page states another currency than the order's
    ("€12", "USD", Refused("the price is in €, not USD")),
    ("kr 199", "EUR", Refused("the price is in kr, not EUR")),
    ("¥4,999", "KRW", Refused("the price is in ¥, not KRW")),
    ("5 000 руб.", "UAH", Refused("the price is in руб., not UAH")),
    ("$1,299", "EUR", Refused("the price is in $, not EUR")),
]


@pytest.mark.parametrize(
    ("text", "currency", "expected"), CASES, ids=[f"{c} {t}" for t, c, _ in CASES]
)
def test_a_price_string_is_read_as_it_means_or_refused(
    text: str, currency: str, expected: str | Refused
) -> None:
    verdict = read(text, currency)
    if isinstance(expected, Refused):
        assert verdict.status is Status.UNKNOWN, verdict
        assert expected.why in verdict.reason
    else:
        assert verdict.status is Status.PRICE, verdict.reason
        assert verdict.price is not None
        assert verdict.price.amount == Decimal(expected)
        assert verdict.price.currency == currency


def test_the_cases_cover_at_least_30_currencies() -> None:
    assert len({c for _, c, e in CASES if not isinstance(e, Refused)}) >= 30


def test_a_range_is_split_on_the_word_to_only() -> None:
    assert (
        read("From 26 to 50 €", "EUR").reason == "several prices (26, 50) and no sku to choose one"
    )
    verdict = read("Desconto: R$ 89,90", "BRL")  # the "to" of a word is no range
    assert verdict.price is not None and verdict.price.amount == Decimal("89.90")


def test_other_strategies_refuse_an_ambiguous_amount_too() -> None:
    body = (
        '<div itemscope itemtype="https://schema.org/Product"><h1>Phone X</h1>'
        '<span itemprop="price">$1,234.567</span></div>'
    )
    verdict = extract(page(body=body), Request(currency="USD"))
    assert verdict.status is Status.UNKNOWN
    assert "ambiguous amount '1,234.567' for USD" in verdict.reason


def test_a_refusal_needs_the_orders_currency() -> None:
    assert parse_price("$1,234.567") is None  # a caller without a currency gets no amount
    refused = parse_price("$1,234.567", "USD")
    assert refused is not None and refused.amount.is_nan()
    assert (
        refused.refused
        == "ambiguous amount '1,234.567' for USD: 3 decimals, but the currency has 2"
    )
    omr = parse_price("123,456.789 OMR")  # the page's own code gives the minor units
    assert omr is not None and omr.amount == Decimal("123456.789")


def test_one_refused_candidate_makes_the_verdict_unknown() -> None:
    candidates = [
        Candidate("selector", Decimal("NaN"), "$", raw="$1,234.567", refused="ambiguous amount"),
        Candidate("selector", Decimal("10.00"), "$", raw="$10.00"),
    ]
    verdict = decide("selector", candidates, Request(currency="USD"))
    assert verdict.status is Status.UNKNOWN and verdict.reason == "ambiguous amount"


# How the currencies' countries write amounts: (sign, minor units, grouping, decimal mark).
STYLES = {
    "USD": ("$", 2, ",", "."),
    "EUR": ("€", 2, ".", ","),
    "PLN": ("zł", 2, NBSP, ","),
    "CHF": ("CHF", 2, "'", "."),
    "INR": ("₹", 2, ",", "."),
    "JPY": ("円", 0, ",", "."),
    "VND": ("₫", 0, ".", ","),
    "KWD": ("KD", 3, ",", "."),
    "OMR": ("OMR", 3, ",", "."),
    "TND": ("DT", 3, " ", ","),
}


def written(minor: int, digits: int, grouping: str, mark: str, *, whole: bool) -> str:
    """An amount of ``minor`` minor units, grouped in thousands; ``whole`` leaves out the
    decimals (of an amount that has none)."""
    amount = Decimal(minor).scaleb(-digits)
    units, _, decimals = f"{amount:.{digits}f}".partition(".")
    grouped = f"{int(units):,}".replace(",", grouping)
    return grouped if whole or not decimals else f"{grouped}{mark}{decimals}"


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    currency=st.sampled_from(sorted(STYLES)),
    minor=st.integers(min_value=1, max_value=10**10),
    swapped=st.booleans(),
    whole=st.booleans(),
    after=st.booleans(),
)
def test_no_string_is_read_as_another_number(
    currency: str, minor: int, swapped: bool, whole: bool, after: bool
) -> None:
    sign, digits, grouping, mark = STYLES[currency]
    if swapped:  # the other convention, as a foreign shop writes it (with every decimal)
        grouping, mark = (",", ".") if mark == "," else (".", ",")
        whole = False
    amount = Decimal(minor).scaleb(-digits)
    if whole and amount != amount.to_integral_value():
        whole = False
    number = written(minor, digits, grouping, mark, whole=whole)
    text = f"{number} {sign}" if after else f"{sign} {number}"
    verdict = read(text, currency)
    if verdict.status is Status.PRICE:
        assert verdict.price is not None and verdict.price.amount == amount, text
    else:
        assert verdict.reason, text
