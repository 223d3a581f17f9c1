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
    help="Keep the demo's config and database in this folder instead of a temporary one "
    "(an empty folder, or the demo's own: a run there starts afresh).",
)
def demo(workdir: Path | None) -> None:
    """Run a self-contained demo: a local shop, a price drop, and the alerts it produces.

    Nothing leaves this machine: the shop listens on 127.0.0.1 and the alerts print here.
    With --dir, a folder an earlier demo used is cleared first (its config, database and
    evidence); a folder that holds anything else is refused, and nothing in it is deleted.
    """
    from monitor.demo import NotTheDemos, clear_previous_run, run_demo

    echo = click.echo
    if workdir is not None:
        try:
            cleared = clear_previous_run(workdir)
        except NotTheDemos as exc:
            raise click.BadParameter(str(exc), param_hint="--dir") from None
        if cleared:
            echo(f"Starting afresh: the earlier demo's files in {workdir} are deleted.")
        workdir.mkdir(parents=True, exist_ok=True)
        run_demo(workdir, echo=echo)
        echo(f"Files kept in {workdir}; try: price-monitor -c {workdir / 'config.toml'} status")
        return
    with tempfile.TemporaryDirectory(prefix="price-monitor-demo-") as tmp:
        run_demo(Path(tmp), echo=echo)
