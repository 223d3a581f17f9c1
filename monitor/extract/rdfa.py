"""Strategy ``rdfa``: RDFa ``property="price"`` (or ``schema:price``) with its currency."""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.extract import prices
from monitor.extract.document import MAX_EXAMINED, Document, struck
from monitor.extract.request import Request
from monitor.models import Candidate

if TYPE_CHECKING:  # config models reach the page readers as Views (monitor.models.view)
    from monitor.models import Shop


NAME = "rdfa"
_CURRENCY = '[property="priceCurrency"], [property="schema:priceCurrency"]'


def find(page: Document, request: Request, shop: Shop) -> list[Candidate]:
    """Candidates from RDFa price properties (OpenGraph's ``og:`` tags are its own strategy)."""
    out = []
    stated: dict[int, str | None] = {}  # the currency beside the prices, by their parent
    for node in page.rdfa_price[:MAX_EXAMINED]:
        if node.tag == "meta" and (node.attributes.get("property") or "").startswith("og:"):
            continue
        if struck(node):
            continue
        raw = node.attributes.get("content") or node.text(strip=True) or ""
        parsed = prices.parse_price(raw, request.currency)
        if parsed is None:
            continue
        parent = node.parent
        if parent is not None and parent.mem_id not in stated:
            currency_node = parent.css_first(_CURRENCY)
            stated[parent.mem_id] = (
                (currency_node.attributes.get("content") or currency_node.text(strip=True))
                if currency_node is not None
                else None
            )
        currency = (stated.get(parent.mem_id) if parent is not None else None) or parsed.currency
        out.append(Candidate(NAME, parsed.amount, currency, raw=raw[:80], refused=parsed.refused))
    return out
