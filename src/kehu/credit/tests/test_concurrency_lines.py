"""Concurrent submissions and approvals (row locks on PostgreSQL): one open application per
customer, one decision per application, one line in force.

PostgreSQL only: SQLite has a single writer, so there is no race to test there."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from kehu.core.errors import Conflict
from kehu.credit.models import CreditLine, CreditLineApplication, CreditLineState
from kehu.credit.services.lines import (
    credit_line_application_approve,
    credit_line_application_submit,
)
from kehu.customers.tests.factories import CustomerFactory

THREADS = 6


def _race(jobs):
    start = threading.Barrier(len(jobs))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(job):
        try:
            start.wait()
            job()
            result = "done"
        except Conflict:
            result = "refused"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    workers = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return sorted(outcomes)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_submissions_leave_one_open_application(organisation):
    customer = CustomerFactory.create(owner=organisation.rep)

    def submit():
        credit_line_application_submit(
            customer=customer,
            applied_by=organisation.rep,
            requested_amount=Decimal("80000"),
            payment_terms_days=30,
            valid_until=timezone.localdate() + dt.timedelta(days=365),
        )

    outcomes = _race([submit] * THREADS)

    assert outcomes == ["done"] + ["refused"] * (THREADS - 1)
    assert CreditLineApplication.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_approvals_make_one_line(organisation):
    customer = CustomerFactory.create(owner=organisation.rep)
    application = credit_line_application_submit(
        customer=customer,
        applied_by=organisation.rep,
        requested_amount=Decimal("80000"),
        payment_terms_days=30,
        valid_until=timezone.localdate() + dt.timedelta(days=365),
    )
    approvers = [
        organisation.customer_manager,
        organisation.direct_sales_manager,
        organisation.regional_manager,
        organisation.top_management,
    ]

    outcomes = _race(
        [
            (lambda who=who: credit_line_application_approve(application=application, approver=who))
            for who in approvers
        ]
    )

    assert outcomes == ["done", "refused", "refused", "refused"]
    assert CreditLine.objects.filter(state=CreditLineState.ACTIVE).count() == 1
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("80000.00")
