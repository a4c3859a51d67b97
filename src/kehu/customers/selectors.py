"""Reads of customers. Every read a user triggers starts from what that user may see.

This is the one place access is decided (domain §1): a rep sees their own customers, a
manager their unit's subtree, finance, top management and administrators see all. Pages, the
API and exports all start from `customers_visible_to`; what hangs off a customer (contacts,
orders, invoices, payments, activities) is filtered through `customer__in` of the same set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import (
    Count,
    DecimalField,
    F,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from kehu.accounts.models import OrgUnit, User
from kehu.core.errors import NotFound
from kehu.core.money import ZERO
from kehu.customers.lifecycle import lifecycle_q
from kehu.customers.models import Contact, Customer
from kehu.customers.search import customer_search_q
from kehu.receivables.models import Invoice, Payment, PaymentAllocation
from kehu.sales.models import PURCHASE_STATES, Order, OrderLine, Return
from kehu.service.models import Activity

M = TypeVar("M", bound=Model)
MONEY = DecimalField(max_digits=18, decimal_places=2)


def _visibility_q(user: User, prefix: str = "") -> Q | None:
    """None means everything; otherwise the filter on customers the user may see."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.sees_all:
        return None
    if user.is_manager and user.org_unit_id is not None:
        assert user.org_unit is not None
        return Q(**{f"{prefix}owner__org_unit__path__startswith": user.org_unit.path})
    return Q(**{f"{prefix}owner": user})


def customers_visible_to(user: User) -> QuerySet[Customer]:
    condition = _visibility_q(user)
    queryset = Customer.objects.all()
    return queryset if condition is None else queryset.filter(condition)


def related_visible_to(user: User, queryset: QuerySet[M]) -> QuerySet[M]:
    """Filter rows that hang off a customer (they have a `customer` field) by the same rule."""
    condition = _visibility_q(user, prefix="customer__")
    return queryset if condition is None else queryset.filter(condition)


