"""The shop profile: what price-monitor knows about a retailer's price-protection policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from monitor.models import Threshold

WindowStart = Literal["order", "delivery"]
Language = Literal["zh", "en"]


@dataclass(frozen=True, slots=True)
class ApiSpec:
    """How to read a price from a shop's JSON API instead of its product page.

    ``url`` is a template filled with ``ids``: each id is taken from the order's URL by its
    regex (one group), or is the order's ``sku``. ``items`` is the JSON path to the list of
    goods ("" when the response itself is the list, or a single object); ``item_id`` names
    the field that identifies a goods entry and ``match`` is the value it must have for the
    order (a template over the same ids); ``price`` is the path to the price in an entry.
    """

    url: str
    ids: Mapping[str, str] = field(default_factory=dict)
    items: str = ""
    item_id: str | None = None
    match: str = "{sku}"
    price: str = "price"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ScriptJson:
    """A price inside JSON embedded in the page, e.g. ``script#__NEXT_DATA__``."""

    selector: str
    path: str
    currency_path: str | None = None


@dataclass(frozen=True, slots=True)
class Shop:
    """A retailer profile. Built-in ones live in ``catalogue.py``; ``[shops.NAME]`` overrides.

    ``policy_uncertain`` marks values we could not confirm: alerts then tell the user to
    check the shop's current policy before relying on the window or the claim channel.
    """

    key: str
    name: str
    domains: tuple[str, ...] = ()
    currency: str | None = None
    language: Language = "en"
    timezone: str = "UTC"
    window_days: int | None = None
    window_starts: WindowStart = "order"
    min_interval: timedelta = timedelta(minutes=30)
    interval: timedelta | None = None  # how often to check this shop's orders by default
    threshold: Threshold | None = None  # the shop's default smallest drop worth an alert
    claim: str = ""
    refund_path: str = ""
    exclusions: tuple[str, ...] = ()
    selector: str | None = None
    api: ApiSpec | None = None
    script_json: tuple[ScriptJson, ...] = ()
    regex: str | None = None
    window_label: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    cookies_file: str | None = None
    proxy: str | None = None
    policy_url: str | None = None
    policy_uncertain: bool = True

    def matches_host(self, host: str) -> bool:
        """Return True when ``host`` is one of the shop's domains or a subdomain of one."""
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.domains)
