"""The built-in shop catalogue is data, read by the same schema as a user's [shops.NAME]."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources

import pytest
from pydantic import ValidationError

from monitor.models import Shop
from monitor.models.values import Checks
from monitor.shops import catalogue, sections_over_catalogue, shop_for_host

TABLES = tomllib.loads(
    resources.files("monitor.shops").joinpath("catalogue.toml").read_text("utf-8"),
    parse_float=Decimal,
)


@pytest.mark.parametrize("key", sorted(TABLES))
def test_every_builtin_profile_validates_thoroughly(key: str) -> None:
    """Selectors are parsed too (the runtime load trusts the file and skips that)."""
    shop = Shop.named(key, TABLES[key], context=Checks(thorough=True))
    assert shop == catalogue()[key]
    assert shop.claim and shop.refund_path and shop.name


def test_a_typo_in_a_profile_would_be_refused() -> None:
    with pytest.raises(ValidationError, match="window_dayz"):
        Shop.named("jd", {**TABLES["jd"], "window_dayz": 7})


def test_a_section_overrides_a_builtin_field_by_field_or_adds_a_shop() -> None:
    shops = sections_over_catalogue(
        {"jd": {"window_days": 30}, "mine": {"currency": "EUR"}}, timezone="Europe/Berlin"
    )
    jd = Shop.model_validate(shops["jd"])
    assert (jd.window_days, jd.name, jd.api) == (30, "京东", catalogue()["jd"].api)
    mine = Shop.model_validate(shops["mine"])
    assert (mine.key, mine.name, mine.currency, mine.timezone) == (
        "mine",
        "mine",
        "EUR",
        "Europe/Berlin",
    )
    assert not mine.policy_uncertain  # the user wrote its policy
    assert shops["xiaomi"] is catalogue()["xiaomi"]  # left alone


def test_a_url_finds_its_shop_by_domain() -> None:
    shops = catalogue()
    assert shop_for_host("item.jd.com", shops) is shops["jd"]
    assert shop_for_host("WWW.MI.COM.", shops) is shops["xiaomi"]
    assert shop_for_host("notjd.com", shops) is None