def customer_get_visible(*, user: User, customer_id: int) -> Customer:
    """The customer, or NotFound when it does not exist *or* the user may not see it."""
    customer = (
        customers_visible_to(user)
        .select_related("owner", "region")
        .prefetch_related("tags")
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    return customer


SORTABLE_FIELDS = {
    "code": "code",
    "name": "name",
    "kind": "kind",
    "region": "region__name",
    "city": "city",
    "owner": "owner__username",
    "last_purchase": "last_purchase_on",
    "first_purchase": "first_purchase_on",
    "purchases": "purchase_count",
    "credit_limit": "credit_limit",
}


def customer_list(
    *,
    user: User,
    search: str = "",
    kind: str = "",
    lifecycle: str = "",
    region_id: int | None = None,
    owner_id: int | None = None,
    tag: str = "",
    sort: str = "code",
    today: dt.date | None = None,
) -> QuerySet[Customer]:
    """The filtered, sorted list; `sort` is a key of SORTABLE_FIELDS, '-' for descending."""
    queryset = customers_visible_to(user).select_related("owner", "region")
    if search:
        # Through the full-text index on name, city, code and phone (customers/search.py):
        # the term as a phrase of characters/words, its last word a prefix, so a code prefix
        # ("C00001") is found there too.
        queryset = queryset.filter(customer_search_q(search.strip()))
    if kind:
        queryset = queryset.filter(kind=kind)
    if lifecycle:
        queryset = queryset.filter(lifecycle_q(lifecycle, today or timezone.localdate()))
    if region_id:
        queryset = queryset.filter(region_id=region_id)
    if owner_id:
        queryset = queryset.filter(owner_id=owner_id)
    if tag:
        queryset = queryset.filter(tags__name=tag)
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    field = SORTABLE_FIELDS.get(key, "code")
    # Empty values (no purchase yet, no region) go last either way, on every database.
    order = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    tiebreak = "-pk" if descending else "pk"
    return queryset.order_by(order, tiebreak)


# --- The customer card 客户资料卡 and the list's money column ---------------------------------


@dataclass(frozen=True)
class CustomerFigures:
    """The key figures at the top of a card (money in the company currency)."""

    revenue_12_months: Decimal  # orders − returns, trailing 12 months
    gross_profit_12_months: Decimal  # (amount − cost) of orders − of returns, same window
    open_invoices: Decimal  # sum of open amounts of invoices not cancelled
    unallocated_payments: Decimal  # money received not yet allocated: the customer's credit
    overdue_amount: Decimal  # open amounts past their due date
    overdue_invoice_count: int

    @property
    def open_balance(self) -> Decimal:
        """What the customer owes now: open invoices less their unallocated payments."""
        return self.open_invoices - self.unallocated_payments


def _money_sum(expression: str, **filter_: Any) -> Coalesce:
    condition = Q(**filter_) if filter_ else None
    return Coalesce(Sum(expression, filter=condition), Value(ZERO), output_field=MONEY)


def customer_open_balances(*, user: User, customer_ids: Iterable[int]) -> dict[int, Decimal]:
    """Open balance (open invoices − unallocated payments) of each customer id: two queries.

    Computed for the ids given (one page of a list), never for the whole register, so that its
    cost does not grow with the number of customers.
    """
    ids = list(customer_ids)
    balances = dict.fromkeys(ids, ZERO)
    if ids:
        _add_open_balances(
            balances,
            invoices=related_visible_to(user, Invoice.objects.filter(customer_id__in=ids)),
            payments=related_visible_to(user, Payment.objects.filter(customer_id__in=ids)),
        )
    return balances


def customer_open_balances_matching(*, customers: QuerySet[Customer]) -> dict[int, Decimal]:
    """Open balances of every customer in `customers` (a list as `customer_list` gives it).

    Two grouped queries over the ledger whatever the number of customers; customers without
    open invoices or unallocated payments are left out (their balance is zero).
    """
    ids = customers.order_by().values("pk")
    balances: dict[int, Decimal] = {}
    _add_open_balances(
        balances,
        invoices=Invoice.objects.filter(customer__in=ids),
        payments=Payment.objects.filter(customer__in=ids),
    )
    return balances


def _add_open_balances(
    balances: dict[int, Decimal], *, invoices: QuerySet[Invoice], payments: QuerySet[Payment]
) -> None:
    open_invoices = (
        invoices.filter(is_cancelled=False, open_amount__gt=0)
        .order_by()
        .values("customer_id")
        .annotate(total=Sum("open_amount"))
        .values_list("customer_id", "total")
    )
    for customer_id, amount in open_invoices:
        balances[customer_id] = balances.get(customer_id, ZERO) + amount
    unallocated = (
        payments.filter(unallocated_amount__gt=0)
        .order_by()
        .values("customer_id")
        .annotate(total=Sum("unallocated_amount"))
        .values_list("customer_id", "total")
    )
    for customer_id, amount in unallocated:
        balances[customer_id] = balances.get(customer_id, ZERO) - amount


def customers_in_order(*, user: User, ids: list[int]) -> list[Customer]:
    """The visible customers with these ids, in the order of `ids`, owner and region joined."""
    found = customers_visible_to(user).select_related("owner", "region").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def customer_key_figures(*, customer: Customer, today: dt.date) -> CustomerFigures:
    """Key figures of one (visible) customer: four aggregate queries, whatever the history."""
    since = today - dt.timedelta(days=365)
    orders = Order.objects.filter(
        customer=customer,
        state__in=PURCHASE_STATES,
        order_date__gt=since,
        order_date__lte=today,
    ).aggregate(amount=_money_sum("total_amount"), cost=_money_sum("total_cost"))
    returns = Return.objects.filter(
        customer=customer, returned_on__gt=since, returned_on__lte=today
    ).aggregate(amount=_money_sum("amount"), cost=_money_sum("cost"))
    invoices = Invoice.objects.filter(
        customer=customer, is_cancelled=False, open_amount__gt=0
    ).aggregate(
        open=_money_sum("open_amount"),
        overdue=_money_sum("open_amount", due_date__lt=today),
        overdue_count=Count("pk", filter=Q(due_date__lt=today)),
    )
    unallocated = Payment.objects.filter(customer=customer, unallocated_amount__gt=0).aggregate(
        total=_money_sum("unallocated_amount")
    )
    revenue = orders["amount"] - returns["amount"]
    return CustomerFigures(
        revenue_12_months=revenue,
        gross_profit_12_months=revenue - (orders["cost"] - returns["cost"]),
        open_invoices=invoices["open"],
        unallocated_payments=unallocated["total"],
        overdue_amount=invoices["overdue"],
        overdue_invoice_count=invoices["overdue_count"],
    )


def month_starts(*, today: dt.date, months: int) -> list[dt.date]:
    """The first days of the last `months` months, oldest first, this month last."""
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(dt.date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return starts[::-1]


def customer_monthly_purchases(
    *, customer: Customer, today: dt.date, months: int = 24
) -> list[tuple[dt.date, Decimal]]:
    """Order amounts per month over the last `months` months (empty months as zero): 1 query."""
    starts = month_starts(today=today, months=months)
    rows = (
        Order.objects.filter(
            customer=customer,
            state__in=PURCHASE_STATES,
            order_date__gte=starts[0],
            order_date__lte=today,
        )
        .annotate(month=TruncMonth("order_date"))
        .order_by()
        .values("month")
        .annotate(amount=Sum("total_amount"))
        .values_list("month", "amount")
    )
    by_month = {_as_date(month): amount for month, amount in rows}
    return [(start, by_month.get(start, ZERO)) for start in starts]


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


@dataclass(frozen=True)
class CustomerRecordCounts:
    contacts: int
    orders: int
    invoices: int
    payments: int
    activities: int
    history: int


def customer_record_counts(*, customer: Customer) -> CustomerRecordCounts:
    """How many rows each tab of the card holds, in one query."""

    def count_of(queryset: QuerySet[Any]) -> Coalesce:
        subquery = (
            queryset.filter(customer=OuterRef("pk"))
            .order_by()
            .values("customer")
            .annotate(total=Count("*"))
            .values("total")
        )
        return Coalesce(Subquery(subquery), 0)

    history = Customer.history.model  # type: ignore[attr-defined]
    history_count = Coalesce(
        Subquery(
            history.objects.filter(id=OuterRef("pk"))
            .order_by()
            .values("id")
            .annotate(total=Count("*"))
            .values("total")
        ),
        0,
    )
    row = (
        Customer.objects.filter(pk=customer.pk)
        .annotate(
            contacts_count=count_of(Contact.objects.all()),
            orders_count=count_of(Order.objects.all()),
            invoices_count=count_of(Invoice.objects.all()),
            payments_count=count_of(Payment.objects.all()),
            activities_count=count_of(Activity.objects.all()),
            history_count=history_count,
        )
        .values(
            "contacts_count",
            "orders_count",
            "invoices_count",
            "payments_count",
            "activities_count",
            "history_count",
        )
        .get()
    )
    return CustomerRecordCounts(
        contacts=row["contacts_count"],
        orders=row["orders_count"],
        invoices=row["invoices_count"],
        payments=row["payments_count"],
        activities=row["activities_count"],
        history=row["history_count"],
    )


def customer_contacts(*, customer: Customer) -> QuerySet[Contact]:
    return customer.contacts.all()


def customer_orders(*, customer: Customer) -> QuerySet[Order]:
    """Orders, newest first, with their lines and products (one query each, not one per order)."""
    return (
        Order.objects.filter(customer=customer)
        .select_related("owner")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.select_related("product").order_by("line_number"),
            )
        )
        .order_by("-order_date", "-id")
    )


