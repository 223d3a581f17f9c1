"""The command line: parse arguments, load the config, call the library, map errors to exits.

This is the only place that turns errors into messages and exit codes: 2 for a bad config
or bad usage, 1 for anything else that went wrong, 0 otherwise.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from monitor import __version__, rules
from monitor.channels import Notifier
from monitor.check import Settings, check_all, order_state, politeness, remind, watched_products
from monitor.config import Config, Order, default_config_path, load_config
from monitor.daemon import Daemon, utcnow
from monitor.demo import run_demo
from monitor.errors import ConfigError, MonitorError
from monitor.extract import Request
from monitor.fetch import Fetcher
from monitor.history import History
from monitor.models import Money, Status
from monitor.notify import deliver_due, format_money, notify_test_message, quiet_hours
from monitor.probe import ProbeResult, pick_shop
from monitor.probe import probe as run_probe
from monitor.savings import owed, totals
from monitor.shops import BUILTIN, Shop
from monitor.status import render_rows, render_table, status_rows

logger = logging.getLogger("monitor")


class _Cli(click.Group):
    """A click group that is the error boundary for every command under it."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(exc.render(), err=True)
            ctx.exit(2)
        except MonitorError as exc:
            click.echo(f"price-monitor: {exc}", err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                click.echo(
                    "price-monitor: the database is locked by another process (waited 10 s); "
                    "try again, or look for a stuck price-monitor or sqlite3 process",
                    err=True,
                )
                ctx.exit(1)
            if ctx.find_root().params.get("verbose"):
                raise
            click.echo(
                f"price-monitor: unexpected {type(exc).__name__}: {exc}\n"
                "Rerun with -v for the traceback, and please report it.",
                err=True,
            )
            ctx.exit(1)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="PRICE_MONITOR_CONFIG",
    help="Config file. Default: $PRICE_MONITOR_CONFIG, else "
    "$CONFIGURATION_DIRECTORY/config.toml under systemd, else ~/.config/price-monitor/config.toml.",
)
@click.option("-v", "--verbose", count=True, help="Log more: -v for debug output.")
@click.version_option(__version__, prog_name="price-monitor")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: int) -> None:
    """Watch the prices of things you already bought while the shop's price-protection
    window (退差价 / 价保 / price adjustment) is open, and get an alert with a support
    request ready to paste when you are owed money.

    Start with `price-monitor demo`, then copy config.example.toml to your config path,
    add your orders, and run `price-monitor config check`.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path or default_config_path()
    _setup_logging(verbose)


def _setup_logging(verbose: int) -> None:
    # journald stamps every line itself; elsewhere a timestamp helps.
    fmt = "%(levelname)s %(name)s: %(message)s"
    if not os.environ.get("JOURNAL_STREAM"):
        fmt = "%(asctime)s " + fmt
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(fmt, datefmt="%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    # Third-party libraries stay quiet: Apprise may name targets at debug level.
    for noisy in ("apscheduler", "httpx", "httpcore", "apprise"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)


def _load(ctx: click.Context) -> Config:
    config = load_config(ctx.obj["config_path"])
    for warning in config.warnings:
        click.echo(f"warning: {config.path.name}: {warning}", err=True)
    return config


@cli.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the daemon: poll every watched product on its interval until stopped.

    Products are polled while at least one of their orders' windows is open. Alerts go to
    the [notify] URLs; failed sends are retried. SIGTERM or Ctrl-C stops it cleanly.
    """
    if logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    config = _load(ctx)
    asyncio.run(_serve(config))


async def _serve(config: Config) -> None:
    daemon = Daemon(config)
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


@cli.command()
@click.argument("orders", nargs=-1, metavar="[ORDER]...")
@click.pass_context
def check(ctx: click.Context, orders: Sequence[str]) -> None:
    """Check prices once, send any alerts owed, and exit.

    With ORDER ids, check just those orders (even if their window has closed); without,
    every order whose window is open. For cron, systemd timers and trying a new order.
    """
    config = _load(ctx)
    unknown = [o for o in orders if config.order(o) is None]
    if unknown:
        known = ", ".join(o.id for o in config.orders) or "none"
        raise click.UsageError(f"unknown order {', '.join(unknown)}; orders in the config: {known}")
    asyncio.run(_check_once(config, orders))


