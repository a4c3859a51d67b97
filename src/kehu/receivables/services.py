"""Writes of the receivables ledger: invoices, payments, allocations, credit notes, write-offs.

Rules (domain §6, conventions): every movement of a balance happens here, inside one
transaction, with the rows it moves locked (`select_for_update`; on SQLite the IMMEDIATE
transaction serialises writers). `Invoice.open_amount` = amount − live allocations − credit
notes − live write-offs; `Payment.unallocated_amount` = amount − live allocations. Nothing is
deleted: an allocation is reversed by a date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kehu.accounts.models import Role, User
from kehu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kehu.core.money import ZERO
from kehu.customers.models import Customer
from kehu.receivables.events import receivable_event_record
from kehu.receivables.models import (
    CreditNote,
    Invoice,
    Payment,
    PaymentAllocation,
    PaymentMethodKind,
    ReceivableEventKind,
    WriteOff,
)
from kehu.sales.models import Order


def _positive(amount: Decimal, field: str) -> None:
    if amount <= 0:
        raise ValidationFailed(f"{field} must be positive, not {amount}", detail={"field": field})


def _not_future(on: dt.date, field: str) -> None:
    if on > timezone.localdate():
        raise ValidationFailed(f"{field} {on} is in the future", detail={"field": field})


@transaction.atomic
def invoice_create(
    *,
    customer: Customer,
    number: str,
    issue_date: dt.date,
    amount: Decimal,
    payment_terms_days: int | None = None,
    due_date: dt.date | None = None,
    order: Order | None = None,
    actor: User | None = None,
) -> Invoice:
    _positive(amount, "amount")
    if Invoice.objects.filter(number=number).exists():
        raise ValidationFailed(f"invoice number {number!r} is taken", detail={"field": "number"})
    if order is not None and order.customer_id != customer.pk:
        raise ValidationFailed(
            f"order {order.number} belongs to another customer", detail={"field": "order"}
        )
    terms = customer.payment_terms_days if payment_terms_days is None else payment_terms_days
    due = due_date or issue_date + dt.timedelta(days=terms)
    if due < issue_date:
        raise ValidationFailed(
            f"due date {due} is before the issue date {issue_date}", detail={"field": "due_date"}
        )
    return Invoice.objects.create(
        customer=customer,
        number=number,
        issue_date=issue_date,
        payment_terms_days=terms,
        due_date=due,
        amount=amount,
        open_amount=amount,
        order=order,
        currency=customer.currency,
    )


@transaction.atomic
def payment_allocate(
    *,
    payment: Payment,
    invoice: Invoice,
    amount: Decimal,
    allocated_on: dt.date | None = None,
    actor: User | None = None,
) -> PaymentAllocation:
    """Allocate part of a payment to one invoice. Refused when it exceeds what is open on the
    invoice or unallocated on the payment, is dated before either, or crosses customers."""
    _positive(amount, "amount")
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    on = allocated_on or max(payment.received_on, invoice.issue_date)
    _not_future(on, "allocation date")
    if invoice.customer_id != payment.customer_id:
        raise ValidationFailed(
            f"invoice {invoice.number} belongs to another customer than payment {payment.number}",
            detail={"field": "invoice"},
        )
    if invoice.is_cancelled:
        raise Conflict(f"invoice {invoice.number} is cancelled", detail={"field": "invoice"})
    if on < invoice.issue_date or on < payment.received_on:
        raise ValidationFailed(
            f"allocation date {on} is before the invoice or the payment",
            detail={"field": "allocated_on"},
        )
    if amount > invoice.open_amount:
        raise Conflict(
            f"{amount} is more than the {invoice.open_amount} still open on {invoice.number}",
            detail={"field": "amount", "open_amount": str(invoice.open_amount)},
        )
    if amount > payment.unallocated_amount:
        raise Conflict(
            f"{amount} is more than the {payment.unallocated_amount} unallocated on "
            f"{payment.number}",
            detail={"field": "amount", "unallocated_amount": str(payment.unallocated_amount)},
        )
    allocation = PaymentAllocation.objects.create(
        payment=payment, invoice=invoice, amount=amount, allocated_on=on, created_by=actor
    )
    invoice.open_amount -= amount
    invoice.save(update_fields=["open_amount", "updated_at"])
    payment.unallocated_amount -= amount
    payment.save(update_fields=["unallocated_amount", "updated_at"])
    return allocation


def _oldest_first(customer_id: int) -> list[Invoice]:
    return list(
        Invoice.objects.select_for_update()
        .filter(customer_id=customer_id, open_amount__gt=0, is_cancelled=False)
        .order_by("due_date", "issue_date", "number")
    )


@transaction.atomic
def payment_record(
    *,
    customer: Customer,
    number: str,
    received_on: dt.date,
    amount: Decimal,
    method: str = PaymentMethodKind.BANK_TRANSFER,
    reference: str = "",
    invoices: Sequence[Invoice] | None = None,
    actor: User | None = None,
) -> Payment:
    """Record a payment and allocate it to the named invoices, or oldest-first when none are
    named. What is left after every open amount is covered stays as the customer's credit."""
    _positive(amount, "amount")
    _not_future(received_on, "payment date")
    if method not in PaymentMethodKind.values:
        raise ValidationFailed(f"unknown payment method {method!r}", detail={"field": "method"})
    if Payment.objects.filter(number=number).exists():
        raise ValidationFailed(f"payment number {number!r} is taken", detail={"field": "number"})
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    payment = Payment.objects.create(
        customer=customer,
        number=number,
        received_on=received_on,
        amount=amount,
        unallocated_amount=amount,
        method=method,
        reference=reference,
        currency=customer.currency,
    )
    if invoices is None:
        targets = [
            invoice for invoice in _oldest_first(customer.pk) if invoice.issue_date <= received_on
        ]
    else:
        for invoice in invoices:
            if invoice.customer_id != customer.pk:
                raise ValidationFailed(
                    f"invoice {invoice.number} belongs to another customer",
                    detail={"field": "invoices"},
                )
        targets = list(invoices)
    remaining = amount
    for invoice in targets:
        invoice.refresh_from_db(fields=["open_amount"])
        share = min(remaining, invoice.open_amount)
        if share <= 0:
            continue
        payment_allocate(
            payment=payment,
            invoice=invoice,
            amount=share,
            allocated_on=max(received_on, invoice.issue_date),
            actor=actor,
        )
        remaining -= share
        if remaining == 0:
            break
    payment.refresh_from_db()
    return payment


