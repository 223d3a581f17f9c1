"""The machine's defaults: where the config file and the state database live, and the zone
the user's times are shown in."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

APP_NAME = "price-monitor"


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


def system_timezone(env: Mapping[str, str] = os.environ) -> str:
    """Return the machine's IANA time zone: ``$TZ``, else the system's (``/etc/localtime``,
    ``/etc/timezone``, as tzlocal reads them, once a process), else ``UTC``.

    ``$TZ`` may be a name (``Asia/Tokyo``, ``:Asia/Tokyo``) or a path into a zoneinfo folder;
    a value that names no zone (a POSIX rule such as ``CST-8``) is passed over.
    """
    if env.get("TZ"):
        name = zone_in_tz(env["TZ"])
        if name:
            return name
    import tzlocal  # here: only a config without a timezone needs it

    # tzlocal raises on conflicting or unreadable system settings: then UTC.
    with contextlib.suppress(LookupError, ValueError, OSError):
        name = zone_in_tz(tzlocal.get_localzone_name() or "")
        if name:
            return name
    return "UTC"


def zone_in_tz(value: str) -> str | None:
    """Return the IANA zone a ``$TZ`` value names, or None: ``:Asia/Tokyo``,
    ``/usr/share/zoneinfo/right/Asia/Tokyo`` and ``Asia/Tokyo`` all name ``Asia/Tokyo``."""
    name = value.lstrip(":").rpartition("zoneinfo/")[2]
    for variant in ("posix/", "right/"):  # the same zones, with or without leap seconds
        name = name.removeprefix(variant)
    if not name or name.startswith("/"):
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return name
