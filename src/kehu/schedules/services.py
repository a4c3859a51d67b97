"""Writes of the scheduler: the tick that queues due jobs, running a job now, switching a job
on or off, changing its time.

Exactly once: a tick claims a due job with a conditional UPDATE (`… WHERE id = ? AND
next_run_at = <the value it read>`) that moves `next_run_at` to the job's next time, and queues
the task in the same transaction. Two schedulers ticking at the same moment both read the job
as due, but only one UPDATE matches: on PostgreSQL the second waits for the first's row lock
and then finds `next_run_at` changed; on SQLite write transactions take the database lock at
BEGIN (transaction_mode IMMEDIATE), so they run one after the other. The task row of
django-tasks-db is written in the claiming transaction, so a job is never claimed without
being queued, nor queued twice.

Missed times (no scheduler ran for days) are not replayed one by one: the job runs once, and
its next time is worked out from now.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.base import Task

from kehu.accounts.models import Role, User
from kehu.core.errors import PermissionDenied, ValidationFailed
from kehu.schedules.cron import cron_check, cron_next
from kehu.schedules.models import Schedule, SchedulerHeartbeat

logger = logging.getLogger(__name__)

MANAGE_ROLES = frozenset({Role.ADMINISTRATOR, Role.TOP_MANAGEMENT})


def may_manage_schedules(user: User) -> bool:
    """Administrators and top management run jobs now, switch them and change their time."""
    return bool(user.is_superuser) or user.role in MANAGE_ROLES


def _check_manager(actor: User) -> None:
    if not may_manage_schedules(actor):
        raise PermissionDenied(
            "only an administrator or top management may change the schedules",
            detail={"role": actor.role},
        )


def schedule_task(schedule: Schedule) -> Task:  # type: ignore[type-arg]
    """The django-tasks Task a schedule names; ValidationFailed when it names none."""
    try:
        task = import_string(schedule.task_path)
    except ImportError as error:
        raise ValidationFailed(
            f"schedule {schedule.key}: task {schedule.task_path!r} cannot be imported",
            detail={"field": "task_path", "value": schedule.task_path},
        ) from error
    if not isinstance(task, Task):
        raise ValidationFailed(
            f"schedule {schedule.key}: {schedule.task_path!r} is not a background task",
            detail={"field": "task_path", "value": schedule.task_path},
        )
    return task


@dataclass
class TickReport:
    at: dt.datetime
    queued: dict[str, str] = field(default_factory=dict)  # schedule key → task result id
    planned: dict[str, dt.datetime] = field(default_factory=dict)  # first next times set
    errors: dict[str, str] = field(default_factory=dict)


def _due_schedules(now: dt.datetime) -> list[Schedule]:
    return list(
        Schedule.objects.filter(is_enabled=True, next_run_at__lte=now).order_by("next_run_at", "id")
    )


def _plan(now: dt.datetime, report: TickReport) -> None:
    """Give every enabled job without a next time (new, or just enabled) its next time."""
    for schedule in Schedule.objects.filter(is_enabled=True, next_run_at__isnull=True):
        try:
            following = cron_next(schedule.cron, after=now)
        except ValidationFailed as error:
            report.errors[schedule.key] = error.message
            continue
        updated = Schedule.objects.filter(
            pk=schedule.pk, is_enabled=True, next_run_at__isnull=True
        ).update(next_run_at=following)
        if updated:
            report.planned[schedule.key] = following


def _claim_and_enqueue(schedule: Schedule, now: dt.datetime) -> str | None:
    """Queue `schedule`'s task if this caller is the one that moves its `next_run_at` on from
    the value it read; the task result's id, or None when another tick got there first."""
    following = cron_next(schedule.cron, after=now)
    task = schedule_task(schedule)
    with transaction.atomic():
        claimed = Schedule.objects.filter(
            pk=schedule.pk, is_enabled=True, next_run_at=schedule.next_run_at
        ).update(next_run_at=following, last_enqueued_at=now, last_enqueued_by=None)
        if not claimed:
            return None
        result = task.enqueue(**schedule.arguments)
        Schedule.objects.filter(pk=schedule.pk).update(last_result_id=str(result.id))
    return str(result.id)


def schedules_tick(*, now: dt.datetime | None = None, worker_id: str = "") -> TickReport:
    """Queue every enabled job whose next time has come, each exactly once however many
    schedulers tick at the same moment, and move its next time on. A job whose task cannot
    be imported or whose time cannot be read is skipped and named in the report's errors."""
    now = now or timezone.now()
    report = TickReport(at=now)
    _plan(now, report)
    for schedule in _due_schedules(now):
        try:
            result_id = _claim_and_enqueue(schedule, now)
        except ValidationFailed as error:
            logger.error("schedule %s not queued: %s", schedule.key, error.message)
            report.errors[schedule.key] = error.message
            continue
        if result_id is not None:
            report.queued[schedule.key] = result_id
    if worker_id:
        scheduler_heartbeat_touch(worker_id=worker_id, now=now)
    return report


def scheduler_heartbeat_touch(
    *, worker_id: str, now: dt.datetime | None = None, hostname: str = "", pid: int | None = None
) -> None:
    """Record that the scheduler `worker_id` ticked at `now`."""
    now = now or timezone.now()
    updated = SchedulerHeartbeat.objects.filter(worker_id=worker_id).update(
        last_tick_at=now, ticks=F("ticks") + 1
    )
    if not updated:
        SchedulerHeartbeat.objects.create(
            worker_id=worker_id,
            hostname=hostname[:255],
            pid=pid,
            started_at=now,
            last_tick_at=now,
            ticks=1,
        )


def scheduler_heartbeat_remove(*, worker_id: str) -> None:
    """A scheduler that stops cleanly says so."""
    SchedulerHeartbeat.objects.filter(worker_id=worker_id).delete()


@transaction.atomic
def schedule_run_now(*, schedule: Schedule, actor: User) -> str:
    """Queue `schedule`'s task now, whatever its next time (which does not change). Returns
    the task result's id."""
    _check_manager(actor)
    task = schedule_task(schedule)
    result = task.enqueue(**schedule.arguments)
    Schedule.objects.filter(pk=schedule.pk).update(
        last_enqueued_at=timezone.now(), last_enqueued_by=actor, last_result_id=str(result.id)
    )
    schedule.refresh_from_db()
    return str(result.id)


@transaction.atomic
def schedule_enable(*, schedule: Schedule, is_enabled: bool, actor: User) -> Schedule:
    """Switch a job on (its next time worked out from now) or off (no next time)."""
    _check_manager(actor)
    locked = Schedule.objects.select_for_update().get(pk=schedule.pk)
    locked.is_enabled = is_enabled
    locked.next_run_at = cron_next(locked.cron, after=timezone.now()) if is_enabled else None
    locked.save(update_fields=["is_enabled", "next_run_at", "changed_at"])
    return locked


@transaction.atomic
def schedule_cron_change(*, schedule: Schedule, cron: str, actor: User) -> Schedule:
    """Give a job another time (a five-field cron expression in the app's time zone)."""
    _check_manager(actor)
    expression = cron_check(cron)
    locked = Schedule.objects.select_for_update().get(pk=schedule.pk)
    locked.cron = expression
    if locked.is_enabled:
        locked.next_run_at = cron_next(expression, after=timezone.now())
    locked.save(update_fields=["cron", "next_run_at", "changed_at"])
    return locked
