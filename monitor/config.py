"""Load ``config.toml`` into validated, frozen values, or raise ConfigError listing every problem.

Each section is validated on its own (pydantic models with ``extra="forbid"``, so typos are
errors) and then checked against the others (an order's shop must exist, its currency and
window must be known). Problems carry their TOML path, e.g. ``orders[2].paid``.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import stat
import tomllib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError
from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from monitor import channels
from monitor.errors import ConfigError, Problem
from monitor.extract import split_attribute
from monitor.models import Threshold
from monitor.shops import BUILTIN, Shop
from monitor.shops.base import ApiSpec, ScriptJson
from monitor.templates import check_folder

APP_NAME = "price-monitor"
DEFAULT_INTERVAL = timedelta(hours=2)
DEFAULT_THRESHOLD = Threshold(amount=Decimal(1))
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_HOST_DELAY = timedelta(seconds=2)
DEFAULT_CONFIRM = timedelta(minutes=2)
DEFAULT_REMIND_BEFORE = timedelta(hours=24)

Payment = Literal["card", "alipay", "wechat", "installments", "other"]


# --- values read strictly from TOML -------------------------------------------------------


def _got(value: object) -> str:
    """Describe a TOML value for an error message: strings quoted, others by type."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal | float):
        return str(value)
    if isinstance(value, datetime):
        return f"the date-time {value.isoformat()}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


_PLAIN_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def _money(value: object) -> Decimal:
    """Read a positive amount from a TOML number or a plain numeric string."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise PydanticCustomError(
            "money", "expected a number like 4999.00, got {got}", {"got": _got(value)}
        )
    text = str(value).strip()
    if not _PLAIN_NUMBER.match(text):
        raise PydanticCustomError(
            "money",
            "expected a number like 4999.00 (no currency sign or thousands separator), got {got}",
            {"got": _got(value)},
        )
    amount = Decimal(text)
    if amount <= 0:
        raise PydanticCustomError("money", "must be more than 0, got {got}", {"got": _got(value)})
    return amount


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value: object) -> date:
    """Read a calendar date: a TOML date (2026-11-20) or the same as a string."""
    if isinstance(value, datetime):
        raise PydanticCustomError(
            "date",
            "expected a date like 2026-11-20 without a time, got {got}",
            {"got": _got(value)},
        )
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise PydanticCustomError(
        "date", "expected a date like 2026-11-20, got {got}", {"got": _got(value)}
    )


_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(value: object) -> timedelta:
    """Read a duration such as ``"2h"``, ``"30m"``, ``"1h30m"`` or ``"45s"``."""
    match = _DURATION.match(value.strip()) if isinstance(value, str) else None
    if not match or not value or not any(match.groups()):
        raise PydanticCustomError(
            "duration",
            'expected a duration like "2h", "30m" or "1h30m", got {got}',
            {"got": _got(value)},
        )
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    try:
        duration = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise PydanticCustomError(
            "duration", "is far too long, got {got}", {"got": _got(value)}
        ) from None
    if duration <= timedelta(0):
        raise PydanticCustomError(
            "duration", "must be longer than 0, got {got}", {"got": _got(value)}
        )
    return duration


def _pause(value: object) -> timedelta:
    """Read a pause that may be zero: ``"0s"``, ``"2s"``, ``"1m"``."""
    if isinstance(value, str) and value.strip() in ("0", "0s"):
        return timedelta(0)
    return parse_duration(value)


_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)$")


def _quiet_span(value: object) -> tuple[time, time]:
    """Read a daily span such as ``"22:00-07:30"`` (it may run past midnight)."""
    match = _SPAN.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise PydanticCustomError(
            "quiet_hours", 'expected a span like "22:00-07:30", got {got}', {"got": _got(value)}
        )
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if (h1, m1) == (h2, m2):
        raise PydanticCustomError(
            "quiet_hours", "the span is empty: start and end are the same", {}
        )
    return time(h1, m1), time(h2, m2)


def _threshold(value: object) -> Threshold:
    """Read a threshold: an absolute amount (``50``, ``"50"``) or a percent (``"2%"``)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        number = value.strip()[:-1].strip()
        if _PLAIN_NUMBER.match(number) and Decimal(number) < 100:
            return Threshold(percent=Decimal(number))
    elif not isinstance(value, bool) and isinstance(value, int | Decimal | str):
        text = str(value).strip()
        if _PLAIN_NUMBER.match(text):
            return Threshold(amount=Decimal(text))
    raise PydanticCustomError(
        "threshold",
        'expected an amount like 50 or a percent like "2%" (under 100%), got {got}',
        {"got": _got(value)},
    )


