"""The price-protection window: when it opens and closes for an order at its shop.

Pure date arithmetic in the shop's time zone; ``now`` is always passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.models.order import Order
from monitor.models.shop import Shop
from monitor.models.states import WindowStart


@dataclass(frozen=True, slots=True)
class Window:
    """The price-protection window: open from ``start`` until just before ``deadline``."""

    start: datetime
    deadline: datetime
    starts_on: WindowStart  # the event the shop counts from
    estimated: bool = False  # counted from the order date because the delivery date is unknown

    def is_open(self, now: datetime) -> bool:
        return self.start <= now < self.deadline

    def time_left(self, now: datetime) -> timedelta:
        return max(self.deadline - now, timedelta(0))


def window_for(order: Order, shop: Shop) -> Window:
    """Given an order and its shop, return its price-protection window.

    The window opens at the start of the order (or delivery) day and closes at the end of
    day ``window_days`` later, in the shop's time zone. A shop that counts from delivery,
    for an order without a delivery date, gets a window counted from the order date,
    marked ``estimated`` (it closes no later than the real one).
    """
    tz = ZoneInfo(shop.timezone)
    estimated = False
    first_day = order.ordered
    if shop.window_starts is WindowStart.DELIVERY:
        if order.delivered is not None:
            first_day = order.delivered
        else:
            estimated = True
    start = datetime.combine(first_day, time.min, tzinfo=tz)
    deadline = datetime.combine(
        first_day + timedelta(days=order.window_days + 1), time.min, tzinfo=tz
    )
    return Window(start=start, deadline=deadline, starts_on=shop.window_starts, estimated=estimated)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily span (in the user's time zone) when only urgent alerts are sent."""

    start: time
    end: time
    tz: ZoneInfo

    def __contains__(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # spans midnight, e.g. 22:00-07:30