@transaction.atomic
def allocation_reverse(
    *, allocation: PaymentAllocation, on: dt.date | None = None, actor: User | None = None
) -> PaymentAllocation:
    allocation = PaymentAllocation.objects.select_for_update().get(pk=allocation.pk)
    if allocation.reversed_on is not None:
        raise Conflict("this allocation is already reversed", detail={"field": "allocation"})
    reversed_on = on or timezone.localdate()
    _not_future(reversed_on, "reversal date")
    if reversed_on < allocation.allocated_on:
        raise ValidationFailed(
            "a reversal cannot be dated before the allocation", detail={"field": "on"}
        )
    invoice = Invoice.objects.select_for_update().get(pk=allocation.invoice_id)
    payment = Payment.objects.select_for_update().get(pk=allocation.payment_id)
    allocation.reversed_on = reversed_on
    allocation.save(update_fields=["reversed_on"])
    invoice.open_amount += allocation.amount
    invoice.save(update_fields=["open_amount", "updated_at"])
    payment.unallocated_amount += allocation.amount
    payment.save(update_fields=["unallocated_amount", "updated_at"])
    return allocation


@transaction.atomic
def credit_note_create(
    *,
    customer: Customer,
    number: str,
    issue_date: dt.date,
    amount: Decimal,
    invoice: Invoice,
    reason: str = "",
    actor: User | None = None,
) -> CreditNote:
    """A credit note reduces what is open on one invoice of the same customer."""
    _positive(amount, "amount")
    _not_future(issue_date, "credit note date")
    if CreditNote.objects.filter(number=number).exists():
        raise ValidationFailed(
            f"credit note number {number!r} is taken", detail={"field": "number"}
        )
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.customer_id != customer.pk:
        raise ValidationFailed(
            f"invoice {invoice.number} belongs to another customer", detail={"field": "invoice"}
        )
    if amount > invoice.open_amount:
        raise Conflict(
            f"{amount} is more than the {invoice.open_amount} still open on {invoice.number}",
            detail={"field": "amount"},
        )
    note = CreditNote.objects.create(
        customer=customer,
        number=number,
        issue_date=issue_date,
        amount=amount,
        invoice=invoice,
        reason=reason,
        currency=customer.currency,
    )
    invoice.open_amount -= amount
    invoice.save(update_fields=["open_amount", "updated_at"])
    return note


