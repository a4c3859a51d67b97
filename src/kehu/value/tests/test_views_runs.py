"""/value/runs/: the history of value snapshot runs (filters, search, sort, pages, chart, export)
and the form that queues a run. Snapshot rows are written directly: the page reads only them."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from kehu.value.models import SnapshotStatus, ValueSnapshot

UTC = dt.UTC
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
TASK_PATH = "kehu.value.tasks.value_snapshot_nightly"


@pytest.fixture(autouse=True)
def english(client):
    """The pages in English, as the assertions are written (the default is Chinese)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def _run(period: str, *, status: str = "done", engine: str = "duckdb", day: int = 1, **fields):
    start = {"2025Q3": dt.date(2025, 7, 1), "2025Q4": dt.date(2025, 10, 1)}[period]
    end = {"2025Q3": dt.date(2025, 9, 30), "2025Q4": dt.date(2025, 12, 31)}[period]
    started = dt.datetime(2026, 1, day, 18, 0, tzinfo=UTC)
    seconds = fields.pop("seconds", 10.0 + day)
    return ValueSnapshot.objects.create(
        period=period,
        period_start=start,
        period_end=end,
        window_start=dt.date(2025, 1, 1),
        window_end=end,
        engine=engine,
        status=status,
        started_at=started,
        finished_at=started + dt.timedelta(seconds=seconds),
        seconds=seconds,
        customer_count=fields.pop("customer_count", 1000 + day),
        active_count=fields.pop("active_count", 800),
        **fields,
    )


@pytest.fixture
def runs(organisation):
    return {
        "old": _run(
            "2025Q4",
            status=SnapshotStatus.SUPERSEDED,
            day=1,
            parameters={"trigger": "schedule", "superseded_by": 0},
        ),
        "new": _run(
            "2025Q4",
            day=2,
            parameters={
                "trigger": "schedule",
                "timings": {"reader": "adbc", "read_seconds": 1.5, "aggregate_seconds": 2.25},
                "step_seconds": [
                    ["reading the ledger", 1.6],
                    ["aggregating", 2.3],
                    ["writing", 4.0],
                ],
            },
        ),
        "failed": _run(
            "2025Q3",
            status=SnapshotStatus.FAILED,
            day=3,
            message="disk full while writing",
            created_by=organisation.finance,
        ),
        "postgres": _run(
            "2025Q3", engine="postgres", day=4, parameters={"trigger": "command line"}
        ),
    }


def test_every_run_is_listed_newest_first_with_who_made_it(client, organisation, runs):
    client.force_login(organisation.rep)  # company-wide counts only: everybody sees the runs

    page = client.get(reverse("value:runs"))

    assert page.status_code == 200
    rows = page.context["rows"]
    assert [row["snapshot"].pk for row in rows] == [
        runs["postgres"].pk,
        runs["failed"].pk,
        runs["new"].pk,
        runs["old"].pk,
    ]
    made_by = {row["snapshot"].pk: row["made_by"] for row in rows}
    assert made_by[runs["failed"].pk] == str(organisation.finance)
    assert made_by[runs["new"].pk] == "schedule"
    assert made_by[runs["postgres"].pk] == "command line"
    steps = next(row["steps"] for row in rows if row["snapshot"] == runs["new"])
    assert steps == [("reading", 1.6), ("aggregating", 2.3), ("writing", 4.0)]
    html = page.content.decode()
    assert "disk full while writing" in html
    assert 'data-status="superseded"' in html
    assert page.context["may_compute"] is False  # a rep does not queue runs


def test_the_engine_timings_stand_in_when_the_steps_were_not_timed(client, organisation):
    _run("2025Q4", parameters={"timings": {"read_seconds": 1.5, "aggregate_seconds": 2.25}})
    client.force_login(organisation.finance)

    page = client.get(reverse("value:runs"))

    assert page.context["rows"][0]["steps"] == [("reading", 1.5), ("aggregating", 2.25)]
    assert page.context["rows"][0]["made_by"] == "—"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "failed"}, ["failed"]),
        ({"status": "superseded"}, ["old"]),
        ({"period": "2025q4"}, ["new", "old"]),
        ({"engine": "postgres"}, ["postgres"]),
        ({"q": "disk full"}, ["failed"]),
        ({"q": "finance"}, ["failed"]),
        ({"sort": "seconds"}, ["old", "new", "failed", "postgres"]),
        ({"sort": "-customers"}, ["postgres", "failed", "new", "old"]),
        ({"period": "2025Q4", "engine": "postgres"}, []),
    ],
)
def test_filters_search_and_sort(client, organisation, runs, query, expected):
    client.force_login(organisation.finance)

    page = client.get(reverse("value:runs"), query)

    assert page.status_code == 200
    by_pk = {run.pk: name for name, run in runs.items()}
    assert [by_pk[row["snapshot"].pk] for row in page.context["rows"]] == expected


