# SQL below is built from model table names and fixed expressions; values are parameters.
# ruff: noqa: S608
"""Aging of receivables as of any date (账龄分析, domain §6) — read only.

The open amount of an invoice as of a date is rebuilt from the ledger, never read from
`Invoice.open_amount` (which is today's): the invoice amount, issued on or before the date,
less the allocations made by then and not reversed by then (`reversed_on` empty or later),
less the credit notes issued by then, less the write-offs made by then and not reversed by
then. Cancelled invoices are left out. So last quarter's aging, rebuilt today, is what it was.

Buckets are days past due (the as-of date less the due date): "not yet due" (0 or fewer), then
one bucket per edge of KEHU["AGING_BUCKETS"] (1–30, 31–60, 61–90, 91–180, 181–365 by default)
and "over" the last edge.

The roll-up (`aging_as_of`) is one SQL statement, the same on SQLite and PostgreSQL: the live
ledger entries are summed per invoice (grouped once each, no per-invoice subquery), joined to
the visible invoices, and the open amounts summed by group and bucket in whole cents (SQLite
computes money as floating point; cents summed as integers stay exact). The drill-down
(`open_invoices_page`, `open_invoice_lines`) reads the same balances per invoice, in the same
pass, with the page, the count and the total from one statement. `open_amount_as_of` is the
same rule as an ORM expression, for one customer's statement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from kehu.accounts.models import OrgUnit, User
from kehu.core.errors import ValidationFailed
from kehu.core.money import CENT, ZERO
from kehu.customers.models import Customer
from kehu.customers.selectors import customers_visible_to
from kehu.receivables.models import CreditNote, Invoice, PaymentAllocation, WriteOff

MONEY = DecimalField(max_digits=18, decimal_places=2)
# An open amount below half a cent is settled (SQLite sums money as floating point).
OPEN_THRESHOLD = Decimal("0.005")
GROUP_BY_CHOICES = ("company", "region", "team", "rep", "customer", "year", "pyramid")


# --- Buckets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgingBucket:
    """Days past due from `low` to `high` (both included); None: open-ended."""

    index: int
    key: str  # "current", "1-30", …, "over-365": stable, for URLs and the API
    label: str
    low: int | None
    high: int | None

    @property
    def sort_key(self) -> str:
        return f"b{self.index}"

    def due_date_range(self, as_of: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """(earliest, latest) due date of the invoices of this bucket as of `as_of`."""
        earliest = None if self.high is None else as_of - dt.timedelta(days=self.high)
        latest = None if self.low is None else as_of - dt.timedelta(days=self.low)
        return earliest, latest

    def q(self, as_of: dt.date) -> Q:
        earliest, latest = self.due_date_range(as_of)
        condition = Q()
        if earliest is not None:
            condition &= Q(due_date__gte=earliest)
        if latest is not None:
            condition &= Q(due_date__lte=latest)
        return condition


def aging_bucket_edges() -> tuple[int, ...]:
    """The upper edges (days past due) of KEHU["AGING_BUCKETS"], checked: rising, positive."""
    edges = tuple(int(edge) for edge in settings.KEHU.get("AGING_BUCKETS", (30, 60, 90, 180, 365)))
    if not edges or edges[0] < 1 or any(b <= a for a, b in pairwise(edges)):
        raise ValidationFailed(
            f"KEHU['AGING_BUCKETS'] must be rising whole numbers of days above 0, not {edges}",
            detail={"field": "AGING_BUCKETS"},
        )
    return edges


def aging_buckets() -> list[AgingBucket]:
    edges = aging_bucket_edges()
    buckets = [AgingBucket(index=0, key="current", label=_("Not yet due"), low=None, high=0)]
    low = 1
    for edge in edges:
        buckets.append(
            AgingBucket(
                index=len(buckets), key=f"{low}-{edge}", label=f"{low}–{edge}", low=low, high=edge
            )
        )
        low = edge + 1
    buckets.append(
        AgingBucket(
            index=len(buckets),
            key=f"over-{edges[-1]}",
            label=_("Over %(days)s") % {"days": edges[-1]},
            low=low,
            high=None,
        )
    )
    return buckets


def aging_bucket_get(key: str) -> AgingBucket:
    for bucket in aging_buckets():
        if bucket.key == key:
            return bucket
    raise ValidationFailed(f"unknown aging bucket {key!r}", detail={"field": "bucket"})


def bucket_of(*, due_date: dt.date, as_of: dt.date, buckets: Sequence[AgingBucket]) -> AgingBucket:
    """The bucket of one invoice (for plain Python callers: tests and the benchmark's peer)."""
    days = (as_of - due_date).days
    for bucket in buckets:
        if (bucket.low is None or days >= bucket.low) and (
            bucket.high is None or days <= bucket.high
        ):
            return bucket
    raise AssertionError("the buckets cover every day")  # pragma: no cover


# --- The roll-up ------------------------------------------------------------------------------


@dataclass
class AgingRow:
    key: Any  # the group's id (customer id, rep id, year…); None for "none"
    label: str
    amounts: list[Decimal]  # one per bucket
    invoice_count: int = 0

    @property
    def total(self) -> Decimal:
        return sum(self.amounts, ZERO)

    @property
    def overdue(self) -> Decimal:
        return sum(self.amounts[1:], ZERO)


@dataclass
class AgingReport:
    as_of: dt.date
    group_by: str
    buckets: list[AgingBucket]
    rows: list[AgingRow] = field(default_factory=list)
    snapshot_period: str | None = None  # the value snapshot the pyramid classes come from
    # When read from an aging snapshot (aging_snapshots.py): when it was computed, and whether
    # this request read it ("snapshot") or computed and stored it ("computed"); "live": neither.
    computed_at: dt.datetime | None = None
    source: str = "live"

    @property
    def totals(self) -> list[Decimal]:
        return [sum((row.amounts[i] for row in self.rows), ZERO) for i in range(len(self.buckets))]

    @property
    def total(self) -> Decimal:
        return sum(self.totals, ZERO)

    @property
    def overdue(self) -> Decimal:
        return sum(self.totals[1:], ZERO)

    @property
    def invoice_count(self) -> int:
        return sum(row.invoice_count for row in self.rows)


def _money(value: object) -> Decimal:
    """A sum from the database (Decimal on PostgreSQL, float on SQLite) rounded to cents."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value.quantize(CENT)
    return Decimal(repr(value)).quantize(CENT)


def _year_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(YEAR FROM {column}) AS INTEGER)"
    return f"CAST(strftime('%%Y', {column}) AS INTEGER)"


def _visible_customer_sql(user: User) -> tuple[str, list[Any]]:
    """A condition on `c.id` for the customers `user` may see ('' when they see all)."""
    visible = customers_visible_to(user)
    if not visible.query.where:
        return "", []
    sql, params = visible.order_by().values("pk").query.sql_with_params()
    return f" AND c.id IN ({sql})", list(params)


def _balances_sql(
    *,
    user: User,
    as_of: dt.date,
    group_sql: str,
    joins: str,
    join_params: list[Any],
    columns: str = "",
    where: str = "",
    where_params: Sequence[Any] = (),
) -> tuple[str, list[Any]]:
    """`WITH balances AS (…)`: group_key, due_date, open_amount of every visible invoice issued
    by `as_of`, to be followed by a SELECT … FROM balances. `columns`: more columns of `i`
    (the invoice) or `c` (its customer), each with `AS name`; `where`: more conditions on them
    (starting with AND), with `where_params`.

    This is the as-of rule of the whole app, in one place: the roll-up, the drill-down, the
    figures, credit measures and the ECL matrix all read balances from it.

    One statement per database, both set-based. PostgreSQL sums the live entries per invoice
    once (hash aggregates) and hash-joins them to the invoices. SQLite scans the invoices once
    and reads each invoice's live entries from covering indexes (0003_aging_indexes); the CTE is
    MATERIALIZED so that those lookups run once per invoice, and `+` keeps SQLite from walking
    the invoices through an index in random order when the whole table is read anyway.
    """
    allocation = PaymentAllocation._meta.db_table
    credit_note = CreditNote._meta.db_table
    write_off = WriteOff._meta.db_table
    visibility, visibility_params = _visible_customer_sql(user)
    whole_table = not visibility
    needs_customer = bool(visibility) or any(
        "c." in part for part in (group_sql, joins, columns, where)
    )
    extra_columns = f", {columns}" if columns else ""
    customer_join = (
        f"JOIN {Customer._meta.db_table} c ON c.id = {'+' if whole_table else ''}i.customer_id"
        if needs_customer
        else ""
    )
    live_allocation = "a.allocated_on <= %s AND (a.reversed_on IS NULL OR a.reversed_on > %s)"
    live_write_off = "w.written_off_on <= %s AND (w.reversed_on IS NULL OR w.reversed_on > %s)"
    if connection.vendor == "postgresql":
        sql = f"""WITH balances AS (
            SELECT {group_sql} AS group_key, i.due_date AS due_date,
                   i.amount - COALESCE(a.amount, 0) - COALESCE(n.amount, 0)
                       - COALESCE(w.amount, 0) AS open_amount{extra_columns}
            FROM {Invoice._meta.db_table} i
            {customer_join}
            {joins}
            LEFT JOIN (
                SELECT a.invoice_id, SUM(a.amount) AS amount FROM {allocation} a
                WHERE {live_allocation} GROUP BY a.invoice_id
            ) a ON a.invoice_id = i.id
            LEFT JOIN (
                SELECT n.invoice_id, SUM(n.amount) AS amount FROM {credit_note} n
                WHERE n.invoice_id IS NOT NULL AND n.issue_date <= %s GROUP BY n.invoice_id
            ) n ON n.invoice_id = i.id
            LEFT JOIN (
                SELECT w.invoice_id, SUM(w.amount) AS amount FROM {write_off} w
                WHERE {live_write_off} GROUP BY w.invoice_id
            ) w ON w.invoice_id = i.id
            WHERE i.issue_date <= %s AND i.is_cancelled = %s{visibility} {where}
        )"""
        params = [*join_params, as_of, as_of, as_of, as_of, as_of, as_of, False]
        return sql, [*params, *visibility_params, *where_params]
    sql = f"""WITH balances AS MATERIALIZED (
        SELECT {group_sql} AS group_key, i.due_date AS due_date,
               i.amount
               - COALESCE((SELECT SUM(a.amount) FROM {allocation} a
                           WHERE a.invoice_id = i.id AND {live_allocation}), 0)
               - COALESCE((SELECT SUM(n.amount) FROM {credit_note} n
                           WHERE n.invoice_id = i.id AND n.issue_date <= %s), 0)
               - COALESCE((SELECT SUM(w.amount) FROM {write_off} w
                           WHERE w.invoice_id = i.id AND {live_write_off}), 0) AS open_amount
               {extra_columns}
        FROM {Invoice._meta.db_table} i
        {customer_join}
        {joins}
        WHERE {"+" if whole_table else ""}i.issue_date <= %s AND i.is_cancelled = %s{visibility}
              {where}
    )"""
    params = [as_of, as_of, as_of, as_of, as_of, *join_params, as_of, False]
    return sql, [*params, *visibility_params, *where_params]


def entry_is_live(*, on: dt.date, reversed_on: dt.date | None, as_of: dt.date) -> bool:
    """The as-of rule for one ledger entry, in Python: made by `as_of` and not reversed by
    then (a credit note is never reversed: `reversed_on` None). `_balances_sql` says the same
    in SQL."""
    return on <= as_of and (reversed_on is None or reversed_on > as_of)


def _company_operator() -> User:
    """Someone who sees the whole company (not saved): for company-wide computations."""
    from kehu.accounts.models import Role

    return User(username="company", role=Role.FINANCE, is_active=True)


def invoice_open_amounts_as_of(
    *, as_of: dt.date, where: str = "", where_params: Sequence[Any] = ()
) -> Iterator[tuple[int, int, dt.date, dt.date, Decimal]]:
    """(invoice id, customer id, issue date, due date, open amount as of `as_of`) of every
    invoice of the company issued by then and not cancelled, settled ones included (open
    amount 0), with the aging's statement: the one as-of rule (ECL reads it per month-end).
    `where`: more conditions on `i`, the invoice, starting with AND."""
    balances, params = _balances_sql(
        user=_company_operator(), as_of=as_of, group_sql="0", joins="", join_params=[],
        columns="i.id AS invoice_id, i.customer_id AS customer_id, i.issue_date AS issue_date",
        where=where, where_params=where_params,
    )  # fmt: skip
    sql = f"""{balances}
        SELECT invoice_id, customer_id, issue_date, due_date,
               CAST(ROUND(open_amount * 100) AS BIGINT)
        FROM balances
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(5000):
            for invoice_id, customer_id, issued, due, open_cents in rows:
                yield (
                    invoice_id,
                    customer_id,
                    _as_date(issued),
                    _as_date(due),
                    _cents_to_money(open_cents),
                )


def _group_sql(group_by: str) -> tuple[str, str, list[Any], str | None]:
    """(group expression, extra joins, their parameters, snapshot period) of a grouping."""
    if group_by == "company":
        return "0", "", [], None
    if group_by == "customer":
        return "i.customer_id", "", [], None
    if group_by == "rep":
        return "c.owner_id", "", [], None
    if group_by == "region":
        return "c.region_id", "", [], None
    if group_by == "team":
        return "u.org_unit_id", f"JOIN {User._meta.db_table} u ON u.id = c.owner_id", [], None
    if group_by == "year":
        return _year_sql("i.issue_date"), "", [], None
    if group_by == "pyramid":
        from kehu.value.models import CustomerValue
        from kehu.value.selectors import value_snapshot_latest

        snapshot = value_snapshot_latest()
        if snapshot is None:
            raise ValidationFailed(
                "there is no value snapshot yet: pyramid classes are not known",
                detail={"field": "group_by"},
            )
        join = (
            f"LEFT JOIN {CustomerValue._meta.db_table} v "
            "ON v.customer_id = c.id AND v.snapshot_id = %s"
        )
        return "v.pyramid_class", join, [snapshot.pk], snapshot.period
    raise ValidationFailed(
        f"unknown grouping {group_by!r}; one of {', '.join(GROUP_BY_CHOICES)}",
        detail={"field": "group_by"},
    )


def aging_as_of(*, user: User, as_of: dt.date, group_by: str = "company") -> AgingReport:
    """Open receivables of the customers `user` may see, as of `as_of`, by group and bucket.

    One query for the amounts, one for the groups' names. Groups with nothing open are left
    out; rows come largest total first.
    """
    buckets = aging_buckets()
    group_sql, joins, join_params, period = _group_sql(group_by)
    balances, params = _balances_sql(
        user=user, as_of=as_of, group_sql=group_sql, joins=joins, join_params=join_params
    )
    cases = []
    case_params: list[Any] = []
    for bucket in buckets[:-1]:
        earliest, _latest = bucket.due_date_range(as_of)
        cases.append("WHEN due_date >= %s THEN " + str(bucket.index))
        case_params.append(earliest)
    bucket_sql = f"CASE {' '.join(cases)} ELSE {buckets[-1].index} END"
    sql = f"""{balances}
        SELECT group_key, {bucket_sql} AS bucket,
               SUM(CAST(ROUND(open_amount * 100) AS BIGINT)), COUNT(*)
        FROM balances
        WHERE open_amount >= {OPEN_THRESHOLD}
        GROUP BY group_key, {bucket_sql}
    """
    all_params = [*params, *case_params, *case_params]
    rows: dict[Any, AgingRow] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        for group_key, bucket_index, amount, count in cursor.fetchall():
            row = rows.get(group_key)
            if row is None:
                row = rows[group_key] = AgingRow(
                    key=group_key, label="", amounts=[ZERO] * len(buckets)
                )
            row.amounts[int(bucket_index)] += (Decimal(int(amount)) / 100).quantize(CENT)
            row.invoice_count += int(count)
    labels = _group_labels(group_by, [key for key in rows if key is not None])
    for key, row in rows.items():
        row.label = labels.get(key, str(key)) if key is not None else _("(none)")
    ordered = sorted(rows.values(), key=lambda row: (-row.total, row.label))
    return AgingReport(
        as_of=as_of, group_by=group_by, buckets=buckets, rows=ordered, snapshot_period=period
    )


def _group_labels(group_by: str, keys: list[Any]) -> dict[Any, str]:
    if group_by == "company":
        return {0: _("Company")}
    if group_by == "customer":
        return {
            pk: f"{code} {name}"
            for pk, code, name in Customer.objects.filter(pk__in=keys).values_list(
                "pk", "code", "name"
            )
        }
    if group_by == "rep":
        return {person.pk: str(person) for person in User.objects.filter(pk__in=keys)}
    if group_by in ("region", "team"):
        return dict(OrgUnit.objects.filter(pk__in=keys).values_list("pk", "name"))
    if group_by == "year":
        return {key: str(key) for key in keys}
    if group_by == "pyramid":
        from kehu.value.models import PyramidClass

        return {key: str(label) for key, label in PyramidClass.choices}
    return {}


def aging_group_by_choices(*, has_snapshot: bool | None = None) -> list[tuple[str, str]]:
    """The groupings offered: pyramid class only when a value snapshot exists."""
    if has_snapshot is None:
        from kehu.value.selectors import value_snapshot_latest

        has_snapshot = value_snapshot_latest() is not None
    choices = [
        ("company", _("Company")),
        ("region", _("Region")),
        ("team", _("Team")),
        ("rep", _("Owner rep")),
        ("customer", _("Customer")),
        ("year", _("Issue year")),
    ]
    if has_snapshot:
        choices.append(("pyramid", _("Pyramid class")))
    return choices


# --- The invoices behind a figure (drill-down) ------------------------------------------------


def _live_sum(queryset: QuerySet[Any]) -> Coalesce:
    subquery = (
        queryset.filter(invoice=OuterRef("pk"))
        .order_by()
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(subquery, output_field=MONEY), Value(ZERO), output_field=MONEY)


def open_amount_as_of(as_of: dt.date) -> Any:
    """An expression on Invoice: its open amount as of `as_of`, rebuilt from the ledger."""
    live = Q(reversed_on__isnull=True) | Q(reversed_on__gt=as_of)
    allocated = _live_sum(PaymentAllocation.objects.filter(Q(allocated_on__lte=as_of) & live))
    credited = _live_sum(CreditNote.objects.filter(issue_date__lte=as_of))
    written_off = _live_sum(WriteOff.objects.filter(Q(written_off_on__lte=as_of) & live))
    return F("amount") - allocated - credited - written_off


def group_q(group_by: str, key: str | None) -> Q:
    """The invoices of one row of the roll-up (`key` as in the URL: "" or "none" for none)."""
    if group_by == "company" or key is None:
        return Q()
    is_none = key in ("", "none")
    if group_by == "pyramid":
        from kehu.value.selectors import value_snapshot_latest

        snapshot = value_snapshot_latest()
        if snapshot is None:
            return Q()
        classified = Customer.objects.filter(
            value_rows__snapshot=snapshot, value_rows__pyramid_class__isnull=False
        ).values("pk")
        if is_none:
            return ~Q(customer__in=classified)
        return Q(
            customer__in=Customer.objects.filter(
                value_rows__snapshot=snapshot, value_rows__pyramid_class=key
            ).values("pk")
        )
    fields = {
        "customer": "customer_id",
        "rep": "customer__owner_id",
        "region": "customer__region_id",
        "team": "customer__owner__org_unit_id",
        "year": "issue_date__year",
    }
    if group_by not in fields:
        raise ValidationFailed(f"unknown grouping {group_by!r}", detail={"field": "group_by"})
    if is_none:
        return Q(**{f"{fields[group_by].removesuffix('_id')}__isnull": True})
    try:
        number = int(key)
    except ValueError as error:
        raise ValidationFailed(
            f"{group_by} {key!r} is not a number", detail={"field": group_by}
        ) from error
    return Q(**{fields[group_by]: number})


# Sort keys of the drill-down → columns of the balances (see _open_invoices_sql).
INVOICE_SORTS = {
    "number": "number",
    "customer": "customer_code",
    "issue_date": "issue_date",
    "due_date": "due_date",
    "amount": "amount",
    "open": "open_amount",
}


@dataclass
class OpenInvoicesPage:
    """One page of the invoices behind a figure, with the count and open total of them all."""

    invoices: list[Invoice]  # each with `open_as_of`, the open amount as of the date
    count: int
    open_total: Decimal
    number: int
    per_page: int

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.per_page))


