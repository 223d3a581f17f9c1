"""The config file's schema: frozen pydantic models that are the config the program uses.

``Config`` is the whole file: ``[monitor]``, ``[notify]``, ``[shops.NAME]`` and
``[[orders]]``. Its fields are read in that order, so each may use what came before: the
shops start from the built-in catalogue in the ``[monitor]`` time zone, and each order
takes what it leaves out (currency, window, threshold, interval) from its shop and
``[monitor]``. Every problem carries its place in the file; ``problems.py`` words them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from monitor.config.context import ReadContext, expand_env, read_context, read_path
from monitor.config.paths import default_database_path, system_timezone, zone_in_tz
from monitor.config.problems import again, unknown_name
from monitor.messages.fields import OUTDATED_FIELDS
from monitor.messages.templates import TemplateFolder, TemplateStore, read_folder
from monitor.models import Frozen, Order, QuietHours, Remind, Shop, Threshold, WindowSource
from monitor.models.values import (
    DailySpan,
    Duration,
    Location,
    Pause,
    Text,
    ThresholdValue,
    invalid,
    read_order_id,
    read_timezone,
)
from monitor.shops import catalogue, sections_over_catalogue


def _database(value: object, info: ValidationInfo) -> Path:
    """Read ``[monitor] database``; left out, it is systemd's state dir or XDG's."""
    if value is None:
        return default_database_path(read_context(info).env)
    return read_path(value, info)


def _timezone(value: object, info: ValidationInfo) -> str:
    """Read ``[monitor] timezone``; left out, it is the machine's (``$TZ``, ``/etc/localtime``)."""
    if value is not None:
        return read_timezone(value)
    context = read_context(info)
    zone = system_timezone(context.env)
    tz = context.env.get("TZ")
    if tz and zone_in_tz(tz) is None:
        context.warnings.append(
            f"TZ={tz} names no time zone, so times are shown in {zone}; "
            'set [monitor] timezone, e.g. timezone = "Asia/Shanghai"'
        )
    return zone


class MonitorSettings(Frozen):
    """``[monitor]``: where the state lives, how often and how politely to check, when to alert."""

    database: Annotated[Path, BeforeValidator(_database)] = Field(
        default=None, validate_default=True
    )
    timezone: Annotated[str, BeforeValidator(_timezone)] = Field(
        default=None, validate_default=True
    )
    interval: Duration = timedelta(hours=2)
    threshold: ThresholdValue = Threshold(amount=Decimal(1))
    host_delay: Pause = timedelta(seconds=2)  # between two requests to one shop
    concurrency: Annotated[int, Field(ge=1, le=64)] = 8  # requests in flight at once
    retries: Annotated[int, Field(ge=0, le=10)] = 2  # tries after the first, within one check
    confirm: Pause = timedelta(minutes=2)  # a new drop is read again this much later
    remind_before: Duration = timedelta(hours=24)
    remind: Remind = Remind.UNCLAIMED
    failing_after: Annotated[int, Field(ge=1, le=1000)] = 5  # unknowns in a row
    # How long one page may take to read (parse and extract) before it is given up.
    read_limit: Annotated[Duration, Field(le=timedelta(minutes=10))] = timedelta(seconds=10)
    # Evidence (the page a drop was seen on, its chart) is deleted this long after the
    # window of its order closed, unless its alert has not been sent yet.
    keep_evidence: Duration = timedelta(days=30)
    # The Chromium that shops with fetch = "browser" are rendered in: found on PATH if unset.
    chromium: Path | None = None


def _notify_url(value: object, info: ValidationInfo) -> str:
    """Read a notification URL: ``${NAME}`` from the environment; a scheme Apprise knows."""
    context = read_context(info)
    if isinstance(value, str):
        value = expand_env(value, context.env)
    if isinstance(value, str) and "://" in value:
        if not context.thorough:
            return value
        from monitor import channels  # Apprise loads here, for the commands that send

        if channels.is_valid_url(value):
            return value
    # Never echo the URL itself: it usually holds a token or a password.
    scheme = value.split("://", 1)[0] if isinstance(value, str) and "://" in value else None
    hint = f'scheme "{scheme}://"' if scheme else "value"
    raise PydanticCustomError(
        "apprise_url",
        "not a notification URL Apprise understands ({hint}); see the Apprise wiki for the "
        'format of your service, e.g. "tgram://BOT_TOKEN/CHAT_ID"',
        {"hint": hint},
    )


