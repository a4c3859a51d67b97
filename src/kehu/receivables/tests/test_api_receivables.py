"""A customer's invoices and payments through the API: exact money, allocations, no N+1."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.services import invoice_create, payment_record


@pytest.fixture
def customer(organisation):
    return CustomerFactory.create(code="E1", owner=organisation.rep, payment_terms_days=30)


@pytest.fixture
def ledger(customer):
    today = timezone.localdate()
    old = invoice_create(
        customer=customer,
        number="INV-1",
        issue_date=today - dt.timedelta(days=90),
        amount=Decimal("1000.10"),
    )
    new = invoice_create(
        customer=customer,
        number="INV-2",
        issue_date=today - dt.timedelta(days=5),
        amount=Decimal("500.00"),
    )
    # 1200.00 pays INV-1 (1000.10) and 199.90 of INV-2, oldest first.
    payment = payment_record(
        customer=customer,
        number="PAY-1",
        received_on=today - dt.timedelta(days=2),
        amount=Decimal("1200.00"),
        reference="银行回单 7",
    )
    return {"old": old, "new": new, "payment": payment, "today": today}


def test_invoices_show_open_amounts_and_overdue_exactly(client, organisation, customer, ledger):
    client.force_login(organisation.rep)

    response = client.get(f"/api/customers/{customer.pk}/invoices")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    today = ledger["today"]
    assert body["items"] == [
        {
            "id": ledger["new"].pk,
            "number": "INV-2",
            "customer_id": customer.pk,
            "order_id": None,
            "issue_date": (today - dt.timedelta(days=5)).isoformat(),
            "payment_terms_days": 30,
            "due_date": (today + dt.timedelta(days=25)).isoformat(),
            "amount": "500.00",
            "open_amount": "300.10",
            "currency": "CNY",
            "is_cancelled": False,
            "is_overdue": False,
        },
        {
            "id": ledger["old"].pk,
            "number": "INV-1",
            "customer_id": customer.pk,
            "order_id": None,
            "issue_date": (today - dt.timedelta(days=90)).isoformat(),
            "payment_terms_days": 30,
            "due_date": (today - dt.timedelta(days=60)).isoformat(),
            "amount": "1000.10",
            "open_amount": "0.00",
            "currency": "CNY",
            "is_cancelled": False,
            "is_overdue": False,
        },
    ]
    open_only = client.get(f"/api/customers/{customer.pk}/invoices?is_open=true").json()
    settled = client.get(f"/api/customers/{customer.pk}/invoices?is_open=false").json()
    assert [item["number"] for item in open_only["items"]] == ["INV-2"]
    assert [item["number"] for item in settled["items"]] == ["INV-1"]


def test_payments_show_their_allocations(client, organisation, customer, ledger):
    client.force_login(organisation.finance)

    response = client.get(f"/api/customers/{customer.pk}/payments")

    assert response.status_code == 200
    [payment] = response.json()["items"]
    today = ledger["today"]
    received = (today - dt.timedelta(days=2)).isoformat()
    allocations = ledger["payment"].allocations.order_by("allocated_on", "id")
    assert payment == {
        "id": ledger["payment"].pk,
        "number": "PAY-1",
        "customer_id": customer.pk,
        "received_on": received,
        "amount": "1200.00",
        "unallocated_amount": "0.00",
        "method": "bank_transfer",
        "reference": "银行回单 7",
        "currency": "CNY",
        "allocations": [
            {
                "id": allocations[0].pk,
                "invoice_id": ledger["old"].pk,
                "invoice_number": "INV-1",
                "amount": "1000.10",
                "allocated_on": received,
                "reversed_on": None,
            },
            {
                "id": allocations[1].pk,
                "invoice_id": ledger["new"].pk,
                "invoice_number": "INV-2",
                "amount": "199.90",
                "allocated_on": received,
                "reversed_on": None,
            },
        ],
    }


def test_receivables_of_a_hidden_customer_answer_404(client, organisation, customer, ledger):
    client.force_login(organisation.other_rep)

    assert client.get(f"/api/customers/{customer.pk}/invoices").status_code == 404
    assert client.get(f"/api/customers/{customer.pk}/payments").status_code == 404


def test_the_payment_list_reads_a_fixed_number_of_queries(
    client, organisation, customer, django_assert_max_num_queries
):
    today = timezone.localdate()
    for number in range(10):
        invoice_create(
            customer=customer,
            number=f"I{number}",
            issue_date=today - dt.timedelta(days=30),
            amount=Decimal("10.00"),
        )
    for number in range(5):
        payment_record(
            customer=customer, number=f"P{number}", received_on=today, amount=Decimal("20.00")
        )
    client.force_login(organisation.rep)
    client.get("/api/me")

    # session, user, customer (+ its tags), count, payments, allocations (with invoices)
    with django_assert_max_num_queries(7):
        response = client.get(f"/api/customers/{customer.pk}/payments")

    assert [len(p["allocations"]) for p in response.json()["items"]] == [2, 2, 2, 2, 2]
