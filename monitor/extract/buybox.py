"""The price a page shows in its buy box, to hold the structured data to.

Structured data goes stale: a sale is drawn on the page while the JSON-LD still holds the
regular price, or the other way round. The buy box is found beside the page's first heading
outside its header: in the heading and the few elements after it, else in its parent and
the few elements after that, a few levels up but never the whole body, wherever there first
are elements marked as prices (a ``class`` or ``id`` naming a price, ``itemprop=price``,
``data-price``). An element counts when its whole text is one amount drawn in one piece.
Old, list, unit, monthly, financing and saved amounts are left out by their class names and
labels, struck-through ones by their tags, and the prices of other products' tiles and
links by where they sit. A "From" or "As low as" before an amount makes it a range's low end.

The shown price is only ever a check on another strategy, never a price of its own: when
the buy box holds more than one amount, or none, nothing is shown. ``held_to`` holds a
structured-data verdict to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal

from selectolax.lexbor import LexborNode

from monitor.extract import prices
from monitor.extract.decide import decide
from monitor.extract.document import Document, struck
from monitor.extract.request import Request
from monitor.models import Candidate, Disagreement, Extraction, Money, RangeEnd, Status

# lexbor walks a subtree once per selector in this list: keep it short.
_PRICE_NODES = '[class*="price" i], [id*="price" i], [itemprop="price"], [data-price]'
# The same, read off one element's attributes (a CSS match compiles its selectors each time).
_PRICE = ("price",)
_PRICE_OR_OFFER = ("price", "offer")
# Words in a class or id that mark an amount that is not what the item costs now.
_OLD = {"old", "was", "before", "regular", "reg", "list", "compare", "original", "orig", "non"}
_STRUCK = {"strike", "striked", "strikethrough", "crossed", "deleted", "msrp", "rrp", "uvp", "srp"}
_SAVED = {"save", "saving", "savings", "discount", "off"}
_PER = {"unit", "per", "month", "monthly", "mo", "emi", "finance", "financing", "rate", "rates"}
_INSTALMENTS = {"installment", "installments", "instalment", "instalments"}
_EXTRA = {"shipping", "delivery", "member", "club", "total"}
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
# Words beside an amount that make it the low end of a range ("From", "As low as", 起, ab):
# the product comes at several prices, and this one is not known to be the order's.
_FROM_WORDS = (
    r"from|as low as|starting at|starts at|ab|dès|à partir de|a partir de|desde|da|vanaf|от"
)
_FROM = re.compile(rf"\b(?:{_FROM_WORDS})\b|起|低至", re.IGNORECASE)
# ... at the end of the text right before the amount ("As low as", "4 neufs dès"), not a
# word further off in a sentence ("Sofort ab Lager", "Choose from three colours").
_FROM_LABEL = re.compile(rf"\b(?:{_FROM_WORDS})\s*:?\s*$|低至\s*$", re.IGNORECASE)
# ... or something else than what this item costs now: a price per unit or per month, an
# instalment (4x, x12), the old price ("Was", "Statt", 原价).
_NOT_NOW_TEXT = re.compile(
    r"\b(?:per|pro|je|each|ea|month|mo|was|statt|avant|antes|before|regular|reg|list price"
    r"|uvp|rrp|msrp|raten|rate|rates|cuotas|parcelas|meses|mois)\b|\b\d+\s*[x×]|[x×]\s*\d|每|/|原价|划线价|%",
    re.IGNORECASE,
)
# Words in the class of an element around a price that make it another product's: a tile
# or card in a carousel of related products.
_TILE = frozenset(
    {"tile", "card", "carousel", "recommend", "recommendation", "recommendations", "related"}
    | {"upsell", "similar", "crosssell", "slider", "swiper", "complete", "look"}
    | {"other", "others"}  # other sellers' offers on a marketplace, other colours
)
# What lets a shopper choose a variant on a product page: a select, radio buttons,
# swatches (a select elsewhere on the page only costs a claim its confirmation).
_VARIANT_PICKER = 'select, input[type="radio"], [class*="swatch" i]'
_LABEL_TEXT = 40  # characters, at most, of the text read as a price's label
_LABEL_LEVELS = 3  # parents of a price element before which its label may stand
_LABEL_SKIPS = 4  # empty elements skipped, looking back for the label
_TILE_LEVELS = 15  # ancestors of a price element looked at, up to the area it is found in


@dataclass(frozen=True, slots=True)
class BuyBox:
    """What the price elements beside the heading show: the amounts read as current prices,
    and the low end of a range when one says "From" or "As low as"."""

    amounts: frozenset[Decimal] = frozenset()
    from_price: Decimal | None = None

    @property
    def shown(self) -> Decimal | None:
        """The one current price the buy box shows, or None when it shows none, or several,
        or a "from" price."""
        if self.from_price is not None or len(self.amounts) != 1:
            return None
        return next(iter(self.amounts))


NOTHING = BuyBox()


def held_to(
    verdict: Extraction, candidates: list[Candidate], page: Document, request: Request
) -> Extraction:
    """Hold a structured-data verdict (of these ``candidates``) to the buy box's price."""
    if verdict.status is Status.PRICE:
        return _stale_or_not(verdict, candidates, page, request)
    return _low_end_shown(verdict, candidates, page, request)


