"""Parallel confirmations for one customer (or one group) never pass beyond the line: the
credit check locks the group row and the customer's credit row before it reads the exposure.

PostgreSQL only: SQLite has a single writer, so there is no race to test there; CI runs the
suite on PostgreSQL too, where this test runs.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from kehu.catalog.tests.factories import ProductFactory
from kehu.credit.models import CreditCheck, CustomerCredit, HoldState
from kehu.credit.selectors.exposure import exposure_of
from kehu.credit.tests.factories import CreditGroupFactory
from kehu.credit.tests.hold_helpers import line_for, today
from kehu.customers.tests.factories import CustomerFactory
from kehu.sales.models import Order, OrderState
from kehu.sales.services import OrderLineInput, order_create

THREADS = 24
D = Decimal


def _confirm_in_parallel(customers, actor, amount: Decimal) -> list[Order]:
    """Each thread confirms one order of `amount` for customers[i % len], all at once."""
    product = ProductFactory.create()
    start = threading.Barrier(THREADS)
    orders: list[Order] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        try:
            start.wait()
            order = order_create(
                customer=customers[index % len(customers)],
                number=f"PAR-{index:03d}",
                order_date=today(),
                lines=[
                    OrderLineInput(
                        product=product, quantity=D(1), unit_price=amount, unit_cost=D(0)
                    )
                ],
                actor=actor,
            )
            with lock:
                orders.append(order)
        except BaseException as error:  # reported by the assertion below
            with lock:
                errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, args=(index,)) for index in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    return orders


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_confirmations_for_one_customer_never_exceed_its_line(organisation):
    # Given a line of 10,000 and 24 orders of 1,000 confirmed at the same moment
    customer = CustomerFactory.create(owner=organisation.rep)
    line_for(customer, "10000.00")

    orders = _confirm_in_parallel([customer], organisation.rep, D("1000.00"))

    # Then exactly ten pass, the others wait in the hold queue, none is lost
    states = sorted(Order.objects.filter(customer=customer).values_list("state", flat=True))
    assert len(orders) == THREADS
    assert states == [OrderState.CONFIRMED] * 10 + [OrderState.CREDIT_HOLD] * 14
    assert exposure_of(customer_ids=[customer.pk]).total == D("10000.00")
    assert CreditCheck.objects.filter(customer=customer, result="passed").count() == 10
    held = CreditCheck.objects.filter(customer=customer, result="held")
    assert held.count() == 14
    assert set(held.values_list("hold_state", flat=True)) == {HoldState.OPEN}
    assert set(held.values_list("exposure", flat=True)) == {D("11000.00")}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_confirmations_across_a_group_never_exceed_the_group_line(organisation):
    # Given three members with ample own lines sharing a group line of 6,000
    group = CreditGroupFactory.create()
    members = [CustomerFactory.create(owner=organisation.rep) for _ in range(3)]
    for member in members:
        CustomerCredit.objects.create(customer=member, group=group)
        line_for(member, "100000.00")
    line_for(None, "6000.00", group=group)

    _confirm_in_parallel(members, organisation.rep, D("1000.00"))

    ids = [member.pk for member in members]
    confirmed = Order.objects.filter(customer_id__in=ids, state=OrderState.CONFIRMED).count()
    held = Order.objects.filter(customer_id__in=ids, state=OrderState.CREDIT_HOLD).count()
    assert (confirmed, held) == (6, 18)
    assert exposure_of(customer_ids=ids).total == D("6000.00")
