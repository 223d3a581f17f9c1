"""Read the price of one product from a page: strategies find candidates, a verdict picks one.

One module per strategy, in order of trust:

    api.py          the shop's JSON API response (a profile's ``api``), for JSON bodies
    selector.py     the order's CSS selector: when an order has one, it alone decides
    script_json.py  JSON inside a script tag, e.g. ``__NEXT_DATA__`` (a profile's ``script_json``)
    selector.py     a shop profile's CSS selector
    jsonld.py       schema.org Product / ProductGroup / Offer / AggregateOffer in JSON-LD
    microdata.py    ``itemprop=price`` inside the page's main Product
    rdfa.py         ``property=price`` / ``schema:price``
    opengraph.py    ``product:price:amount`` / ``og:price:amount``
    regex.py        a profile's regular expression over the raw page, the last resort

Beside them: ``verdicts.py`` (robot checks, gone products, app shells), ``decide.py`` (the
candidates of the first strategy that found any -> a price or why not), ``prices.py``
(price strings -> Decimal and currency), ``labels.py`` (the price-protection window a page
advertises, JD's "15天价保") and ``source.py`` (what to fetch: the API or the page).
Every strategy reports what it found; list and strikethrough prices, used or
open-box offers and related products are left out before deciding. Everything is pure.

``read.py`` runs them (``extract``). The package loads its modules when their names are
first asked for (PEP 562): the daemon asks only ``source_for`` and ``Request``, and never
loads the HTML parser and the strategies, which its page readers have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.models.lazy import lazy_attributes

if TYPE_CHECKING:
    from monitor.extract.document import Document
    from monitor.extract.read import (
        STRATEGIES,
        Strategy,
        extract,
        extract_document,
        run_strategies,
    )
    from monitor.extract.request import Request
    from monitor.extract.source import source_for

_HOME = {
    "Document": "document",
    "STRATEGIES": "read",
    "Strategy": "read",
    "extract": "read",
    "extract_document": "read",
    "run_strategies": "read",
    "Request": "request",
    "source_for": "source",
}


__getattr__ = lazy_attributes(__name__, _HOME, globals())


__all__ = [
    "STRATEGIES",
    "Document",
    "Request",
    "Strategy",
    "extract",
    "extract_document",
    "run_strategies",
    "source_for",
]
