"""The shop registry: built-in profiles by key, plus the user's ``[shops.NAME]`` sections.

An explicit dict, no import magic: adding a shop means adding a profile to
``catalogue.BUILTIN_SHOPS`` (and a fixture page for it).
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.shops.base import ApiSpec, ScriptJson, Shop
from monitor.shops.catalogue import BUILTIN_SHOPS

__all__ = ["BUILTIN", "ApiSpec", "ScriptJson", "Shop", "shop_for_host"]

BUILTIN: Mapping[str, Shop] = {shop.key: shop for shop in BUILTIN_SHOPS}


def shop_for_host(host: str, shops: Mapping[str, Shop]) -> Shop | None:
    """Given a URL's host, return the first shop whose domains cover it, or None."""
    for shop in shops.values():
        if shop.matches_host(host):
            return shop
    return None
