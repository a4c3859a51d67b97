import datetime as dt
from decimal import Decimal

import pytest

from kehu.catalog.tests.factories import ProductFactory
from kehu.core.errors import Conflict, ValidationFailed
from kehu.customers.lifecycle import lifecycle_of
from kehu.customers.models import Lifecycle
from kehu.customers.tests.factories import CustomerFactory
from kehu.sales.models import Order, OrderState
from kehu.sales.services import OrderLineInput, order_create, order_line_amount, order_set_state

D = Decimal


@pytest.fixture
def product(db):
    return ProductFactory(list_price=D("100.00"), standard_cost=D("61.50"))


def test_line_amount_rounds_half_up_to_cents():
    amount = order_line_amount(quantity=D("3"), unit_price=D("10.005"), discount_rate=D("0"))

    assert amount == D("30.02")


def test_an_order_sums_its_lines_and_makes_a_prospect_a_new_customer(product):
    customer = CustomerFactory()
    assert lifecycle_of(purchase_count=0, last_purchase_on=None, today=dt.date(2026, 3, 1)) == (
        Lifecycle.PROSPECT
    )

    order = order_create(
        customer=customer,
        number="SO1",
        order_date=dt.date(2026, 2, 1),
        lines=[
            OrderLineInput(product=product, quantity=D("2"), unit_price=D("100.00")),
            OrderLineInput(
                product=product, quantity=D("1"), unit_price=D("80.00"), discount_rate=D("0.25")
            ),
        ],
    )

    assert order.total_amount == D("260.00")
    assert order.total_cost == D("184.50")
    customer.refresh_from_db()
    assert customer.purchase_count == 1
    assert customer.lifecycle_on(dt.date(2026, 3, 1)) == Lifecycle.NEW


def test_a_negative_quantity_is_refused_and_nothing_is_written(product):
    customer = CustomerFactory()

    with pytest.raises(ValidationFailed, match="line 2: quantity must be positive"):
        order_create(
            customer=customer,
            number="SO1",
            order_date=dt.date(2026, 2, 1),
            lines=[
                OrderLineInput(product=product, quantity=D("1"), unit_price=D("1.00")),
                OrderLineInput(product=product, quantity=D("-1"), unit_price=D("1.00")),
            ],
        )

    assert not Order.objects.exists()


def test_cancelling_the_only_order_makes_the_customer_a_prospect_again(product):
    customer = CustomerFactory()
    order = order_create(
        customer=customer,
        number="SO1",
        order_date=dt.date(2026, 2, 1),
        lines=[OrderLineInput(product=product, quantity=D("1"), unit_price=D("5.00"))],
    )

    order_set_state(order=order, state=OrderState.CANCELLED)

    customer.refresh_from_db()
    assert customer.purchase_count == 0
    assert customer.last_purchase_on is None


def test_an_invoiced_order_cannot_be_cancelled(product):
    customer = CustomerFactory()
    order = order_create(
        customer=customer,
        number="SO1",
        order_date=dt.date(2026, 2, 1),
        lines=[OrderLineInput(product=product, quantity=D("1"), unit_price=D("5.00"))],
        state=OrderState.INVOICED,
    )

    with pytest.raises(Conflict, match="cannot go from invoiced to cancelled"):
        order_set_state(order=order, state=OrderState.CANCELLED)

    assert Order.objects.get(pk=order.pk).state == OrderState.INVOICED
