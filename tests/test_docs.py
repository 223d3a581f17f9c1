"""Keep the docs honest: every command has help and is in the README; CI runs the README's command."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import click
import pytest

import monitor.cli
from monitor.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command | None]]:
    """Every command under ``group``, as `price-monitor --help` finds them: the top-level
    group loads its commands lazily, so ask it (``group.commands`` stays empty). A name
    that does not load is kept with None, for the test to fail on."""
    ctx = click.Context(group, info_name=prefix.strip() or "price-monitor")
    found: list[tuple[str, click.Command | None]] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        full = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found += commands(command, full + " ")
        else:
            found.append((full, command))
    return found


def every_command_object(group: click.Group) -> list[click.Command]:
    """The groups and commands reachable from ``group``."""
    ctx = click.Context(group)
    found: list[click.Command] = [group]
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            found += every_command_object(command)
        elif command is not None:
            found.append(command)
    return found


@pytest.mark.parametrize(
    ("name", "command"), commands(cli), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_command_has_help_and_is_in_the_readme(
    name: str, command: click.Command | None
) -> None:
    assert command is not None, f"{name} is listed in monitor.cli.COMMANDS but does not load"
    assert command.name == name.split()[-1], f"{name} loads the command {command.name!r}"
    assert command.help and len(command.help) > 40, f"{name} needs a real --help text"
    assert f"`price-monitor {name}" in README, f"{name} is missing from the README"


def test_the_commands_above_are_all_of_them() -> None:
    """The parametrized test must not pass by finding no command: every click command
    defined in monitor/cli/ is reachable from the group, and the group lists them all."""
    names = [name for name, _ in commands(cli)]
    assert len(names) == len(set(names)) >= len(monitor.cli.COMMANDS)
    reachable = {id(c) for c in every_command_object(cli)}
    defined = []
    for module in pkgutil.iter_modules(monitor.cli.__path__, "monitor.cli."):
        loaded = importlib.import_module(module.name)
        defined += [
            (module.name, attr, value)
            for attr, value in vars(loaded).items()
            if isinstance(value, click.Command)
        ]
    assert defined
    unreachable = [f"{m}:{a}" for m, a, c in defined if id(c) not in reachable]
    assert not unreachable, f"commands not in monitor.cli.COMMANDS: {unreachable}"


def test_ci_runs_the_readmes_test_command_exactly() -> None:
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    blocks = [b.split("```", 1)[0].strip() for b in README.split("```sh\n")[1:]]
    install_and_demo, install_and_test = blocks[0], blocks[1]
    assert install_and_demo.endswith("price-monitor demo")
    assert install_and_test in ci.splitlines()


def test_the_changelog_has_an_unreleased_section() -> None:
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text("utf-8")
