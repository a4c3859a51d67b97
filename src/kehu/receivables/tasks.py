"""Background tasks of receivables (django-tasks).

`aging_snapshots_nightly` refreshes the company's aging snapshot 账龄快照 of the day, so that
the first finance user of the morning reads it instead of computing it. Kehu has no clock of its
own: the operator's scheduler (cron, a systemd timer) runs it every night, either as
`kehu receivables aging-snapshot` or by enqueueing this task for the database worker
(`aging_snapshots_nightly.enqueue()`, then `manage.py db_worker`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django_tasks import task

from kehu.receivables.aging_snapshots import aging_snapshots_refresh


@task()
def aging_snapshots_nightly(
    as_of: str | None = None, group_bys: list[str] | None = None
) -> dict[str, Any]:
    """Compute the snapshots as of `as_of` (YYYY-MM-DD; default today) of `group_bys` (default:
    the company) when missing or stale, and delete stale ones. Returns each one's total."""
    date = dt.date.fromisoformat(as_of) if as_of else None
    snapshots = aging_snapshots_refresh(as_of=date, group_bys=tuple(group_bys or ["company"]))
    totals = {}
    for snapshot in snapshots:
        cents = sum(sum(row["amounts"]) for row in snapshot.rows)
        totals[snapshot.group_by] = f"{cents // 100}.{cents % 100:02d}"
    return {"as_of": snapshots[0].as_of.isoformat() if snapshots else as_of, "snapshots": totals}
