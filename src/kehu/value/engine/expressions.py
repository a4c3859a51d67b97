"""The aggregations of the value snapshot, written once as Ibis expressions.

Input: the nine normalised tables of engine/sources.py (cents as int64, dates as day numbers).
Output: one small per-customer table per aggregate, each keyed by `customer_id` (activities by
customer and kind). Window bounds `ws`..`we` are day numbers, both inclusive; `we` is the
period's last day, the "as of" day of the snapshot.

Money stays in whole cents; sums of squares (for the variation of amounts) are the only floats.
"""

from __future__ import annotations

import ibis
from ibis.expr.types import Table

from kehu.sales.models import PURCHASE_STATES

PURCHASE_STATE_VALUES = [str(state) for state in PURCHASE_STATES]


def _in_window(table: Table, ws: int, we: int, column: str = "day") -> Table:
    return table.filter((table[column] >= ws) & (table[column] <= we))


def _live_as_of(table: Table, we: int) -> Table:
    """Entries made by `we` and not reversed by then."""
    return table.filter(
        (table.day <= we) & (table.reversed_day.isnull() | (table.reversed_day > we))
    )


def _days_in_window(start, end, ws: int, we: int):
    """Days from `start` to `end` (inclusive) that fall in ws..we; never negative."""
    return ibis.greatest(ibis.least(end, we) - ibis.greatest(start, ws) + 1, 0)


def lifetime_purchase_days(purchases: Table) -> Table:
    """Every purchase day of every customer up to `we` (the whole history, not only the window),
    with the day's amount: what the lifetime-value models (§4.6) summarise into frequency,
    recency, T and monetary value, and split into calibration and holdout periods."""
    return purchases.group_by(["customer_id", "day"]).agg(amount=purchases.amount.sum())


def aggregates(tables: dict[str, Table], *, ws: int, we: int) -> dict[str, Table]:
    orders = tables["orders"]
    purchases = orders.filter(orders.state.isin(PURCHASE_STATE_VALUES) & (orders.day <= we))

    history = purchases.group_by("customer_id").agg(
        first_day=purchases.day.min(), last_day=purchases.day.max()
    )

    window_orders = _in_window(purchases, ws, we)
    order_sums = window_orders.group_by("customer_id").agg(
        order_count=window_orders.count(),
        order_amount=window_orders.amount.sum(),
        order_cost=window_orders.cost.sum(),
    )

    # A purchase is a customer's orders of one day: its amount and the gap to the one before.
    purchase_days = window_orders.group_by(["customer_id", "day"]).agg(
        amount=window_orders.amount.sum()
    )
    by_customer = ibis.window(group_by=purchase_days.customer_id, order_by=purchase_days.day)
    gaps = purchase_days.mutate(gap=purchase_days.day - purchase_days.day.lag().over(by_customer))
    regularity = gaps.group_by("customer_id").agg(
        purchase_count=gaps.count(),
        amount_sum=gaps.amount.sum(),
        amount_squares=(gaps.amount.cast("float64") * gaps.amount.cast("float64")).sum(),
        gap_count=gaps.gap.count(),
        gap_sum=gaps.gap.sum(),
        gap_squares=(gaps.gap.cast("int64") * gaps.gap.cast("int64")).sum(),
    )

    returns = _in_window(tables["returns"], ws, we)
    return_sums = returns.group_by("customer_id").agg(
        return_count=returns.count(),
        return_amount=returns.amount.sum(),
        return_cost=returns.cost.sum(),
    )

    activities = _in_window(tables["activities"], ws, we)
    activity_sums = activities.group_by(["customer_id", "kind"]).agg(
        activity_count=activities.count(),
        recorded_cost=activities.cost.sum(),
        uncosted_count=ibis.ifelse(activities.cost == 0, 1, 0).sum(),
    )

    complaints = _in_window(tables["complaints"], ws, we)
    complaint_sums = complaints.group_by("customer_id").agg(complaint_count=complaints.count())

    invoices = tables["invoices"].filter(tables["invoices"].cancelled == 0)
    invoice_keys = invoices.select("invoice_id", "customer_id", "due_day", "amount")

    def with_customer(table: Table) -> Table:
        keys = invoice_keys.select("invoice_id", "customer_id", "due_day")
        return table.join(keys, "invoice_id")

    allocations = with_customer(tables["allocations"])
    credit_notes = with_customer(tables["credit_notes"])
    write_offs = with_customer(tables["write_offs"])

    # Bad debts: write-offs dated in the window and not reversed by its end.
    bad_debts = _in_window(_live_as_of(write_offs, we), ws, we)
    bad_debt_sums = bad_debts.group_by("customer_id").agg(bad_debt=bad_debts.amount.sum())

    # Receivable financing: Σ over the window's days of what the customer owed, in cent-days.
    # Each entry moves the balance from its day until its reversal (or for good).
    def cent_days(table: Table, sign: int, start: str, end: str | None) -> Table:
        stop = we if end is None else table[end].fill_null(we + 1) - 1
        return table.select(
            "customer_id",
            cent_days=sign
            * table.amount.cast("int64")
            * _days_in_window(table[start], stop, ws, we).cast("int64"),
        )

    movements = ibis.union(
        cent_days(invoices, 1, "issue_day", None),
        cent_days(allocations, -1, "day", "reversed_day"),
        cent_days(credit_notes, -1, "day", None),
        cent_days(write_offs, -1, "day", "reversed_day"),
    )
    financing = movements.group_by("customer_id").agg(
        receivable_cent_days=movements.cent_days.sum()
    )

    # Payment discipline over the invoices due in the window, as of its end.
    due = _in_window(invoice_keys, ws, we, column="due_day")
    live = _live_as_of(allocations, we)
    paid = live.group_by("invoice_id").agg(
        allocated=live.amount.sum(),
        on_time=ibis.ifelse(live.day <= live.due_day, live.amount, 0).sum(),
        late_cent_days=(
            live.amount.cast("int64") * ibis.greatest(live.day - live.due_day, 0).cast("int64")
        ).sum(),
    )
    credited_notes = credit_notes.filter(credit_notes.day <= we)
    credited = credited_notes.group_by("invoice_id").agg(credited=credited_notes.amount.sum())
    due_paid = due.left_join(paid, "invoice_id").left_join(credited, "invoice_id")
    due_paid = due_paid.select(
        "customer_id",
        "due_day",
        "amount",
        allocated=due_paid.allocated.fill_null(0),
        on_time=due_paid.on_time.fill_null(0),
        late_cent_days=due_paid.late_cent_days.fill_null(0),
        credited=due_paid.credited.fill_null(0),
    )
    due_paid = due_paid.mutate(
        unpaid=ibis.greatest(due_paid.amount - due_paid.allocated - due_paid.credited, 0)
    )
    payment = due_paid.group_by("customer_id").agg(
        invoiced=due_paid.amount.sum(),
        paid_on_time=due_paid.on_time.sum(),
        late_weight=(due_paid.allocated + due_paid.unpaid).sum(),
        late_cent_days=(
            due_paid.late_cent_days
            + due_paid.unpaid.cast("int64") * (we - due_paid.due_day).cast("int64")
        ).sum(),
    )

    return {
        "history": history,
        "orders": order_sums,
        "regularity": regularity,
        "returns": return_sums,
        "activities": activity_sums,
        "complaints": complaint_sums,
        "bad_debts": bad_debt_sums,
        "financing": financing,
        "payment": payment,
        "lifetime": lifetime_purchase_days(purchases),
    }


# The float columns; every other aggregate column is a whole number.
FLOAT_COLUMNS = {"amount_squares"}
