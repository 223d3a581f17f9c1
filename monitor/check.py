"""One pass for one product: fetch -> extract -> rules -> record (with the alerts) in one go.

``price-monitor check`` and the daemon share this module, so a cron job and the service run
exactly the same code for everything that matters.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor import rules
from monitor.config import Config, Order
from monitor.errors import FetchError
from monitor.extract import Request, api_url, extract
from monitor.fetch import Fetcher, Page, Politeness
from monitor.history import History, ProductState
from monitor.models import Alert, Extraction, Message, Observation, ReviewAlert, Status
from monitor.notify import (
    PACKAGED,
    Evidence,
    compose,
    compose_failure,
    compose_window,
    format_money,
)
from monitor.shops import Shop
from monitor.templates import TemplateStore

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


async def fetch_source(fetcher: Fetcher, shop: Shop, request: Request) -> Page:
    """Fetch what a check reads for a product: the shop's JSON API when it has one (and the
    order names no selector), else the product page, with the shop's headers, cookies and
    proxy. Raise FetchError when it cannot be fetched."""
    url, headers = request.product_url, dict(shop.headers)
    if shop.api is not None and request.selector is None:
        api = api_url(shop.api, product_url=request.product_url, sku=request.sku)
        if api is not None:
            url, headers = api, {**headers, **shop.api.headers}
    return await fetcher.fetch(
        url, headers=headers or None, cookies_file=shop.cookies_file, proxy=shop.proxy
    )


def politeness(config: Config) -> Politeness:
    """Return the fetch politeness the config asks for."""
    return Politeness(
        concurrency=config.concurrency,
        host_delay=config.host_delay.total_seconds(),
        attempts=config.retries + 1,
    )


async def observe(
    product: Product, fetcher: Fetcher, *, clock: Callable[[], datetime]
) -> Observation:
    """Fetch a product's page and read its price; every failure becomes an ``unknown``."""
    request = Request(
        sku=product.sku,
        selector=product.selector,
        currency=product.currency,
        product_url=product.url,
    )
    try:
        page = await fetch_source(fetcher, product.shop, request)
    except FetchError as exc:
        extraction = Extraction(Status.UNKNOWN, reason=exc.reason)
        return Observation(product.url, clock(), extraction, retry_after=exc.retry_after)
    if page.gone:
        extraction = Extraction(
            Status.NOT_FOUND, reason=f"HTTP {page.status}: the product page is gone"
        )
    else:
        try:
            extraction = extract(
                page.text, request, shop=product.shop, url=page.url, content_type=page.content_type
            )
        except Exception as exc:  # a page that trips the parser is one unknown, not a crash
            logger.exception("%s: extraction failed", product.url)
            extraction = Extraction(
                Status.UNKNOWN, reason=f"extraction failed: {type(exc).__name__}"
            )
    return Observation(product.url, page.fetched_at, extraction, body=page.body)


@dataclass(frozen=True, slots=True)
class Settings:
    """How a check treats what it finds (from the config's [monitor] and [notify])."""

    confirm: timedelta = timedelta(0)  # re-read a new drop after this long; 0 = alert at once
    failing_after: int = 5  # unknowns in a row before "checks failing"
    templates: TemplateStore = PACKAGED
    evidence_dir: Path | None = None  # where pages with a drop are kept; None = not kept
    remind_before: timedelta = timedelta(hours=24)
    remind_always: bool = False

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        return cls(
            confirm=config.confirm,
            failing_after=config.failing_after,
            templates=TemplateStore(config.templates),
            evidence_dir=config.database.parent / "evidence",
            remind_before=config.remind_before,
            remind_always=config.remind_always,
        )


