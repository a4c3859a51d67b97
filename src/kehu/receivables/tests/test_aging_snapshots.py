"""Aging snapshots: read when fresh, recomputed when the ledger moved, never for a rep."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from typer.testing import CliRunner

from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.aging import aging_as_of
from kehu.receivables.aging_snapshots import (
    aging_ledger_stamp,
    aging_report_for,
    aging_snapshot_compute,
    aging_snapshots_refresh,
)
from kehu.receivables.models import AgingSnapshot
from kehu.receivables.services import (
    allocation_reverse,
    invoice_create,
    payment_record,
    write_off_create,
    write_off_reverse,
)
from kehu.receivables.tasks import aging_snapshots_nightly

D = Decimal
AS_OF = dt.date(2026, 6, 30)


@pytest.fixture
def ledger(organisation):
    east = CustomerFactory(code="EAST1", name="东方公司", owner=organisation.rep)
    west = CustomerFactory(code="WEST1", name="西方公司", owner=organisation.other_rep)
    invoice_create(customer=east, number="E-1", issue_date=dt.date(2026, 3, 1), amount=D("300"))
    invoice_create(customer=east, number="E-2", issue_date=dt.date(2026, 6, 20), amount=D("100"))
    invoice_create(customer=west, number="W-1", issue_date=dt.date(2026, 5, 1), amount=D("700"))
    payment_record(customer=west, number="P", received_on=dt.date(2026, 6, 1), amount=D("200"))
    return {"east": east, "west": west}


def _rows(report):
    return [(row.key, row.label, row.amounts, row.invoice_count) for row in report.rows]


@pytest.mark.parametrize("group_by", ["company", "customer", "rep", "year"])
def test_the_snapshot_equals_the_live_computation(organisation, ledger, group_by):
    live = aging_as_of(user=organisation.finance, as_of=AS_OF, group_by=group_by)

    first = aging_report_for(user=organisation.finance, as_of=AS_OF, group_by=group_by)
    second = aging_report_for(user=organisation.finance, as_of=AS_OF, group_by=group_by)

    assert (first.source, second.source) == ("computed", "snapshot")
    assert _rows(first) == _rows(live)
    assert _rows(second) == _rows(live)
    assert second.totals == live.totals
    assert second.computed_at == first.computed_at
    assert AgingSnapshot.objects.filter(as_of=AS_OF, group_by=group_by).count() == 1


def test_a_fresh_snapshot_is_read_without_the_aging_statement(organisation, ledger):
    aging_snapshot_compute(as_of=AS_OF, group_by="company")

    with CaptureQueriesContext(connection) as queries:
        report = aging_report_for(user=organisation.finance, as_of=AS_OF)

    assert report.source == "snapshot"
    assert report.totals == [D("100.00"), D("500.00"), D("0.00"), D("0.00"), D("300.00"),
                             D("0.00"), D("0.00")]  # fmt: skip
    # the stamp, the snapshot row (the company grouping needs no labels from the database)
    assert len(queries) == 2
    assert not any("balances" in query["sql"] for query in queries.captured_queries)


def test_a_payment_recorded_after_the_snapshot_makes_it_stale(organisation, ledger):
    aging_snapshot_compute(as_of=AS_OF, group_by="company")
    payment_record(
        customer=ledger["east"], number="P2", received_on=dt.date(2026, 6, 10), amount=D("50")
    )

    report = aging_report_for(user=organisation.finance, as_of=AS_OF)

    assert report.source == "computed"
    assert report.total == D("850.00")
    snapshot = AgingSnapshot.objects.get(as_of=AS_OF, group_by="company")
    assert snapshot.ledger_stamp == aging_ledger_stamp(group_by="company")
    assert aging_report_for(user=organisation.finance, as_of=AS_OF).source == "snapshot"


def test_reversals_change_the_stamp(organisation, ledger):
    stamps = [aging_ledger_stamp()]
    allocation = ledger["west"].payments.get().allocations.get()
    allocation_reverse(allocation=allocation, on=dt.date(2026, 6, 15))
    stamps.append(aging_ledger_stamp())
    invoice = ledger["east"].invoices.get(number="E-1")
    write_off = write_off_create(
        invoice=invoice, amount=D("10"), written_off_on=dt.date(2026, 6, 20), reason="gone",
        decided_by=organisation.finance,
    )  # fmt: skip
    stamps.append(aging_ledger_stamp())
    write_off_reverse(
        write_off=write_off, on=dt.date(2026, 6, 25), actor=organisation.finance, reason="paid"
    )
    stamps.append(aging_ledger_stamp())

    assert len({repr(stamp) for stamp in stamps}) == 4


def test_a_customer_moved_to_another_rep_makes_the_rep_grouping_stale(organisation, ledger):
    aging_snapshot_compute(as_of=AS_OF, group_by="rep")
    aging_snapshot_compute(as_of=AS_OF, group_by="company")
    east = ledger["east"]
    east.owner = organisation.other_rep
    east.save()

    assert aging_report_for(user=organisation.finance, as_of=AS_OF, group_by="rep").source == (
        "computed"
    )
    assert aging_report_for(user=organisation.finance, as_of=AS_OF).source == "snapshot"


@pytest.mark.parametrize("role", ["rep", "regional_manager", "customer_manager"])
def test_a_user_who_sees_part_of_the_company_never_gets_the_snapshot(organisation, ledger, role):
    aging_snapshot_compute(as_of=AS_OF, group_by="company")
    user = getattr(organisation, role)

    report = aging_report_for(user=user, as_of=AS_OF)

    assert report.source == "live"
    assert report.total == aging_as_of(user=user, as_of=AS_OF).total
    assert report.total != D("900.00") or role != "rep"


@pytest.mark.parametrize("role", ["finance", "top_management", "administrator"])
def test_the_page_reads_the_snapshot_for_those_who_see_everything(
    client, organisation, ledger, role
):
    client.force_login(getattr(organisation, role))

    first = client.get("/receivables/", {"as_of": AS_OF.isoformat()})
    second = client.get("/receivables/", {"as_of": AS_OF.isoformat()})

    assert (first.context["aging_source"], second.context["aging_source"]) == (
        "computed",
        "snapshot",
    )
    assert second.context["report"].total == D("900.00")
    snapshot = AgingSnapshot.objects.get()
    assert f"{snapshot.computed_at.astimezone():%Y-%m-%d}" in second.content.decode()
    assert 'data-aging-source="snapshot"' in second.content.decode()


def test_the_rep_s_page_is_live(client, organisation, ledger):
    client.force_login(organisation.rep)

    response = client.get("/receivables/", {"as_of": AS_OF.isoformat()})

    assert response.context["aging_source"] == "live"
    assert response.context["report"].total == D("400.00")
    assert AgingSnapshot.objects.count() == 0


def test_the_nightly_refresh_deletes_stale_snapshots_and_computes_today_s(organisation, ledger):
    aging_snapshot_compute(as_of=dt.date(2026, 6, 1), group_by="company")
    kept = aging_snapshot_compute(as_of=dt.date(2026, 6, 2), group_by="customer")
    payment_record(
        customer=ledger["east"], number="P2", received_on=dt.date(2026, 6, 10), amount=D("50")
    )
    fresh_customer = aging_snapshot_compute(as_of=dt.date(2026, 6, 3), group_by="customer")

    result = aging_snapshots_nightly.enqueue(as_of=AS_OF.isoformat())

    assert result.return_value == {"as_of": "2026-06-30", "snapshots": {"company": "850.00"}}
    assert sorted(AgingSnapshot.objects.values_list("as_of", "group_by")) == [
        (dt.date(2026, 6, 3), "customer"),
        (AS_OF, "company"),
    ]
    assert fresh_customer.pk != kept.pk
    assert aging_snapshots_refresh(as_of=AS_OF)[0].computed_at == (
        AgingSnapshot.objects.get(as_of=AS_OF).computed_at
    )


def test_the_command_stores_the_snapshot(organisation, ledger):
    import typer

    from kehu.cli.receivables import register

    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test host."""

    register(app)
    result = CliRunner().invoke(app, ["receivables", "aging-snapshot", "--as-of", "2026-06-30"])

    assert result.exit_code == 0, result.output
    snapshot = AgingSnapshot.objects.get(as_of=AS_OF, group_by="company")
    assert [sum(row["amounts"]) for row in snapshot.rows] == [90000]
    assert "900.00" in result.output
