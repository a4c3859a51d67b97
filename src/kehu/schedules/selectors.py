"""Reads of the scheduler: the jobs with their last and next run, the schedulers seen lately,
and the recent task results of the queue (django-tasks-db). Finance, top management and
administrators see them; everybody else is refused."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import DurationField, ExpressionWrapper, F, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django_tasks_db.models import DBTaskResult

from kehu.accounts.models import User
from kehu.core.errors import NotFound, PermissionDenied, ValidationFailed
from kehu.schedules.cron import cron_next
from kehu.schedules.jobs import job_description, job_label
from kehu.schedules.models import Schedule, SchedulerHeartbeat

# A scheduler ticks every 30 seconds; one not seen for this long is taken as stopped.
ALIVE_WITHIN = dt.timedelta(minutes=2)
TASK_STATUSES = ("READY", "RUNNING", "SUCCESSFUL", "FAILED")
RESULT_SORTS = {
    "enqueued": "enqueued_at",
    "started": "started_at",
    "finished": "finished_at",
    "duration": "duration",
    "task": "task_path",
    "status": "status",
}


def may_see_schedules(user: User) -> bool:
    return bool(user.sees_all)


def _check_reader(user: User) -> None:
    if not may_see_schedules(user):
        raise PermissionDenied(
            "only finance, top management and administrators see the schedules",
            detail={"role": user.role},
        )


@dataclass(frozen=True)
class ScheduleLine:
    schedule: Schedule
    label: str | Promise
    description: str | Promise
    next_run_at: dt.datetime | None  # worked out from now when the scheduler has not yet
    last_result: DBTaskResult | None

    @property
    def last_seconds(self) -> float | None:
        return task_result_seconds(self.last_result) if self.last_result else None


def task_result_seconds(result: DBTaskResult) -> float | None:
    if result.started_at is None or result.finished_at is None:
        return None
    return round((result.finished_at - result.started_at).total_seconds(), 3)


def schedule_lines(*, user: User, now: dt.datetime | None = None) -> list[ScheduleLine]:
    """Every job, with its next time and its last task result (one query for those)."""
    _check_reader(user)
    now = now or timezone.now()
    schedules = list(Schedule.objects.select_related("last_enqueued_by").order_by("key"))
    ids = [schedule.last_result_id for schedule in schedules if schedule.last_result_id]
    results = {str(result.id): result for result in DBTaskResult.objects.filter(id__in=ids)}
    lines = []
    for schedule in schedules:
        following = schedule.next_run_at
        if following is None and schedule.is_enabled:
            try:
                following = cron_next(schedule.cron, after=now)
            except ValidationFailed:
                following = None
        lines.append(
            ScheduleLine(
                schedule=schedule,
                label=job_label(schedule.key),
                description=job_description(schedule.key),
                next_run_at=following,
                last_result=results.get(schedule.last_result_id),
            )
        )
    return lines


def schedule_get(*, user: User, schedule_id: int) -> Schedule:
    _check_reader(user)
    schedule = Schedule.objects.filter(pk=schedule_id).first()
    if schedule is None:
        raise NotFound(f"schedule {schedule_id} does not exist")
    return schedule


def schedulers_alive(*, now: dt.datetime | None = None) -> list[SchedulerHeartbeat]:
    """The schedulers that ticked within the last two minutes, the latest first."""
    now = now or timezone.now()
    return list(SchedulerHeartbeat.objects.filter(last_tick_at__gte=now - ALIVE_WITHIN))


def scheduler_last_tick() -> dt.datetime | None:
    latest = SchedulerHeartbeat.objects.order_by("-last_tick_at").first()
    return latest.last_tick_at if latest else None


def task_results(
    *, user: User, status: str = "", search: str = "", sort: str = "-enqueued"
) -> QuerySet[DBTaskResult]:
    """The queue's task results (of every job), filtered by status and by a search on the
    task's name, sorted by one of RESULT_SORTS (a leading "-" for descending)."""
    _check_reader(user)
    results = DBTaskResult.objects.annotate(
        duration=ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    )
    if status:
        results = results.filter(status=status)
    if search:
        results = results.filter(task_path__icontains=search)
    key = sort.removeprefix("-")
    field = RESULT_SORTS.get(key, "enqueued_at")
    ordering: Any = (
        F(field).desc(nulls_last=True) if sort.startswith("-") else F(field).asc(nulls_last=True)
    )
    return results.order_by(ordering, "-enqueued_at")


def task_results_waiting(*, task_path: str) -> QuerySet[DBTaskResult]:
    """Queued or running results of one task, oldest first: what the worker has yet to do."""
    return DBTaskResult.objects.filter(
        task_path=task_path, status__in=("READY", "RUNNING")
    ).order_by("enqueued_at")
