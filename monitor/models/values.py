"""The field types of the nouns, read strictly from what a config file writes.

Each type is an ``Annotated`` pydantic type whose reader accepts the TOML value (and the
already-read value, so a built-in profile can be merged with a user's section) and refuses
anything else with a message that says what was expected and what was found.

A selector's syntax is checked with the HTML parser, loaded only then, and only when the
validation context (``Checks``) asks for thorough checks, as it does by default.
"""

from __future__ import annotations

import contextlib
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from monitor.models.css import split_attribute
from monitor.models.money import Threshold


class Frozen(BaseModel):
    """A value read from the config: immutable, and unknown keys are errors (typos)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


@dataclass(kw_only=True)
class Checks:
    """How thoroughly values are read, as pydantic's validation context.

    ``thorough=False`` skips the checks that need another library (a CSS selector's syntax):
    for data already trusted, or a command that will not use the value.
    """

    thorough: bool = True


def thorough(info: ValidationInfo) -> bool:
    context = info.context
    return context.thorough if isinstance(context, Checks) else True


Location = tuple[str | int, ...]


def invalid(title: str, found: Sequence[tuple[Location, str]]) -> ValidationError:
    """Return a ValidationError with one problem per (location, message), for a check that
    looks at several fields at once and must name the one to fix."""
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(
                type=PydanticCustomError("cross_field", "{message}", {"message": message}),
                loc=loc,
                input=None,
            )
            for loc, message in found
        ],
    )


def got(value: object) -> str:
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


def _problem(kind: str, message: str, value: object, **more: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message, {"got": got(value), **more})


_PLAIN_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def read_amount(value: object) -> Decimal:
    """Read a positive amount from a TOML number or a plain numeric string."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise _problem("money", "expected a number like 4999.00, got {got}", value)
    text = str(value).strip()
    if not _PLAIN_NUMBER.match(text):
        raise _problem(
            "money",
            "expected a number like 4999.00 (no currency sign or thousands separator), got {got}",
            value,
        )
    amount = Decimal(text)
    if amount <= 0:
        raise _problem("money", "must be more than 0, got {got}", value)
    return amount


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FIRST_YEAR = 1970


def read_date(value: object) -> date:
    """Read a calendar date: a TOML date (2026-11-20) or the same as a string."""
    if isinstance(value, datetime):
        raise _problem("date", "expected a date like 2026-11-20 without a time, got {got}", value)
    day: date | None = value if isinstance(value, date) else None
    if isinstance(value, str) and _DATE.match(value.strip()):
        with contextlib.suppress(ValueError):  # 2026-02-30 is no date
            day = date.fromisoformat(value.strip())
    if day is None:
        raise _problem("date", "expected a date like 2026-11-20, got {got}", value)
    if day.year < FIRST_YEAR:
        # Times of year 1 cannot be moved between time zones; nothing was bought then.
        raise _problem("date", f"must be {FIRST_YEAR} or later, got {{got}}", value)
    return day


_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def read_duration(value: object) -> timedelta:
    """Read a duration such as ``"2h"``, ``"30m"``, ``"1h30m"`` or ``"45s"``."""
    if isinstance(value, timedelta) and value > timedelta(0):
        return value
    match = _DURATION.match(value.strip()) if isinstance(value, str) else None
    if not match or not value or not any(match.groups()):
        raise _problem(
            "duration", 'expected a duration like "2h", "30m" or "1h30m", got {got}', value
        )
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    try:
        duration = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise _problem("duration", "is far too long, got {got}", value) from None
    if duration <= timedelta(0):
        raise _problem("duration", "must be longer than 0, got {got}", value)
    return duration


def read_pause(value: object) -> timedelta:
    """Read a pause that may be zero: ``"0s"``, ``"2s"``, ``"1m"``."""
    if value == timedelta(0) or (isinstance(value, str) and value.strip() in ("0", "0s")):
        return timedelta(0)
    return read_duration(value)


_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)$")


def read_daily_span(value: object) -> tuple[time, time]:
    """Read a daily span such as ``"22:00-07:30"`` (it may run past midnight)."""
    if isinstance(value, tuple):
        return value
    match = _SPAN.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise _problem("quiet_hours", 'expected a span like "22:00-07:30", got {got}', value)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if (h1, m1) == (h2, m2):
        raise PydanticCustomError(
            "quiet_hours", "the span is empty: start and end are the same", {}
        )
    return time(h1, m1), time(h2, m2)


def read_threshold(value: object) -> Threshold:
    """Read a threshold: an absolute amount (``50``, ``"50"``) or a percent (``"2%"``)."""
    if isinstance(value, Threshold):
        return value
    if isinstance(value, str) and value.strip().endswith("%"):
        number = value.strip()[:-1].strip()
        if _PLAIN_NUMBER.match(number) and Decimal(number) < 100:
            return Threshold(percent=Decimal(number))
    elif not isinstance(value, bool) and isinstance(value, int | Decimal | str):
        text = str(value).strip()
        if _PLAIN_NUMBER.match(text):
            return Threshold(amount=Decimal(text))
    raise _problem(
        "threshold",
        'expected an amount like 50 or a percent like "2%" (under 100%), got {got}',
        value,
    )


def read_currency(value: object) -> str:
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{3}", value.strip()):
        return value.strip().upper()
    raise _problem(
        "currency", 'expected a 3-letter ISO currency code like "CNY" or "USD", got {got}', value
    )


def read_timezone(value: object) -> str:
    if isinstance(value, str):
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a folder of zones
            pass
        else:
            return value
    raise _problem("timezone", 'expected an IANA time zone like "Asia/Shanghai", got {got}', value)


