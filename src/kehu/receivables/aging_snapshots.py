# SQL below is built from model table names; it takes no values.
# ruff: noqa: S608
"""Aging snapshots 账龄快照: the company's aging computed once, read by the pages (domain §6).

A page never computes a company-wide figure on the fly when a snapshot holds it (conventions):
for a user who sees the whole company, `aging_report_for` reads the snapshot of (as-of date,
grouping) when it is fresh, and otherwise computes the aging, stores it and shows it. Users who
see part of the company get the live computation (`aging_as_of`): their scope is small.

Fresh means: the ledger stamp read now equals the one stored with the snapshot. The stamp is one
cheap statement: the largest id and the number of rows of invoices, payments, allocations,
credit notes and write-offs (new rows, deleted rows), the latest `updated_at` of invoices and
write-offs (every service that moves a balance — allocating, reversing an allocation, a credit
note, a write-off or its reversal, a cancellation — saves the invoice's `updated_at`), the
bucket edges, and, for groupings by customer attributes, the customers' and users' stamps (a
customer moved to another rep moves its amounts to another row) and the value snapshot behind
the pyramid classes. The stamp is read before the aging is computed, so a write that lands
while it is computed makes the stored snapshot stale, never wrongly fresh. A stale snapshot can
never become fresh again (ids and change times only grow), so the nightly refresh deletes them.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import Role, User
from kehu.core.money import CENT
from kehu.customers.models import Customer
from kehu.customers.selectors import customers_visible_to
from kehu.receivables.aging import (
    AgingReport,
    AgingRow,
    _group_labels,
    aging_as_of,
    aging_bucket_edges,
    aging_buckets,
)
from kehu.receivables.models import (
    AgingSnapshot,
    CreditNote,
    Invoice,
    Payment,
    PaymentAllocation,
    WriteOff,
)

LEDGER_TABLES = (Invoice, Payment, PaymentAllocation, CreditNote, WriteOff)
# Groupings whose rows depend on who owns a customer, its region or a rep's team.
CUSTOMER_GROUPINGS = {"customer", "rep", "region", "team", "pyramid"}


def _stamp_value(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value if value is None or isinstance(value, int) else str(value)


def aging_ledger_stamp(*, group_by: str = "company") -> dict[str, Any]:
    """What the ledger looks like now, in one statement: equal stamps, equal aging."""
    parts = []
    names = []
    for model in LEDGER_TABLES:
        table = model._meta.db_table
        parts += [f"(SELECT MAX(id) FROM {table})", f"(SELECT COUNT(*) FROM {table})"]
        names += [f"{table}.max_id", f"{table}.count"]
    for model in (Invoice, WriteOff):
        table = model._meta.db_table
        parts.append(f"(SELECT MAX(updated_at) FROM {table})")
        names.append(f"{table}.updated_at")
    if group_by in CUSTOMER_GROUPINGS:
        for table in (Customer._meta.db_table, User._meta.db_table):
            parts += [f"(SELECT MAX(id) FROM {table})", f"(SELECT COUNT(*) FROM {table})"]
            names += [f"{table}.max_id", f"{table}.count"]
        parts.append(f"(SELECT MAX(updated_at) FROM {Customer._meta.db_table})")
        names.append(f"{Customer._meta.db_table}.updated_at")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}")
        values = cursor.fetchone()
    stamp: dict[str, Any] = {
        name: _stamp_value(value) for name, value in zip(names, values, strict=True)
    }
    stamp["buckets"] = list(aging_bucket_edges())
    if group_by == "pyramid":
        from kehu.value.selectors import value_snapshot_latest

        snapshot = value_snapshot_latest()
        stamp["value_snapshot"] = snapshot.pk if snapshot else None
    return stamp


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _snapshot_rows(report: AgingReport) -> list[dict[str, Any]]:
    return [
        {
            "key": row.key,
            "amounts": [_cents(amount) for amount in row.amounts],
            "invoice_count": row.invoice_count,
        }
        for row in report.rows
    ]


def aging_snapshot_compute(
    *, as_of: dt.date, group_by: str = "company", stamp: dict[str, Any] | None = None
) -> AgingSnapshot:
    """Compute the company's aging as of `as_of` by `group_by` and store it (replacing the
    snapshot of that date and grouping). `stamp`: the ledger stamp read just before, when the
    caller has it; it must not be read after the aging."""
    if stamp is None:
        stamp = aging_ledger_stamp(group_by=group_by)
    # Everything the company holds, as a finance controller sees it (not saved).
    everyone = User(username="aging-snapshot", role=Role.FINANCE, is_active=True)
    started = time.perf_counter()
    report = aging_as_of(user=everyone, as_of=as_of, group_by=group_by)
    seconds = time.perf_counter() - started
    values = {
        "computed_at": timezone.now(),
        "ledger_stamp": stamp,
        "bucket_keys": [bucket.key for bucket in report.buckets],
        "value_period": report.snapshot_period or "",
        "rows": _snapshot_rows(report),
        "seconds": round(seconds, 3),
    }
    try:
        with transaction.atomic():
            snapshot, _created = AgingSnapshot.objects.update_or_create(
                as_of=as_of, group_by=group_by, defaults=values
            )
    except IntegrityError:  # pragma: no cover - two requests stored it at once: keep theirs
        snapshot = AgingSnapshot.objects.get(as_of=as_of, group_by=group_by)
    return snapshot


def aging_report_from_snapshot(snapshot: AgingSnapshot) -> AgingReport:
    """The stored aging as a report, with the groups' current names (one query)."""
    buckets = aging_buckets()
    rows = []
    for item in snapshot.rows:
        key = item["key"]
        rows.append(
            AgingRow(
                key=key,
                label="",
                amounts=[(Decimal(cents) / 100).quantize(CENT) for cents in item["amounts"]],
                invoice_count=int(item["invoice_count"]),
            )
        )
    labels = _group_labels(snapshot.group_by, [row.key for row in rows if row.key is not None])
    for row in rows:
        row.label = labels.get(row.key, str(row.key)) if row.key is not None else _("(none)")
    rows.sort(key=lambda row: (-row.total, row.label))
    return AgingReport(
        as_of=snapshot.as_of,
        group_by=snapshot.group_by,
        buckets=buckets,
        rows=rows,
        snapshot_period=snapshot.value_period or None,
        computed_at=snapshot.computed_at,
    )


