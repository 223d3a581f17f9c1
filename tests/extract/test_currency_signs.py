"""What a currency sign may mean, and each currency's minor units: CLDR's, shipped as data.

``currency_signs.json`` is written by ``make_currency_signs.py`` from Babel's CLDR data; the
first tests regenerate it from the installed Babel, so it cannot drift into a hand-kept
table, and check that the few signs added by hand are ones CLDR lacks.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from monitor.extract import make_currency_signs, prices
from monitor.extract.prices import (
    currencies_for,
    currency_agrees,
    iso_code,
    minor_units,
    sign_key,
    sign_note,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    return make_currency_signs.build()


def test_the_shipped_file_is_what_the_installed_babel_gives(built: dict[str, Any]) -> None:
    shipped = make_currency_signs.TARGET.read_text("utf-8")
    assert make_currency_signs.render(built) == shipped, (
        "currency_signs.json is stale: run python -m monitor.extract.make_currency_signs"
    )


def test_each_sign_added_by_hand_is_one_cldr_lacks(built: dict[str, Any]) -> None:
    cldr = make_currency_signs.build(supplement={})["signs"]
    for sign, codes in make_currency_signs.SUPPLEMENT.items():
        key = sign_key(sign)
        assert set(codes) - set(cldr.get(key, [])), f"CLDR already maps {sign} to {codes}"
        assert set(codes) <= set(built["signs"][key])


def test_the_data_file_ships_with_the_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert "extract/currency_signs.json" in config["tool"]["setuptools"]["package-data"]["monitor"]


def test_the_extraction_does_not_load_babel() -> None:
    import subprocess
    import sys

    code = "import sys, monitor.extract; print('babel' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


MAPPING = {
    # legacy and lower-case codes
    "RUR": {"RUB"},
    "rur": {"RUB"},
    "pln": {"PLN"},
    "PLN": {"PLN"},
    "eur": {"EUR"},
    # symbols and local names, and signs that mean several currencies
    "¥": {"CNY", "JPY"},
    "￥": {"CNY", "JPY"},
    "元": {"CNY"},
    "円": {"JPY"},
    "원": {"KRW"},
    "₩": {"KRW"},
    "₽": {"RUB"},
    "Р": {"RUB"},
    "р.": {"RUB"},
    "руб.": {"RUB", "BYN"},
    "руб": {"RUB", "BYN"},
    "R$": {"BRL"},
    "Rp": {"IDR"},
    "zł": {"PLN"},
    "Zł": {"PLN"},
    "Kč": {"CZK"},
    "Ft": {"HUF"},
    "lei": {"RON", "MDL"},
    "LEI": {"RON", "MDL"},
    "₫": {"VND"},
    "đ": {"VND"},
    "грн.": {"UAH"},
    "грн": {"UAH"},
    "₴": {"UAH"},
    "₪": {"ILS"},
    "лв": {"BGN"},
    "лв.": {"BGN"},
    "KD": {"KWD"},
    "د.ك.\u200f": {"KWD"},
    "RM": {"MYR"},
    "NT$": {"TWD"},
    "US$": {"USD"},
    "A$": {"AUD"},
    "MX$": {"MXN"},
    "TL": {"TRY"},
    "₺": {"TRY"},
    "₹": {"INR"},
    "Fr.": {"CHF"},
    "CHF": {"CHF"},
    "euro": {"EUR"},
    "€": {"EUR"},
    "Br": {"BYN", "ETB"},
    # unknown signs mean nothing; a code-like word means itself and so agrees with nothing
    "₿": set(),
    "SKU": {"SKU"},
}


@pytest.mark.parametrize(("sign", "codes"), MAPPING.items(), ids=MAPPING.keys())
def test_a_sign_maps_to_the_iso_codes_it_may_mean(sign: str, codes: set[str]) -> None:
    assert currencies_for(sign) == codes


@pytest.mark.parametrize(
    ("sign", "some"),
    [
        ("$", {"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "TWD", "CLP", "ARS"}),
        ("kr", {"SEK", "NOK", "DKK", "ISK"}),
        ("kr.", {"DKK", "ISK"}),
        ("Rs.", {"INR", "PKR", "LKR", "NPR"}),
        ("£", {"GBP"}),
        ("ریال", {"IRR"}),
        ("ريال", {"IRR", "SAR"}),  # Arabic and Persian yeh: one word
        ("C$", {"CAD"}),
    ],
)
def test_a_shared_sign_includes_every_currency_written_so(sign: str, some: set[str]) -> None:
    assert some <= currencies_for(sign)


def test_the_order_picks_one_of_a_signs_currencies() -> None:
    assert currency_agrees("¥", "JPY") and currency_agrees("¥", "CNY")
    assert not currency_agrees("¥", "KRW")
    assert currency_agrees("kr", "NOK") and not currency_agrees("kr", "EUR")
    assert currency_agrees("руб.", "BYN") and not currency_agrees("руб.", "UAH")
    assert currency_agrees("₽", "rur")  # the order's legacy code is today's ruble
    assert currency_agrees(None, "USD")  # the page states none: the shop's currency holds
    assert not currency_agrees("SKU", "USD")


def test_toman_is_ten_rial_and_never_read_as_rial() -> None:
    assert currencies_for("تومان") == set()
    assert not currency_agrees("تومان", "IRR")
    note = sign_note(" تومان")
    assert note is not None and "10 IRR" in note


def test_sign_keys_ignore_case_dots_spaces_and_bidi_marks() -> None:
    assert sign_key("руб.") == sign_key("руб") == sign_key(" РУБ ")
    assert sign_key("د.ك.\u200f") == sign_key("د.ك")
    assert sign_key("ريال") == sign_key("ریال")


@pytest.mark.parametrize(
    ("code", "units"),
    [
        *[(c, 3) for c in ("KWD", "OMR", "BHD", "JOD", "TND")],
        *[(c, 0) for c in ("JPY", "KRW", "VND", "CLP")],
        *[(c, 2) for c in ("USD", "EUR", "CNY", "GBP", "XYZ")],  # XYZ: unknown, the default
        ("kwd", 3),
    ],
)
def test_minor_units_are_iso_4217s(code: str, units: int) -> None:
    assert minor_units(code) == units


def test_three_decimal_currencies_know_their_countries_decimal_mark() -> None:
    assert prices.DECIMAL_MARKS["KWD"] == "."  # 12.500 KD
    assert prices.DECIMAL_MARKS["TND"] == ","  # 12,500 DT


def test_legacy_codes_are_replaced() -> None:
    assert iso_code("rur") == "RUB"
    assert iso_code(" usd ") == "USD"