async def _check_once(config: Config, only: Sequence[str]) -> None:
    history = History.open(config.database)
    try:
        products = watched_products(config, history, now=utcnow(), only=only)
        if not products:
            click.echo("Nothing to check: no order has an open price-protection window.")
        settings = Settings.from_config(config)
        async with Fetcher(politeness=politeness(config)) as fetcher:
            results = await check_all(
                products, fetcher=fetcher, history=history, clock=utcnow, settings=settings
            )
        for result in results:
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
        reminded = remind(config, history, now=utcnow(), settings=settings)
        if reminded:
            click.echo(f"{reminded} window reminder{'s' * (reminded != 1)}")
        report = await deliver_due(
            history, Notifier(config.notify), clock=utcnow, quiet=quiet_hours(config)
        )
        if report.sent or report.failed or report.held:
            held = f", {report.held} held for the end of quiet hours" if report.held else ""
            click.echo(
                f"alerts: {report.sent} sent, {report.failed} failed (will be retried){held}"
            )
    finally:
        history.close()


@cli.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show every order: paid, current and lowest price, difference, days left, last check."""
    config = _load(ctx)
    history = History.open(config.database)
    try:
        now = utcnow()
        rows = status_rows(config, history, now=now)
        pending = history.pending_count()
    finally:
        history.close()
    if not rows:
        click.echo("No orders in the config yet: add [[orders]] (see config.example.toml).")
        return
    click.echo(render_table(rows, tz=config.timezone))
    if pending:
        click.echo(f"\n{pending} alert{'s' * (pending != 1)} waiting to be sent.")


@cli.command()
@click.option("--retry", is_flag=True, help="Send every pending or given-up alert now.")
@click.option(
    "--status",
    "only",
    type=click.Choice(["pending", "sent", "failed"]),
    help="List only alerts with this status.",
)
@click.option("-n", "--limit", default=30, show_default=True, help="How many alerts to list.")
@click.pass_context
def alerts(ctx: click.Context, retry: bool, only: str | None, limit: int) -> None:
    """List the alerts in the outbox: pending, sent or failed, with attempts and last error.

    With --retry, first send every alert that has not gone out (pending or given up),
    whatever its retry time, and report what happened.
    """
    config = _load(ctx)
    history = History.open(config.database)
    try:
        if retry:
            report = asyncio.run(
                deliver_due(history, Notifier(config.notify), clock=utcnow, retry_now=True)
            )
            click.echo(f"retried: {report.sent} sent, {report.failed} failed")
        entries = history.alerts(status=only)[:limit]
    finally:
        history.close()
    if not entries:
        click.echo("No alerts" + (f" with status {only}." if only else " yet."))
        return
    tz = config.timezone
    rows: list[tuple[str, ...]] = [
        ("id", "created", "status", "tries", "kind", "order", "title / last error")
    ]
    for e in entries:
        detail = (
            e.title if e.status == "sent" or not e.last_error else f"{e.title} — {e.last_error}"
        )
        rows.append(
            (
                str(e.id),
                f"{e.created_at.astimezone(tz):%m-%d %H:%M}",
                e.status,
                str(e.attempts),
                e.kind,
                e.order_id or "-",
                detail,
            )
        )
    click.echo(render_rows(rows))


@cli.command(name="notify-test")
@click.pass_context
def notify_test(ctx: click.Context) -> None:
    """Send a test message to every notification URL and report each result.

    Exits 1 if any target failed, so it can guard a deployment.
    """
    config = _load(ctx)
    notifier = Notifier(config.notify)
    if not len(notifier):
        raise MonitorError("no notification URL configured ([notify] urls)")
    title, body = notify_test_message()

    async def send_all() -> list[tuple[str, bool, str]]:
        out = []
        for recipient in notifier.recipients():
            result = await notifier.send(recipient, title, body, markdown=body)
            out.append((recipient.name, result.ok, result.error))
        return out

    failures = 0
    for name, ok, error in asyncio.run(send_all()):
        click.echo(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else f'  ({error})'}")
        failures += not ok
    if failures:
        ctx.exit(1)


class _Amount(click.ParamType[Decimal]):
    name = "AMOUNT"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        text = str(value).strip()
        if re.fullmatch(r"\d+(\.\d+)?", text) and Decimal(text) > 0:
            return Decimal(text)
        self.fail(f"expected an amount like 400.00 (no sign or commas), got {value!r}", param, ctx)


AMOUNT = _Amount()


def _claim_target(ctx: click.Context, order_id: str) -> tuple[Config, Order]:
    config = _load(ctx)
    order = config.order(order_id)
    if order is None:
        known = ", ".join(o.id for o in config.orders) or "none"
        raise click.UsageError(f"unknown order {order_id}; orders in the config: {known}")
    return config, order


@cli.command()
@click.argument("order_id", metavar="ORDER")
@click.option(
    "--amount", type=AMOUNT, help="What you asked for in total (default: what the alert said)."
)
@click.option(
    "--price",
    type=AMOUNT,
    help="The unit price your claim is based on (default: the last alerted).",
)
@click.option("--note", help="Anything to remember, e.g. the ticket number.")
@click.pass_context
def claim(
    ctx: click.Context,
    order_id: str,
    amount: Decimal | None,
    price: Decimal | None,
    note: str | None,
) -> None:
    """Record that you asked the shop for the difference on ORDER.

    After a claim only a price below the claimed one alerts again ("you can claim ¥X more").
    """
    config, order = _claim_target(ctx, order_id)
    history = History.open(config.database)
    try:
        state = order_state(history, order)
        unit = Money(price, order.currency) if price else state.baseline
        if amount is None and unit is None:
            raise click.UsageError(
                f"no drop has been alerted for {order_id}: give --amount (and --price) to record a claim"
            )
        total = Money(amount, order.currency) if amount else owed(order, unit) if unit else None
        history.add_claim(order.id, "claimed", at=utcnow(), price=unit, amount=total, note=note)
    finally:
        history.close()
    based = f" at {format_money(unit)} each" if unit else ""
    click.echo(
        f"{order.id}: claimed {format_money(total) if total else '?'}{based}. "
        f"When the shop answers: price-monitor refunded {order.id} --amount X, or rejected."
    )


@cli.command()
@click.argument("order_id", metavar="ORDER")
@click.option("--amount", type=AMOUNT, required=True, help="What the shop refunded in total.")
@click.option("--note", help="Anything to remember.")
@click.pass_context
def refunded(ctx: click.Context, order_id: str, amount: Decimal, note: str | None) -> None:
    """Record that the shop refunded AMOUNT on ORDER (counted in `savings`)."""
    config, order = _claim_target(ctx, order_id)
    history = History.open(config.database)
    try:
        latest = history.latest_claim(order.id)
        price = latest.price if latest else order_state(history, order).baseline
        history.add_claim(
            order.id,
            "refunded",
            at=utcnow(),
            price=price,
            amount=Money(amount, order.currency),
            note=note,
        )
    finally:
        history.close()
    click.echo(f"{order.id}: refunded {format_money(Money(amount, order.currency))}.")


@cli.command()
@click.argument("order_id", metavar="ORDER")
@click.option("--reason", help="What the shop said, e.g. 'flash-sale price is excluded'.")
@click.pass_context
def rejected(ctx: click.Context, order_id: str, reason: str | None) -> None:
    """Record that the shop turned down the claim on ORDER."""
    config, order = _claim_target(ctx, order_id)
    history = History.open(config.database)
    try:
        latest = history.latest_claim(order.id)
        history.add_claim(
            order.id,
            "rejected",
            at=utcnow(),
            price=latest.price if latest else None,
            amount=latest.amount if latest else None,
            note=reason,
        )
    finally:
        history.close()
    click.echo(f"{order.id}: claim rejected{f' ({reason})' if reason else ''}.")


@cli.command()
@click.pass_context
def savings(ctx: click.Context) -> None:
    """Show what price protection brought in, per currency: refunded, pending, to claim, missed."""
    config = _load(ctx)
    history = History.open(config.database)
    try:
        history.sync_orders(config.orders, now=utcnow())
        states = {o.id: order_state(history, o) for o in config.orders}
    finally:
        history.close()
    result = totals(config.orders, config.shops, states, now=utcnow())
    if not result.currencies():
        click.echo("Nothing yet: no drop has been alerted or claimed.")
        return
    rows: list[tuple[str, ...]] = [
        ("currency", "refunded", "pending", "to claim", "missed", "rejected")
    ]
    for currency in result.currencies():
        cells = [
            format_money(Money(part[currency], currency)) if currency in part else "-"
            for part in (
                result.refunded,
                result.pending,
                result.to_claim,
                result.missed,
                result.rejected,
            )
        ]
        rows.append((currency, *cells))
    click.echo(render_rows(rows))


@cli.group(name="config")
def config_group() -> None:
    """Work with the config file."""


@config_group.command(name="check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the config and print every problem with its TOML path (exit 2 if any)."""
    config = _load(ctx.find_root())
    now = utcnow()
    watched = sum(1 for o in config.orders if rules.is_watched(o, config.shops[o.shop], now))
    targets = Notifier(config.notify).describe()
    click.echo(
        f"{config.path}: OK, {len(config.orders)} order{'s' * (len(config.orders) != 1)} "
        f"({watched} with an open window)"
    )
    click.echo(f"database: {config.database}")
    click.echo(f"notify: {', '.join(targets) if targets else 'nobody (no [notify] urls)'}")


