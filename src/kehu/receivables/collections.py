"""Follow-up of what is owed 催收 (issue 4 point 4 and the reads of point 5).

Writes: `collection_note_add`, `promise_to_pay_record`, `promises_review` (each writes its event
row in the same transaction). Reads, each starting from what the acting user may see: the
dunning level of each overdue invoice, the daily chase list per person, vanished debtors,
promises with their state, write-offs with whose decision they were.

Rules:
- A dunning level applies from its `days_past_due` on; an invoice is at the highest level whose
  days it has reached (7 days past due → the 7-day level; 6 days → no level yet).
- A promise is *kept* when the customer's payments received from the day it was made up to the
  promised date reach the promised amount; *broken* when the promised date has passed without
  that; *open* otherwise. The state is derived from the payments whenever it is read;
  `promises_review` stores it and writes an event when it changes.
- A vanished debtor 失联客户 owes money (open invoices less unallocated payments > 0) and has had
  no payment, no successful contact (a collection note that reached the customer or a successful
  activity) and no first invoice for `VANISHED_AFTER_DAYS` days or more (exactly at the
  threshold counts). The first invoice keeps a new customer from being flagged before it
  could have paid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from kehu.accounts.models import User
from kehu.core.errors import NotFound, ValidationFailed
from kehu.core.money import CENT, ZERO
from kehu.customers.models import Customer
from kehu.customers.selectors import customers_visible_to, related_visible_to
from kehu.receivables.events import receivable_event_record
from kehu.receivables.models import (
    REACHED_OUTCOMES,
    CollectionNote,
    ContactChannel,
    ContactOutcome,
    DunningLevel,
    Invoice,
    Payment,
    PromiseState,
    PromiseToPay,
    ReceivableEventKind,
    WriteOff,
)
from kehu.service.models import Activity, ActivityOutcome

MONEY = DecimalField(max_digits=18, decimal_places=2)
DEFAULT_VANISHED_AFTER_DAYS = 180
NOTE_MAX_LENGTH = 4000


# --- Dunning levels -------------------------------------------------------------------------


DEFAULT_DUNNING_LEVELS = (
    (1, "友好提醒", 7, "reminder"),
    (2, "电话催收", 30, "call"),
    (3, "上门拜访", 60, "visit"),
    (4, "停止赊销", 90, "stop_credit"),
    (5, "法律途径", 180, "legal"),
)


@transaction.atomic
def dunning_levels_ensure_defaults() -> list[DunningLevel]:
    """Create the default ladder when no level exists (the migration does the same)."""
    if not DunningLevel.objects.exists():
        DunningLevel.objects.bulk_create(
            DunningLevel(order=order, name=name, days_past_due=days, action=action)
            for order, name, days, action in DEFAULT_DUNNING_LEVELS
        )
    return dunning_levels()


def dunning_levels() -> list[DunningLevel]:
    """The ladder, lowest days first."""
    return list(DunningLevel.objects.order_by("days_past_due"))


def dunning_level_for(days_past_due: int, levels: Sequence[DunningLevel]) -> DunningLevel | None:
    """The highest level whose days `days_past_due` has reached; None below the first level.
    `levels` ordered by days, as `dunning_levels()` gives them."""
    reached = None
    for level in levels:
        if days_past_due >= level.days_past_due:
            reached = level
        else:
            break
    return reached


def invoice_days_past_due(invoice: Invoice, today: dt.date) -> int:
    return max(0, (today - invoice.due_date).days)


# --- Notes and promises ---------------------------------------------------------------------


def _invoice_of(customer: Customer, invoice: Invoice | None, field_name: str) -> None:
    if invoice is not None and invoice.customer_id != customer.pk:
        raise ValidationFailed(
            f"invoice {invoice.number} belongs to another customer", detail={"field": field_name}
        )


def _not_future(on: dt.date, field_name: str, label: str) -> None:
    if on > timezone.localdate():
        raise ValidationFailed(f"{label} {on} is in the future", detail={"field": field_name})


@transaction.atomic
def collection_note_add(
    *,
    customer: Customer,
    actor: User,
    contacted_on: dt.date,
    channel: str,
    outcome: str,
    text: str = "",
    invoice: Invoice | None = None,
) -> CollectionNote:
    """Record one contact about money owed, with its outcome (催收记录)."""
    if channel not in ContactChannel.values:
        raise ValidationFailed(f"unknown channel {channel!r}", detail={"field": "channel"})
    if outcome not in ContactOutcome.values:
        raise ValidationFailed(f"unknown outcome {outcome!r}", detail={"field": "outcome"})
    _not_future(contacted_on, "contacted_on", "contact date")
    _invoice_of(customer, invoice, "invoice_id")
    text = text.strip()
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationFailed(
            f"the note has {len(text)} characters, at most {NOTE_MAX_LENGTH} are kept",
            detail={"field": "text"},
        )
    note = CollectionNote.objects.create(
        customer=customer,
        invoice=invoice,
        contacted_on=contacted_on,
        recorded_by=actor,
        channel=channel,
        outcome=outcome,
        text=text,
    )
    receivable_event_record(
        kind=ReceivableEventKind.NOTE_ADDED,
        customer_id=customer.pk,
        invoice=invoice,
        actor=actor,
        after={
            "note_id": note.pk,
            "contacted_on": contacted_on.isoformat(),
            "channel": channel,
            "outcome": outcome,
        },
    )
    return note


@transaction.atomic
def promise_to_pay_record(
    *,
    customer: Customer,
    actor: User,
    amount: Decimal,
    promised_for: dt.date,
    made_on: dt.date | None = None,
    invoices: Iterable[Invoice] = (),
    note: str = "",
) -> PromiseToPay:
    """Record a promise to pay `amount` by `promised_for` (付款承诺)."""
    made = made_on or timezone.localdate()
    if amount <= 0:
        raise ValidationFailed(
            f"the promised amount must be positive, not {amount}", detail={"field": "amount"}
        )
    _not_future(made, "made_on", "promise date")
    if promised_for < made:
        raise ValidationFailed(
            f"the promised date {promised_for} is before the day the promise was made ({made})",
            detail={"field": "promised_for"},
        )
    targets = list(invoices)
    for invoice in targets:
        _invoice_of(customer, invoice, "invoice_ids")
    if len(note) > 255:
        raise ValidationFailed("the note is longer than 255 characters", detail={"field": "note"})
    promise = PromiseToPay.objects.create(
        customer=customer,
        amount=amount,
        promised_for=promised_for,
        made_on=made,
        recorded_by=actor,
        note=note.strip(),
    )
    if targets:
        promise.invoices.set(targets)
    receivable_event_record(
        kind=ReceivableEventKind.PROMISE_RECORDED,
        customer_id=customer.pk,
        invoice=targets[0] if len(targets) == 1 else None,
        actor=actor,
        after={
            "promise_id": promise.pk,
            "amount": str(amount),
            "promised_for": promised_for.isoformat(),
            "made_on": made.isoformat(),
            "invoice_ids": [invoice.pk for invoice in targets],
            "state": PromiseState.OPEN,
        },
        reason={"text": promise.note} if promise.note else None,
    )
    return promise


def promise_state_of(
    *, amount: Decimal, paid: Decimal, promised_for: dt.date, today: dt.date
) -> str:
    """Kept when the payments since the promise reach its amount; broken when the date passed
    without that; open otherwise."""
    if paid >= amount:
        return PromiseState.KEPT
    if today > promised_for:
        return PromiseState.BROKEN
    return PromiseState.OPEN


def promises_with_payments(
    queryset: QuerySet[PromiseToPay], today: dt.date
) -> QuerySet[PromiseToPay]:
    """Annotate `paid`: the customer's payments received from `made_on` to the promised date
    (or today, when that comes first)."""
    paid = (
        Payment.objects.filter(
            customer_id=OuterRef("customer_id"),
            received_on__gte=OuterRef("made_on"),
            received_on__lte=OuterRef("promised_for"),
        )
        .filter(received_on__lte=today)
        .order_by()
        .values("customer_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return queryset.annotate(paid=Coalesce(Subquery(paid), Value(ZERO), output_field=MONEY))


def promise_derived_state(promise: PromiseToPay, today: dt.date) -> str:
    """The state of a promise annotated by `promises_with_payments`."""
    return promise_state_of(
        amount=promise.amount,
        paid=promise.paid,  # type: ignore[attr-defined]
        promised_for=promise.promised_for,
        today=today,
    )


@transaction.atomic
def promises_review(*, today: dt.date | None = None, actor: User | None = None) -> dict[str, int]:
    """Store the state of every open promise as of `today`; an event row for each change.
    Run daily (and before the chase list is read, the state is derived anyway)."""
    today = today or timezone.localdate()
    counts = {PromiseState.KEPT.value: 0, PromiseState.BROKEN.value: 0}
    open_promises = promises_with_payments(
        PromiseToPay.objects.select_for_update().filter(state=PromiseState.OPEN), today
    )
    for promise in open_promises:
        state = promise_derived_state(promise, today)
        if state == PromiseState.OPEN:
            continue
        promise.state = state
        promise.settled_on = today
        promise.save(update_fields=["state", "settled_on", "updated_at"])
        counts[state] += 1
        receivable_event_record(
            kind=(
                ReceivableEventKind.PROMISE_KEPT
                if state == PromiseState.KEPT
                else ReceivableEventKind.PROMISE_BROKEN
            ),
            customer_id=promise.customer_id,
            actor=actor,
            before={"promise_id": promise.pk, "state": PromiseState.OPEN},
            after={
                "promise_id": promise.pk,
                "state": state,
                "paid": str(promise.paid.quantize(CENT)),  # type: ignore[attr-defined]
                "amount": str(promise.amount),
            },
            reason={"reviewed_on": today.isoformat()},
        )
    return counts


# --- Reads ----------------------------------------------------------------------------------


def collection_notes_of(*, user: User, customer: Customer) -> QuerySet[CollectionNote]:
    return (
        related_visible_to(user, CollectionNote.objects.filter(customer=customer))
        .select_related("recorded_by", "invoice")
        .order_by("-contacted_on", "-id")
    )


def promises_of(*, user: User, customer: Customer, today: dt.date) -> QuerySet[PromiseToPay]:
    queryset = related_visible_to(user, PromiseToPay.objects.filter(customer=customer))
    return (
        promises_with_payments(queryset, today)
        .select_related("recorded_by")
        .prefetch_related("invoices")
        .order_by("-made_on", "-id")
    )


@dataclass
class ChaseInvoice:
    invoice: Invoice
    days_past_due: int
    level: DunningLevel


@dataclass
class ChaseRow:
    """One customer on the chase list: its overdue invoices and what to do today."""

    customer: Customer
    invoices: list[ChaseInvoice] = field(default_factory=list)
    broken_promise: PromiseToPay | None = None
    open_promise: PromiseToPay | None = None

    @property
    def owner(self) -> User:
        return self.customer.owner

    @property
    def level(self) -> DunningLevel:
        return max((item.level for item in self.invoices), key=lambda level: level.days_past_due)

    @property
    def action(self) -> str:
        return self.level.action

    @property
    def overdue_amount(self) -> Decimal:
        return sum((item.invoice.open_amount for item in self.invoices), ZERO)

    @property
    def oldest_days_past_due(self) -> int:
        return max(item.days_past_due for item in self.invoices)

    @property
    def has_broken_promise(self) -> bool:
        return self.broken_promise is not None


CHASE_SORTS = {
    "priority",
    "customer",
    "owner",
    "level",
    "overdue",
    "days",
}


def _chase_sort_key(sort: str):  # type: ignore[no-untyped-def]
    key = sort.lstrip("-")
    if key == "customer":
        return lambda row: (row.customer.code,)
    if key == "owner":
        return lambda row: (str(row.owner), row.customer.code)
    if key == "level":
        return lambda row: (row.level.days_past_due, row.overdue_amount)
    if key == "overdue":
        return lambda row: (row.overdue_amount, row.customer.code)
    if key == "days":
        return lambda row: (row.oldest_days_past_due, row.customer.code)
    # Priority: broken promises first, then the highest level, then the largest amount.
    return lambda row: (
        0 if row.has_broken_promise else 1,
        -row.level.days_past_due,
        -row.overdue_amount,
        row.customer.code,
    )


def chase_list(
    *,
    user: User,
    today: dt.date,
    person_id: int | None = None,
    level_id: int | None = None,
    sort: str = "priority",
) -> list[ChaseRow]:
    """What must be chased today, one row per customer, among the customers `user` may see
    (a rep: their own; a manager: the unit's; finance: everyone's). `person_id` keeps the
    customers of one owner rep; `level_id` the customers whose highest level is that level.

    Reads the overdue invoices (one query) and the latest promise of each customer (one query).
    """
    levels = dunning_levels()
    if not levels:
        return []
    first_days = levels[0].days_past_due
    invoices = related_visible_to(
        user,
        Invoice.objects.filter(
            is_cancelled=False,
            open_amount__gt=0,
            due_date__lte=today - dt.timedelta(days=first_days),
        ),
    ).select_related("customer", "customer__owner")
    if person_id:
        invoices = invoices.filter(customer__owner_id=person_id)
    rows: dict[int, ChaseRow] = {}
    for invoice in invoices.order_by("due_date", "number"):
        days = invoice_days_past_due(invoice, today)
        level = dunning_level_for(days, levels)
        if level is None:  # pragma: no cover - the query keeps only reached levels
            continue
        row = rows.setdefault(invoice.customer_id, ChaseRow(customer=invoice.customer))
        row.invoices.append(ChaseInvoice(invoice=invoice, days_past_due=days, level=level))
    if level_id:
        rows = {key: row for key, row in rows.items() if row.level.pk == level_id}
    _attach_latest_promises(rows, today)
    result = list(rows.values())
    descending = sort.startswith("-")
    key = sort if sort.lstrip("-") in CHASE_SORTS else "priority"
    result.sort(key=_chase_sort_key(key), reverse=descending and key.lstrip("-") != "priority")
    return result


def _attach_latest_promises(rows: dict[int, ChaseRow], today: dt.date) -> None:
    if not rows:
        return
    promises = promises_with_payments(
        PromiseToPay.objects.filter(customer_id__in=list(rows)), today
    ).order_by("customer_id", "-made_on", "-id")
    seen: set[int] = set()
    for promise in promises:
        if promise.customer_id in seen:
            continue
        seen.add(promise.customer_id)
        state = promise_derived_state(promise, today)
        if state == PromiseState.BROKEN:
            rows[promise.customer_id].broken_promise = promise
        elif state == PromiseState.OPEN:
            rows[promise.customer_id].open_promise = promise


def vanished_after_days() -> int:
    return int(str(settings.KEHU.get("VANISHED_AFTER_DAYS", DEFAULT_VANISHED_AFTER_DAYS)))


VANISHED_SORTS = {
    "customer": "code",
    "owner": "owner__username",
    "balance": "balance",
    "last_payment": "last_payment_on",
    "last_contact": "last_contact_on",
}


def vanished_debtors(
    *,
    user: User,
    today: dt.date,
    after_days: int | None = None,
    person_id: int | None = None,
    sort: str = "-balance",
) -> QuerySet[Customer]:
    """Customers owing money with no payment, no successful contact and no first invoice for
    `after_days` days or more (default KEHU["VANISHED_AFTER_DAYS"]), among those `user` sees.

    Annotated: `balance`, `last_payment_on`, `last_contact_on` (note or activity, whichever is
    later; None when never), `first_invoice_on`.
    """
    days = vanished_after_days() if after_days is None else after_days
    cutoff = today - dt.timedelta(days=days)

    def latest(queryset: QuerySet[Any], date_field: str, function: type = Max) -> Subquery:
        return Subquery(
            queryset.filter(customer_id=OuterRef("pk"))
            .order_by()
            .values("customer_id")
            .annotate(last=function(date_field))
            .values("last")
        )

    def money(queryset: QuerySet[Any], amount_field: str) -> Coalesce:
        total = Subquery(
            queryset.filter(customer_id=OuterRef("pk"))
            .order_by()
            .values("customer_id")
            .annotate(total=Sum(amount_field))
            .values("total")
        )
        return Coalesce(total, Value(ZERO), output_field=MONEY)

    customers = customers_visible_to(user).select_related("owner")
    if person_id:
        customers = customers.filter(owner_id=person_id)
    customers = customers.annotate(
        open_invoices=money(
            Invoice.objects.filter(is_cancelled=False, open_amount__gt=0), "open_amount"
        ),
        unallocated=money(Payment.objects.filter(unallocated_amount__gt=0), "unallocated_amount"),
        last_payment_on=latest(Payment.objects.filter(received_on__lte=today), "received_on"),
        last_note_on=latest(
            CollectionNote.objects.filter(outcome__in=REACHED_OUTCOMES, contacted_on__lte=today),
            "contacted_on",
        ),
        last_activity_on=latest(
            Activity.objects.filter(outcome=ActivityOutcome.SUCCESSFUL, occurred_on__lte=today),
            "occurred_on",
        ),
        first_invoice_on=latest(Invoice.objects.all(), "issue_date", Min),
    )
    customers = customers.annotate(balance=_minus("open_invoices", "unallocated")).filter(
        Q(balance__gt=0),
        Q(first_invoice_on__lte=cutoff),
        Q(last_payment_on__isnull=True) | Q(last_payment_on__lte=cutoff),
        Q(last_note_on__isnull=True) | Q(last_note_on__lte=cutoff),
        Q(last_activity_on__isnull=True) | Q(last_activity_on__lte=cutoff),
    )
    descending = sort.startswith("-")
    field_name = VANISHED_SORTS.get(sort.lstrip("-"), "balance")
    if field_name == "last_contact_on":
        field_name = "last_note_on"
    order = (
        F(field_name).desc(nulls_last=True) if descending else F(field_name).asc(nulls_first=True)
    )
    return customers.order_by(order, "code")


def _minus(left: str, right: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(left) - F(right), output_field=MONEY)


def silent_since(customer: Customer) -> dt.date | None:
    """The last sign of life of a customer annotated by `vanished_debtors`."""
    dates = [
        getattr(customer, name)
        for name in ("last_payment_on", "last_note_on", "last_activity_on", "first_invoice_on")
        if getattr(customer, name, None) is not None
    ]
    return max(dates) if dates else None


def last_contact_on(customer: Customer) -> dt.date | None:
    dates = [
        getattr(customer, name)
        for name in ("last_note_on", "last_activity_on")
        if getattr(customer, name, None) is not None
    ]
    return max(dates) if dates else None


WRITE_OFF_SORTS = {
    "date": "written_off_on",
    "customer": "invoice__customer__code",
    "invoice": "invoice__number",
    "amount": "amount",
    "decided_by": "decided_by__username",
    "given_by": "credit_given_by__username",
    "approved_by": "credit_approved_by__username",
}


def write_offs_visible_to(
    *,
    user: User,
    state: str = "",
    person_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    sort: str = "-date",
) -> QuerySet[WriteOff]:
    """Write-offs of the customers `user` sees, with whose decision each was (§5.4).

    `state`: "live" (not reversed) or "reversed"; `person_id`: decided, gave or approved it."""
    visible = customers_visible_to(user).values("pk")
    queryset = WriteOff.objects.filter(invoice__customer__in=visible).select_related(
        "invoice", "invoice__customer", "decided_by", "credit_given_by", "credit_approved_by"
    )
    if state == "live":
        queryset = queryset.filter(reversed_on__isnull=True)
    elif state == "reversed":
        queryset = queryset.filter(reversed_on__isnull=False)
    if person_id:
        queryset = queryset.filter(
            Q(decided_by_id=person_id)
            | Q(credit_given_by_id=person_id)
            | Q(credit_approved_by_id=person_id)
        )
    if date_from:
        queryset = queryset.filter(written_off_on__gte=date_from)
    if date_to:
        queryset = queryset.filter(written_off_on__lte=date_to)
    descending = sort.startswith("-")
    field_name = WRITE_OFF_SORTS.get(sort.lstrip("-"), "written_off_on")
    return queryset.order_by(f"-{field_name}" if descending else field_name, "-pk")


def write_off_get_visible(*, user: User, write_off_id: int) -> WriteOff:
    found = write_offs_visible_to(user=user).filter(pk=write_off_id).first()
    if found is None:
        raise NotFound(f"write-off {write_off_id} not found")
    return found
