"""The system clock, read at the edges only: everything inside takes ``now`` or a ``clock``."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