def _currency(value: object) -> str:
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{3}", value.strip()):
        return value.strip().upper()
    raise PydanticCustomError(
        "currency",
        'expected a 3-letter ISO currency code like "CNY" or "USD", got {got}',
        {"got": _got(value)},
    )


def _timezone(value: object) -> str:
    if isinstance(value, str):
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a folder of zones
            pass
        else:
            return value
    raise PydanticCustomError(
        "timezone",
        'expected an IANA time zone like "Asia/Shanghai", got {got}',
        {"got": _got(value)},
    )


def _order_id(value: object) -> str:
    # Order numbers are digits more often than not; a bare TOML integer is exact, so accept it.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise PydanticCustomError(
        "order_id",
        'expected the shop\'s order number, like "5231120712345678", got {got}',
        {"got": _got(value)},
    )


def _http_url(value: object) -> str:
    if isinstance(value, str):
        parts = urlsplit(value.strip())
        if parts.scheme in ("http", "https") and parts.hostname:
            return value.strip()
    raise PydanticCustomError(
        "url", "expected the product page's http(s) URL, got {got}", {"got": _got(value)}
    )


def _selector(value: object) -> str:
    if isinstance(value, str) and value.strip():
        css, _ = split_attribute(value)
        try:
            LexborHTMLParser("<p></p>").css(css)
        except SelectolaxError:
            pass
        else:
            return value.strip()
    raise PydanticCustomError(
        "selector",
        'expected a CSS selector like ".price", "span#price" or "meta[itemprop=price]@content", '
        "got {got}",
        {"got": _got(value)},
    )


def _regex(value: object) -> str:
    if isinstance(value, str) and value:
        try:
            compiled = re.compile(value)
        except (re.error, OverflowError, RecursionError) as exc:
            raise PydanticCustomError(
                "regex", "not a valid regular expression: {error}", {"error": str(exc)}
            ) from None
        if compiled.groups <= 1:
            return value
    raise PydanticCustomError(
        "regex",
        "expected a regular expression with at most one group around the price, got {got}",
        {"got": _got(value)},
    )


def _notify_target(value: object) -> object:
    # A target is a plain URL string or a table {url = ..., tags = [...]}.
    return {"url": value} if isinstance(value, str) else value


