"""The long-running service: scheduling, reload, signals, sd_notify. Lifecycle only, no policy.

One interval job per product (orders sharing a URL and SKU share it), first runs spread over
the first minute, then every ``interval`` with a little jitter. After each check the rules
(``rules.next_poll``) say whether the product is dropped or polled later; the daemon does
what they say (a drop to confirm: run again when due). The outbox is flushed by a task of
its own after every check that found an alert and every 30 s for retries. Config edits
(noticed by a cheap mtime poll, or forced by SIGHUP) add, drop and reschedule jobs; an edit
that does not validate is refused, the old config keeps running, and one alert says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor import rules
from monitor.channels import Notifier
from monitor.check import CheckResult, check_product, remind, watched_products
from monitor.clock import utcnow
from monitor.config import Config, load_config
from monitor.delivery import DeliveryReport, deliver_due
from monitor.errors import ConfigError, DatabaseMoved, DiskFull, Problem, StateError
from monitor.evidence import prune
from monitor.fetch import Fetcher
from monitor.history import History
from monitor.history.schema import daemon_pidfile
from monitor.logs import log_times_in
from monitor.messages import compose_config_refused
from monitor.models import Product
from monitor.private import create_private
from monitor.reader import PageReader
from monitor.sdnotify import SystemdNotifier

logger = logging.getLogger(__name__)

OUTBOX_INTERVAL = timedelta(seconds=30)
CONFIG_POLL = timedelta(seconds=3)
SHUTDOWN_GRACE = timedelta(seconds=10)
MAX_JITTER = timedelta(minutes=5)
REMIND_EVERY = timedelta(minutes=10)
STATUS_EVERY = timedelta(seconds=5)


class Daemon:
    """Runs the checks on a schedule until ``stop()``; ``run()`` returns after a clean shutdown.

    Everything the daemon holds exists once it is built: it opens the config's database and
    an HTTP client (unless given them) and closes them on leaving ``async with``:

        async with Daemon(config) as daemon:
            await daemon.run()
    """

    def __init__(
        self,
        config: Config,
        *,
        history: History | None = None,
        fetcher: Fetcher | None = None,
        reader: PageReader | None = None,
        clock: Callable[[], datetime] = utcnow,
        env: Mapping[str, str] = os.environ,
        first_checks_within: timedelta = timedelta(minutes=1),
        on_check: Callable[[CheckResult], None] | None = None,
        on_delivery: Callable[[DeliveryReport], None] | None = None,
    ) -> None:
        self.config = config
        self.history = history or History.open(config.database)
        self.fetcher = fetcher or Fetcher(config.monitor)
        self.reader = reader or PageReader(time_limit=config.monitor.read_limit)
        self.clock = clock
        self.env = env
        self.first_checks_within = first_checks_within
        self.on_check = on_check
        self.on_delivery = on_delivery
        self.systemd = SystemdNotifier(env)
        self.notifier = Notifier(config.notify.urls)
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._stopping = asyncio.Event()
        self._reload_requested = asyncio.Event()
        self._outbox_wake = asyncio.Event()
        self._outbox_closing = False
        self._running: set[asyncio.Task[object]] = set()
        self._jobs: dict[str, Product] = {}
        self._slots = asyncio.Semaphore(config.monitor.concurrency)  # checks at once
        self._status_sent = float("-inf")
        self._pending = 0  # alerts waiting in the outbox, as the last look found
        self._delivery_paused: DiskFull | None = None  # the disk is full: nothing is sent
        self._failure: StateError | None = None  # why the daemon stopped by itself
        self._config_stamp = _stamp(config.path)
        # What refused edits alerted since this config loaded: each problem is alerted once.
        self._config_since = clock()
        self._refused: set[Problem] = set()

    async def __aenter__(self) -> Daemon:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.fetcher.aclose()
        self.reader.close()
        self.history.close()
        self.systemd.close()

    # --- control, from signal handlers or tests --------------------------------------------

    def stop(self) -> None:
        """Ask the daemon to finish: no new checks start, running ones get a grace period."""
        self._stopping.set()

    def request_reload(self) -> None:
        """Ask the daemon to re-read its config file now (what SIGHUP does)."""
        self._reload_requested.set()

    # --- the main loop ----------------------------------------------------------------------

    async def run(self) -> None:
        for warning in self.config.warnings:
            logger.warning("%s: %s", self.config.path.name, warning)
        with _announced(daemon_pidfile(self.config.database)):
            await self._run()
        logger.info("stopped")
        if self._failure is not None:
            raise self._failure

    async def _run(self) -> None:
        # Sends run in their own task, never inside a scheduler job: shutting the scheduler
        # down cancels its jobs, and a send cancelled after it reached the notifier but
        # before it was marked sent would be sent again.
        outbox = asyncio.create_task(self._outbox_worker(), name="outbox")
        helpers = [asyncio.create_task(self._config_watcher(), name="config-watcher")]
        if self.systemd.watchdog_interval:
            helpers.append(
                asyncio.create_task(self._watchdog(self.systemd.watchdog_interval), name="watchdog")
            )
        scheduler = self.scheduler
        try:
            await self._sync_jobs()
            scheduler.add_job(
                self._remind,
                IntervalTrigger(seconds=REMIND_EVERY.total_seconds()),
                id="reminders",
                next_run_time=self.clock(),
                coalesce=True,
                max_instances=1,
            )
            scheduler.add_job(self._prune, IntervalTrigger(days=1), next_run_time=self.clock())
            scheduler.start()
            logger.info(
                "watching %d orders on %d products; notifying %s",
                sum(len(p.orders) for p in self._jobs.values()),
                len(self._jobs),
                ", ".join(self.notifier.describe()) or "nobody (no [notify] urls)",
            )
            self.systemd.ready(self.status_line())
            await self._stopping.wait()
            self.systemd.stopping()
            self.reader.abandon()  # a page being read is not waited for; fetches are
            logger.info("stopping: waiting for %d running checks", len(self._running))
        finally:
            if scheduler.running:
                scheduler.pause()  # no new checks; running ones go on
            if self._running:
                await asyncio.wait(set(self._running), timeout=SHUTDOWN_GRACE.total_seconds())
            for check in set(self._running):  # past the grace: a page being read is abandoned
                check.cancel()
            if self._running:
                await asyncio.wait(set(self._running), timeout=SHUTDOWN_GRACE.total_seconds())
            if scheduler.running:
                scheduler.shutdown(wait=False)
            for helper in helpers:
                helper.cancel()
            self._outbox_closing = True
            self._outbox_wake.set()
            await outbox  # one last delivery, then it returns

    def _report_status(self, *, now_anyway: bool = False) -> None:
        """Send STATUS= at most every few seconds (building it scans every job), or at once
        when ``now_anyway`` (a change the user must see, like delivery pausing)."""
        if not self.systemd.enabled:
            return
        now = time.monotonic()
        if now_anyway or now - self._status_sent >= STATUS_EVERY.total_seconds():
            self._status_sent = now
            self.systemd.status(self.status_line())

    def status_line(self) -> str:
        """Return the one-line status for systemd: what is watched, what is next, what waits
        (as the outbox's last round found it: this reads no database)."""
        orders = sum(len(p.orders) for p in self._jobs.values())
        parts = [f"watching {orders} order{'s' * (orders != 1)}"]
        if self.scheduler.running:
            times = [j.next_run_time for j in self.scheduler.get_jobs() if j.next_run_time]
            if times:
                parts.append(f"next check {min(times).astimezone(self.config.timezone):%H:%M}")
        pending = self._pending
        if pending:
            parts.append(f"{pending} alert{'s' * (pending != 1)} pending")
        if self._delivery_paused is not None:
            parts.append("delivery paused: disk full")
        return ", ".join(parts)

    # --- jobs -------------------------------------------------------------------------------

    async def _sync_jobs(self) -> None:
        """Make the scheduler's jobs match the config: add, reschedule, drop."""
        products = await self.history.run(
            watched_products, self.config, self.history, now=self.clock()
        )
        wanted = {f"product:{p.id}": p for p in products}
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
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(job_id)
        self._jobs.pop(job_id, None)

    def _add_job(self, job_id: str, product: Product) -> None:
        interval = product.interval.total_seconds()
        jitter = min(interval * 0.1, MAX_JITTER.total_seconds())
        spread = min(self.first_checks_within.total_seconds(), interval)
        self.scheduler.add_job(
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
        if product is None or self._stopping.is_set():
            return
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            async with self._slots:
                result = await check_product(
                    product,
                    config=self.config,
                    fetcher=self.fetcher,
                    reader=self.reader,
                    history=self.history,
                    clock=self.clock,
                )
            if self.on_check is not None:
                self.on_check(result)
            if result.new_alerts:
                self._outbox_wake.set()
                outbox = self.history.outbox
                self._pending = await outbox.quick(outbox.pending_count)
            # The product as checked: its orders' windows as page labels gave them.
            self._schedule_after(job_id, result.product, result)
            self._report_status()
        except StateError as exc:  # the disk is full, the database locked too long
            logger.warning("%s: the check could not be recorded: %s", product.label, exc)
        except asyncio.CancelledError:
            if not self._stopping.is_set():
                raise
            # Stopping: the page being read was abandoned, and nothing of it recorded. It
            # is no failure of the job's (APScheduler would log it as one).
            logger.debug("%s: check abandoned: the daemon is stopping", product.label)
        except Exception:
            logger.exception("%s: check failed", product.label)
        finally:
            if task is not None:
                self._running.discard(task)

    def _schedule_after(self, job_id: str, product: Product, result: CheckResult) -> None:
        """Do what the rules say of a product's schedule after a check."""
        now = self.clock()
        plan = rules.next_poll(product, result.observation, result.failures, now)
        if plan.stop is rules.StopReason.WINDOWS_CLOSED:
            logger.info("%s: every window has closed; no longer polled", product.label)
            self._drop_job(job_id)
        elif plan.stop is rules.StopReason.GONE:
            logger.warning(
                "%s: the shop says the product is gone (%s); no longer polled until the "
                "config is edited or reloaded",
                product.label,
                result.observation.reason,
            )
            self._drop_job(job_id)
        elif plan.delay is not None:
            logger.info(
                "%s: %d failures in a row; next check in %s",
                product.label,
                result.failures,
                plan.delay,
            )
            self.scheduler.modify_job(job_id, next_run_time=now + plan.delay)
        elif result.waiting is not None:  # its next run is the look that confirms the drop
            self.scheduler.modify_job(job_id, next_run_time=max(result.waiting.due, now))

    # --- config reload ----------------------------------------------------------------------

    async def _config_watcher(self) -> None:
        """Reload when SIGHUP asks, or when the config file's inode, mtime or size changes."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reload_requested.wait(), CONFIG_POLL.total_seconds())
            forced = self._reload_requested.is_set()
            self._reload_requested.clear()
            moved = self.history.moved()
            if moved is not None:
                self._failure = DatabaseMoved(str(self.config.database), moved)
                logger.error(
                    "%s; stopping, so that the service starts again on the database that is "
                    "there now (writes from here on would be lost)",
                    self._failure,
                )
                self.stop()
                return
            stamp = _stamp(self.config.path)
            if forced or (stamp != self._config_stamp and stamp is not None):
                self._config_stamp = stamp
                try:
                    await self.reload(reason="SIGHUP" if forced else "the file changed")
                except Exception as exc:  # the next edit or SIGHUP must still be heard
                    logger.exception("config reload failed; the previous config keeps running")
                    await self._refuse(
                        ConfigError(
                            self.config.path.name,
                            [Problem("", f"it could not be applied ({type(exc).__name__}: {exc})")],
                        )
                    )

    async def reload(self, *, reason: str) -> bool:
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
            await self._refuse(exc)
            self.systemd.ready(self.status_line())
            return False
        if new.database != self.config.database:
            logger.warning("the database path changed; restart the daemon to use %s", new.database)
            kept = new.monitor.model_copy(update={"database": self.config.database})
            new = new.model_copy(update={"monitor": kept})
        for warning in new.warnings:
            logger.warning("%s: %s", new.path.name, warning)
        self.config = new
        self._config_since, self._refused = self.clock(), set()
        log_times_in(new.timezone)
        self.notifier = Notifier(new.notify.urls)
        self.fetcher.settings = new.monitor
        self._outbox_wake.set()  # routing may have changed: what waits is tried again
        try:
            await self._sync_jobs()
        except StateError as exc:  # the edit is good; the database cannot take it yet
            logger.error(
                "config reloaded (%s), but its orders could not be written down (%s): the "
                "products already watched go on; the rest wait for the next reload",
                reason,
                exc,
            )
            self.systemd.ready(self.status_line())
            return True
        logger.info("config reloaded (%s): %s", reason, self.status_line())
        self.systemd.ready(self.status_line())
        return True

    async def _refuse(self, error: ConfigError) -> None:
        """Tell the user why the edit was not applied, once per problem."""
        if self._refused.issuperset(error.problems):
            logger.info("the config's problems were alerted already")
            return
        message = compose_config_refused(self.config.path, error.problems, since=self._config_since)
        try:
            outbox = self.history.outbox
            if await outbox.run(outbox.enqueue, [message], now=self.clock()):
                self._outbox_wake.set()
            self._refused.update(error.problems)
        except Exception:  # the database itself may be what failed; the log still says why
            logger.exception("could not keep the config-refused alert")

    # --- helpers ----------------------------------------------------------------------------

    async def _prune(self) -> None:
        """Delete the evidence kept past its orders' windows (once a day; it never raises)."""
        await self.history.run(prune, self.config, self.history, now=self.clock())

    async def _remind(self) -> None:
        """Enqueue window-closing reminders and window-closed summaries that are due."""
        try:
            if await self.history.run(remind, self.config, self.history, now=self.clock()):
                self._outbox_wake.set()
        except Exception:
            logger.exception("reminders failed")

    async def _outbox_worker(self) -> None:
        """Deliver due alerts when a check found some, and every OUTBOX_INTERVAL for retries."""
        self._outbox_wake.set()  # alerts left pending by the last run go out at start-up
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox_wake.wait(), OUTBOX_INTERVAL.total_seconds())
            self._outbox_wake.clear()
            closing = self._outbox_closing
            was_paused = self._delivery_paused is not None
            logger.debug(
                "%d asyncio tasks, %d checks running", len(asyncio.all_tasks()), len(self._running)
            )
            try:
                report = await deliver_due(
                    self.history.outbox,
                    self.notifier,
                    clock=self.clock,
                    quiet=self.config.quiet_hours,
                )
            except DiskFull as exc:
                if self._delivery_paused is None:
                    logger.error(
                        "%s: delivery paused until it can be written (an alert sent now could "
                        "not be recorded, and would be sent again); price checks go on",
                        exc,
                    )
                self._delivery_paused = exc
            except Exception:
                logger.exception("outbox delivery failed")
            else:
                if self._delivery_paused is not None:
                    logger.warning("the database can be written again: delivery resumed")
                    self._delivery_paused = None
                if self.on_delivery is not None and (report.sent or report.failed):
                    self.on_delivery(report)
            with contextlib.suppress(Exception):  # only the status line needs it
                outbox = self.history.outbox
                self._pending = await outbox.quick(outbox.pending_count)
                self._report_status(now_anyway=was_paused != (self._delivery_paused is not None))
            if closing:
                return

    async def _watchdog(self, interval: float) -> None:
        while True:
            self.systemd.watchdog()
            await asyncio.sleep(interval)


@contextlib.contextmanager
def _announced(pidfile: Path) -> Iterator[None]:
    """Say, beside the database, that this process uses it: a command that finds the database
    locked can then name the daemon."""
    try:
        pidfile.unlink(missing_ok=True)  # a stale one, from a daemon that was killed
        fd = create_private(pidfile)
        try:
            os.write(fd, f"{os.getpid()}\n".encode())
        finally:
            os.close(fd)
    except OSError as exc:
        logger.debug("cannot write %s: %s", pidfile, exc)
    try:
        yield
    finally:
        pidfile.unlink(missing_ok=True)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells an edited config file from the one loaded: its inode too, since an editor
    or ``price-monitor add`` renames a new file over it, which may keep mtime and size."""
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)
