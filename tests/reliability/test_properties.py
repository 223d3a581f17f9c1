"""Properties, with hypothesis: prices read back as written, rules that never over-alert, and a
config loader that answers any text with a Config or a ConfigError.

The fast core runs a modest, derandomized number of examples (the same ones every run, so a
red build is reproducible); the `slow` variants draw many more, at random.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config import Config, MonitorSettings, NotifySettings, parse_config
from monitor.errors import ConfigError
from monitor.extract.prices import currency_agrees, parse_price
from monitor.models import (
    AlertKind,
    ApiSpec,
    Availability,
    Claim,
    ClaimState,
    DropAlert,
    Extraction,
    Money,
    Observation,
    Order,
    OrderState,
    ScriptJson,
    Shop,
    Status,
    Threshold,
    WindowStart,
)
from monitor.rules import PLAUSIBLE_DROP, evaluate
from monitor.shops import catalogue

FAST = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SLOW = settings(
    max_examples=3000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# --- (a) prices formatted as shops write them parse back to the same Decimal --------------


def grouped(whole: int, separator: str, *, indian: bool = False) -> str:
    """Write ``whole`` with thousands separators (Indian: 1,23,45,678 - the lakh grouping)."""
    digits = str(whole)
    if not indian or len(digits) <= 3:
        return f"{whole:,}".replace(",", separator)
    head, tail = digits[:-3], digits[-3:]
    pairs = [head[max(i - 2, 0) : i] for i in range(len(head), 0, -2)][::-1]
    return separator.join([*pairs, tail])


def cents(amount: Decimal) -> str:
    return f"{amount:.2f}".split(".")[1]


NBSP = "\u00a0"
# name -> (how a shop writes the amount, the ISO currency it means, whole amounts only)
FORMATS: dict[str, tuple[Callable[[Decimal], str], str, bool]] = {
    "cny-sign": (lambda a: f"¥{grouped(int(a), ',')}.{cents(a)}", "CNY", False),
    "cny-fullwidth": (lambda a: f"￥{int(a)}", "CNY", True),
    "cny-yuan": (lambda a: f"{int(a)}元", "CNY", True),
    "usd": (lambda a: f"${grouped(int(a), ',')}.{cents(a)}", "USD", False),
    "eur": (lambda a: f"{grouped(int(a), '.')},{cents(a)} €", "EUR", False),
    "pln": (lambda a: f"{grouped(int(a), ' ')},{cents(a)} zł", "PLN", False),
    "pln-nbsp": (lambda a: f"{grouped(int(a), NBSP)},{cents(a)}{NBSP}zł", "PLN", False),
    "chf": (lambda a: f"CHF {grouped(int(a), chr(39))}.{cents(a)}", "CHF", False),
    "gbp": (lambda a: f"£{grouped(int(a), ',')}.{cents(a)}", "GBP", False),
    "inr": (lambda a: f"Rs. {grouped(int(a), ',', indian=True)}.{cents(a)}", "INR", False),
    # Whole amounts with a thousands separator and no decimals: "¥4,999", "1.299 €". A lone
    # separator followed by exactly three digits could also be a decimal point with three
    # places (1.299 dinars); price-parser reads it as thousands, which is what shops in
    # two-decimal currencies mean. So amounts are drawn with two places only, never three.
    "cny-whole-grouped": (lambda a: f"¥{grouped(int(a), ',')}", "CNY", True),
    "eur-whole-grouped": (lambda a: f"{grouped(int(a), '.')} €", "EUR", True),
}

AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2).filter(
    lambda a: a.is_finite()
)


def check_round_trip(amount: Decimal, name: str) -> None:
    write, currency, whole = FORMATS[name]
    if whole:
        amount = Decimal(max(int(amount), 1))
    text = write(amount)
    parsed = parse_price(text)
    assert parsed is not None, text
    assert parsed.amount == amount, (text, parsed)
    assert currency_agrees(parsed.currency, currency), (text, parsed)


@FAST
@given(amount=AMOUNTS, name=st.sampled_from(sorted(FORMATS)))
def test_prices_written_as_shops_write_them_parse_back_exactly(amount: Decimal, name: str) -> None:
    check_round_trip(amount, name)


@pytest.mark.slow
@SLOW
@given(amount=AMOUNTS, name=st.sampled_from(sorted(FORMATS)))
def test_prices_round_trip_many_more(amount: Decimal, name: str) -> None:
    check_round_trip(amount, name)


@pytest.mark.parametrize(
    ("amount", "name", "text"),
    [
        (Decimal("4999.00"), "cny-sign", "¥4,999.00"),
        (Decimal("1299.00"), "pln-nbsp", "1\u00a0299,00\u00a0zł"),
        (Decimal("123456.00"), "inr", "Rs. 1,23,456.00"),
        (Decimal("12345678.00"), "inr", "Rs. 1,23,45,678.00"),
        (Decimal("1299.50"), "chf", "CHF 1'299.50"),
    ],
)
def test_the_formats_are_written_as_shops_write_them(amount: Decimal, name: str, text: str) -> None:
    assert FORMATS[name][0](amount) == text


# --- (b) the rules never over-alert ---------------------------------------------------------

SHOPS = [catalogue()[name] for name in ("jd", "apple", "target", "costco")]
BASE: dict[str, Any] = {
    "id": "P-1",
    "shop": "jd",
    "url": "https://shop.example/p/1",
    "title": "Phone",
    "paid": Decimal("4999.00"),
    "currency": "CNY",
    "quantity": 1,
    "ordered": date(2026, 11, 20),
    "delivered": None,
    "window_days": 7,
    "payment": None,
    "installments": None,
    "threshold": Threshold(amount=Decimal(1)),
    "interval": timedelta(hours=1),
}


@dataclasses.dataclass(frozen=True)
class Scenario:
    order: Order
    shop: Shop
    claim: Claim | None
    readings: list[tuple[datetime, Decimal, Availability, bool]]

    @property
    def window(self) -> tuple[datetime, datetime]:
        """The window, worked out here from the README's words, not from the rules module."""
        tz = ZoneInfo(self.shop.timezone)
        first = self.order.ordered
        if self.shop.window_starts is WindowStart.DELIVERY and self.order.delivered is not None:
            first = self.order.delivered
        start = datetime.combine(first, time.min, tzinfo=tz)
        end = datetime.combine(first + timedelta(days=self.order.window_days + 1), time.min, tz)
        return start, end


