"""One pass for one product: fetch -> extract -> rules -> record (with the alerts) in one go.

``price-monitor check`` and the daemon share this module, so a cron job and the service run
exactly the same code for everything that matters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor import rules
from monitor.config import Config, Order
from monitor.errors import FetchError
from monitor.extract import Request, api_url, extract
from monitor.fetch import Fetcher, Politeness
from monitor.history import History
from monitor.models import Extraction, Message, Observation, Status
from monitor.notify import compose, format_money
from monitor.shops import Shop

logger = logging.getLogger(__name__)

CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class Product:
    """One thing to fetch, with the orders it serves (they share its URL and SKU)."""

    id: int
    url: str
    sku: str | None
    selector: str | None
    currency: str
    shop: Shop
    orders: tuple[Order, ...]

    @property
    def key(self) -> str:
        return f"{self.url}#{self.sku}" if self.sku else self.url

    @property
    def label(self) -> str:
        return ", ".join(o.id for o in self.orders)

    @property
    def interval_seconds(self) -> float:
        return min(o.interval for o in self.orders).total_seconds()


@dataclass(frozen=True, slots=True)
class CheckResult:
    product: Product
    observation: Observation
    new_alerts: int


def watched_products(
    config: Config,
    history: History,
    *,
    now: datetime,
    only: Collection[str] = (),
) -> list[Product]:
    """Return the products to poll: those with an open window (or the orders in ``only``).

    Orders named in ``only`` are checked even when their window is closed, for debugging.
    """
    product_ids = history.sync_orders(config.orders, now=now)
    groups: dict[tuple[str, str], list[Order]] = {}
    for order in config.orders:
        shop = config.shops[order.shop]
        wanted = order.id in only if only else rules.is_watched(order, shop, now)
        if wanted:
            groups.setdefault(order.product_key, []).append(order)
    products = []
    for orders in groups.values():
        first = orders[0]
        products.append(
            Product(
                id=product_ids[first.id],
                url=first.url,
                sku=first.sku,
                selector=first.selector,
                currency=first.currency,
                shop=config.shops[first.shop],
                orders=tuple(orders),
            )
        )
    return products


def fetch_target(product: Product) -> tuple[str, dict[str, str]]:
    """Return the URL to fetch for a product and its headers: the shop's API when it has one."""
    headers = dict(product.shop.headers)
    spec = product.shop.api
    if spec is not None and product.selector is None:
        url = api_url(spec, product_url=product.url, sku=product.sku)
        if url is not None:
            return url, {**headers, **spec.headers}
    return product.url, headers


def politeness(config: Config) -> Politeness:
    """Return the fetch politeness the config asks for."""
    return Politeness(concurrency=config.concurrency, host_delay=config.host_delay.total_seconds())


async def observe(
    product: Product, fetcher: Fetcher, *, clock: Callable[[], datetime]
) -> Observation:
    """Fetch a product's page and read its price; every failure becomes an ``unknown``."""
    url, headers = fetch_target(product)
    try:
        page = await fetcher.fetch(
            url,
            headers=headers or None,
            cookies_file=product.shop.cookies_file,
            proxy=product.shop.proxy,
        )
    except FetchError as exc:
        return Observation(product.url, clock(), Extraction(Status.UNKNOWN, reason=exc.reason))
    if page.gone:
        extraction = Extraction(
            Status.NOT_FOUND, reason=f"HTTP {page.status}: the product page is gone"
        )
    else:
        request = Request(
            sku=product.sku,
            selector=product.selector,
            currency=product.currency,
            product_url=product.url,
        )
        try:
            extraction = extract(
                page.text, request, shop=product.shop, url=page.url, content_type=page.content_type
            )
        except Exception as exc:  # a page that trips the parser is one unknown, not a crash
            logger.exception("%s: extraction failed", product.url)
            extraction = Extraction(
                Status.UNKNOWN, reason=f"extraction failed: {type(exc).__name__}"
            )
    return Observation(product.url, page.fetched_at, extraction)


async def check_product(
    product: Product,
    *,
    fetcher: Fetcher,
    history: History,
    clock: Callable[[], datetime],
) -> CheckResult:
    """Check one product: observe it, work out the alerts owed, and record both at once."""
    observation = await observe(product, fetcher, clock=clock)
    now = clock()
    messages: list[Message] = []
    for order in product.orders:
        state = rules.OrderState(last_alerted=history.last_alerted(order.id, order.currency))
        for alert in rules.evaluate(order, product.shop, observation, state, now):
            messages.append(compose(alert, order, product.shop, now=now))
    new_alerts = history.record(product.id, observation, messages)
    if observation.status is Status.PRICE:
        price = format_money(observation.price) if observation.price else "?"
        logger.info("%s: %s (%s)", product.label, price, observation.extraction.strategy)
    else:
        logger.warning("%s: %s: %s", product.label, observation.status.value, observation.reason)
    return CheckResult(product, observation, new_alerts)


async def check_all(
    products: Sequence[Product],
    *,
    fetcher: Fetcher,
    history: History,
    clock: Callable[[], datetime],
    concurrency: int = CONCURRENCY,
) -> list[CheckResult]:
    """Check every product, a few at a time; one failing shop never stops the others."""
    limit = asyncio.Semaphore(concurrency)

    async def one(product: Product) -> CheckResult | None:
        async with limit:
            try:
                return await check_product(product, fetcher=fetcher, history=history, clock=clock)
            except Exception:
                logger.exception("%s: check failed", product.label)
                return None

    results = await asyncio.gather(*(one(p) for p in products))
    return [r for r in results if r is not None]
