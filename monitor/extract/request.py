"""What extraction is told of the order: the product's page, variant, selector and currency.

Apart from the page's reading (``document.py``, with its HTML parser) so that what decides
what to fetch (``source.py``) loads without it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True, slots=True)
class Request:
    """What the order says about the product: its page, variant, selector and currency, and
    the day it is read on (an offer whose ``priceValidUntil`` has passed is an old price),
    and whether the page is as a browser rendered it (then it never "needs JavaScript")."""

    sku: str | None = None
    selector: str | None = None
    currency: str | None = None
    product_url: str = ""
    today: dt.date | None = None
    rendered: bool = False

    @property
    def names_variant(self) -> bool:
        """True when the order says which variant it is: a sku, or its URL's ``?variant=``."""
        return self.sku is not None or variant_in(self.product_url) is not None


def variant_in(url: Any) -> str | None:
    """The variant a URL's query names (``?variant=123``, as Shopify writes it), or None."""
    if not isinstance(url, str) or "variant=" not in url:
        return None
    found = parse_qs(urlsplit(url).query).get("variant")
    return found[0] if found else None
