"""Strategy ``script-json``: a price inside JSON embedded in a script tag, e.g. Next.js's
``script#__NEXT_DATA__``, read at a JSON path the shop's profile names."""

from __future__ import annotations

from typing import TYPE_CHECKING

from selectolax.lexbor import SelectolaxError

from monitor.extract.document import Document
from monitor.extract.json_values import amount_of, json_path, loads_lenient
from monitor.extract.request import Request
from monitor.models import Candidate

if TYPE_CHECKING:  # config models reach the page readers as Views (monitor.models.view)
    from monitor.models import ScriptJson, Shop


NAME = "script-json"


def find(page: Document, request: Request, shop: Shop) -> list[Candidate]:
    """Candidates from every ``script_json`` spec of the shop's profile."""
    return [c for spec in shop.script_json for c in from_script_json(page, spec, request.currency)]


def from_script_json(
    page: Document, spec: ScriptJson, order_currency: str | None = None
) -> list[Candidate]:
    """Candidates from JSON embedded in a script tag, read at a JSON path; the order's
    currency settles a text amount such as ``"12.500"``."""
    out = []
    try:
        scripts = page.tree.css(spec.selector)
    except SelectolaxError:
        return []
    for script in scripts:
        data = loads_lenient(script.text(deep=True))
        if data is None:
            continue
        raw = json_path(data, spec.path)
        amount = amount_of(raw, order_currency)
        if amount is None:
            continue
        currency = json_path(data, spec.currency_path) if spec.currency_path else None
        out.append(
            Candidate(
                NAME, amount, currency if isinstance(currency, str) else None, raw=str(raw)[:80]
            )
        )
    return out