def two_places(low: Decimal, high: Decimal) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=low, max_value=high, places=2)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    shop = draw(st.sampled_from(SHOPS))
    paid = draw(two_places(Decimal("1.00"), Decimal("99999.99")))
    threshold = draw(
        st.one_of(
            two_places(Decimal(0), paid / 2).map(lambda a: Threshold(amount=a)),
            st.decimals(min_value=0, max_value=50, places=1).map(lambda p: Threshold(percent=p)),
        )
    )
    ordered = draw(st.dates(date(2025, 1, 1), date(2027, 12, 31)))
    delivered = draw(st.none() | st.integers(0, 10).map(lambda d: ordered + timedelta(days=d)))
    order = Order.model_validate(
        {
            **BASE,
            "shop": shop.key,
            "paid": paid,
            "currency": shop.currency,
            "quantity": draw(st.integers(1, 5)),
            "ordered": ordered,
            "delivered": delivered,
            "window_days": draw(st.integers(1, 30)),
            "threshold": threshold,
        }
    )
    minimum = threshold.of(paid)
    # Prices near every boundary that matters: the threshold, the plausibility bound, and
    # the paid price itself, besides anything at all up to twice what was paid.
    price = st.one_of(
        two_places(Decimal("0.01"), paid * 2),
        st.sampled_from(
            [
                paid,
                (paid - minimum).quantize(Decimal("0.01")),
                (paid - minimum).quantize(Decimal("0.01")) + Decimal("0.01"),
                (paid - minimum).quantize(Decimal("0.01")) - Decimal("0.01"),
                (paid * (1 - PLAUSIBLE_DROP)).quantize(Decimal("0.01")),
            ]
        ).filter(lambda p: p > 0),
        two_places(max(paid - 3 * minimum, Decimal("0.01")), paid),
    )
    claim = draw(
        st.none()
        | two_places(Decimal("0.01"), paid).map(
            lambda p: Claim(
                order.id,
                ClaimState.CLAIMED,
                Money(p, order.currency),
                Money((paid - p) * order.quantity, order.currency) if p < paid else None,
                datetime(2025, 1, 1, tzinfo=UTC),
            )
        )
    )
    start = datetime.combine(ordered, time.min, tzinfo=UTC)
    span = (order.window_days + 16) * 24 * 60
    minutes = sorted(draw(st.lists(st.integers(-3 * 24 * 60, span), min_size=1, max_size=25)))
    readings = [
        (
            start + timedelta(minutes=m),
            draw(price),
            draw(st.sampled_from(list(Availability))),
            draw(st.booleans() | st.just(True)),
        )
        for m in minutes
    ]
    return Scenario(order, shop, claim, readings)


