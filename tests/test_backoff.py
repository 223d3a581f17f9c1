"""One backoff for every wait after a failure: doubling, capped, optionally spread."""

from __future__ import annotations

import random
from datetime import timedelta

from monitor.backoff import backoff


def test_the_wait_doubles_from_the_first_up_to_the_longest() -> None:
    waits = [
        backoff(n, first=timedelta(minutes=1), longest=timedelta(hours=6)) for n in range(1, 12)
    ]
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert waits[-1] == timedelta(hours=6)
    assert backoff(0, first=timedelta(seconds=2), longest=timedelta(hours=1)) == timedelta(
        seconds=2
    )
    assert backoff(10**6, first=timedelta(seconds=2), longest=timedelta(days=1)) == timedelta(
        days=1
    )


def test_jitter_spreads_the_wait_around_its_value() -> None:
    rng = random.Random(1)
    first = timedelta(seconds=2)
    waits = [
        backoff(3, first=first, longest=timedelta(minutes=2), jitter=0.5, rng=rng)
        for _ in range(200)
    ]
    assert all(timedelta(seconds=4) <= w <= timedelta(seconds=12) for w in waits)
    assert len(set(waits)) > 100  # spread, not one value
    capped = [
        backoff(9, first=first, longest=timedelta(minutes=2), jitter=0.5, rng=rng)
        for _ in range(200)
    ]
    assert max(capped) == timedelta(minutes=2)  # the jitter never takes it past the cap
