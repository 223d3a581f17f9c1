"""Alerts into words (per-language templates, with the support request) and outbox delivery.

``compose`` is pure: an alert plus the order and shop in, a Message out, in plain text and
in Markdown. ``deliver_due`` sends what the outbox holds, target by target: a target that
received an alert is recorded, so a retry goes only to the targets that missed it, and an
alert is marked sent once every target has it. Failed sends are retried with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from monitor.channels import Notifier
from monitor.config import Config, Order
from monitor.history import History, OutboxEntry
from monitor.models import (
    URGENT_KINDS,
    ZERO_DECIMAL_CURRENCIES,
    Alert,
    AlertKind,
    FailureAlert,
    Message,
    Money,
    ReviewAlert,
    ReviewReason,
    Window,
    WindowAlert,
)
from monitor.shops import Shop
from monitor.templates import TemplateStore

logger = logging.getLogger(__name__)

RULE = "────────────────────────"
SIGNS = {"CNY": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "INR": "₹"}
PACKAGED = TemplateStore()

_WORDS: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "drop": "可申请退差价 {total}：{title}（订单 {order_id}）",
        "further_drop": "又降价了，可再申请 {further_total}：{title}（订单 {order_id}）",
        "needs_review": "请人工核实：{title} 显示 {seen}（订单 {order_id}）",
        "window_closing": "价保即将截止：{title}（订单 {order_id}），还剩 {hours_left} 小时",
        "window_closed": "价保已结束：{title}（订单 {order_id}）",
        "checks_failing": "读不到价格：订单 {order_ids}",
        "product_gone": "商品页已不存在：订单 {order_ids}",
        "recovered": "恢复读取：订单 {order_ids}",
        "headline_drop": "💰 可以申请价保了！",
        "headline_further_drop": "💰 又降价了：比上次提醒或申请的 {last} 又低了 {further}/件，可再申请 {further_total}。",
        "why_implausible": "比实付低了 {drop_percent}%，降幅大得不像真的：可能读错了页面、不是同一款式，或只是券后价/活动价。",
        "why_currency": "页面的币种和订单不同：可能是别的地区的页面，或订单的币种写错了。",
        "why_variant": "页面上没有能确认是你买的款式（SKU {sku}）的信息：可能显示的是别的款式的价格。",
        "owed_line": "最低提醒价 {lowest}，可申请差价 {owed}。",
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
        "evidence": "页面存档：{path}（SHA-256 {sha}）",
        "none": "无",
        "claimed": "已申请",
        "refunded": "已退款",
        "rejected": "被拒绝",
        "no_claim": "未申请",
    },
    "en": {
        "drop": "Price drop: claim {total} on {title} (order {order_id})",
        "further_drop": "Further drop: claim {further_total} more on {title} (order {order_id})",
        "needs_review": "Check this yourself: {title} shows {seen} (order {order_id})",
        "window_closing": "Price protection ends in {hours_left} h: {title} (order {order_id})",
        "window_closed": "Price protection ended: {title} (order {order_id})",
        "checks_failing": "Price checks failing for order {order_ids}",
        "product_gone": "Product page gone for order {order_ids}",
        "recovered": "Price checks recovered for order {order_ids}",
        "headline_drop": "💰 You can claim a price adjustment.",
        "headline_further_drop": "💰 Lower again: {further} below the {last} alerted or claimed before, so {further_total} more to claim.",
        "why_implausible": "That is {drop_percent}% less, too deep to trust: the page may have been misread, it may be another variant, or a coupon-only price.",
        "why_currency": "The page shows another currency than your order's: it may be another country's store, or the order's currency is wrong.",
        "why_variant": "Nothing on the page ties this price to the variant you bought (SKU {sku}): it may be another variant's price.",
        "owed_line": "The lowest alerted price was {lowest}: {owed} to claim.",
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
        "evidence": "Evidence: {path} (SHA-256 {sha})",
        "none": "none",
        "claimed": "claimed",
        "refunded": "refunded",
        "rejected": "rejected",
        "no_claim": "none recorded",
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


@dataclass(frozen=True, slots=True)
class Evidence:
    """The page a drop was seen on, as saved in the state dir."""

    path: str
    sha256: str


# --- composing ------------------------------------------------------------------------------


def compose(
    alert: Alert | ReviewAlert,
    order: Order,
    shop: Shop,
    *,
    now: datetime,
    templates: TemplateStore = PACKAGED,
    evidence: Evidence | None = None,
) -> Message:
    """Given a price alert and its order and shop, return the message, in the shop's language."""
    language = shop.language
    words = _WORDS[language]
    if isinstance(alert, ReviewAlert):
        fields = _review_fields(alert, order, shop, now=now)
        title = words["needs_review"].format(**fields)
        body = templates.render("needs_review", language, fields)
        return Message(
            alert.dedupe_key, order.id, alert.kind, title, body, order.tags, alert.seen, body
        )
    fields = _price_fields(alert, order, shop, now=now)
    fields["headline"] = words[f"headline_{alert.kind.value}"].format(**fields)
    fields["support_request"] = support_request(
        alert, order, shop, now=now, templates=templates
    ).rstrip()
    fields["evidence"] = (
        words["evidence"].format(path=evidence.path, sha=evidence.sha256) if evidence else ""
    )
    title = words[alert.kind.value].format(**fields)
    body = templates.render("drop", language, {**fields, "rule": RULE})
    markdown = templates.render("drop", language, {**fields, "rule": "```"})
    return Message(
        dedupe_key=alert.dedupe_key,
        order_id=order.id,
        kind=alert.kind,
        title=title,
        body=body,
        tags=order.tags,
        price=alert.current,
        markdown=markdown,
        attachments=(evidence.path,) if evidence else (),
    )


