"""Helpers of the credit check and hold tests: orders, lines and invoices around today."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone

from kehu.accounts.models import User
from kehu.catalog.tests.factories import ProductFactory
from kehu.credit.models import CreditLine
from kehu.credit.tests.factories import CreditLineFactory
from kehu.customers.models import Customer
from kehu.receivables.models import Invoice
from kehu.receivables.tests.factories import InvoiceFactory
from kehu.sales.models import Order, OrderState, PaymentMethod
from kehu.sales.services import OrderLineInput, order_create

D = Decimal
_numbers = itertools.count(1)


def today() -> dt.date:
    return timezone.localdate()


def line_for(customer: Customer | None = None, amount: str = "100000.00", **fields) -> CreditLine:
    """A line in force from a month ago for most of a year."""
    fields.setdefault("valid_from", today() - dt.timedelta(days=30))
    fields.setdefault("valid_until", today() + dt.timedelta(days=300))
    return CreditLineFactory.create(customer=customer, amount=D(amount), **fields)


def confirm(
    customer: Customer,
    amount: str,
    *,
    actor: User | None,
    payment_method: str = PaymentMethod.CREDIT,
    state: str = OrderState.CONFIRMED,
    credit_check: bool | None = None,
) -> Order:
    """Confirm (through order_create) an order of one line worth `amount`."""
    return order_create(
        customer=customer,
        number=f"SO-{next(_numbers):06d}",
        order_date=today(),
        lines=[
            OrderLineInput(
                product=ProductFactory.create(),
                quantity=D(1),
                unit_price=D(amount),
                unit_cost=D(0),
            )
        ],
        state=state,
        payment_method=payment_method,
        actor=actor,
        credit_check=credit_check,
    )


def history_order(customer: Customer, amount: str, state: str = OrderState.CONFIRMED) -> Order:
    """An order recorded without a check (as imports and history loads write them)."""
    return confirm(customer, amount, actor=None, state=state)


def open_invoice(
    customer: Customer, amount: str, *, open_amount: str | None = None, due_days_ago: int = -10
) -> Invoice:
    """An open invoice due `due_days_ago` days ago (negative: due in the future)."""
    due = today() - dt.timedelta(days=due_days_ago)
    return InvoiceFactory.create(
        customer=customer,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        amount=D(amount),
        open_amount=D(open_amount if open_amount is not None else amount),
    )
