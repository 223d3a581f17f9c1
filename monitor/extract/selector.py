"""Strategy ``selector``: a CSS selector's matches (the order's, which alone decides, or the
shop's, in the usual order of trust). ``sel@attr`` reads an attribute instead of the text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from monitor.extract import prices
from monitor.extract.document import MAX_EXAMINED, Document, struck
from monitor.extract.request import Request
from monitor.models import Candidate
from monitor.models.css import split_attribute

if TYPE_CHECKING:  # config models reach the page readers as Views (monitor.models.view)
    from monitor.models import Shop


NAME = "selector"


def find(page: Document, request: Request, shop: Shop) -> list[Candidate]:
    """Candidates from the shop's selector, when its profile has one."""
    return from_selector(page.tree, shop.selector, request.currency) if shop.selector else []


def from_selector(
    tree: LexborHTMLParser, selector: str, currency: str | None = None
) -> list[Candidate]:
    """Candidates from a CSS selector; ``sel@attr`` reads an attribute instead of the text.

    Without ``@attr`` a ``content``, ``value`` or ``data-price`` attribute wins over the
    text. Matches inside ``<del>``, ``<s>`` or ``<strike>`` (old prices) are left out. The
    order's ``currency`` (its minor units) settles amounts such as ``"12.500"``.
    """
    css, attribute = split_attribute(selector)
    try:
        nodes = tree.css(css)
    except SelectolaxError:
        return []
    out = []
    for node in nodes[:MAX_EXAMINED]:
        if struck(node):
            continue
        if attribute:
            raw = node.attributes.get(attribute) or ""
        else:
            raw = (
                node.attributes.get("content")
                or node.attributes.get("value")
                or node.attributes.get("data-price")
                or node.text(strip=True, separator=" ")
            ) or ""
        for parsed in prices.parse_prices(raw, currency):
            out.append(
                Candidate(
                    NAME, parsed.amount, parsed.currency, raw=raw[:80], refused=parsed.refused
                )
            )
    return out
