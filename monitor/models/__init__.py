"""The nouns every other module speaks: money, orders, shops, windows, observations, alerts.

Everything here is immutable and free of I/O: frozen dataclasses for values the program
makes, frozen pydantic models for what the config file says (an ``Order``, a ``Shop``).
Money is ``Decimal``, never float; every ``datetime`` is timezone-aware; every state is an
enum (``states.py``).
"""

from __future__ import annotations

from monitor.models.alerts import (
    DropAlert,
    Evidence,
    FailureAlert,
    Message,
    PriceAlert,
    ReviewAlert,
    WindowAlert,
    dedupe_key,
    product_subject,
)
from monitor.models.claims import Claim, OrderState
from monitor.models.money import ZERO_DECIMAL_CURRENCIES, Money, Threshold
from monitor.models.observation import (
    Candidate,
    Disagreement,
    Extraction,
    Observation,
    PendingDrop,
    PriceRun,
    ProductState,
)
from monitor.models.order import Order, Product
from monitor.models.shop import ApiSpec, ScriptJson, Shop, Source
from monitor.models.states import (
    CLAIM_KINDS,
    URGENT_KINDS,
    AlertKind,
    Availability,
    ClaimState,
    Language,
    OutboxStatus,
    PageVerdict,
    Payment,
    RangeEnd,
    RefundForm,
    Remind,
    ReviewReason,
    Status,
    WindowSource,
    WindowStart,
)
from monitor.models.values import Frozen
from monitor.models.window import QuietHours, Window, window_for

__all__ = [
    "CLAIM_KINDS",
    "URGENT_KINDS",
    "ZERO_DECIMAL_CURRENCIES",
    "AlertKind",
    "ApiSpec",
    "Availability",
    "Candidate",
    "Claim",
    "ClaimState",
    "Disagreement",
    "DropAlert",
    "Evidence",
    "Extraction",
    "FailureAlert",
    "Frozen",
    "Language",
    "Message",
    "Money",
    "Observation",
    "Order",
    "OrderState",
    "OutboxStatus",
    "PageVerdict",
    "Payment",
    "PendingDrop",
    "PriceAlert",
    "PriceRun",
    "Product",
    "ProductState",
    "QuietHours",
    "RangeEnd",
    "RefundForm",
    "Remind",
    "ReviewAlert",
    "ReviewReason",
    "ScriptJson",
    "Shop",
    "Source",
    "Status",
    "Threshold",
    "Window",
    "WindowAlert",
    "WindowSource",
    "WindowStart",
    "dedupe_key",
    "product_subject",
    "window_for",
]
