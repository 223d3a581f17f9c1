"""Where things live by default: the config file and the state database."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

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
