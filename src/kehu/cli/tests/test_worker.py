"""`kehu worker`: the scheduler ticks, queues the due jobs and the task worker runs them; it
stops after --once, and cleanly on Ctrl-C. Transactional: the scheduler ticks in a thread of
its own, with a database connection of its own."""

from __future__ import annotations

import datetime as dt
import os
import signal

import pytest
import typer
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from typer.testing import CliRunner

from kehu.cli import worker as worker_cli
from kehu.schedules import services as schedule_services
from kehu.schedules.models import Schedule, SchedulerHeartbeat

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
ECHO = "kehu.schedules.tests.jobs_for_tests.echo"


def _app() -> typer.Typer:
    app = typer.Typer()
    worker_cli.register(app)

    @app.callback()
    def main() -> None:  # a group, so that `worker` is a subcommand as in kehu.cli.main
        pass

    return app


def _due_echo() -> Schedule:
    Schedule.objects.update(is_enabled=False)
    return Schedule.objects.create(
        key="echo",
        task_path=ECHO,
        cron="0 2 * * *",
        arguments={"word": "hello"},
        next_run_at=timezone.now() - dt.timedelta(minutes=1),
    )


def test_the_worker_needs_the_database_queue(db):
    result = CliRunner().invoke(_app(), ["worker", "--once"])  # the test settings run at once

    assert result.exit_code == 1
    assert "needs django_tasks_db.DatabaseBackend" in result.output


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_once_queues_the_due_job_runs_it_and_stops():
    with override_settings(TASKS=DATABASE_BACKEND):
        echo = _due_echo()
        waiting = DBTaskResult.objects.create(  # queued earlier, by "run now" say
            args_kwargs={"args": [], "kwargs": {"word": "earlier"}},
            task_path=ECHO,
            backend_name="default",
            run_after=timezone.now() - dt.timedelta(minutes=5),
        )

        result = CliRunner().invoke(
            _app(), ["worker", "--once", "--tick-seconds", "0", "--interval", "0"]
        )

        assert result.exit_code == 0, result.output
        assert "stopped." in result.output
        results = {row.args_kwargs["kwargs"]["word"]: row for row in DBTaskResult.objects.all()}
        assert set(results) == {"hello", "earlier"}
        assert all(row.status == "SUCCESSFUL" for row in results.values())
        assert results["hello"].return_value == {"echo": {"word": "hello"}}
        assert results["earlier"].pk == waiting.pk
        echo.refresh_from_db()
        assert echo.last_result_id == str(results["hello"].pk)
        assert echo.next_run_at is not None
        assert echo.next_run_at > timezone.now()
        assert SchedulerHeartbeat.objects.count() == 0  # removed when it stopped


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ctrl_c_stops_the_scheduler_and_the_worker_cleanly(monkeypatch):
    before = signal.getsignal(signal.SIGINT)
    ticks = []

    def tick_then_interrupt(**kwargs):
        ticks.append(kwargs["worker_id"])
        os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C does, at the first tick
        return schedule_services.TickReport(at=timezone.now())

    monkeypatch.setattr(schedule_services, "schedules_tick", tick_then_interrupt)
    with override_settings(TASKS=DATABASE_BACKEND):
        result = CliRunner().invoke(
            _app(), ["worker", "--tick-seconds", "3600", "--interval", "3600"]
        )

    assert result.exit_code == 0, result.output
    assert "stopped." in result.output
    assert len(ticks) == 1
    assert SchedulerHeartbeat.objects.count() == 0
    assert signal.getsignal(signal.SIGINT) is before  # the previous handler is back
