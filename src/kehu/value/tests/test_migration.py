"""The class migration report (§4.3): who moved between money classes and pyramid classes from
one snapshot (A, 2026Q1) to another (B, 2026Q2), on seven hand-built customers.

    customer  owner      region  money class A → B            revenue A → B   pyramid A → B
    M-1       rep        east    with_money → with_money      100 → 150       vip → vip
    M-2       rep        east    with_money → short_of_money   80 → 20        major → small
    M-3       rep        east    short_of_money → with_money   10 → 200       small → major
    M-4       rep        west    short_of_money → (gone)        5 → —         small → (gone)
    M-5       rep        west    (new) → short_of_money         — → 30        (new) → ordinary
    M-6       other_rep  west    not_active → with_money        0 → 500       prospect → vip
    M-7       rep        —       not_active → not_active        0 → 0         inactive → inactive
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from kehu.core.errors import ValidationFailed
from kehu.customers.models import Customer
from kehu.customers.tests.factories import CustomerFactory
from kehu.value.migration import (
    GONE,
    NEW,
    Cell,
    Flow,
    MigrationMatrix,
    class_migration,
    class_migration_customers,
    migration_matrix,
)
from kehu.value.models import CustomerValue, SnapshotStatus, ValueSnapshot

D = Decimal
MONEY_CELLS = {
    ("with_money", "with_money"): (1, D("100.00"), D("150.00"), "stay"),
    ("with_money", "short_of_money"): (1, D("80.00"), D("20.00"), "down"),
    ("short_of_money", "with_money"): (1, D("10.00"), D("200.00"), "up"),
    ("short_of_money", GONE): (1, D("5.00"), D("0.00"), GONE),
    (NEW, "short_of_money"): (1, D("0.00"), D("30.00"), NEW),
    ("not_active", "with_money"): (1, D("0.00"), D("500.00"), "up"),
    ("not_active", "not_active"): (1, D("0.00"), D("0.00"), "stay"),
}
CUSTOMERS = (
    # code, owner, region, (money A, money B), (revenue A, revenue B), (pyramid A, pyramid B)
    ("M-1", "rep", "east", ("with_money", "with_money"), ("100", "150"), ("vip", "vip")),
    ("M-2", "rep", "east", ("with_money", "short_of_money"), ("80", "20"), ("major", "small")),
    ("M-3", "rep", "east", ("short_of_money", "with_money"), ("10", "200"), ("small", "major")),
    ("M-4", "rep", "west", ("short_of_money", None), ("5", None), ("small", None)),
    ("M-5", "rep", "west", (None, "short_of_money"), (None, "30"), (None, "ordinary")),
    ("M-6", "other_rep", "west", ("not_active", "with_money"), ("0", "500"), ("prospect", "vip")),
    ("M-7", "rep", None, ("not_active", "not_active"), ("0", "0"), ("inactive", "inactive")),
)


@pytest.fixture(autouse=True)
def english(client, settings):
    """Pages and the API in English (the source language); Chinese is checked elsewhere."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def _snapshot(period: str, start: dt.date, end: dt.date, *, started_hours_ago: int, **extra):
    started = timezone.now() - dt.timedelta(hours=started_hours_ago)
    return ValueSnapshot.objects.create(
        period=period,
        period_start=start,
        period_end=end,
        window_start=end - dt.timedelta(days=364),
        window_end=end,
        started_at=started,
        finished_at=started + dt.timedelta(seconds=3),
        status=extra.pop("status", SnapshotStatus.DONE),
        **extra,
    )


@pytest.fixture
def snapshots(organisation):
    # B is computed first; A (an earlier period) is re-run later: A is still the "from" side.
    snapshot_to = _snapshot(
        "2026Q2", dt.date(2026, 4, 1), dt.date(2026, 6, 30), started_hours_ago=5
    )
    snapshot_from = _snapshot(
        "2026Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31), started_hours_ago=1
    )
    owners = {"rep": organisation.rep, "other_rep": organisation.other_rep}
    regions = {"east": organisation.east, "west": organisation.west, None: None}
    customers = {}
    for code, owner, region, money, revenue, pyramid in CUSTOMERS:
        customer: Customer = CustomerFactory(  # type: ignore[assignment]
            code=code, name=f"客户{code}", owner=owners[owner], region=regions[region]
        )
        customers[code] = customer
        for side, snapshot in enumerate((snapshot_from, snapshot_to)):
            money_class, pyramid_class, amount = money[side], pyramid[side], revenue[side]
            if money_class is None or pyramid_class is None or amount is None:
                continue
            CustomerValue.objects.create(
                snapshot=snapshot,
                customer=customer,
                revenue=D(amount),
                money_class=money_class,
                pyramid_class=pyramid_class,
                quadrant="not_active",
            )
    return snapshot_from, snapshot_to, customers