def check_rules(scenario: Scenario) -> None:
    order, shop = scenario.order, scenario.shop
    paid = order.paid
    minimum = order.threshold.of(paid)
    start, end = scenario.window
    alerted: list[Decimal] = []  # the outbox: every claim alert's price, in order
    keys: set[str] = set()
    for now, amount, availability, confirmed in scenario.readings:
        observation = Observation(
            order.url,
            now,
            Extraction(
                Status.PRICE,
                price=Money(amount, order.currency),
                availability=availability,
                variant_confirmed=confirmed,
            ),
        )
        last = Money(min(alerted), order.currency) if alerted else None
        state = OrderState(last_alerted=last, claims=(scenario.claim,) if scenario.claim else ())
        alerts = evaluate(order, shop, observation, state, now)
        if not start <= now < end or availability is Availability.OUT_OF_STOCK:
            assert alerts == [], (now, start, end)
            continue
        assert len(alerts) <= 1
        for alert in alerts:
            # A drop is owed when the price is at least the threshold below what was paid:
            # exactly at the threshold alerts (README), anything above it never does.
            seen = alert.current if isinstance(alert, DropAlert) else alert.seen
            assert seen.amount < paid and paid - seen.amount >= minimum
            if not isinstance(alert, DropAlert):
                assert alert.kind is AlertKind.NEEDS_REVIEW
                continue
            assert alert.dedupe_key not in keys, alert.dedupe_key  # never the same claim twice
            keys.add(alert.dedupe_key)
            assert alert.drop.amount == paid - amount
            assert alert.total.amount == (paid - amount) * order.quantity
            # It asks for what is owed now: the total less what the claim already asked for.
            pending = (
                scenario.claim.amount.amount if scenario.claim and scenario.claim.amount else 0
            )
            assert alert.asked.amount == alert.total.amount - pending > 0
            baseline = [m.amount for m in (state.baseline,) if m is not None]
            if baseline:
                # Lower than every earlier claim alert and the claim, by the threshold.
                assert alert.kind is AlertKind.FURTHER_DROP
                assert amount < baseline[0] and baseline[0] - amount >= minimum
                assert alert.further is not None
                assert alert.further.amount == baseline[0] - amount
            else:
                assert alert.kind is AlertKind.DROP
            assert all(amount < earlier for earlier in alerted)
            alerted.append(amount)


@FAST
@given(scenario=scenarios())
def test_the_rules_never_over_alert(scenario: Scenario) -> None:
    check_rules(scenario)


@pytest.mark.slow
@SLOW
@given(scenario=scenarios())
def test_the_rules_never_over_alert_many_more(scenario: Scenario) -> None:
    check_rules(scenario)


# --- (c) the config loader: any text gives a Config or a ConfigError --------------------------

