"""Small builders for the page tests: a purchase, an invoice, a payment — through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count

from kehu.catalog.tests.factories import ProductFactory
from kehu.customers.models import Customer
from kehu.receivables.models import Invoice, Payment
from kehu.receivables.services import invoice_create, payment_record
from kehu.sales.models import Order
from kehu.sales.services import OrderLineInput, order_create

_numbers = count(1)


def purchase(
    customer: Customer, *, on: dt.date, amount: str, cost: str = "0.00", lines: int = 1
) -> Order:
    """An order of `lines` lines that add up to `amount` (and `cost`)."""
    product = ProductFactory.create()
    share, share_cost = Decimal(amount) / lines, Decimal(cost) / lines
    return order_create(
        customer=customer,
        number=f"SO{next(_numbers):06d}",
        order_date=on,
        lines=[
            OrderLineInput(
                product=product, quantity=Decimal(1), unit_price=share, unit_cost=share_cost
            )
            for _ in range(lines)
        ],
    )


def invoice(customer: Customer, *, issued: dt.date, amount: str, terms: int = 30) -> Invoice:
    return invoice_create(
        customer=customer,
        number=f"INV{next(_numbers):06d}",
        issue_date=issued,
        amount=Decimal(amount),
        payment_terms_days=terms,
    )


def payment(
    customer: Customer, *, received: dt.date, amount: str, invoices: list[Invoice] | None = None
) -> Payment:
    return payment_record(
        customer=customer,
        number=f"PAY{next(_numbers):06d}",
        received_on=received,
        amount=Decimal(amount),
        invoices=invoices,
    )
