"""GET /api/credit/accountability: exact bodies, bad dates, and who sees which rows."""

from __future__ import annotations

import datetime as dt

import pytest

from kehu.credit.tests.test_accountability import _line, make_write_off
from kehu.customers.tests.factories import CustomerFactory

URL = "/api/credit/accountability"
PERIOD = {"date_from": "2026-01-01", "date_to": "2026-12-31"}


@pytest.fixture
def book(organisation):
    """Rep (east): 1,000.00 unapproved, 600.00 inside cm's line; rep2 (west): 400.00."""
    east = CustomerFactory.create(code="E-1", name="华东机械", owner=organisation.rep)
    west = CustomerFactory.create(code="W-1", name="华西电子", owner=organisation.other_rep)
    make_write_off(east, "1000.00", decided_by=organisation.finance)
    _line(east, organisation.customer_manager, valid_from=dt.date(2026, 3, 1))
    make_write_off(east, "600.00", issue_date=dt.date(2026, 3, 5))
    make_write_off(west, "400.00")


def test_the_body_has_the_totals_and_the_rows(client, organisation, book):
    client.force_login(organisation.finance)

    response = client.get(URL, PERIOD)

    assert response.status_code == 200
    body = response.json()
    assert (body["date_from"], body["date_to"]) == ("2026-01-01", "2026-12-31")
    assert body["shares"] == {
        "unapproved_giver_share": "1.00",
        "handler_share": "0.50",
        "approver_share": "0.50",
    }
    assert (body["total_amount"], body["total_borne"]) == ("2000.00", "2000.00")
    assert [
        (p["person"]["name"], p["write_off_count"], p["amount"], p["borne"], p["share_of_amount"])
        for p in body["people"]
    ] == [
        ("rep", 2, "1600.00", "1300.00", "0.8125"),
        ("rep2", 1, "400.00", "400.00", "1.0000"),
        ("cm", 1, "600.00", "300.00", "0.5000"),
    ]
    first, second, _third = body["rows"]
    assert first["customer"]["code"] == "E-1"
    assert (first["amount"], first["basis"], first["is_approved"]) == ("1000.00", "no_line", False)
    assert first["decided_by"]["name"] == "finance"
    assert [(s["person"]["name"], s["role"], s["share"], s["amount"]) for s in first["shares"]] == [
        ("rep", "giver", "1.00", "1000.00")
    ]
    assert (second["basis"], second["is_inside_line"], second["credit_check_id"]) == (
        "line_no_check",
        True,
        None,
    )
    assert second["line_id"] is not None
    assert [(s["person"]["name"], s["role"], s["amount"]) for s in second["shares"]] == [
        ("rep", "giver", "300.00"),
        ("cm", "approver", "300.00"),
    ]


def test_the_person_filter(client, organisation, book):
    client.force_login(organisation.finance)

    body = client.get(URL, {**PERIOD, "person_id": organisation.customer_manager.pk}).json()

    assert [row["amount"] for row in body["rows"]] == ["600.00"]
    assert [p["person"]["name"] for p in body["people"]] == ["cm"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"date_from": "2026-06-01", "date_to": "2026-01-01"}, "date_from"),
        ({"person_id": "0"}, "person_id"),
    ],
)
def test_bad_dates_answer_422_naming_the_field(client, organisation, book, query, field):
    client.force_login(organisation.finance)

    response = client.get(URL, query)

    assert response.status_code == 422
    body = response.json()
    detail = body["detail"]
    fields = [item["field"] for item in detail] if isinstance(detail, list) else [detail["field"]]
    assert fields == [field]


def test_signed_out_gets_401(client, book):
    assert client.get(URL, PERIOD).status_code == 401


@pytest.mark.parametrize(
    ("role", "amounts"),
    [
        ("rep", ["1000.00", "600.00"]),
        ("other_rep", ["400.00"]),
        ("customer_manager", ["1000.00", "600.00"]),  # a manager: the east team
        ("direct_sales_manager", ["1000.00", "600.00"]),
        ("regional_manager", ["1000.00", "600.00"]),
        ("finance", ["1000.00", "600.00", "400.00"]),
        ("top_management", ["1000.00", "600.00", "400.00"]),
        ("administrator", ["1000.00", "600.00", "400.00"]),
    ],
)
def test_who_sees_which_rows(client, organisation, book, role, amounts):
    client.force_login(getattr(organisation, role))

    response = client.get(URL, PERIOD)

    assert response.status_code == 200
    assert [row["amount"] for row in response.json()["rows"]] == amounts
