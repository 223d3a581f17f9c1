"""``price-monitor history ORDER``: an order's price history, and its chart with ``--plot``."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli.common import (
    complete_order_ids,
    load,
    open_for_reading,
    order_named,
    orders_for_reading,
)
from monitor.errors import MonitorError


@click.command(name="history")
@click.argument("order_id", metavar="ORDER", shell_complete=complete_order_ids)
@click.option(
    "--plot",
    "plot_to",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    metavar="FILE.png",
    help="Also draw the history as a PNG chart (needs pip install 'price-monitor[plot]').",
)
@click.pass_context
def history(ctx: click.Context, order_id: str, plot_to: Path | None) -> None:
    """Show ORDER's price history, one row per run of the same price (first and last seen,
    checks), with a sparkline, the lowest price and when it was seen, and the order's alerts
    (their ids are what `alerts show` takes) and claims.

    With --plot FILE.png, also draw it: the price, the paid price as a line, the window
    shaded, alerts and claims marked.
    """
    from monitor.clock import utcnow
    from monitor.plot import INSTALL, plotting_available
    from monitor.reports import render_history
    from monitor.timeline import read_timeline

    if plot_to is not None and not plotting_available():
        raise MonitorError(f"--plot needs matplotlib, which is not installed: {INSTALL}")
    config = load(ctx, thorough=False)
    order = order_named(config, order_id)
    database = open_for_reading(config)
    try:
        product_id = orders_for_reading(config, database).get(order.id)
        (order,) = database.labels.apply([order])  # with the window a page label gave it
        timeline = read_timeline(database, product_id, [order], config.shop_of(order))
    finally:
        database.close()
    click.echo(render_history(timeline, tz=config.timezone, now=utcnow()))
    if plot_to is None:
        return
    if not timeline.runs:
        raise MonitorError(f"no price of {order.id} recorded yet: nothing to plot")
    from monitor.plot import draw_chart

    png = draw_chart(timeline, tz=config.timezone)
    try:
        plot_to.write_bytes(png)
    except OSError as exc:
        raise MonitorError(f"cannot write the chart to {plot_to}: {exc.strerror}") from exc
    click.echo(f"\nchart: {plot_to}")
