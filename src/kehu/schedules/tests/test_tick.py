"""The scheduler's tick: next times, due jobs queued exactly once (also when two schedulers tick
at the same moment), missed times, switching off, running now, and the default jobs."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from kehu.core.errors import PermissionDenied, ValidationFailed
from kehu.schedules import services
from kehu.schedules.models import Schedule, SchedulerHeartbeat
from kehu.schedules.services import (
    schedule_cron_change,
    schedule_enable,
    schedule_run_now,
    schedule_task,
    scheduler_heartbeat_remove,
    schedules_tick,
)
from kehu.schedules.tests.conftest import DATABASE_BACKEND, ECHO

UTC = dt.UTC
# 10:00 UTC on 5 March 2026 is 18:00 in Shanghai; the echo job runs at 02:00 Shanghai time,
# which is 18:00 UTC of the day before.
NOW = dt.datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
FIRST_RUN = dt.datetime(2026, 3, 5, 18, 0, tzinfo=UTC)


@pytest.fixture
def only_echo(echo_schedule, database_queue):
    Schedule.objects.exclude(pk=echo_schedule.pk).update(is_enabled=False)
    return echo_schedule


def test_the_default_jobs_are_there_and_name_real_tasks(db):
    schedules = {schedule.key: schedule for schedule in Schedule.objects.all()}

    assert {key: schedule.cron for key, schedule in schedules.items()} == {
        "receivables-aging-nightly": "30 1 * * *",
        "value-snapshot-nightly": "0 2 * * *",
        "credit-reviews-nightly": "0 3 * * *",
        "credit-ratings-quarterly": "0 4 1 1,4,7,10 *",
    }
    assert all(schedule.is_enabled for schedule in schedules.values())
    for schedule in schedules.values():
        assert schedule_task(schedule).module_path == schedule.task_path


def test_the_first_tick_works_out_the_next_time_and_queues_nothing(only_echo):
    report = schedules_tick(now=NOW)

    only_echo.refresh_from_db()
    assert only_echo.next_run_at == FIRST_RUN
    assert report.planned == {"echo": FIRST_RUN}
    assert report.queued == {}
    assert DBTaskResult.objects.count() == 0


def test_a_due_job_is_queued_once_and_its_next_time_moves_on(only_echo):
    schedules_tick(now=NOW)
    before = schedules_tick(now=FIRST_RUN - dt.timedelta(seconds=1))
    at_time = schedules_tick(now=FIRST_RUN + dt.timedelta(seconds=5))
    again = schedules_tick(now=FIRST_RUN + dt.timedelta(seconds=35))

    assert before.queued == {}
    assert list(at_time.queued) == ["echo"]
    assert again.queued == {}
    result = DBTaskResult.objects.get()
    assert result.task_path == ECHO
    assert result.args_kwargs == {"args": [], "kwargs": {"word": "hello"}}
    assert result.status == "READY"
    only_echo.refresh_from_db()
    assert only_echo.next_run_at == FIRST_RUN + dt.timedelta(days=1)
    assert only_echo.last_enqueued_at == FIRST_RUN + dt.timedelta(seconds=5)
    assert only_echo.last_enqueued_by is None
    assert only_echo.last_result_id == str(result.id) == at_time.queued["echo"]


def test_a_claim_made_from_a_stale_read_queues_nothing(only_echo):
    """Two schedulers read the job as due at the same moment; only the first claim queues it
    (the conditional UPDATE on next_run_at). On SQLite the ticks are sequential."""
    Schedule.objects.filter(pk=only_echo.pk).update(next_run_at=FIRST_RUN)
    first_read = Schedule.objects.get(pk=only_echo.pk)
    second_read = Schedule.objects.get(pk=only_echo.pk)
    now = FIRST_RUN + dt.timedelta(seconds=1)

    first = services._claim_and_enqueue(first_read, now)
    second = services._claim_and_enqueue(second_read, now)

    assert first is not None
    assert second is None
    assert DBTaskResult.objects.count() == 1


def test_missed_times_run_once_then_the_next_time_counts_from_now(only_echo):
    Schedule.objects.filter(pk=only_echo.pk).update(next_run_at=FIRST_RUN - dt.timedelta(days=3))

    report = schedules_tick(now=NOW)

    assert list(report.queued) == ["echo"]
    assert DBTaskResult.objects.count() == 1
    only_echo.refresh_from_db()
    assert only_echo.next_run_at == FIRST_RUN


def test_a_switched_off_job_is_not_queued(only_echo, organisation):
    Schedule.objects.filter(pk=only_echo.pk).update(next_run_at=FIRST_RUN)
    schedule_enable(schedule=only_echo, is_enabled=False, actor=organisation.administrator)

    report = schedules_tick(now=FIRST_RUN + dt.timedelta(hours=1))

    assert report.queued == {}
    only_echo.refresh_from_db()
    assert (only_echo.is_enabled, only_echo.next_run_at) == (False, None)
    assert DBTaskResult.objects.count() == 0


def test_switching_on_works_out_the_next_time(only_echo, organisation):
    Schedule.objects.filter(pk=only_echo.pk).update(is_enabled=False, next_run_at=None)

    schedule = schedule_enable(
        schedule=only_echo, is_enabled=True, actor=organisation.top_management
    )

    assert schedule.is_enabled
    assert schedule.next_run_at is not None
    assert (schedule.next_run_at.hour, schedule.next_run_at.minute) == (2, 0)


def test_a_job_whose_task_is_missing_is_named_and_the_others_still_run(only_echo):
    broken = Schedule.objects.create(
        key="broken", task_path="kehu.schedules.tests.jobs_for_tests.not_a_task", cron="0 2 * * *"
    )
    gone = Schedule.objects.create(key="gone", task_path="kehu.nowhere.task", cron="0 2 * * *")
    Schedule.objects.filter(pk__in=[only_echo.pk, broken.pk, gone.pk]).update(next_run_at=FIRST_RUN)

    report = schedules_tick(now=FIRST_RUN)

    assert list(report.queued) == ["echo"]
    assert "is not a background task" in report.errors["broken"]
    assert "cannot be imported" in report.errors["gone"]
    assert DBTaskResult.objects.count() == 1


def test_the_heartbeat_counts_ticks_and_goes_when_the_worker_stops(only_echo):
    schedules_tick(now=NOW, worker_id="w1")
    schedules_tick(now=NOW + dt.timedelta(seconds=30), worker_id="w1")

    beat = SchedulerHeartbeat.objects.get()
    assert (beat.worker_id, beat.ticks) == ("w1", 2)
    assert beat.started_at == NOW
    assert beat.last_tick_at == NOW + dt.timedelta(seconds=30)
    scheduler_heartbeat_remove(worker_id="w1")
    assert SchedulerHeartbeat.objects.count() == 0


def test_run_now_queues_the_job_and_keeps_its_next_time(only_echo, organisation):
    Schedule.objects.filter(pk=only_echo.pk).update(next_run_at=FIRST_RUN)

    result_id = schedule_run_now(schedule=only_echo, actor=organisation.administrator)

    only_echo.refresh_from_db()
    assert DBTaskResult.objects.get().pk.hex == result_id.replace("-", "")
    assert only_echo.last_result_id == result_id
    assert only_echo.last_enqueued_by == organisation.administrator
    assert only_echo.next_run_at == FIRST_RUN


@pytest.mark.parametrize("role", ["finance", "rep", "regional_manager"])
def test_only_administrators_and_top_management_change_schedules(only_echo, organisation, role):
    person = getattr(organisation, role)

    with pytest.raises(PermissionDenied):
        schedule_run_now(schedule=only_echo, actor=person)
    with pytest.raises(PermissionDenied):
        schedule_enable(schedule=only_echo, is_enabled=False, actor=person)
    with pytest.raises(PermissionDenied):
        schedule_cron_change(schedule=only_echo, cron="0 5 * * *", actor=person)

    only_echo.refresh_from_db()
    assert (only_echo.is_enabled, only_echo.cron) == (True, "0 2 * * *")
    assert DBTaskResult.objects.count() == 0


def test_a_new_time_is_checked_and_moves_the_next_run(only_echo, organisation):
    with pytest.raises(ValidationFailed, match="five fields"):
        schedule_cron_change(
            schedule=only_echo, cron="every night", actor=organisation.administrator
        )
    only_echo.refresh_from_db()
    assert only_echo.cron == "0 2 * * *"

    changed = schedule_cron_change(
        schedule=only_echo, cron="15 5 * * 1", actor=organisation.administrator
    )

    assert changed.cron == "15 5 * * 1"
    assert changed.next_run_at is not None
    local = changed.next_run_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert (local.weekday(), local.hour, local.minute) == (0, 5, 15)


def test_with_the_test_backend_the_job_runs_when_queued(echo_schedule, organisation):
    """The immediate backend (tests) runs the task inside the claim: the result is kept."""
    Schedule.objects.exclude(pk=echo_schedule.pk).update(is_enabled=False)
    Schedule.objects.filter(pk=echo_schedule.pk).update(next_run_at=FIRST_RUN)

    report = schedules_tick(now=FIRST_RUN)

    assert list(report.queued) == ["echo"]
    assert DBTaskResult.objects.count() == 0  # nothing waits in the database queue


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_schedulers_ticking_at_the_same_moment_queue_a_job_once(monkeypatch):
    threads = 6
    with override_settings(TASKS=DATABASE_BACKEND):
        Schedule.objects.update(is_enabled=False)
        echo = Schedule.objects.create(
            key="echo", task_path=ECHO, cron="0 2 * * *", next_run_at=FIRST_RUN
        )
        everyone_read = threading.Barrier(threads)
        original = services._due_schedules

        def due_then_wait(now):
            due = original(now)
            everyone_read.wait(timeout=30)  # each has read the job as due before any claims
            return due

        monkeypatch.setattr(services, "_due_schedules", due_then_wait)
        reports = []
        failures = []
        lock = threading.Lock()

        def tick(number: int) -> None:
            try:
                report = schedules_tick(
                    now=FIRST_RUN + dt.timedelta(seconds=1), worker_id=f"w{number}"
                )
                with lock:
                    reports.append(report)
            except Exception as error:  # pragma: no cover - shown by the assertion below
                with lock:
                    failures.append(error)
            finally:
                connections.close_all()

        workers = [threading.Thread(target=tick, args=(number,)) for number in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)

        assert failures == []
        assert len(reports) == threads
        assert sum(len(report.queued) for report in reports) == 1
        assert DBTaskResult.objects.filter(task_path=ECHO).count() == 1
        echo.refresh_from_db()
        assert echo.next_run_at == FIRST_RUN + dt.timedelta(days=1)
        assert SchedulerHeartbeat.objects.count() == threads
