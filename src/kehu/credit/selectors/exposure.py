"""A customer's credit exposure (授信占用): what it owes and what it has ordered on credit.

exposure = open receivables (invoices not cancelled, their open amount)
         + orders confirmed or delivered on credit and not yet invoiced
The order being checked is added by the credit check itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Min, Sum

from kehu.core.money import ZERO
from kehu.receivables.models import Invoice
from kehu.sales.models import Order, OrderState, PaymentMethod

# Orders that hold credit before they are invoiced.
UNINVOICED_STATES = (OrderState.CONFIRMED, OrderState.DELIVERED)


@dataclass(frozen=True)
class Exposure:
    open_receivables: Decimal
    uninvoiced_orders: Decimal
    # The due date of the oldest open invoice (None: nothing open): the overdue-hold rule.
    oldest_open_due: dt.date | None = None

    @property
    def total(self) -> Decimal:
        return self.open_receivables + self.uninvoiced_orders


def exposure_of(*, customer_ids: Iterable[int], exclude_order_id: int | None = None) -> Exposure:
    """The exposure of one customer or of several together (a credit group). No access check:
    the callers (the credit check, the card) have checked what the user may see."""
    ids = list(customer_ids)
    receivables = Invoice.objects.filter(
        customer_id__in=ids, is_cancelled=False, open_amount__gt=0
    ).aggregate(total=Sum("open_amount"), oldest_due=Min("due_date"))
    orders = Order.objects.filter(
        customer_id__in=ids, state__in=UNINVOICED_STATES, payment_method=PaymentMethod.CREDIT
    )
    if exclude_order_id is not None:
        orders = orders.exclude(pk=exclude_order_id)
    uninvoiced = orders.aggregate(total=Sum("total_amount"))["total"]
    return Exposure(
        open_receivables=receivables["total"] or ZERO,
        uninvoiced_orders=uninvoiced or ZERO,
        oldest_open_due=receivables["oldest_due"],
    )