_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """Replace each ``${NAME}`` in ``text`` with the environment variable NAME.

    Secrets such as bot tokens can then live in the environment (a systemd
    ``EnvironmentFile=`` readable by root only) instead of in the config file.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise PydanticCustomError(
                "env",
                "{reference} is not set in the environment (under systemd, put it in the "
                "unit's EnvironmentFile)",
                {"reference": "${" + name + "}"},
            )
        return env[name]

    return _ENV_REFERENCE.sub(value, text)


def _apprise_url(value: object, info: ValidationInfo) -> str:
    env = (info.context or {}).get("env", os.environ)
    if isinstance(value, str):
        value = expand_env(value, env)
    if isinstance(value, str) and channels.is_valid_url(value):
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


Money = Annotated[Decimal, BeforeValidator(_money)]
Day = Annotated[date, BeforeValidator(_date)]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
PauseValue = Annotated[timedelta, BeforeValidator(_pause)]
QuietSpan = Annotated[tuple[time, time], BeforeValidator(_quiet_span)]
ThresholdValue = Annotated[Threshold, BeforeValidator(_threshold)]
Currency = Annotated[str, BeforeValidator(_currency)]
TimeZoneName = Annotated[str, BeforeValidator(_timezone)]
OrderId = Annotated[str, BeforeValidator(_order_id)]
HttpUrl = Annotated[str, BeforeValidator(_http_url)]
Selector = Annotated[str, BeforeValidator(_selector)]
AppriseUrl = Annotated[str, BeforeValidator(_apprise_url)]
Regex = Annotated[str, BeforeValidator(_regex)]
Text = Annotated[str, Field(min_length=1)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class MonitorSection(_Section):
    database: Text | None = None
    timezone: TimeZoneName = DEFAULT_TIMEZONE
    interval: Duration = DEFAULT_INTERVAL
    threshold: ThresholdValue = DEFAULT_THRESHOLD
    host_delay: PauseValue = DEFAULT_HOST_DELAY
    concurrency: Annotated[int, Field(ge=1, le=64)] = 8
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    confirm: PauseValue = DEFAULT_CONFIRM
    remind_before: Duration = DEFAULT_REMIND_BEFORE
    remind: Literal["unclaimed", "always"] = "unclaimed"
    failing_after: Annotated[int, Field(ge=1, le=1000)] = 5


class NotifyTarget(_Section):
    url: AppriseUrl
    tags: tuple[Text, ...] = ()


class NotifySection(_Section):
    urls: list[Annotated[NotifyTarget, BeforeValidator(_notify_target)]] = []
    quiet_hours: QuietSpan | None = None
    templates: Text | None = None


class ApiSection(_Section):
    url: HttpUrl
    ids: dict[str, Regex] = {}
    items: str = ""
    item_id: Text | None = None
    match: Text = "{sku}"
    price: Text = "price"
    headers: dict[str, str] = {}


class ScriptJsonSection(_Section):
    selector: Selector
    path: Text
    currency_path: Text | None = None


class ShopSection(_Section):
    name: Text | None = None
    domains: tuple[Text, ...] | None = None
    currency: Currency | None = None
    language: Literal["zh", "en"] | None = None
    timezone: TimeZoneName | None = None
    window_days: Annotated[int, Field(ge=1, le=365)] | None = None
    window_starts: Literal["order", "delivery"] | None = None
    min_interval: Duration | None = None
    interval: Duration | None = None
    threshold: ThresholdValue | None = None
    claim: Text | None = None
    refund_path: Text | None = None
    exclusions: tuple[Text, ...] | None = None
    selector: Selector | None = None
    api: ApiSection | None = None
    script_json: tuple[ScriptJsonSection, ...] | None = None
    regex: Regex | None = None
    window_label: Regex | None = None
    headers: dict[str, str] | None = None
    cookies_file: Text | None = None
    proxy: Text | None = None
    policy_url: HttpUrl | None = None
    policy_uncertain: bool | None = None


class OrderSection(_Section):
    id: OrderId
    shop: Text
    url: HttpUrl
    title: Text
    paid: Money
    ordered: Day
    sku: Text | None = None
    variant: Text | None = None
    currency: Currency | None = None
    quantity: Annotated[int, Field(ge=1, le=10_000)] = 1
    delivered: Day | None = None
    window_days: Annotated[int, Field(ge=1, le=365)] | None = None
    payment: Payment | None = None
    installments: Annotated[int, Field(ge=2, le=120)] | None = None
    threshold: ThresholdValue | None = None
    selector: Selector | None = None
    interval: Duration | None = None
    tags: tuple[Text, ...] = ()
    notes: str | None = None


# --- the validated config ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Order:
    """One purchased line, with every default resolved (currency, window, threshold)."""

    id: str
    shop: str
    url: str
    title: str
    paid: Decimal
    currency: str
    quantity: int
    ordered: date
    delivered: date | None
    window_days: int
    payment: Payment | None
    installments: int | None
    threshold: Threshold
    interval: timedelta
    sku: str | None = None
    variant: str | None = None
    selector: str | None = None
    tags: tuple[str, ...] = ()
    notes: str | None = None

    @property
    def product_key(self) -> tuple[str, str]:
        """Orders with the same URL and SKU share one product, so one fetch serves them."""
        return (self.url, self.sku or "")


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    database: Path
    timezone: ZoneInfo
    interval: timedelta
    threshold: Threshold
    host_delay: timedelta
    concurrency: int
    notify: tuple[NotifyTarget, ...]
    shops: Mapping[str, Shop]
    orders: tuple[Order, ...]
    warnings: tuple[str, ...] = ()
    confirm: timedelta = DEFAULT_CONFIRM
    remind_before: timedelta = DEFAULT_REMIND_BEFORE
    remind_always: bool = False
    failing_after: int = 5
    retries: int = 2
    quiet_hours: tuple[time, time] | None = None
    templates: Path | None = None

    def order(self, order_id: str) -> Order | None:
        return next((o for o in self.orders if o.id == order_id), None)


# --- where things live -------------------------------------------------------------------


def default_config_path(env: Mapping[str, str] = os.environ) -> Path:
    """Return the config path: $PRICE_MONITOR_CONFIG, systemd's config dir, or XDG's."""
    if env.get("PRICE_MONITOR_CONFIG"):
        return Path(env["PRICE_MONITOR_CONFIG"])
    if env.get("CONFIGURATION_DIRECTORY"):  # set by systemd's ConfigurationDirectory=
        return Path(env["CONFIGURATION_DIRECTORY"].split(":")[0]) / "config.toml"
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP_NAME / "config.toml"


def default_database_path(env: Mapping[str, str] = os.environ) -> Path:
    """Return the database path: systemd's state dir, else $XDG_STATE_HOME/price-monitor."""
    if env.get("STATE_DIRECTORY"):  # set by systemd's StateDirectory=
        return Path(env["STATE_DIRECTORY"].split(":")[0]) / "price-monitor.db"
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / APP_NAME / "price-monitor.db"


