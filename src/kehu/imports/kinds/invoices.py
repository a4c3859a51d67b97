"""Invoices: upsert by invoice number, with the rules of `invoice_create`.

Terms default to the customer's; the due date to the issue date plus the terms. On an existing
invoice an empty cell keeps the field; a changed amount moves the open amount by the same
difference (what was paid, credited or written off stays so), and may not fall below it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.utils.translation import gettext as _

from kehu.core.errors import Conflict
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
    DateParser,
    MappedTable,
    RowErrors,
    max_length_of,
    money_parser,
    parse_text,
    parse_whole_number,
)
from kehu.receivables.models import Invoice
from kehu.sales.models import Order

WRITE_BATCH = 1_000
UPDATED_FIELDS = [
    "order",
    "issue_date",
    "payment_terms_days",
    "due_date",
    "amount",
    "open_amount",
    "updated_at",
]


@dataclass
class InvoiceDraft:
    row_number: int
    number: str
    customer_id: int
    currency: str
    order_id: int | None
    issue_date: dt.date
    payment_terms_days: int
    due_date: dt.date
    amount: Decimal


def plan(mapped: MappedTable, errors: RowErrors, context: Context) -> Plan:
    table = mapped.table
    progress = context.progress
    progress.start(_("Checking invoices"), len(table))
    counts = {"invoices": Counts()}
    numbers = mapped.values("number")
    flag_duplicates(
        mapped,
        errors,
        numbers,
        column="number",
        label=lambda number: _("Invoice %(number)s") % {"number": number},
    )
    customer_codes = mapped.values("customer_code")
    order_numbers = mapped.values("order_number")
    issue_dates = mapped.values("issue_date")
    amounts = mapped.values("amount")
    terms_cells = mapped.values("payment_terms_days")
    due_dates = mapped.values("due_date")

    customers = Customers(customer_codes)
    orders: dict[str, tuple[int, int]] = {}
    for chunk in in_chunks({number for number in order_numbers if number}):
        for number, found_id, customer_id in Order.objects.filter(number__in=chunk).values_list(
            "number", "id", "customer_id"
        ):
            orders[number] = (found_id, customer_id)
    existing: dict[str, Invoice] = {}
    for chunk in in_chunks({number for number in numbers if number}):
        for found in Invoice.objects.filter(number__in=chunk):
            existing[found.number] = found

    parse_number = partial(parse_text, max_length=max_length_of(Invoice, "number"))
    parse_date = DateParser()
    parse_amount = money_parser(positive=True)
    parse_terms = partial(parse_whole_number, minimum=0, maximum=32767)
    cells = Cells(mapped, errors)
    new: list[InvoiceDraft] = []
    changed: list[tuple[InvoiceDraft, Invoice]] = []
    for index, row_number in enumerate(table.row_numbers):
        if index % REPORT_EVERY == 0 and index:
            progress.advance(REPORT_EVERY)
        cells.at(row_number)
        number = cells.parse("number", numbers[index], parse_number, required=True)
        customer = cells.parse("customer_code", customer_codes[index], customers, required=True)
        issue_date = cells.parse("issue_date", issue_dates[index], parse_date, required=True)
        amount = cells.parse("amount", amounts[index], parse_amount, required=True)
        terms = cells.parse("payment_terms_days", terms_cells[index], parse_terms)
        due_date = cells.parse("due_date", due_dates[index], parse_date)
        order_id: int | None = None
        order_number = order_numbers[index]
        if order_number is not None:
            found_order = orders.get(order_number)
            if found_order is None:
                cells.fail(
                    "order_number",
                    order_numbers[index],
                    _("No order with the number %(number)r.") % {"number": order_numbers[index]},
                )
            elif customer is not None and found_order[1] != customer.id:
                cells.fail(
                    "order_number",
                    order_numbers[index],
                    _("Order %(number)s belongs to another customer.")
                    % {"number": order_numbers[index]},
                )
            else:
                order_id = found_order[0]
        if cells.is_bad or row_number in errors.refused_rows:
            counts["invoices"].refused += 1
            continue
        invoice = existing.get(number)
        if invoice is None:
            terms = customer.payment_terms_days if terms is None else terms
            due = due_date or issue_date + dt.timedelta(days=terms)
        else:
            if invoice.customer_id != customer.id:
                cells.fail(
                    "customer_code",
                    customer_codes[index],
                    _("Invoice %(number)s exists for another customer.") % {"number": number},
                )
                counts["invoices"].refused += 1
                continue
            if order_id is None:
                order_id = invoice.order_id
            unchanged_dates = issue_date == invoice.issue_date and terms is None
            terms = invoice.payment_terms_days if terms is None else terms
            due = due_date or (
                invoice.due_date if unchanged_dates else issue_date + dt.timedelta(days=terms)
            )
            settled = invoice.amount - invoice.open_amount
            if amount < settled:
                cells.fail(
                    "amount",
                    amounts[index],
                    _(
                        "%(settled)s of invoice %(number)s is already paid, credited or written "
                        "off; the amount cannot be less."
                    )
                    % {"settled": settled, "number": number},
                )
                counts["invoices"].refused += 1
                continue
        if due < issue_date:
            cells.fail(
                "due_date",
                due_dates[index],
                _("The due date %(due)s is before the issue date %(issue)s.")
                % {"due": due, "issue": issue_date},
            )
            counts["invoices"].refused += 1
            continue
        draft = InvoiceDraft(
            row_number,
            number,
            customer.id,
            customer.currency,
            order_id,
            issue_date,
            terms,
            due,
            amount,
        )
        if invoice is None:
            new.append(draft)
            counts["invoices"].created += 1
        elif (
            invoice.order_id,
            invoice.issue_date,
            invoice.payment_terms_days,
            invoice.due_date,
            invoice.amount,
        ) != (order_id, issue_date, terms, due, amount):
            changed.append((draft, invoice))
            counts["invoices"].updated += 1
        else:
            counts["invoices"].unchanged += 1
    progress.finish()

    def write() -> None:
        progress.start(_("Writing invoices"), len(new) + len(changed))
        for start in range(0, len(new), WRITE_BATCH):
            batch = new[start : start + WRITE_BATCH]
            Invoice.objects.bulk_create(
                [
                    Invoice(
                        number=draft.number,
                        customer_id=draft.customer_id,
                        order_id=draft.order_id,
                        issue_date=draft.issue_date,
                        payment_terms_days=draft.payment_terms_days,
                        due_date=draft.due_date,
                        amount=draft.amount,
                        open_amount=draft.amount,
                        currency=draft.currency,
                    )
                    for draft in batch
                ]
            )
            progress.advance(len(batch))
        if changed:
            _update(context, changed)
            progress.advance(len(changed))
        progress.finish()

    return Plan(counts=counts, write=write)


def _update(context: Context, changed: list[tuple[InvoiceDraft, Invoice]]) -> None:
    """Apply changed invoices, moving the open amount under a row lock by the change of the
    amount."""
    current: dict[int, tuple[Decimal, Decimal]] = {}
    for chunk in in_chunks([invoice.pk for _draft, invoice in changed]):
        for pk, amount, open_amount in (
            Invoice.objects.select_for_update()
            .filter(pk__in=chunk)
            .values_list("pk", "amount", "open_amount")
        ):
            current[pk] = (amount, open_amount)
    invoices = []
    for draft, invoice in changed:
        amount, open_amount = current[invoice.pk]
        invoice.open_amount = draft.amount - (amount - open_amount)
        if invoice.open_amount < 0:
            raise Conflict(
                _("Invoice %(number)s was paid while the file was imported; import it again.")
                % {"number": invoice.number}
            )
        invoice.order_id = draft.order_id
        invoice.issue_date = draft.issue_date
        invoice.payment_terms_days = draft.payment_terms_days
        invoice.due_date = draft.due_date
        invoice.amount = draft.amount
        invoice.updated_at = context.now
        invoices.append(invoice)
    Invoice.objects.bulk_update(invoices, UPDATED_FIELDS, batch_size=WRITE_BATCH)
