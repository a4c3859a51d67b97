"""Concurrent allocations of one payment never over-allocate (row locks on PostgreSQL).

PostgreSQL only: SQLite has a single writer, so there is no race to test there; CI runs the
suite on PostgreSQL too, where this test runs.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from kehu.core.errors import Conflict
from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.models import Invoice, Payment, PaymentAllocation
from kehu.receivables.services import invoice_create, payment_allocate, payment_record

DAY = dt.date(2026, 1, 5)
THREADS = 10


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_allocations_of_one_payment_never_exceed_it(organisation):
    customer = CustomerFactory(owner=organisation.rep)
    invoices = [
        invoice_create(customer=customer, number=f"I{n}", issue_date=DAY, amount=Decimal("100.00"))
        for n in range(THREADS)
    ]
    payment = payment_record(
        customer=customer,
        number="P1",
        received_on=DAY,
        amount=Decimal("500.00"),
        invoices=[],
    )
    start = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def allocate(invoice: Invoice) -> None:
        try:
            start.wait()
            payment_allocate(payment=payment, invoice=invoice, amount=Decimal("100.00"))
            result = "allocated"
        except Conflict:
            result = "refused"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    workers = [threading.Thread(target=allocate, args=(invoice,)) for invoice in invoices]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    payment.refresh_from_db()
    allocated = sum(
        PaymentAllocation.objects.filter(payment=payment).values_list("amount", flat=True)
    )
    assert sorted(outcomes) == ["allocated"] * 5 + ["refused"] * 5
    assert allocated == Decimal("500.00")
    assert payment.unallocated_amount == Decimal("0.00")
    assert Payment.objects.get(pk=payment.pk).unallocated_amount == payment.amount - allocated
