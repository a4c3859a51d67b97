"""Payments: upsert by payment number, allocated in bulk by the rule of `payment_record`.

A new payment goes to the invoice it names (as much as is open on it), or, when it names none,
to the customer's open invoices issued by the payment date, oldest first (by due date, then
issue date, then number). What is left stays on the payment as the customer's credit: it never
vanishes. Payments are allocated in file order, each seeing what the ones before it paid; the
allocation is computed again under row locks when the import writes.

An existing payment keeps its amount, customer and allocations (reverse and record it again to
change those); its date, method and reference are updated from the file.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.utils.translation import gettext as _

from kehu.core.money import ZERO
from kehu.imports.kinds.base import (
    REPORT_EVERY,
    Cells,
    Context,
    Counts,
    Plan,
    flag_duplicates,
    in_chunks,
)
from kehu.imports.kinds.lookups import Customers
from kehu.imports.validation import (
    ChoiceParser,
    DateParser,
    MappedTable,
    RowErrors,
    max_length_of,
    money_parser,
    parse_text,
)
from kehu.receivables.models import Invoice, Payment, PaymentAllocation, PaymentMethodKind

WRITE_BATCH = 1_000


@dataclass
class PaymentDraft:
    row_number: int
    number: str
    customer_id: int
    currency: str
    received_on: dt.date
    amount: Decimal
    method: str
    reference: str
    invoice_id: int | None
    # Filled by `allocate`: (invoice id, amount, allocated on).
    allocations: list[tuple[int, Decimal, dt.date]] = field(default_factory=list)

    @property
    def unallocated_amount(self) -> Decimal:
        return self.amount - sum((amount for _invoice, amount, _on in self.allocations), ZERO)


@dataclass
class OpenInvoice:
    id: int
    customer_id: int
    number: str
    issue_date: dt.date
    due_date: dt.date
    open_amount: Decimal


def plan(mapped: MappedTable, errors: RowErrors, context: Context) -> Plan:
    table = mapped.table
    progress = context.progress
    progress.start(_("Checking payments"), len(table))
    counts = {"payments": Counts(), "payment_allocations": Counts()}
    numbers = mapped.values("number")
    flag_duplicates(
        mapped,
        errors,
        numbers,
        column="number",
        label=lambda number: _("Payment %(number)s") % {"number": number},
    )
    customer_codes = mapped.values("customer_code")
    dates = mapped.values("received_on")
    amounts = mapped.values("amount")
    methods = mapped.values("method")
    invoice_numbers = mapped.values("invoice_number")
    references = mapped.values("reference")

    customers = Customers(customer_codes)
    named: dict[str, Invoice] = {}
    for chunk in in_chunks({number for number in invoice_numbers if number}):
        for found_invoice in Invoice.objects.filter(number__in=chunk):
            named[found_invoice.number] = found_invoice
    existing: dict[str, Payment] = {}
    for chunk in in_chunks({number for number in numbers if number}):
        for found_payment in Payment.objects.filter(number__in=chunk):
            existing[found_payment.number] = found_payment

    parse_number = partial(parse_text, max_length=max_length_of(Payment, "number"))
    parse_reference = partial(parse_text, max_length=max_length_of(Payment, "reference"))
    parse_date = DateParser(not_after=context.today)
    parse_amount = money_parser(positive=True)
    parse_method = ChoiceParser(PaymentMethodKind)
    cells = Cells(mapped, errors)
    new: list[PaymentDraft] = []
    changed: list[Payment] = []
    for index, row_number in enumerate(table.row_numbers):
        if index % REPORT_EVERY == 0 and index:
            progress.advance(REPORT_EVERY)
        cells.at(row_number)
        number = cells.parse("number", numbers[index], parse_number, required=True)
        customer = cells.parse("customer_code", customer_codes[index], customers, required=True)
        received_on = cells.parse("received_on", dates[index], parse_date, required=True)
        amount = cells.parse("amount", amounts[index], parse_amount, required=True)
        method = cells.parse("method", methods[index], parse_method)
        reference = cells.parse("reference", references[index], parse_reference)
        invoice_id = None
        invoice_number = invoice_numbers[index]
        if invoice_number is not None:
            invoice = named.get(invoice_number)
            if invoice is None:
                cells.fail(
                    "invoice_number",
                    invoice_number,
                    _("No invoice with the number %(number)r.") % {"number": invoice_number},
                )
            elif customer is not None and invoice.customer_id != customer.id:
                cells.fail(
                    "invoice_number",
                    invoice_number,
                    _("Invoice %(number)s belongs to another customer.")
                    % {"number": invoice_number},
                )
            elif invoice.is_cancelled:
                cells.fail(
                    "invoice_number",
                    invoice_number,
                    _("Invoice %(number)s is cancelled.") % {"number": invoice_number},
                )
            elif invoice.issue_date > context.today:
                cells.fail(
                    "invoice_number",
                    invoice_number,
                    _("Invoice %(number)s is dated in the future.") % {"number": invoice_number},
                )
            else:
                invoice_id = invoice.pk
        if cells.is_bad or row_number in errors.refused_rows:
            counts["payments"].refused += 1
            continue
        payment = existing.get(number)
        if payment is None:
            new.append(
                PaymentDraft(
                    row_number,
                    number,
                    customer.id,
                    customer.currency,
                    received_on,
                    amount,
                    method or PaymentMethodKind.BANK_TRANSFER.value,
                    reference or "",
                    invoice_id,
                )
            )
            counts["payments"].created += 1
            continue
        if payment.customer_id != customer.id or payment.amount != amount:
            cells.fail(
                "amount" if payment.customer_id == customer.id else "customer_code",
                amounts[index] if payment.customer_id == customer.id else customer_codes[index],
                _(
                    "Payment %(number)s exists for %(amount)s from another customer or "
                    "with another amount; reverse it and record it again to change that."
                )
                % {"number": number, "amount": payment.amount},
            )
            counts["payments"].refused += 1
            continue
        values = {"received_on": received_on, "method": method, "reference": reference}
        fields = [
            key
            for key, value in values.items()
            if value is not None and getattr(payment, key) != value
        ]
        if fields:
            for key in fields:
                setattr(payment, key, values[key])
            changed.append(payment)
            counts["payments"].updated += 1
        else:
            counts["payments"].unchanged += 1
    progress.finish()
    allocate(new, _open_invoices(new, named, lock=False))
    counts["payment_allocations"].created = sum(len(draft.allocations) for draft in new)

    def write() -> None:
        _write(context, new, changed, named)

    return Plan(counts=counts, write=write)


def _open_invoices(
    drafts: list[PaymentDraft], named: dict[str, Invoice], *, lock: bool
) -> dict[int, list[OpenInvoice]]:
    """The open invoices of the paying customers, oldest first, and the named ones."""
    customer_ids = sorted({draft.customer_id for draft in drafts if draft.invoice_id is None})
    named_ids = sorted({draft.invoice_id for draft in drafts if draft.invoice_id is not None})
    by_customer: dict[int, list[OpenInvoice]] = defaultdict(list)
    queryset = Invoice.objects.all()
    if lock:
        queryset = queryset.select_for_update()
    fields = ("id", "customer_id", "number", "issue_date", "due_date", "open_amount")
    for chunk in in_chunks(customer_ids):
        for row in (
            queryset.filter(customer_id__in=chunk, open_amount__gt=0, is_cancelled=False)
            .order_by("due_date", "issue_date", "number")
            .values_list(*fields)
        ):
            by_customer[row[1]].append(OpenInvoice(*row))
    # Named invoices, keyed by the negative id so that they never mix with a customer's list.
    for chunk in in_chunks(named_ids):
        for row in queryset.filter(pk__in=chunk).values_list(*fields):
            by_customer[-row[0]].append(OpenInvoice(*row))
    return by_customer


def allocate(
    drafts: list[PaymentDraft], open_invoices: dict[int, list[OpenInvoice]]
) -> dict[int, OpenInvoice]:
    """Allocate each payment in turn; fills `draft.allocations` and lowers the open amounts.
    One invoice is one object, so what a payment pays is no longer open for the next.
    Returns the invoices by id with their open amounts after the allocation."""
    invoices: dict[int, OpenInvoice] = {}
    for listed in open_invoices.values():
        for invoice in listed:
            invoices.setdefault(invoice.id, invoice)
    by_customer = {
        customer_id: [invoices[invoice.id] for invoice in listed]
        for customer_id, listed in open_invoices.items()
        if customer_id > 0
    }
    for draft in drafts:
        draft.allocations = []
        if draft.invoice_id is not None:
            targets = [invoices[draft.invoice_id]] if draft.invoice_id in invoices else []
        else:
            targets = [
                invoice
                for invoice in by_customer.get(draft.customer_id, [])
                if invoice.issue_date <= draft.received_on
            ]
        remaining = draft.amount
        for invoice in targets:
            share = min(remaining, invoice.open_amount)
            if share <= 0:
                continue
            draft.allocations.append(
                (invoice.id, share, max(draft.received_on, invoice.issue_date))
            )
            invoice.open_amount -= share
            remaining -= share
            if remaining == 0:
                break
    return invoices


def _write(
    context: Context, new: list[PaymentDraft], changed: list[Payment], named: dict[str, Invoice]
) -> None:
    progress = context.progress
    progress.start(_("Writing payments"), len(new) + len(changed))
    invoices = allocate(new, _open_invoices(new, named, lock=True))
    payments = []
    for draft in new:
        payments.append(
            Payment(
                number=draft.number,
                customer_id=draft.customer_id,
                received_on=draft.received_on,
                amount=draft.amount,
                unallocated_amount=draft.unallocated_amount,
                method=draft.method,
                reference=draft.reference,
                currency=draft.currency,
            )
        )
    for start in range(0, len(payments), WRITE_BATCH):
        Payment.objects.bulk_create(payments[start : start + WRITE_BATCH])
        progress.advance(len(payments[start : start + WRITE_BATCH]))
    actor_id = context.actor.pk if context.actor else None
    allocations = [
        PaymentAllocation(
            payment_id=payment.pk,
            invoice_id=invoice_id,
            amount=amount,
            allocated_on=on,
            created_by_id=actor_id,
        )
        for payment, draft in zip(payments, new, strict=True)
        for invoice_id, amount, on in draft.allocations
    ]
    PaymentAllocation.objects.bulk_create(allocations, batch_size=WRITE_BATCH)
    paid = sorted({invoice_id for draft in new for invoice_id, _amount, _on in draft.allocations})
    touched = [
        Invoice(pk=invoice_id, open_amount=invoices[invoice_id].open_amount, updated_at=context.now)
        for invoice_id in paid
    ]
    Invoice.objects.bulk_update(touched, ["open_amount", "updated_at"], batch_size=WRITE_BATCH)
    if changed:
        for payment in changed:
            payment.updated_at = context.now
        Payment.objects.bulk_update(
            changed, ["received_on", "method", "reference", "updated_at"], batch_size=WRITE_BATCH
        )
        progress.advance(len(changed))
    progress.finish()
