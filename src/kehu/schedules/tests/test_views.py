"""/settings/schedules/: who sees it, who changes it, the jobs, the recent task results (filters,
sort, pages, export), run now, switch on or off, a new time."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import polars as pl
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kehu.schedules.models import Schedule, SchedulerHeartbeat
from kehu.schedules.tests.conftest import ECHO

VALUE_TASK = "kehu.value.tasks.value_snapshot_nightly"


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def _result(task_path: str, status: str, *, minutes_ago: int, seconds: float | None = None):
    enqueued = timezone.now() - dt.timedelta(minutes=minutes_ago)
    started = enqueued + dt.timedelta(seconds=1) if seconds is not None else None
    result = DBTaskResult.objects.create(
        id=uuid.uuid4(),
        status=status,
        args_kwargs={"args": [], "kwargs": {}},
        task_path=task_path,
        backend_name="default",
        run_after=enqueued,
        started_at=started,
        finished_at=started + dt.timedelta(seconds=seconds)
        if started is not None and seconds is not None
        else None,
        exception_class_path="builtins.RuntimeError" if status == "FAILED" else "",
        traceback="RuntimeError: boom" if status == "FAILED" else "",
    )
    # enqueued_at is auto_now_add: set it afterwards.
    DBTaskResult.objects.filter(pk=result.pk).update(enqueued_at=enqueued)
    result.refresh_from_db()
    return result


@pytest.fixture
def results(db):
    return {
        "value_ok": _result(VALUE_TASK, "SUCCESSFUL", minutes_ago=30, seconds=42.5),
        "value_failed": _result(VALUE_TASK, "FAILED", minutes_ago=20, seconds=3.0),
        "echo_ready": _result(ECHO, "READY", minutes_ago=10),
    }


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("rep", 403),
        ("customer_manager", 403),
        ("direct_sales_manager", 403),
        ("regional_manager", 403),
        ("finance", 200),
        ("top_management", 200),
        ("administrator", 200),
    ],
)
def test_who_sees_the_schedules(client, organisation, role, status):
    client.force_login(getattr(organisation, role))

    assert client.get(reverse("schedules:list")).status_code == status
    assert client.get(reverse("schedules:results_export")).status_code == status


@pytest.mark.parametrize(
    ("role", "status"),
    [("rep", 403), ("finance", 403), ("top_management", 302), ("administrator", 302)],
)
def test_who_runs_a_job_now(client, organisation, role, status, database_queue):
    schedule = Schedule.objects.get(key="value-snapshot-nightly")
    client.force_login(getattr(organisation, role))

    response = client.post(reverse("schedules:run_now", args=[schedule.pk]))

    assert response.status_code == status
    assert DBTaskResult.objects.count() == (1 if status == 302 else 0)


def test_the_page_lists_the_default_jobs_with_their_last_result(client, organisation, results):
    schedule = Schedule.objects.get(key="value-snapshot-nightly")
    Schedule.objects.filter(pk=schedule.pk).update(
        last_result_id=str(results["value_ok"].pk), last_enqueued_at=timezone.now()
    )
    client.force_login(organisation.finance)

    page = client.get(reverse("schedules:list"))

    lines = {line.schedule.key: line for line in page.context["lines"]}
    assert list(lines) == [
        "credit-ratings-quarterly",
        "credit-reviews-nightly",
        "receivables-aging-nightly",
        "value-snapshot-nightly",
    ]
    value = lines["value-snapshot-nightly"]
    assert value.last_result == results["value_ok"]
    assert value.last_seconds == 42.5
    assert str(value.label) == "Customer value snapshot"
    local = timezone.localtime(value.next_run_at)
    assert (local.hour, local.minute) == (2, 0)  # worked out before the first tick
    quarterly = timezone.localtime(lines["credit-ratings-quarterly"].next_run_at)
    assert (quarterly.day, quarterly.month % 3, quarterly.hour) == (1, 1, 4)
    html = page.content.decode()
    assert "Not running" in html  # no scheduler has ticked
    assert "Run now" not in html  # finance reads, does not change
    assert page.context["may_manage"] is False


def test_a_ticking_scheduler_shows_as_running(client, organisation):
    now = timezone.now()
    SchedulerHeartbeat.objects.create(worker_id="w1", started_at=now, last_tick_at=now)
    SchedulerHeartbeat.objects.create(
        worker_id="w0", started_at=now, last_tick_at=now - dt.timedelta(minutes=10)
    )
    client.force_login(organisation.administrator)

    page = client.get(reverse("schedules:list"))

    assert [beat.worker_id for beat in page.context["alive"]] == ["w1"]
    html = page.content.decode()
    assert "1 worker ticking" in html
    assert "Run now" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["echo_ready", "value_failed", "value_ok"]),
        ({"status": "failed"}, ["value_failed"]),
        ({"q": "jobs_for_tests"}, ["echo_ready"]),
        ({"sort": "duration"}, ["value_failed", "value_ok", "echo_ready"]),
        ({"sort": "-duration"}, ["value_ok", "value_failed", "echo_ready"]),
        ({"sort": "enqueued"}, ["value_ok", "value_failed", "echo_ready"]),
    ],
)
def test_recent_results_filter_and_sort(client, organisation, results, query, expected):
    client.force_login(organisation.finance)

    page = client.get(reverse("schedules:list"), query)

    names = {result.pk: name for name, result in results.items()}
    assert [names[row["result"].pk] for row in page.context["result_rows"]] == expected


def test_result_rows_name_the_job_and_the_error(client, organisation, results):
    client.force_login(organisation.finance)

    page = client.get(reverse("schedules:list"), {"status": "FAILED"})

    row = page.context["result_rows"][0]
    assert (str(row["job"]), row["status_label"], row["error"]) == (
        "Customer value snapshot",
        "Failed",
        "RuntimeError",
    )
    assert row["seconds"] == 3.0


def test_a_bad_filter_is_named(client, organisation, results):
    client.force_login(organisation.finance)

    page = client.get(reverse("schedules:list"), {"status": "lost", "sort": "nope"})

    html = page.content.decode()
    assert "Unknown status LOST" in html
    assert "Unknown sort nope" in html
    assert len(page.context["result_rows"]) == 3


def test_the_export_holds_the_filtered_results(client, organisation, results):
    client.force_login(organisation.finance)

    response = client.get(reverse("schedules:results_export"), {"q": "value"})

    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    rows = pl.read_excel(io.BytesIO(content), sheet_id=1, has_header=False).rows()
    assert rows[0][:3] == ("Job", "Task", "Status")
    assert [(row[0], row[2]) for row in rows[1:]] == [
        ("Customer value snapshot", "Failed"),
        ("Customer value snapshot", "Succeeded"),
    ]
    assert float(rows[2][6]) == 42.5


def test_the_empty_state_without_results(client, organisation):
    client.force_login(organisation.finance)

    html = client.get(reverse("schedules:list")).content.decode()

    assert "No task has run yet" in html


def test_run_now_queues_and_says_so(client, organisation, database_queue):
    schedule = Schedule.objects.get(key="credit-reviews-nightly")
    client.force_login(organisation.administrator)

    page = client.post(reverse("schedules:run_now", args=[schedule.pk]), follow=True)

    queued = DBTaskResult.objects.get()
    assert queued.task_path == "kehu.schedules.tasks.credit_reviews_scan_nightly"
    assert "Credit re-survey scan is queued" in page.content.decode()
    schedule.refresh_from_db()
    assert schedule.last_result_id == str(queued.pk)
    assert schedule.last_enqueued_by == organisation.administrator


def test_switching_a_job_off_and_on(client, organisation):
    schedule = Schedule.objects.get(key="value-snapshot-nightly")
    client.force_login(organisation.top_management)

    off = client.post(
        reverse("schedules:enable", args=[schedule.pk]), {"is_enabled": "0"}, follow=True
    )
    schedule.refresh_from_db()
    assert (schedule.is_enabled, schedule.next_run_at) == (False, None)
    assert "Customer value snapshot is switched off." in off.content.decode()

    client.post(reverse("schedules:enable", args=[schedule.pk]), {"is_enabled": "1"})
    schedule.refresh_from_db()
    assert schedule.is_enabled
    assert schedule.next_run_at is not None


def test_a_bad_time_is_refused_with_a_message(client, organisation):
    schedule = Schedule.objects.get(key="value-snapshot-nightly")
    client.force_login(organisation.administrator)

    page = client.post(
        reverse("schedules:cron", args=[schedule.pk]), {"cron": "at night"}, follow=True
    )

    assert "is not a cron expression" in page.content.decode()
    schedule.refresh_from_db()
    assert schedule.cron == "0 2 * * *"

    client.post(reverse("schedules:cron", args=[schedule.pk]), {"cron": "30 2 * * *"})
    schedule.refresh_from_db()
    assert schedule.cron == "30 2 * * *"


def test_an_unknown_job_is_404(client, organisation):
    client.force_login(organisation.administrator)

    assert client.post(reverse("schedules:run_now", args=[99999])).status_code == 404


def test_changes_need_post(client, organisation):
    schedule = Schedule.objects.get(key="value-snapshot-nightly")
    client.force_login(organisation.administrator)

    assert client.get(reverse("schedules:run_now", args=[schedule.pk])).status_code == 405


def test_the_navigation_shows_schedules_to_finance_only_among_these(client, organisation):
    client.force_login(organisation.finance)
    finance_page = client.get(reverse("web:home")).content.decode()
    client.force_login(organisation.rep)
    rep_page = client.get(reverse("web:home")).content.decode()

    assert reverse("schedules:list") in finance_page
    assert reverse("schedules:list") not in rep_page
