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
(price strings -> Decimal and currency) and ``source.py`` (what to fetch: the API or the
page). Every strategy reports what it found; list and strikethrough prices, used or
open-box offers and related products are left out before deciding. Everything is pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from monitor.extract import (
    api,
    jsonld,
    microdata,
    opengraph,
    rdfa,
    regex,
    script_json,
    selector,
    verdicts,
)
from monitor.extract.decide import decide
from monitor.extract.document import Document, Request
from monitor.extract.source import source_for
from monitor.models import Candidate, Extraction, PageVerdict, Shop, Status
from monitor.shops import catalogue

NO_REQUEST = Request()  # a page read without an order: no SKU, selector or currency


@dataclass(frozen=True, slots=True)
class Strategy:
    """One way of finding prices on a page: a name (shown by ``probe``) and its finder."""

    name: str
    find: Callable[[Document, Request, Shop], list[Candidate]]


# The page strategies in order of trust. The order's own selector is not among them: when an
# order has one, it alone decides. The shop's API is read from JSON bodies, not pages.
STRATEGIES: tuple[Strategy, ...] = (
    Strategy(script_json.NAME, script_json.find),
    Strategy(selector.NAME, selector.find),
    Strategy(jsonld.NAME, jsonld.find),
    Strategy(microdata.NAME, microdata.find),
    Strategy(rdfa.NAME, rdfa.find),
    Strategy(opengraph.NAME, opengraph.find),
    Strategy(regex.NAME, regex.find),
)


def extract(
    text: str,
    request: Request = NO_REQUEST,
    *,
    shop: Shop | None = None,
    url: str = "",
    content_type: str = "",
) -> Extraction:
    """Given a fetched body and what the order says, return the verdict on its price."""
    return extract_document(Document(text, url, content_type), request, shop=shop)


def extract_document(page: Document, request: Request, *, shop: Shop | None = None) -> Extraction:
    """Like ``extract``, for a caller that keeps the Document (and its parsed tree)."""
    shop = shop or catalogue()["generic"]
    if request.currency is None and shop.currency is not None:
        request = replace(request, currency=shop.currency)
    if page.is_json:
        return api.read(page, request, shop)
    blocked = verdicts.blocked(page)
    if blocked:
        return Extraction(Status.UNKNOWN, reason=blocked, page=PageVerdict.BLOCKED)
    gone = verdicts.gone(page)
    if gone:
        return Extraction(Status.NOT_FOUND, reason=gone, page=PageVerdict.GONE)

    found = run_strategies(page, request, shop)
    candidates = tuple(c for name in found for c in found[name])
    for name, strategy_candidates in found.items():
        if strategy_candidates:
            verdict = decide(name, strategy_candidates, request, lang=page.language)
            return replace(verdict, candidates=candidates)
    if request.selector:
        reason = f'the selector "{request.selector}" matched no price'
    elif verdicts.needs_javascript(page.tree):
        return Extraction(
            Status.UNKNOWN,
            reason="the page needs JavaScript and holds no price in its HTML",
            candidates=candidates,
            page=PageVerdict.NEEDS_JAVASCRIPT,
        )
    elif shop.api is not None:
        reason = (
            f"no price in the page's HTML; {shop.name} loads it with JavaScript from its price API"
        )
    else:
        reason = (
            "no price in the page's structured data; add a CSS selector (see `price-monitor probe`)"
        )
    return Extraction(Status.UNKNOWN, reason=reason, candidates=candidates)


def run_strategies(page: Document, request: Request, shop: Shop) -> dict[str, list[Candidate]]:
    """Return every page strategy's candidates, in order of trust (the order's selector alone
    when it has one)."""
    if request.selector:
        return {selector.NAME: selector.from_selector(page.tree, request.selector)}
    return {strategy.name: strategy.find(page, request, shop) for strategy in STRATEGIES}


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
