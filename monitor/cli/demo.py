"""``price-monitor demo``: a local shop, a price drop, the real daemon, the alerts printed."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click


@click.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the demo's config and database in this folder instead of a temporary one.",
)
def demo(workdir: Path | None) -> None:
    """Run a self-contained demo: a local shop, a price drop, and the alerts it produces.

    Nothing leaves this machine: the shop listens on 127.0.0.1 and the alerts print here.
    """
    from monitor.demo import run_demo

    echo = click.echo
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        run_demo(workdir, echo=echo)
        echo(f"Files kept in {workdir}; try: price-monitor -c {workdir / 'config.toml'} status")
        return
    with tempfile.TemporaryDirectory(prefix="price-monitor-demo-") as tmp:
        run_demo(Path(tmp), echo=echo)
