"""The phrases of every message, per language: titles, headlines, payment words, notes.

Whole messages are templates (``templates/``, which a user may replace); these are the short
pieces the templates and titles are built from. Each title is formatted with its kind's
fields (``fields.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.models import Language

WORDS: Mapping[Language, Mapping[str, str]] = {
    Language.ZH: {
        "drop": "可申请退差价 {asked}：{title}（订单 {order_id}）",
        "further_drop": "又降价了，可申请退差价 {asked}：{title}（订单 {order_id}）",
        "needs_review": "请人工核实：{title} 显示 {seen}（订单 {order_id}）",
        "window_closing": "价保即将截止：{title}（订单 {order_id}），{time_left}",
        "window_closed": "价保已结束：{title}（订单 {order_id}）",
        "checks_failing": "读不到价格：订单 {order_ids}",
        "cookies_expired": "{shop_name} 的 cookies 已失效：请重新导出",
        "product_gone": "商品页已不存在：订单 {order_ids}",
        "recovered": "恢复读取：订单 {order_ids}",
        "headline_drop": "💰 可以申请价保了！",
        "headline_further_drop": "💰 又降价了：比上次提醒或申请的 {last} 又低了 {further}/件。",
        "refunded_line": "已退差价：{amount}（{date}）",
        "pending_line": "已申请、待处理：{amount}",
        "asked_line": "本次申请退差价：{amount}",
        "ledger_total": "差价共 {total}",
        "ledger_refunded": "已退 {amount}（{date}）",
        "ledger_pending": "已申请、待处理 {amount}",
        "ledger_note": "（{parts}）",
        "ledger_sep": "；",
        "why_implausible": "比实付低了 {drop_percent}%，降幅大得不像真的：可能读错了页面、不是同一款式，或只是券后价/活动价。",
        "why_currency": "页面的币种和订单不同：可能是别的地区的页面，或订单的币种写错了。",
        "why_variant": "页面上没有能确认是你买的款式（SKU {sku}）的信息：可能显示的是别的款式的价格。",
        "why_stale": "页面上显示 {shown}，页面的结构化数据却是 {structured}：其中一个已过时，请打开页面看清楚再申请。",
        "owed_line": "最低提醒价 {lowest}，可申请差价 {owed}。",
        "card": "银行卡",
        "alipay": "支付宝",
        "wechat": "微信支付",
        "installments": "分期付款（{n} 期）",
        "installments_via": "分期付款（{provider}，{n} 期）",
        "other": "其他",
        "paid_in": "本单为 {n} 期分期付款",
        "paid_via": "本单为 {n} 期分期付款（{provider}）",
        "installment_note": (
            "{paid_in}：请将差价原路退回分期账户（冲抵分期本金），"
            "并告知每期应还金额和手续费如何调整。"
        ),
        "plain_note": "请将差价按原支付方式退回。",
        "estimated": "（按下单日估算，签收后请补填 delivered）",
        "uncertain": "提示：以上价保规则仅供参考，请以{shop_name}当前政策为准。",
        "variant": "，{variant}",
        "sku": "（SKU {sku}）",
        "evidence": "页面存档：{path}（SHA-256 {sha}）",
        "screenshot_line": "截图见附件。",
        "none": "无",
        "claimed": "已申请",
        "refunded": "已退款",
        "rejected": "被拒绝",
        "no_claim": "未申请",
    },
    Language.EN: {
        "drop": "Price drop: claim {asked} on {title} (order {order_id})",
        "further_drop": "Further drop: claim {asked} on {title} (order {order_id})",
        "needs_review": "Check this yourself: {title} shows {seen} (order {order_id})",
        "window_closing": "Price protection ends soon ({time_left}): {title} (order {order_id})",
        "window_closed": "Price protection ended: {title} (order {order_id})",
        "checks_failing": "Price checks failing for order {order_ids}",
        "cookies_expired": "Cookies expired for {shop_name}: export them again",
        "product_gone": "Product page gone for order {order_ids}",
        "recovered": "Price checks recovered for order {order_ids}",
        "headline_drop": "💰 You can claim a price adjustment.",
        "headline_further_drop": "💰 Lower again: {further} below the {last} alerted or claimed before.",
        "refunded_line": "Already refunded: {amount} on {date}",
        "pending_line": "Already claimed, awaiting an answer: {amount}",
        "asked_line": "Asked for now: {amount}",
        "ledger_total": "the difference is {total}",
        "ledger_refunded": "already refunded {amount} on {date}",
        "ledger_pending": "claimed and awaiting an answer {amount}",
        "ledger_note": " ({parts})",
        "ledger_sep": "; ",
        "why_implausible": "That is {drop_percent}% less, too deep to trust: the page may have been misread, it may be another variant, or a coupon-only price.",
        "why_currency": "The page shows another currency than your order's: it may be another country's store, or the order's currency is wrong.",
        "why_variant": "Nothing on the page ties this price to the variant you bought (SKU {sku}): it may be another variant's price.",
        "why_stale": "The page shows {shown}, but its structured data says {structured}: one of them is out of date, so open the page and look before you claim.",
        "owed_line": "The lowest alerted price was {lowest}: {owed} to claim.",
        "card": "card",
        "alipay": "Alipay",
        "wechat": "WeChat Pay",
        "installments": "installments ({n} payments)",
        "installments_via": "installments ({provider}, {n} payments)",
        "other": "other",
        "paid_in": "This order is paid in {n} installments",
        "paid_via": "This order is paid in {n} installments through {provider}",
        "installment_note": (
            "{paid_in}: please return the difference to the installment account along the "
            "original path (against the principal), and tell me how much each remaining "
            "payment will be and how the fees change."
        ),
        "plain_note": "Please refund the difference to my original payment method.",
        "estimated": " (counted from the order date; add the delivery date when it arrives)",
        "uncertain": "Note: these policy details may be out of date; check {shop_name}'s current policy.",
        "variant": ", {variant}",
        "sku": " (SKU {sku})",
        "evidence": "Evidence: {path} (SHA-256 {sha})",
        "screenshot_line": "A screenshot of the page with the current price is attached.",
        "none": "none",
        "claimed": "claimed",
        "refunded": "refunded",
        "rejected": "rejected",
        "no_claim": "none recorded",
    },
}