# --- loading -------------------------------------------------------------------------------


def load_config(path: Path, *, env: Mapping[str, str] = os.environ) -> Config:
    """Given a path to config.toml, return the validated Config. Raise ConfigError if not."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            str(path), [Problem("", "file not found; start from config.example.toml")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [Problem("", f"cannot read the file: {exc}")]) from None
    return parse_config(text, path=path, env=env)


def parse_config(text: str, *, path: Path, env: Mapping[str, str] = os.environ) -> Config:
    """Given the text of a config file, return the Config. Raise ConfigError listing all problems."""
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path.name, [Problem("", f"not valid TOML: {exc}")]) from None
    problems: list[Problem] = []
    config = _build(raw, path=path, env=env, problems=problems)
    if problems or config is None:
        raise ConfigError(path.name, problems)
    return config


_TOP_LEVEL = ("monitor", "notify", "shops", "orders")


def _build(
    raw: dict[str, Any], *, path: Path, env: Mapping[str, str], problems: list[Problem]
) -> Config | None:
    for key in raw:
        if key not in _TOP_LEVEL:
            problems.append(Problem(_path([key]), _unknown_key(key, _TOP_LEVEL)))

    monitor = _validate(MonitorSection, _table(raw, "monitor", problems), ["monitor"], problems)
    notify = _validate(
        NotifySection, _table(raw, "notify", problems), ["notify"], problems, context={"env": env}
    )
    shops, broken_shops = _shops(_table(raw, "shops", problems), monitor, problems)

    raw_orders = raw.get("orders", [])
    if not isinstance(raw_orders, list):
        problems.append(Problem("orders", "expected [[orders]] tables, one per purchased item"))
        raw_orders = []
    warnings: list[str] = []
    orders: list[Order] = []
    seen_ids: dict[str, int] = {}
    for index, raw_order in enumerate(raw_orders):
        where: list[str | int] = ["orders", index]
        if not isinstance(raw_order, dict):
            problems.append(Problem(_path(where), "expected a table ([[orders]])"))
            continue
        start = len(problems)
        section = _validate(OrderSection, raw_order, where, problems)
        _check_id_unique(raw_order, where, seen_ids, problems)
        shop_name = raw_order.get("shop")
        shop_broken = isinstance(shop_name, str) and shop_name in broken_shops
        if not shop_broken:  # a broken [shops.NAME] is reported already
            _check_order_across_fields(raw_order, where, shops, problems)
        if section is None or monitor is None or shop_broken or len(problems) > start:
            continue
        orders.append(_resolve_order(section, where, monitor, shops[section.shop], warnings))

    if monitor is None or notify is None or broken_shops:
        return None
    if not notify.urls:
        warnings.append("notify.urls is empty: alerts will be kept in the database but not sent")
    warnings.extend(_secret_exposure(path, raw))
    database = (
        _expand(monitor.database, "monitor.database", problems)
        if monitor.database
        else default_database_path(env)
    ) or Path()
    templates = _templates_folder(notify.templates, path, problems)
    if problems:
        return None
    if not database.is_absolute():
        database = path.parent / database
    return Config(
        path=path,
        database=database,
        timezone=ZoneInfo(monitor.timezone),
        interval=monitor.interval,
        threshold=monitor.threshold,
        host_delay=monitor.host_delay,
        concurrency=monitor.concurrency,
        notify=tuple(notify.urls),
        confirm=monitor.confirm,
        remind_before=monitor.remind_before,
        remind_always=monitor.remind == "always",
        failing_after=monitor.failing_after,
        retries=monitor.retries,
        quiet_hours=notify.quiet_hours,
        templates=templates,
        shops=shops,
        orders=tuple(orders),
        warnings=tuple(warnings),
    )


def _expand(value: str, where: str, problems: list[Problem]) -> Path | None:
    """Return a path with ``~`` expanded; a ``~user`` that does not exist is a problem."""
    try:
        return Path(value).expanduser()
    except RuntimeError:
        problems.append(Problem(where, f'"{value}": no such user for ~ to stand for'))
        return None


def _templates_folder(value: str | None, path: Path, problems: list[Problem]) -> Path | None:
    """Resolve ``[notify] templates`` and check every template in it against its fields."""
    if value is None:
        return None
    folder = _expand(value, "notify.templates", problems)
    if folder is None:
        return None
    if not folder.is_absolute():
        folder = path.parent / folder
    problems.extend(Problem("notify.templates", p) for p in check_folder(folder))
    return folder


def _secret_exposure(path: Path, raw: Mapping[str, Any]) -> list[str]:
    """Warn when a file that holds notification secrets can be read by other users."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return []
    if not mode & stat.S_IROTH:
        return []
    notify = raw.get("notify")
    urls = notify.get("urls", []) if isinstance(notify, dict) else []
    literal = [u.get("url") if isinstance(u, dict) else u for u in urls]
    if not any(isinstance(u, str) and channels.has_secret(u) for u in literal):
        return []
    return [
        "the file is readable by other users and holds notification tokens or passwords: "
        "chmod 600 it, or move the secrets into environment variables (${NAME} in the URL)"
    ]


