"""Strategy ``opengraph``: ``product:price:amount`` / ``og:price:amount`` meta tags.

They belong in the head, which is quick to search (a tag in the body is not read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.extract import prices
from monitor.extract.document import MAX_PRICE_NODES, Document
from monitor.extract.request import Request
from monitor.models import Candidate

if TYPE_CHECKING:  # config models reach the page readers as Views (monitor.models.view)
    from monitor.models import Shop


NAME = "opengraph"


def find(page: Document, request: Request, shop: Shop) -> list[Candidate]:
    """Candidates from the OpenGraph price tags in the page's head."""
    tree = page.tree
    scope = tree.head or tree.root
    if scope is None:
        return []
    out = []
    for prefix in ("product:price", "og:price"):
        nodes = scope.css(f'meta[property="{prefix}:amount"]')[:MAX_PRICE_NODES]
        if not nodes:
            continue
        currency_node = tree.css_first(f'meta[property="{prefix}:currency"]')
        currency = currency_node.attributes.get("content") if currency_node else None
        for node in nodes:
            raw = node.attributes.get("content") or ""
            amount = prices.parse_amount(raw, request.currency)
            if amount is not None:
                out.append(Candidate(NAME, amount, currency, raw=raw[:80]))
    return out