class NotifyTarget(Frozen):
    """One notification URL; with ``tags`` it only gets the alerts of orders with one of them."""

    url: Annotated[str, BeforeValidator(_notify_url)]
    tags: tuple[Text, ...] = ()


def _target(value: object) -> object:
    # A target is a plain URL string or a table {url = ..., tags = [...]}.
    return {"url": value} if isinstance(value, str) else value


def _templates_folder(value: object, info: ValidationInfo) -> object:
    """Read ``[notify] templates`` and check every template against the fields it may use."""
    if value is None or isinstance(value, TemplateFolder):
        return value
    folder, found = read_folder(read_path(value, info))
    if found:
        raise invalid("templates", [((), problem) for problem in found])
    for (name, language), text in sorted(folder.texts.items()):
        for old in sorted(OUTDATED_FIELDS.keys() & set(re.findall(r"\{(\w+)\}", text))):
            read_context(info).warnings.append(
                f"notify.templates: {name}.{language}.txt uses {{{old}}}: {OUTDATED_FIELDS[old]}"
            )
    return folder


class NotifySettings(Frozen):
    """``[notify]``: where alerts go, when they wait, and the user's own templates."""

    urls: tuple[Annotated[NotifyTarget, BeforeValidator(_target)], ...] = ()
    quiet_hours: DailySpan | None = None
    templates: Annotated[TemplateFolder | None, BeforeValidator(_templates_folder)] = None


# What an order may leave out because its shop (or [monitor]) gives it.
_FROM_THE_SHOP = ("currency", "window_days")


