"""Background tasks the schedules need that their own app does not offer as a task yet.

`credit_reviews_scan_nightly` wraps `credit_reviews_scan` (credit, the re-survey scan) so that
the scheduler can queue it like the other jobs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django_tasks import task

from kehu.credit.services.lines import credit_reviews_scan


@task()
def credit_reviews_scan_nightly(today: str | None = None) -> dict[str, Any]:
    """Open the re-survey tasks due `today` (YYYY-MM-DD; default: today in the app's time
    zone). Idempotent: a customer keeps one open task per reason. Returns the counts."""
    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    scan = credit_reviews_scan(today=day)
    return {
        "today": day.isoformat(),
        "opened_overdue": scan.opened_overdue,
        "opened_line_expiring": scan.opened_line_expiring,
        "already_open": scan.already_open,
    }
