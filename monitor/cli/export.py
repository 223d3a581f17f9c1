"""``price-monitor export``: the orders, price history, alerts or claims as CSV or JSON."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli.common import load, open_for_reading

FORMATS = ("csv", "json")
WHAT = ("orders", "history", "alerts", "claims")


@click.command()
@click.option(
    "--format",
    "form",
    type=click.Choice(FORMATS),
    default="csv",
    show_default=True,
    help="CSV with a header row, or a JSON array of objects.",
)
@click.option(
    "--what",
    type=click.Choice(WHAT),
    default="orders",
    show_default=True,
    help="The config's orders, the price history (run by run), the alerts in the outbox, "
    "or the claim steps (claims, refunds, rejections).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (mode 0600 when new) instead of standard output.",
)
@click.pass_context
def export(ctx: click.Context, form: str, what: str, output: Path | None) -> None:
    """Export the orders, price history, alerts or claims, as CSV or JSON.

    Amounts are decimal text ("4599.00", never a float, in JSON too), times ISO 8601 in your
    time zone with its offset. The orders' columns are the config's keys, so `price-monitor
    import` reads an export of them back. Secrets of the notification URLs are masked in the
    alerts, as `price-monitor alerts` masks them. The history and claims of orders taken out
    of the config are exported too.
    """
    from monitor import exports

    config = load(ctx, thorough=False)
    if what == "orders":
        records = exports.order_records(config.orders)
    else:
        history = open_for_reading(config)
        try:
            if what == "history":
                records = exports.history_records(history, tz=config.timezone)
            elif what == "alerts":
                from monitor.redact import url_secrets

                secrets = {s for target in config.notify.urls for s in url_secrets(target.url)}
                entries = history.outbox.entries()
                records = exports.alert_records(entries, tz=config.timezone, secrets=secrets)
            else:
                records = exports.claim_records(history.claims(), tz=config.timezone)
        finally:
            history.close()
    if form == "json":
        text = exports.to_json(records)
    else:
        text = exports.to_csv(records, exports.COLUMNS[what])
    if output is None:
        click.echo(text, nl=False)
        return
    from monitor.config.edit import write_atomically

    write_atomically(output, text)
    count = len(records)
    click.echo(f"wrote {count} record{'s' * (count != 1)} ({what}) to {output}", err=True)
