"""The outbox from the command line: ``alerts`` (list, and ``--retry``) and ``notify-test``."""

from __future__ import annotations

import asyncio

import click

from monitor.cli.common import load, open_for_reading
from monitor.errors import MonitorError

# OutboxStatus's values, spelled out so that --help need not load the models (a test keeps
# them the same).
STATUSES = ("pending", "sending", "sent", "failed")


@click.command()
@click.option("--retry", is_flag=True, help="Send every pending or given-up alert now.")
@click.option(
    "--status",
    "only",
    type=click.Choice(STATUSES),
    help="List only alerts with this status.",
)
@click.option("-n", "--limit", default=30, show_default=True, help="How many alerts to list.")
@click.pass_context
def alerts(ctx: click.Context, retry: bool, only: str | None, limit: int) -> None:
    """List the alerts in the outbox: pending, sent or failed, with attempts and last error.

    With --retry, first send every alert that has not gone out (pending or given up),
    whatever its retry time, and report what happened.
    """
    from monitor.clock import utcnow
    from monitor.history import History
    from monitor.models import OutboxStatus
    from monitor.redact import redact, url_secrets
    from monitor.reports import render_alerts

    config = load(ctx, thorough=retry)
    history = History.open(config.database) if retry else open_for_reading(config)
    try:
        if retry:
            from monitor.channels import Notifier
            from monitor.delivery import deliver_due

            report = asyncio.run(
                deliver_due(
                    history.outbox, Notifier(config.notify.urls), clock=utcnow, retry_now=True
                )
            )
            click.echo(f"retried: {report.sent} sent, {report.failed} failed")
        entries = history.outbox.entries(status=OutboxStatus(only) if only else None)[:limit]
    finally:
        history.close()
    if not entries:
        click.echo("No alerts" + (f" with status {only}." if only else " yet."))
        return
    # An error stored by an older version may name a webhook with its secret path.
    secrets = {s for target in config.notify.urls for s in url_secrets(target.url)}
    click.echo(redact(render_alerts(entries, tz=config.timezone), secrets))


@click.command(name="notify-test")
@click.pass_context
def notify_test(ctx: click.Context) -> None:
    """Send a test message to every notification URL and report each result.

    Exits 1 if any target failed, so it can guard a deployment.
    """
    from monitor.channels import Notifier
    from monitor.messages import notify_test_message

    config = load(ctx)
    notifier = Notifier(config.notify.urls)
    if not len(notifier):
        raise MonitorError("no notification URL configured ([notify] urls)")
    title, body = notify_test_message()

    async def send_all() -> list[tuple[str, bool, str]]:
        out = []
        for recipient in notifier.recipients(everyone=True):
            result = await notifier.send(recipient, title, body, markdown=body)
            out.append((recipient.name, result.ok, result.error))
        return out

    failures = 0
    for name, ok, error in asyncio.run(send_all()):
        click.echo(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else f'  ({error})'}")
        failures += not ok
    if failures:
        ctx.exit(1)
