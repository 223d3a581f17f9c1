"""``price-monitor probe``: what would a check read from this page, and why?"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from monitor.cli.common import complete_order_ids, config_path, load, order_named
from monitor.errors import MonitorError

if TYPE_CHECKING:
    from monitor.config import Config, MonitorSettings
    from monitor.extract import Request
    from monitor.models import FetchMode, Order, Shop
    from monitor.probe import ProbeResult


@click.command()
@click.argument("targets", nargs=-1, metavar="TARGET...")
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
    "--order",
    "order_id",
    metavar="ORDER",
    shell_complete=complete_order_ids,
    help="Read as the config's ORDER would (its shop, sku, selector, currency; without "
    "TARGET, its URL), and remember a price-protection label the page shows as its window.",
)
@click.option(
    "--fetch",
    type=click.Choice(["http", "browser"]),
    help="Fetch with plain HTTP or render in Chromium (default: the order's, else the shop's).",
)
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
    order_id: str | None,
    fetch: str | None,
    as_json: bool,
) -> None:
    """Show what price-monitor reads from a product page, before you add an order.

    TARGET is a URL or a saved HTML/JSON file; give several to probe them all. For each, it
    lists every extraction strategy's candidates and the verdict (price, not_found or
    unknown, with the reason), the variants a shop's API lists (sku, price, name: put yours
    in the order's `sku`), and when no price is found, elements that look like prices with a
    CSS selector you can put in the order's `selector`.

    With --order, the page is read as that order's checks read it, and a price-protection
    label it shows (JD's "15天价保") becomes the order's window when the order sets no
    window_days of its own: save the item page from your browser and probe the file.

    With --fetch browser, the page is rendered in Chromium first, as for a shop or an
    order with fetch = "browser" (needs `pip install 'price-monitor[browser]'`).

    Exits 1 when a target could not be read at all (a network error, an HTTP error or a
    missing file), after reporting every target.
    """
    from monitor.extract import Request
    from monitor.models import FetchMode
    from monitor.probe import render_probe

    order: Order | None = None
    shops: Mapping[str, Shop]
    settings: MonitorSettings | None
    mode = FetchMode(fetch) if fetch else None
    if order_id is not None:
        config = load(ctx)
        order = order_named(config, order_id)
        shops, settings = config.shops, config.monitor
        shop_name = shop_name or order.shop
        mode = mode or order.fetch
        sku, selector = sku or order.sku, selector or order.selector
        currency = currency or order.currency
        targets = targets or (order.url,)
    else:
        shops, settings = _shops_for_probe(ctx)
    if not targets:
        raise click.UsageError("give a TARGET (a URL or a saved page), or --order ORDER")
    if shop_name is not None and shop_name not in shops:
        raise click.BadParameter(
            f"unknown shop {shop_name!r}; known: {', '.join(sorted(shops))}", param_hint="--shop"
        )
    if currency is not None and not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise click.BadParameter(
            "expected a 3-letter ISO code such as CNY", param_hint="--currency"
        )
    request = Request(
        sku=sku,
        selector=selector,
        currency=currency.upper() if currency else None,
        product_url=order.url if order is not None else "",
    )
    results = asyncio.run(_probe_all(targets, shops, shop_name, request, settings, mode))
    window = None
    if order is not None:
        seen = [r.window_days for r in results if r.window_days is not None]
        window = _order_window(config, order, max(seen)) if seen else None
    for result in results:
        if as_json:
            shown = result.as_json()
            if order is not None:
                shown |= {"order": order.id, "order_window": window.as_json() if window else None}
            click.echo(json.dumps(shown, ensure_ascii=False))
        else:
            click.echo(render_probe(result))
    if order is not None and not as_json:
        if window is not None:
            click.echo(f"  order     {window.text}")
        elif shops[order.shop].window_label is not None:
            click.echo(
                f"  order     no price-protection label seen: {order.id}'s window is as it was"
            )
    unread = [r.target for r in results if not r.read]
    if unread:  # after reporting every target: a script learns that one was not read
        raise MonitorError(
            f"{len(unread)} of {len(results)} target{'s' * (len(results) != 1)} could not be "
            f"read: {', '.join(unread)}"
        )


@dataclass(frozen=True, slots=True)
class _OrderWindow:
    """What a label seen by ``probe --order`` did to the order's window."""

    order: Order  # with the window it has now
    seen: int  # the days the page advertises
    text: str

    def as_json(self) -> dict[str, object]:
        return {"days": self.order.window_days, "source": self.order.window_source.value}


def _order_window(config: Config, order: Order, seen: int) -> _OrderWindow:
    """Remember a label the order's page showed as its window, when it sets none itself."""
    from monitor.clock import utcnow
    from monitor.history import History
    from monitor.models import WindowSource
    from monitor.reports import protection

    if order.window_source is WindowSource.ORDER:
        text = (
            f"{order.id} sets its own window_days ({order.window_days}): the page's "
            f"{seen}-day label is not used"
        )
        return _OrderWindow(order, seen, text)
    history = History.open(config.database)
    try:
        now = utcnow()
        product_id = history.sync_orders(config.orders, now=now)[order.id]
        (labelled,) = history.labels.learn(product_id, [order], seen, at=now)
    finally:
        history.close()
    if labelled.window_days > seen:  # a longer label was seen before, and is kept
        text = f"{order.id}'s window stays {protection(labelled)}: a label never shortens it"
    else:
        text = f"{order.id}'s window is {protection(labelled)} from now on"
    return _OrderWindow(labelled, seen, text)


def _shops_for_probe(ctx: click.Context) -> tuple[Mapping[str, Shop], MonitorSettings | None]:
    """The shops to read with, and the config's [monitor] settings (None: the defaults).
    probe is for before the first order: without a config file, the built-in shops serve."""
    explicit = ctx.find_root().obj["config_path"] is not None
    if explicit or config_path(ctx).exists():
        config = load(ctx)
        return config.shops, config.monitor
    from monitor.shops import catalogue

    return catalogue(), None


async def _probe_all(
    targets: Sequence[str],
    shops: Mapping[str, Shop],
    shop_name: str | None,
    request: Request,
    settings: MonitorSettings | None,
    fetch: FetchMode | None,
) -> list[ProbeResult]:
    from monitor.config import MonitorSettings
    from monitor.fetch import Fetcher
    from monitor.probe import pick_shop
    from monitor.probe import probe as run_probe
    from monitor.reader import PageReader

    settings = settings or MonitorSettings()
    reader = PageReader(workers=1, time_limit=settings.read_limit)
    # The config's Chromium; otherwise the fetcher's defaults, as probe always had.
    async with Fetcher(MonitorSettings(chromium=settings.chromium)) as fetcher, reader:
        return [
            await run_probe(
                t,
                shop=pick_shop(t, shops, shop_name),
                request=request,
                fetcher=fetcher,
                reader=reader,
                fetch=fetch,
            )
            for t in targets
        ]
