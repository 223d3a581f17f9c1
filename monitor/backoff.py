"""One backoff for everything that waits after a failure: fetch retries, outbox retries, and
the scheduler's slower polling of a product that keeps failing."""

from __future__ import annotations

import random
from datetime import timedelta

_MOST_DOUBLINGS = 16  # 2**16 times the first wait is past every cap in use


def backoff(
    failures: int,
    *,
    first: timedelta,
    longest: timedelta,
    jitter: float = 0.0,
    rng: random.Random | None = None,
) -> timedelta:
    """Given how many tries failed in a row (1 or more), return the wait before the next.

    The wait is ``first`` after one failure and doubles with each further one, never more
    than ``longest``. With ``jitter`` (0.5 for ±50 %) it is spread at random, so that many
    clients that failed together do not all come back at the same moment.
    """
    wait = first * (1 << min(max(failures - 1, 0), _MOST_DOUBLINGS))
    if jitter:
        spread = rng.uniform if rng is not None else random.uniform
        wait *= spread(1 - jitter, 1 + jitter)
    return min(wait, longest)