def _open_invoices_sql(
    *,
    user: User,
    as_of: dt.date,
    bucket: str,
    group_by: str,
    group_key: str | None,
    search: str,
    columns: str,
) -> tuple[str, list[Any]]:
    """The balances (as in the roll-up: one pass, no per-invoice subquery on PostgreSQL) of the
    visible invoices of one bucket and one group, found by `search`."""
    where = ""
    where_params: list[Any] = []
    if bucket:
        earliest, latest = aging_bucket_get(bucket).due_date_range(as_of)
        if earliest is not None:
            where += " AND i.due_date >= %s"
            where_params.append(earliest)
        if latest is not None:
            # The last bucket holds most of an old ledger: read the invoices in table order
            # then (`+` keeps SQLite off the due-date index), not one by one through the index.
            plus = "+" if earliest is None and connection.vendor == "sqlite" else ""
            where += f" AND {plus}i.due_date <= %s"
            where_params.append(latest)
    condition = group_q(group_by, group_key)
    if search:
        term = search.strip()
        condition &= (
            Q(number__icontains=term)
            | Q(customer__code__istartswith=term)
            | Q(customer__name__icontains=term)
        )
    if condition:
        subquery = Invoice.objects.filter(condition).order_by().values("pk")
        sql, params = subquery.query.sql_with_params()
        where += f" AND i.id IN ({sql})"
        where_params.extend(params)
    return _balances_sql(
        user=user, as_of=as_of, group_sql="0", joins="", join_params=[],
        columns=columns, where=where, where_params=where_params,
    )  # fmt: skip


