"""The command line: parse arguments, load the config, call the library, map errors to exits.

This package is the only place that turns errors into messages and exit codes: 2 for a bad
config or bad usage, 1 for anything else that went wrong, 0 otherwise. Each command lives in
a module of its own and is imported only when it runs (or when ``--help`` lists it); the
libraries a command needs (Apprise, httpx, APScheduler, the HTML parser) are imported inside
it, so ``price-monitor --help`` and ``status`` start fast.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

import click

from monitor import __version__
from monitor.cli.common import with_config_option
from monitor.errors import ConfigError, MonitorError
from monitor.logs import setup_logging

logger = logging.getLogger("monitor")

# Every command, by name: the module and function that implement it.
COMMANDS = {
    "run": "monitor.cli.run:run",
    "check": "monitor.cli.run:check",
    "status": "monitor.cli.orders:status",
    "history": "monitor.cli.history:history",
    "add": "monitor.cli.edit:add",
    "remove": "monitor.cli.edit:remove",
    "import": "monitor.cli.edit:import_orders",
    "export": "monitor.cli.export:export",
    "claim": "monitor.cli.orders:claim",
    "refunded": "monitor.cli.orders:refunded",
    "rejected": "monitor.cli.orders:rejected",
    "savings": "monitor.cli.orders:savings",
    "alerts": "monitor.cli.alerts:alerts",
    "notify-test": "monitor.cli.alerts:notify_test",
    "config": "monitor.cli.config:config_group",
    "probe": "monitor.cli.probe:probe",
    "demo": "monitor.cli.demo:demo",
}


class _Cli(click.Group):
    """The top-level group: loads each command on first use, and is the error boundary."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, name = target.split(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command), target
        return with_config_option(command)  # `price-monitor status -c FILE` too

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(exc.render(), err=True)
            ctx.exit(2)
        except MonitorError as exc:
            click.echo(f"price-monitor: {exc}", err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if _database_locked(exc):  # a read that met a lock: rare in WAL mode
                click.echo(
                    "price-monitor: the database is locked by another process; try again, or "
                    "look for a stuck price-monitor or sqlite3 process",
                    err=True,
                )
                ctx.exit(1)
            if ctx.find_root().params.get("verbose"):
                raise
            click.echo(
                f"price-monitor: unexpected {type(exc).__name__}: {exc}\n"
                "Rerun with -v for the traceback, and please report it.",
                err=True,
            )
            ctx.exit(1)


def _database_locked(exc: Exception) -> bool:
    import sqlite3

    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="PRICE_MONITOR_CONFIG",
    help="Config file. Default: $PRICE_MONITOR_CONFIG, else "
    "$CONFIGURATION_DIRECTORY/config.toml under systemd, else ~/.config/price-monitor/config.toml.",
)
@click.option("-v", "--verbose", count=True, help="Log more: -v for debug output.")
@click.version_option(__version__, prog_name="price-monitor")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: int) -> None:
    """Watch the prices of things you already bought while the shop's price-protection
    window (退差价 / 价保 / price adjustment) is open, and get an alert with a support
    request ready to paste when you are owed money.

    Start with `price-monitor demo`, then run `price-monitor config init` to write a
    commented example config, add your orders (`price-monitor add URL ...`), and run
    `price-monitor config check`.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    setup_logging(verbose)


def main() -> None:
    """The console-script entry point."""
    cli(prog_name="price-monitor")


__all__ = ["COMMANDS", "cli", "main"]