CONFIG_PATH = Path("/nonexistent-price-monitor/config.toml")
SECTIONS: dict[str, type[pydantic.BaseModel]] = {
    "monitor": MonitorSettings,
    "notify": NotifySettings,
    "shops": Shop,
    "orders": Order,
    "api": ApiSpec,
    "script_json": ScriptJson,
}
# The keys a config file may write: a shop's ``key`` is its table's name, not a key of its own.
KEYS = sorted(
    {
        key
        for model in SECTIONS.values()
        for key, field in model.model_fields.items()
        if not field.exclude
    }
    | set(SECTIONS)
)
# Values the real keys take, right and wrong, besides random ones.
PLAUSIBLE = [
    *("2h", "0s", "1h30m", "45s", "-1h", "", " ", "99999999999d", "1000000000d"),
    *("4999.00", "4,999", "0", "2%", "150%", "CNY", "usd", "EURO"),
    *("Asia/Shanghai", "UTC", "Asia", "Mars/Base", "America/New_York"),
    *("22:00-07:30", "07:30-07:30", "25:00-01:00"),
    *("json://127.0.0.1:9/x", "tgram://123:abc/456", "${TOKEN}", "mailto://u:p@example.com"),
    *(
        "http://127.0.0.1/p",
        "https://www.mi.com/shop/buy/detail?product_id=1",
        "ftp://x",
        "http://[::1",
    ),
    *(".price", "span#price", "meta[itemprop=price]@content", "[[[", "@", "(\\d+)", "(a)(b)"),
    *("a{4294967296}", "~nosuchuser-pm/x", "~/x", "/nonexistent/x", "."),
    *("xiaomi", "jd", "generic", "testmall", "jdd", "order", "delivery", "installments"),
    *("card", "always", "unclaimed", "zh", "en", "fr", "2026-11-20", "2026-02-30"),
]

KEY = st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=12))
SCALAR = st.one_of(
    st.sampled_from(PLAUSIBLE),
    st.text(max_size=24),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.decimals(min_value=-(10**7), max_value=10**7, places=2),
    st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("1E+400")]),
    st.dates(),
    st.datetimes(timezones=st.none() | st.just(UTC)),
    st.times(),
)


def values(depth: int) -> st.SearchStrategy[Any]:
    if depth == 0:
        return SCALAR
    inner = values(depth - 1)
    return st.one_of(
        SCALAR,
        st.lists(inner, max_size=4),
        st.dictionaries(KEY, inner, max_size=6),
    )


TABLE = st.dictionaries(KEY, values(2), max_size=10)
DOCUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "monitor": TABLE,
        "notify": st.dictionaries(
            KEY, st.one_of(values(1), st.lists(st.sampled_from(PLAUSIBLE) | TABLE, max_size=3))
        ),
        "shops": st.dictionaries(
            st.sampled_from(["jd", "mine", "generic"]) | KEY, TABLE, max_size=3
        ),
        "orders": st.lists(TABLE, max_size=3),
        "extra": values(1),
    },
)

# A config that loads, to be mutated: most random documents fail early, at the first wrong
# section; a valid one with a few values changed reaches the cross-field checks too.
VALID: dict[str, Any] = {
    "monitor": {"interval": "2h", "timezone": "Asia/Shanghai", "threshold": "2%", "retries": 1},
    "notify": {
        "urls": ["json://127.0.0.1:9/alerts", {"url": "json://127.0.0.1:9/b", "tags": ["phone"]}],
        "quiet_hours": "22:00-07:30",
    },
    "shops": {
        "jd": {"min_interval": "30m"},
        "mine": {
            "name": "My shop",
            "currency": "EUR",
            "window_days": 14,
            "regex": "(\\d+[.,]\\d{2}) EUR",
            "api": {"url": "https://api.mine.example/p", "ids": {"id": "/p/(\\d+)"}},
        },
    },
    "orders": [
        {
            "id": "5231120712345678",
            "shop": "jd",
            "url": "https://item.jd.com/100012345678.html",
            "title": "Phone",
            "paid": Decimal("4999.00"),
            "ordered": date(2026, 11, 20),
            "delivered": date(2026, 11, 22),
            "payment": "installments",
            "installments": 12,
            "tags": ["phone"],
        },
        {
            "id": 42,
            "shop": "mine",
            "url": "https://www.mine.example/p/42",
            "title": "Grinder",
            "paid": "189.00",
            "ordered": "2026-11-21",
            "selector": "span.price",
        },
    ],
}


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """The valid config with one to four values replaced, removed or added."""
    document = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        node: Any = document
        while True:  # walk down to a random table
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if not isinstance(child, dict | list) or draw(st.booleans()):
                break
            node = child
        if not isinstance(node, dict):
            continue
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "replace" and node:
            node[draw(st.sampled_from(sorted(node)))] = draw(values(1))
        elif action == "remove" and node:
            del node[draw(st.sampled_from(sorted(node)))]
        else:
            node[draw(KEY)] = draw(values(1))
    return document


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_string(text: str) -> str:
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def toml_key(key: str) -> str:
    return key if _BARE.match(key) else toml_string(key)


