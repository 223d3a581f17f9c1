"""``price-monitor run`` (the daemon) and ``price-monitor check`` (one pass, then exit)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from monitor.cli.common import load
from monitor.errors import MonitorError

if TYPE_CHECKING:
    from monitor.config import Config

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
@click.argument("orders", nargs=-1, metavar="[ORDER]...")
@click.pass_context
def check(ctx: click.Context, orders: Sequence[str]) -> None:
    """Check prices once, send any alerts owed, and exit.

    With ORDER ids, check just those orders (even if their window has closed); without,
    every order whose window is open. For cron, systemd timers and trying a new order.
    """
    config = load(ctx)
    unknown = [o for o in orders if config.order(o) is None]
    if unknown:
        known = ", ".join(o.id for o in config.orders) or "none"
        raise click.UsageError(f"unknown order {', '.join(unknown)}; orders in the config: {known}")
    asyncio.run(_check_once(config, orders))


async def _check_once(config: Config, only: Sequence[str]) -> None:
    from monitor.channels import Notifier
    from monitor.check import check_all, remind, watched_products
    from monitor.clock import utcnow
    from monitor.delivery import deliver_due
    from monitor.fetch import Fetcher
    from monitor.history import History
    from monitor.messages import format_money
    from monitor.models import Status
    from monitor.reader import PageReader

    history = History.open(config.database)
    try:
        products = watched_products(config, history, now=utcnow(), only=only)
        if not products:
            click.echo("Nothing to check: no order has an open price-protection window.")
        async with (
            Fetcher(config.monitor) as fetcher,
            PageReader(time_limit=config.monitor.read_limit) as reader,
        ):
            checked = await check_all(
                products,
                config=config,
                fetcher=fetcher,
                reader=reader,
                history=history,
                clock=utcnow,
            )
        for result in checked.results:
            observation = result.observation
            if observation.status is Status.PRICE and observation.price is not None:
                line = f"{format_money(observation.price)} ({observation.extraction.strategy})"
            else:
                line = f"{observation.status.value}: {observation.reason}"
            new = (
                f", {result.new_alerts} new alert{'s' * (result.new_alerts != 1)}"
                if result.new_alerts
                else ""
            )
            click.echo(f"{result.product.label}: {line}{new}")
        if checked.unrecorded:
            # Nothing is sent that could not be written down: the first reason is the exit.
            raise checked.unrecorded[0]
        reminded = await history.run(remind, config, history, now=utcnow())
        if reminded:
            click.echo(f"{reminded} window reminder{'s' * (reminded != 1)}")
        report = await deliver_due(
            history.outbox, Notifier(config.notify.urls), clock=utcnow, quiet=config.quiet_hours
        )
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