def read_order_id(value: object) -> str:
    # Order numbers are digits more often than not; a bare TOML integer is exact, so accept it.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise _problem(
        "order_id", 'expected the shop\'s order number, like "5231120712345678", got {got}', value
    )


def read_http_url(value: object) -> str:
    if isinstance(value, str):
        parts = urlsplit(value.strip())
        if parts.scheme in ("http", "https") and parts.hostname:
            return value.strip()
    raise _problem("url", "expected the product page's http(s) URL, got {got}", value)


def read_template(value: object) -> str:
    """Read a template with ``{name}`` placeholders (a shop API's URL, its match)."""
    if isinstance(value, str) and value:
        try:
            list(string.Formatter().parse(value))
        except ValueError as exc:
            raise PydanticCustomError(
                "template",
                "{error} (write {{ and }} for literal braces)",
                {"error": str(exc)},
            ) from None
        return value
    raise _problem("template", "expected text with {{name}} placeholders, got {got}", value)


def read_selector(value: object, info: ValidationInfo) -> str:
    readable = isinstance(value, str) and bool(value.strip())
    if readable and (not thorough(info) or _css_parses(split_attribute(str(value))[0])):
        return str(value).strip()
    raise _problem(
        "selector",
        'expected a CSS selector like ".price", "span#price" or "meta[itemprop=price]@content", '
        "got {got}",
        value,
    )


def _css_parses(css: str) -> bool:
    from selectolax.lexbor import LexborHTMLParser, SelectolaxError  # the HTML parser loads here

    try:
        LexborHTMLParser("<p></p>").css(css)
    except SelectolaxError:
        return False
    return True


def read_regex(value: object) -> str:
    if isinstance(value, str) and value:
        try:
            compiled = re.compile(value)
        except (re.error, OverflowError, RecursionError) as exc:
            raise PydanticCustomError(
                "regex", "not a valid regular expression: {error}", {"error": str(exc)}
            ) from None
        if compiled.groups <= 1:
            return value
    raise _problem(
        "regex",
        "expected a regular expression with at most one group around the price, got {got}",
        value,
    )


# A key (anything but dots and brackets), then ".key", "[0]" (an index) or "[]" (every element).
_JSON_PATH = re.compile(r"(?:[^.\[\]]+|\[\d+\])(?:\.[^.\[\]]+|\[\d+\])*")
_ITEMS_PATH = re.compile(r"(?:[^.\[\]]+|\[\d*\])(?:\.[^.\[\]]+|\[\d*\])*")


def read_json_path(value: object) -> str:
    """Read a path to one value inside a JSON entry: ``price``, ``info.price``, ``prices[0]``."""
    if isinstance(value, str) and _JSON_PATH.fullmatch(value):
        return value
    raise _problem(
        "json_path",
        'expected a JSON path like "price" or "goods_info.price" (keys joined by dots, [0] '
        "for an index), got {got}",
        value,
    )


def read_items_path(value: object) -> str:
    """Read a path to a shop API's goods entries, where ``[]`` steps into every element of
    a list (``data.goods_list[].goods_info``); "" is the whole response."""
    if isinstance(value, str) and (value == "" or _ITEMS_PATH.fullmatch(value)):
        return value
    raise _problem(
        "json_path",
        'expected a JSON path to the goods like "data.goods_info" or '
        '"data.goods_list[].goods_info" ([] steps into every element of a list; "" is the '
        "whole response), got {got}",
        value,
    )


def read_items_paths(value: object) -> object:
    """Read a shop API's ``items``: one path, or a non-empty list of paths tried in order."""
    if isinstance(value, str):
        return (read_items_path(value),)  # a problem here is the key's own, not "[0]"'s
    if isinstance(value, list | tuple) and value:
        return tuple(value)
    empty = isinstance(value, list | tuple)
    raise PydanticCustomError(
        "items",
        "expected a JSON path, or a list of them tried in order (the first that leads to "
        'any goods wins), like ["data.goods_list[].goods_info", "data.goods_info"], got {got}',
        {"got": "an empty array" if empty else got(value)},
    )


Amount = Annotated[Decimal, BeforeValidator(read_amount)]
Day = Annotated[date, BeforeValidator(read_date)]
Duration = Annotated[timedelta, BeforeValidator(read_duration)]
Pause = Annotated[timedelta, BeforeValidator(read_pause)]
DailySpan = Annotated[tuple[time, time], BeforeValidator(read_daily_span)]
ThresholdValue = Annotated[Threshold, BeforeValidator(read_threshold)]
Currency = Annotated[str, BeforeValidator(read_currency)]
TimeZoneName = Annotated[str, BeforeValidator(read_timezone)]
OrderId = Annotated[str, BeforeValidator(read_order_id)]
HttpUrl = Annotated[str, BeforeValidator(read_http_url)]
Template = Annotated[str, BeforeValidator(read_template)]
TemplateUrl = Annotated[str, BeforeValidator(read_http_url), AfterValidator(read_template)]
Selector = Annotated[str, BeforeValidator(read_selector)]
Regex = Annotated[str, BeforeValidator(read_regex)]
JsonPath = Annotated[str, BeforeValidator(read_json_path)]
ItemsPaths = Annotated[
    tuple[Annotated[str, BeforeValidator(read_items_path)], ...],
    BeforeValidator(read_items_paths),
]
Text = Annotated[str, Field(min_length=1)]
WindowDays = Annotated[int, Field(ge=1, le=365)]