def toml_value(value: Any) -> str:
    """A tiny TOML writer for values: enough for what the strategies draw."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if value.is_nan():
            return "nan"
        if value.is_infinite():
            return "-inf" if value < 0 else "inf"
        text = str(value)
        return text if any(c in text for c in ".eE") else text + ".0"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def toml_document(document: dict[str, Any]) -> str:
    """Write a document: plain keys first, then [tables], then [[arrays of tables]]."""
    lines: list[str] = []

    def table(data: dict[str, Any], path: list[str]) -> None:
        header = ".".join(toml_key(p) for p in path)
        subtables = {k: v for k, v in data.items() if isinstance(v, dict)}
        arrays = {
            k: v
            for k, v in data.items()
            if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)
        }
        for key, value in data.items():
            if key not in subtables and key not in arrays:
                lines.append(f"{toml_key(key)} = {toml_value(value)}")
        for key, value in subtables.items():
            lines.append(f"\n[{header + '.' if header else ''}{toml_key(key)}]")
            table(value, [*path, key])
        for key, items in arrays.items():
            for item in items:
                lines.append(f"\n[[{header + '.' if header else ''}{toml_key(key)}]]")
                table(item, [*path, key])

    table(document, [])
    return "\n".join(lines) + "\n"


def check_config_text(text: str) -> None:
    try:
        config = parse_config(text, path=CONFIG_PATH, env={})
    except ConfigError as exc:
        assert exc.problems, text
        assert all(problem.message.strip() for problem in exc.problems), exc.problems
        assert str(exc)
    else:
        assert isinstance(config, Config)


@FAST
@given(document=DOCUMENTS | mutated())
def test_random_toml_documents_give_a_config_or_a_config_error(document: dict[str, Any]) -> None:
    check_config_text(toml_document(document))


TOML_BITS = st.sampled_from(
    ["[monitor]\n", "[notify]\n", "[[orders]]\n", "[shops.x]\n", " = ", '"', "'''", "\n", "[", "]"]
)


@FAST
@given(text=st.lists(st.text(max_size=20) | TOML_BITS | st.sampled_from(PLAUSIBLE), max_size=30))
def test_random_text_gives_a_config_or_a_config_error(text: list[str]) -> None:
    check_config_text("".join(text))


@pytest.mark.slow
@SLOW
@given(document=DOCUMENTS | mutated())
def test_random_toml_documents_many_more(document: dict[str, Any]) -> None:
    check_config_text(toml_document(document))


@pytest.mark.slow
@SLOW
@given(text=st.lists(st.text(max_size=20) | TOML_BITS | st.sampled_from(PLAUSIBLE), max_size=30))
def test_random_text_many_more(text: list[str]) -> None:
    check_config_text("".join(text))


def test_the_config_the_fuzzer_mutates_is_valid() -> None:
    config = parse_config(toml_document(VALID), path=CONFIG_PATH, env={})
    assert [o.id for o in config.orders] == ["5231120712345678", "42"]


def test_the_toml_writer_writes_what_tomllib_reads() -> None:
    document = {
        "monitor": {"interval": "2h", "retries": 2, "threshold": Decimal("1.5")},
        "shops": {"my shop": {"api": {"url": "http://x/", "ids": {"a": "(\\d+)"}}}},
        "orders": [{"id": 1, "ordered": date(2026, 11, 20)}, {"id": 'x\u0001"y'}],
    }
    assert tomllib.loads(toml_document(document), parse_float=Decimal) == document


# The crashes the fuzzer found, one by one: each should be a ConfigError naming its key.
def unreadable_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    folder.chmod(0)
    if not os.access(folder, os.R_OK):
        return folder
    for candidate in (Path("/proc/1/map_files"), Path("/proc/self/map_files")):
        try:
            list(candidate.iterdir())
        except PermissionError:
            return candidate
        except OSError:
            continue
    pytest.skip("no folder this user cannot list (running as root with CAP_SYS_ADMIN?)")


SPECIAL = {
    "an-order-of-a-custom-shop-with-a-bad-field": (
        '[shops.mine]\nname = "My shop"\ncurrency = "EURO"\nwindow_days = 14\n\n'
        '[[orders]]\nid = "1"\nshop = "mine"\nurl = "https://www.mine.example/p/1"\n'
        'title = "Grinder"\npaid = 189.00\nordered = 2026-11-20\n'
    ),
    "a-regex-repeat-too-large": '[shops.mine]\nregex = "a{4294967296}"\n',
    "an-orders-shop-that-is-not-text": (
        '[[orders]]\nid = "1"\nshop = []\nurl = "https://www.mi.com/p"\ntitle = "t"\n'
        "paid = 1\nordered = 2026-11-20\n"
    ),
}


def config_bugs() -> Iterator[Any]:
    cases = [
        (
            "database-under-an-unknown-users-home",
            'database = "~nosuchuser-pm/state.db"',
            "monitor.database",
            "config.py _build: Path.expanduser() raises RuntimeError for ~user with no such user",
        ),
        (
            "a-duration-too-long-for-timedelta",
            'interval = "99999999999d"',
            "monitor.interval",
            "config.py parse_duration: timedelta() raises OverflowError, not a PydanticCustomError",
        ),
        (
            "a-regex-repeat-too-large",
            None,
            "shops.mine.regex",
            "config.py _regex: re.compile raises OverflowError for a{4294967296}; only re.error is caught",
        ),
        (
            "a-timezone-naming-a-folder-of-zones",
            'timezone = "Asia"',
            "monitor.timezone",
            "config.py _timezone: ZoneInfo('Asia') raises IsADirectoryError (an OSError); only "
            "ZoneInfoNotFoundError and ValueError are caught",
        ),
        (
            "a-timezone-name-too-long",
            f'timezone = "Asia/{"x" * 300}"',
            "monitor.timezone",
            "config.py _timezone: ZoneInfo raises OSError (file name too long)",
        ),
    ]
    cases.append(
        (
            "an-orders-shop-that-is-not-text",
            None,
            "orders[0].shop",
            "config.py _build: `raw_order.get('shop') not in broken_shops` raises TypeError "
            "(unhashable) when shop is an array or a table",
        )
    )
    cases.append(
        (
            "an-order-of-a-custom-shop-with-a-bad-field",
            None,
            "shops.mine.currency",
            "config.py _build: a [shops.NAME] that fails validation is left out of `shops`, "
            "and an order naming it reaches `shops[section.shop]`: KeyError (in the daemon, "
            "the config watcher task dies and hot reload stops for good)",
        )
    )
    # Each case once crashed the loader (the fourth item says how); now each is a problem.
    for name, line, where, _crash in cases:
        text = f"[monitor]\n{line}\n" if line else SPECIAL[name]
        yield pytest.param(text, where, id=name)


@pytest.mark.parametrize(("text", "where"), list(config_bugs()))
def test_config_values_that_crashed_the_loader_are_problems(text: str, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path=CONFIG_PATH, env={})
    assert where in [p.path for p in caught.value.problems]


def test_templates_under_an_unknown_users_home_are_a_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config('[notify]\ntemplates = "~nosuchuser-pm/t"\n', path=CONFIG_PATH, env={})
    assert [p.path for p in caught.value.problems] == ["notify.templates"]


def test_a_templates_folder_that_cannot_be_listed_is_a_problem(tmp_path: Path) -> None:
    folder = unreadable_folder(tmp_path)
    try:
        with pytest.raises(ConfigError) as caught:
            parse_config(f'[notify]\ntemplates = "{folder}"\n', path=CONFIG_PATH, env={})
    finally:
        if folder.is_relative_to(tmp_path):
            folder.chmod(0o700)
    assert [p.path for p in caught.value.problems] == ["notify.templates"]
