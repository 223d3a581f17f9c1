"""Alerts into words: the title and the text of every message, in the shop's language.

Pure: an alert plus its order and shop in, a ``Message`` out, in plain text and in Markdown
(Telegram gets the support request in a code block). The fields each template may use are
the typed definitions in ``fields.py``; the short phrases are in ``words.py``.

Times are shown to each reader in their zone: the message in the user's (``zone``), the
support request, which the shop reads, in the shop's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.errors import Problem
from monitor.messages.fields import (
    AmountFields,
    DropFields,
    FailureFields,
    Fields,
    OrderFields,
    ReviewFields,
    SupportFields,
    WindowClosedFields,
    WindowClosingFields,
    as_mapping,
)
from monitor.messages.format import (
    format_date,
    format_deadline,
    format_money,
    format_time,
    format_time_left,
)
from monitor.messages.templates import TemplateStore
from monitor.messages.words import WORDS
from monitor.models import (
    AlertKind,
    DropAlert,
    Evidence,
    FailureAlert,
    Language,
    Message,
    Money,
    Order,
    Payment,
    PriceAlert,
    ReviewAlert,
    ReviewReason,
    Shop,
    WindowAlert,
    dedupe_key,
)

RULE = "────────────────────────"
PACKAGED = TemplateStore()


def _title(kind: AlertKind, language: Language, fields: Fields) -> str:
    return WORDS[language][kind.value].format(**as_mapping(fields))


def compose(
    alert: PriceAlert,
    order: Order,
    shop: Shop,
    *,
    now: datetime,
    zone: ZoneInfo,
    templates: TemplateStore = PACKAGED,
    evidence: Evidence | None = None,
) -> Message:
    """Given a price alert and its order and shop, return the message, in the shop's language,
    its times in the user's ``zone``."""
    language = shop.language
    if isinstance(alert, ReviewAlert):
        review = _review_fields(alert, order, shop, now=now, zone=zone)
        body = templates.render("needs_review", language, review)
        return Message(
            dedupe_key=alert.dedupe_key,
            order_id=order.id,
            kind=alert.kind,
            title=_title(alert.kind, language, review),
            body=body,
            tags=order.tags,
            price=alert.seen,
            markdown=body,
        )
    fields = _drop_fields(
        alert, order, shop, now=now, zone=zone, templates=templates, evidence=evidence
    )
    return Message(
        dedupe_key=alert.dedupe_key,
        order_id=order.id,
        kind=alert.kind,
        title=_title(alert.kind, language, fields),
        body=templates.render("drop", language, fields),
        tags=order.tags,
        price=alert.current,
        markdown=templates.render("drop", language, _markdown(fields)),
        attachments=evidence.files if evidence else (),
        asked=alert.asked,
    )


def _markdown(fields: DropFields) -> DropFields:
    return replace(fields, rule="```")


def support_request(
    alert: DropAlert,
    order: Order,
    shop: Shop,
    *,
    now: datetime,
    templates: TemplateStore = PACKAGED,
    screenshot: bool = False,
) -> str:
    """Return the text the user pastes into the shop's support chat, in the shop's language
    and its times in the shop's zone: the shop's staff read it. ``screenshot``: the alert
    attaches one of the page, and the request says so."""
    fields = _support_fields(alert, order, shop, now=now, screenshot=screenshot)
    return templates.render("support", shop.language, fields)