async def check_product(
    product: Product,
    *,
    fetcher: Fetcher,
    history: History,
    clock: Callable[[], datetime],
    settings: Settings = Settings(),
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> CheckResult:
    """Check one product: observe it, work out the alerts owed, and record both at once.

    A claim alert (a new drop) waits for a second read ``settings.confirm`` later, and is
    only sent if that read shows the same price: a flapping price alerts nobody.
    """
    before = history.product_state(product.id)
    observation = await observe(product, fetcher, clock=clock)
    owed = _owed(product, observation, history, clock())
    if settings.confirm > timedelta(0) and any(isinstance(a, Alert) for _, a in owed):
        first = observation
        early = _failure_messages(product, before, first, settings)
        early += [
            _compose(a, o, product, settings, clock()) for o, a in owed if not isinstance(a, Alert)
        ]
        history.record(product.id, first, early)
        logger.info(
            "%s: %s is new; confirming in %s", product.label, _price_text(first), settings.confirm
        )
        await sleep(settings.confirm.total_seconds())
        before = history.product_state(product.id)
        observation = await observe(product, fetcher, clock=clock)
        owed = _owed(product, observation, history, clock())
        if observation.price != first.price:
            logger.info(
                "%s: not confirmed (%s, then %s): no alert",
                product.label,
                _price_text(first),
                _price_text(observation),
            )
            owed = [(o, a) for o, a in owed if not isinstance(a, Alert)]
    now = clock()
    evidence = (
        _keep_evidence(product, observation, settings)
        if any(isinstance(a, Alert) for _, a in owed)
        else None
    )
    messages = _failure_messages(product, before, observation, settings)
    messages += [_compose(a, o, product, settings, now, evidence) for o, a in owed]
    new_alerts = history.record(product.id, observation, messages)
    if observation.status is Status.PRICE:
        logger.info(
            "%s: %s (%s)", product.label, _price_text(observation), observation.extraction.strategy
        )
    else:
        logger.warning("%s: %s: %s", product.label, observation.status.value, observation.reason)
    # The page stays in memory only while it is needed: a pass over thousands of products
    # must not hold thousands of pages.
    return CheckResult(product, replace(observation, body=None), new_alerts)


def order_state(history: History, order: Order) -> rules.OrderState:
    """Return what the database knows of an order's alerts and claim, for the rules."""
    record = history.latest_claim(order.id)
    claim = rules.Claim(record.state, record.price, record.amount, record.at) if record else None
    return rules.OrderState(
        last_alerted=history.last_alerted(order.id, order.currency), claim=claim
    )


def _owed(
    product: Product, observation: Observation, history: History, now: datetime
) -> list[tuple[Order, Alert | ReviewAlert]]:
    return [
        (order, alert)
        for order in product.orders
        for alert in rules.evaluate(
            order, product.shop, observation, order_state(history, order), now
        )
    ]


def _compose(
    alert: Alert | ReviewAlert,
    order: Order,
    product: Product,
    settings: Settings,
    now: datetime,
    evidence: Evidence | None = None,
) -> Message:
    return compose(
        alert, order, product.shop, now=now, templates=settings.templates, evidence=evidence
    )


def _failure_messages(
    product: Product, before: ProductState, observation: Observation, settings: Settings
) -> list[Message]:
    alerts = rules.failure_alerts(
        product_id=product.id,
        order_ids=tuple(o.id for o in product.orders),
        url=product.url,
        failures_before=before.failures,
        failing_since=before.failing_since,
        observation=observation,
        threshold=settings.failing_after,
        status_before=before.last_status,
    )
    tags = tuple(sorted({t for o in product.orders for t in o.tags}))
    return [
        compose_failure(a, shop=product.shop, tags=tags, templates=settings.templates)
        for a in alerts
    ]


def _keep_evidence(
    product: Product, observation: Observation, settings: Settings
) -> Evidence | None:
    """Save the page a drop was seen on, gzipped, named by product, time and hash."""
    if settings.evidence_dir is None or observation.body is None:
        return None
    digest = hashlib.sha256(observation.body).hexdigest()
    when = observation.seen_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = settings.evidence_dir / f"product-{product.id}-{when}-{digest[:12]}.html.gz"
    try:
        settings.evidence_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            with gzip.open(path, "wb") as out:
                out.write(observation.body)
    except OSError as exc:
        logger.warning("%s: could not keep the page as evidence: %s", product.label, exc)
        return None
    return Evidence(str(path), digest)


def _price_text(observation: Observation) -> str:
    price = observation.price
    return format_money(price) if price is not None else observation.status.value


def remind(config: Config, history: History, *, now: datetime, settings: Settings) -> int:
    """Enqueue the window alerts owed now (closing soon, or just closed); return how many."""
    messages = []
    for order in config.orders:
        shop = config.shops[order.shop]
        state = order_state(history, order)
        for alert in rules.reminders(
            order,
            shop,
            state,
            now,
            remind_before=settings.remind_before,
            always=settings.remind_always,
        ):
            messages.append(
                compose_window(alert, order, shop, now=now, templates=settings.templates)
            )
    return history.enqueue(messages, now=now) if messages else 0


async def check_all(
    products: Sequence[Product],
    *,
    fetcher: Fetcher,
    history: History,
    clock: Callable[[], datetime],
    settings: Settings = Settings(),
    concurrency: int = CONCURRENCY,
) -> list[CheckResult]:
    """Check every product, a few at a time; one failing shop never stops the others."""
    limit = asyncio.Semaphore(concurrency)

    async def one(product: Product) -> CheckResult | None:
        async with limit:
            try:
                return await check_product(
                    product, fetcher=fetcher, history=history, clock=clock, settings=settings
                )
            except Exception:
                logger.exception("%s: check failed", product.label)
                return None

    results = await asyncio.gather(*(one(p) for p in products))
    return [r for r in results if r is not None]
