"""The shop profile: what price-monitor knows about a retailer and its price-protection policy.

One model serves the built-in catalogue (``monitor/shops/catalogue.toml``) and a user's
``[shops.NAME]`` section: both are read by this schema, so a typo in either is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from monitor.models.states import FetchMode, Language, WindowStart
from monitor.models.values import (
    Currency,
    Duration,
    Frozen,
    HttpUrl,
    ItemsPaths,
    JsonPath,
    Regex,
    Selector,
    Template,
    TemplateUrl,
    Text,
    ThresholdValue,
    TimeZoneName,
    WindowDays,
)


class ApiSpec(Frozen):
    """How to read a price from a shop's JSON API instead of its product page.

    ``url`` is a template filled with ``ids``: each id is taken from the order's URL by its
    regex (one group), or is the order's ``sku``. ``items`` is the JSON path to the list of
    goods ("" when the response itself is the list, or a single object), or a list of such
    paths tried in order, the first that leads to any entry winning (one shop answers in
    two shapes); ``[]`` in a path steps into every element of a list, so
    ``data.goods_list[].goods_info`` reads the ``goods_info`` of each. ``item_id`` names the
    field that identifies a goods entry and ``match`` is the value it must have for the
    order (a template over the same ids); ``price`` is the path to the price in an entry,
    and ``item_name`` to its name (what ``probe`` lists the variants by).

    ``responses`` is for a shop fetched in the browser (``fetch = "browser"``): a regex over
    the URLs of the JSON responses the page loads itself; the first that matches is read by
    this spec instead of the rendered page. Such a shop needs no ``url``.
    """

    url: TemplateUrl | None = None
    responses: Regex | None = None
    ids: dict[str, Regex] = Field(default_factory=dict)
    items: ItemsPaths = ("",)
    item_id: JsonPath | None = None
    item_name: JsonPath | None = None
    match: Template = "{sku}"
    price: JsonPath = "price"
    headers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _url_or_responses(self) -> ApiSpec:
        if self.url is None and self.responses is None:
            raise PydanticCustomError(
                "api_source",
                'needs a "url" to fetch, or "responses" to read in a browser shop\'s page',
            )
        return self


class ScriptJson(Frozen):
    """A price inside JSON embedded in the page, e.g. ``script#__NEXT_DATA__``."""

    selector: Selector
    path: Text
    currency_path: Text | None = None


class Shop(Frozen):
    """A retailer profile. ``key`` is the name of its table; every other field may be set there.

    ``policy_uncertain`` marks values we could not confirm: alerts then tell the user to
    check the shop's current policy before relying on the window or the claim channel.
    """

    # The table's name, [shops.KEY]: given as "@key" (see ``named``), so that a ``key`` written
    # in the table is an unknown key like any other typo.
    key: Text = Field(validation_alias="@key", exclude=True)
    name: Text
    domains: tuple[Text, ...] = ()
    currency: Currency | None = None
    language: Language = Language.EN
    timezone: TimeZoneName = "UTC"
    window_days: WindowDays | None = None
    window_starts: WindowStart = WindowStart.ORDER
    min_interval: Duration = timedelta(minutes=30)
    interval: Duration | None = None  # how often to check this shop's orders by default
    threshold: ThresholdValue | None = None  # the shop's default smallest drop worth an alert
    claim: str = ""  # where and how to ask for the difference
    refund_path: str = ""  # where the difference goes back to
    exclusions: tuple[Text, ...] = ()
    selector: Selector | None = None
    api: ApiSpec | None = None
    script_json: tuple[ScriptJson, ...] = ()
    regex: Regex | None = None
    window_label: Regex | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    cookies_file: Text | None = None
    proxy: Text | None = None
    fetch: FetchMode = FetchMode.HTTP
    policy_url: HttpUrl | None = None
    policy_uncertain: bool = True

    @classmethod
    def named(cls, key: str, fields: Mapping[str, Any], *, context: object = None) -> Shop:
        """Given a table's name and its fields, return the shop profile. Raise ValidationError
        naming every field that is wrong."""
        return cls.model_validate({**fields, "@key": key}, context=context)

    def fields(self) -> dict[str, Any]:
        """Return every field but the key, as values the schema reads again: a user's section
        is merged over them."""
        return {name: getattr(self, name) for name in type(self).model_fields if name != "key"}

    def matches_host(self, host: str) -> bool:
        """Return True when ``host`` is one of the shop's domains or a subdomain of one."""
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.domains)


@dataclass(frozen=True, slots=True)
class Source:
    """What to fetch for a product: the shop's JSON API or the product page, and how.

    ``domains`` are where a redirect may lead: a host that is one of them or a subdomain of
    one. Empty means the URL's own site (``site_domains``).
    """

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    cookies_file: str | None = None
    proxy: str | None = None
    domains: tuple[str, ...] = ()
    fetch: FetchMode = FetchMode.HTTP
    wait_for: str | None = None  # browser: the CSS selector whose element shows the price
    responses: str | None = None  # browser: the regex of the JSON responses to read instead

    @property
    def site(self) -> tuple[str, ...]:
        """Where a redirect may lead: the domains, or the URL's own site."""
        return self.domains or Source.site_domains(self.url)

    @staticmethod
    def site_domains(url: str) -> tuple[str, ...]:
        """Return the domains of a URL's site, for a shop that lists none: its host, and the
        parent without a leading ``www.`` or ``m.`` (``www.shop.example`` → ``shop.example``),
        each with its subdomains. Empty for a URL without a host."""
        try:
            host = (urlsplit(url).hostname or "").rstrip(".")
        except ValueError:
            return ()
        if not host:
            return ()
        parent = host.removeprefix("www.") if host.startswith("www.") else host.removeprefix("m.")
        return (host, parent) if parent != host and "." in parent else (host,)

    @staticmethod
    def host_in(host: str, domains: tuple[str, ...]) -> bool:
        """Return True when ``host`` is one of ``domains`` or a subdomain of one."""
        host = host.lower().rstrip(".")
        wanted = (d.lower().rstrip(".") for d in domains)
        return bool(host) and any(host == d or host.endswith("." + d) for d in wanted if d)
