"""Alerts into words (per-language templates, with the support request) and outbox delivery.

``compose`` is pure: an Alert plus the order and shop in, a Message out. ``deliver_due``
sends what the outbox holds through the Notifier and records each outcome, so an alert is
written before it is sent, marked sent once delivered, and retried with backoff otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from monitor.channels import Notifier
from monitor.config import Order
from monitor.history import History
from monitor.models import ZERO_DECIMAL_CURRENCIES, Alert, AlertKind, Message, Money, Window
from monitor.shops import Shop

logger = logging.getLogger(__name__)

RULE = "────────────────────────"
SIGNS = {"CNY": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "INR": "₹"}

_WORDS: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "drop": "可申请退差价 {total}：{title}（订单 {order_id}）",
        "further_drop": "又降价了，可再申请 {further_total}：{title}（订单 {order_id}）",
        "needs_review": "请人工核实：{title} 显示 {current}（订单 {order_id}）",
        "headline_drop": "💰 可以申请价保了！",
        "headline_further_drop": "💰 又降价了：比上次提醒的 {last} 又低了 {further}/件，可再申请 {further_total}。",
        "card": "银行卡",
        "alipay": "支付宝",
        "wechat": "微信支付",
        "installments": "分期付款（{n} 期）",
        "other": "其他",
        "unstated": "未注明",
        "not_delivered": "未填写",
        "installment_note": (
            "本单为 {n} 期分期付款：请将差价按原支付路径退回；如无法退回分期账户，"
            "请退至付款账户，并告知分期计划如何调整。"
        ),
        "plain_note": "请将差价按原支付方式退回。",
        "estimated": "（按下单日估算，签收后请补填 delivered）",
        "uncertain": "提示：以上价保规则仅供参考，请以{shop_name}当前政策为准。",
        "sku": "，SKU {sku}",
    },
    "en": {
        "drop": "Price drop: claim {total} on {title} (order {order_id})",
        "further_drop": "Further drop: claim {further_total} more on {title} (order {order_id})",
        "needs_review": "Check this yourself: {title} shows {current} (order {order_id})",
        "headline_drop": "💰 You can claim a price adjustment.",
        "headline_further_drop": "💰 Lower again: {further} below the {last} of the last alert, so {further_total} more to claim.",
        "card": "card",
        "alipay": "Alipay",
        "wechat": "WeChat Pay",
        "installments": "installments ({n} payments)",
        "other": "other",
        "unstated": "not stated",
        "not_delivered": "not recorded",
        "installment_note": (
            "This order is paid in {n} installments: please return the difference along the "
            "original payment path (or to the paying account if the plan cannot take it) and "
            "tell me how the installment plan changes."
        ),
        "plain_note": "Please refund the difference to my original payment method.",
        "estimated": " (counted from the order date; add the delivery date when it arrives)",
        "uncertain": "Note: these policy details may be out of date; check {shop_name}'s current policy.",
        "sku": ", SKU {sku}",
    },
}


def format_money(money: Money) -> str:
    """Return money as people write it: ``¥4,999.00``, ``$199.00``, ``1,299.00 CHF``."""
    places = 0 if money.currency in ZERO_DECIMAL_CURRENCIES else 2
    digits = f"{money.rounded():,.{places}f}"
    sign = SIGNS.get(money.currency)
    return f"{sign}{digits}" if sign else f"{digits} {money.currency}"


def format_time(moment: datetime, tz: ZoneInfo) -> str:
    """Return a time in ``tz`` as ``2026-11-26 21:30 UTC+08:00``."""
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} UTC{offset[:3]}:{offset[3:]}"


def format_deadline(window: Window) -> str:
    """Return the last moment of the window in the shop's zone, e.g. ``2026-12-03 23:59``."""
    last = window.deadline - timedelta(minutes=1)
    return f"{last:%Y-%m-%d %H:%M}"


@cache
def template(name: str, language: str) -> str:
    """Return the packaged template ``name`` (drop, support, needs_review) for a language."""
    return (resources.files("monitor") / "templates" / f"{name}.{language}.txt").read_text("utf-8")


