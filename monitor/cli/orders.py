"""Where orders stand, and the claims on them: ``status``, ``claim``, ``refunded``,
``rejected`` and ``savings``. None of them fetches or sends, so none loads the libraries
that do."""

from __future__ import annotations

from decimal import Decimal

import click

from monitor.cli.common import (
    AMOUNT,
    complete_order_ids,
    load,
    open_for_reading,
    order_named,
    orders_for_reading,
)

# RefundForm's values, spelled out so that --help need not load the models (a test keeps
# them the same).
FORMS = ("cash", "coupon", "credit")


@click.command()
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object per order, one per line: amounts as strings, times in ISO 8601.",
)
@click.option("--owed", is_flag=True, help="Only orders with money owed now.")
@click.option("--open", "open_only", is_flag=True, help="Only orders whose window is still open.")
@click.option("--shop", metavar="S", help="Only orders at shop S (its name, e.g. jd).")
@click.pass_context
def status(
    ctx: click.Context, as_json: bool, owed: bool, open_only: bool, shop: str | None
) -> None:
    """Show every order: paid, current and lowest price (and when it was seen), difference,
    time left in the window, claim, last check; and the disk the evidence takes.

    On a terminal, money owed is green, a window closing within a day red and a failing
    check red (NO_COLOR turns colours off).
    """
    import json
    import os
    import sys

    from monitor.clock import utcnow
    from monitor.evidence import disk_use
    from monitor.reports import filter_status, human_size, render_status, status_json, status_rows

    config = load(ctx, thorough=False)
    if shop is not None and shop not in config.shops:
        used = ", ".join(sorted({o.shop for o in config.orders})) or "none"
        raise click.UsageError(f"unknown shop {shop}; the orders' shops: {used}")
    history = open_for_reading(config)
    try:
        every = status_rows(config, history, orders_for_reading(config, history), now=utcnow())
        pending = history.outbox.pending_count()
    finally:
        history.close()
    rows = filter_status(every, owed=owed, open_only=open_only, shop=shop)
    tz = config.timezone
    if as_json:
        for row in rows:
            click.echo(json.dumps(status_json(row, tz=tz), ensure_ascii=False))
        return
    if not every:
        click.echo(
            "No orders in the config yet: add one with `price-monitor add URL --paid P --ordered DATE`."
        )
        return
    if not rows:
        click.echo(f"No order matches ({len(every)} in the config).")
    elif sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
        from monitor.reports import print_coloured, status_cells, status_styles

        print_coloured(status_cells(rows, tz=tz), [status_styles(row) for row in rows])
    else:
        click.echo(render_status(rows, tz=tz))
    footer = [f"{pending} alert{'s' * (pending != 1)} waiting to be sent."] if pending else []
    files, size = disk_use(config.evidence_dir)
    if files:
        kept = f"{files} file{'s' * (files != 1)}, {human_size(size)}"
        footer.append(f"Evidence: {kept} in {config.evidence_dir}")
    if footer:
        click.echo("\n" + "\n".join(footer))


@click.command()
@click.argument("order_id", metavar="ORDER", shell_complete=complete_order_ids)
@click.option(
    "--amount", type=AMOUNT, help="What you asked for in total (default: what the alert said)."
)
@click.option(
    "--price",
    type=AMOUNT,
    help="The unit price your claim is based on (default: the last alerted).",
)
@click.option("--note", help="Anything to remember, e.g. the ticket number.")
@click.pass_context
def claim(
    ctx: click.Context,
    order_id: str,
    amount: Decimal | None,
    price: Decimal | None,
    note: str | None,
) -> None:
    """Record that you asked the shop for the difference on ORDER.

    After a claim only a price below the claimed one alerts again ("you can claim ¥X more").
    """
    from monitor import ledger
    from monitor.clock import utcnow
    from monitor.history import History
    from monitor.messages import format_money

    config = load(ctx, thorough=False)
    order = order_named(config, order_id)
    history = History.open(config.database)
    try:
        step = ledger.claimed(
            order, history.order_state(order), at=utcnow(), price=price, amount=amount, note=note
        )
        if step is None:
            raise click.UsageError(
                f"no drop has been alerted for {order_id}: give --amount (and --price) to record a claim"
            )
        history.add_claim(step)
    finally:
        history.close()
    based = f" at {format_money(step.price)} each" if step.price else ""
    click.echo(
        f"{order.id}: claimed {format_money(step.amount) if step.amount else '?'}{based}. "
        f"When the shop answers: price-monitor refunded {order.id} --amount X, or rejected."
    )


