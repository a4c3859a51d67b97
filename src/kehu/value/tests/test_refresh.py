"""Refreshing value snapshots: the nightly task, the retention rule (an older snapshot of the
same period, engine and measure is superseded: its rows deleted, its row kept as history), and
report pages that never pick a superseded snapshot. On the 13-customer ledger of
snapshot_ledger.py (period 2025Q4)."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import typer
from django.urls import reverse
from django.utils import timezone
from typer.testing import CliRunner

from kehu.cli import value as value_cli
from kehu.core.errors import NotFound, ValidationFailed
from kehu.customers.models import Customer
from kehu.customers.tests.factories import CustomerFactory
from kehu.value.models import CustomerValue, SnapshotStatus, ValueSnapshot
from kehu.value.report_figures import snapshot_choices, snapshot_for_report
from kehu.value.selectors import value_snapshot_latest
from kehu.value.services_refresh import (
    StepClock,
    value_snapshot_refresh,
    value_snapshots_supersede,
)
from kehu.value.tasks import value_snapshot_nightly
from kehu.value.tests.snapshot_ledger import build_ledger

PERIODS = {
    "2025Q3": (dt.date(2025, 7, 1), dt.date(2025, 9, 30)),
    "2025Q4": (dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
}


@pytest.fixture
def ledger(organisation):
    return build_ledger(organisation)


def finished(
    period: str = "2025Q4",
    *,
    engine: str = "duckdb",
    measure: str = "gross_profit",
    customers: int = 3,
    minutes_ago: int = 60,
) -> ValueSnapshot:
    """A finished snapshot written directly (computing one is slow): `customers` rows."""
    start, end = PERIODS[period]
    snapshot = ValueSnapshot.objects.create(
        period=period,
        period_start=start,
        period_end=end,
        window_start=dt.date(2025, 1, 1),
        window_end=end,
        engine=engine,
        measure=measure,
        status=SnapshotStatus.DONE,
        started_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        finished_at=timezone.now() - dt.timedelta(minutes=minutes_ago - 1),
        seconds=60.0,
        customer_count=customers,
        active_count=customers,
    )
    CustomerValue.objects.bulk_create(
        CustomerValue(
            snapshot=snapshot,
            customer=CustomerFactory.create(),
            pyramid_class="small",
            money_class="with_money",
            quadrant="core",
        )
        for _ in range(customers)
    )
    return snapshot


def test_the_nightly_task_computes_and_supersedes_the_older_snapshot(ledger, organisation):
    older = finished("2025Q4")
    other_measure = finished("2025Q4", measure="revenue")
    other_engine = finished("2025Q4", engine="postgres")
    other_period = finished("2025Q3")

    result = value_snapshot_nightly.enqueue(period="2025Q4")  # the test backend runs it now

    assert result.status == "SUCCESSFUL", result
    returned = result.return_value
    assert returned is not None
    newer = ValueSnapshot.objects.get(pk=returned["snapshot"])
    assert returned["status"] == "done"
    assert returned["superseded"] == [older.pk]
    assert newer.status == SnapshotStatus.DONE
    assert newer.parameters["trigger"] == "schedule"
    assert newer.created_by is None
    assert newer.parameters["rows_deleted"] == 3
    # Every customer: the ledger's 13 and the 12 of the snapshots written above.
    assert CustomerValue.objects.filter(snapshot=newer).count() == Customer.objects.count() == 25
    older.refresh_from_db()
    assert older.status == SnapshotStatus.SUPERSEDED
    assert older.parameters["superseded_by"] == newer.pk
    assert CustomerValue.objects.filter(snapshot=older).count() == 0
    # The history of the run stays: its counts and duration.
    assert (older.customer_count, older.seconds) == (3, 60.0)
    # Another measure, engine or period keeps its rows.
    for kept in (other_measure, other_engine, other_period):
        kept.refresh_from_db()
        assert kept.status == SnapshotStatus.DONE
        assert CustomerValue.objects.filter(snapshot=kept).count() == 3
    # Each step the service names is timed, in order.
    steps = dict(newer.parameters["step_seconds"])
    assert [name for name, _seconds in newer.parameters["step_seconds"]] == [
        "reading the ledger",
        "aggregating",
        "scoring",
        "lifetime value",
        "writing",
    ]
    assert all(seconds >= 0 for seconds in steps.values())
    assert newer.seconds is not None
    assert sum(steps.values()) <= newer.seconds + 0.05
    assert newer.parameters["timings"]["reader"]  # the engine's own timings are kept


def test_the_task_without_a_period_computes_the_last_closed_quarter(db, organisation):
    with mock.patch("django.utils.timezone.localdate", return_value=dt.date(2026, 2, 10)):
        result = value_snapshot_nightly.enqueue(actor_id=organisation.finance.pk, trigger="page")

    returned = result.return_value
    assert returned is not None
    assert returned["period"] == "2025Q4"
    assert returned["engine"] == "duckdb"
    snapshot = ValueSnapshot.objects.get()
    assert snapshot.status == SnapshotStatus.EMPTY  # no customers at all
    assert snapshot.created_by == organisation.finance
    assert snapshot.parameters["trigger"] == "page"


def _failing_engine(*, engine, ws, we, progress=None):
    progress("reading the ledger")
    raise RuntimeError("disk full")


def test_a_failed_run_keeps_the_older_snapshot(organisation):
    older = finished("2025Q4")

    with (
        mock.patch("kehu.value.engine.run", side_effect=_failing_engine),
        pytest.raises(RuntimeError, match="disk full"),
    ):
        value_snapshot_refresh(period="2025Q4")

    failed = ValueSnapshot.objects.exclude(pk=older.pk).get()
    assert failed.status == SnapshotStatus.FAILED
    assert failed.message == "disk full"
    assert failed.parameters["trigger"] == "schedule"
    assert [name for name, _seconds in failed.parameters["step_seconds"]] == ["reading the ledger"]
    older.refresh_from_db()
    assert older.status == SnapshotStatus.DONE
    assert CustomerValue.objects.filter(snapshot=older).count() == 3
    assert value_snapshot_latest() == older


def test_a_bad_period_fails_the_task_and_writes_nothing(db):
    result = value_snapshot_nightly.enqueue(period="2025Q7")

    assert result.status == "FAILED"
    assert ValueSnapshot.objects.count() == 0


def test_an_older_run_finishing_late_does_not_supersede_the_newer(organisation):
    newer = finished("2025Q4", minutes_ago=10)
    late = finished("2025Q4", minutes_ago=30)  # started first, finished (written) last

    assert value_snapshots_supersede(snapshot=late) == []
    assert value_snapshots_supersede(snapshot=newer) == [late.pk]
    assert CustomerValue.objects.filter(snapshot=newer).count() == 3
    assert CustomerValue.objects.filter(snapshot=late).count() == 0


def test_an_empty_snapshot_supersedes_too(organisation):
    older = finished("2025Q4", minutes_ago=30)
    empty = finished("2025Q4", customers=0, minutes_ago=5)
    ValueSnapshot.objects.filter(pk=empty.pk).update(status=SnapshotStatus.EMPTY)
    empty.refresh_from_db()

    assert value_snapshots_supersede(snapshot=empty) == [older.pk]


def test_a_snapshot_that_did_not_finish_supersedes_nothing(organisation):
    done = finished("2025Q4")
    running = ValueSnapshot.objects.create(
        period="2025Q4",
        period_start=done.period_start,
        period_end=done.period_end,
        window_start=done.window_start,
        window_end=done.window_end,
        started_at=timezone.now(),
    )

    assert value_snapshots_supersede(snapshot=running) == []
    done.refresh_from_db()
    assert done.status == SnapshotStatus.DONE
    assert CustomerValue.objects.filter(snapshot=done).count() == 3


def test_the_step_clock_adds_up_repeated_steps():
    names: list[str] = []
    clock = StepClock(names.append)
    clock("a")
    clock("b")
    clock("a")
    seconds = clock.stop()

    assert names == ["a", "b", "a"]
    assert set(seconds) == {"a", "b"}
    assert clock.stop() == seconds  # stopping twice changes nothing


def test_the_refresh_refuses_an_unknown_trigger(db):
    with pytest.raises(ValueError, match="unknown trigger"):
        value_snapshot_refresh(period="2025Q4", trigger="cron")
    assert ValueSnapshot.objects.count() == 0


def test_a_bad_engine_is_refused_before_anything_is_written(db):
    with pytest.raises(ValidationFailed, match="engine"):
        value_snapshot_refresh(period="2025Q4", engine="oracle")
    assert ValueSnapshot.objects.count() == 0


# --- Pages never pick a superseded snapshot ----------------------------------------------------


@pytest.fixture
def superseded_pair(organisation):
    older = finished("2025Q4", minutes_ago=30)
    newer = finished("2025Q4", minutes_ago=10)
    assert value_snapshots_supersede(snapshot=newer) == [older.pk]
    older.refresh_from_db()
    return older, newer


def test_report_choices_and_the_latest_skip_superseded_snapshots(superseded_pair):
    older, newer = superseded_pair

    assert list(snapshot_choices()) == [newer]
    assert value_snapshot_latest(period="2025Q4") == newer
    assert snapshot_for_report(None) == newer
    with pytest.raises(NotFound, match="did not finish"):
        snapshot_for_report(older.pk)


def test_the_pyramid_page_offers_only_the_newer_snapshot(client, organisation, superseded_pair):
    older, newer = superseded_pair
    client.force_login(organisation.finance)

    page = client.get(reverse("value:pyramid"))

    assert page.status_code == 200
    assert page.context["snapshot"] == newer
    assert [choice.pk for choice in page.context["snapshots"]] == [newer.pk]
    assert f'<option value="{older.pk}"' not in page.content.decode()


def test_asking_for_a_superseded_snapshot_by_number_is_refused(
    client, organisation, superseded_pair
):
    older, newer = superseded_pair
    client.force_login(organisation.finance)

    api = client.get("/api/value/pyramid", {"snapshot": older.pk})
    page = client.get(reverse("value:pyramid"), {"snapshot": older.pk})

    assert api.status_code == 404
    assert "did not finish" in api.json()["message"]
    assert page.context["snapshot"] == newer  # the page says so and shows the newest instead
    assert f"{older.pk}" in " ".join(str(error) for error in page.context["errors"])


def test_the_migration_page_does_not_compare_with_a_superseded_snapshot(
    client, organisation, superseded_pair
):
    older, _newer = superseded_pair
    client.force_login(organisation.finance)

    page = client.get(reverse("value:migration"))

    assert page.status_code == 200
    assert page.context["snapshot_from"] is None  # one finished snapshot: nothing to compare
    assert older.pk not in [choice.pk for choice in page.context["snapshots"]]


# --- `kehu analyze` ---------------------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()
    value_cli.register(app)

    @app.callback()
    def main() -> None:
        pass

    return app


def test_analyze_shows_the_steps_and_supersedes_the_older_run(organisation):
    older = finished("2025Q4")

    result = CliRunner().invoke(_app(), ["analyze", "--period", "2025Q4"])

    assert result.exit_code == 0, result.output
    assert "5/5" in result.output  # the bar ends on the last of the five steps
    newer = ValueSnapshot.objects.exclude(pk=older.pk).get()
    assert newer.status == SnapshotStatus.EMPTY  # no purchases in this ledger
    assert newer.parameters["trigger"] == "command line"
    older.refresh_from_db()
    assert older.status == SnapshotStatus.SUPERSEDED


@pytest.mark.parametrize(
    ("name", "position"),
    [
        ("reading the ledger", 0),
        ("aggregating", 1),
        ("scoring", 2),
        ("lifetime value", 3),
        ("writing", 4),
        ("something new", None),
    ],
)
def test_step_names_map_to_places_on_the_bar(name, position):
    assert value_cli.step_position(name) == position
