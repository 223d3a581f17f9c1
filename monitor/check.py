"""One pass for one product: observe -> evaluate -> compose -> record (with the alerts) at once.

``price-monitor check`` and the daemon share this module, so a cron job and the service run
exactly the same code for everything that matters. Nothing below it imports it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor import rules
from monitor.config import Config
from monitor.errors import FetchError, StateError
from monitor.evidence import keep_page, with_chart, with_screenshot
from monitor.extract import Request, source_for
from monitor.fetch import Fetcher
from monitor.history import History
from monitor.logs import ECHOED
from monitor.messages import (
    compose,
    compose_failure,
    compose_window,
    format_duration,
    format_money,
)
from monitor.models import (
    DropAlert,
    Evidence,
    Extraction,
    FetchMode,
    Message,
    Observation,
    Order,
    OrderState,
    PageVerdict,
    PendingDrop,
    PriceAlert,
    Product,
    ProductState,
    Remind,
    Status,
)
from monitor.reader import PageReader

logger = logging.getLogger(__name__)

CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class CheckResult:
    product: Product
    observation: Observation
    new_alerts: int
    failures: int  # unreadable checks in a row, this one included
    waiting: PendingDrop | None = None  # a drop it saw, waiting for the look that confirms it
    settled: PendingDrop | None = None  # the drop that waited, confirmed or refuted by this look


@dataclass(frozen=True, slots=True)
class CheckPass:
    """What a pass over products found: a result for each product it could record, and
    why the others could not be (a full disk, a database locked too long)."""

    results: list[CheckResult]
    unrecorded: list[StateError]


def watched_products(
    config: Config,
    history: History,
    *,
    now: datetime,
    only: Collection[str] = (),
) -> list[Product]:
    """Return the products to poll: those with a window not yet closed (or the orders in ``only``).

    Orders named in ``only`` are checked even when their window is closed, for debugging.
    """
    product_ids = history.sync_orders(config.orders, now=now)
    groups: dict[tuple[str, str], list[Order]] = {}
    for order in history.labels.apply(config.orders):  # with the windows page labels gave them
        wanted = order.id in only if only else rules.is_watched(order, config.shop_of(order), now)
        if wanted:
            groups.setdefault(order.product_key, []).append(order)
    return [
        Product(product_ids[orders[0].id], config.shop_of(orders[0]), tuple(orders))
        for orders in groups.values()
    ]


def request_for(product: Product) -> Request:
    """What extraction needs to know of a product's orders."""
    return Request(
        sku=product.sku,
        selector=product.selector,
        currency=product.currency,
        product_url=product.url,
    )


async def observe(
    product: Product, fetcher: Fetcher, reader: PageReader, *, clock: Callable[[], datetime]
) -> Observation:
    """Fetch a product's page (or its shop's API) and read its price in a worker; every
    failure becomes an ``unknown``."""
    request = request_for(product)
    source = source_for(product.shop, request, product.fetch)
    try:
        page = await fetcher.fetch_source(source)
    except FetchError as exc:
        extraction = Extraction(Status.UNKNOWN, reason=exc.reason)
        return Observation(product.url, clock(), extraction, retry_after=exc.retry_after)
    if page.gone:
        extraction = Extraction(
            Status.NOT_FOUND, reason=f"HTTP {page.status}: the product page is gone"
        )
    else:
        # The day in the shop's zone: an offer valid until yesterday there is an old price.
        today = page.fetched_at.astimezone(ZoneInfo(product.shop.timezone)).date()
        extraction = await reader.read(
            page.text,
            replace(request, today=today, rendered=source.fetch is FetchMode.BROWSER),
            shop=product.shop,
            url=page.url,
            content_type=page.content_type,
        )
    # The alert names the page the price was read at: where a redirect led, for a page;
    # the product's own page for a shop's API, which no support agent would open.
    read_at = page.url if source.url == product.url else product.url
    return Observation(read_at, page.fetched_at, extraction, body=page.body)