def customer_invoices(*, customer: Customer) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(customer=customer)
        .select_related("order")
        .order_by("-issue_date", "-id")
    )


def customer_payments(*, customer: Customer) -> QuerySet[Payment]:
    """Payments, newest first, with the invoices their live allocations went to."""
    return (
        Payment.objects.filter(customer=customer)
        .prefetch_related(
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.filter(reversed_on__isnull=True)
                .select_related("invoice")
                .order_by("allocated_on", "pk"),
                to_attr="live_allocations",
            )
        )
        .order_by("-received_on", "-id")
    )


def customer_activities(*, customer: Customer) -> QuerySet[Activity]:
    return (
        Activity.objects.filter(customer=customer)
        .select_related("owner", "contact")
        .order_by("-occurred_on", "-id")
    )


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: object
    new: object


@dataclass(frozen=True)
class HistoryEntry:
    """One saved version of a card: who, when, what kind of change, which fields, why."""

    when: dt.datetime
    user: User | None
    kind: str  # "+" created, "~" changed, "-" deleted
    reason: str
    changes: list[FieldChange]


def customer_history(*, customer: Customer, offset: int, limit: int) -> list[HistoryEntry]:
    """Versions `offset`..`offset+limit` of the card, newest first, each with its field changes.

    Reads one version beyond the page so that the oldest one on the page has something to be
    compared with; owners and regions named in the changes are read in one query each.
    """
    records = list(
        customer.history.select_related("history_user").order_by("-history_date", "-history_id")[  # type: ignore[attr-defined]
            offset : offset + limit + 1
        ]
    )
    field_order = {field.name: index for index, field in enumerate(Customer._meta.fields)}
    raw: list[tuple[Any, list[Any]]] = []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        if previous is None or record.history_type == "+":
            raw.append((record, []))
            continue
        delta = record.diff_against(previous)
        raw.append((record, sorted(delta.changes, key=lambda c: field_order.get(c.field, 999))))
    names = _related_names(changes for _, changes in raw)
    entries = []
    for record, changes in raw:
        entries.append(
            HistoryEntry(
                when=record.history_date,
                user=record.history_user,
                kind=record.history_type,
                reason=record.history_change_reason or "",
                changes=[
                    FieldChange(
                        field=change.field,
                        label=_field_label(change.field),
                        old=_display_value(change.field, change.old, names),
                        new=_display_value(change.field, change.new, names),
                    )
                    for change in changes
                ],
            )
        )
    return entries


def _field_label(field_name: str) -> str:
    field = Customer._meta.get_field(field_name)
    return str(getattr(field, "verbose_name", field_name))


def _related_names(change_lists: Iterable[list[Any]]) -> dict[tuple[str, object], str]:
    wanted: dict[str, set[int]] = {"owner": set(), "region": set()}
    for changes in change_lists:
        for change in changes:
            if change.field in wanted:
                wanted[change.field].update(v for v in (change.old, change.new) if v is not None)
    names: dict[tuple[str, object], str] = {}
    if wanted["owner"]:
        for person in User.objects.filter(pk__in=wanted["owner"]):
            names[("owner", person.pk)] = str(person)
    if wanted["region"]:
        for unit in OrgUnit.objects.filter(pk__in=wanted["region"]):
            names[("region", unit.pk)] = str(unit)
    return names


def _display_value(field_name: str, value: object, names: dict[tuple[str, object], str]) -> object:
    if value is None or value == "":
        return None
    if (field_name, value) in names:
        return names[(field_name, value)]
    field = Customer._meta.get_field(field_name)
    choices = getattr(field, "choices", None)
    if choices:
        return dict(choices).get(value, value)
    return value