def _stale_or_not(
    verdict: Extraction, candidates: list[Candidate], page: Document, request: Request
) -> Extraction:
    """A single structured price the buy box contradicts is "needs review" with both prices,
    never a silent read of either; beside a "from" price, unless the order names its
    variant, it is one variant's, not known to be the order's. Structured data holding
    several prices (variants) is not held to the buy box: it may show another variant."""
    price = verdict.price
    if price is None or len({c.amount for c in candidates}) != 1:
        return verdict
    box = buy_box(page, price.currency)
    strategy = verdict.strategy or ""
    if box.from_price is not None and not request.names_variant:
        return Extraction(
            Status.UNKNOWN,
            strategy=strategy,
            reason=(
                f"the page shows a price range (from {box.from_price:f} {price.currency}), "
                f"and its {strategy} data only one price: add a selector for your variant's"
            ),
        )
    shown = box.shown
    if shown is None or shown == price.amount:
        return verdict
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
    that amount, with no "from" or "as low as" beside it. When the page lets one choose a
    variant and the order names none, nothing ties the order to the variant shown first: a
    drop at that price is "needs review", not a claim (``variant_confirmed``)."""
    lows = {c.amount for c in candidates if c.bound is RangeEnd.LOW}
    if len(lows) != 1 or len({c.amount for c in candidates}) < 2:
        return verdict
    shown = buy_box(page, request.currency).shown
    if shown is None or shown not in lows:
        return verdict
    low = [c for c in candidates if c.amount == shown]
    read = decide(verdict.strategy or "", low, request, lang=page.language)
    if not request.names_variant and page.tree.css_first(_VARIANT_PICKER) is not None:
        return replace(read, variant_confirmed=False)
    return read


def shown_price(page: Document, currency: str | None) -> Decimal | None:
    """Return the one current price the page's buy box shows in ``currency``, or None when
    it shows none, several, a "from" price, or one in another currency."""
    return buy_box(page, currency).shown


def buy_box(page: Document, currency: str | None) -> BuyBox:
    """What the page's buy box shows in ``currency`` (read once per page)."""
    key = f"{__name__}:{currency}"
    cached = page.cache.get(key)
    if cached is not None:
        found: BuyBox = cached
        return found
    box = NOTHING
    heading = _product_heading(page)
    near, area = heading, heading.parent if heading is not None else None
    for _ in range(_LEVELS):
        if near is None or area is None or area.tag in ("body", "html"):
            break
        beside = _beside(near)
        # The heading itself holds its name, not a price: the elements after it do.
        scanned = _scan(beside[1:] if near is heading else beside, area, currency)
        if scanned is not None:
            box = scanned
            break
        near, area = area, area.parent
    page.cache[key] = box
    return box


def _product_heading(page: Document) -> LexborNode | None:
    """The page's first ``<h1>`` outside its header and navigation (where themes put the
    shop's name), when it names something: most pages' first, found without listing all."""
    first = page.first_heading
    if first is None or _names_the_product(first):
        return first
    return next((h for h in page.tree.css("h1")[1:3] if _names_the_product(h)), None)


def _names_the_product(heading: LexborNode) -> bool:
    if not heading.text(strip=True):
        return False
    current = heading.parent
    while current is not None and current.tag not in ("header", "nav", "body"):
        current = current.parent
    return current is None or current.tag == "body"


def _beside(node: LexborNode) -> list[LexborNode]:
    """The node and the few elements after it: where a buy box sits beside the heading."""
    found = [node]
    current = node.next
    while current is not None and len(found) <= _SIBLINGS:
        if current.tag not in ("-text", "-comment", "script", "style"):
            found.append(current)
        current = current.next
    return found


