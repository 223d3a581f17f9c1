"""``price-monitor probe``: what would a check read from this page, and why?"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from monitor.cli.common import config_path, load

if TYPE_CHECKING:
    from monitor.extract import Request
    from monitor.models import Shop
    from monitor.probe import ProbeResult


@click.command()
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
    from monitor.extract import Request
    from monitor.probe import render_probe

    shops, read_limit = _shops_for_probe(ctx)
    if shop_name is not None and shop_name not in shops:
        raise click.BadParameter(
            f"unknown shop {shop_name!r}; known: {', '.join(sorted(shops))}", param_hint="--shop"
        )
    if currency is not None and not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise click.BadParameter(
            "expected a 3-letter ISO code such as CNY", param_hint="--currency"
        )
    request = Request(sku=sku, selector=selector, currency=currency.upper() if currency else None)
    results = asyncio.run(_probe_all(targets, shops, shop_name, request, read_limit))
    for result in results:
        if as_json:
            click.echo(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            click.echo(render_probe(result))


def _shops_for_probe(ctx: click.Context) -> tuple[Mapping[str, Shop], timedelta | None]:
    """The shops to read with, and the config's time limit per page (None: the default).
    probe is for before the first order: without a config file, the built-in shops serve."""
    explicit = ctx.find_root().obj["config_path"] is not None
    if explicit or config_path(ctx).exists():
        config = load(ctx)
        return config.shops, config.monitor.read_limit
    from monitor.shops import catalogue

    return catalogue(), None


async def _probe_all(
    targets: Sequence[str],
    shops: Mapping[str, Shop],
    shop_name: str | None,
    request: Request,
    read_limit: timedelta | None,
) -> list[ProbeResult]:
    from monitor.fetch import Fetcher
    from monitor.probe import pick_shop
    from monitor.probe import probe as run_probe
    from monitor.reader import TIME_LIMIT, PageReader

    reader = PageReader(workers=1, time_limit=read_limit or TIME_LIMIT)
    async with Fetcher() as fetcher, reader:
        return [
            await run_probe(
                t,
                shop=pick_shop(t, shops, shop_name),
                request=request,
                fetcher=fetcher,
                reader=reader,
            )
            for t in targets
        ]
