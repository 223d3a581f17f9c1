"""``price-monitor run`` (the daemon) and ``price-monitor check`` (one pass, then exit)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from monitor.cli.common import complete_order_ids, load
from monitor.errors import MonitorError

if TYPE_CHECKING:
    from pathlib import Path

    from monitor.config import Config
    from monitor.history import OutboxEntry

logger = logging.getLogger("monitor")


@click.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the daemon: poll every watched product on its interval until stopped.

    Products are polled while at least one of their orders' windows is open. Alerts go to
    the [notify] URLs; failed sends are retried. SIGTERM or Ctrl-C stops it cleanly.
    """
    if logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    config = load(ctx)
    asyncio.run(_serve(config))


async def _serve(config: Config) -> None:
    import os
    import signal

    from monitor.daemon import Daemon

    async with Daemon(config) as daemon:
        loop = asyncio.get_running_loop()
        signals = 0

        def on_signal() -> None:
            nonlocal signals
            signals += 1
            if signals > 1:
                logger.warning("second signal: exiting now")
                os._exit(130)
            daemon.stop()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
        loop.add_signal_handler(signal.SIGHUP, daemon.request_reload)
        await daemon.run()


@click.command()
@click.argument("orders", nargs=-1, metavar="[ORDER]...", shell_complete=complete_order_ids)
@click.option(
    "--no-wait",
    is_flag=True,
    help="Do not wait to confirm a new drop: record it, and let the next run (check or the "
    "daemon) look again and alert it if the price holds.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Fetch and read, but record nothing and send nothing; say what would be alerted.",
)
@click.pass_context
def check(ctx: click.Context, orders: Sequence[str], no_wait: bool, dry_run: bool) -> None:
    """Check prices once, send any alerts owed, and exit.

    With ORDER ids, check just those orders (even if their window has closed); without,
    every order whose window is open. For cron, systemd timers and trying a new order.

    Each product's line is printed as soon as it is checked. A new drop is alerted only if
    the price holds `[monitor] confirm` later (2m by default): check says "confirming ...
    in 2m" and waits for it, or with --no-wait leaves it to the next run.
    """
    from monitor.logs import leave_out_echoed

    config = load(ctx)
    leave_out_echoed()  # each product's line is printed below, not logged as well
    unknown = [o for o in orders if config.order(o) is None]
    if unknown:
        known = ", ".join(o.id for o in config.orders) or "none"
        raise click.UsageError(f"unknown order {', '.join(unknown)}; orders in the config: {known}")
    asyncio.run(_check_once(config, orders, wait=not no_wait, dry_run=dry_run))


async def _check_once(
    config: Config, only: Sequence[str], *, wait: bool = True, dry_run: bool = False
) -> None:
    import functools
    import gc
    import tempfile
    from pathlib import Path

    from monitor.channels import Notifier
    from monitor.check import CheckPass, check_all, remind, watched_products
    from monitor.cli.progress import CheckOutput
    from monitor.clock import utcnow
    from monitor.delivery import deliver_due
    from monitor.evidence import prune
    from monitor.fetch import Fetcher
    from monitor.history import History
    from monitor.reader import PageReader

    scratch = tempfile.TemporaryDirectory(prefix="price-monitor-dry-run-") if dry_run else None
    if scratch is not None:  # the whole run works on a copy of the database, thrown away
        config = _on_a_copy(config, Path(scratch.name))
    history = History.open(config.database)
    try:
        products = watched_products(config, history, now=utcnow(), only=only)
        if not products:
            click.echo("Nothing to check: no order has an open price-protection window.")
        known = {entry.id for entry in history.outbox.entries()} if dry_run else set()
        output = CheckOutput(len(products), zone=config.timezone, clock=utcnow)
        # What start-up made (the modules, the config, the orders) lives until the exit: the
        # collector's full passes over the checks' garbage need not walk it each time.
        gc.freeze()
        async with (
            Fetcher(config.monitor) as fetcher,
            PageReader(time_limit=config.monitor.read_limit) as reader,
        ):
            look = functools.partial(
                check_all,
                config=config,
                fetcher=fetcher,
                reader=reader,
                history=history,
                clock=utcnow,
                on_result=output.checked,
            )
            with output:
                checked = await look(products)
                waiting = [r for r in checked.results if r.waiting is not None]
                if wait and waiting:  # the pass is over: no check waits, the look is due
                    await output.confirming(waiting)
                    again = await look([r.product for r in waiting])
                    checked = CheckPass(
                        [r for r in checked.results if r.waiting is None] + again.results,
                        checked.unrecorded + again.unrecorded,
                    )
        for result in checked.results:
            output.left_waiting(result, dry_run=dry_run)  # --no-wait, or a price changed again
        if checked.unrecorded:
            # Nothing is sent that could not be written down: the first reason is the exit.
            raise checked.unrecorded[0]
        reminded = await history.run(remind, config, history, now=utcnow())
        if reminded:
            click.echo(f"{reminded} window reminder{'s' * (reminded != 1)}")
        if dry_run:
            _would_alert([e for e in history.outbox.entries() if e.id not in known])
            return
        report = await deliver_due(
            history.outbox, Notifier(config.notify.urls), clock=utcnow, quiet=config.quiet_hours
        )
        await history.run(prune, config, history, now=utcnow())  # old evidence: housekeeping
        if report.sent or report.failed or report.held:
            held = f", {report.held} held for the end of quiet hours" if report.held else ""
            click.echo(
                f"alerts: {report.sent} sent, {report.failed} failed (will be retried){held}"
            )
        if report.unreached:
            raise MonitorError(
                f"{report.unreached} alert{'s' * (report.unreached != 1)} reached no "
                "notification target; `price-monitor alerts` shows why"
            )
    finally:
        history.close()
        if scratch is not None:
            scratch.cleanup()


def _on_a_copy(config: Config, folder: Path) -> Config:
    """The config, its database a copy in ``folder`` (``check --dry-run``): the evidence and
    everything else a check would write go there too, and nothing beside the database."""
    from monitor.history.snapshot import copy_database

    copy = folder / config.database.name
    if config.database.exists():
        copy_database(config.database, copy)
    monitor = config.monitor.model_copy(update={"database": copy})
    return config.model_copy(update={"monitor": monitor})


def _would_alert(entries: Sequence[OutboxEntry]) -> None:
    click.echo("dry run: nothing was recorded and nothing sent")
    for entry in entries:
        click.echo(f"would alert: {entry.message.title}")
    if not entries:
        click.echo("no alert would be sent")
