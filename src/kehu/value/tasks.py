"""Background tasks of the value part (django-tasks).

`value_snapshot_nightly` recomputes the value snapshot of the last closed quarter (or of a
given period) and supersedes the older snapshot of the same period, engine and measure (see
services_refresh for the retention rule). The scheduler of kehu.schedules enqueues it every
night at 02:00 by default; `kehu worker` runs the scheduler and the queue.
"""

from __future__ import annotations

from typing import Any

from django_tasks import task

from kehu.accounts.models import User
from kehu.value.services_refresh import value_snapshot_refresh


@task()
def value_snapshot_nightly(
    period: str | None = None,
    engine: str | None = None,
    actor_id: int | None = None,
    trigger: str = "schedule",
) -> dict[str, Any]:
    """Compute the value snapshot of `period` (2025Q4, 2025, 2025-11; default: the last closed
    quarter) on `engine` (default duckdb). `actor_id` is the person who asked for the run from
    a page (None: the schedule). Returns the snapshot's summary; a failure raises, so the task
    result is `failed` with the reason and the snapshot row says `failed` too."""
    actor = User.objects.filter(pk=actor_id).first() if actor_id is not None else None
    snapshot = value_snapshot_refresh(
        period=period, engine=engine or "duckdb", actor=actor, trigger=trigger
    )
    return {
        "snapshot": snapshot.pk,
        "period": snapshot.period,
        "engine": snapshot.engine,
        "measure": snapshot.measure,
        "status": snapshot.status,
        "customers": snapshot.customer_count,
        "active": snapshot.active_count,
        "seconds": snapshot.seconds,
        "superseded": snapshot.parameters.get("superseded", []),
    }