def _scan(areas: list[LexborNode], within: LexborNode, currency: str | None) -> BuyBox | None:
    """What the price elements in ``areas`` (children of ``within``) show; None when they
    hold none. It stops at the second amount: two already mean no one price is shown; and,
    once an area showed an amount, at the first area after it that is no price or offer
    block itself (a table of specifications, reviews: long to search, and no buy box)."""
    found: BuyBox | None = None
    for area in areas:
        if found is not None and found.amounts and not _marked(area, _PRICE_OR_OFFER):
            break
        # lexbor lists a node once for each selector of the list it matches: once here.
        nodes = list({node.mem_id: node for node in area.css(_PRICE_NODES)}.values())
        if _marked(area, _PRICE):
            nodes.insert(0, area)
        for node in nodes[:_MAX_NODES]:
            if _in_tile(node, within):
                continue
            found = found or NOTHING
            read = _read(node, currency)
            if isinstance(read, _From):
                return BuyBox(found.amounts, read.amount)
            if read is not None:
                found = BuyBox(found.amounts | {read})
                if len(found.amounts) > 1:
                    return found
    return found


@dataclass(frozen=True, slots=True)
class _From:
    """A price element that shows the low end of a range."""

    amount: Decimal


def _read(node: LexborNode, currency: str | None) -> Decimal | _From | None:
    """The amount a price element shows, when it is one clear current price in ``currency``;
    ``_From`` when its text or label says it is the low end of a range.

    The element's digits must stand in one piece of text: a price drawn in pieces
    (``$<b>699</b><sup>99</sup>``) cannot be read back safely, so it shows nothing.
    """
    if not _marks_current_price(node) or struck(node):
        return None
    text = node.text(strip=True, separator=" ")
    if not text or len(text) > _MAX_TEXT or len(_NUMBER.findall(text)) != 1:
        return None
    if _NOT_NOW_TEXT.search(text):
        return None
    if sum(1 for part in node.traverse(include_text=True) if _has_digit(part)) != 1:
        return None
    parsed = prices.parse_price(text, currency)
    if parsed is None or parsed.refused or not parsed.amount > 0:
        return None
    if currency is not None and not prices.currency_agrees(parsed.currency, currency):
        return None
    label = _label(node)
    if _FROM.search(text) or _FROM_LABEL.search(label):
        return _From(parsed.amount)
    if _NOT_NOW_TEXT.search(label):
        return None
    return parsed.amount


def _in_tile(node: LexborNode, within: LexborNode) -> bool:
    """True for a price inside a link or a tile of another product, below ``within``."""
    current = node.parent
    for _ in range(_TILE_LEVELS):
        if current is None or current.mem_id == within.mem_id:
            return False
        attributes = current.attributes if current.tag != "-undef" else {}
        if current.tag == "a" and attributes.get("href"):
            return True
        names = f"{attributes.get('class') or ''} {attributes.get('id') or ''}"
        if names.strip() and {w.lower() for w in _WORDS.findall(names)} & _TILE:
            return True
        current = current.parent
    return True  # nested deeper than any buy box nests its price: not the buy box's


def _marked(node: LexborNode, words: tuple[str, ...]) -> bool:
    """True when the element is marked as one of ``words`` ("price", "offer"): in its class
    or id, its ``itemprop``, or a ``data-price``, as ``_PRICE_NODES`` finds them."""
    if node.tag in ("-text", "-comment", "-undef"):
        return False
    attributes = node.attributes
    if "data-price" in attributes and "price" in words:
        return True
    itemprop = attributes.get("itemprop") or ""
    if itemprop == "price" or (itemprop == "offers" and "offer" in words):
        return True
    names = f"{attributes.get('class') or ''} {attributes.get('id') or ''}".lower()
    return any(word in names for word in words)


def _has_digit(node: LexborNode) -> bool:
    return node.tag == "-text" and _DIGIT.search(node.text_content or "") is not None


def _label(node: LexborNode) -> str:
    """The label right before a price element: the text just before it, or before the
    parent it opens (a few levels up), when that is short ("As low as", "Was", "UVP").
    Words further away ("Ships from Acme", "Sofort ab Lager") are not its label."""
    current: LexborNode | None = node
    for _ in range(_LABEL_LEVELS):
        if current is None:
            return ""
        before = current.prev
        for _ in range(_LABEL_SKIPS):
            if before is None or (before.tag != "-comment" and before.text(strip=True)):
                break
            before = before.prev
        if before is not None:
            label = before.text(strip=True, separator=" ")
            return label if len(label) <= _LABEL_TEXT else ""
        current = current.parent  # the element opens its parent: look before the parent
    return ""


def _marks_current_price(node: LexborNode) -> bool:
    attributes = node.attributes
    if attributes.get("itemprop") == "price" or "data-price" in attributes:
        return True
    names = f"{attributes.get('class') or ''} {attributes.get('id') or ''}"
    words = {w.lower() for w in _WORDS.findall(names)}
    return any(w.startswith("price") for w in words) and not words & _NOT_NOW
