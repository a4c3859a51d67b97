"""Reads of the value part. Per-customer rows are filtered by what the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet

from kehu.accounts.models import User
from kehu.core.errors import NotFound
from kehu.customers.selectors import related_visible_to
from kehu.value.models import CustomerValue, SnapshotStatus, ValueSettings, ValueSnapshot
from kehu.value.settings import DEFAULTS, merge


def value_settings_current() -> dict[str, Any]:
    """The value settings in force: the newest stored version over the defaults."""
    latest = ValueSettings.objects.order_by("-id").first()
    return merge(DEFAULTS, latest.values) if latest else merge(DEFAULTS, {})


def value_settings_history() -> QuerySet[ValueSettings]:
    return ValueSettings.objects.select_related("changed_by").order_by("-id")


def value_snapshot_latest(*, period: str | None = None) -> ValueSnapshot | None:
    """The newest finished snapshot (of `period`, when given); None when there is none."""
    snapshots = ValueSnapshot.objects.filter(status__in=(SnapshotStatus.DONE, SnapshotStatus.EMPTY))
    if period is not None:
        snapshots = snapshots.filter(period=period)
    return snapshots.order_by("-started_at", "-id").first()


def value_snapshot_get(*, snapshot_id: int) -> ValueSnapshot:
    snapshot = ValueSnapshot.objects.filter(pk=snapshot_id).first()
    if snapshot is None:
        raise NotFound(f"value snapshot {snapshot_id} does not exist")
    return snapshot


def customer_values(*, user: User, snapshot: ValueSnapshot) -> QuerySet[CustomerValue]:
    """The snapshot's rows of the customers `user` may see, best rank first."""
    return related_visible_to(
        user, CustomerValue.objects.filter(snapshot=snapshot).select_related("customer")
    ).order_by("rank", "customer_id")


def customer_values_filtered(
    *,
    user: User,
    snapshot: ValueSnapshot,
    region_id: int | None = None,
    owner_id: int | None = None,
    kind: str = "",
    search: str = "",
) -> QuerySet[CustomerValue]:
    """`customer_values` narrowed by the report filters: the customer's region (the org unit
    itself), owner rep, kind, and a search on code or name. Unordered: callers sort."""
    rows = related_visible_to(user, CustomerValue.objects.filter(snapshot=snapshot))
    if region_id:
        rows = rows.filter(customer__region_id=region_id)
    if owner_id:
        rows = rows.filter(customer__owner_id=owner_id)
    if kind:
        rows = rows.filter(customer__kind=kind)
    if search:
        rows = rows.filter(
            Q(customer__code__icontains=search) | Q(customer__name__icontains=search)
        )
    return rows


RUN_SORTS = {
    "started": "started_at",
    "finished": "finished_at",
    "seconds": "seconds",
    "period": "period_end",
    "customers": "customer_count",
    "status": "status",
    "engine": "engine",
}


def value_snapshot_runs(
    *,
    status: str = "",
    period: str = "",
    engine: str = "",
    search: str = "",
    sort: str = "-started",
) -> QuerySet[ValueSnapshot]:
    """Every snapshot run (superseded and failed ones too: the run history of /value/runs/),
    filtered, searched on the period, the message and who made it, sorted by a RUN_SORTS key
    (a leading "-" for descending). Company-wide figures only: no customer is named."""
    runs = ValueSnapshot.objects.select_related("created_by")
    if status:
        runs = runs.filter(status=status)
    if period:
        runs = runs.filter(period=period)
    if engine:
        runs = runs.filter(engine=engine)
    if search:
        runs = runs.filter(
            Q(period__icontains=search)
            | Q(message__icontains=search)
            | Q(created_by__username__icontains=search)
            | Q(created_by__display_name__icontains=search)
        )
    field = RUN_SORTS.get(sort.removeprefix("-"), "started_at")
    if sort.startswith("-"):
        return runs.order_by(F(field).desc(nulls_last=True), "-id")
    return runs.order_by(F(field).asc(nulls_first=True), "id")