@cli.command()
@click.argument("targets", nargs=-1, required=True, metavar="TARGET...")
@click.option(
    "--shop",
    "shop_name",
    help="Shop profile to read with (default: from the URL's domain, else generic).",
)
@click.option("--sku", help="The variant/SKU the order is for, when a page sells several.")
@click.option(
    "--selector",
    help='A CSS selector for the price, e.g. "span.price" or "meta[itemprop=price]@content".',
)
@click.option("--currency", help="The order's currency, e.g. CNY (default: the shop's).")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object per target, one per line."
)
@click.pass_context
def probe(
    ctx: click.Context,
    targets: Sequence[str],
    shop_name: str | None,
    sku: str | None,
    selector: str | None,
    currency: str | None,
    as_json: bool,
) -> None:
    """Show what price-monitor reads from a product page, before you add an order.

    TARGET is a URL or a saved HTML/JSON file; give several to probe them all. For each, it
    lists every extraction strategy's candidates and the verdict (price, not_found or
    unknown, with the reason), and when no price is found, elements that look like prices
    with a CSS selector you can put in the order's `selector`.
    """
    shops = _shops_for_probe(ctx)
    if shop_name is not None and shop_name not in shops:
        raise click.BadParameter(
            f"unknown shop {shop_name!r}; known: {', '.join(sorted(shops))}", param_hint="--shop"
        )
    if currency is not None and not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise click.BadParameter(
            "expected a 3-letter ISO code such as CNY", param_hint="--currency"
        )
    request = Request(sku=sku, selector=selector, currency=currency.upper() if currency else None)
    results = asyncio.run(_probe_all(targets, shops, shop_name, request))
    for result in results:
        if as_json:
            click.echo(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            click.echo(render_probe(result))


def _shops_for_probe(ctx: click.Context) -> Mapping[str, Shop]:
    # probe is for before the first order: without a config file, the built-in shops serve.
    path: Path = ctx.obj["config_path"]
    explicit = ctx.find_root().params.get("config_path") is not None
    if path.exists() or explicit:
        return _load(ctx).shops
    return BUILTIN


async def _probe_all(
    targets: Sequence[str], shops: Mapping[str, Shop], shop_name: str | None, request: Request
) -> list[ProbeResult]:
    async with Fetcher() as fetcher:
        return [
            await run_probe(
                t, shop=pick_shop(t, shops, shop_name), request=request, fetcher=fetcher
            )
            for t in targets
        ]


def render_probe(result: ProbeResult) -> str:
    """Return a probe result as the human-readable report."""
    extraction = result.extraction
    lines = [f"{result.target}  (shop: {result.shop.key})"]
    if result.fetched and result.fetched != result.target:
        lines.append(f"  read      {result.fetched}")
    by_strategy: dict[str, list[str]] = {}
    for c in extraction.candidates:
        sku = f" [sku {c.sku}]" if c.sku else ""
        stated = f" {c.currency}" if c.currency else ""
        by_strategy.setdefault(c.strategy, []).append(f"{c.amount:f}{stated}{sku}")
    for strategy, found in by_strategy.items():
        lines.append(f"  {strategy:<12}{', '.join(found[:6])}{' …' if len(found) > 6 else ''}")
    if extraction.status is Status.PRICE and extraction.price is not None:
        verdict = f"price {format_money(extraction.price)} (from {extraction.strategy})"
        if extraction.availability.value != "unstated":
            verdict += f", {extraction.availability.value.replace('_', ' ')}"
    else:
        verdict = f"{extraction.status.value}: {extraction.reason}"
    lines.append(f"  verdict   {verdict}")
    if result.window_days is not None:
        lines.append(
            f"  window    the page advertises {result.window_days} days of price protection"
        )
    if result.suggestions:
        lines.append("  looks like a price (try one as the order's selector):")
        lines += [f"    {s.selector:<40} {s.text}" for s in result.suggestions]
    return "\n".join(lines)


@cli.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the demo's config and database in this folder instead of a temporary one.",
)
def demo(workdir: Path | None) -> None:
    """Run a self-contained demo: a local shop, a price drop, and the alerts it produces.

    Nothing leaves this machine: the shop listens on 127.0.0.1 and the alerts print here.
    """
    echo = click.echo
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        run_demo(workdir, echo=echo)
        echo(f"Files kept in {workdir}; try: price-monitor -c {workdir / 'config.toml'} status")
        return
    with tempfile.TemporaryDirectory(prefix="price-monitor-demo-") as tmp:
        run_demo(Path(tmp), echo=echo)


def main() -> None:
    """The console-script entry point."""
    cli(prog_name="price-monitor")
