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


@config_group.command(name="init")
@click.pass_context
def config_init(ctx: click.Context) -> None:
    """Write the commented example config to the config path; never over an existing file.

    The file (mode 0600: it will hold notification tokens) documents every key and holds
    example notification URLs and orders: replace them with yours (`price-monitor add` and
    `price-monitor remove` edit the orders), then run `price-monitor config check`.
    """
    import os
    import tomllib

    from monitor.cli.common import config_path
    from monitor.config.edit import example_text
    from monitor.config.paths import default_config_path
    from monitor.errors import MonitorError
    from monitor.private import create_private, private_dir

    path = config_path(ctx)
    if path.exists() or path.is_symlink():
        raise MonitorError(
            f"{path} exists already; it was left as it is (-c NEW_PATH writes another)"
        )
    text = example_text()
    try:
        private_dir(path.parent, ours=path == default_config_path())
        fd = create_private(path)  # fails, rather than overwrite, if it appeared meanwhile
    except FileExistsError:
        raise MonitorError(f"{path} exists already; it was left as it is") from None
    except OSError as exc:
        raise MonitorError(f"cannot write {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    ids = [str(order["id"]) for order in tomllib.loads(text).get("orders", [])]
    click.echo(
        f"wrote {path} (mode 0600): the example's notification URLs and its "
        f"{len(ids)} orders ({', '.join(ids)}) are to be replaced with yours, then run "
        "`price-monitor config check`"
    )
