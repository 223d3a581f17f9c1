"""The outbox from the command line: ``alerts`` (list, and ``--retry``), ``alerts show ID``
and ``notify-test``.

``alerts`` is a group that runs without a subcommand, so ``alerts``, ``alerts --retry`` and
``alerts --status S`` list the outbox as they always did, and ``alerts show ID`` is one more
command under it.
"""

from __future__ import annotations

import asyncio

import click

from monitor.cli.common import load, open_for_reading
from monitor.errors import MonitorError

# OutboxStatus's values, spelled out so that --help need not load the models (a test keeps
# them the same).
STATUSES = ("pending", "sending", "sent", "failed")


@click.group(invoke_without_command=True, subcommand_metavar="[show ID]")
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
    whatever its retry time, and report what happened. `alerts show ID` prints one alert's
    whole text again: the support request to paste.
    """
    if ctx.invoked_subcommand is not None:
        if retry or only:
            raise click.UsageError("--retry and --status are for the list, not for `show`")
        return
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


@alerts.command(name="show")
@click.argument("alert_id", metavar="ID", type=click.IntRange(min=1))
@click.option(
    "--markdown",
    is_flag=True,
    help="Print the Markdown text Telegram and the like were sent, not the plain one.",
)
@click.pass_context
def show(ctx: click.Context, alert_id: int, markdown: bool) -> None:
    """Print alert ID's title and text exactly as they were sent (the support request to
    paste into the shop's chat); the ids are in `price-monitor alerts` and `history`.

    Only the text goes to standard output, so it can be piped to the clipboard; what the
    alert is and how its delivery went goes to standard error.
    """
    from monitor.redact import redact, url_secrets

    config = load(ctx, thorough=False)
    history = open_for_reading(config)
    try:
        entry = history.outbox.entry(alert_id)
    finally:
        history.close()
    if entry is None:
        raise click.UsageError(f"no alert {alert_id}; `price-monitor alerts` lists them")
    message = entry.message
    tz = config.timezone
    when = entry.sent_at or entry.created_at
    state = "sent" if entry.sent_at else f"{entry.status.value}, created"
    about = f", order {message.order_id}" if message.order_id else ""
    click.echo(
        f"alert {entry.id}: {message.kind.value}{about}; {state} {when.astimezone(tz):%Y-%m-%d %H:%M}",
        err=True,
    )
    secrets = {s for target in config.notify.urls for s in url_secrets(target.url)}
    body = message.markdown if markdown and message.markdown is not None else message.body
    text = redact(f"{message.title}\n\n{body}", secrets)
    click.echo(text, nl=not text.endswith("\n"))


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
