"""The price a page shows in its buy box, to hold the structured data to.

Structured data goes stale: a sale is drawn on the page while the JSON-LD still holds the
regular price, or the other way round. The buy box is found beside the page's heading: in the
heading and the few elements after it, else in its parent and the few elements after that,
a few levels up but never the whole body, wherever there first is an element marked as a price (``class``/``id`` naming a price, ``itemprop=price``,
``data-price``) whose whole text is one amount. Old, list, unit, monthly and saved amounts
are left out by their class names, struck-through ones by their tags.

The shown price is only ever a check on another strategy, never a price of its own: when
the buy box holds more than one amount, or none, nothing is shown. ``held_to`` holds a
structured-data verdict to it.
"""

from __future__ import annotations

import re
from decimal import Decimal

from selectolax.lexbor import LexborNode

from monitor.extract import prices
from monitor.extract.decide import decide
from monitor.extract.document import Document, Request, struck
from monitor.models import Candidate, Disagreement, Extraction, Money, RangeEnd, Status

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
_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"\d[\d.,'\u00a0\u202f ]*")
_LEVELS = 5  # ancestors of the heading searched for the buy box
_SIBLINGS = 2  # elements after the heading (or its ancestor) that may hold the buy box
_MAX_NODES = 50  # price elements looked at in one of them
_MAX_TEXT = 32  # characters: a price, with its sign and a word such as "Now"
# Words beside an amount that make it something else than what this item costs: the low
# end of a range ("From", "As low as", 起, ab), a price per unit or per month.
_NOT_ONE_PRICE = re.compile(
    r"\b(?:from|as low as|starting at|starts at|ab|dès|à partir de|a partir de|desde|da|vanaf"
    r"|от|per|pro|je|each|ea|month|mo)\b|起|低至|每|/",
    re.IGNORECASE,
)
_LABEL_TEXT = 40  # characters of the text around a price element searched for those words
_LABEL_LEVELS = 3  # parents of a price element whose text is searched for them


def held_to(
    verdict: Extraction, candidates: list[Candidate], page: Document, request: Request
) -> Extraction:
    """Hold a structured-data verdict (of these ``candidates``) to the buy box's price."""
    if verdict.status is Status.PRICE:
        return _stale_or_not(verdict, candidates, page)
    return _low_end_shown(verdict, candidates, page, request)


def _stale_or_not(verdict: Extraction, candidates: list[Candidate], page: Document) -> Extraction:
    """A single structured price the buy box contradicts is "needs review" with both prices,
    never a silent read of either. Structured data holding several prices (variants) is not
    held to it: the buy box may show another variant than the order's."""
    price = verdict.price
    if price is None or len({c.amount for c in candidates}) != 1:
        return verdict
    shown = shown_price(page, price.currency)
    if shown is None or shown == price.amount:
        return verdict
    strategy = verdict.strategy or ""
    return Extraction(
        Status.UNKNOWN,
        strategy=strategy,
        reason=(
            f"needs review: the page shows {shown:f} {price.currency} but its {strategy} "
            f"data says {price.amount:f}: one of them is out of date"
        ),
        availability=verdict.availability,
        disagreement=Disagreement(shown=Money(shown, price.currency), structured=price),
    )


def _low_end_shown(
    verdict: Extraction, candidates: list[Candidate], page: Document, request: Request
) -> Extraction:
    """Of an AggregateOffer's range, the low end is the price when the buy box shows exactly
    that amount, with no "from" or "as low as" beside it (``_amount``)."""
    lows = {c.amount for c in candidates if c.bound is RangeEnd.LOW}
    if len(lows) != 1 or len({c.amount for c in candidates}) < 2:
        return verdict
    shown = shown_price(page, request.currency)
    if shown is None or shown not in lows:
        return verdict
    low = [c for c in candidates if c.amount == shown]
    return decide(verdict.strategy or "", low, request, lang=page.language)


def shown_price(page: Document, currency: str | None) -> Decimal | None:
    """Return the one amount the page's buy box shows in ``currency``, or None when it shows
    none, several, or one in another currency."""
    cached = page.cache.get(__name__)
    if cached is not None:
        found: tuple[Decimal | None] = cached
        return found[0]
    shown = None
    heading = _product_heading(page)
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


def _product_heading(page: Document) -> LexborNode | None:
    """The page's first ``<h1>`` outside its header and navigation (where themes put the
    shop's name), when it names something."""
    for heading in page.tree.css("h1")[:3]:
        if not heading.text(strip=True):
            continue
        current = heading.parent
        while current is not None and current.tag not in ("header", "nav", "body"):
            current = current.parent
        if current is None or current.tag == "body":
            return heading
    return None


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
    """The amount a price element shows, when it is one clear current price in ``currency``.

    The element's digits must stand in one piece of text: a price drawn in pieces
    (``$<b>699</b><sup>99</sup>``) cannot be read back safely, so it shows nothing. An
    ``itemprop=price`` element with a ``content`` is the structured data itself, not a
    check on it.
    """
    attributes = node.attributes
    if "content" in attributes or not _marks_current_price(node) or struck(node):
        return None
    text = node.text(strip=True, separator=" ")
    if not text or len(text) > _MAX_TEXT or len(_NUMBER.findall(text)) != 1:
        return None
    if "%" in text or _NOT_ONE_PRICE.search(text) or _labelled_otherwise(node):
        return None
    if sum(1 for part in node.traverse(include_text=True) if _has_digit(part)) != 1:
        return None
    parsed = prices.parse_price(text, currency)
    if parsed is None or parsed.refused or not parsed.amount > 0:
        return None
    if currency is not None and not prices.currency_agrees(parsed.currency, currency):
        return None
    return parsed.amount


def _has_digit(node: LexborNode) -> bool:
    return node.tag == "-text" and _DIGIT.search(node.text_content or "") is not None


def _labelled_otherwise(node: LexborNode) -> bool:
    """True when the text just around the element (its parents, while they hold little
    more than the price) says it is no single price: "As low as" or "From" in a label
    beside the amount, as Magento and others write it."""
    current = node.parent
    for _ in range(_LABEL_LEVELS):
        if current is None:
            return False
        around = current.text(strip=True, separator=" ")
        if len(around) > _MAX_TEXT + _LABEL_TEXT:
            return False
        if _NOT_ONE_PRICE.search(around):
            return True
        current = current.parent
    return False


def _marks_current_price(node: LexborNode) -> bool:
    attributes = node.attributes
    if attributes.get("itemprop") == "price" or "data-price" in attributes:
        return True
    names = f"{attributes.get('class') or ''} {attributes.get('id') or ''}"
    words = {w.lower() for w in _WORDS.findall(names)}
    return any(w.startswith("price") for w in words) and not words & _NOT_NOW
