"""The long-running service: APScheduler wiring, reload, shutdown, sd_notify. No business logic.

One interval job per product (orders sharing a URL and SKU share it), first runs spread over
the first minute, then every ``interval`` with a little jitter; a product whose last window
has closed is dropped, and one that keeps failing is polled less and less often until it
reads again. The outbox is flushed by a task of its own after every check that found an
alert and every 30 s for retries. Config edits (noticed by a cheap mtime poll, or forced by
SIGHUP) add, drop and reschedule jobs; an edit that does not validate is refused, the old
config keeps running, and one alert says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor import rules
from monitor.channels import Notifier
from monitor.check import (
    CheckResult,
    Product,
    Settings,
    check_product,
    politeness,
    remind,
    watched_products,
)
from monitor.config import Config, load_config
from monitor.errors import ConfigError
from monitor.fetch import Fetcher
from monitor.history import History
from monitor.models import AlertKind, Message, Status
from monitor.notify import DeliveryReport, deliver_due, quiet_hours
from monitor.sdnotify import SystemdNotifier

logger = logging.getLogger(__name__)

OUTBOX_INTERVAL = timedelta(seconds=30)
CONFIG_POLL = timedelta(seconds=3)
SHUTDOWN_GRACE = timedelta(seconds=10)
MAX_JITTER = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=12)
REMIND_EVERY = timedelta(minutes=10)
STATUS_EVERY = timedelta(seconds=5)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Daemon:
    """Runs the checks on a schedule until ``stop()``; ``run()`` returns after a clean shutdown."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] = utcnow,
        env: Mapping[str, str] = os.environ,
        first_checks_within: timedelta = timedelta(minutes=1),
        on_check: Callable[[CheckResult], None] | None = None,
        on_delivery: Callable[[DeliveryReport], None] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.env = env
        self.first_checks_within = first_checks_within
        self.on_check = on_check
        self.on_delivery = on_delivery
        self.systemd = SystemdNotifier(env)
        self._stopping: asyncio.Event | None = None
        self._reload_requested: asyncio.Event | None = None
        self._outbox_wake: asyncio.Event | None = None
        self._outbox_closing = False
        self._running: set[asyncio.Task[object]] = set()
        self._jobs: dict[str, Product] = {}
        self._status_sent = float("-inf")
        self._config_stamp = _stamp(config.path)
        self._scheduler: AsyncIOScheduler | None = None
        self._history: History | None = None
        self._notifier = Notifier(config.notify)
        self._settings = Settings.from_config(config)
        self._fetcher: Fetcher | None = None

    # --- control, from signal handlers or tests --------------------------------------------

    def stop(self) -> None:
        """Ask the daemon to finish: no new checks start, running ones get a grace period."""
        if self._stopping is not None:
            self._stopping.set()

    def request_reload(self) -> None:
        """Ask the daemon to re-read its config file now (what SIGHUP does)."""
        if self._reload_requested is not None:
            self._reload_requested.set()

    # --- the main loop ----------------------------------------------------------------------

    async def run(self) -> None:
        self._stopping = asyncio.Event()
        self._reload_requested = asyncio.Event()
        self._outbox_wake = asyncio.Event()
        for warning in self.config.warnings:
            logger.warning("%s: %s", self.config.path.name, warning)
        history = self._history = History.open(self.config.database)
        self._fetcher = Fetcher(politeness=politeness(self.config))
        scheduler = self._scheduler = AsyncIOScheduler(
            event_loop=asyncio.get_running_loop(), timezone=UTC
        )
        # Sends run in their own task, never inside a scheduler job: shutting the scheduler
        # down cancels its jobs, and a send cancelled after it reached the notifier but
        # before it was marked sent would be sent again.
        helpers = [
            asyncio.create_task(self._outbox_worker(history), name="outbox"),
            asyncio.create_task(self._config_watcher(), name="config-watcher"),
        ]
        if self.systemd.watchdog_interval:
            helpers.append(
                asyncio.create_task(self._watchdog(self.systemd.watchdog_interval), name="watchdog")
            )
        outbox = helpers[0]
        try:
            self._sync_jobs()
            scheduler.add_job(
                self._remind,
                IntervalTrigger(seconds=REMIND_EVERY.total_seconds()),
                id="reminders",
                next_run_time=self.clock(),
                coalesce=True,
                max_instances=1,
            )
            scheduler.start()
            logger.info(
                "watching %d orders on %d products; notifying %s",
                sum(len(p.orders) for p in self._jobs.values()),
                len(self._jobs),
                ", ".join(self._notifier.describe()) or "nobody (no [notify] urls)",
            )
            self.systemd.ready(self.status_line())
            await self._stopping.wait()
            self.systemd.stopping()
            logger.info("stopping: waiting for %d running checks", len(self._running))
        finally:
            if scheduler.running:
                scheduler.pause()  # no new checks; running ones go on
            if self._running:
                await asyncio.wait(set(self._running), timeout=SHUTDOWN_GRACE.total_seconds())
            if scheduler.running:
                scheduler.shutdown(wait=False)
            for helper in helpers[1:]:
                helper.cancel()
            self._outbox_closing = True
            self._outbox_wake.set()
            try:
                await outbox  # one last delivery, then it returns
            finally:
                await self._fetcher.aclose()
                history.close()
                self.systemd.close()
        logger.info("stopped")

    def _report_status(self) -> None:
        """Send STATUS= at most every few seconds: building it scans every job."""
        if not self.systemd.enabled:
            return
        now = time.monotonic()
        if now - self._status_sent >= STATUS_EVERY.total_seconds():
            self._status_sent = now
            self.systemd.status(self.status_line())

    def status_line(self) -> str:
        """Return the one-line status for systemd: what is watched, what is next, what waits."""
        orders = sum(len(p.orders) for p in self._jobs.values())
        parts = [f"watching {orders} order{'s' * (orders != 1)}"]
        if self._scheduler is not None and self._scheduler.running:
            times = [j.next_run_time for j in self._scheduler.get_jobs() if j.next_run_time]
            if times:
                parts.append(f"next check {min(times).astimezone(self.config.timezone):%H:%M}")
        if self._history is not None:
            pending = self._history.pending_count()
            if pending:
                parts.append(f"{pending} alert{'s' * (pending != 1)} pending")
        return ", ".join(parts)

    # --- jobs -------------------------------------------------------------------------------

    def _sync_jobs(self) -> None:
        """Make the scheduler's jobs match the config: add, reschedule, drop."""
        assert self._scheduler is not None and self._history is not None
        wanted = {
            f"product:{p.id}": p
            for p in watched_products(self.config, self._history, now=self.clock())
        }
        for job_id in set(self._jobs) - set(wanted):
            logger.info("%s: no longer watched", self._jobs[job_id].label)
            self._drop_job(job_id)
        for job_id, product in wanted.items():
            current = self._jobs.get(job_id)
            if current == product:
                continue
            if current is not None:
                logger.info("%s: changed; rescheduled", product.label)
                self._drop_job(job_id)
            self._add_job(job_id, product)

    def _drop_job(self, job_id: str) -> None:
        """Stop polling a product: its scheduler job and our record of it go."""
        assert self._scheduler is not None
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(job_id)
        self._jobs.pop(job_id, None)

    def _add_job(self, job_id: str, product: Product) -> None:
        assert self._scheduler is not None
        interval = product.interval_seconds
        jitter = min(interval * 0.1, MAX_JITTER.total_seconds())
        spread = min(self.first_checks_within.total_seconds(), interval)
        self._scheduler.add_job(
            self._check,
            IntervalTrigger(seconds=interval, jitter=jitter),
            args=[job_id],
            id=job_id,
            name=product.label,
            next_run_time=self.clock() + timedelta(seconds=random.uniform(0, spread)),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(max(interval / 2, 1)),
        )
        self._jobs[job_id] = product

    async def _check(self, job_id: str) -> None:
        product = self._jobs.get(job_id)
        if product is None or self._stopping is None or self._stopping.is_set():
            return
        assert self._fetcher is not None and self._history is not None
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            result = await check_product(
                product,
                fetcher=self._fetcher,
                history=self._history,
                clock=self.clock,
                settings=self._settings,
                sleep=self._sleep_unless_stopping,
            )
            if self.on_check is not None:
                self.on_check(result)
            if result.new_alerts and self._outbox_wake is not None:
                self._outbox_wake.set()
            self._after_check(job_id, product, result)
            self._report_status()
        except Exception:
            logger.exception("%s: check failed", product.label)
        finally:
            if task is not None:
                self._running.discard(task)

    def _after_check(self, job_id: str, product: Product, result: CheckResult) -> None:
        assert self._scheduler is not None and self._history is not None
        now = self.clock()
        if not any(rules.is_watched(o, product.shop, now) for o in product.orders):
            logger.info("%s: every window has closed; no longer polled", product.label)
            self._drop_job(job_id)
            return
        if result.observation.status is Status.NOT_FOUND:
            logger.warning(
                "%s: the shop says the product is gone (%s); no longer polled until the "
                "config is edited or reloaded",
                product.label,
                result.observation.reason,
            )
            self._drop_job(job_id)
            return
        if result.observation.status is Status.UNKNOWN:
            failures = self._history.product_state(product.id).failures
            delay = backoff(product.interval_seconds, failures)
            asked = result.observation.retry_after
            if asked is not None and asked > product.interval_seconds:
                # The shop said when to come back (Retry-After): not before that.
                delay = max(delay or timedelta(0), timedelta(seconds=asked))
            if delay is not None:
                logger.info(
                    "%s: %d failures in a row; next check in %s", product.label, failures, delay
                )
                self._scheduler.modify_job(job_id, next_run_time=now + delay)

    # --- config reload ----------------------------------------------------------------------

    async def _config_watcher(self) -> None:
        """Reload when SIGHUP asks, or when the config file's mtime or size changes."""
        assert self._reload_requested is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reload_requested.wait(), CONFIG_POLL.total_seconds())
            forced = self._reload_requested.is_set()
            self._reload_requested.clear()
            stamp = _stamp(self.config.path)
            if forced or (stamp != self._config_stamp and stamp is not None):
                self._config_stamp = stamp
                self.reload(reason="SIGHUP" if forced else "the file changed")

    def reload(self, *, reason: str) -> bool:
        """Re-read the config file; apply it if valid, else keep the old one and say why."""
        self.systemd.reloading()
        try:
            new = load_config(self.config.path, env=self.env)
        except ConfigError as exc:
            logger.error(
                "config reload (%s) refused; the previous config keeps running:\n%s",
                reason,
                exc.render(),
            )
            self._refuse(exc)
            self.systemd.ready(self.status_line())
            return False
        if new.database != self.config.database:
            logger.warning("the database path changed; restart the daemon to use %s", new.database)
            new = replace(new, database=self.config.database)
        for warning in new.warnings:
            logger.warning("%s: %s", new.path.name, warning)
        self.config = new
        self._notifier = Notifier(new.notify)
        self._settings = Settings.from_config(new)
        if self._fetcher is not None:
            self._fetcher.politeness = politeness(new)
        self._sync_jobs()
        logger.info("config reloaded (%s): %s", reason, self.status_line())
        self.systemd.ready(self.status_line())
        return True

    def _refuse(self, error: ConfigError) -> None:
        assert self._history is not None
        try:
            text = self.config.path.read_bytes()
        except OSError:
            text = error.render().encode()
        problems = "\n".join(f"- {p}" for p in error.problems)
        message = Message(
            dedupe_key=f"config|{hashlib.sha256(text).hexdigest()[:16]}",
            order_id="",
            kind=AlertKind.CONFIG_REJECTED,
            title=f"price-monitor: your edit of {self.config.path.name} was refused",
            body=(
                f"The edited {self.config.path} does not validate, so the previous config keeps "
                f"running and no order was added, changed or dropped.\n\n{problems}\n\n"
                f"Fix the file (`price-monitor config check` lists the same problems) and save it "
                f"again; the daemon picks it up."
            ),
        )
        if self._history.enqueue([message], now=self.clock()) and self._outbox_wake is not None:
            self._outbox_wake.set()

    # --- helpers ----------------------------------------------------------------------------

    async def _sleep_unless_stopping(self, seconds: float) -> None:
        """Wait, but give up at once when the daemon stops (a confirmation then lapses)."""
        assert self._stopping is not None
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return
        raise asyncio.CancelledError("the daemon is stopping")

    async def _remind(self) -> None:
        """Enqueue window-closing reminders and window-closed summaries that are due."""
        assert self._history is not None
        try:
            added = remind(self.config, self._history, now=self.clock(), settings=self._settings)
            if added and self._outbox_wake is not None:
                self._outbox_wake.set()
        except Exception:
            logger.exception("reminders failed")

    async def _outbox_worker(self, history: History) -> None:
        """Deliver due alerts when a check found some, and every OUTBOX_INTERVAL for retries."""
        assert self._outbox_wake is not None
        self._outbox_wake.set()  # alerts left pending by the last run go out at start-up
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox_wake.wait(), OUTBOX_INTERVAL.total_seconds())
            self._outbox_wake.clear()
            closing = self._outbox_closing
            logger.debug(
                "%d asyncio tasks, %d checks running", len(asyncio.all_tasks()), len(self._running)
            )
            try:
                report = await deliver_due(
                    history, self._notifier, clock=self.clock, quiet=quiet_hours(self.config)
                )
            except Exception:
                logger.exception("outbox delivery failed")
            else:
                if self.on_delivery is not None and (report.sent or report.failed):
                    self.on_delivery(report)
            if closing:
                return

    async def _watchdog(self, interval: float) -> None:
        while True:
            self.systemd.watchdog()
            await asyncio.sleep(interval)


def backoff(interval_seconds: float, failures: int) -> timedelta | None:
    """Given a product's interval and its failures in a row, return the wait before the next try.

    One failure keeps the normal schedule; each further one doubles the wait, up to
    MAX_BACKOFF (or the interval, when that is longer). A success resets the count.
    """
    if failures < 2:
        return None
    wait = timedelta(seconds=interval_seconds * 2 ** min(failures - 1, 16))
    return min(wait, max(MAX_BACKOFF, timedelta(seconds=interval_seconds)))


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)
