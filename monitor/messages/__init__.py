"""Messages: alerts put into words, in the shop's language, ready for the outbox.

compose.py    alert + order + shop -> Message (pure)
fields.py     what each template may say: one typed definition per template
templates.py  the packaged templates, a user's replacements, and their check
words.py      the short phrases, per language
format.py     money, times, zones and time left as people write them
"""

from __future__ import annotations

from monitor.messages.compose import (
    PACKAGED,
    compose,
    compose_config_refused,
    compose_failure,
    compose_window,
    notify_test_message,
    support_request,
)
from monitor.messages.format import (
    format_deadline,
    format_duration,
    format_money,
    format_time,
    format_time_left,
    zone_name,
)
from monitor.messages.templates import TemplateStore

__all__ = [
    "PACKAGED",
    "TemplateStore",
    "compose",
    "compose_config_refused",
    "compose_failure",
    "compose_window",
    "format_deadline",
    "format_duration",
    "format_money",
    "format_time",
    "format_time_left",
    "notify_test_message",
    "support_request",
    "zone_name",
]