def _cell(matrix: MigrationMatrix, source: str, target: str) -> Cell:
    cell = matrix.cell(source, target)
    assert cell is not None
    return cell


def _cells(matrix):
    return {
        key: (cell.count, cell.revenue_from, cell.revenue_to, cell.movement)
        for key, cell in matrix.cells.items()
    }


# --- The pure computation -----------------------------------------------------------------------


def test_matrix_adds_flows_of_a_cell_and_counts_up_stay_down_among_those_in_both():
    flows = [
        Flow("with_money", "with_money", 2, D("10.00"), D("12.50")),
        Flow("with_money", "with_money", 1, D("1.00"), D("2.00")),
        Flow("short_of_money", "with_money", 1, D("3.00"), D("40.00")),
        Flow("with_money", "not_active", 1, D("7.00"), D("0.00")),
        Flow("not_active", GONE, 4, D("0.00")),
        Flow(NEW, "short_of_money", 2, revenue_to=D("9.99")),
        Flow("short_of_money", "short_of_money", 0),  # empty: no cell
    ]

    matrix = migration_matrix(dimension="money_class", flows=flows)

    assert matrix.sources == ("with_money", "short_of_money", "not_active", NEW)
    assert matrix.targets == ("with_money", "short_of_money", "not_active", GONE)
    assert _cells(matrix) == {
        ("with_money", "with_money"): (3, D("11.00"), D("14.50"), "stay"),
        ("short_of_money", "with_money"): (1, D("3.00"), D("40.00"), "up"),
        ("with_money", "not_active"): (1, D("7.00"), D("0.00"), "down"),
        ("not_active", GONE): (4, D("0.00"), D("0.00"), GONE),
        (NEW, "short_of_money"): (2, D("0.00"), D("9.99"), NEW),
    }
    movements = {item.key: (item.count, item.share, item.revenue) for item in matrix.movements}
    assert movements == {
        "up": (1, 0.2, D("40.00")),
        "stay": (3, 0.6, D("14.50")),
        "down": (1, 0.2, D("0.00")),
        NEW: (2, 2 / 11, D("9.99")),
        GONE: (4, 4 / 11, D("0.00")),
    }
    assert (matrix.total, matrix.in_both, matrix.count_from, matrix.count_to) == (11, 5, 9, 7)
    assert [(line.key, line.count, line.revenue) for line in matrix.rows] == [
        ("with_money", 4, D("18.00")),
        ("short_of_money", 1, D("3.00")),
        ("not_active", 4, D("0.00")),
        (NEW, 2, D("9.99")),
    ]


def test_matrix_of_nothing_has_every_class_and_no_share():
    matrix = migration_matrix(dimension="pyramid_class", flows=[])

    assert matrix.sources == ("vip", "major", "ordinary", "small", "inactive", "prospect", NEW)
    assert matrix.total == 0
    assert [item.share for item in matrix.movements] == [None] * 5


def test_matrix_refuses_an_unknown_dimension_and_a_new_customer_gone():
    with pytest.raises(ValidationFailed, match="unknown dimension"):
        migration_matrix(dimension="colour", flows=[])
    with pytest.raises(ValidationFailed, match="both new and gone"):
        migration_matrix(dimension="money_class", flows=[Flow(NEW, GONE, 1)])


# --- The reads ----------------------------------------------------------------------------------


