"""A customer's orders through the API: exact amounts as strings, lines included, no N+1."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kehu.catalog.tests.factories import ProductFactory
from kehu.customers.tests.factories import CustomerFactory
from kehu.sales.services import OrderLineInput, order_create


@pytest.fixture
def customer(organisation):
    return CustomerFactory.create(code="E1", owner=organisation.rep)


def _order(customer, number: str, on: dt.date, state: str = "confirmed", lines: int = 1):
    product = ProductFactory.create(code=f"P-{number}", name="螺丝", standard_cost=Decimal("0.40"))
    return order_create(
        customer=customer,
        number=number,
        order_date=on,
        state=state,
        lines=[
            OrderLineInput(
                product=product,
                quantity=Decimal("3.5"),
                unit_price=Decimal("0.99"),
                discount_rate=Decimal("0.1"),
            )
            for _ in range(lines)
        ],
    )


def test_orders_come_newest_first_with_their_lines_and_exact_amounts(
    client, organisation, customer
):
    first = _order(customer, "O-1", dt.date(2025, 3, 1))
    second = _order(customer, "O-2", dt.date(2025, 4, 1))
    client.force_login(organisation.rep)

    response = client.get(f"/api/customers/{customer.pk}/orders")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [order["number"] for order in body["items"]] == ["O-2", "O-1"]
    latest = body["items"][0]
    assert latest == {
        "id": second.pk,
        "number": "O-2",
        "customer_id": customer.pk,
        "state": "confirmed",
        "order_date": "2025-04-01",
        "delivered_on": None,
        "payment_method": "credit",
        "currency": "CNY",
        # 3.5 × 0.99 × 0.9 = 3.1185 → 3.12; cost 3.5 × 0.40 = 1.40
        "total_amount": "3.12",
        "total_cost": "1.40",
        "gross_profit": "1.72",
        "owner": {"id": organisation.rep.pk, "username": "rep", "display_name": ""},
        "notes": "",
        "lines": [
            {
                "line_number": 1,
                "product": {"id": second.lines.get().product_id, "code": "P-O-2", "name": "螺丝"},
                "quantity": "3.500",
                "unit_price": "0.99",
                "unit_cost": "0.40",
                "discount_rate": "0.1000",
                "amount": "3.12",
                "cost": "1.40",
            }
        ],
    }
    assert first.pk == body["items"][1]["id"]


def test_orders_filter_by_state_and_dates(client, organisation, customer):
    _order(customer, "O-1", dt.date(2025, 1, 15))
    _order(customer, "O-2", dt.date(2025, 2, 15), state="draft")
    _order(customer, "O-3", dt.date(2025, 3, 15))
    client.force_login(organisation.finance)

    def numbers(query: str) -> list[str]:
        response = client.get(f"/api/customers/{customer.pk}/orders?{query}")
        assert response.status_code == 200
        return [order["number"] for order in response.json()["items"]]

    assert numbers("state=confirmed") == ["O-3", "O-1"]
    assert numbers("date_from=2025-02-01&date_to=2025-03-15") == ["O-3", "O-2"]
    assert numbers("limit=1&offset=2") == ["O-1"]


def test_orders_of_a_hidden_customer_answer_404(client, organisation, customer):
    _order(customer, "O-1", dt.date(2025, 1, 15))
    client.force_login(organisation.other_rep)

    response = client.get(f"/api/customers/{customer.pk}/orders")

    assert response.status_code == 404


def test_the_order_list_reads_a_fixed_number_of_queries(
    client, organisation, customer, django_assert_max_num_queries
):
    for number in range(12):
        _order(customer, f"O-{number}", dt.date(2025, 1, 1) + dt.timedelta(days=number), lines=3)
    client.force_login(organisation.rep)
    client.get("/api/me")

    # session, user, customer (+ its tags), count, orders (with owner), lines (with product)
    with django_assert_max_num_queries(7):
        response = client.get(f"/api/customers/{customer.pk}/orders")

    assert len(response.json()["items"]) == 12
    assert all(len(order["lines"]) == 3 for order in response.json()["items"])