class Config(Frozen):
    """The whole config file, validated, with every order's defaults filled in.

    Read it with ``load_config`` or ``parse_config``: they give the validation its
    ``ReadContext`` (the file's place, the environment). Validated without one, relative
    paths start in the current folder and what looked odd is not kept in ``warnings``.
    """

    monitor: MonitorSettings = Field(default_factory=dict, validate_default=True)
    notify: NotifySettings = Field(default_factory=dict, validate_default=True)
    shops: dict[str, Shop] = Field(default_factory=dict, validate_default=True)
    orders: tuple[Order, ...] = ()

    _path: Path = PrivateAttr(default=Path("config.toml"))
    _warnings: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("shops", mode="before")
    @classmethod
    def _over_the_catalogue(cls, sections: Any, info: ValidationInfo) -> Any:
        if not isinstance(sections, dict):
            return sections
        monitor = info.data.get("monitor")
        timezone = (
            monitor.timezone if monitor is not None else system_timezone(read_context(info).env)
        )
        shops = sections_over_catalogue(sections, timezone=timezone)
        # Noted for the orders: if a section turns out broken, the names still tell a known
        # shop from a typo.
        read_context(info).shop_names.update(shops)
        return shops

    @field_validator("orders", mode="wrap")
    @classmethod
    def _orders_with_their_defaults(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> tuple[Order, ...]:
        """Fill what each order leaves out from its shop and [monitor], then read the orders;
        also report what no single order shows: unknown shops and repeated ids."""
        if not isinstance(value, list):
            return handler(value)  # type: ignore[no-any-return]
        context = read_context(info)
        monitor: MonitorSettings = info.data.get("monitor") or MonitorSettings()
        shops: Mapping[str, Shop] | None = info.data.get("shops")  # None: a section is broken
        names = set(shops) if shops is not None else context.shop_names or set(catalogue())
        found = [*_unknown_shops(value, names), *_repeated_ids(value)]
        own_shops = [_shop_of(raw, shops) for raw in value]
        filled = [
            _with_defaults(raw, shop, monitor) if isinstance(raw, dict) else raw
            for raw, shop in zip(value, own_shops, strict=True)
        ]

        def explained(error: ErrorDetails) -> bool:
            """A currency or window missing from an order whose shop is unknown or broken:
            what that shop would give is not known, and its problem is reported already."""
            loc = error["loc"]
            return (
                error["type"] == "missing"
                and len(loc) == 2
                and loc[1] in _FROM_THE_SHOP
                and own_shops[int(loc[0])] is None
            )

        try:
            orders: tuple[Order, ...] = handler(filled)
        except ValidationError as exc:
            if found or not all(explained(e) for e in exc.errors()):
                raise again(exc, found, keep=lambda e: not explained(e)) from None
            return ()  # only the broken [shops.NAME] is wrong, and it is reported
        if found:
            raise invalid("orders", found)
        if shops is None:
            return orders  # the broken [shops.NAME] refuses the config anyway
        return tuple(
            _no_faster_than_the_shop(order, shops[order.shop], index, context)
            for index, order in enumerate(orders)
        )

    @model_validator(mode="after")
    def _every_order_reaches_a_target(self) -> Config:
        """Routing that cannot drop an alert in silence: an untagged URL gets every alert, a
        tagged one only those of orders with one of its tags; so each order's tags must be
        some URL's, and an order without tags needs a URL without tags."""
        urls = self.notify.urls
        if not urls:
            return self  # alerts are kept, not sent: a warning says so
        carried = sorted({tag for url in urls for tag in url.tags})
        untagged = any(not url.tags for url in urls)
        found: list[tuple[Location, str]] = []
        for index, order in enumerate(self.orders):
            for tag in order.tags:
                if tag not in carried:
                    found.append(
                        (
                            ("orders", index, "tags"),
                            unknown_name("tag", tag, carried, "the tags of notify.urls"),
                        )
                    )
            if not order.tags and not untagged:
                found.append(
                    (
                        ("orders", index, "tags"),
                        "every notification URL has tags, so alerts of an order without tags "
                        f"reach nobody: give it one of {', '.join(carried)}, or add a URL "
                        "without tags",
                    )
                )
        if found:
            raise invalid("Config", found)
        return self

    @model_validator(mode="after")
    def _located(self, info: ValidationInfo) -> Config:
        """Remember where the file was read from, and what looked odd in it."""
        context = read_context(info)
        self._path = context.path
        warnings = [*context.warnings, *_said_once(context.order_warnings)]
        if not self.notify.urls:
            warnings.append(
                "notify.urls is empty: alerts will be kept in the database but not sent"
            )
        self._warnings = tuple(dict.fromkeys(warnings))  # each said once
        return self

    # --- what the program asks of its config ------------------------------------------------

    @property
    def path(self) -> Path:
        """The file this config was read from."""
        return self._path

    @property
    def warnings(self) -> tuple[str, ...]:
        """What looked odd in the file but did not stop it from loading."""
        return self._warnings

    @property
    def database(self) -> Path:
        return self.monitor.database

    @property
    def timezone(self) -> ZoneInfo:
        """The user's time zone: times in alerts, tables and logs are shown in it."""
        return ZoneInfo(self.monitor.timezone)

    @property
    def evidence_dir(self) -> Path:
        """Where pages a drop was seen on are kept, beside the database."""
        return self.monitor.database.parent / "evidence"

    @property
    def quiet_hours(self) -> QuietHours | None:
        span: tuple[time, time] | None = self.notify.quiet_hours
        return QuietHours(span[0], span[1], self.timezone) if span else None

    @functools.cached_property
    def templates(self) -> TemplateStore:
        """The message templates: the user's (read with the config) first, then the packaged."""
        return TemplateStore(self.notify.templates)

    def order(self, order_id: str) -> Order | None:
        return next((o for o in self.orders if o.id == order_id), None)

    def shop_of(self, order: Order) -> Shop:
        return self.shops[order.shop]


def _shop_of(raw: object, shops: Mapping[str, Shop] | None) -> Shop | None:
    name = raw.get("shop") if isinstance(raw, dict) else None
    return shops.get(name) if shops is not None and isinstance(name, str) else None


def _unknown_shops(raw_orders: Sequence[Any], names: set[str]) -> list[tuple[Location, str]]:
    """Return a problem for every order naming a shop that is neither built in nor a section."""
    found: list[tuple[Location, str]] = []
    for index, raw in enumerate(raw_orders):
        name = raw.get("shop") if isinstance(raw, dict) else None
        if isinstance(name, str) and name and name not in names:
            found.append(((index, "shop"), _unknown_shop(name, names)))
    return found


def _with_defaults(
    raw: dict[str, Any], shop: Shop | None, monitor: MonitorSettings
) -> dict[str, Any]:
    """Return an order's table with what it leaves out taken from its shop, then [monitor]."""
    defaults: dict[str, Any] = {
        "threshold": (shop.threshold if shop else None) or monitor.threshold,
        "interval": (shop.interval if shop else None) or monitor.interval,
    }
    if shop is not None and shop.currency is not None:
        defaults["currency"] = shop.currency
    if shop is not None and shop.window_days is not None:
        defaults["window_days"] = shop.window_days
    # Where the window came from, for a label on the product page to override the shop's
    # (set after the table: it is not the user's to write).
    source = WindowSource.ORDER if "window_days" in raw else WindowSource.SHOP
    return {**defaults, **raw, "@window_source": source}


def _no_faster_than_the_shop(order: Order, shop: Shop, index: int, context: ReadContext) -> Order:
    """Return the order, its interval raised to the shop's minimum; note what looks odd."""

    def warn(message: str) -> None:
        context.order_warnings.setdefault(message, []).append((index, order.id))

    if order.ordered > context.today:
        warn(f"ordered {order.ordered} is in the future: its window is not open yet")
    if shop.currency and order.currency != shop.currency:
        warn(f"currency {order.currency} differs from {shop.key}'s {shop.currency}")
    host = urlsplit(order.url).hostname or ""
    if shop.domains and not shop.matches_host(host):
        warn(f"{host} is not one of {shop.key}'s domains ({', '.join(shop.domains)})")
    if order.interval < shop.min_interval:
        warn(f"interval raised to {shop.key}'s minimum of {_human(shop.min_interval)}")
        return order.model_copy(update={"interval": shop.min_interval})
    return order


def _said_once(by_message: Mapping[str, Sequence[tuple[int, str]]], *, named: int = 3) -> list[str]:
    """Return one warning per message, naming the order it was seen in, or how many orders
    and the first ``named`` of their ids: ``… (2,000 orders: 1, 2, 3 and 1,997 more)``."""
    said = []
    for message, orders in by_message.items():
        if len(orders) == 1:
            ((index, order_id),) = orders
            said.append(
                f"orders[{index}] (id {json.dumps(order_id, ensure_ascii=False)}): {message}"
            )
            continue
        ids = ", ".join(order_id for _, order_id in orders[:named])
        more = f" and {len(orders) - named:,} more" if len(orders) > named else ""
        said.append(f"{message} ({len(orders):,} orders: {ids}{more})")
    return said


def _repeated_ids(raw_orders: Sequence[Any]) -> list[tuple[Location, str]]:
    """Return a problem for every order whose id an earlier order already has."""
    seen: dict[str, int] = {}
    found: list[tuple[Location, str]] = []
    for index, raw in enumerate(raw_orders):
        try:
            order_id = read_order_id(raw.get("id")) if isinstance(raw, dict) else None
        except PydanticCustomError:
            continue  # the order's own validation names it
        if order_id is None:
            continue
        if order_id in seen:
            found.append(
                (
                    (index, "id"),
                    f'"{order_id}" is also the id of orders[{seen[order_id]}]; ids must be unique '
                    '(for a second item of the same shop order, add a suffix like "-2")',
                )
            )
        seen.setdefault(order_id, index)
    return found


def _unknown_shop(name: str, names: set[str]) -> str:
    return unknown_name("shop", name, names, "or add a [shops.NAME] section")


def _human(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    parts = [(seconds // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"