def compose_window(
    alert: WindowAlert,
    order: Order,
    shop: Shop,
    *,
    now: datetime,
    zone: ZoneInfo,
    templates: TemplateStore = PACKAGED,
) -> Message:
    """Given a window-closing or window-closed alert, return its message, its times in the
    user's ``zone``."""
    words = WORDS[shop.language]
    none = words["none"]
    deadline = format_deadline(alert.window, zone, shop.language)
    fields: Fields
    if alert.kind is AlertKind.WINDOW_CLOSING:
        owed_line = ""
        if alert.lowest and alert.owed:
            owed_line = words["owed_line"].format(
                lowest=format_money(alert.lowest), owed=format_money(alert.owed)
            )
        fields = WindowClosingFields(
            order_id=order.id,
            title=order.title,
            deadline=deadline,
            time_left=format_time_left(alert.window, now, shop.language),
            hours_left=str(alert.window.time_left(now) // timedelta(hours=1)),
            owed_line=owed_line,
            claim=shop.claim,
            shop_name=shop.name,
        )
    else:
        missed = alert.owed if alert.owed and alert.owed.amount > 0 else None
        fields = WindowClosedFields(
            order_id=order.id,
            title=order.title,
            deadline=deadline,
            lowest=_money_or(alert.lowest, none),
            owed=_money_or(alert.owed, none),
            claim_state=words[alert.claim_state.value] if alert.claim_state else words["no_claim"],
            claimed=_money_or(alert.claimed, none),
            refunded=_money_or(alert.refunded, none),
            missed=_money_or(missed, none),
            shop_name=shop.name,
        )
    body = templates.render(alert.kind.value, shop.language, fields)
    return Message(
        dedupe_key=alert.dedupe_key,
        order_id=order.id,
        kind=alert.kind,
        title=_title(alert.kind, shop.language, fields),
        body=body,
        tags=order.tags,
        markdown=body,
    )


def compose_failure(
    alert: FailureAlert,
    *,
    shop: Shop,
    tags: tuple[str, ...],
    zone: ZoneInfo,
    templates: TemplateStore = PACKAGED,
) -> Message:
    """Given a checks-failing, recovered or product-gone alert for a product, return its
    message, its times in the user's ``zone``."""
    fields = FailureFields(
        order_ids=", ".join(alert.order_ids),
        failures=str(alert.failures),
        since=format_time(alert.since, zone, shop.language),
        reason=alert.reason or "-",
        url=alert.url,
        shop_name=shop.name,
    )
    body = templates.render(alert.kind.value, shop.language, fields)
    return Message(
        dedupe_key=alert.dedupe_key,
        order_id=", ".join(alert.order_ids),
        kind=alert.kind,
        title=_title(alert.kind, shop.language, fields),
        body=body,
        tags=tags,
        markdown=body,
    )


def compose_config_refused(path: Path, problems: Sequence[Problem], *, since: datetime) -> Message:
    """Given a config file that did not validate on reload, return the alert that says why.

    Its key is made of the problems (not their lines: a line added above one moves it, and
    it is the same problem) and of ``since``, when the config that runs was loaded: the same
    problems alert once while it runs, and again once a good edit was applied in between.
    """
    listing = "\n".join(f"- {p.located(path.name)}" for p in problems)
    digest = hashlib.sha256("\n".join(sorted({str(p) for p in problems})).encode()).hexdigest()
    return Message(
        dedupe_key=dedupe_key("config", since, digest[:16]),
        order_id="",
        kind=AlertKind.CONFIG_REJECTED,
        title=f"price-monitor: your edit of {path.name} was refused",
        body=(
            f"The edited {path} does not validate, so the previous config keeps "
            f"running and no order was added, changed or dropped.\n\n{listing}\n\n"
            f"Fix the file (`price-monitor config check` lists the same problems) and save it "
            f"again; the daemon picks it up."
        ),
    )


def notify_test_message() -> tuple[str, str]:
    """Return the title and body ``price-monitor notify-test`` sends."""
    return (
        "price-monitor test / 测试消息",
        "This is a test from price-monitor: this target will receive your price alerts.\n"
        "这是 price-monitor 的测试消息：降价提醒会发到这里。\n",
    )


# --- the fields of each message ---------------------------------------------------------------


def _money_or(money: Money | None, none: str) -> str:
    return format_money(money) if money else none


def _order_fields(
    order: Order,
    shop: Shop,
    alert: DropAlert | ReviewAlert,
    *,
    now: datetime,
    zone: ZoneInfo,
) -> OrderFields:
    """The order, the page and the window, with times as a reader in ``zone`` sees them."""
    words = WORDS[shop.language]
    return OrderFields(
        order_id=order.id,
        title=order.title,
        variant=_variant(order, shop.language),
        quantity=str(order.quantity),
        paid=format_money(order.paid_money),
        seen_at=format_time(alert.seen_at, zone, shop.language),
        url=alert.url,
        deadline=format_deadline(alert.window, zone, shop.language),
        time_left=format_time_left(alert.window, now, shop.language),
        days_left=str(alert.window.time_left(now) // timedelta(days=1)),
        shop_name=shop.name,
        claim=shop.claim,
        refund_path=shop.refund_path,
        policy_note=words["uncertain"].format(shop_name=shop.name) if shop.policy_uncertain else "",
    )


def _variant(order: Order, language: Language) -> str:
    """What follows the title on the product line: the variant's name, the SKU in brackets."""
    words = WORDS[language]
    name = words["variant"].format(variant=order.variant) if order.variant else ""
    sku = words["sku"].format(sku=order.sku) if order.sku else ""
    return name + sku


def _amounts(alert: DropAlert) -> AmountFields:
    return AmountFields(
        current=format_money(alert.current),
        drop=format_money(alert.drop),
        total=format_money(alert.total),
        asked=format_money(alert.asked),
    )


def _support_fields(
    alert: DropAlert, order: Order, shop: Shop, *, now: datetime, screenshot: bool
) -> SupportFields:
    words = WORDS[shop.language]
    zone = ZoneInfo(shop.timezone)
    refunded, pending = alert.refunded, alert.pending
    refunded_on = format_date(alert.refunded_at, zone) if alert.refunded_at else ""
    return SupportFields(
        order=_order_fields(order, shop, alert, now=now, zone=zone),
        amounts=_amounts(alert),
        refunded_line=words["refunded_line"].format(amount=format_money(refunded), date=refunded_on)
        if refunded.amount
        else "",
        pending_line=words["pending_line"].format(amount=format_money(pending))
        if pending.amount
        else "",
        asked_line=words["asked_line"].format(amount=format_money(alert.asked))
        if alert.asked != alert.total
        else "",
        ordered=order.ordered.isoformat(),
        delivered=order.delivered.isoformat() if order.delivered else "",
        payment=_payment(order, shop.language),
        payment_note=_payment_note(order, shop.language),
        screenshot_line=words["screenshot_line"] if screenshot else "",
    )


def _payment(order: Order, language: Language) -> str:
    """How the order was paid, or "" when the config does not say."""
    words = WORDS[language]
    if order.payment is None:
        return ""
    if order.payment is Payment.INSTALLMENTS and order.installment_provider:
        return words["installments_via"].format(
            n=order.installments, provider=order.installment_provider
        )
    return words[order.payment.value].format(n=order.installments)


def _payment_note(order: Order, language: Language) -> str:
    """Where the difference should go: for installments, back into the plan, against its
    principal, and what each payment becomes."""
    words = WORDS[language]
    if order.payment is not Payment.INSTALLMENTS:
        return words["plain_note"]
    paid_in = (
        words["paid_via"].format(n=order.installments, provider=order.installment_provider)
        if order.installment_provider
        else words["paid_in"].format(n=order.installments)
    )
    return words["installment_note"].format(paid_in=paid_in)


def _drop_fields(
    alert: DropAlert,
    order: Order,
    shop: Shop,
    *,
    now: datetime,
    zone: ZoneInfo,
    templates: TemplateStore,
    evidence: Evidence | None,
) -> DropFields:
    words = WORDS[shop.language]
    further = alert.further or Money(Decimal(0), alert.current.currency)
    more = {
        "further": format_money(further),
        "further_total": format_money(further.times(order.quantity)),
        "last": format_money(alert.current + further),
    }
    return DropFields(
        order=_order_fields(order, shop, alert, now=now, zone=zone),
        amounts=_amounts(alert),
        further=more["further"],
        further_total=more["further_total"],
        last=more["last"],
        ledger_note=_ledger_note(alert, shop, zone),
        headline=words[f"headline_{alert.kind.value}"].format(**more),
        window_note=words["estimated"] if alert.window.estimated else "",
        support_request=support_request(
            alert,
            order,
            shop,
            now=now,
            templates=templates,
            screenshot=evidence is not None and evidence.screenshot is not None,
        ).rstrip(),
        evidence=words["evidence"].format(path=evidence.path, sha=evidence.sha256)
        if evidence
        else "",
        rule=RULE,
    )


def _ledger_note(alert: DropAlert, shop: Shop, zone: ZoneInfo) -> str:
    """Say what was refunded or claimed before, when something was: the ask is less than the
    whole difference then."""
    words = WORDS[shop.language]
    parts = []
    if alert.refunded.amount:
        date = format_date(alert.refunded_at, zone) if alert.refunded_at else ""
        parts.append(
            words["ledger_refunded"].format(amount=format_money(alert.refunded), date=date)
        )
    if alert.pending.amount:
        parts.append(words["ledger_pending"].format(amount=format_money(alert.pending)))
    if not parts:
        return ""
    total = words["ledger_total"].format(total=format_money(alert.total))
    return words["ledger_note"].format(parts=words["ledger_sep"].join([total, *parts]))


def _review_fields(
    alert: ReviewAlert, order: Order, shop: Shop, *, now: datetime, zone: ZoneInfo
) -> ReviewFields:
    words = WORDS[shop.language]
    percent = ""
    if alert.seen.currency == alert.paid.currency:
        percent = str(
            ((alert.paid.amount - alert.seen.amount) * 100 / alert.paid.amount).quantize(Decimal(1))
        )
    why = {
        ReviewReason.IMPLAUSIBLE: words["why_implausible"].format(drop_percent=percent),
        ReviewReason.CURRENCY: words["why_currency"],
        ReviewReason.VARIANT: words["why_variant"].format(sku=order.sku or "?"),
        ReviewReason.STALE: words["why_stale"].format(
            shown=format_money(alert.disagreement.shown) if alert.disagreement else "?",
            structured=format_money(alert.disagreement.structured) if alert.disagreement else "?",
        ),
    }[alert.reason]
    return ReviewFields(
        order=_order_fields(order, shop, alert, now=now, zone=zone),
        seen=format_money(alert.seen),
        why=why,
    )
