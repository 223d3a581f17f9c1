"""Deliver what the outbox holds: target by target, each outcome recorded, failures retried.

A target that received an alert is recorded, so a retry goes only to the targets that missed
it, and an alert is marked sent once every target has it. A failed send waits 1 min, 2, 4, …
up to 6 h (across restarts: the wait is in the database), and after about a week it is
given up (``alerts --retry`` tries again). In quiet hours only urgent kinds go out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.backoff import backoff
from monitor.channels import Notifier
from monitor.history import Outbox, OutboxEntry
from monitor.models import URGENT_KINDS, QuietHours

logger = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
GIVE_UP_AFTER = 40  # failed sends; about a week at the longest retry interval


def retry_delay(attempts: int) -> timedelta:
    """Given how many sends have failed, return the wait before the next one (doubling)."""
    return backoff(attempts, first=FIRST_RETRY, longest=LONGEST_RETRY)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    held: int = 0  # waiting for the end of quiet hours


async def deliver_due(
    outbox: Outbox,
    notifier: Notifier,
    *,
    clock: Callable[[], datetime],
    quiet: QuietHours | None = None,
    retry_now: bool = False,
) -> DeliveryReport:
    """Send the due alerts in the outbox, target by target; record each outcome.

    With ``retry_now``, pending and given-up alerts are all tried now, whatever their
    retry time. In quiet hours only urgent kinds go out; the rest wait.
    """
    sent = failed = held = 0
    now = clock()
    entries: Iterable[OutboxEntry] = outbox.undelivered() if retry_now else outbox.all_due(now)
    for entry in entries:
        message = entry.message
        if quiet is not None and now in quiet and message.kind not in URGENT_KINDS:
            held += 1
            continue
        recipients = [r for r in notifier.recipients(message.tags) if r.key not in entry.delivered]
        errors: list[str] = []
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
                outbox.mark_delivered(entry.id, recipient.key)
            else:
                errors.append(f"{recipient.name}: {result.error}")
        if not errors:
            outbox.mark_sent(entry.id, clock())
            sent += 1
            logger.info("alert %s sent: %s", entry.id, message.title)
            continue
        attempts = entry.attempts + 1
        retry_at = clock() + retry_delay(attempts)
        give_up = attempts >= GIVE_UP_AFTER
        outbox.mark_failed(
            entry.id, error="; ".join(errors)[:500], retry_at=retry_at, give_up=give_up
        )
        failed += 1
        logger.warning(
            "alert %s not sent (%s); %s",
            entry.id,
            "; ".join(errors)[:200],
            "giving up: `price-monitor alerts --retry` tries again"
            if give_up
            else f"retrying at {retry_at:%H:%M:%S}",
        )
    return DeliveryReport(sent=sent, failed=failed, held=held)