def test_money_class_migration_counts_and_revenue_per_cell(organisation, snapshots):
    snapshot_from, snapshot_to, _customers = snapshots

    matrix = class_migration(
        user=organisation.finance,
        snapshot_from=snapshot_from,
        snapshot_to=snapshot_to,
        dimension="money_class",
    )

    assert _cells(matrix) == MONEY_CELLS
    assert _cell(matrix, "short_of_money", GONE).revenue == D("5.00")  # gone: revenue in A
    assert _cell(matrix, "with_money", "short_of_money").revenue == D("20.00")  # else in B
    movements = {item.key: (item.count, item.share, item.revenue) for item in matrix.movements}
    assert movements == {
        "up": (2, 0.4, D("700.00")),
        "stay": (2, 0.4, D("150.00")),
        "down": (1, 0.2, D("20.00")),
        NEW: (1, 1 / 7, D("30.00")),
        GONE: (1, 1 / 7, D("5.00")),
    }
    assert [(line.key, line.count, line.revenue) for line in matrix.rows] == [
        ("with_money", 2, D("180.00")),
        ("short_of_money", 2, D("15.00")),
        ("not_active", 2, D("0.00")),
        (NEW, 1, D("30.00")),
    ]
    assert [(line.key, line.count, line.revenue) for line in matrix.columns] == [
        ("with_money", 3, D("850.00")),
        ("short_of_money", 2, D("50.00")),
        ("not_active", 1, D("0.00")),
        (GONE, 1, D("5.00")),
    ]
    assert (matrix.total, matrix.count_from, matrix.count_to) == (7, 6, 6)
    assert (matrix.revenue_from, matrix.revenue_to) == (D("195.00"), D("900.00"))


def test_pyramid_class_migration(organisation, snapshots):
    snapshot_from, snapshot_to, _customers = snapshots

    matrix = class_migration(
        user=organisation.finance,
        snapshot_from=snapshot_from,
        snapshot_to=snapshot_to,
        dimension="pyramid_class",
    )

    assert {key: (count, movement) for key, (count, *_r, movement) in _cells(matrix).items()} == {
        ("vip", "vip"): (1, "stay"),
        ("major", "small"): (1, "down"),
        ("small", "major"): (1, "up"),
        ("small", GONE): (1, GONE),
        (NEW, "ordinary"): (1, NEW),
        ("prospect", "vip"): (1, "up"),
        ("inactive", "inactive"): (1, "stay"),
    }
    assert _cell(matrix, "small", GONE).revenue == D("5.00")
    assert matrix.movement("up").revenue == D("700.00")


def test_a_rep_sees_only_own_customers(organisation, snapshots):
    snapshot_from, snapshot_to, _customers = snapshots
    arguments = {
        "snapshot_from": snapshot_from,
        "snapshot_to": snapshot_to,
        "dimension": "money_class",
    }

    own = class_migration(user=organisation.rep, **arguments)
    other = class_migration(user=organisation.other_rep, **arguments)

    expected = dict(MONEY_CELLS)
    del expected[("not_active", "with_money")]  # M-6 is the other rep's
    assert _cells(own) == expected
    assert (own.movement("up").count, own.movement("up").share) == (1, 0.25)
    assert _cells(other) == {("not_active", "with_money"): (1, D("0.00"), D("500.00"), "up")}
    rows = class_migration_customers(
        user=organisation.rep, source="not_active", target="with_money", **arguments
    )
    assert [list(queryset) for queryset in rows] == [[]]


def test_region_and_owner_filters(organisation, snapshots):
    snapshot_from, snapshot_to, _customers = snapshots
    arguments = {
        "user": organisation.finance,
        "snapshot_from": snapshot_from,
        "snapshot_to": snapshot_to,
        "dimension": "money_class",
    }

    east = class_migration(region=organisation.east, **arguments)
    company = class_migration(region=organisation.company, **arguments)  # every region below
    other = class_migration(owner_id=organisation.other_rep.pk, **arguments)

    assert set(east.cells) == {
        ("with_money", "with_money"),
        ("with_money", "short_of_money"),
        ("short_of_money", "with_money"),
    }
    assert company.total == 6  # M-7 has no region
    assert set(other.cells) == {("not_active", "with_money")}


