"""Reads of receivables, always starting from what the acting user may see."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from kehu.core.money import ZERO
from kehu.customers.models import Customer
from kehu.receivables.models import Invoice, Payment


def customer_balance(customer: Customer) -> dict[str, Decimal]:
    """Open invoices, the customer's credit (unallocated payments), the net balance and overdue."""
    today = timezone.localdate()
    invoices = Invoice.objects.filter(customer=customer, is_cancelled=False, open_amount__gt=0)
    totals = invoices.aggregate(open=Sum("open_amount"))
    overdue = invoices.filter(due_date__lt=today).aggregate(total=Sum("open_amount"))
    credit = Payment.objects.filter(customer=customer, unallocated_amount__gt=0).aggregate(
        total=Sum("unallocated_amount")
    )
    open_amount = totals["open"] or ZERO
    credit_amount = credit["total"] or ZERO
    return {
        "open_invoices": open_amount,
        "customer_credit": credit_amount,
        "balance": open_amount - credit_amount,
        "overdue": overdue["total"] or ZERO,
    }
