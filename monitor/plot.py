"""The chart of a product's price: what ``history --plot`` writes and drop alerts attach.

matplotlib is an optional extra (``pip install 'price-monitor[plot]'``), imported only
inside ``draw_chart``. It draws on the Agg canvas of a figure of its own (no pyplot, no
display, no global state), so the daemon can draw in a worker thread. Amounts become floats
here only, to be placed on the axes; every label is written from the Decimal.
"""

from __future__ import annotations

import importlib.util
import io
import warnings
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from monitor.messages import format_money
from monitor.models import Money
from monitor.timeline import Timeline

INSTALL = "pip install 'price-monitor[plot]'"

# Fonts with Chinese glyphs, for titles like 「小米14 Pro」: the first one installed is used
# after DejaVu Sans (matplotlib's own, which has none).
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "Arial Unicode MS",
)
CLAIM_COLOURS = {"claimed": "tab:blue", "refunded": "tab:green", "rejected": "tab:gray"}


def plotting_available() -> bool:
    """Return True when matplotlib is installed (the ``plot`` extra), without importing it."""
    return importlib.util.find_spec("matplotlib") is not None


def draw_chart(timeline: Timeline, *, tz: ZoneInfo) -> bytes:
    """Given a timeline, return a PNG chart of it, times in ``tz``: the price as a step line,
    each order's paid price as a dashed line, its window shaded, alerts and claims marked.

    Raise ImportError when matplotlib is not installed.
    """
    import matplotlib
    from matplotlib import dates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    def x(moment: datetime) -> float:
        return float(dates.date2num(moment))  # type: ignore[no-untyped-call]

    with matplotlib.rc_context({"font.family": _fonts(), "timezone": tz.key}):
        figure = Figure(figsize=(8, 4), dpi=100)
        figure.subplots_adjust(left=0.13, right=0.97, top=0.9, bottom=0.12)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        runs = timeline.runs
        if runs:
            times = [x(r.first_seen) for r in runs] + [x(runs[-1].last_seen)]
            prices = [_y(r.price) for r in runs] + [_y(runs[-1].price)]
            axes.step(times, prices, where="post", color="tab:blue", linewidth=2, label="price")
        several = len(timeline.orders) > 1
        for index, paid in enumerate(timeline.orders):
            whose = f" ({paid.order_id})" if several else ""
            axes.axhline(
                _y(paid.paid),
                color="tab:red",
                linestyle="--",
                linewidth=1,
                label=f"paid {format_money(paid.paid)}{whose}",
            )
            axes.axvspan(
                x(paid.window.start),
                x(paid.window.deadline),
                color="tab:green",
                alpha=0.08,
                label=None if index else "price protection window",
            )
        priced = [(x(m.at), _y(m.price)) for m in timeline.alerts if m.price is not None]
        if priced:
            axes.scatter(
                [at for at, _ in priced],
                [y for _, y in priced],
                marker="v",
                s=80,
                color="tab:orange",
                zorder=3,
                label="alert",
            )
        labelled: set[str] = set()
        for mark in timeline.claims:
            axes.axvline(
                x(mark.at),
                color=CLAIM_COLOURS.get(mark.label, "tab:purple"),
                linestyle=":",
                linewidth=1.5,
                label=None if mark.label in labelled else mark.label,
            )
            labelled.add(mark.label)
        locator = dates.AutoDateLocator(tz=tz)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        concise = dates.ConciseDateFormatter(locator, tz=tz)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_formatter(concise)
        currency = timeline.currency
        axes.yaxis.set_major_formatter(
            FuncFormatter(lambda v, _: format_money(Money(Decimal(f"{v:.2f}"), currency)))
        )
        axes.set_title(_title(timeline.title, [p.order_id for p in timeline.orders]))
        axes.grid(True, alpha=0.3)
        axes.legend(loc="best", fontsize="small")
        out = io.BytesIO()
        with warnings.catch_warnings():
            # A title in a script no installed font has: boxes, rather than a warning a glyph.
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
            figure.savefig(out, format="png")
    return out.getvalue()


def _y(money: Money) -> float:
    return float(money.amount)  # a place on the axis, never an amount anyone reads


def _title(title: str, order_ids: Sequence[str]) -> str:
    return f"{title} (order {', '.join(order_ids)})" if order_ids else title


def _fonts() -> list[str]:
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *(name for name in CJK_FONTS if name in installed)]