def test_customers_of_a_cell_new_and_gone(organisation, snapshots):
    snapshot_from, snapshot_to, _customers = snapshots
    arguments = {
        "user": organisation.finance,
        "snapshot_from": snapshot_from,
        "snapshot_to": snapshot_to,
        "dimension": "money_class",
    }

    def codes(source: str, target: str) -> list[list[tuple[Any, ...]]]:
        querysets = class_migration_customers(source=source, target=target, **arguments)
        fields = ("source_class", "target_class", "revenue_from", "revenue_to")
        return [
            [(row.customer.code, *(getattr(row, name) for name in fields)) for row in queryset]
            for queryset in querysets
        ]

    assert codes("with_money", "short_of_money") == [
        [("M-2", "with_money", "short_of_money", D("80.00"), D("20.00"))]
    ]
    assert codes("short_of_money", GONE) == [
        [("M-4", "short_of_money", GONE, D("5.00"), D("0.00"))]
    ]
    assert codes(NEW, "short_of_money") == [[("M-5", NEW, "short_of_money", D("0"), D("30.00"))]]
    everyone = codes("", "")
    assert [row[0] for row in everyone[0]] == ["M-6", "M-3", "M-1", "M-5", "M-2", "M-7"]
    assert [row[0] for row in everyone[1]] == ["M-4"]
    with pytest.raises(ValidationFailed, match="unknown class"):
        class_migration_customers(source="vip", target="", **arguments)


# --- The page and the export --------------------------------------------------------------------


def test_page_defaults_to_the_two_latest_snapshots_earlier_period_first(
    client, organisation, snapshots
):
    snapshot_from, snapshot_to, _customers = snapshots
    client.force_login(organisation.finance)

    response = client.get(reverse("value:migration"))

    assert response.status_code == 200
    assert response.context["snapshot_from"] == snapshot_from
    assert response.context["snapshot_to"] == snapshot_to
    assert _cells(response.context["matrix"]) == MONEY_CELLS
    html = response.content.decode()
    assert 'data-cell="short_of_money:gone"' in html
    assert 'data-migration-chart="sankey"' in html
    chart = response.context["chart_migration"]
    assert {(link["source"], link["target"], link["value"]) for link in chart["links"]} == {
        (f"from:{source}", f"to:{target}", 1) for source, target in MONEY_CELLS
    }
    assert {node["name"] for node in chart["nodes"]} == {
        "from:with_money",
        "from:short_of_money",
        "from:not_active",
        f"from:{NEW}",
        "to:with_money",
        "to:short_of_money",
        "to:not_active",
        f"to:{GONE}",
    }


def test_page_by_period_with_pyramid_classes_and_a_cell(client, organisation, snapshots):
    _from, _to, customers = snapshots
    client.force_login(organisation.finance)

    response = client.get(
        reverse("value:migration"),
        {
            "from": "2026Q1",
            "to": "2026q2",
            "dimension": "pyramid_class",
            "from_class": "major",
            "to_class": "small",
        },
        headers={"HX-Request": "true", "HX-Target": "migration-customers"},
    )

    assert response.status_code == 200
    assert response.templates[0].name == "value/migration_customers.html"
    assert [row.customer.code for row, *_names in response.context["customer_rows"]] == ["M-2"]
    html = response.content.decode()
    assert reverse("customers:card", args=[customers["M-2"].pk]) in html
    assert "80.00" in html
    assert "20.00" in html


