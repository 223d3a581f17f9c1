"""Strategy ``regex``: a shop profile's regular expression over the raw page, the last resort.

The first group (or the whole match) is the price text.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING

from monitor.extract import prices
from monitor.extract.document import MAX_PRICE_NODES, Document
from monitor.extract.request import Request
from monitor.models import Candidate

if TYPE_CHECKING:  # config models reach the page readers as Views (monitor.models.view)
    from monitor.models import Shop


NAME = "regex"


def find(page: Document, request: Request, shop: Shop) -> list[Candidate]:
    """Candidates from the shop's regex, when its profile has one."""
    return from_regex(page.text, shop.regex, request.currency) if shop.regex else []


def from_regex(text: str, pattern: str, currency: str | None = None) -> list[Candidate]:
    """Candidates from a regular expression's first group (or whole match) over the raw page,
    read in the order's ``currency`` when it is known."""
    out = []
    for match in itertools.islice(re.finditer(pattern, text), MAX_PRICE_NODES):
        raw = match.group(1) if match.groups() else match.group(0)
        parsed = prices.parse_price(raw, currency)
        if parsed is not None:
            out.append(
                Candidate(
                    NAME, parsed.amount, parsed.currency, raw=raw[:80], refused=parsed.refused
                )
            )
    return out
