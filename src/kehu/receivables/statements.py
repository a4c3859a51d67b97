"""Statement of account 对账单 (domain §6, issue 4 point 7) — read only, and its renderers.

A statement shows, for one customer and one period: the balance the customer owed the day
before the period starts, every ledger entry of the period that moved that balance in date
order with a running balance, the closing balance, and the aging of the closing balance.

The balance as of a date is what `aging.py` rebuilds from the ledger dates: the open amount
of every invoice as of the date (`open_amount_as_of`) less the customer's credit as of the
date (payments received by then, less what of them was allocated by then and not reversed by
then). Allocations move money from the credit to an invoice and leave the balance unchanged,
so the lines are: invoices (+), payments (−), credit notes (−), write-offs (−) and write-off
reversals (+); closing = opening + invoices − payments − credit notes − write-offs
+ reversals. Cancelled invoices, and the credit notes and write-offs on them, are left out,
as in the aging. Every figure is a Decimal summed in Python (SQLite sums money as floats).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.errors import ValidationFailed
from kehu.core.money import CENT, ZERO
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_get_visible
from kehu.receivables.aging import AgingBucket, aging_buckets, bucket_of, open_amount_as_of
from kehu.receivables.models import CreditNote, Invoice, Payment, PaymentAllocation, WriteOff

# The order of entries of the same day: what is owed first, then what reduces it.
LINE_KINDS = ("invoice", "write_off_reversal", "payment", "credit_note", "write_off")


def line_kind_labels() -> dict[str, str]:
    return {
        "invoice": _("Invoice"),
        "payment": _("Payment received"),
        "credit_note": _("Credit note"),
        "write_off": _("Write-off"),
        "write_off_reversal": _("Write-off reversed"),
    }


@dataclass(frozen=True)
class StatementLine:
    on: dt.date
    kind: str  # one of LINE_KINDS
    reference: str  # the invoice, payment or credit note number
    description: str
    increase: Decimal  # what the customer owes more (借方)
    decrease: Decimal  # what the customer owes less (贷方)
    balance: Decimal  # the running balance after this line
    due_date: dt.date | None = None

    @property
    def kind_label(self) -> str:
        return line_kind_labels()[self.kind]


@dataclass(frozen=True)
class StatementAging:
    """The closing balance by aging bucket: open invoices per bucket, less the credit."""

    buckets: list[AgingBucket]
    amounts: list[Decimal]
    customer_credit: Decimal

    @property
    def open_invoices(self) -> Decimal:
        return sum(self.amounts, ZERO)

    @property
    def balance(self) -> Decimal:
        return self.open_invoices - self.customer_credit

    @property
    def rows(self) -> list[tuple[AgingBucket, Decimal]]:
        return list(zip(self.buckets, self.amounts, strict=True))


@dataclass
class Statement:
    customer: Customer
    start: dt.date
    end: dt.date
    opening_balance: Decimal
    lines: list[StatementLine] = field(default_factory=list)
    aging: StatementAging | None = None
    company_name: str = ""
    prepared_on: dt.date | None = None

    def _total(self, *kinds: str) -> Decimal:
        return sum(
            (line.increase + line.decrease for line in self.lines if line.kind in kinds), ZERO
        )

    @property
    def invoiced(self) -> Decimal:
        return self._total("invoice")

    @property
    def paid(self) -> Decimal:
        return self._total("payment")

    @property
    def credited(self) -> Decimal:
        return self._total("credit_note")

    @property
    def written_off(self) -> Decimal:
        return self._total("write_off")

    @property
    def reversed(self) -> Decimal:
        return self._total("write_off_reversal")

    @property
    def total_increase(self) -> Decimal:
        return sum((line.increase for line in self.lines), ZERO)

    @property
    def total_decrease(self) -> Decimal:
        return sum((line.decrease for line in self.lines), ZERO)

    @property
    def closing_balance(self) -> Decimal:
        return self.opening_balance + self.total_increase - self.total_decrease

    @property
    def filename_stem(self) -> str:
        return f"statement-{self.customer.code}-{self.start.isoformat()}-{self.end.isoformat()}"


# --- The balance as of a date -----------------------------------------------------------------


def _live(as_of: dt.date) -> Q:
    return Q(reversed_on__isnull=True) | Q(reversed_on__gt=as_of)


def open_invoices_as_of(customer: Customer, as_of: dt.date) -> list[tuple[dt.date, Decimal]]:
    """(due date, open amount) of each invoice of the customer open as of `as_of` (aging.py's
    rule: amount less allocations, credit notes and write-offs live at that date)."""
    rows = (
        Invoice.objects.filter(customer=customer, issue_date__lte=as_of, is_cancelled=False)
        .annotate(open_as_of=open_amount_as_of(as_of))
        .values_list("due_date", "open_as_of")
    )
    # SQLite computes the expression as a float: back to cents.
    amounts = [
        (due_date, Decimal(str(open_amount)).quantize(CENT)) for due_date, open_amount in rows
    ]
    return [(due_date, amount) for due_date, amount in amounts if amount]


def customer_credit_as_of(customer: Customer, as_of: dt.date) -> Decimal:
    """What the customer had paid by `as_of` and was not allocated to an invoice then."""
    received = sum(
        Payment.objects.filter(customer=customer, received_on__lte=as_of).values_list(
            "amount", flat=True
        ),
        ZERO,
    )
    allocated = sum(
        PaymentAllocation.objects.filter(
            Q(payment__customer=customer, allocated_on__lte=as_of) & _live(as_of)
        ).values_list("amount", flat=True),
        ZERO,
    )
    return received - allocated


def customer_balance_as_of(customer: Customer, as_of: dt.date) -> Decimal:
    """Open invoices less the customer's credit, as of the end of `as_of`."""
    open_amount = sum((amount for _due, amount in open_invoices_as_of(customer, as_of)), ZERO)
    return open_amount - customer_credit_as_of(customer, as_of)


