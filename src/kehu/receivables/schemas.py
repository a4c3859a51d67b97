"""API schemas for invoices, payments and their allocations."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Field, Schema

from kehu.core.schemas import DatedPageQuery, MoneyOut
from kehu.receivables.models import PaymentMethodKind


class InvoiceListQuery(DatedPageQuery):
    is_open: bool | None = Field(
        None, description="true: only invoices with an open amount; false: only settled ones"
    )


class InvoiceOut(Schema):
    id: int
    number: str
    customer_id: int
    order_id: int | None
    issue_date: dt.date
    payment_terms_days: int
    due_date: dt.date
    amount: MoneyOut
    open_amount: MoneyOut
    currency: str
    is_cancelled: bool
    is_overdue: bool = Field(description="open, not cancelled, and past its due date today")

    @staticmethod
    def resolve_is_overdue(invoice: object) -> bool:
        return invoice.is_overdue(timezone.localdate())  # type: ignore[attr-defined]


class InvoicePageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[InvoiceOut]


class AllocationOut(Schema):
    id: int
    invoice_id: int
    invoice_number: str = Field(alias="invoice.number")
    amount: MoneyOut
    allocated_on: dt.date
    reversed_on: dt.date | None


class PaymentOut(Schema):
    id: int
    number: str
    customer_id: int
    received_on: dt.date
    amount: MoneyOut
    unallocated_amount: MoneyOut = Field(description="what is left as the customer's credit")
    method: PaymentMethodKind
    reference: str
    currency: str
    allocations: list[AllocationOut]

    @staticmethod
    def resolve_allocations(payment: object) -> list[object]:
        return list(payment.allocations.all())  # type: ignore[attr-defined]


class PaymentPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[PaymentOut]
