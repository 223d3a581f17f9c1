"""The shops: the built-in catalogue (``catalogue.toml``, data) and the registry over it.

An explicit registry, no import magic: adding a shop means adding a table to
``catalogue.toml`` (and a fixture page for it under ``tests/fixtures/shops/``).
"""

from __future__ import annotations

from monitor.shops.registry import catalogue, sections_over_catalogue, shop_for_host

__all__ = ["catalogue", "sections_over_catalogue", "shop_for_host"]
