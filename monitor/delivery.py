"""Deliver what the outbox holds: one sender per alert, target by target, each outcome recorded.

A sender leases an alert before it sends it (``Outbox.lease_next``), so the daemon and a
``check`` or ``alerts --retry`` run beside it never both send one. A target that received
an alert is recorded, so a retry goes only to the targets that missed it, and an alert is
marked sent once every target has it. A failed send waits 1 min, 2, 4, … up to 6 h (across
restarts: the wait is in the database), and after about a week it is given up (``alerts
--retry`` tries again). In quiet hours only urgent kinds go out.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from monitor.backoff import backoff
from monitor.channels import Notifier
from monitor.errors import StateError
from monitor.history import Outbox
from monitor.models import URGENT_KINDS, AlertKind, QuietHours

logger = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
GIVE_UP_AFTER = 40  # failed sends; about a week at the longest retry interval
# Alerts about the whole config, not about some orders: every target gets them.
FOR_EVERYONE = frozenset({AlertKind.CONFIG_REJECTED, AlertKind.TEST})


async def _write(outbox: Outbox, write: Callable[[], None]) -> None:
    """Write down how a send went. If it cannot be (the disk is full, the database locked
    too long), keep it to write first next time, and stop the round (the StateError)."""
    try:
        await outbox.quick(write)
    except StateError:
        outbox.unwritten.append(write)
        raise


def _minutes(wait: timedelta) -> str:
    """A wait as people say it: "30 s", "5 min" (a log line needs no time zone then)."""
    seconds = int(wait.total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def retry_delay(attempts: int) -> timedelta:
    """Given how many sends have failed, return the wait before the next one (doubling)."""
    return backoff(attempts, first=FIRST_RETRY, longest=LONGEST_RETRY)


def sender_name() -> str:
    """This process, as the owner of the alerts it leases: ``host/pid/start``, its start
    time in clock ticks since boot telling it apart from a later process with its pid."""
    return f"{socket.gethostname()}/{os.getpid()}/{_started(os.getpid()) or ''}"


def sender_alive(owner: str) -> bool:
    """Return False only for a sender known to be gone: a process of this host that has
    ended (its pid is free, or belongs to a process started since). Of another host's
    sender nothing is known; its lease runs out instead."""
    host, pid, started = [*owner.split("/"), "", ""][:3]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: alive, unless it is another one by now
    # pids are reused (32,768 of them, on many machines): the same start time, or none
    # recorded (an older version's lease), is the same process.
    return not started or _started(int(pid)) in (None, started)


def _started(pid: int) -> str | None:
    """When process ``pid`` started, in clock ticks since boot (``/proc/PID/stat``)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    held: int = 0  # waiting for the end of quiet hours
    unreached: int = 0  # of the failed: alerts that no target has received at all


async def deliver_due(
    outbox: Outbox,
    notifier: Notifier,
    *,
    clock: Callable[[], datetime],
    quiet: QuietHours | None = None,
    retry_now: bool = False,
    owner: str | None = None,
) -> DeliveryReport:
    """Send the due alerts in the outbox, one leased at a time, target by target; record each
    outcome.

    With ``retry_now``, pending and given-up alerts are all tried now, whatever their
    retry time. In quiet hours only urgent kinds go out; the rest wait.
    """
    if not len(notifier):
        return DeliveryReport()  # no [notify] urls: alerts are kept, as the config warns
    owner = owner or sender_name()
    # Every outbox call is quick (DatabaseThread.quick): the event loop never waits for a lock.
    # What a full disk (or a lock held too long) kept from being written is written first;
    # until it can be (the StateError is raised meanwhile), nothing is sent. Nor is anything
    # sent while the disk has less than ROOM_TO_WRITE left (DiskFull).
    alive: Callable[[str], bool] = sender_alive
    if outbox.unwritten:
        written = await outbox.quick(outbox.write_unwritten)
        logger.warning("the database can be written again: %d delivery outcomes written", written)
        # The alerts this sender held when the disk filled go back in the queue: their
        # targets that have them are written down, and only the others are sent to.
        alive = lambda other: other != owner and sender_alive(other)  # noqa: E731
    released = await outbox.quick(outbox.release_abandoned, alive=alive)
    if released:
        logger.info("%d alerts whose sender had stopped are queued again", released)
    sent = failed = unreached = 0
    now = clock()
    urgent_only = quiet is not None and now in quiet
    held = 0
    if urgent_only:
        held = await outbox.quick(outbox.count_due, now, kinds=set(AlertKind) - URGENT_KINDS)
    after = 0
    while entry := await outbox.quick(
        outbox.lease_next,
        clock(),  # each lease runs from when it is taken: a long round must not shorten it
        owner=owner,
        after_id=after,
        kinds=URGENT_KINDS if urgent_only else None,
        retry_now=retry_now,
    ):
        after = entry.id
        message = entry.message
        everyone = message.kind in FOR_EVERYONE
        recipients = [
            r
            for r in notifier.recipients(message.tags, everyone=everyone)
            if r.key not in entry.delivered
        ]
        errors: list[str] = []
        reached = bool(entry.delivered)
        if recipients:
            # A disk about to fill: stop before sending what might not be written down.
            await outbox.quick(outbox.check_room)
        if not recipients and not entry.delivered:
            errors.append(notifier.no_recipient_reason(message.tags))
        for recipient in recipients:
            result = await notifier.send(
                recipient,
                message.title,
                message.body,
                markdown=message.markdown,
                attachments=message.attachments,
            )
            if result.ok:
                await _write(
                    outbox, functools.partial(outbox.mark_delivered, entry.id, recipient.key)
                )
                reached = True
            else:
                errors.append(f"{recipient.name}: {result.error}")
        if not errors:
            await _write(outbox, functools.partial(outbox.mark_sent, entry.id, clock()))
            sent += 1
            logger.info("alert %s sent: %s", entry.id, message.title)
            continue
        attempts = entry.attempts + 1
        wait = retry_delay(attempts)
        retry_at = clock() + wait
        give_up = attempts >= GIVE_UP_AFTER
        # Targets are named masked already; the redaction is for whatever else an error quotes,
        # done before the text is cut short (a secret cut in two would not be found).
        error = notifier.redact("; ".join(errors))
        await _write(
            outbox,
            functools.partial(
                outbox.mark_failed,
                entry.id,
                owner=owner,
                error=error[:500],
                retry_at=retry_at,
                give_up=give_up,
            ),
        )
        failed += 1
        unreached += not reached
        logger.warning(
            "alert %s not sent (%s); %s",
            entry.id,
            error[:200],
            "giving up: `price-monitor alerts --retry` tries again"
            if give_up
            else f"retrying in {_minutes(wait)}",
        )
    return DeliveryReport(sent=sent, failed=failed, held=held, unreached=unreached)
