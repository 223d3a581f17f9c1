"""A page's verdict: the strategies in order of trust, the tests for pages that are not the
product's, and the window label; what a page reader runs (``extract``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from monitor.extract import (
    api,
    buybox,
    jsonld,
    labels,
    microdata,
    opengraph,
    rdfa,
    regex,
    script_json,
    selector,
    verdicts,
)
from monitor.extract.decide import decide
from monitor.extract.document import Document
from monitor.extract.request import Request
from monitor.models import Availability, Candidate, Extraction, PageVerdict, Status

if TYPE_CHECKING:  # config models reach the page readers as Views (monitor.models.view)
    from monitor.models import Shop


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


def extract_document(
    page: Document, request: Request, *, shop: Shop | None = None, every_strategy: bool = False
) -> Extraction:
    """Like ``extract``, for a caller that keeps the Document (and its parsed tree).

    A check stops at the first strategy that finds a price; ``every_strategy`` runs the rest
    too, so that ``probe`` can show what each of them found.
    """
    if shop is None:  # a page read without a shop (tests, benchmarks): as the generic one's
        from monitor.shops import catalogue

        shop = catalogue()["generic"]
    extraction = _read_document(page, request, shop, every_strategy=every_strategy)
    if extraction.page in (PageVerdict.BLOCKED, PageVerdict.GONE):
        return extraction  # a robot check or a gone page advertises no window of the product's
    days = labels.window_label(page, shop)
    return replace(extraction, window_days=days) if days is not None else extraction


def _read_document(
    page: Document, request: Request, shop: Shop, *, every_strategy: bool
) -> Extraction:
    """The verdict on a page: the shop's API for a JSON body, else the page's strategies."""
    if request.currency is None and shop.currency is not None:
        request = replace(request, currency=shop.currency)
    if page.is_json:
        return api.read(page, request, shop)
    not_it = _not_the_product(page, verdicts.blocked_by_address, verdicts.gone_by_headline)
    if not_it is not None:
        return not_it
    verdict = _product_verdict(page, request, shop, every_strategy=every_strategy)
    # A page that sells the product, in stock, is neither a bot challenge nor a gone
    # product's: only other pages cost the searches of their text for a captcha and for
    # "no longer available" and the like.
    if verdict.status is Status.PRICE and verdict.availability is Availability.IN_STOCK:
        return verdict
    not_it = _not_the_product(page, verdicts.blocked_by_challenge, verdicts.gone_by_text)
    if not_it is not None:
        return not_it
    return verdict


def _not_the_product(
    page: Document,
    blocked: Callable[[Document], str | None],
    gone: Callable[[Document], str | None],
) -> Extraction | None:
    """The verdict on a page that is not the product's, by these two tests in turn: a robot
    check or login wall (unknown), a gone product (not found); None for the product's."""
    why = blocked(page)
    if why:
        return Extraction(Status.UNKNOWN, reason=why, page=PageVerdict.BLOCKED)
    why = gone(page)
    if why:
        return Extraction(Status.NOT_FOUND, reason=why, page=PageVerdict.GONE)
    return None


def _product_verdict(
    page: Document, request: Request, shop: Shop, *, every_strategy: bool
) -> Extraction:
    """The strategies' verdict on a product page: a price, or unknown saying why not."""
    found: dict[str, list[Candidate]] = {}
    for name, strategy_candidates in run_strategies(page, request, shop):
        found[name] = strategy_candidates
        if strategy_candidates and not every_strategy:
            break
    candidates = tuple(c for name in found for c in found[name])
    for name, strategy_candidates in found.items():
        if strategy_candidates:
            verdict = decide(name, strategy_candidates, request, lang=page.language)
            if name in HELD_TO_BUY_BOX:
                verdict = buybox.held_to(verdict, strategy_candidates, page, request)
            return replace(verdict, candidates=candidates)
    if request.selector:
        reason = f'the selector "{request.selector}" matched no price'
    elif request.rendered:
        reason = (
            "no price in the rendered page's structured data; add a CSS selector "
            "(see `price-monitor probe --fetch browser`)"
        )
    elif verdicts.needs_javascript(page, describes_product=jsonld.has_product(page)):
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


# The strategies that read data a page carries beside what it shows, which can go stale.
HELD_TO_BUY_BOX = frozenset({jsonld.NAME, microdata.NAME, rdfa.NAME, opengraph.NAME})


def run_strategies(
    page: Document, request: Request, shop: Shop
) -> Iterator[tuple[str, list[Candidate]]]:
    """Yield every page strategy's name and candidates, in order of trust (the order's
    selector alone when it has one), each run only when asked for."""
    if request.selector:
        yield selector.NAME, selector.from_selector(page.tree, request.selector, request.currency)
        return
    for strategy in STRATEGIES:
        yield strategy.name, strategy.find(page, request, shop)