def test_a_year_period_is_found_by_its_label(client, organisation, snapshots):
    year = _snapshot("2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31), started_hours_ago=9)
    client.force_login(organisation.finance)

    response = client.get(reverse("value:migration"), {"from": "2025", "to": "2026Q2"})

    assert response.status_code == 200
    assert response.context["snapshot_from"] == year
    assert response.context["matrix"].movement(NEW).count == 6  # no row in the year snapshot


def test_a_rep_page_lists_only_own_customers(client, organisation, snapshots):
    client.force_login(organisation.other_rep)

    response = client.get(
        reverse("value:migration"), {"from_class": "short_of_money", "to_class": "with_money"}
    )

    assert response.status_code == 200
    assert response.context["matrix"].total == 1
    assert response.context["customer_rows"] == []
    assert "M-3" not in response.content.decode()


def test_export_has_the_numbers(client, organisation, snapshots):
    client.force_login(organisation.finance)

    response = client.get(reverse("value:migration_export"))

    assert response.status_code == 200
    assert "migration-money_class-2026Q1-2026Q2.xlsx" in response["Content-Disposition"]
    content = io.BytesIO(b"".join(response.streaming_content))
    counts = pl.read_excel(content, sheet_id=1)
    revenue = pl.read_excel(content, sheet_id=2)
    movements = pl.read_excel(content, sheet_id=3)
    rows = pl.read_excel(content, sheet_id=4)
    # rows: with money, short of money, not active, new, total; columns: the same, gone, total
    assert [counts.row(line)[1:] for line in range(5)] == [
        (1, 1, 0, 0, 2),
        (1, 0, 0, 1, 2),
        (1, 0, 1, 0, 2),
        (0, 1, 0, 0, 1),
        (3, 2, 1, 1, None),
    ]
    assert [revenue.row(line)[1:] for line in range(5)] == [
        (150.0, 20.0, 0.0, 0.0, 180.0),
        (200.0, 0.0, 0.0, 5.0, 15.0),
        (500.0, 0.0, 0.0, 0.0, 0.0),
        (0.0, 30.0, 0.0, 0.0, 30.0),
        (850.0, 50.0, 0.0, 5.0, None),
    ]
    assert movements.to_series(1).to_list() == [2, 2, 1, 1, 1]
    assert movements.to_series(2).to_list() == pytest.approx([0.4, 0.4, 0.2, 1 / 7, 1 / 7])
    assert sorted(rows.to_series(0).to_list()) == [f"M-{n}" for n in range(1, 8)]
    assert rows.filter(pl.col(rows.columns[0]) == "M-4").row(0)[5:] == (5.0, 0.0)


def test_export_of_a_rep_has_only_their_customers(client, organisation, snapshots):
    client.force_login(organisation.other_rep)

    response = client.get(reverse("value:migration_export"))

    rows = pl.read_excel(io.BytesIO(b"".join(response.streaming_content)), sheet_id=4)
    assert rows.to_series(0).to_list() == ["M-6"]


@pytest.mark.parametrize("value", ["2019Q1", "999999", "not-a-period"])
def test_a_bad_period_is_a_clear_404(client, organisation, snapshots, value):
    client.force_login(organisation.finance)

    page = client.get(reverse("value:migration"), {"from": value})
    export = client.get(reverse("value:migration_export"), {"to": value})

    assert page.status_code == 404
    assert "matrix" not in page.context
    assert f"There is no finished value snapshot {value}" in page.content.decode()
    assert export.status_code == 404
    assert f"There is no finished value snapshot {value}" in export.content.decode()


def test_a_snapshot_that_did_not_finish_is_refused(client, organisation, snapshots):
    running = _snapshot(
        "2026Q3",
        dt.date(2026, 7, 1),
        dt.date(2026, 9, 30),
        started_hours_ago=0,
        status=SnapshotStatus.RUNNING,
    )
    client.force_login(organisation.finance)

    response = client.get(reverse("value:migration"), {"to": str(running.pk)})

    assert response.status_code == 404
    assert "There is no finished value snapshot" in response.content.decode()


def test_empty_state_with_fewer_than_two_snapshots(client, organisation):
    _snapshot("2026Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31), started_hours_ago=1)
    client.force_login(organisation.finance)

    response = client.get(reverse("value:migration"))
    export = client.get(reverse("value:migration_export"))

    assert response.status_code == 200
    assert "matrix" not in response.context
    assert "Two value snapshots are needed" in response.content.decode()
    assert export.status_code == 404


def test_the_page_needs_a_sign_in(client, snapshots):
    response = client.get(reverse("value:migration"))

    assert response.status_code == 302


def test_page_queries_do_not_grow_with_the_customers(
    client, organisation, snapshots, django_assert_num_queries
):
    snapshot_from, snapshot_to, _customers = snapshots
    client.force_login(organisation.finance)
    url = reverse("value:migration")
    cell = {"from_class": "with_money", "to_class": "with_money"}
    client.get(url, cell)  # warm the session and the caches
    with CaptureQueriesContext(connection) as before:
        client.get(url, cell)
    assert len(before) <= 11
    for number in range(5):
        customer: Customer = CustomerFactory(owner=organisation.rep)  # type: ignore[assignment]
        for snapshot, revenue in ((snapshot_from, "1"), (snapshot_to, str(number + 2))):
            CustomerValue.objects.create(
                snapshot=snapshot,
                customer=customer,
                revenue=D(revenue),
                money_class="with_money",
                pyramid_class="small",
                quadrant="not_active",
            )

    with django_assert_num_queries(len(before)):
        response = client.get(url, cell)

    assert len(response.context["customer_rows"]) == 6
