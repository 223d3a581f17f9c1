"""Price strings to ``Decimal`` and ISO currency codes, with price-parser doing the reading.

A currency symbol is often ambiguous (``¥`` is yuan or yen, ``$`` a dozen dollars), so a
symbol maps to the set of ISO codes it may mean, and the order's own currency picks one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from price_parser import Price

# What a sign on a page may stand for. Keys are compared case-insensitively.
SYMBOLS: dict[str, frozenset[str]] = {
    "¥": frozenset({"CNY", "JPY"}),
    "￥": frozenset({"CNY", "JPY"}),
    "元": frozenset({"CNY"}),
    "rmb": frozenset({"CNY"}),
    "円": frozenset({"JPY"}),
    "$": frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "TWD"}),
    "us$": frozenset({"USD"}),
    "c$": frozenset({"CAD"}),
    "ca$": frozenset({"CAD"}),
    "a$": frozenset({"AUD"}),
    "au$": frozenset({"AUD"}),
    "hk$": frozenset({"HKD"}),
    "s$": frozenset({"SGD"}),
    "nt$": frozenset({"TWD"}),
    "€": frozenset({"EUR"}),
    "£": frozenset({"GBP"}),
    "zł": frozenset({"PLN"}),
    "kč": frozenset({"CZK"}),
    "₹": frozenset({"INR"}),
    "rs": frozenset({"INR", "PKR", "LKR", "NPR"}),
    "rs.": frozenset({"INR", "PKR", "LKR", "NPR"}),
    "₩": frozenset({"KRW"}),
    "₽": frozenset({"RUB"}),
    "kr": frozenset({"SEK", "NOK", "DKK", "ISK"}),
    "fr.": frozenset({"CHF"}),
}

_ISO = re.compile(r"^[A-Z]{3}$")
_CNY_MARKERS = ("元", "￥", "RMB")


@dataclass(frozen=True, slots=True)
class ParsedPrice:
    amount: Decimal
    currency: str | None  # an ISO code when the text states one, else the sign as written


def parse_price(text: str) -> ParsedPrice | None:
    """Given a price string such as ``"¥4,999.00"`` or ``"1.299,00 €"``, return it parsed.

    Return None when the text holds no amount.
    """
    if "\ufffd" in text:
        return None  # a byte that did not decode sits in the price: it cannot be read safely
    parsed = Price.fromstring(text)
    if parsed.amount is None:
        return None
    currency = parsed.currency
    if currency is None and any(marker in text for marker in _CNY_MARKERS):
        currency = "元"
    return ParsedPrice(amount=parsed.amount, currency=currency.strip() if currency else None)


_RANGE = re.compile(r"\s*(?:-|–|—|~|～|至|to)\s*")


def parse_prices(text: str) -> list[ParsedPrice]:
    """Like parse_price, but a range such as ``"$8.00 - $10.00"`` gives both ends."""
    parts = [p for p in _RANGE.split(text.strip(), maxsplit=1) if p]
    if len(parts) == 2 and all(re.search(r"\d", p) for p in parts):
        both = [parse_price(p) for p in parts]
        if all(both):
            return [p for p in both if p is not None]
    single = parse_price(text)
    return [single] if single else []


def parse_amount(text: str) -> Decimal | None:
    """Given a machine-readable amount such as ``"4999.00"``, return it; None if it is not one."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return Decimal(text)
    parsed = parse_price(text)
    return parsed.amount if parsed else None


def currencies_for(sign: str) -> frozenset[str]:
    """Return the ISO codes a currency sign or code may stand for (empty if unknown)."""
    sign = sign.strip()
    if _ISO.match(sign):
        return frozenset({sign})
    return SYMBOLS.get(sign.lower(), frozenset())


def currency_agrees(stated: str | None, expected: str) -> bool:
    """Return True when a price stated in ``stated`` (code, sign or nothing) can be ``expected``.

    A page that states no currency agrees with anything: the shop profile tells us the
    currency of its prices. A sign we do not know disagrees, so it is never read as a drop.
    """
    if stated is None:
        return True
    return expected in currencies_for(stated)


# How an ambiguous sign is usually meant, by the page's language (BCP 47 prefix).
_BY_LANGUAGE: dict[str, dict[str, str]] = {
    "¥": {"ja": "JPY", "": "CNY"},
    "￥": {"ja": "JPY", "": "CNY"},
    "$": {
        "en-ca": "CAD",
        "fr-ca": "CAD",
        "en-au": "AUD",
        "en-nz": "NZD",
        "en-sg": "SGD",
        "zh-hk": "HKD",
        "zh-tw": "TWD",
        "es-mx": "MXN",
        "": "USD",
    },
    "rs": {"": "INR"},
    "rs.": {"": "INR"},
}


def likely_currency(sign: str, lang: str) -> str | None:
    """Return the currency an ambiguous sign most likely means on a page in ``lang``, if any."""
    table = _BY_LANGUAGE.get(sign.strip().lower())
    if table is None:
        return None
    lang = lang.strip().lower()
    for prefix in sorted(table, key=len, reverse=True):
        if lang.startswith(prefix):
            return table[prefix]
    return None
