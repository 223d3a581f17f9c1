"""What the commands share: finding and loading the config, naming an order, an amount type."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.history import History
    from monitor.models import Order


def config_path(ctx: click.Context) -> Path:
    """The config file: ``-c``, else $PRICE_MONITOR_CONFIG, systemd's or XDG's default."""
    given: Path | None = ctx.find_root().obj["config_path"]
    if given is not None:
        return given
    from monitor.config.paths import default_config_path

    return default_config_path()


def load(ctx: click.Context, *, thorough: bool = True) -> Config:
    """Load the config and print its warnings.

    ``thorough=False`` is for commands that neither fetch nor send: they skip the checks
    that need the HTML parser and Apprise, and start faster.
    """
    from monitor.config import load_config
    from monitor.logs import log_times_in

    config = load_config(config_path(ctx), thorough=thorough)
    log_times_in(config.timezone)
    for warning in config.warnings:
        click.echo(f"warning: {config.path.name}: {warning}", err=True)
    return config


def open_for_reading(config: Config) -> History:
    """Open the database for a command that only shows what it holds (``status``,
    ``alerts``, ``savings``). On a full disk it says so and reads the database as it is."""
    from monitor.errors import DiskFull
    from monitor.history import History

    try:
        return History.open(config.database)
    except DiskFull as full:
        history = History.open_read_only(config.database)
        _showing_read_only(full)
        return history


def orders_for_reading(config: Config, history: History) -> dict[str, int]:
    """Store the config's orders and return each one's product id, for a command that only
    shows: on a full disk it says so and looks them up instead (``open_for_reading``)."""
    from monitor.clock import utcnow
    from monitor.errors import DiskFull

    try:
        return history.sync_orders(config.orders, now=utcnow())
    except DiskFull as full:
        _showing_read_only(full)
        return history.product_ids_of(config.orders)


def _showing_read_only(full: Exception) -> None:
    click.echo(f"warning: {full}; showing what it holds", err=True)


def order_named(config: Config, order_id: str) -> Order:
    """Return the config's order with this id; a usage error names the known ones."""
    order = config.order(order_id)
    if order is None:
        known = ", ".join(o.id for o in config.orders) or "none"
        raise click.UsageError(f"unknown order {order_id}; orders in the config: {known}")
    return order


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