# --- The statement ----------------------------------------------------------------------------


def statement_period_check(start: dt.date, end: dt.date, *, today: dt.date) -> None:
    if start > end:
        raise ValidationFailed(
            _("The period starts on %(start)s, after it ends on %(end)s")
            % {"start": start, "end": end},
            detail={"field": "start", "start": start.isoformat(), "end": end.isoformat()},
        )
    if end > today:
        raise ValidationFailed(
            _("The period ends on %(end)s, which is in the future") % {"end": end},
            detail={"field": "end", "end": end.isoformat()},
        )
    if start.year < 1900:
        raise ValidationFailed(
            _("The period starts on %(start)s, which is too early") % {"start": start},
            detail={"field": "start", "start": start.isoformat()},
        )


def _entries(customer: Customer, start: dt.date, end: dt.date) -> list[tuple[Any, ...]]:
    """(date, kind, reference, description, signed amount, due date) of the period."""
    entries: list[tuple[Any, ...]] = []
    invoices = Invoice.objects.filter(
        customer=customer, is_cancelled=False, issue_date__range=(start, end)
    ).values_list("issue_date", "number", "amount", "due_date", "order__number")
    for issue_date, number, amount, due_date, order_number in invoices:
        description = _("Order %(order)s") % {"order": order_number} if order_number else ""
        entries.append((issue_date, "invoice", number, description, amount, due_date))
    payments = Payment.objects.filter(
        customer=customer, received_on__range=(start, end)
    ).values_list("received_on", "number", "amount", "method", "reference")
    methods = dict(Payment._meta.get_field("method").choices or [])
    for received_on, number, amount, method, reference in payments:
        description = " ".join(
            part for part in (str(methods.get(method, method)), reference) if part
        )
        entries.append((received_on, "payment", number, description, -amount, None))
    notes = CreditNote.objects.filter(
        invoice__customer=customer, invoice__is_cancelled=False, issue_date__range=(start, end)
    ).values_list("issue_date", "number", "amount", "invoice__number", "reason")
    for issue_date, number, amount, invoice_number, reason in notes:
        description = " ".join(part for part in (invoice_number, reason) if part)
        entries.append((issue_date, "credit_note", number, description, -amount, None))
    write_offs = WriteOff.objects.filter(
        Q(written_off_on__range=(start, end)) | Q(reversed_on__range=(start, end)),
        invoice__customer=customer,
        invoice__is_cancelled=False,
    ).values_list("written_off_on", "reversed_on", "amount", "invoice__number", "reason")
    for written_off_on, reversed_on, amount, invoice_number, reason in write_offs:
        if start <= written_off_on <= end:
            entries.append((written_off_on, "write_off", invoice_number, reason, -amount, None))
        if reversed_on is not None and start <= reversed_on <= end:
            entries.append((reversed_on, "write_off_reversal", invoice_number, "", amount, None))
    entries.sort(key=lambda entry: (entry[0], LINE_KINDS.index(entry[1]), entry[2]))
    return entries


