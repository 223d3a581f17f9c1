"""The price a page shows in its buy box, to hold the structured data to.

Structured data goes stale: a sale is drawn on the page while the JSON-LD still holds the
regular price, or the other way round. The buy box is found beside the page's heading: in the
heading and the few elements after it, else in its parent and the few elements after that,
a few levels up but never the whole body, wherever there first is an element marked as a price (``class``/``id`` naming a price, ``itemprop=price``,
``data-price``) whose whole text is one amount. Old, list, unit, monthly and saved amounts
are left out by their class names, struck-through ones by their tags.

The shown price is only ever a check on another strategy, never a price of its own: when
the buy box holds more than one amount, or none, nothing is shown.
"""

from __future__ import annotations

import re
from decimal import Decimal

from selectolax.lexbor import LexborNode

from monitor.extract import prices
from monitor.extract.document import Document, struck

# lexbor walks a subtree once per selector in this list: keep it short.
_PRICE_NODES = '[class*="price" i], [id*="price" i], [itemprop="price"], [data-price]'
# Words in a class or id that mark an amount that is not what the item costs now.
_OLD = {"old", "was", "before", "regular", "reg", "list", "compare", "original", "orig"}
_STRUCK = {"strike", "striked", "strikethrough", "crossed", "msrp", "rrp", "uvp", "srp"}
_SAVED = {"save", "saving", "savings", "discount", "off"}
_PER = {"unit", "per", "month", "monthly", "mo", "emi", "finance"}
_INSTALMENTS = {"installment", "installments", "instalment", "instalments"}
_EXTRA = {"tax", "vat", "shipping", "delivery", "member", "club", "total"}
_BOUNDS = {"range", "from", "min", "max"}
# ... and parts of a price drawn in pieces (Amazon's a-price-whole / a-price-fraction).
_PARTS = {"label", "title", "currency", "symbol", "whole", "fraction", "decimal", "integer"}
_PARTS_SHORT = {"cents", "int", "frac"}
_NOT_NOW = frozenset().union(
    _OLD, _STRUCK, _SAVED, _PER, _INSTALMENTS, _EXTRA, _BOUNDS, _PARTS, _PARTS_SHORT
)
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_NUMBER = re.compile(r"\d[\d.,'\u00a0\u202f ]*")
_LEVELS = 5  # ancestors of the heading searched for the buy box
_SIBLINGS = 2  # elements after the heading (or its ancestor) that may hold the buy box
_MAX_NODES = 50  # price elements looked at in one of them
_MAX_TEXT = 32  # characters: a price, with its sign and a word such as "Now"


def shown_price(page: Document, currency: str | None) -> Decimal | None:
    """Return the one amount the page's buy box shows in ``currency``, or None when it shows
    none, several, or one in another currency."""
    cached = page.cache.get(__name__)
    if cached is not None:
        found: tuple[Decimal | None] = cached
        return found[0]
    shown = None
    heading = page.tree.css_first("h1")
    near, area = heading, heading.parent if heading is not None else None
    for _ in range(_LEVELS):
        if near is None or area is None or area.tag in ("body", "html"):
            break
        amounts = _amounts(_beside(near), currency)
        if amounts is not None:
            shown = amounts.pop() if len(amounts) == 1 else None
            break
        near, area = area, area.parent
    page.cache[__name__] = (shown,)
    return shown


def _beside(node: LexborNode) -> list[LexborNode]:
    """The node and the few elements after it: where a buy box sits beside the heading."""
    found = [node]
    current = node.next
    while current is not None and len(found) <= _SIBLINGS:
        if current.tag not in ("-text", "-comment", "script", "style"):
            found.append(current)
        current = current.next
    return found


def _amounts(areas: list[LexborNode], currency: str | None) -> set[Decimal] | None:
    """The amounts the price elements in ``areas`` show (None when they hold none), stopping
    at the second: two already mean the buy box cannot be told apart."""
    found: set[Decimal] | None = None
    for area in areas:
        nodes = area.css(_PRICE_NODES)
        if area.css_matches(_PRICE_NODES):
            nodes.insert(0, area)
        if not nodes:
            continue
        found = found if found is not None else set()
        for node in nodes[:_MAX_NODES]:
            amount = _amount(node, currency)
            if amount is not None:
                found.add(amount)
                if len(found) > 1:
                    return found
    return found


def _amount(node: LexborNode, currency: str | None) -> Decimal | None:
    """The amount a price element shows, when it is one clear current price in ``currency``."""
    if not _marks_current_price(node) or struck(node):
        return None
    text = node.text(strip=True, separator=" ")
    if not text or len(text) > _MAX_TEXT or len(_NUMBER.findall(text)) != 1:
        return None
    if "%" in text or "/" in text:
        return None  # a saving or a price per unit, per month
    parsed = prices.parse_price(text)
    if parsed is None:
        return None
    if currency is not None and not prices.currency_agrees(parsed.currency, currency):
        return None
    return parsed.amount


def _marks_current_price(node: LexborNode) -> bool:
    attributes = node.attributes
    if attributes.get("itemprop") == "price" or "data-price" in attributes:
        return True
    names = f"{attributes.get('class') or ''} {attributes.get('id') or ''}"
    words = {w.lower() for w in _WORDS.findall(names)}
    return any(w.startswith("price") for w in words) and not words & _NOT_NOW
