"""Price strings to ``Decimal`` and ISO currency codes, with price-parser doing the reading.

A currency sign is often ambiguous (``¥`` is yuan or yen, ``$`` a dozen dollars, ``kr``
four crowns), so a sign maps to the set of ISO codes it may mean, and the order's own
currency picks one. The signs and each currency's minor units come from CLDR, through
``currency_signs.json`` (written by ``make_currency_signs.py`` from Babel's data; Babel
itself is too slow to load here).

The minor units settle what a separator means where price-parser has to guess: in
``"123,456.789 OMR"`` the last separator is the decimal one (the rial has 3 decimals);
``"12.500 KD"`` is twelve and a half dinars, as Kuwait writes decimals (and ``"12,500 DT"``
as Tunisia does), while ``"140.000"`` in a 2- or 0-decimal currency groups thousands, as
price-parser reads it. A string that could still be two different numbers (``"1,234.567"``
in dollars, ``"12,000 KD"``) or that multiplies its number (``"1.5万"``) is refused, saying
why, never guessed.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from price_parser import Price
from price_parser.parser import parse_number

_ISO = re.compile(r"^[A-Z]{3}$")
_CNY_MARKERS = ("元", "￥", "RMB")
_DIGIT = re.compile(r"\d")
_MACHINE_AMOUNT = re.compile(r"\d+(\.\d+)?")
# Marks that change nothing in how a sign reads: bidi and zero-width marks, all spaces.
_INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2066-\u2069\u061c\ufeff]+")
# Arabic and Persian write the same letters with different code points (ريال, ریال).
_FOLD = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})
# A thousands separator that price-parser does not know: the ’ of Swiss prices (1’299.50).
_QUOTE_GROUP = re.compile(r"(?<=\d)[\u2019\u02bc\u2032](?=\d{3})")
# A multiplier after the amount (1.5万, 12만원, 1.5 lakh, $1.2k): price-parser reads 1.5.
# A k after a space is more likely a kwacha or kyat (1 K) than a thousand.
_MULTIPLIER = re.compile(
    r"k\b|\s*(?:[万萬亿億千만천억]|(?:lakhs?|lacs?|crores?|mil|mio|millions?|mln|bn)\b)",
    re.IGNORECASE,
)
# A range's separator: a dash or tilde, 至, or the word "to" (not the "to" in "Desconto").
_RANGE = re.compile(r"\s*(?:[-–—~～至]|\bto\b)\s*")
NOT_A_NUMBER = Decimal("NaN")


def sign_key(sign: str) -> str:
    """The form a currency sign is looked up by: no spaces or bidi marks, lower case, no
    dots around it (``"руб."`` and ``"руб"``, ``"Zł"`` and ``"zł"`` are one sign)."""
    return _INVISIBLE.sub("", sign).lower().translate(_FOLD).strip(".")


def _load() -> tuple[
    dict[str, frozenset[str]],
    frozenset[str],
    dict[str, int],
    dict[str, str],
    dict[str, str],
    dict[str, str],
]:
    # Beside this module, read as a file: importlib.resources cost every page reader's start
    # 6 ms of imports for a package that is never zipped.
    text = Path(__file__).with_name("currency_signs.json").read_text("utf-8")
    data = json.loads(text)
    signs = {sign: frozenset(codes) for sign, codes in data["signs"].items()}
    multiples = {
        sign: f"1 {sign} is {times} {code}, and the price is not converted"
        for sign, (code, times) in data["multiples"].items()
    }
    codes = frozenset(data["codes"].split())
    return signs, codes, data["minor_units"], data["decimal_marks"], data["replaced"], multiples


SIGNS, CODES, MINOR_UNITS, DECIMAL_MARKS, REPLACED, _MULTIPLES = _load()


@dataclass(frozen=True, slots=True)
class ParsedPrice:
    """A price read from text. ``refused`` says why its amount cannot be read safely (it is
    then NaN, which no decision takes for a price)."""

    amount: Decimal
    currency: str | None  # an ISO code when the text states one, else the sign as written
    refused: str | None = None


def parse_price(text: str, currency: str | None = None) -> ParsedPrice | None:
    """Given a price string such as ``"¥4,999.00"`` or ``"1.299,00 €"`` and the currency
    the order is in (when known), return it parsed; None when the text holds no amount.

    The currency's minor units decide an ambiguous amount. An amount still ambiguous, or
    multiplied (``"1.5万"``), is refused (``refused`` says why) when ``currency`` is given,
    else None: a caller that gives no currency never sees a refusal.
    """
    if "\ufffd" in text:
        return None  # a byte that did not decode sits in the price: it cannot be read safely
    if "\u2019" in text or "\u02bc" in text or "\u2032" in text:
        text = _QUOTE_GROUP.sub("'", text)
    parsed = Price.fromstring(text)
    if parsed.amount is None or parsed.amount_text is None:
        return None
    sign = parsed.currency.strip() if parsed.currency else None
    if sign is None and any(marker in text for marker in _CNY_MARKERS):
        sign = "元"
    number = parsed.amount_text
    amount = _amount(number, parsed.amount, *_written(sign, currency))
    if isinstance(amount, str):
        why = f"ambiguous amount '{number}' for {currency}: {amount}"
    else:
        at = text.find(number)
        multiplied = _MULTIPLIER.match(text, at + len(number)) if at >= 0 else None
        if multiplied is None:
            return ParsedPrice(amount=amount, currency=sign or None)
        why = f"the amount '{number}' is multiplied by '{multiplied.group().strip()}', not read"
    if currency is None:
        return None
    return ParsedPrice(amount=NOT_A_NUMBER, currency=sign or None, refused=why)


def parse_prices(text: str, currency: str | None = None) -> list[ParsedPrice]:
    """Like parse_price, but a range such as ``"$8.00 - $10.00"`` gives both ends."""
    parts = [p for p in _RANGE.split(text.strip(), maxsplit=1) if p]
    if len(parts) == 2 and all(_DIGIT.search(p) for p in parts):
        both = [parse_price(p, currency) for p in parts]
        if all(both):
            return [p for p in both if p is not None]
    single = parse_price(text, currency)
    return [single] if single else []


def parse_amount(text: str, currency: str | None = None) -> Decimal | None:
    """Given a machine-readable amount such as ``"4999.00"``, return it; None if it is not
    one, or cannot be read safely in ``currency``."""
    text = text.strip()
    if _MACHINE_AMOUNT.fullmatch(text):
        return Decimal(text)
    parsed = parse_price(text, currency)
    return parsed.amount if parsed and parsed.refused is None else None


def iso_code(code: str) -> str:
    """The ISO code an order's currency stands for: upper case, a legacy code replaced
    (``"rur"`` is ``"RUB"``)."""
    code = code.strip().upper()
    return REPLACED.get(code, code)


@functools.lru_cache(maxsize=1024)
def currencies_for(sign: str) -> frozenset[str]:
    """Return the ISO codes a currency sign or code may stand for (empty if unknown):
    ``"¥"`` is CNY or JPY, ``"pln"`` PLN, ``"RUR"`` RUB."""
    key = sign_key(sign)
    found = SIGNS.get(key, frozenset())
    code = key.upper()
    if code in CODES:
        found = found | {REPLACED.get(code, code)}
    elif not found and _ISO.match(sign.strip()):
        found = frozenset({code})  # a code newer than the data, or none: it means itself
    return found


def currency_agrees(stated: str | None, expected: str) -> bool:
    """Return True when a price stated in ``stated`` (code, sign or nothing) can be ``expected``.

    A page that states no currency agrees with anything: the shop profile tells us the
    currency of its prices. A sign we do not know disagrees, so it is never read as a drop.
    """
    if stated is None:
        return True
    return iso_code(expected) in currencies_for(stated)


def minor_units(code: str) -> int:
    """The decimals a currency has (ISO 4217, as CLDR gives it): 3 for KWD, 0 for JPY."""
    return MINOR_UNITS.get(iso_code(code), 2)


def sign_note(sign: str) -> str | None:
    """Why a sign that names a multiple of a currency is not that currency (the toman), or
    None."""
    return _MULTIPLES.get(sign_key(sign))


@functools.lru_cache(maxsize=1024)
def _written(sign: str | None, expected: str | None) -> tuple[int | None, str | None]:
    """How the amount is written: its currency's minor units and, for 3 decimals, the
    decimal mark of the currency's countries. The order's currency when the page agrees with
    it, else what every currency the sign may mean shares; None when unknown."""
    codes = {iso_code(expected)} if expected and currency_agrees(sign, expected) else set()
    codes = codes or (set(currencies_for(sign)) if sign else set())
    units = {minor_units(code) for code in codes}
    marks = {DECIMAL_MARKS.get(code) for code in codes}
    return (
        units.pop() if len(units) == 1 else None,
        marks.pop() if len(marks) == 1 else None,
    )


def _amount(text: str, guessed: Decimal, digits: int | None, mark: str | None) -> Decimal | str:
    """Given price-parser's amount text (``"123,456.789"``) and its guess, return the amount
    in a currency with ``digits`` minor units whose countries write ``mark`` as the decimal
    mark (None: unknown), or why it is ambiguous."""
    last = max(text.rfind("."), text.rfind(","))
    tail = text[last + 1 :]
    if last < 0 or len(tail) != 3 or not tail.isdigit():
        return guessed  # 1, 2 or 4+ decimals (or "35€99"), as price-parser reads them
    number = text.replace(" ", "")
    last = len(number) - 4
    separator = number[last]
    other = "," if separator == "." else "."
    if other in number[:last]:
        # Two kinds of separator: the last is the decimal one, here with three decimals.
        if digits is not None and digits >= 3:
            return _decimal(number, separator, guessed)
        if digits is None:
            return "the last separator may group thousands or mark 3 decimals"
        return f"3 decimals, but the currency has {digits}"
    if number.count(separator) > 1 or digits is None or digits < 3:
        return guessed  # "1.234.567", or "140.000" grouping thousands, as price-parser reads it
    if separator == mark or " " in text:  # 12.500 KD, 12,500 DT; 1 299.000, grouped by spaces
        return _decimal(number, separator, guessed)
    # "12,000 KD": twelve thousand dinars, or twelve written the Tunisian way.
    name = "comma" if separator == "," else "dot"
    return f"the {name} may group thousands or mark 3 decimals"


def _decimal(number: str, separator: str, guessed: Decimal) -> Decimal:
    """The number read with ``separator`` as its decimal separator."""
    read = parse_number(number, decimal_separator=separator)
    return guessed if read is None else read


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
        "en-hk": "HKD",
        "zh-tw": "TWD",
        "es-mx": "MXN",
        "": "USD",
    },
    "rs": {"": "INR"},
}


def likely_currency(sign: str, lang: str) -> str | None:
    """Return the currency an ambiguous sign most likely means on a page in ``lang``, if any."""
    table = _BY_LANGUAGE.get(sign_key(sign))
    if table is None:
        return None
    lang = lang.strip().lower()
    for prefix in sorted(table, key=len, reverse=True):
        if lang.startswith(prefix):
            return table[prefix]
    return None
