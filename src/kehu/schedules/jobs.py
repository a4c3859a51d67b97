"""The jobs Kehu schedules out of the box, with the names people read. The rows themselves are
created by the migration 0001 (with the same keys, tasks and times); an operator may change the
time or switch a job off on the schedules page."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Job:
    key: str
    label: str | Promise
    description: str | Promise


JOBS: dict[str, Job] = {
    job.key: job
    for job in (
        Job(
            key="receivables-aging-nightly",
            label=_("Receivables aging snapshot"),
            description=_("The company's aging of the day, so the morning's pages read it."),
        ),
        Job(
            key="value-snapshot-nightly",
            label=_("Customer value snapshot"),
            description=_(
                "The value snapshot of the last closed quarter; the older run of the same "
                "period is superseded."
            ),
        ),
        Job(
            key="credit-reviews-nightly",
            label=_("Credit re-survey scan"),
            description=_("Opens re-survey tasks for overdue customers and lines about to end."),
        ),
        Job(
            key="credit-ratings-quarterly",
            label=_("Quarterly credit rating"),
            description=_("Re-rates every customer from the last closed quarter."),
        ),
    )
}


def job_label(key: str) -> str | Promise:
    job = JOBS.get(key)
    return job.label if job else key


def job_description(key: str) -> str | Promise:
    job = JOBS.get(key)
    return job.description if job else ""
