"""API schemas for invoices, payments and their allocations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from ninja import Field, Schema

from kehu.core.schemas import (
    DatedPageQuery,
    DecimalOut,
    Id,
    InputSchema,
    MoneyIn,
    MoneyOut,
    Text,
)
from kehu.receivables.models import ContactChannel, ContactOutcome, PaymentMethodKind


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


# --- Follow-up: chase list, notes, promises, write-off reversal, provision matrix ------------


class ChaseListQuery(Schema):
    person_id: Id | None = Field(None, description="only customers of this owner rep")
    level_id: Id | None = Field(None, description="only customers at this dunning level")


class ChaseInvoiceOut(Schema):
    invoice_id: int
    number: str
    due_date: dt.date
    days_past_due: int
    open_amount: MoneyOut
    level_id: int
    action: str


class ChaseRowOut(Schema):
    customer_id: int
    customer_code: str
    customer_name: str
    owner_id: int
    level_id: int
    level_name: str
    action: str = Field(description="reminder, call, visit, stop_credit or legal")
    overdue_amount: MoneyOut
    oldest_days_past_due: int
    has_broken_promise: bool
    invoices: list[ChaseInvoiceOut]


class ChaseListOut(Schema):
    date: dt.date
    count: int
    items: list[ChaseRowOut]


class CollectionNoteIn(InputSchema):
    contacted_on: dt.date
    channel: ContactChannel
    outcome: ContactOutcome
    text: Text = Field("", max_length=4000)
    invoice_id: Id | None = None


class CollectionNoteOut(Schema):
    id: int
    customer_id: int
    invoice_id: int | None
    contacted_on: dt.date
    recorded_by_id: int
    channel: str
    outcome: str
    text: str


class CollectionNotePageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[CollectionNoteOut]


class PromiseIn(InputSchema):
    amount: MoneyIn
    promised_for: dt.date
    made_on: dt.date | None = Field(None, description="default: today")
    invoice_ids: list[Id] = Field(default_factory=list, max_length=200)
    note: Text = Field("", max_length=255)


class PromiseOut(Schema):
    id: int
    customer_id: int
    amount: MoneyOut
    promised_for: dt.date
    made_on: dt.date
    recorded_by_id: int
    invoice_ids: list[int]
    paid: MoneyOut = Field(description="payments received from made_on to the promised date")
    state: str = Field(description="open, kept or broken, derived from the payments today")
    note: str


class PromisePageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[PromiseOut]


class WriteOffReverseIn(InputSchema):
    reason: Text = Field(..., min_length=1, max_length=255)
    on: dt.date | None = Field(None, description="the reversal date; default: today")


class WriteOffOut(Schema):
    id: int
    invoice_id: int
    amount: MoneyOut
    written_off_on: dt.date
    reason: str
    decided_by_id: int | None
    credit_given_by_id: int | None
    credit_approved_by_id: int | None
    reversed_on: dt.date | None


class ProvisionMatrixQuery(Schema):
    as_of: dt.date | None = Field(None, description="default: today")
    months: int = Field(12, ge=1, le=60, description="lookback in months")
    factor: Decimal = Field(
        Decimal(1), ge=0, le=10, max_digits=6, decimal_places=4, description="forward-looking"
    )


class ProvisionBucketOut(Schema):
    label: str
    low: int | None
    high: int | None
    opening: MoneyOut
    stayed: MoneyOut
    rolled: MoneyOut
    written_off: MoneyOut
    collected: MoneyOut
    roll_rate: DecimalOut
    write_off_rate: DecimalOut
    loss_rate: DecimalOut
    adjusted_rate: DecimalOut
    balance: MoneyOut
    provision: MoneyOut


class ProvisionHistoryOut(Schema):
    month_end: dt.date
    balances: list[MoneyOut]


class ProvisionCustomerOut(Schema):
    customer_id: int
    balance: MoneyOut
    provision: MoneyOut


class ProvisionMatrixOut(Schema):
    as_of: dt.date
    lookback_months: int
    forward_factor: DecimalOut
    total_balance: MoneyOut
    total_provision: MoneyOut
    buckets: list[ProvisionBucketOut]
    history: list[ProvisionHistoryOut]
    customers: list[ProvisionCustomerOut] = Field(description="the 100 largest provisions")


# --- Aging as of a date and the receivables figures (issue 4, points 1 and 3) ----------------


class AgingQuery(Schema):
    as_of: dt.date | None = Field(None, description="the date of the aging; default today")
    group_by: str = Field(
        "company",
        pattern="^(company|region|team|rep|customer|year|pyramid)$",
        description="company, region, team, rep, customer, year (of issue) or pyramid "
        "(the class in the latest value snapshot)",
    )


class AgingBucketOut(Schema):
    key: str
    label: str
    days_from: int | None = Field(description="days past due, from (None: not yet due)")
    days_to: int | None = Field(description="days past due, to (None: open-ended)")


class AgingRowOut(Schema):
    key: str | None = Field(description="the group's id (customer, rep, unit id, year, class)")
    label: str
    amounts: list[MoneyOut] = Field(description="one per bucket, in the order of `buckets`")
    total: MoneyOut
    invoice_count: int


class AgingOut(Schema):
    as_of: dt.date
    group_by: str
    buckets: list[AgingBucketOut]
    rows: list[AgingRowOut]
    totals: list[MoneyOut]
    total: MoneyOut
    overdue: MoneyOut
    invoice_count: int


class FiguresQuery(Schema):
    date_from: dt.date | None = Field(None, alias="from", description="default: a year ago")
    date_to: dt.date | None = Field(None, alias="to", description="default: today")


class MonthlyCashOut(Schema):
    month: dt.date
    sales: MoneyOut
    cash: MoneyOut


class BadDebtOut(Schema):
    write_off_id: int
    invoice_number: str
    customer_id: int
    written_off_on: dt.date
    amount: MoneyOut
    sales_needed: MoneyOut = Field(description="amount ÷ net margin")


class FiguresOut(Schema):
    date_from: dt.date
    date_to: dt.date
    days: int
    receivables_at_start: MoneyOut
    receivables_at_end: MoneyOut
    not_yet_due_at_end: MoneyOut
    overdue_at_end: MoneyOut
    credit_sales: MoneyOut
    cash_collected: MoneyOut
    days_sales_outstanding: DecimalOut | None
    collection_effectiveness_index: DecimalOut | None = Field(description="percent")
    total_assets: MoneyOut | None = Field(description="None: not entered (KEHU TOTAL_ASSETS)")
    receivables_share_of_assets: DecimalOut | None
    written_off: MoneyOut
    net_margin: DecimalOut
    sales_to_recover_write_offs: MoneyOut
    cash_against_sales: list[MonthlyCashOut]
    bad_debts: list[BadDebtOut]