def support_request(
    alert: Alert, order: Order, shop: Shop, *, now: datetime, templates: TemplateStore = PACKAGED
) -> str:
    """Return the text the user pastes into the shop's support chat, in the shop's language."""
    return templates.render("support", shop.language, _price_fields(alert, order, shop, now=now))


def compose_window(
    alert: WindowAlert,
    order: Order,
    shop: Shop,
    *,
    now: datetime,
    templates: TemplateStore = PACKAGED,
) -> Message:
    """Given a window-closing or window-closed alert, return its message."""
    words = _WORDS[shop.language]
    none = words["none"]
    missed = alert.owed if alert.owed and alert.claim_state is None else None
    fields = {
        "order_id": order.id,
        "title": order.title,
        "deadline": format_deadline(alert.window),
        "hours_left": str(max(int(alert.window.time_left(now).total_seconds() // 3600), 0)),
        "owed_line": words["owed_line"].format(
            lowest=format_money(alert.lowest), owed=format_money(alert.owed)
        )
        if alert.lowest and alert.owed
        else "",
        "claim": shop.claim,
        "shop_name": shop.name,
        "lowest": format_money(alert.lowest) if alert.lowest else none,
        "owed": format_money(alert.owed) if alert.owed else none,
        "claim_state": words[alert.claim_state] if alert.claim_state else words["no_claim"],
        "claimed": format_money(alert.claimed) if alert.claimed else none,
        "refunded": format_money(alert.refunded) if alert.refunded else none,
        "missed": format_money(missed) if missed else none,
    }
    title = words[alert.kind.value].format(**fields)
    body = templates.render(alert.kind.value, shop.language, fields)
    return Message(alert.dedupe_key, order.id, alert.kind, title, body, order.tags, None, body)


def compose_failure(
    alert: FailureAlert, *, shop: Shop, tags: tuple[str, ...], templates: TemplateStore = PACKAGED
) -> Message:
    """Given a checks-failing or recovered alert for a product, return its message."""
    words = _WORDS[shop.language]
    fields = {
        "order_ids": ", ".join(alert.order_ids),
        "failures": str(alert.failures),
        "since": format_time(alert.since, ZoneInfo(shop.timezone)),
        "reason": alert.reason or "-",
        "url": alert.url,
    }
    title = words[alert.kind.value].format(**fields)
    body = templates.render(alert.kind.value, shop.language, fields)
    order_id = ", ".join(alert.order_ids)
    return Message(alert.dedupe_key, order_id, alert.kind, title, body, tags, None, body)


def _common_fields(
    order: Order, shop: Shop, window: Window, url: str, seen_at: datetime, now: datetime
) -> dict[str, str]:
    words = _WORDS[shop.language]
    variant = ""
    if order.variant:
        variant = f"（{order.variant}）" if shop.language == "zh" else f" ({order.variant})"
    if order.sku:
        variant += words["sku"].format(sku=order.sku)
    return {
        "order_id": order.id,
        "title": order.title,
        "variant": variant,
        "quantity": str(order.quantity),
        "paid": format_money(Money(order.paid, order.currency)),
        "seen_at": format_time(seen_at, ZoneInfo(shop.timezone)),
        "url": url,
        "deadline": format_deadline(window),
        "days_left": str(window.days_left(now)),
        "shop_name": shop.name,
        "claim": shop.claim,
        "refund_path": shop.refund_path,
        "policy_note": words["uncertain"].format(shop_name=shop.name)
        if shop.policy_uncertain
        else "",
    }


def _price_fields(alert: Alert, order: Order, shop: Shop, *, now: datetime) -> dict[str, str]:
    words = _WORDS[shop.language]
    n = str(order.installments or "")
    further = alert.further or Money(Decimal(0), alert.current.currency)
    return {
        **_common_fields(order, shop, alert.window, alert.url, alert.seen_at, now),
        "current": format_money(alert.current),
        "drop": format_money(alert.drop),
        "total": format_money(alert.total),
        "further": format_money(further),
        "further_total": format_money(further.times(order.quantity)),
        "last": format_money(alert.current + further),
        "ordered": order.ordered.isoformat(),
        "delivered": order.delivered.isoformat() if order.delivered else words["not_delivered"],
        "window_note": words["estimated"] if alert.window.estimated else "",
        "payment": words[order.payment or "unstated"].format(n=n),
        "payment_note": words["installment_note"].format(n=n)
        if order.payment == "installments"
        else words["plain_note"],
    }


def _review_fields(
    alert: ReviewAlert, order: Order, shop: Shop, *, now: datetime
) -> dict[str, str]:
    words = _WORDS[shop.language]
    percent = ""
    if alert.seen.currency == alert.paid.currency:
        percent = str(
            ((alert.paid.amount - alert.seen.amount) * 100 / alert.paid.amount).quantize(Decimal(1))
        )
    why = {
        ReviewReason.IMPLAUSIBLE: words["why_implausible"].format(drop_percent=percent),
        ReviewReason.CURRENCY: words["why_currency"],
        ReviewReason.VARIANT: words["why_variant"].format(sku=order.sku or "?"),
    }[alert.reason]
    return {
        **_common_fields(order, shop, alert.window, alert.url, alert.seen_at, now),
        "seen": format_money(alert.seen),
        "why": why,
    }


# --- quiet hours ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily span (in the user's time zone) when only urgent alerts are sent."""

    start: time
    end: time
    tz: ZoneInfo

    def __contains__(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # spans midnight, e.g. 22:00-07:30


def quiet_hours(config: Config) -> QuietHours | None:
    """Return the config's quiet hours, in its time zone, if it has any."""
    if config.quiet_hours is None:
        return None
    start, end = config.quiet_hours
    return QuietHours(start, end, config.timezone)


# --- delivery ---------------------------------------------------------------------------------

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
GIVE_UP_AFTER = 40  # failed sends; about a week at the longest retry interval


def _outbox(history: History, now: datetime, *, retry_now: bool) -> Iterator[OutboxEntry]:
    """Yield the alerts to send, oldest first, a batch at a time (a backlog can be large)."""
    if retry_now:
        yield from sorted((e for e in history.alerts() if e.status != "sent"), key=lambda e: e.id)
        return
    last = 0
    while batch := history.due_alerts(now, after_id=last):
        yield from batch
        last = batch[-1].id


def retry_delay(attempts: int) -> timedelta:
    """Given how many sends have failed, return the wait before the next one (doubling)."""
    return min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 16)), LONGEST_RETRY)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    held: int = 0  # waiting for the end of quiet hours


async def deliver_due(
    history: History,
    notifier: Notifier,
    *,
    clock: Callable[[], datetime],
    quiet: QuietHours | None = None,
    retry_now: bool = False,
) -> DeliveryReport:
    """Send the due alerts in the outbox, target by target; record each outcome.

    With ``retry_now``, pending and given-up alerts are all tried now, whatever their
    retry time. In quiet hours only urgent kinds go out; the rest wait.
    """
    sent = failed = held = 0
    now = clock()
    for entry in _outbox(history, now, retry_now=retry_now):
        if quiet is not None and now in quiet and AlertKind(entry.kind) not in URGENT_KINDS:
            held += 1
            continue
        recipients = [r for r in notifier.recipients(entry.tags) if r.key not in entry.delivered]
        errors: list[str] = []
        if not recipients and not entry.delivered:
            errors.append(notifier.no_recipient_reason(entry.tags))
        for recipient in recipients:
            result = await notifier.send(
                recipient,
                entry.title,
                entry.body,
                markdown=entry.markdown,
                attachments=entry.attachments,
            )
            if result.ok:
                history.mark_delivered(entry.id, recipient.key)
            else:
                errors.append(f"{recipient.name}: {result.error}")
        if not errors:
            history.mark_sent(entry.id, clock())
            sent += 1
            logger.info("alert %s sent: %s", entry.id, entry.title)
            continue
        attempts = entry.attempts + 1
        retry_at = clock() + retry_delay(attempts)
        give_up = attempts >= GIVE_UP_AFTER
        history.mark_failed(
            entry.id, error="; ".join(errors)[:500], retry_at=retry_at, give_up=give_up
        )
        failed += 1
        logger.warning(
            "alert %s not sent (%s); %s",
            entry.id,
            "; ".join(errors)[:200],
            "giving up: `price-monitor alerts --retry` tries again"
            if give_up
            else f"retrying at {retry_at:%H:%M:%S}",
        )
    return DeliveryReport(sent=sent, failed=failed, held=held)


def notify_test_message() -> tuple[str, str]:
    """Return the title and body ``price-monitor notify-test`` sends."""
    return (
        "price-monitor test / 测试消息",
        "This is a test from price-monitor: this target will receive your price alerts.\n"
        "这是 price-monitor 的测试消息：降价提醒会发到这里。\n",
    )
