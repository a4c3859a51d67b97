"""Entering and confirming orders through the API: the sales services run the order credit
check, so an order beyond credit comes back held with its reasons, and nothing is lost."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.catalog.tests.factories import ProductFactory
from kehu.credit.models import CreditCheck, HoldState
from kehu.credit.tests.factories import CreditLineFactory
from kehu.customers.tests.factories import CustomerFactory
from kehu.sales.models import Order, OrderState


@pytest.fixture
def customer(organisation):
    return CustomerFactory.create(code="E1", owner=organisation.rep)


@pytest.fixture
def product(db):
    return ProductFactory.create(code="P1", standard_cost=Decimal("4.00"))


def _line(customer, amount: str):
    today = timezone.localdate()
    return CreditLineFactory.create(
        customer=customer,
        amount=Decimal(amount),
        valid_from=today - dt.timedelta(days=10),
        valid_until=today + dt.timedelta(days=300),
    )


def _post(client, url: str, body: dict):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _order_body(product, *, number="SO-1", price="100.00", quantity="3", **fields):
    return {
        "number": number,
        "order_date": timezone.localdate().isoformat(),
        "lines": [{"product_id": product.pk, "quantity": quantity, "unit_price": price}],
        **fields,
    }


def test_a_confirmed_credit_order_within_the_line_is_confirmed(
    client, organisation, customer, product
):
    _line(customer, "1000.00")
    client.force_login(organisation.rep)

    response = _post(
        client,
        f"/api/customers/{customer.pk}/orders",
        _order_body(product, state="confirmed"),
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "confirmed"
    assert body["total_amount"] == "300.00"
    assert body["total_cost"] == "12.00"
    assert body["credit_check"]["result"] == "passed"
    assert body["credit_check"]["exposure"] == "300.00"
    assert body["credit_check"]["line_amount"] == "1000.00"


def test_a_credit_order_without_a_line_is_held_with_that_reason_and_kept(
    client, organisation, customer, product
):
    client.force_login(organisation.rep)

    response = _post(
        client,
        f"/api/customers/{customer.pk}/orders",
        _order_body(product, state="confirmed"),
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == OrderState.CREDIT_HOLD
    assert body["credit_check"]["result"] == "held"
    assert body["credit_check"]["reasons"] == ["no_line"]
    assert body["credit_check"]["hold_state"] == HoldState.OPEN
    assert Order.objects.get(number="SO-1").state == OrderState.CREDIT_HOLD


def test_a_cash_order_goes_through_without_a_line(client, organisation, customer, product):
    client.force_login(organisation.rep)

    response = _post(
        client,
        f"/api/customers/{customer.pk}/orders",
        _order_body(product, state="confirmed", payment_method="cash"),
    )

    assert response.status_code == 201, response.content
    assert response.json()["state"] == "confirmed"
    assert response.json()["credit_check"] is None
    assert CreditCheck.objects.count() == 0


def test_confirming_a_draft_beyond_the_line_holds_it_and_a_held_order_cannot_be_forced_on(
    client, organisation, customer, product
):
    _line(customer, "250.00")
    client.force_login(organisation.rep)
    created = _post(client, f"/api/customers/{customer.pk}/orders", _order_body(product))
    assert created.json()["state"] == "draft"
    assert created.json()["credit_check"] is None
    order_id = created.json()["id"]

    confirmed = _post(client, f"/api/orders/{order_id}/state", {"state": "confirmed"})

    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["state"] == OrderState.CREDIT_HOLD
    assert confirmed.json()["credit_check"]["reasons"] == ["over_line"]
    assert confirmed.json()["credit_check"]["excess"] == "50.00"
    forced = _post(client, f"/api/orders/{order_id}/state", {"state": "confirmed"})
    assert forced.status_code == 409
    assert Order.objects.get(pk=order_id).state == OrderState.CREDIT_HOLD


def test_bad_orders_are_refused_naming_what_is_wrong_and_nothing_is_written(
    client, organisation, customer, product
):
    client.force_login(organisation.rep)
    url = f"/api/customers/{customer.pk}/orders"

    unknown = _post(
        client,
        url,
        {
            **_order_body(product),
            "lines": [{"product_id": 999999, "quantity": "1", "unit_price": "1.00"}],
        },
    )
    negative = _post(client, url, _order_body(product, quantity="-1"))
    empty = _post(client, url, {**_order_body(product), "lines": []})
    state = _post(client, url, _order_body(product, state="invoiced"))

    assert unknown.status_code == 422
    assert "product 999999 does not exist" in unknown.json()["message"]
    assert negative.status_code == 422
    assert negative.json()["detail"][0]["field"] == "lines.0.quantity"
    assert empty.status_code == 422
    assert state.status_code == 422
    assert Order.objects.count() == 0


def test_another_reps_customer_answers_404(client, organisation, customer, product):
    client.force_login(organisation.other_rep)

    response = _post(client, f"/api/customers/{customer.pk}/orders", _order_body(product))

    assert response.status_code == 404
    assert Order.objects.count() == 0