def _table(raw: Mapping[str, Any], key: str, problems: list[Problem]) -> dict[str, Any]:
    value = raw.get(key, {})
    if isinstance(value, dict):
        return value
    problems.append(Problem(key, f"expected a table ([{key}]), got {_got(value)}"))
    return {}


def _shops(
    raw: dict[str, Any], monitor: MonitorSection | None, problems: list[Problem]
) -> tuple[dict[str, Shop], set[str]]:
    """Return the built-in shops with the user's sections applied, and the names that failed."""
    shops = dict(BUILTIN)
    broken: set[str] = set()
    generic = BUILTIN["generic"]
    for key, raw_shop in raw.items():
        where: list[str | int] = ["shops", key]
        if not isinstance(raw_shop, dict):
            problems.append(Problem(_path(where), "expected a table ([shops.NAME])"))
            broken.add(key)
            continue
        section = _validate(ShopSection, raw_shop, where, problems)
        if section is None:
            broken.add(key)
            continue
        changes: dict[str, Any] = section.model_dump(exclude_none=True)
        for name in ("domains", "exclusions"):
            if name in changes:
                changes[name] = tuple(changes[name])
        if section.api is not None:
            changes["api"] = ApiSpec(**section.api.model_dump())
        if section.script_json is not None:
            changes["script_json"] = tuple(
                ScriptJson(**s.model_dump()) for s in section.script_json
            )
        base = shops.get(key) or dataclasses.replace(
            generic,
            key=key,
            name=key,
            timezone=monitor.timezone if monitor else generic.timezone,
            policy_uncertain=False,
        )
        shops[key] = dataclasses.replace(base, **changes)
    return shops, broken


