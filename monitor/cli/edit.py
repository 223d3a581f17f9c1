"""``price-monitor add``, ``remove`` and ``import``: orders into and out of the config file.

Each edits the file as text (``monitor.config.edit``): its comments and layout are kept,
the whole new file is validated as the daemon would read it before anything is written,
and it is replaced atomically with its mode kept. A running daemon notices the new file
by itself and reloads it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.cli.common import AMOUNT, complete_order_ids, load, order_named

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.config.edit import TableValue
    from monitor.extract import Request
    from monitor.models import Shop
    from monitor.probe import ProbeResult

# Payment's values, spelled out so that --help need not load the models (a test keeps them
# the same).
PAYMENTS = ("card", "alipay", "wechat", "installments", "other")


class _Day(click.ParamType[dt.date]):
    name = "DATE"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"expected a date like 2026-11-20, got {value!r}", param, ctx)


DAY = _Day()


@click.command()
@click.argument("url")
@click.option("--paid", type=AMOUNT, required=True, help="The unit price you paid: 4999.00.")
@click.option("--ordered", type=DAY, required=True, help="The order date: 2026-11-20.")
@click.option(
    "--order-id",
    help="The shop's order number, which the support request quotes "
    "(default: SHOP-YYYYMMDD, with a suffix if taken).",
)
@click.option("--title", help="The product, as alerts name it (default: the page's).")
@click.option("--qty", "quantity", type=click.IntRange(1, 10_000), help="How many (default 1).")
@click.option("--delivered", type=DAY, help="The delivery date, for shops that count from it.")
@click.option("--payment", type=click.Choice(PAYMENTS), help="How you paid.")
@click.option("--installments", type=click.IntRange(2, 120), help="With installments: periods.")
@click.option("--installment-provider", help="With installments: 花呗, 信用卡, 京东白条, ...")
@click.option(
    "--shop", "shop_name", help="Shop profile (default: from the URL's domain, else generic)."
)
@click.option("--sku", help="The variant/SKU you bought, when the page sells several.")
@click.option("--selector", help='A CSS selector for the price, e.g. "span.price".')
@click.option("--currency", help="ISO code, e.g. CNY (default: the shop's, else the page's).")
@click.option(
    "--window-days",
    type=click.IntRange(1, 365),
    help="The price-protection window in days (default: the shop's).",
)
@click.option("--tags", help="Comma-separated tags: its alerts also go to URLs with them.")
@click.option("--force", is_flag=True, help="Add it even if no price can be read from the page.")
@click.pass_context
def add(
    ctx: click.Context,
    url: str,
    paid: Decimal,
    ordered: dt.date,
    order_id: str | None,
    title: str | None,
    quantity: int | None,
    delivered: dt.date | None,
    payment: str | None,
    installments: int | None,
    installment_provider: str | None,
    shop_name: str | None,
    sku: str | None,
    selector: str | None,
    currency: str | None,
    window_days: int | None,
    tags: str | None,
    force: bool,
) -> None:
    """Add an order to the config: probe its URL first, then append it, comments kept.

    The page is read the way a check reads it, and what was read is shown: the price, or
    why there is none; the variants a shop's API lists (sku, price, name: pick yours with
    --sku). An order whose page gives no price is refused unless --force. The title comes
    from the page unless --title gives it. The whole config is validated before it is
    written (atomically, its mode kept), so a running daemon only ever reloads a good one.
    """
    from monitor.config import parse_config
    from monitor.config.edit import with_orders, write_atomically
    from monitor.errors import ConfigError, MonitorError
    from monitor.extract import Request
    from monitor.models import Status
    from monitor.probe import pick_shop, render_probe

    config = load(ctx)
    if shop_name is not None and shop_name not in config.shops:
        raise click.BadParameter(
            f"unknown shop {shop_name!r}; known: {', '.join(sorted(config.shops))}",
            param_hint="--shop",
        )
    if currency is not None and not (len(currency) == 3 and currency.isalpha()):
        raise click.BadParameter(
            "expected a 3-letter ISO code such as CNY", param_hint="--currency"
        )
    if order_id is not None and config.order(order_id) is not None:
        raise click.BadParameter(
            f"{order_id} is in the config already; for a second item of one order, add a "
            f"suffix like {order_id}-2",
            param_hint="--order-id",
        )
    shop = pick_shop(url, config.shops, shop_name)
    request = Request(
        sku=sku,
        selector=selector,
        currency=currency.upper() if currency else shop.currency,
        product_url=url,
    )
    result = asyncio.run(_probe(url, shop, request, config))
    click.echo(render_probe(result))
    extraction = result.extraction
    price = extraction.price if extraction.status is Status.PRICE else None
    if price is None and not force:
        pick = (
            f"; pick one of the {len(result.variants)} variants with --sku"
            if len(result.variants) > 1 and sku is None
            else ""
        )
        raise MonitorError(
            f"no price can be read from {url} ({extraction.reason or extraction.status.value})"
            f"{pick}; nothing was added (--force adds it anyway)"
        )
    title = title or result.title
    if not title:
        raise click.UsageError("the page names no product: give it with --title")
    if currency is None and shop.currency is None:
        if price is None:
            raise click.UsageError(f"shop {shop.key} has no default currency: give --currency")
        currency = price.currency
    if window_days is None and shop.window_days is None:
        raise click.UsageError(
            f"shop {shop.key} has no default price-protection window: give --window-days"
        )
    if order_id is None:
        order_id = _new_id(config, shop, ordered)
        click.echo(
            f"no --order-id: calling it {order_id} (the support request quotes it as the "
            "order number: change its id to the shop's when you have it)"
        )
    if payment is None and (installments is not None or installment_provider is not None):
        payment = "installments"  # what --installments says
    table: dict[str, TableValue] = {"id": order_id, "shop": shop.key, "url": url}
    optional: dict[str, TableValue | None] = {
        "sku": sku,
        "title": title,
        "paid": paid,
        "currency": currency.upper() if currency else None,
        "quantity": quantity,
        "ordered": ordered,
        "delivered": delivered,
        "window_days": window_days,
        "payment": payment,
        "installments": installments,
        "installment_provider": installment_provider,
        "selector": selector,
        "tags": [t.strip() for t in tags.split(",") if t.strip()] if tags else None,
    }
    table |= {key: value for key, value in optional.items() if value is not None}
    original = config.path.read_bytes()
    new = with_orders(original.decode("utf-8"), [table])
    try:
        changed = parse_config(new, path=config.path)
    except ConfigError:
        click.echo(
            f"price-monitor: order {order_id} was not added: the config would not load with it",
            err=True,
        )
        raise
    _warn_new(config, changed)
    write_atomically(config.path, new, expected=original)
    click.echo(f"added order {order_id} ({title}) to {config.path}")
    _daemon_note(config)


@click.command()
@click.argument(
    "order_ids", nargs=-1, required=True, metavar="ORDER...", shell_complete=complete_order_ids
)
@click.pass_context
def remove(ctx: click.Context, order_ids: Sequence[str]) -> None:
    """Take orders out of the config, with the comment lines right above each one.

    The rest of the file is kept as it is; the whole file is validated before it is written
    (atomically, its mode kept). The orders' price history and claims stay in the database:
    `savings` still counts what they brought in.
    """
    from monitor.config import parse_config
    from monitor.config.edit import without_order, write_atomically

    config = load(ctx)
    orders = [order_named(config, order_id) for order_id in dict.fromkeys(order_ids)]
    original = config.path.read_bytes()
    new = original.decode("utf-8")
    for order in orders:
        new = without_order(new, order.id)
    changed = parse_config(new, path=config.path)
    _warn_new(config, changed)
    write_atomically(config.path, new, expected=original)
    claims = _claims_of(config, [o.id for o in orders])
    for order in orders:
        kept = claims.get(order.id, 0)
        steps = f" and {kept} claim step{'s' * (kept != 1)}" if kept else ""
        click.echo(
            f"removed order {order.id} ({order.title}) from {config.path}; its price "
            f"history{steps} stay in the database (`savings` still counts them)"
        )
    _daemon_note(config)


@click.command(name="import")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Write the orders into the config (else: preview).")
@click.pass_context
def import_orders(ctx: click.Context, csv_file: Path, yes: bool) -> None:
    """Add orders from a spreadsheet saved as CSV: preview them, then write with --yes.

    The header names the columns, as the config names the keys: id, url, title, paid and
    ordered, and any of shop, sku, variant, currency, quantity, delivered, window_days,
    payment, installments, installment_provider, threshold, selector, interval, tags
    (comma-separated) and notes. A blank cell leaves the key out; a row without a shop gets
    the one its URL's domain names. Every bad row is listed with its line number and why
    (an id already in the config is one); nothing is written while any row is bad.
    """
    from monitor.config.edit import write_atomically
    from monitor.config.spreadsheet import check_rows, read_rows
    from monitor.errors import MonitorError
    from monitor.messages import format_money
    from monitor.reports import render_rows

    config = load(ctx)
    try:
        text = csv_file.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MonitorError(f"cannot read {csv_file}: {exc}") from None
    rows, unreadable = read_rows(text, shops=config.shops)
    original = config.path.read_bytes()
    checked = check_rows(
        rows,
        unreadable,
        text=original.decode("utf-8"),
        path=config.path,
        existing=[o.id for o in config.orders],
    )
    count = len(checked.added)
    bad = len(checked.bad)
    click.echo(
        f"{csv_file.name}: {count} order{'s' * (count != 1)} to add"
        + (f", {bad} bad row{'s' * (bad != 1)}" if bad else "")
    )
    if checked.added:
        cells = [("line", "id", "shop", "product", "paid", "qty", "ordered")]
        cells += [
            (
                str(row.line),
                order.id,
                order.shop,
                order.title,
                format_money(order.paid_money),
                str(order.quantity),
                order.ordered.isoformat(),
            )
            for row, order in checked.added
        ]
        click.echo(render_rows(cells))
    if checked.bad:
        click.echo("bad rows:", err=True)
        for row in checked.bad:
            for line in row.lines():
                click.echo(f"  {csv_file.name}: {line}", err=True)
        click.echo("Nothing was written: correct those rows and run again.", err=True)
        ctx.exit(2)
    if not checked.added:
        return
    if not yes:
        click.echo(f"Nothing written yet: run again with --yes to add them to {config.path}.")
        return
    _warn_new(config, checked.config)
    write_atomically(config.path, checked.text, expected=original)
    click.echo(f"added {count} order{'s' * (count != 1)} to {config.path}")
    _daemon_note(config)


async def _probe(url: str, shop: Shop, request: Request, config: Config) -> ProbeResult:
    """Read the page as a check would: the config's politeness and per-page time limit."""
    from monitor.fetch import Fetcher
    from monitor.probe import probe
    from monitor.reader import PageReader

    reader = PageReader(workers=1, time_limit=config.monitor.read_limit)
    async with Fetcher(config.monitor) as fetcher, reader:
        return await probe(url, shop=shop, request=request, fetcher=fetcher, reader=reader)


def _new_id(config: Config, shop: Shop, ordered: dt.date) -> str:
    """An id for an order added without one: the shop and the day, unique in the config."""
    base = f"{shop.key}-{ordered:%Y%m%d}"
    taken = {o.id for o in config.orders}
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


def _warn_new(old: Config, new: Config) -> None:
    """Print what looks odd in the new file and did not in the old (an interval raised...)."""
    for warning in new.warnings:
        if warning not in old.warnings:
            click.echo(f"warning: {new.path.name}: {warning}", err=True)


def _claims_of(config: Config, order_ids: Sequence[str]) -> dict[str, int]:
    """How many claim steps the database keeps for each order (none when it has no file)."""
    if not config.database.exists():
        return {}
    from monitor.cli.common import open_for_reading

    history = open_for_reading(config)
    try:
        return {order_id: len(history.claims(order_id)) for order_id in order_ids}
    finally:
        history.close()


def _daemon_note(config: Config) -> None:
    """Say that a running daemon reloads the file by itself, when one runs on the database."""
    from monitor.history.schema import daemon_pidfile

    try:
        pid = int(daemon_pidfile(config.database).read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return
    click.echo(f"The daemon (pid {pid}) reloads the config by itself within a few seconds.")
