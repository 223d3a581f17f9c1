"""price-monitor: watch what you already bought while its price-protection window is open."""

from __future__ import annotations

__version__ = "0.1.0"
