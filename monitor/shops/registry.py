"""The shop registry: the built-in profiles, a user's ``[shops.NAME]`` sections over them, and
the shop a URL belongs to.

The built-in profiles are data (``catalogue.toml``) read by the same schema as a user's
section, ``monitor.models.Shop``. A section named like a built-in profile overrides its
fields one by one; any other section adds a shop, starting from the ``generic`` profile.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from types import MappingProxyType
from typing import Any

from monitor.models import Shop
from monitor.models.values import Checks

GENERIC = "generic"


@functools.cache
def catalogue() -> Mapping[str, Shop]:
    """Return the built-in profiles by key, read from ``catalogue.toml``.

    Checks that need the HTML parser (selector syntax) are left to the test suite, which
    reads the catalogue thoroughly; at run time the file is trusted data.
    """
    text = resources.files("monitor.shops").joinpath("catalogue.toml").read_text("utf-8")
    tables = tomllib.loads(text, parse_float=Decimal)
    context = Checks(thorough=False)
    return MappingProxyType(
        {key: Shop.named(key, table, context=context) for key, table in tables.items()}
    )


def sections_over_catalogue(sections: Mapping[str, Any], *, timezone: str) -> dict[str, Any]:
    """Given the user's ``[shops]`` table, return every shop's fields, ready to be read.

    Built-in profiles the user leaves alone are returned as they are. A section over a
    built-in profile is that profile's fields with the section's on top; a new shop starts
    from ``generic`` with the user's ``timezone``, its key as its name, and no policy
    warning (the user wrote its policy). A section that is not a table is returned as it is,
    for the schema to refuse.
    """
    shops: dict[str, Any] = dict(catalogue())
    generic = catalogue()[GENERIC]
    for key, section in sections.items():
        if not isinstance(section, dict):
            shops[key] = section
            continue
        base = shops.get(key)
        if isinstance(base, Shop):
            fields = base.fields()
        else:
            fields = {
                **generic.fields(),
                "name": key,
                "timezone": timezone,
                "policy_uncertain": False,
            }
        shops[key] = {**fields, **section, "@key": key}
    return shops


def shop_for_host(host: str, shops: Mapping[str, Shop]) -> Shop | None:
    """Given a URL's host, return the first shop whose domains cover it, or None."""
    for shop in shops.values():
        if shop.matches_host(host):
            return shop
    return None