def compose(alert: Alert, order: Order, shop: Shop, *, now: datetime) -> Message:
    """Given an alert and its order and shop, return the message to send, in the shop's language."""
    language = shop.language
    words = _WORDS[language]
    fields = _fields(alert, order, shop, now=now)
    if alert.kind is AlertKind.NEEDS_REVIEW:
        title = words["needs_review"].format(**fields)
        body = template("needs_review", language).format(**fields)
    else:
        fields["headline"] = words[f"headline_{alert.kind.value}"].format(**fields)
        fields["support_request"] = support_request(alert, order, shop, now=now).rstrip()
        title = words[alert.kind.value].format(**fields)
        body = template("drop", language).format(**fields)
    return Message(
        dedupe_key=alert.dedupe_key,
        order_id=order.id,
        kind=alert.kind,
        title=title,
        body=_tidy(body),
        tags=order.tags,
        price=alert.current,
    )


def support_request(alert: Alert, order: Order, shop: Shop, *, now: datetime) -> str:
    """Return the text the user pastes into the shop's support chat, in the shop's language."""
    return _tidy(template("support", shop.language).format(**_fields(alert, order, shop, now=now)))


def _fields(alert: Alert, order: Order, shop: Shop, *, now: datetime) -> dict[str, str]:
    words = _WORDS[shop.language]
    tz = ZoneInfo(shop.timezone)
    n = str(order.installments or "")
    payment = words[order.payment or "unstated"].format(n=n)
    if order.payment == "installments":
        payment_note = words["installment_note"].format(n=n)
    else:
        payment_note = words["plain_note"]
    variant = ""
    if order.variant:
        variant = f"（{order.variant}）" if shop.language == "zh" else f" ({order.variant})"
    if order.sku:
        variant += words["sku"].format(sku=order.sku)
    further = alert.further or Money(Decimal(0), alert.current.currency)
    drop_percent = (alert.drop.amount * 100 / alert.paid.amount).quantize(Decimal(1))
    return {
        "order_id": order.id,
        "title": order.title,
        "variant": variant,
        "quantity": str(order.quantity),
        "paid": format_money(alert.paid),
        "current": format_money(alert.current),
        "drop": format_money(alert.drop),
        "drop_percent": str(drop_percent),
        "total": format_money(alert.total),
        "further": format_money(further),
        "further_total": format_money(further.times(order.quantity)),
        "last": format_money(alert.current + further),
        "seen_at": format_time(alert.seen_at, tz),
        "url": alert.url,
        "ordered": order.ordered.isoformat(),
        "delivered": order.delivered.isoformat() if order.delivered else words["not_delivered"],
        "deadline": format_deadline(alert.window),
        "days_left": str(alert.window.days_left(now)),
        "window_note": words["estimated"] if alert.window.estimated else "",
        "payment": payment,
        "payment_note": payment_note,
        "shop_name": shop.name,
        "claim": shop.claim,
        "refund_path": shop.refund_path,
        "policy_note": words["uncertain"].format(shop_name=shop.name)
        if shop.policy_uncertain
        else "",
        "rule": RULE,
    }


def _tidy(text: str) -> str:
    """Drop the blank lines left by empty optional fields at the end, keep the rest."""
    return text.rstrip() + "\n"


# --- delivery -------------------------------------------------------------------------------

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


def retry_delay(attempts: int) -> timedelta:
    """Given how many sends have failed, return the wait before the next one (doubling)."""
    return min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 16)), LONGEST_RETRY)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0


async def deliver_due(
    history: History, notifier: Notifier, *, clock: Callable[[], datetime]
) -> DeliveryReport:
    """Send every due alert in the outbox; mark each sent, or failed with its next retry time."""
    sent = failed = 0
    for entry in history.due_alerts(clock()):
        result = await notifier.send(entry.title, entry.body, tags=entry.tags)
        if result.ok:
            history.mark_sent(entry.id, clock())
            sent += 1
            logger.info("alert %s sent: %s", entry.id, entry.title)
        else:
            retry_at = clock() + retry_delay(entry.attempts + 1)
            history.mark_failed(entry.id, error=result.error, retry_at=retry_at)
            failed += 1
            logger.warning(
                "alert %s not sent (%s); retrying at %s",
                entry.id,
                result.error,
                retry_at.isoformat(),
            )
    return DeliveryReport(sent=sent, failed=failed)