def _parsed(parse: Callable[[object], _T], raw: Mapping[str, Any], key: str) -> _T | None:
    """Return ``raw[key]`` read by ``parse``, or None when it is absent or invalid.

    Invalid values are reported by the section's own validation; cross-field checks just
    skip them, so that one bad field does not hide the problems of the others.
    """
    if key not in raw:
        return None
    try:
        return parse(raw[key])
    except PydanticCustomError:
        return None


def _check_id_unique(
    raw: Mapping[str, Any], where: list[str | int], seen: dict[str, int], problems: list[Problem]
) -> None:
    order_id = _parsed(_order_id, raw, "id")
    if order_id is None:
        return
    if order_id in seen:
        problems.append(
            Problem(
                _path([*where, "id"]),
                f'"{order_id}" is also the id of orders[{seen[order_id]}]; ids must be unique '
                '(for a second item of the same shop order, add a suffix like "-2")',
            )
        )
    seen.setdefault(order_id, int(where[-1]))


def _check_order_across_fields(
    raw: Mapping[str, Any],
    where: list[str | int],
    shops: Mapping[str, Shop],
    problems: list[Problem],
) -> None:
    """Report what no single field shows: an unknown shop, a missing default, dates out of order."""
    name = raw.get("shop")
    shop = shops.get(name) if isinstance(name, str) else None
    if isinstance(name, str) and name and shop is None:
        problems.append(Problem(_path([*where, "shop"]), _unknown_shop(name, shops)))
    if shop is not None and shop.currency is None and "currency" not in raw:
        problems.append(
            Problem(
                _path([*where, "currency"]),
                f'required: shop "{shop.key}" has no default currency; add e.g. currency = "EUR"',
            )
        )
    if shop is not None and shop.window_days is None and "window_days" not in raw:
        problems.append(
            Problem(
                _path([*where, "window_days"]),
                f'required: shop "{shop.key}" has no default price-protection window; '
                "give the number of days, e.g. window_days = 14",
            )
        )
    ordered, delivered = _parsed(_date, raw, "ordered"), _parsed(_date, raw, "delivered")
    if ordered is not None and delivered is not None and delivered < ordered:
        problems.append(
            Problem(_path([*where, "delivered"]), f"{delivered} is before the order date {ordered}")
        )
    payment, installments = raw.get("payment"), raw.get("installments")
    if payment == "installments" and installments is None:
        problems.append(
            Problem(
                _path([*where, "installments"]),
                'required with payment = "installments": how many periods, e.g. 12',
            )
        )
    if installments is not None and payment != "installments":
        problems.append(
            Problem(_path([*where, "payment"]), 'must be "installments" when installments is given')
        )


