"""The receivables ledger: allocations, credit, refusals, and balances that always reconcile."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.core.errors import Conflict, ValidationFailed
from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.models import Invoice, Payment, PaymentAllocation
from kehu.receivables.selectors import customer_balance
from kehu.receivables.services import (
    allocation_reverse,
    credit_note_create,
    invoice_create,
    invoice_open_amount_from_ledger,
    payment_allocate,
    payment_record,
    write_off_create,
)

D = Decimal
DAY = dt.date(2026, 1, 1)


@pytest.fixture
def customer(db):
    return CustomerFactory(payment_terms_days=30)


def test_invoice_due_date_follows_the_customer_terms(customer):
    invoice = invoice_create(customer=customer, number="I1", issue_date=DAY, amount=D("100.00"))

    assert invoice.due_date == dt.date(2026, 1, 31)
    assert invoice.open_amount == D("100.00")


def test_payment_is_allocated_oldest_first_and_the_excess_stays_as_credit(customer):
    older = invoice_create(customer=customer, number="I1", issue_date=DAY, amount=D("100.00"))
    newer = invoice_create(
        customer=customer, number="I2", issue_date=DAY + dt.timedelta(days=5), amount=D("50.00")
    )

    payment = payment_record(
        customer=customer, number="P1", received_on=dt.date(2026, 2, 1), amount=D("180.00")
    )

    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.open_amount, newer.open_amount) == (D("0.00"), D("0.00"))
    assert payment.unallocated_amount == D("30.00")
    assert customer_balance(customer)["balance"] == D("-30.00")


def test_payment_to_a_named_invoice_beyond_its_open_amount_keeps_the_excess(customer):
    first = invoice_create(customer=customer, number="I1", issue_date=DAY, amount=D("100.00"))
    second = invoice_create(customer=customer, number="I2", issue_date=DAY, amount=D("100.00"))

    payment = payment_record(
        customer=customer,
        number="P1",
        received_on=dt.date(2026, 1, 5),
        amount=D("150.00"),
        invoices=[second],
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.open_amount == D("100.00")
    assert second.open_amount == D("0.00")
    assert payment.unallocated_amount == D("50.00")


@pytest.mark.parametrize(
    ("amount", "on", "message"),
    [
        (D("120.00"), dt.date(2026, 1, 5), "still open"),
        (D("10.00"), dt.date(2025, 12, 31), "before the invoice"),
    ],
)
def test_a_bad_allocation_is_refused_and_changes_nothing(customer, amount, on, message):
    invoice = invoice_create(customer=customer, number="I1", issue_date=DAY, amount=D("100.00"))
    payment = payment_record(
        customer=customer,
        number="P1",
        received_on=dt.date(2025, 12, 1),
        amount=D("500.00"),
        invoices=[],
    )

    with pytest.raises((Conflict, ValidationFailed), match=message):
        payment_allocate(payment=payment, invoice=invoice, amount=amount, allocated_on=on)

    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert invoice.open_amount == D("100.00")
    assert payment.unallocated_amount == D("500.00")
    assert PaymentAllocation.objects.count() == 0


def test_allocating_to_another_customers_invoice_is_refused(customer):
    other = CustomerFactory()
    invoice = invoice_create(customer=other, number="I1", issue_date=DAY, amount=D("100.00"))
    payment = payment_record(
        customer=customer, number="P1", received_on=DAY, amount=D("50.00"), invoices=[]
    )

    with pytest.raises(ValidationFailed, match="another customer"):
        payment_allocate(payment=payment, invoice=invoice, amount=D("10.00"))

    assert Invoice.objects.get(pk=invoice.pk).open_amount == D("100.00")


def test_a_reversal_restores_both_balances_and_cannot_be_reversed_twice(customer):
    invoice = invoice_create(customer=customer, number="I1", issue_date=DAY, amount=D("100.00"))
    payment = payment_record(customer=customer, number="P1", received_on=DAY, amount=D("60.00"))
    allocation = payment.allocations.get()

    allocation_reverse(allocation=allocation, on=dt.date(2026, 1, 3))

    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert invoice.open_amount == D("100.00")
    assert payment.unallocated_amount == D("60.00")
    with pytest.raises(Conflict, match="already reversed"):
        allocation_reverse(allocation=allocation, on=dt.date(2026, 1, 4))


def test_a_write_off_beyond_the_balance_is_refused(customer, organisation):
    invoice = invoice_create(customer=customer, number="I1", issue_date=DAY, amount=D("100.00"))

    with pytest.raises(Conflict, match="balance"):
        write_off_create(
            invoice=invoice,
            amount=D("100.01"),
            written_off_on=dt.date(2026, 6, 1),
            reason="客户失联",
            decided_by=organisation.finance,
        )

    assert invoice.write_offs.count() == 0


def test_a_payment_dated_in_the_future_is_refused(customer):
    with pytest.raises(ValidationFailed, match="future"):
        payment_record(
            customer=customer, number="P1", received_on=dt.date(2999, 1, 1), amount=D("1.00")
        )

    assert Payment.objects.count() == 0


amounts = st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), amounts),
        st.tuples(st.just("payment"), amounts),
        st.tuples(st.just("credit_note"), amounts),
        st.tuples(st.just("write_off"), amounts),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=50)),
    ),
    min_size=1,
    max_size=25,
)


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_balances_always_reconcile_whatever_the_sequence(organisation, steps):
    """Money in = money allocated + credit left; every invoice's balance equals its entries."""
    customer = CustomerFactory(owner=organisation.rep)
    for index, (kind, value) in enumerate(steps):
        on = DAY + dt.timedelta(days=index)
        try:
            if kind == "invoice":
                invoice_create(
                    customer=customer, number=f"{customer.pk}-I{index}", issue_date=on, amount=value
                )
            elif kind == "payment":
                payment_record(
                    customer=customer,
                    number=f"{customer.pk}-P{index}",
                    received_on=on,
                    amount=value,
                )
            elif kind == "credit_note":
                invoice = customer.invoices.filter(open_amount__gt=0).first()
                if invoice:
                    credit_note_create(
                        customer=customer,
                        number=f"{customer.pk}-C{index}",
                        issue_date=on,
                        amount=min(value, invoice.open_amount),
                        invoice=invoice,
                    )
            elif kind == "write_off":
                invoice = customer.invoices.filter(open_amount__gt=0).last()
                if invoice:
                    write_off_create(
                        invoice=invoice,
                        amount=min(value, invoice.open_amount),
                        written_off_on=on,
                        reason="坏账",
                        decided_by=organisation.finance,
                    )
            else:
                live = list(
                    PaymentAllocation.objects.filter(
                        payment__customer=customer, reversed_on__isnull=True
                    ).order_by("pk")
                )
                if live:
                    allocation_reverse(allocation=live[value % len(live)], on=on)
        except (Conflict, ValidationFailed):
            pass

    for invoice in customer.invoices.all():
        assert invoice.open_amount == invoice_open_amount_from_ledger(invoice)
        assert D("0.00") <= invoice.open_amount <= invoice.amount
    for payment in customer.payments.all():
        live = sum(
            (a.amount for a in payment.allocations.filter(reversed_on__isnull=True)), D("0.00")
        )
        assert payment.unallocated_amount == payment.amount - live
