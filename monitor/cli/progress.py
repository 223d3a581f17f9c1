"""What ``price-monitor check`` shows while it runs: never a silence.

A line per product as soon as it is checked, in the order the checks finish; on a terminal
a progress bar under them (rich, imported only then), elsewhere (a pipe, cron's mail, a
log) the lines alone. A drop waiting to be confirmed says so ("confirming … in 2m") and,
on a terminal, the wait counts down.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

if TYPE_CHECKING:
    from monitor.check import CheckResult

TICK = 0.25  # seconds between two redraws of the countdown


class CheckOutput:
    """The lines and the progress bar of one ``check``; use as a context manager around the
    checks, and give it each result (``checked``) as it comes."""

    def __init__(
        self,
        total: int,
        *,
        zone: ZoneInfo,
        clock: Callable[[], datetime],
        terminal: bool | None = None,
    ) -> None:
        self.total = total
        self.zone = zone
        self.clock = clock
        self.terminal = sys.stdout.isatty() if terminal is None else terminal
        self._bar: Any = None  # a rich Progress, on a terminal
        self._task: Any = None
        self._done = 0

    def __enter__(self) -> CheckOutput:
        if self.terminal and self.total:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self._counted(), total=self.total)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def say(self, line: str) -> None:
        """Print a line: above the progress bar while there is one."""
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(line)

    def checked(self, result: CheckResult) -> None:
        """Print a product's line the moment its check is recorded."""
        from monitor.messages import format_money
        from monitor.models import Status

        observation = result.observation
        if observation.status is Status.PRICE and observation.price is not None:
            line = f"{format_money(observation.price)} ({observation.extraction.strategy})"
        else:
            line = f"{observation.status.value}: {observation.reason}"
        was = result.settled
        if was is not None:
            verdict = "confirmed" if observation.price == was.price else "not confirmed: no alert"
            line += f", the drop to {format_money(was.price)} is {verdict}"
        if result.new_alerts:
            line += f", {result.new_alerts} new alert{'s' * (result.new_alerts != 1)}"
        self.say(f"{result.product.label}: {line}")
        if self._bar is not None and self._done < self.total:
            self._done += 1
            self._bar.update(self._task, advance=1, description=self._counted())

    async def confirming(self, waiting: Sequence[CheckResult]) -> None:
        """Say which drops wait to be confirmed and when, then wait until the last is due
        (counting down on a terminal); the caller then looks at them again."""
        from monitor.messages import format_duration, format_money

        drops = [(r.product.label, r.waiting) for r in waiting if r.waiting is not None]
        now = self.clock()
        for label, drop in drops:
            due_in = format_duration(drop.due - now)
            self.say(f"confirming {label} at {format_money(drop.price)} in {due_in}")
        if not drops:
            return
        until = max(drop.due for _, drop in drops)
        self.total += len(drops)  # the confirming looks, on the same bar
        countdown = None
        wait = (until - now).total_seconds()
        if self._bar is not None:
            self._bar.update(self._task, total=self.total, description=self._counted())
            if wait > 0:
                countdown = self._bar.add_task("", total=wait)
        while (left := until - self.clock()).total_seconds() > 0:
            if countdown is not None:
                number = f"{len(drops)} drop{'s' * (len(drops) != 1)}"
                self._bar.update(
                    countdown,
                    completed=wait - left.total_seconds(),
                    description=f"confirming {number} in {format_duration(left)}",
                )
            await asyncio.sleep(min(TICK, left.total_seconds()))
        if countdown is not None:
            self._bar.remove_task(countdown)

    def left_waiting(self, result: CheckResult, *, dry_run: bool = False) -> None:
        """Say that a drop was recorded to be confirmed by a later run (``--no-wait``), or,
        in a dry run, that it would be."""
        from monitor.messages import format_money

        drop = result.waiting
        if drop is None:
            return
        due, price = drop.due.astimezone(self.zone), format_money(drop.price)
        if dry_run:
            self.say(
                f"{result.product.label}: a drop to {price}: a check would alert it if the "
                f"price holds at {due:%H:%M:%S}"
            )
            return
        self.say(
            f"{result.product.label}: the drop to {price} is recorded; the next run (check or "
            f"the daemon) from {due:%H:%M:%S} looks again and confirms it"
        )

    def _counted(self) -> str:
        return f"checked {self._done} of {self.total}"
