"""GET /api/value/migration on the hand-built ledger of snapshot_ledger.py (13 customers),
between its 2025Q3 and 2025Q4 snapshots."""

from __future__ import annotations

import pytest

from kehu.value.migration import class_migration
from kehu.value.services import value_snapshot_compute
from kehu.value.tests.snapshot_ledger import build_ledger


@pytest.fixture
def snapshots(organisation):
    build_ledger(organisation)
    return value_snapshot_compute(period="2025Q3"), value_snapshot_compute(period="2025Q4")


def test_the_matrix_by_default_between_the_latest_two_periods(client, organisation, snapshots):
    earlier, later = snapshots
    client.force_login(organisation.finance)
    response = client.get("/api/value/migration", {"dimension": "quadrant"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["snapshot_from"]["id"], body["snapshot_to"]["id"]) == (earlier.pk, later.pk)
    expected = class_migration(
        user=organisation.finance, snapshot_from=earlier, snapshot_to=later, dimension="quadrant"
    )
    cells = {(cell["source"], cell["target"]): cell["count"] for cell in body["cells"]}
    assert cells == {key: cell.count for key, cell in expected.cells.items()}
    assert sum(cells.values()) == body["total"] == 13
    assert {item["key"] for item in body["movements"]} == {"up", "stay", "down", "new", "gone"}


def test_named_snapshots_and_what_a_rep_sees(client, organisation, snapshots):
    earlier, later = snapshots
    client.force_login(organisation.other_rep)  # sees none of the east rep's customers
    response = client.get(
        "/api/value/migration", {"from": earlier.pk, "to": later.pk, "dimension": "pyramid_class"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"dimension": "colour"}, 422),
        ({"from": 1}, 422),
        ({"from": 999999, "to": 1}, 404),
        ({"from": "x", "to": 1}, 422),
        ({"region": 999999}, 404),
    ],
)
def test_bad_queries_are_refused(client, organisation, snapshots, query, status):
    client.force_login(organisation.finance)
    response = client.get("/api/value/migration", query)
    assert response.status_code == status, response.content
    assert response.json()["message"]


def test_one_snapshot_is_not_enough(client, organisation):
    build_ledger(organisation)
    value_snapshot_compute(period="2025Q4")
    client.force_login(organisation.finance)
    response = client.get("/api/value/migration")
    assert response.status_code == 404
    assert "two finished value snapshots" in response.json()["message"]