async def check_product(
    product: Product,
    *,
    config: Config,
    fetcher: Fetcher,
    reader: PageReader,
    history: History,
    clock: Callable[[], datetime],
) -> CheckResult:
    """Check one product: observe it, work out the alerts owed, and record both at once.

    A claim alert (a new drop) is only sent once a look ``[monitor] confirm`` later shows
    the same price: a flapping price alerts nobody. This look records the drop as waiting
    (``CheckResult.waiting``) and returns; the caller looks again when it is due (the
    daemon with a job of its own, ``check`` after the pass), and that look confirms it or
    not. Nothing waits inside a check.
    """
    observation = await observe(product, fetcher, reader, clock=clock)
    product = await _with_label(history, product, observation)
    before, states, pending = await history.quick(_states, history, product)
    owed = _owed(product, observation, states, clock())
    owed, waiting = _confirmed(product, pending, observation, owed, config.monitor.confirm)
    now = clock()
    evidence = None
    if _has_drop(owed):
        evidence = await asyncio.to_thread(keep_page, config.evidence_dir, product.id, observation)
        if product.fetch is FetchMode.BROWSER and evidence is not None:
            source = source_for(product.shop, request_for(product), product.fetch)
            png = await fetcher.screenshot(source)
            evidence = await asyncio.to_thread(with_screenshot, evidence, png)
        evidence = await with_chart(evidence, config, history, product, observation, owed)
    messages = _failure_messages(product, before, observation, config)
    messages += [_compose(a, o, product, config, now, evidence) for o, a in owed]
    new_alerts = await history.quick(
        _record, history, product.id, observation, messages, pending, waiting
    )
    if observation.status is Status.PRICE:
        logger.info(
            "%s: %s (%s)",
            product.label,
            _price_text(observation),
            observation.extraction.strategy,
            extra=ECHOED,  # `check` prints it
        )
    else:
        logger.warning(
            "%s: %s: %s",
            product.label,
            observation.status.value,
            observation.reason,
            extra=ECHOED,
        )
    # The page stays in memory only while it is needed: a pass over thousands of products
    # must not hold thousands of pages.
    failures = before.failures + 1 if observation.failed else 0
    settled = pending if pending is not None and waiting != pending else None
    return CheckResult(
        product, replace(observation, body=None), new_alerts, failures, waiting, settled
    )


def _confirmed(
    product: Product,
    pending: PendingDrop | None,
    observation: Observation,
    owed: list[tuple[Order, PriceAlert]],
    confirm: timedelta,
) -> tuple[list[tuple[Order, PriceAlert]], PendingDrop | None]:
    """The alerts this look may send, and the drop left waiting for its confirming look.

    A drop is sent when the look confirms the one that waited (``rules.confirmation``);
    otherwise it waits, the one that waited or a new one, and this look sends the rest."""
    verdict = rules.confirmation(pending, observation) if pending is not None else None
    if pending is not None and verdict is not rules.Confirmation.WAITING:
        logger.info(
            "%s: %s, then %s: %s",
            product.label,
            format_money(pending.price),
            _price_text(observation),
            "confirmed" if verdict is rules.Confirmation.CONFIRMED else "not confirmed, no alert",
            extra=ECHOED,  # `check` says so on the product's line
        )
    if confirm <= timedelta(0) or verdict is rules.Confirmation.CONFIRMED or not _has_drop(owed):
        return owed, None
    held = [(o, a) for o, a in owed if not _is_drop(a)]
    if pending is not None and verdict is rules.Confirmation.WAITING:
        return held, pending
    price = observation.price
    assert price is not None  # a drop is owed: the look read a price
    seen = observation.seen_at
    logger.info(
        "%s: %s is new; confirming in %s",
        product.label,
        format_money(price),
        format_duration(confirm),
        extra=ECHOED,  # `check` says "confirming ... in"
    )
    return held, PendingDrop(product.id, price, seen, seen + confirm)


def _record(
    history: History,
    product_id: int,
    observation: Observation,
    messages: Sequence[Message],
    pending: PendingDrop | None,
    waiting: PendingDrop | None,
) -> int:
    """Record a look, its alerts and the drop it leaves waiting, in one transaction (in the
    database thread, or inline: see ``DatabaseThread.quick``); return how many alerts were new."""
    if waiting == pending:  # nearly every look: no drop waits, or the same one still does
        return history.record(product_id, observation, messages)
    with history.transaction():
        new_alerts = history.record(product_id, observation, messages)
        history.pending.put(product_id, waiting)
    return new_alerts


def _is_drop(alert: PriceAlert) -> bool:
    return isinstance(alert, DropAlert)


def _has_drop(owed: Sequence[tuple[Order, PriceAlert]]) -> bool:
    return any(_is_drop(a) for _, a in owed)


async def _with_label(history: History, product: Product, observation: Observation) -> Product:
    """The product, with the window a label on its page gave its orders, when this look saw
    one (most shops have no label: no database work). The labels seen before were applied
    when the product was built (``watched_products``)."""
    days = observation.extraction.window_days
    if days is None:
        return product
    return await history.quick(_labelled, history, product, days, observation.seen_at)


