"""Small pages written the way shops write them, for the strategy tests."""

from __future__ import annotations

import json
from decimal import Decimal

from monitor.extract import Document, Request
from monitor.models import Candidate, Shop
from monitor.shops import catalogue

GENERIC = catalogue()["generic"]


def page(head: str = "", body: str = "", title: str = "Phone X - Shop") -> str:
    """A product page with enough visible text not to look like an app shell."""
    filler = "<p>" + "Specifications and reviews. " * 30 + "</p>"
    return (
        f"<!doctype html><html><head><title>{title}</title>{head}</head>"
        f"<body><nav>Home | Phones</nav>{body}{filler}</body></html>"
    )


def ld(data: object) -> str:
    """A JSON-LD script holding ``data``."""
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def offer(price: object, currency: str = "CNY", **more: object) -> dict[str, object]:
    return {"@type": "Offer", "price": price, "priceCurrency": currency, **more}


def product(*offers: dict[str, object], **more: object) -> dict[str, object]:
    return {"@type": "Product", "name": "Phone X", "offers": list(offers), **more}


def amounts(found: list[Candidate]) -> list[Decimal]:
    """The amounts a strategy found, in page order."""
    return [c.amount for c in found]


def document(html: str, url: str = "") -> Document:
    return Document(html, url, "text/html")


NO_ORDER = Request()


def shop(**fields: object) -> Shop:
    """A shop profile with some fields set, as a [shops.NAME] section would."""
    return Shop.named("test", {**GENERIC.fields(), "name": "Test shop", **fields})