@click.command()
@click.argument("order_id", metavar="ORDER", shell_complete=complete_order_ids)
@click.option("--amount", type=AMOUNT, required=True, help="What the shop refunded this time.")
@click.option(
    "--as",
    "form",
    type=click.Choice(FORMS),
    default="cash",
    show_default=True,
    help="What it was paid in: back to your payment method, shop coupons (京券), store credit.",
)
@click.option("--note", help="Anything to remember.")
@click.pass_context
def refunded(
    ctx: click.Context, order_id: str, amount: Decimal, form: str, note: str | None
) -> None:
    """Record that the shop refunded AMOUNT on ORDER (counted in `savings`).

    A partial refund is one of these; record each refund as it comes. A refund with no claim
    recorded before it also records the claim it answers, for the same amount.
    """
    from monitor import ledger
    from monitor.clock import utcnow
    from monitor.history import History
    from monitor.messages import format_money
    from monitor.models import Money, RefundForm

    config = load(ctx, thorough=False)
    order = order_named(config, order_id)
    history = History.open(config.database)
    try:
        steps = ledger.refunded(
            order,
            history.order_state(order),
            at=utcnow(),
            amount=amount,
            form=RefundForm(form),
            note=note,
        )
        history.add_claim(*steps)
    finally:
        history.close()
    paid_in = "" if form == "cash" else f" as {form}"
    implicit = (
        " (no claim was recorded: one for the same amount is, with it)" if len(steps) > 1 else ""
    )
    click.echo(
        f"{order.id}: refunded {format_money(Money(amount, order.currency))}{paid_in}.{implicit}"
    )


@click.command()
@click.argument("order_id", metavar="ORDER", shell_complete=complete_order_ids)
@click.option("--reason", help="What the shop said, e.g. 'flash-sale price is excluded'.")
@click.pass_context
def rejected(ctx: click.Context, order_id: str, reason: str | None) -> None:
    """Record that the shop turned down the claim on ORDER."""
    from monitor import ledger
    from monitor.clock import utcnow
    from monitor.history import History

    config = load(ctx, thorough=False)
    order = order_named(config, order_id)
    history = History.open(config.database)
    try:
        step = ledger.rejected(order, history.order_state(order), at=utcnow(), reason=reason)
        if step is None:
            raise click.UsageError(
                f"no claim on {order_id} waits for an answer: there is nothing to reject "
                f"(record the claim first: price-monitor claim {order_id})"
            )
        history.add_claim(step)
    finally:
        history.close()
    click.echo(f"{order.id}: claim rejected{f' ({reason})' if reason else ''}.")


@click.command()
@click.pass_context
def savings(ctx: click.Context) -> None:
    """Show what price protection brought in, per currency: refunded, pending, to claim, missed."""
    from monitor import ledger
    from monitor.clock import utcnow
    from monitor.models import OrderState
    from monitor.reports import render_savings

    config = load(ctx, thorough=False)
    history = open_for_reading(config)
    try:
        orders_for_reading(config, history)
        orders = history.labels.apply(config.orders)  # with the windows page labels gave them
        states = history.order_states(orders)
        removed = history.removed_orders(o.id for o in orders)
        states |= {o: OrderState(claims=tuple(history.claims(o))) for o in removed}
    finally:
        history.close()
    result = ledger.totals(orders, config.shops, states, now=utcnow(), removed=removed)
    if not result.currencies():
        click.echo("Nothing yet: no drop has been alerted or claimed.")
        return
    click.echo(render_savings(result))
