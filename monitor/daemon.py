"""The long-running service: APScheduler wiring and shutdown. No business logic lives here.

One interval job per product (orders sharing a URL and SKU share it), first runs spread over
the first minute, then every ``interval`` with a little jitter; a product whose last window
has closed is dropped. The outbox is flushed after every check that found an alert and
retried on its own schedule, so a notifier that was down gets its alerts when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor import rules
from monitor.channels import Notifier
from monitor.check import CheckResult, Product, check_product, watched_products
from monitor.config import Config
from monitor.fetch import Fetcher
from monitor.history import History
from monitor.notify import DeliveryReport, deliver_due

logger = logging.getLogger(__name__)

OUTBOX_INTERVAL = timedelta(seconds=30)
SHUTDOWN_GRACE = timedelta(seconds=10)
MAX_JITTER = timedelta(minutes=5)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Daemon:
    """Runs the checks on a schedule until ``stop()``; ``run()`` returns after a clean shutdown."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] = utcnow,
        first_checks_within: timedelta = timedelta(minutes=1),
        on_check: Callable[[CheckResult], None] | None = None,
        on_delivery: Callable[[DeliveryReport], None] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.first_checks_within = first_checks_within
        self.on_check = on_check
        self.on_delivery = on_delivery
        self._stopping: asyncio.Event | None = None
        self._outbox_wake: asyncio.Event | None = None
        self._outbox_closing = False
        self._running: set[asyncio.Task[object]] = set()

    def stop(self) -> None:
        """Ask the daemon to finish: no new checks start, running ones get a grace period."""
        if self._stopping is not None:
            self._stopping.set()

    async def run(self) -> None:
        self._stopping = asyncio.Event()
        self._outbox_wake = asyncio.Event()
        history = History.open(self.config.database)
        notifier = Notifier(self.config.notify)
        fetcher = Fetcher()
        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        # Sends run in their own task, never inside a scheduler job: shutting the scheduler
        # down cancels its jobs, and a send cancelled after it reached the notifier but
        # before it was marked sent would be sent again.
        outbox = asyncio.create_task(self._outbox_worker(history, notifier), name="outbox")
        try:
            products = watched_products(self.config, history, now=self.clock())
            for product in products:
                self._schedule(scheduler, product, fetcher, history)
            scheduler.start()
            logger.info(
                "watching %d orders on %d products; notifying %s",
                sum(len(p.orders) for p in products),
                len(products),
                ", ".join(notifier.describe()) or "nobody (no [notify] urls)",
            )
            await self._stopping.wait()
            logger.info("stopping: waiting for %d running checks", len(self._running))
        finally:
            if scheduler.running:
                scheduler.pause()  # no new checks; running ones go on
            if self._running:
                await asyncio.wait(set(self._running), timeout=SHUTDOWN_GRACE.total_seconds())
            if scheduler.running:
                scheduler.shutdown(wait=False)
            self._outbox_closing = True
            self._outbox_wake.set()
            try:
                await outbox  # one last delivery, then it returns
            finally:
                await fetcher.aclose()
                history.close()
        logger.info("stopped")

    def _schedule(
        self,
        scheduler: AsyncIOScheduler,
        product: Product,
        fetcher: Fetcher,
        history: History,
    ) -> None:
        interval = product.interval_seconds
        jitter = min(interval * 0.1, MAX_JITTER.total_seconds())
        spread = min(self.first_checks_within.total_seconds(), interval)
        scheduler.add_job(
            self._check,
            IntervalTrigger(seconds=interval, jitter=jitter),
            args=[scheduler, product, fetcher, history],
            id=f"product:{product.id}",
            name=product.label,
            next_run_time=self.clock() + timedelta(seconds=random.uniform(0, spread)),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(max(interval / 2, 1)),
        )

    async def _check(
        self,
        scheduler: AsyncIOScheduler,
        product: Product,
        fetcher: Fetcher,
        history: History,
    ) -> None:
        if self._stopping is not None and self._stopping.is_set():
            return
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            result = await check_product(
                product, fetcher=fetcher, history=history, clock=self.clock
            )
            if self.on_check is not None:
                self.on_check(result)
            if result.new_alerts and self._outbox_wake is not None:
                self._outbox_wake.set()
            now = self.clock()
            if not any(rules.is_watched(o, product.shop, now) for o in product.orders):
                logger.info("%s: every window has closed; no longer polled", product.label)
                scheduler.remove_job(f"product:{product.id}")
        except Exception:
            logger.exception("%s: check failed", product.label)
        finally:
            if task is not None:
                self._running.discard(task)

    async def _outbox_worker(self, history: History, notifier: Notifier) -> None:
        """Deliver due alerts when a check found some, and every OUTBOX_INTERVAL for retries."""
        assert self._outbox_wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox_wake.wait(), OUTBOX_INTERVAL.total_seconds())
            self._outbox_wake.clear()
            closing = self._outbox_closing
            try:
                report = await deliver_due(history, notifier, clock=self.clock)
            except Exception:
                logger.exception("outbox delivery failed")
            else:
                if self.on_delivery is not None and (report.sent or report.failed):
                    self.on_delivery(report)
            if closing:
                return
