"""Background tasks of credit (django-tasks).

`credit_ratings_quarterly` re-rates every customer from the last closed quarter's data
(domain §5.2). Kehu has no clock of its own: the operator's scheduler (cron, a systemd timer)
runs it early in every quarter, either as `kehu credit rate` or by enqueueing this task for
the database worker (`credit_ratings_quarterly.enqueue()`, then `manage.py db_worker`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django_tasks import task

from kehu.credit.services.ratings import credit_ratings_run_period


@task()
def credit_ratings_quarterly(as_of: str | None = None) -> dict[str, Any]:
    """Rate every customer as of `as_of` (YYYY-MM-DD; default: the end of the last quarter).
    Customers already rated by the scheduled run of that quarter are skipped, so a run that
    stopped half-way is finished by running it again. Returns the run's summary."""
    date = dt.date.fromisoformat(as_of) if as_of else None
    return credit_ratings_run_period(as_of=date, actor=None).as_dict()
