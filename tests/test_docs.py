"""Keep the docs honest: every command has help and is in the README; CI runs the README's command."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from monitor.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found += commands(command, full + " ")
        else:
            found.append((full, command))
    return found


@pytest.mark.parametrize(
    ("name", "command"), commands(cli), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_command_has_help_and_is_in_the_readme(name: str, command: click.Command) -> None:
    assert command.help and len(command.help) > 40, f"{name} needs a real --help text"
    assert f"`price-monitor {name}" in README, f"{name} is missing from the README"


def test_ci_runs_the_readmes_test_command_exactly() -> None:
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    blocks = [b.split("```", 1)[0].strip() for b in README.split("```sh\n")[1:]]
    install_and_demo, install_and_test = blocks[0], blocks[1]
    assert install_and_demo.endswith("price-monitor demo")
    assert install_and_test in ci.splitlines()


def test_the_changelog_has_an_unreleased_section() -> None:
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text("utf-8")