def _sort_sql(sort: str) -> str:
    descending = sort.startswith("-")
    column = INVOICE_SORTS.get(sort.lstrip("-"), "due_date")
    direction = "DESC" if descending else "ASC"
    return f"{column} {direction}, invoice_id {direction}"


def _cents_to_money(cents: object) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(CENT)  # type: ignore[call-overload]


def open_invoices_page(
    *,
    user: User,
    as_of: dt.date,
    bucket: str = "",
    group_by: str = "company",
    group_key: str | None = None,
    search: str = "",
    sort: str = "due_date",
    page: int = 1,
    per_page: int = 50,
) -> OpenInvoicesPage:
    """One page of the visible invoices open as of `as_of` (of one bucket and one group of the
    roll-up when given: what a cell of the aging table is the sum of), sorted by `sort` (a key
    of INVOICE_SORTS, "-" first for descending), with their count and open total.

    One statement computes every open amount in the same pass as the roll-up's and returns the
    page with the count and the total (window aggregates); one more reads the page's invoices.
    A page past the last one gives the last one.
    """
    columns = (
        "i.id AS invoice_id, i.number AS number, i.issue_date AS issue_date, i.amount AS amount"
    )
    if sort.lstrip("-") == "customer":
        columns += ", c.code AS customer_code"
    balances, params = _open_invoices_sql(
        user=user, as_of=as_of, bucket=bucket, group_by=group_by, group_key=group_key,
        search=search, columns=columns,
    )  # fmt: skip
    cents = "CAST(ROUND(open_amount * 100) AS BIGINT)"
    sql = f"""{balances}
        SELECT invoice_id, {cents}, COUNT(*) OVER (), SUM({cents}) OVER ()
        FROM balances
        WHERE open_amount >= {OPEN_THRESHOLD}
        ORDER BY {_sort_sql(sort)}
        LIMIT %s OFFSET %s
    """
    number = max(1, page)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, per_page, (number - 1) * per_page])
        found = cursor.fetchall()
        if not found and number > 1:  # past the end: count them, then read the last page
            cursor.execute(sql, [*params, 1, 0])
            first = cursor.fetchall()
            count = int(first[0][2]) if first else 0
            number = max(1, -(-count // per_page))
            cursor.execute(sql, [*params, per_page, (number - 1) * per_page])
            found = cursor.fetchall()
    count = int(found[0][2]) if found else 0
    total = _cents_to_money(found[0][3]) if found else ZERO
    by_id = Invoice.objects.select_related("customer", "customer__owner").in_bulk(
        [row[0] for row in found]
    )
    invoices = []
    for invoice_id, open_cents, _count, _total in found:
        invoice = by_id[invoice_id]
        invoice.open_as_of = _cents_to_money(open_cents)  # type: ignore[attr-defined]
        invoices.append(invoice)
    return OpenInvoicesPage(
        invoices=invoices, count=count, open_total=total, number=number, per_page=per_page
    )


@dataclass(frozen=True)
class OpenInvoiceLine:
    """One invoice of the drill-down export (plain values: no model instance per row)."""

    number: str
    customer_code: str
    customer_name: str
    owner_id: int | None
    issue_date: dt.date
    due_date: dt.date
    amount: Decimal
    open_as_of: Decimal


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def open_invoice_lines(
    *,
    user: User,
    as_of: dt.date,
    bucket: str = "",
    group_by: str = "company",
    group_key: str | None = None,
    search: str = "",
    sort: str = "due_date",
    chunk_size: int = 5000,
) -> Iterator[OpenInvoiceLine]:
    """Every invoice of `open_invoices_page`'s list, in its order (for the export): one
    statement, read in chunks."""
    columns = (
        "i.id AS invoice_id, i.number AS number, i.issue_date AS issue_date, "
        "i.amount AS amount, c.code AS customer_code, c.name AS customer_name, "
        "c.owner_id AS owner_id"
    )
    balances, params = _open_invoices_sql(
        user=user, as_of=as_of, bucket=bucket, group_by=group_by, group_key=group_key,
        search=search, columns=columns,
    )  # fmt: skip
    sql = f"""{balances}
        SELECT number, customer_code, customer_name, owner_id, issue_date, due_date, amount,
               CAST(ROUND(open_amount * 100) AS BIGINT)
        FROM balances
        WHERE open_amount >= {OPEN_THRESHOLD}
        ORDER BY {_sort_sql(sort)}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            for number, code, name, owner_id, issued, due, amount, open_cents in rows:
                yield OpenInvoiceLine(
                    number=number,
                    customer_code=code,
                    customer_name=name,
                    owner_id=owner_id,
                    issue_date=_as_date(issued),
                    due_date=_as_date(due),
                    amount=_money(amount),
                    open_as_of=_cents_to_money(open_cents),
                )


def invoices_open_as_of(
    *,
    user: User,
    as_of: dt.date,
    bucket: str = "",
    group_by: str = "company",
    group_key: str | None = None,
    search: str = "",
    sort: str = "due_date",
) -> list[Invoice]:
    """Every invoice of `open_invoices_page`'s list (for small scopes and tests)."""
    return open_invoices_page(
        user=user, as_of=as_of, bucket=bucket, group_by=group_by, group_key=group_key,
        search=search, sort=sort, per_page=1_000_000_000,
    ).invoices  # fmt: skip
