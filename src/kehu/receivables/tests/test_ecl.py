"""The provision matrix on a hand-made history: exact roll rates, loss rates and provisions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.ecl import (
    aging_buckets,
    bucket_index,
    invoice_balances_on,
    latest_month_end,
    month_ends,
    provision_matrix,
)
from kehu.receivables.services import (
    invoice_create,
    payment_record,
    write_off_create,
    write_off_reverse,
)

D = Decimal
EDGES = (30, 60)  # buckets: not yet due, 1–30, 31–60, over 60


def test_buckets_and_month_ends():
    assert [b.label for b in aging_buckets(EDGES)[1:3]] == ["1–30", "31–60"]
    assert [bucket_index(days, EDGES) for days in (-3, 0, 1, 30, 31, 60, 61)] == [
        0, 0, 1, 1, 2, 2, 3,
    ]  # fmt: skip
    assert latest_month_end(dt.date(2026, 8, 31)) == dt.date(2026, 8, 31)
    assert latest_month_end(dt.date(2026, 9, 5)) == dt.date(2026, 8, 31)
    assert month_ends(as_of=dt.date(2026, 3, 10), months=2) == [
        dt.date(2025, 12, 31),
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 28),
    ]


@pytest.fixture
def history(organisation):
    """Month-ends 06-30, 07-31, 08-31 of 2026.

    A 1000 due 06-20: 1–30 at 06-30; 400 paid 07-15 → 600 in 31–60 at 07-31; 150 paid 08-05
      and 450 written off 08-20 → 0 at 08-31.
    B 500 due 07-15: not yet due at 06-30, 1–30 at 07-31, paid 08-10.
    C 900 due 06-25: 1–30 at 06-30, paid 07-05.
    D 100 due 01-31: over 60 at every month-end, never paid (stays).
    E 1000 issued 08-20, due 09-19: not yet due as of 08-31.
    """
    customer = CustomerFactory.create(code="E1", owner=organisation.rep)
    other = CustomerFactory.create(code="W1", owner=organisation.other_rep)

    def invoice(number, issued, due, amount, owner=customer):
        return invoice_create(
            customer=owner, number=number, issue_date=issued, due_date=due, amount=D(amount)
        )

    a = invoice("A", dt.date(2026, 6, 1), dt.date(2026, 6, 20), "1000")
    b = invoice("B", dt.date(2026, 6, 15), dt.date(2026, 7, 15), "500")
    c = invoice("C", dt.date(2026, 6, 10), dt.date(2026, 6, 25), "900", owner=other)
    d = invoice("D", dt.date(2026, 1, 1), dt.date(2026, 1, 31), "100", owner=other)
    e = invoice("E", dt.date(2026, 8, 20), dt.date(2026, 9, 19), "1000")

    def pay(number, on, amount, target, owner=customer):
        payment_record(
            customer=owner, number=number, received_on=on, amount=D(amount), invoices=[target]
        )

    pay("P1", dt.date(2026, 7, 15), "400", a)
    pay("P2", dt.date(2026, 8, 5), "150", a)
    pay("P3", dt.date(2026, 8, 10), "500", b)
    pay("P4", dt.date(2026, 7, 5), "900", c, owner=other)
    write_off_create(
        invoice=a,
        amount=D("450"),
        written_off_on=dt.date(2026, 8, 20),
        reason="破产",
        decided_by=organisation.finance,
    )
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "customer": customer, "other": other}


def test_balances_are_rebuilt_as_of_each_date(history):
    dates = [dt.date(2026, 6, 30), dt.date(2026, 7, 31), dt.date(2026, 8, 31)]

    balances = invoice_balances_on(dates)

    assert balances[history["a"].pk].balances == [D("1000"), D("600"), D("0")]
    assert balances[history["a"].pk].written_off_between == [D("0"), D("450")]
    assert balances[history["e"].pk].balances == [None, None, D("1000")]


def test_roll_rates_loss_rates_and_provision_are_exact(history, settings):
    settings.KEHU = {**settings.KEHU, "AGING_BUCKETS": EDGES}

    matrix = provision_matrix(as_of=dt.date(2026, 8, 31), months=2)

    assert matrix.month_ends == [dt.date(2026, 6, 30), dt.date(2026, 7, 31), dt.date(2026, 8, 31)]
    assert matrix.history == [
        [D("500"), D("1900"), D("0"), D("100")],
        [D("0"), D("500"), D("600"), D("100")],
        [D("1000"), D("0"), D("0"), D("100")],
    ]
    flows = matrix.flows
    assert [(f.opening, f.stayed, f.rolled, f.written_off, f.collected) for f in flows] == [
        (D("500"), D("0"), D("500"), D("0"), D("0")),
        (D("2400"), D("0"), D("600"), D("0"), D("1800")),
        (D("600"), D("0"), D("0"), D("450"), D("150")),
        (D("200"), D("200"), D("0"), D("0"), D("0")),
    ]
    assert matrix.roll_rates == [D("1"), D("0.25"), D("0"), D("0")]
    assert matrix.write_off_rates == [D("0"), D("0"), D("0.75"), D("0")]
    # 31–60: 450 of 600 ended written off; 1–30: 600/2400 rolled on × 0.75; not due: all rolled.
    assert matrix.loss_rates == [D("0.1875"), D("0.1875"), D("0.75"), D("0")]
    assert matrix.balances == [D("1000"), D("0"), D("0"), D("100")]
    assert matrix.provisions == [D("187.50"), D("0.00"), D("0.00"), D("0.00")]
    assert matrix.total_provision == D("187.50")
    assert [(row.customer_id, row.balance, row.provision) for row in matrix.customers] == [
        (history["customer"].pk, D("1000"), D("187.50")),
        (history["other"].pk, D("100"), D("0.00")),
    ]


def test_forward_looking_factor_scales_the_rates_and_never_exceeds_one(history, settings):
    settings.KEHU = {**settings.KEHU, "AGING_BUCKETS": EDGES}

    matrix = provision_matrix(as_of=dt.date(2026, 8, 31), months=2, forward_factor=D("1.2"))
    doubled = provision_matrix(as_of=dt.date(2026, 8, 31), months=2, forward_factor=D("2"))

    assert matrix.adjusted_rates == [D("0.225"), D("0.225"), D("0.9"), D("0")]
    assert matrix.provisions[0] == D("225.00")
    assert doubled.adjusted_rates[2] == D("1")


def test_a_reversed_write_off_is_not_a_loss(history, settings, organisation):
    settings.KEHU = {**settings.KEHU, "AGING_BUCKETS": EDGES}
    write_off = history["a"].write_offs.get()
    write_off_reverse(
        write_off=write_off, actor=organisation.finance, reason="回款", on=dt.date(2026, 8, 25)
    )

    matrix = provision_matrix(as_of=dt.date(2026, 8, 31), months=2)

    # A's 450 is open again at 08-31: it stayed in the last bucket instead of being written off.
    assert matrix.flows[2].written_off == D("0")
    assert matrix.flows[2].rolled == D("450")
    assert matrix.loss_rates == [D("0"), D("0"), D("0"), D("0")]