@transaction.atomic
def write_off_create(
    *,
    invoice: Invoice,
    amount: Decimal,
    written_off_on: dt.date,
    reason: str,
    decided_by: User,
    credit_given_by: User | None = None,
    credit_approved_by: User | None = None,
) -> WriteOff:
    """Write off a bad debt (domain §5.4, §6): a ledger entry, never a deletion."""
    _positive(amount, "amount")
    _not_future(written_off_on, "write-off date")
    if not reason.strip():
        raise ValidationFailed("a write-off needs a reason", detail={"field": "reason"})
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if amount > invoice.open_amount:
        raise Conflict(
            f"{amount} is more than the balance {invoice.open_amount} of {invoice.number}",
            detail={"field": "amount"},
        )
    write_off = WriteOff.objects.create(
        invoice=invoice,
        amount=amount,
        written_off_on=written_off_on,
        reason=reason.strip(),
        decided_by=decided_by,
        credit_given_by=credit_given_by,
        credit_approved_by=credit_approved_by,
    )
    before = {"open_amount": str(invoice.open_amount)}
    invoice.open_amount -= amount
    invoice.save(update_fields=["open_amount", "updated_at"])
    receivable_event_record(
        kind=ReceivableEventKind.WRITE_OFF_CREATED,
        customer_id=invoice.customer_id,
        invoice=invoice,
        actor=decided_by,
        before=before,
        after={
            "open_amount": str(invoice.open_amount),
            "write_off_id": write_off.pk,
            "amount": str(amount),
            "written_off_on": written_off_on.isoformat(),
        },
        reason={"text": write_off.reason},
    )
    return write_off


def may_reverse_write_offs(user: User) -> bool:
    """Reversing a write-off is a finance decision (finance controller or administrator)."""
    return bool(user.is_superuser) or user.role in {Role.FINANCE, Role.ADMINISTRATOR}


@transaction.atomic
def write_off_reverse(
    *, write_off: WriteOff, actor: User, reason: str, on: dt.date | None = None
) -> WriteOff:
    """Reverse a write-off when the money comes back: the written-off amount is open again on
    the invoice (for the payment to be allocated to). Dated, never deleted; a write-off is
    reversed at most once — a reversal of a reversal is refused."""
    if not may_reverse_write_offs(actor):
        raise PermissionDenied("only finance may reverse a write-off")
    if not reason.strip():
        raise ValidationFailed("a reversal needs a reason", detail={"field": "reason"})
    write_off = WriteOff.objects.select_for_update().get(pk=write_off.pk)
    if write_off.reversed_on is not None:
        raise Conflict(
            f"this write-off was already reversed on {write_off.reversed_on}",
            detail={"field": "write_off", "reversed_on": write_off.reversed_on.isoformat()},
        )
    reversed_on = on or timezone.localdate()
    _not_future(reversed_on, "reversal date")
    if reversed_on < write_off.written_off_on:
        raise ValidationFailed(
            f"a reversal cannot be dated {reversed_on}, before the write-off of "
            f"{write_off.written_off_on}",
            detail={"field": "on"},
        )
    invoice = Invoice.objects.select_for_update().get(pk=write_off.invoice_id)
    before = {"open_amount": str(invoice.open_amount), "reversed_on": None}
    write_off.reversed_on = reversed_on
    write_off.save(update_fields=["reversed_on", "updated_at"])
    invoice.open_amount += write_off.amount
    invoice.save(update_fields=["open_amount", "updated_at"])
    receivable_event_record(
        kind=ReceivableEventKind.WRITE_OFF_REVERSED,
        customer_id=invoice.customer_id,
        invoice=invoice,
        actor=actor,
        before=before,
        after={
            "open_amount": str(invoice.open_amount),
            "reversed_on": reversed_on.isoformat(),
            "write_off_id": write_off.pk,
        },
        reason={"text": reason.strip()},
    )
    return write_off


def invoice_open_amount_from_ledger(invoice: Invoice) -> Decimal:
    """The open amount rebuilt from the entries: what `open_amount` must always equal."""
    allocated = sum((a.amount for a in invoice.allocations.filter(reversed_on__isnull=True)), ZERO)
    credited = sum((c.amount for c in invoice.credit_notes.all()), ZERO)
    written_off = sum((w.amount for w in invoice.write_offs.filter(reversed_on__isnull=True)), ZERO)
    return invoice.amount - allocated - credited - written_off