def sees_whole_company(user: User) -> bool:
    """True when `user` sees every customer (finance, top management, administrators)."""
    return not customers_visible_to(user).query.where


def aging_report_for(*, user: User, as_of: dt.date, group_by: str = "company") -> AgingReport:
    """The aging a page shows `user`: the company's snapshot when they see the whole company
    (computed and stored first when missing or stale), else the live computation."""
    if not sees_whole_company(user):
        return aging_as_of(user=user, as_of=as_of, group_by=group_by)
    stamp = aging_ledger_stamp(group_by=group_by)
    snapshot = AgingSnapshot.objects.filter(as_of=as_of, group_by=group_by).first()
    source = "snapshot"
    if snapshot is None or snapshot.ledger_stamp != stamp:
        snapshot = aging_snapshot_compute(as_of=as_of, group_by=group_by, stamp=stamp)
        source = "computed"
    report = aging_report_from_snapshot(snapshot)
    report.source = source
    return report


def aging_snapshots_refresh(
    *, as_of: dt.date | None = None, group_bys: tuple[str, ...] = ("company",)
) -> list[AgingSnapshot]:
    """The nightly refresh: compute the snapshots of `as_of` (default today) that are missing
    or stale, and delete every stale snapshot (a stale one never becomes fresh again)."""
    as_of = as_of or timezone.localdate()
    stamps: dict[str, dict[str, Any]] = {}

    def stamp_of(group_by: str) -> dict[str, Any]:
        if group_by not in stamps:
            stamps[group_by] = aging_ledger_stamp(group_by=group_by)
        return stamps[group_by]

    stale = [
        snapshot.pk
        for snapshot in AgingSnapshot.objects.only("pk", "group_by", "ledger_stamp")
        if snapshot.ledger_stamp != stamp_of(snapshot.group_by)
    ]
    AgingSnapshot.objects.filter(pk__in=stale).delete()
    fresh = []
    for group_by in group_bys:
        snapshot = AgingSnapshot.objects.filter(as_of=as_of, group_by=group_by).first()
        if snapshot is None or snapshot.ledger_stamp != stamp_of(group_by):
            snapshot = aging_snapshot_compute(
                as_of=as_of, group_by=group_by, stamp=stamp_of(group_by)
            )
        fresh.append(snapshot)
    return fresh
