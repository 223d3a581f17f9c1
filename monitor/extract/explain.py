"""What ``probe`` shows of a page, worked out in a page reader's worker: the verdict with
every strategy's candidates, the variants a shop's API lists, the product's name, and, when
nothing was found, elements that look like prices with a CSS selector for each.

It is extraction code, importing nothing the fork server has not loaded (``monitor.reader``
runs it on hostile pages, within the time limit): a worker that replaces a killed one reads
the next page at once, with no import of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.extract import Document, Request, extract_document, prices
from monitor.extract.api import Variant, variants_in
from monitor.extract.document import clip, struck
from monitor.models import Extraction, PageVerdict, Status

if TYPE_CHECKING:  # config models reach the page readers as Views (monitor.models.view)
    from monitor.models import Shop


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An element whose text looks like a price, and a selector that finds it."""

    selector: str
    text: str


def explain(
    text: str, request: Request, *, shop: Shop, url: str, content_type: str
) -> tuple[Extraction, tuple[Suggestion, ...], tuple[Variant, ...], str | None]:
    """What a probe shows of a page (run in a reader's worker): the verdict (with the window
    the page advertises), selectors for what looks like a price when no price was found,
    the variants a shop's API answer lists, and the product's name (``page_title``)."""
    document = Document(text, url, content_type)
    extraction = extract_document(document, request, shop=shop, every_strategy=True)
    suggestions: tuple[Suggestion, ...] = ()
    if document.is_json:
        variants = tuple(variants_in(document, shop, request))
        return extraction, suggestions, variants, variant_title(variants, request.sku)
    if extraction.status is not Status.PRICE and extraction.page is not PageVerdict.BLOCKED:
        suggestions = tuple(suggest_selectors(document.tree))
    title = page_title(document) if extraction.page is PageVerdict.PRODUCT else None
    return extraction, suggestions, (), title


def page_title(document: Document) -> str | None:
    """Return the product's name on an HTML page: its first heading, else its
    ``og:title``, else its ``<title>``; None when it states none."""
    head = document.tree.head
    og = head.css_first('meta[property="og:title"]') if head is not None else None
    for text in (
        document.heading,
        og.attributes.get("content") if og is not None else None,
        document.title,
    ):
        name = " ".join((text or "").split())
        if name:
            return clip(name, 120)
    return None


def variant_title(variants: Sequence[Variant], sku: str | None) -> str | None:
    """Return the name of the variant a shop's API lists for ``sku`` (the only one, when
    no sku is given); None when that is not one named variant."""
    wanted = sku.strip().lower() if sku else None
    named = [v for v in variants if v.name and (wanted is None or (v.sku or "").lower() == wanted)]
    return clip(" ".join(named[0].name.split()), 120) if len(named) == 1 and named[0].name else None


_PRICE_TEXT = re.compile(
    r"^\s*(?:[¥￥$€£]|US\$|CHF|Rs\.?|RMB)\s*\d[\d,.' ]*\s*$|^\s*\d[\d,.' ]*\s*(?:元|€|zł|CHF|kr)\s*$"
)


def suggest_selectors(tree: LexborHTMLParser, *, limit: int = 8) -> list[Suggestion]:
    """Return elements whose whole text looks like a price, each with a CSS selector for it;
    none inside ``<del>``, ``<s>`` or ``<strike>``, which a selector never reads."""
    found: list[Suggestion] = []
    seen: set[str] = set()
    body = tree.body
    if body is None:
        return found
    for node in body.traverse(include_text=False):
        if node.tag in ("script", "style", "noscript", "template", "option"):
            continue
        text = node.text(deep=True, strip=True)
        if not text or len(text) > 24 or not _PRICE_TEXT.match(text):
            continue
        if any(child.tag != "-text" and child.text(strip=True) == text for child in node.iter()):
            continue  # a child holds the same text: suggest the innermost element
        if prices.parse_price(text) is None or struck(node):
            continue  # a struck-through price is an old one: the selector strategy skips it
        selector = selector_for(node)
        if selector in seen:
            continue
        seen.add(selector)
        found.append(Suggestion(selector, text))
        if len(found) >= limit:
            break
    return found


def selector_for(node: LexborNode) -> str:
    """Return a readable CSS selector for a node: its id, else tag and classes under a parent."""
    own = _simple(node)
    if "#" in own:
        return own
    parent = node.parent
    if parent is not None and parent.tag not in ("body", "html"):
        return f"{_simple(parent)} > {own}"
    return own


def _simple(node: LexborNode) -> str:
    ident = node.attributes.get("id")
    if ident and re.fullmatch(r"[A-Za-z][\w-]*", ident):
        return f"{node.tag}#{ident}"
    classes = [
        c
        for c in (node.attributes.get("class") or "").split()
        if re.fullmatch(r"[A-Za-z_][\w-]*", c)
    ]
    return f"{node.tag}" + "".join(f".{c}" for c in classes[:3])
