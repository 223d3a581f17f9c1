"""What the commands share: finding and loading the config (``-c`` before the command or
after it), naming an order and completing its id, an amount type."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.history import History
    from monitor.models import Order


_CONFIG_AFTER = "monitor.config_after"  # ctx.meta: the -c given after the command


def config_path(ctx: click.Context) -> Path:
    """The config file: ``-c`` (before the command or after it), else $PRICE_MONITOR_CONFIG,
    systemd's or XDG's default."""
    after: Path | None = ctx.meta.get(_CONFIG_AFTER)
    # The group's parameters rather than its ``obj``: completion parses the command line
    # without running the group.
    given: Path | None = after or ctx.find_root().params.get("config_path")
    if given is not None:
        return given
    from monitor.config.paths import default_config_path

    return default_config_path()


def with_config_option(command: click.Command) -> click.Command:
    """Accept ``-c/--config FILE`` after the command too (``price-monitor status -c FILE``),
    on ``command`` and, for a group, on each of its commands. Return ``command``."""
    if not any(p.name == "config_after" for p in command.params):
        command.params.append(
            click.Option(
                ["-c", "--config", "config_after"],
                type=click.Path(dir_okay=False, path_type=Path),
                expose_value=False,
                callback=_config_after,
                help="Config file (the same as -c before the command).",
            )
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_config_option(sub)
    return command


def _config_after(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    """Take a ``-c`` given after the command; one that differs from a ``-c`` given before
    it is refused (which was meant?), one that differs from $PRICE_MONITOR_CONFIG wins."""
    if value is None:
        return
    root = ctx.find_root()
    before = ctx.meta.get(_CONFIG_AFTER)
    if before is None and root.get_parameter_source("config_path") is ParameterSource.COMMANDLINE:
        before = root.params.get("config_path")
    if before is not None and before != value and not ctx.resilient_parsing:
        raise click.BadParameter(
            f"{value} differs from the config file given before it ({before}): give -c once",
            ctx=ctx,
            param=param,
        )
    ctx.meta[_CONFIG_AFTER] = value
    if isinstance(root.obj, dict):  # for a command that reads it there
        root.obj["config_path"] = value


def complete_order_ids(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Shell completion for an ORDER argument or option: the config's order ids that start
    with ``incomplete``, each with its title.

    It runs on every Tab press, so it reads the file's ``[[orders]]`` ids and titles without
    validating it (a config with a problem elsewhere still completes) and prints nothing: a
    missing or unreadable file completes nothing.
    """
    import tomllib

    try:
        raw = tomllib.loads(config_path(ctx).read_text("utf-8"))
    except Exception:  # the shell must never see a traceback
        return []
    orders = raw.get("orders")
    found: dict[str, str] = {}
    for order in orders if isinstance(orders, list) else []:
        order_id = order.get("id") if isinstance(order, dict) else None
        if isinstance(order_id, int) and not isinstance(order_id, bool):
            order_id = str(order_id)
        if not isinstance(order_id, str) or not order_id.strip():
            continue
        title = order.get("title")
        found.setdefault(order_id.strip(), title if isinstance(title, str) else "")
    return [
        CompletionItem(order_id, help=title or None)
        for order_id, title in found.items()
        if order_id.startswith(incomplete)
    ]


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