def _resolve_order(
    section: OrderSection,
    where: list[str | int],
    monitor: MonitorSection,
    shop: Shop,
    warnings: list[str],
) -> Order:
    """Fill an order's defaults from its shop and [monitor]; note what looks odd."""
    label = f"{_path(where)} (order {section.id})"
    currency = section.currency or shop.currency
    window_days = section.window_days or shop.window_days
    assert currency is not None and window_days is not None  # _check_order_across_fields
    if shop.currency and section.currency and section.currency != shop.currency:
        warnings.append(
            f"{label}: currency {section.currency} differs from {shop.key}'s {shop.currency}"
        )
    host = urlsplit(section.url).hostname or ""
    if shop.domains and not shop.matches_host(host):
        warnings.append(
            f"{label}: {host} is not one of {shop.key}'s domains ({', '.join(shop.domains)})"
        )
    interval = section.interval or shop.interval or monitor.interval
    if interval < shop.min_interval:
        warnings.append(
            f"{label}: interval raised to {shop.key}'s minimum of {_human(shop.min_interval)}"
        )
        interval = shop.min_interval
    return Order(
        id=section.id,
        shop=shop.key,
        url=section.url,
        title=section.title,
        paid=section.paid,
        currency=currency,
        quantity=section.quantity,
        ordered=section.ordered,
        delivered=section.delivered,
        window_days=window_days,
        payment=section.payment,
        installments=section.installments,
        threshold=section.threshold or shop.threshold or monitor.threshold,
        interval=interval,
        sku=section.sku,
        variant=section.variant,
        selector=section.selector or shop.selector,
        tags=section.tags,
        notes=section.notes,
    )


def _human(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    parts = [(seconds // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


def _unknown_shop(name: str, shops: Mapping[str, Shop]) -> str:
    close = difflib.get_close_matches(name, list(shops), n=1)
    hint = f'did you mean "{close[0]}"? ' if close else ""
    return (
        f'unknown shop "{name}"; {hint}known shops: {", ".join(sorted(shops))} '
        "(or add a [shops.NAME] section)"
    )


# --- pydantic errors -> problems with TOML paths -------------------------------------------

_M = typing.TypeVar("_M", bound=BaseModel)
_T = typing.TypeVar("_T")


def _validate(
    model: type[_M],
    data: dict[str, Any],
    where: list[str | int],
    problems: list[Problem],
    *,
    context: dict[str, Any] | None = None,
) -> _M | None:
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = list(error["loc"])
            problems.append(Problem(_path([*where, *loc]), _message(model, loc, error)))
        return None


def _message(model: type[BaseModel], loc: list[Any], error: Any) -> str:
    kind: str = error["type"]
    value = error.get("input")
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        allowed = tuple(owner.model_fields) if owner else ()
        return _unknown_key(str(loc[-1]), allowed)
    messages: dict[str, Callable[[], str]] = {
        "string_type": lambda: f"expected text in quotes, got {_got(value)}",
        "int_type": lambda: f"expected a whole number, got {_got(value)}",
        "int_from_float": lambda: f"expected a whole number, got {_got(value)}",
        "int_parsing": lambda: f"expected a whole number, got {_got(value)}",
        "bool_type": lambda: f"expected true or false, got {_got(value)}",
        "bool_parsing": lambda: f"expected true or false, got {_got(value)}",
        "list_type": lambda: f'expected an array like ["a", "b"], got {_got(value)}',
        "tuple_type": lambda: f'expected an array like ["a", "b"], got {_got(value)}',
        "dict_type": lambda: f"expected a table, got {_got(value)}",
        "model_type": lambda: f"expected a table, got {_got(value)}",
        "string_too_short": lambda: "must not be empty",
        "too_short": lambda: "must not be empty",
        "greater_than_equal": lambda: f"must be at least {error['ctx']['ge']}, got {_got(value)}",
        "less_than_equal": lambda: f"must be at most {error['ctx']['le']}, got {_got(value)}",
        "literal_error": lambda: f"expected one of {error['ctx']['expected']}, got {_got(value)}",
    }
    if kind in messages:
        return messages[kind]()
    return str(error["msg"])


def _unknown_key(key: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.5)
    hint = f'did you mean "{close[0]}"? ' if close else ""
    listing = f"allowed keys: {', '.join(allowed)}" if allowed else "no keys are allowed here"
    return f'unknown key "{key}"; {hint}{listing}'


def _model_at(model: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """Follow a pydantic error location through the model's field types to the model there."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = _inner_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _inner_model(typing.get_args(annotation)[0])
    if origin in (list, tuple, dict, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _path(parts: Sequence[str | int]) -> str:
    """Format a location like ("orders", 2, "paid") as the TOML path ``orders[2].paid``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = part if _BARE_KEY.match(part) else f'"{part}"'
            out += f".{key}" if out else key
    return out
