"""Reads for the home page: a few aggregates over what the user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from kehu.accounts.models import User
from kehu.core.money import ZERO
from kehu.customers.lifecycle import lifecycle_q
from kehu.customers.models import CustomerKind, Lifecycle
from kehu.customers.selectors import customers_visible_to, month_starts, related_visible_to
from kehu.receivables.models import Invoice
from kehu.sales.models import PURCHASE_STATES, Order


@dataclass(frozen=True)
class MonthlyOrders:
    month: dt.date
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Dashboard:
    customer_count: int
    by_lifecycle: dict[str, int]  # Lifecycle value → count, every state present
    by_kind: dict[str, int]  # CustomerKind value → count, every kind present
    open_receivables: Decimal
    overdue_receivables: Decimal
    overdue_invoice_count: int
    orders_by_month: list[MonthlyOrders]


def dashboard_for(*, user: User, today: dt.date, months: int = 12) -> Dashboard:
    """The home page's figures in three queries: customers, invoices, orders by month."""
    aggregates: dict[str, Count] = {"total": Count("pk")}
    for state in Lifecycle.values:
        aggregates[f"lifecycle_{state}"] = Count("pk", filter=lifecycle_q(state, today))
    for kind in CustomerKind.values:
        aggregates[f"kind_{kind}"] = Count("pk", filter=Q(kind=kind))
    customers = customers_visible_to(user).order_by().aggregate(**aggregates)

    invoices = (
        related_visible_to(user, Invoice.objects.filter(is_cancelled=False, open_amount__gt=0))
        .order_by()
        .aggregate(
            open=Sum("open_amount"),
            overdue=Sum("open_amount", filter=Q(due_date__lt=today)),
            overdue_count=Count("pk", filter=Q(due_date__lt=today)),
        )
    )

    starts = month_starts(today=today, months=months)
    rows = (
        related_visible_to(
            user,
            Order.objects.filter(
                state__in=PURCHASE_STATES, order_date__gte=starts[0], order_date__lte=today
            ),
        )
        .annotate(month=TruncMonth("order_date"))
        .order_by()
        .values("month")
        .annotate(count=Count("pk"), amount=Sum("total_amount"))
        .values_list("month", "count", "amount")
    )
    by_month = {
        (month.date() if isinstance(month, dt.datetime) else month): (count, amount)
        for month, count, amount in rows
    }
    return Dashboard(
        customer_count=customers["total"],
        by_lifecycle={state: customers[f"lifecycle_{state}"] for state in Lifecycle.values},
        by_kind={kind: customers[f"kind_{kind}"] for kind in CustomerKind.values},
        open_receivables=invoices["open"] or ZERO,
        overdue_receivables=invoices["overdue"] or ZERO,
        overdue_invoice_count=invoices["overdue_count"],
        orders_by_month=[
            MonthlyOrders(
                month=start,
                count=by_month.get(start, (0, ZERO))[0],
                amount=by_month.get(start, (0, ZERO))[1],
            )
            for start in starts
        ],
    )
