"""The nouns every other module speaks: money, orders, shops, windows, observations, alerts.

Everything here is immutable and free of I/O: frozen dataclasses for values the program
makes, frozen pydantic models for what the config file says (an ``Order``, a ``Shop``).
Money is ``Decimal``, never float; every ``datetime`` is timezone-aware; every state is an
enum (``states.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.models.lazy import lazy_attributes

if TYPE_CHECKING:
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
        LOGIN_PAGE,
        URGENT_KINDS,
        AlertKind,
        Availability,
        ClaimState,
        FetchMode,
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

# Each noun's module, loaded when the noun is first asked for (PEP 562): a page reader, which
# needs the observation's values and the shop, never loads the orders, windows and alerts
# (about 45 ms of pydantic model building in every fork server's start).
_HOME = {
    "DropAlert": "alerts",
    "Evidence": "alerts",
    "FailureAlert": "alerts",
    "Message": "alerts",
    "PriceAlert": "alerts",
    "ReviewAlert": "alerts",
    "WindowAlert": "alerts",
    "dedupe_key": "alerts",
    "product_subject": "alerts",
    "Claim": "claims",
    "OrderState": "claims",
    "ZERO_DECIMAL_CURRENCIES": "money",
    "Money": "money",
    "Threshold": "money",
    "Candidate": "observation",
    "Disagreement": "observation",
    "Extraction": "observation",
    "Observation": "observation",
    "PendingDrop": "observation",
    "PriceRun": "observation",
    "ProductState": "observation",
    "Order": "order",
    "Product": "order",
    "ApiSpec": "shop",
    "ScriptJson": "shop",
    "Shop": "shop",
    "Source": "shop",
    "CLAIM_KINDS": "states",
    "URGENT_KINDS": "states",
    "AlertKind": "states",
    "FetchMode": "states",
    "LOGIN_PAGE": "states",
    "Availability": "states",
    "ClaimState": "states",
    "Language": "states",
    "OutboxStatus": "states",
    "PageVerdict": "states",
    "Payment": "states",
    "RangeEnd": "states",
    "RefundForm": "states",
    "Remind": "states",
    "ReviewReason": "states",
    "Status": "states",
    "WindowSource": "states",
    "WindowStart": "states",
    "Frozen": "values",
    "QuietHours": "window",
    "Window": "window",
    "window_for": "window",
}


__getattr__ = lazy_attributes(__name__, _HOME, globals())


__all__ = [
    "CLAIM_KINDS",
    "LOGIN_PAGE",
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
    "FetchMode",
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