def _labelled(history: History, product: Product, days: int, seen_at: datetime) -> Product:
    """The product, its orders with the windows their page's label gives them, the label
    of ``days`` this look saw remembered first (in the database thread)."""
    orders = tuple(history.labels.learn(product.id, product.orders, days, at=seen_at))
    if orders == product.orders:
        return product
    changed = [o.id for o, was in zip(orders, product.orders, strict=True) if o != was]
    logger.info(
        "%s: the page advertises %d days of price protection: the window of %s",
        product.label,
        days,
        ", ".join(changed),
    )
    return replace(product, orders=orders)


def _states(
    history: History, product: Product
) -> tuple[ProductState, dict[str, OrderState], PendingDrop | None]:
    """What the database remembers of a product and its orders, and the drop of the product
    that waits for its confirming look (in the database thread)."""
    orders = {order.id: history.order_state(order) for order in product.orders}
    return history.product_state(product.id), orders, history.pending.of(product.id)


def _owed(
    product: Product, observation: Observation, states: Mapping[str, OrderState], now: datetime
) -> list[tuple[Order, PriceAlert]]:
    return [
        (order, alert)
        for order in product.orders
        for alert in rules.evaluate(order, product.shop, observation, states[order.id], now)
    ]


def _compose(
    alert: PriceAlert,
    order: Order,
    product: Product,
    config: Config,
    now: datetime,
    evidence: Evidence | None = None,
) -> Message:
    return compose(
        alert,
        order,
        product.shop,
        now=now,
        zone=config.timezone,
        templates=config.templates,
        evidence=evidence,
    )


def _failure_messages(
    product: Product, before: ProductState, observation: Observation, config: Config
) -> list[Message]:
    alerts = rules.failure_alerts(
        product, before, observation, threshold=config.monitor.failing_after
    )
    if product.shop.cookies_file and observation.extraction.page is PageVerdict.BLOCKED:
        version = _file_version(product.shop.cookies_file)  # read only when it may matter
        alerts += rules.cookie_alerts(product, observation, cookies_version=version)
    return [
        compose_failure(
            a,
            shop=product.shop,
            tags=product.tags,
            zone=config.timezone,
            templates=config.templates,
        )
        for a in alerts
    ]


def _file_version(path: str) -> str:
    """What tells one version of a file from the next: its modification time (a file
    exported again is a new one), or "missing"."""
    try:
        return str(Path(path).stat().st_mtime_ns)
    except OSError:
        return "missing"


def _price_text(observation: Observation) -> str:
    price = observation.price
    return format_money(price) if price is not None else observation.status.value


def remind(config: Config, history: History, *, now: datetime) -> int:
    """Enqueue the window alerts owed now (closing soon, or just closed); return how many."""
    messages = []
    for order in history.labels.apply(config.orders):
        shop = config.shop_of(order)
        for alert in rules.reminders(
            order,
            shop,
            history.order_state(order),
            now,
            remind_before=config.monitor.remind_before,
            always=config.monitor.remind is Remind.ALWAYS,
        ):
            messages.append(
                compose_window(
                    alert, order, shop, now=now, zone=config.timezone, templates=config.templates
                )
            )
    return history.outbox.enqueue(messages, now=now) if messages else 0


async def check_all(
    products: Sequence[Product],
    *,
    config: Config,
    fetcher: Fetcher,
    reader: PageReader,
    history: History,
    clock: Callable[[], datetime],
    concurrency: int = CONCURRENCY,
    on_result: Callable[[CheckResult], None] | None = None,
) -> CheckPass:
    """Check every product, a few at a time; one failing shop never stops the others.

    ``concurrency`` workers take the products in turn, so a pass over thousands of products
    holds a few checks in memory at once, not one task per product. ``on_result`` is told
    of each product's result as soon as it is recorded (``check`` prints it then).
    """
    results: list[CheckResult | None] = [None] * len(products)
    unrecorded: list[StateError] = []
    waiting = iter(enumerate(products))  # shared: each worker takes the next product

    async def worker() -> None:
        for index, product in waiting:
            try:
                result = await check_product(
                    product,
                    config=config,
                    fetcher=fetcher,
                    reader=reader,
                    history=history,
                    clock=clock,
                )
                results[index] = result
                if on_result is not None:
                    on_result(result)
            except StateError as exc:  # the disk is full, the database locked too long
                logger.warning("%s: the check could not be recorded: %s", product.label, exc)
                unrecorded.append(exc)
            except Exception:
                logger.exception("%s: check failed", product.label)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(products)))))
    return CheckPass([r for r in results if r is not None], unrecorded)