def statement_for(*, user: User, customer_id: int, start: dt.date, end: dt.date) -> Statement:
    """The statement of account 对账单 of a customer `user` may see (NotFound otherwise) for
    the period from `start` to `end`, both included."""
    customer = customer_get_visible(user=user, customer_id=customer_id)
    today = timezone.localdate()
    statement_period_check(start, end, today=today)
    opening = customer_balance_as_of(customer, start - dt.timedelta(days=1))
    balance = opening
    lines = []
    for on, kind, reference, description, amount, due_date in _entries(customer, start, end):
        balance += amount
        lines.append(
            StatementLine(
                on=on,
                kind=kind,
                reference=reference,
                description=description,
                increase=amount if amount > 0 else ZERO,
                decrease=-amount if amount < 0 else ZERO,
                balance=balance,
                due_date=due_date,
            )
        )
    buckets = aging_buckets()
    amounts = [ZERO] * len(buckets)
    for due_date, open_amount in open_invoices_as_of(customer, end):
        amounts[bucket_of(due_date=due_date, as_of=end, buckets=buckets).index] += open_amount
    aging = StatementAging(
        buckets=buckets, amounts=amounts, customer_credit=customer_credit_as_of(customer, end)
    )
    return Statement(
        customer=customer,
        start=start,
        end=end,
        opening_balance=opening,
        lines=lines,
        aging=aging,
        company_name=str(settings.KEHU.get("COMPANY_NAME") or ""),
        prepared_on=today,
    )


# --- Renderers ---------------------------------------------------------------------------------


def statement_context(statement: Statement) -> dict[str, Any]:
    """What the HTML page and the PDF template show."""
    return {
        "statement": statement,
        "customer": statement.customer,
        "company_name": statement.company_name or _("Our company"),
        "totals": [
            (_("Invoices"), statement.invoiced, "+"),
            (_("Payments"), statement.paid, "−"),
            (_("Credit notes"), statement.credited, "−"),
            (_("Write-offs"), statement.written_off, "−"),
            (_("Write-offs reversed"), statement.reversed, "+"),
        ],
    }


def statement_pdf(statement: Statement) -> bytes:
    """The statement as an A4 PDF (WeasyPrint, which needs Pango from the system)."""
    from weasyprint import HTML

    html = render_to_string("receivables/statement_pdf.html", statement_context(statement))
    return bytes(HTML(string=html).write_pdf())


