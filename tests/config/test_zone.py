"""The user's zone: the machine's unless ``[monitor] timezone`` names one; a custom shop's
windows are counted in it, a built-in shop's in the shop's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import parse_config
from monitor.config.paths import system_timezone
from monitor.testing import TEST_SHOPS

ORDERS = """
[shops.corner]
name = "Corner Shop"
currency = "EUR"
window_days = 14

[[orders]]
id = "C-1"
shop = "corner"
url = "https://corner.example/p/1"
title = "Kettle"
paid = "49.00"
ordered = 2026-11-20

[[orders]]
id = "J-1"
shop = "jd"
url = "https://item.jd.com/100012043978.html"
title = "Phone"
paid = "4999.00"
ordered = 2026-11-20
"""


@pytest.mark.parametrize(
    ("tz", "zone"),
    [
        ("Asia/Tokyo", "Asia/Tokyo"),
        (":America/New_York", "America/New_York"),  # glibc's "a file" prefix
        ("/usr/share/zoneinfo/Europe/Paris", "Europe/Paris"),
        ("/usr/share/zoneinfo/right/Asia/Shanghai", "Asia/Shanghai"),  # with leap seconds
        ("posix/Asia/Shanghai", "Asia/Shanghai"),
        ("CST-8", "UTC"),  # a POSIX rule, not a zone: passed over
        ("not/a zone", "UTC"),  # passed over: then the system's, which is the suite's UTC
    ],
)
def test_the_machines_zone_is_read_from_tz(tz: str, zone: str) -> None:
    assert system_timezone({"TZ": tz}) == zone


def test_without_tz_the_systems_zone_is_used() -> None:
    assert system_timezone({}) == "UTC"  # tzlocal reads the suite's TZ=UTC


def test_no_timezone_means_the_machines_for_the_user_and_custom_shops(tmp_path: Path) -> None:
    config = parse_config(ORDERS, path=tmp_path / "config.toml", env={"TZ": "Asia/Tokyo"})
    assert config.monitor.timezone == "Asia/Tokyo"
    assert config.shops["corner"].timezone == "Asia/Tokyo"
    assert config.shops["jd"].timezone == "Asia/Shanghai"  # a built-in shop keeps its own


def test_a_named_timezone_wins_over_the_machines(tmp_path: Path) -> None:
    text = '[monitor]\ntimezone = "Europe/Berlin"\n' + ORDERS
    config = parse_config(text, path=tmp_path / "config.toml", env={"TZ": "Asia/Tokyo"})
    assert (config.monitor.timezone, config.shops["corner"].timezone) == (
        "Europe/Berlin",
        "Europe/Berlin",
    )


def test_a_custom_shop_may_name_its_own_zone(tmp_path: Path) -> None:
    config = parse_config(TEST_SHOPS, path=tmp_path / "config.toml", env={"TZ": "Asia/Tokyo"})
    assert config.shops["teststore"].timezone == "America/New_York"


def test_a_tz_that_names_no_zone_is_a_warning_that_says_what_is_used(tmp_path: Path) -> None:
    config = parse_config(ORDERS, path=tmp_path / "config.toml", env={"TZ": "CST-8"})
    assert config.monitor.timezone == "UTC"
    assert (
        "TZ=CST-8 names no time zone, so times are shown in UTC; set [monitor] timezone, e.g. "
        'timezone = "Asia/Shanghai"'
    ) in config.warnings
    named = parse_config(
        '[monitor]\ntimezone = "Asia/Shanghai"\n' + ORDERS,
        path=tmp_path / "config.toml",
        env={"TZ": "CST-8"},
    )
    assert not any("TZ=" in w for w in named.warnings)  # the config's zone is used: no matter
