"""The config file: its schema (the models the program uses), loading, problems and paths.

schema.py    Config and its sections: frozen pydantic models, cross-field checks
load.py      TOML text -> Config, or ConfigError with every problem at once
problems.py  a pydantic error -> "orders[2].paid: expected a number like 4999.00, ..."
paths.py     where the config file and the database live by default
"""

from __future__ import annotations

from monitor.config.load import load_config, parse_config
from monitor.config.paths import APP_NAME, default_config_path, default_database_path
from monitor.config.schema import Config, MonitorSettings, NotifySettings, NotifyTarget

__all__ = [
    "APP_NAME",
    "Config",
    "MonitorSettings",
    "NotifySettings",
    "NotifyTarget",
    "default_config_path",
    "default_database_path",
    "load_config",
    "parse_config",
]
