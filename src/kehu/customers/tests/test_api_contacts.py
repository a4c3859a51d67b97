"""Contacts through the API: list, add, read and change (never delete: they keep history)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from kehu.customers.models import Contact
from kehu.customers.tests.factories import ContactFactory, CustomerFactory


def _json(client, method: str, url: str, body: object):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def east_customer(organisation):
    return CustomerFactory.create(code="E1", owner=organisation.rep)


@pytest.fixture
def west_contact(organisation):
    return ContactFactory.create(
        customer=CustomerFactory.create(code="W1", owner=organisation.other_rep), name="西部联系人"
    )


def test_a_rep_adds_a_contact_with_a_lunar_birthday(
    client, organisation, east_customer, monkeypatch
):
    monkeypatch.setattr(timezone, "localdate", lambda *args: dt.date(2025, 9, 1))
    client.force_login(organisation.rep)

    response = _json(
        client,
        "post",
        f"/api/customers/{east_customer.pk}/contacts",
        {
            "name": " 王经理 ",
            "role": "decision_maker",
            "phone": "138-0000",
            "birthday_calendar": "lunar",
            "birth_month": 8,
            "birth_day": 15,
            "is_primary": True,
        },
    )

    assert response.status_code == 201, response.json()
    contact = Contact.objects.get()
    body = response.json()
    assert body["id"] == contact.pk
    assert body["customer_id"] == east_customer.pk
    assert body["name"] == "王经理"
    assert body["role"] == "decision_maker"
    assert body["birthday_calendar"] == "lunar"
    assert (body["birth_month"], body["birth_day"], body["birth_year"]) == (8, 15, None)
    # Mid-Autumn: the 15th of the 8th lunar month fell on 6 October 2025.
    assert body["next_birthday"] == "2025-10-06"
    assert contact.history.get().history_user == organisation.rep


def test_the_contacts_of_a_customer_are_listed_primary_first(client, organisation, east_customer):
    ContactFactory.create(customer=east_customer, name="乙", is_primary=False)
    ContactFactory.create(customer=east_customer, name="甲", is_primary=True)
    client.force_login(organisation.customer_manager)

    response = client.get(f"/api/customers/{east_customer.pk}/contacts")

    assert response.status_code == 200
    assert [(c["name"], c["is_primary"]) for c in response.json()] == [("甲", True), ("乙", False)]


def test_a_contact_is_changed_with_a_reason_kept_in_its_history(
    client, organisation, east_customer
):
    contact = ContactFactory.create(customer=east_customer, name="李四", phone="1")
    client.force_login(organisation.rep)

    response = _json(
        client, "patch", f"/api/contacts/{contact.pk}", {"phone": "139-1111", "reason": "换号"}
    )

    assert response.status_code == 200
    assert response.json()["phone"] == "139-1111"
    contact.refresh_from_db()
    latest = contact.history.first()
    assert (latest.phone, latest.history_change_reason, latest.history_user) == (
        "139-1111",
        "换号",
        organisation.rep,
    )


def test_a_leap_month_on_a_solar_birthday_is_refused_naming_the_field(
    client, organisation, east_customer
):
    contact = ContactFactory.create(customer=east_customer, name="李四")
    client.force_login(organisation.rep)

    created = _json(
        client,
        "post",
        f"/api/customers/{east_customer.pk}/contacts",
        {"name": "新", "birth_month": 4, "birth_month_is_leap": True},
    )
    changed = _json(client, "patch", f"/api/contacts/{contact.pk}", {"birth_month_is_leap": True})

    for response in (created, changed):
        assert response.status_code == 422
        assert response.json() == {
            "message": "only a lunar birthday can fall in a leap month",
            "detail": {"field": "birth_month_is_leap"},
        }
    assert list(Contact.objects.values_list("name", "birth_month_is_leap")) == [("李四", False)]


def test_a_contact_of_a_hidden_customer_answers_404_and_is_not_changed(
    client, organisation, west_contact
):
    client.force_login(organisation.rep)

    read = client.get(f"/api/contacts/{west_contact.pk}")
    change = _json(client, "patch", f"/api/contacts/{west_contact.pk}", {"name": "改"})
    add = _json(
        client, "post", f"/api/customers/{west_contact.customer_id}/contacts", {"name": "新"}
    )
    listing = client.get(f"/api/customers/{west_contact.customer_id}/contacts")

    assert [r.status_code for r in (read, change, add, listing)] == [404, 404, 404, 404]
    assert list(Contact.objects.values_list("name", flat=True)) == ["西部联系人"]


def test_contacts_cannot_be_deleted(client, organisation, east_customer):
    contact = ContactFactory.create(customer=east_customer)
    client.force_login(organisation.administrator)

    response = client.delete(f"/api/contacts/{contact.pk}")

    assert response.status_code == 405
    assert Contact.objects.filter(pk=contact.pk).exists()
