"""``price-monitor config``: work with the config file."""

from __future__ import annotations

import click

from monitor.cli.common import load


@click.group(name="config")
def config_group() -> None:
    """Work with the config file."""


@config_group.command(name="check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the config and print every problem with its TOML path (exit 2 if any)."""
    from monitor import rules
    from monitor.channels import Notifier
    from monitor.clock import utcnow

    config = load(ctx)
    now = utcnow()
    watched = sum(1 for o in config.orders if rules.is_watched(o, config.shop_of(o), now))
    targets = Notifier(config.notify.urls).describe()
    click.echo(
        f"{config.path}: OK, {len(config.orders)} order{'s' * (len(config.orders) != 1)} "
        f"({watched} watched: their windows have not closed)"
    )
    click.echo(f"database: {config.database}")
    click.echo(f"notify: {', '.join(targets) if targets else 'nobody (no [notify] urls)'}")