def statement_xlsx(statement: Statement) -> bytes:
    """The statement as an .xlsx workbook: header, lines, totals, aging, confirmation."""
    import xlsxwriter

    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = workbook.add_worksheet(_("Statement"))
    title = workbook.add_format({"bold": True, "font_size": 16})
    bold = workbook.add_format({"bold": True})
    header = workbook.add_format({"bold": True, "bg_color": "#EEF0F4", "bottom": 1})
    date = workbook.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
    money = workbook.add_format({"num_format": "#,##0.00"})
    money_bold = workbook.add_format({"num_format": "#,##0.00", "bold": True, "top": 1})
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 16)
    sheet.set_column(2, 2, 18)
    sheet.set_column(3, 3, 34)
    sheet.set_column(4, 6, 16)
    customer = statement.customer
    context = statement_context(statement)

    sheet.write_string(0, 0, str(_("Statement of account")), title)
    sheet.write_string(1, 0, str(_("From")), bold)
    sheet.write_string(1, 1, str(context["company_name"]))
    sheet.write_string(2, 0, str(_("Customer")), bold)
    sheet.write_string(2, 1, f"{customer.code} {customer.name}")
    sheet.write_string(3, 0, str(_("Period")), bold)
    sheet.write_string(3, 1, f"{statement.start.isoformat()} – {statement.end.isoformat()}")
    sheet.write_string(4, 0, str(_("Currency")), bold)
    sheet.write_string(4, 1, customer.currency)

    row = 6
    columns = [_("Date"), _("Entry"), _("Number"), _("Details"), _("Increase"), _("Decrease")]
    for column, text in enumerate([*columns, _("Balance")]):
        sheet.write_string(row, column, str(text), header)
    row += 1
    sheet.write_datetime(row, 0, dt.datetime.combine(statement.start, dt.time()), date)
    sheet.write_string(row, 1, str(_("Opening balance")), bold)
    sheet.write_number(row, 6, float(statement.opening_balance), money)
    for line in statement.lines:
        row += 1
        sheet.write_datetime(row, 0, dt.datetime.combine(line.on, dt.time()), date)
        sheet.write_string(row, 1, str(line.kind_label))
        sheet.write_string(row, 2, line.reference)
        sheet.write_string(row, 3, line.description)
        if line.increase:
            sheet.write_number(row, 4, float(line.increase), money)
        if line.decrease:
            sheet.write_number(row, 5, float(line.decrease), money)
        sheet.write_number(row, 6, float(line.balance), money)
    row += 1
    sheet.write_string(row, 1, str(_("Closing balance")), bold)
    sheet.write_number(row, 4, float(statement.total_increase), money_bold)
    sheet.write_number(row, 5, float(statement.total_decrease), money_bold)
    sheet.write_number(row, 6, float(statement.closing_balance), money_bold)

    row += 2
    sheet.write_string(row, 0, str(_("Summary")), header)
    sheet.write_string(row, 1, "", header)
    summary = [
        (_("Opening balance"), statement.opening_balance),
        *[(label, amount) for label, amount, _sign in context["totals"]],
        (_("Closing balance"), statement.closing_balance),
    ]
    for label, amount in summary:
        row += 1
        sheet.write_string(row, 0, str(label))
        sheet.write_number(row, 1, float(amount), money)

    aging = statement.aging
    if aging is not None:
        row += 2
        sheet.write_string(
            row, 0, str(_("Aging of the balance on %(date)s") % {"date": statement.end}), header
        )
        sheet.write_string(row, 1, "", header)
        for bucket, amount in aging.rows:
            row += 1
            sheet.write_string(row, 0, str(bucket.label))
            sheet.write_number(row, 1, float(amount), money)
        row += 1
        sheet.write_string(row, 0, str(_("Less unallocated payments")))
        sheet.write_number(row, 1, float(-aging.customer_credit), money)
        row += 1
        sheet.write_string(row, 0, str(_("Balance")), bold)
        sheet.write_number(row, 1, float(aging.balance), money_bold)

    row += 2
    sheet.write_string(row, 0, str(_("The figures above have been checked and are correct.")), bold)
    row += 2
    sheet.write_string(row, 0, str(_("Customer's signature and seal")))
    sheet.write_string(row, 3, str(_("Date")))
    workbook.close()
    return output.getvalue()
