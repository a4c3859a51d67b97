"""Pages of the follow-up: who sees what, forms with clear errors, exports, reversal."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import polars as pl
import pytest
from django.utils import timezone

from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.models import CollectionNote, PromiseToPay, ReceivableEvent, WriteOff
from kehu.receivables.services import invoice_create, write_off_create

BASE = "/receivables/collections/"
D = Decimal


@pytest.fixture
def book(organisation):
    today = timezone.localdate()
    east = CustomerFactory.create(code="E1", name="东方公司", owner=organisation.rep)
    west = CustomerFactory.create(code="W1", name="西方公司", owner=organisation.other_rep)
    invoices = {}
    for customer, number, days in ((east, "E-40", 40), (west, "W-100", 100)):
        due = today - dt.timedelta(days=days)
        invoices[number] = invoice_create(
            customer=customer,
            number=number,
            issue_date=due - dt.timedelta(days=30),
            due_date=due,
            amount=D("1000"),
        )
    write_off = write_off_create(
        invoice=invoices["W-100"],
        amount=D("400"),
        written_off_on=today,
        reason="破产",
        decided_by=organisation.finance,
        credit_given_by=organisation.other_rep,
    )
    return {"east": east, "west": west, "write_off": write_off, "today": today, **invoices}


def _text(response) -> str:
    return response.content.decode()


def test_a_rep_sees_only_their_chase_list(client, organisation, book):
    client.force_login(organisation.rep)

    response = client.get(BASE)

    assert response.status_code == 200
    assert "E-40" in _text(response)
    assert "W-100" not in _text(response)


def test_finance_sees_everyone_and_filters_by_person(client, organisation, book):
    client.force_login(organisation.finance)

    everyone = _text(client.get(BASE))
    one = _text(client.get(BASE, {"person": organisation.other_rep.pk}))
    partial = client.get(
        BASE, {"sort": "-overdue"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="chase-results"
    )

    assert "E-40" in everyone
    assert "W-100" in everyone
    assert "W-100" in one
    assert "E-40" not in one
    assert partial.status_code == 200
    assert "<form" not in _text(partial)


def test_the_empty_chase_list_says_so(client, organisation):
    client.force_login(organisation.rep)

    response = client.get(BASE)

    assert response.status_code == 200
    assert "empty-state" in _text(response)


def test_chase_list_exports_to_excel(client, organisation, book):
    client.force_login(organisation.finance)

    response = client.get(BASE + "chase.xlsx")

    assert response.status_code == 200
    frame = pl.read_excel(io.BytesIO(b"".join(response.streaming_content)), engine="calamine")
    assert sorted(frame.to_series(3).to_list()) == ["E-40", "W-100"]
    assert sorted(frame.to_series(5).to_list()) == [40, 100]


def test_the_customer_panel_is_404_for_someone_elses_customer(client, organisation, book):
    client.force_login(organisation.rep)

    assert client.get(f"{BASE}customers/{book['east'].pk}/").status_code == 200
    assert client.get(f"{BASE}customers/{book['west'].pk}/").status_code == 404
    assert client.get(f"{BASE}customers/999999/").status_code == 404


def test_adding_a_note_and_a_promise_from_the_panel(client, organisation, book):
    client.force_login(organisation.rep)
    url = f"{BASE}customers/{book['east'].pk}/"
    today = book["today"].isoformat()

    note = client.post(
        url,
        {
            "form": "note",
            "note-contacted_on": today,
            "note-channel": "phone",
            "note-outcome": "successful",
            "note-text": "答应下周付",
        },
    )
    promise = client.post(
        url,
        {
            "form": "promise",
            "promise-amount": "600",
            "promise-made_on": today,
            "promise-promised_for": (book["today"] + dt.timedelta(days=7)).isoformat(),
            "promise-invoices": [book["E-40"].pk],
        },
    )

    assert note.status_code == 302
    assert promise.status_code == 302
    assert CollectionNote.objects.get().text == "答应下周付"
    assert list(PromiseToPay.objects.get().invoices.all()) == [book["E-40"]]
    page = _text(client.get(url))
    assert "答应下周付" in page
    assert "600.00" in page


def test_a_bad_promise_is_refused_with_the_field_named(client, organisation, book):
    client.force_login(organisation.rep)
    url = f"{BASE}customers/{book['east'].pk}/"

    response = client.post(
        url,
        {
            "form": "promise",
            "promise-amount": "600",
            "promise-made_on": book["today"].isoformat(),
            "promise-promised_for": (book["today"] - dt.timedelta(days=1)).isoformat(),
        },
    )

    assert response.status_code == 422
    assert "before the day the promise was made" in _text(response)
    assert PromiseToPay.objects.count() == 0


def test_vanished_debtors_page_and_export(client, organisation, book):
    client.force_login(organisation.finance)

    page = client.get(BASE + "vanished/", {"days": "30"})
    export = client.get(BASE + "vanished.xlsx", {"days": "30"})

    assert page.status_code == 200
    assert "东方公司" in _text(page)
    assert "西方公司" in _text(page)
    assert export.status_code == 200
    client.force_login(organisation.rep)
    assert "西方公司" not in _text(client.get(BASE + "vanished/", {"days": "30"}))


def test_write_offs_show_who_decided_and_finance_reverses(client, organisation, book):
    client.force_login(organisation.finance)
    page = _text(client.get(BASE + "write-offs/"))
    assert "破产" in page
    assert str(organisation.other_rep) in page

    response = client.post(f"{BASE}write-offs/{book['write_off'].pk}/reverse/", {"reason": "回款"})

    assert response.status_code == 302
    book["W-100"].refresh_from_db()
    assert book["W-100"].open_amount == D("1000.00")
    assert WriteOff.objects.get().reversed_on == book["today"]
    assert client.get(BASE + "write-offs.xlsx").status_code == 200


def test_a_rep_may_not_reverse_and_sees_only_their_write_offs(client, organisation, book):
    client.force_login(organisation.other_rep)
    assert "破产" in _text(client.get(BASE + "write-offs/"))

    response = client.post(f"{BASE}write-offs/{book['write_off'].pk}/reverse/", {"reason": "x"})

    assert response.status_code == 403
    assert WriteOff.objects.get().reversed_on is None
    assert ReceivableEvent.objects.count() == 1
    client.force_login(organisation.rep)
    assert "破产" not in _text(client.get(BASE + "write-offs/"))
    assert client.post(f"{BASE}write-offs/{book['write_off'].pk}/reverse/").status_code == 404


def test_the_provision_matrix_is_for_finance(client, organisation, book):
    client.force_login(organisation.finance)

    page = client.get(BASE + "provision/", {"months": "3", "factor": "1.1"})
    export = client.get(BASE + "provision.xlsx")

    assert page.status_code == 200
    assert "东方公司" in _text(page)
    assert export.status_code == 200
    client.force_login(organisation.rep)
    assert client.get(BASE + "provision/").status_code == 403
