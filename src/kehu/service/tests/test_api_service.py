"""A customer's activities and complaints through the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kehu.customers.tests.factories import ContactFactory, CustomerFactory
from kehu.service.services import activity_log, complaint_create


@pytest.fixture
def customer(organisation):
    return CustomerFactory.create(code="E1", owner=organisation.rep)


def test_activities_come_newest_first_with_exact_cost(client, organisation, customer):
    contact = ContactFactory.create(customer=customer, name="王经理")
    visit = activity_log(
        customer=customer,
        kind="visit",
        occurred_on=dt.date(2025, 5, 2),
        owner=organisation.rep,
        subject="季度拜访",
        outcome="successful",
        cost=Decimal("350.50"),
        contact=contact,
    )
    activity_log(
        customer=customer, kind="call", occurred_on=dt.date(2025, 5, 1), owner=organisation.rep
    )
    client.force_login(organisation.rep)

    response = client.get(f"/api/customers/{customer.pk}/activities")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["items"][0] == {
        "id": visit.pk,
        "customer_id": customer.pk,
        "kind": "visit",
        "occurred_on": "2025-05-02",
        "owner": {"id": organisation.rep.pk, "username": "rep", "display_name": ""},
        "contact": {"id": contact.pk, "name": "王经理"},
        "subject": "季度拜访",
        "outcome": "successful",
        "outcome_note": "",
        "cost": "350.50",
        "currency": "CNY",
    }
    assert body["items"][1]["outcome"] is None
    assert body["items"][1]["contact"] is None
    calls = client.get(f"/api/customers/{customer.pk}/activities?kind=call").json()
    assert [item["kind"] for item in calls["items"]] == ["call"]


def test_complaints_are_listed_with_their_state(client, organisation, customer):
    complaint = complaint_create(
        customer=customer,
        received_on=dt.date(2025, 6, 1),
        category="delivery",
        text="送货晚了三天",
        owner=organisation.customer_manager,
    )
    client.force_login(organisation.regional_manager)

    response = client.get(f"/api/customers/{customer.pk}/complaints?state=open")

    assert response.status_code == 200
    assert response.json()["items"] == [
        {
            "id": complaint.pk,
            "customer_id": customer.pk,
            "received_on": "2025-06-01",
            "category": "delivery",
            "text": "送货晚了三天",
            "owner": {"id": organisation.customer_manager.pk, "username": "cm", "display_name": ""},
            "state": "open",
            "resolved_on": None,
        }
    ]
    resolved = client.get(f"/api/customers/{customer.pk}/complaints?state=resolved").json()
    assert resolved["count"] == 0


def test_activities_and_complaints_of_a_hidden_customer_answer_404(client, organisation, customer):
    client.force_login(organisation.other_rep)

    assert client.get(f"/api/customers/{customer.pk}/activities").status_code == 404
    assert client.get(f"/api/customers/{customer.pk}/complaints").status_code == 404
