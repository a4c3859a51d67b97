"""The follow-up through the API: exact bodies, refusals that change nothing."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.models import PromiseToPay, ReceivableEvent, WriteOff
from kehu.receivables.services import invoice_create, write_off_create


@pytest.fixture
def book(organisation):
    today = timezone.localdate()
    east = CustomerFactory.create(code="E1", owner=organisation.rep)
    invoice = invoice_create(
        customer=east,
        number="E-40",
        issue_date=today - dt.timedelta(days=70),
        due_date=today - dt.timedelta(days=40),
        amount=Decimal("1000.00"),
    )
    write_off = write_off_create(
        invoice=invoice,
        amount=Decimal("100.00"),
        written_off_on=today,
        reason="破产",
        decided_by=organisation.finance,
    )
    return {"east": east, "invoice": invoice, "write_off": write_off, "today": today}


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_chase_list_names_level_and_action(client, organisation, book):
    client.force_login(organisation.rep)

    body = client.get("/api/receivables/chase-list").json()

    assert body["count"] == 1
    row = body["items"][0]
    assert (row["customer_code"], row["action"], row["overdue_amount"]) == ("E1", "call", "900.00")
    assert row["invoices"][0]["days_past_due"] == 40


def test_a_promise_is_created_and_listed(client, organisation, book):
    client.force_login(organisation.rep)
    today = book["today"]
    url = f"/api/customers/{book['east'].pk}/promises-to-pay"

    created = _post(
        client,
        url,
        {
            "amount": "250.50",
            "promised_for": (today + dt.timedelta(days=5)).isoformat(),
            "invoice_ids": [book["invoice"].pk],
        },
    )

    assert created.status_code == 201, created.content
    promise = PromiseToPay.objects.get()
    assert created.json() == {
        "id": promise.pk,
        "customer_id": book["east"].pk,
        "amount": "250.50",
        "promised_for": (today + dt.timedelta(days=5)).isoformat(),
        "made_on": today.isoformat(),
        "recorded_by_id": organisation.rep.pk,
        "invoice_ids": [book["invoice"].pk],
        "paid": "0.00",
        "state": "open",
        "note": "",
    }
    assert client.get(url).json()["count"] == 1


def test_a_promise_for_another_customers_invoice_is_refused(client, organisation, book):
    other = CustomerFactory.create(code="E2", owner=organisation.rep)
    client.force_login(organisation.rep)

    response = _post(
        client,
        f"/api/customers/{other.pk}/promises-to-pay",
        {
            "amount": "1",
            "promised_for": book["today"].isoformat(),
            "invoice_ids": [book["invoice"].pk],
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"] == {"field": "invoice_id"}
    assert PromiseToPay.objects.count() == 0


def test_a_reversal_of_a_reversal_answers_409_and_changes_nothing(client, organisation, book):
    client.force_login(organisation.finance)
    url = f"/api/write-offs/{book['write_off'].pk}/reverse"

    first = _post(client, url, {"reason": "回款"})
    second = _post(client, url, {"reason": "again"})
    # the reversal is dated the day it is made: the fixture's day, or the next one when the
    # test runs across midnight
    reversal_days = {book["today"], timezone.localdate()}

    assert first.status_code == 200
    assert dt.date.fromisoformat(first.json()["reversed_on"]) in reversal_days
    assert second.status_code == 409
    assert "already reversed" in second.json()["message"]
    book["invoice"].refresh_from_db()
    assert book["invoice"].open_amount == Decimal("1000.00")
    assert WriteOff.objects.get().reversed_on in reversal_days
    assert ReceivableEvent.objects.filter(kind="write_off_reversed").count() == 1


def test_the_provision_matrix_shows_rates_and_history(client, organisation, book):
    client.force_login(organisation.finance)

    body = client.get("/api/receivables/provision-matrix", {"months": 2}).json()

    assert body["lookback_months"] == 2
    assert len(body["history"]) == 3
    assert [bucket["label"] for bucket in body["buckets"]][1] == "1–30"
    assert body["total_balance"] == "900.00"