def test_a_bad_filter_is_named_and_ignored(client, organisation, runs):
    client.force_login(organisation.finance)

    page = client.get(reverse("value:runs"), {"status": "lost", "engine": "oracle", "sort": "x"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Unknown status lost" in html
    assert "Unknown engine oracle" in html
    assert "Unknown sort x" in html
    assert len(page.context["rows"]) == 4


def test_an_htmx_request_gets_only_the_results(client, organisation, runs):
    client.force_login(organisation.finance)

    page = client.get(
        reverse("value:runs"),
        {"status": "done"},
        headers={"HX-Request": "true", "HX-Target": "runs-results"},
    )

    html = page.content.decode()
    assert 'id="runs-filters"' not in html
    assert f'data-run="{runs["new"].pk}"' in html
    assert f'data-run="{runs["old"].pk}"' not in html


def test_pages_of_runs(client, organisation):
    for day in range(1, 29):
        _run("2025Q4", day=day, status=SnapshotStatus.SUPERSEDED)
    client.force_login(organisation.finance)

    with override_settings(KEHU={**_kehu(), "PAGE_SIZE": 10}):
        first = client.get(reverse("value:runs"))
        third = client.get(reverse("value:runs"), {"page": 3})

    assert first.context["page"].paginator.count == 28
    assert len(first.context["rows"]) == 10
    assert len(third.context["rows"]) == 8


def _kehu():
    return dict(settings.KEHU)


def test_the_chart_has_a_series_per_engine_in_time_order(client, organisation, runs):
    client.force_login(organisation.finance)

    chart = client.get(reverse("value:runs")).context["chart_runs"]

    names = [series["name"] for series in chart["series"]]
    assert names == ["DuckDB (in process)", "PostgreSQL (in the database)"]
    duckdb = chart["series"][0]["points"]
    assert [point["value"][1] for point in duckdb] == [11.0, 12.0, 13.0]
    assert [point["failed"] for point in duckdb] == [False, False, True]
    assert duckdb[0]["value"][0].startswith("2026-01-02T02:00")  # Shanghai time


def test_the_export_holds_the_filtered_runs(client, organisation, runs):
    client.force_login(organisation.finance)

    response = client.get(reverse("value:runs_export"), {"period": "2025Q4"})

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('value-snapshot-runs.xlsx"')
    content = b"".join(response.streaming_content)
    rows = pl.read_excel(io.BytesIO(content), sheet_id=1, has_header=False).rows()
    assert rows[0][:5] == ("Snapshot", "Period", "Engine", "Measure", "Status")
    assert [int(row[0]) for row in rows[1:]] == [runs["new"].pk, runs["old"].pk]
    new = rows[1]
    assert new[4] == "Done"
    assert new[5] == "schedule"
    assert float(new[8]) == 12.0
    assert float(new[11]) == 1.6  # reading the ledger, seconds
    assert new[14] is None  # lifetime value was not timed
    assert float(new[15]) == 4.0  # writing, seconds
    assert new[16] == "adbc"


def test_the_empty_state_says_how_to_get_a_run(client, organisation):
    client.force_login(organisation.finance)

    page = client.get(reverse("value:runs"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "No value snapshot has been computed yet" in html
    assert "kehu worker" in html
    assert 'id="runs-filters"' not in html


def test_compute_now_queues_the_task_and_shows_it_queued(client, organisation):
    client.force_login(organisation.finance)

    with override_settings(TASKS=DATABASE_QUEUE):
        response = client.post(
            reverse("value:runs_compute"), {"period": "2025q4", "engine": "duckdb"}, follow=True
        )

    assert response.status_code == 200
    queued = DBTaskResult.objects.get()
    assert queued.task_path == TASK_PATH
    assert queued.status == "READY"
    assert queued.args_kwargs["kwargs"] == {
        "period": "2025Q4",
        "engine": "duckdb",
        "actor_id": organisation.finance.pk,
        "trigger": "page",
    }
    html = response.content.decode()
    assert "The snapshot of 2025Q4 (duckdb) is queued" in html
    assert f'data-queued="{queued.pk}"' in html
    assert [item["by"] for item in response.context["queued"]] == [str(organisation.finance)]
    assert ValueSnapshot.objects.count() == 0  # the worker computes it, not the page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"period": "2025Q7", "engine": "duckdb"}, "2025Q7"),
        ({"period": "2025Q4", "engine": "oracle"}, "oracle"),
    ],
)
def test_compute_now_refuses_bad_input_and_queues_nothing(client, organisation, data, message):
    client.force_login(organisation.finance)

    with override_settings(TASKS=DATABASE_QUEUE):
        response = client.post(reverse("value:runs_compute"), data, follow=True)

    assert response.status_code == 200
    errors = [str(item) for item in response.context["messages"]]
    assert len(errors) == 1
    assert message in errors[0]
    assert DBTaskResult.objects.count() == 0


def test_a_sales_rep_may_not_queue_a_run(client, organisation):
    client.force_login(organisation.rep)

    with override_settings(TASKS=DATABASE_QUEUE):
        response = client.post(reverse("value:runs_compute"), {"engine": "duckdb"}, follow=True)

    assert "Only finance, top management and administrators" in response.content.decode()
    assert DBTaskResult.objects.count() == 0


def test_compute_now_accepts_only_post(client, organisation):
    client.force_login(organisation.finance)

    assert client.get(reverse("value:runs_compute")).status_code == 405
