"""Aging as of a date: exact buckets, reproducible history, visibility, and the naive rebuild."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test.utils import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.core.errors import ValidationFailed
from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.aging import (
    aging_as_of,
    aging_buckets,
    bucket_of,
    invoices_open_as_of,
)
from kehu.receivables.models import Invoice, PaymentAllocation, WriteOff
from kehu.receivables.services import (
    allocation_reverse,
    credit_note_create,
    invoice_create,
    payment_allocate,
    payment_record,
    write_off_create,
)

D = Decimal
AS_OF = dt.date(2026, 6, 30)
KEYS = ["current", "1-30", "31-60", "61-90", "91-180", "181-365", "over-365"]


def amounts(report, row=0):
    return dict(zip([b.key for b in report.buckets], report.rows[row].amounts, strict=True))


@pytest.fixture
def ledger(organisation):
    """Customer A (the east rep's) with one invoice in nearly every bucket on 2026-06-30, and
    customer B (the west rep's) with one not yet due."""
    east = CustomerFactory(code="A", owner=organisation.rep, payment_terms_days=30)
    west = CustomerFactory(code="B", owner=organisation.other_rep, payment_terms_days=30)
    finance = organisation.finance

    def invoice(number, customer, issued, amount):
        return invoice_create(customer=customer, number=number, issue_date=issued, amount=D(amount))

    invoice("I1", east, dt.date(2026, 6, 20), "100.00")  # due 07-20: not yet due
    i2 = invoice("I2", east, dt.date(2026, 5, 1), "200.00")  # due 05-31: 30 days
    payment = payment_record(
        customer=east, number="P1", received_on=dt.date(2026, 6, 1), amount=D("50.00"),
        invoices=[i2],
    )  # fmt: skip
    i3 = invoice("I3", east, dt.date(2026, 3, 1), "300.00")  # due 03-31: 91 days
    credit_note_create(
        customer=east, number="N1", issue_date=dt.date(2026, 4, 15), amount=D("100.00"),
        invoice=i3,
    )  # fmt: skip
    i4 = invoice("I4", east, dt.date(2025, 1, 1), "400.00")  # due 2025-01-31: 515 days
    write_off_create(
        invoice=i4, amount=D("150.00"), written_off_on=dt.date(2026, 6, 10), reason="破产",
        decided_by=finance,
    )  # fmt: skip
    i5 = invoice("I5", east, dt.date(2026, 4, 15), "500.00")  # due 05-15: 46 days
    paid = payment_record(
        customer=east, number="P2", received_on=dt.date(2026, 5, 20), amount=D("500.00"),
        invoices=[i5],
    )  # fmt: skip
    allocation_reverse(allocation=paid.allocations.get(), on=dt.date(2026, 6, 15))
    invoice("I6", east, dt.date(2026, 7, 5), "700.00")  # issued after the date
    i7 = invoice("I7", east, dt.date(2025, 10, 1), "80.00")  # paid in full
    payment_record(
        customer=east, number="P3", received_on=dt.date(2025, 11, 10), amount=D("80.00"),
        invoices=[i7],
    )  # fmt: skip
    invoice("I8", east, dt.date(2026, 3, 2), "60.00")  # due 04-01: 90 days
    invoice("I9", west, dt.date(2026, 6, 1), "1000.00")  # due 07-01: not yet due
    return {"east": east, "west": west, "payment": payment, "i2": i2, "i3": i3, "i4": i4}


def test_default_buckets_are_the_issue_s():
    assert [bucket.key for bucket in aging_buckets()] == KEYS


def test_company_aging_has_exact_amounts_per_bucket(organisation, ledger):
    report = aging_as_of(user=organisation.finance, as_of=AS_OF)

    assert amounts(report) == {
        "current": D("1100.00"),
        "1-30": D("150.00"),
        "31-60": D("500.00"),
        "61-90": D("60.00"),
        "91-180": D("200.00"),
        "181-365": D("0.00"),
        "over-365": D("250.00"),
    }
    assert report.total == D("2260.00")
    assert report.overdue == D("1160.00")
    assert report.invoice_count == 7


def test_a_rep_sees_only_the_aging_of_their_customers(organisation, ledger):
    report = aging_as_of(user=organisation.other_rep, as_of=AS_OF, group_by="customer")

    assert [(row.label.split()[0], row.total) for row in report.rows] == [("B", D("1000.00"))]
    east = aging_as_of(user=organisation.rep, as_of=AS_OF)
    assert east.total == D("1260.00")


def test_aging_by_customer_rep_team_region_and_year(organisation, ledger):
    finance = organisation.finance
    by_customer = aging_as_of(user=finance, as_of=AS_OF, group_by="customer")
    by_rep = aging_as_of(user=finance, as_of=AS_OF, group_by="rep")
    by_team = aging_as_of(user=finance, as_of=AS_OF, group_by="team")
    by_year = aging_as_of(user=finance, as_of=AS_OF, group_by="year")
    by_region = aging_as_of(user=finance, as_of=AS_OF, group_by="region")

    assert [(row.key, row.total) for row in by_customer.rows] == [
        (ledger["east"].pk, D("1260.00")),
        (ledger["west"].pk, D("1000.00")),
    ]
    assert [row.key for row in by_rep.rows] == [organisation.rep.pk, organisation.other_rep.pk]
    assert [(row.label, row.total) for row in by_team.rows] == [
        ("华东一组", D("1260.00")),
        ("华西一组", D("1000.00")),
    ]
    assert {row.key: row.total for row in by_year.rows} == {
        2026: D("2010.00"),
        2025: D("250.00"),
    }
    assert [(row.key, row.total) for row in by_region.rows] == [(None, D("2260.00"))]


def test_last_quarter_s_aging_is_the_same_after_later_entries(organisation, ledger):
    before = aging_as_of(user=organisation.finance, as_of=AS_OF, group_by="customer")
    east = ledger["east"]

    payment_record(customer=east, number="P9", received_on=dt.date(2026, 7, 10), amount=D("300"))
    allocation_reverse(allocation=ledger["payment"].allocations.get(), on=dt.date(2026, 8, 1))
    write_off_create(
        invoice=ledger["i3"], amount=D("10.00"), written_off_on=dt.date(2026, 8, 5),
        reason="争议", decided_by=organisation.finance,
    )  # fmt: skip
    credit_note_create(
        customer=east, number="N2", issue_date=dt.date(2026, 7, 15), amount=D("5.00"),
        invoice=Invoice.objects.get(number="I1"),
    )  # fmt: skip
    # The write-off of June reversed in September (money came back): June stays as it was.
    WriteOff.objects.filter(invoice=ledger["i4"]).update(reversed_on=dt.date(2026, 9, 1))

    after = aging_as_of(user=organisation.finance, as_of=AS_OF, group_by="customer")

    assert [(r.key, r.amounts, r.invoice_count) for r in after.rows] == [
        (r.key, r.amounts, r.invoice_count) for r in before.rows
    ]
    today_total = aging_as_of(user=organisation.finance, as_of=dt.date(2026, 9, 30)).total
    assert today_total != before.total


def test_a_reversal_dated_on_or_before_the_date_reopens_the_invoice(organisation, ledger):
    allocation = PaymentAllocation.objects.get(invoice=ledger["i2"])

    allocation_reverse(allocation=allocation, on=AS_OF)

    assert amounts(aging_as_of(user=organisation.finance, as_of=AS_OF))["1-30"] == D("200.00")
    assert amounts(aging_as_of(user=organisation.finance, as_of=AS_OF - dt.timedelta(days=1)))[
        "1-30"
    ] == D("150.00")


@override_settings(KEHU={"AGING_BUCKETS": (60, 120)})
def test_bucket_edges_are_a_setting(organisation, ledger):
    report = aging_as_of(user=organisation.finance, as_of=AS_OF)

    assert [bucket.key for bucket in report.buckets] == ["current", "1-60", "61-120", "over-120"]
    assert report.rows[0].amounts == [D("1100.00"), D("650.00"), D("260.00"), D("250.00")]


@override_settings(KEHU={"AGING_BUCKETS": (60, 30)})
def test_falling_bucket_edges_are_refused(organisation):
    with pytest.raises(ValidationFailed, match="AGING_BUCKETS"):
        aging_as_of(user=organisation.finance, as_of=AS_OF)


def test_unknown_grouping_is_refused(organisation):
    with pytest.raises(ValidationFailed, match="unknown grouping 'planet'"):
        aging_as_of(user=organisation.finance, as_of=AS_OF, group_by="planet")


def test_pyramid_grouping_needs_a_value_snapshot(organisation):
    with pytest.raises(ValidationFailed, match="no value snapshot"):
        aging_as_of(user=organisation.finance, as_of=AS_OF, group_by="pyramid")


def test_the_invoices_behind_a_cell_add_up_to_it(organisation, ledger):
    report = aging_as_of(user=organisation.finance, as_of=AS_OF, group_by="customer")
    east_row = next(row for row in report.rows if row.key == ledger["east"].pk)

    for bucket in report.buckets:
        invoices = invoices_open_as_of(
            user=organisation.finance,
            as_of=AS_OF,
            bucket=bucket.key,
            group_by="customer",
            group_key=str(ledger["east"].pk),
        )
        total = sum((invoice.open_as_of for invoice in invoices), D("0"))
        assert total == east_row.amounts[bucket.index], bucket.key
    over = invoices_open_as_of(user=organisation.finance, as_of=AS_OF, bucket="over-365")
    assert [(i.number, i.open_as_of) for i in over] == [("I4", D("250.00"))]


def test_the_rep_s_drill_down_hides_other_customers(organisation, ledger):
    invoices = invoices_open_as_of(user=organisation.rep, as_of=AS_OF, bucket="current")

    assert [invoice.number for invoice in invoices] == ["I1"]


# --- Property: the roll-up equals the open amounts rebuilt naively, invoice by invoice --------

START = dt.date(2025, 1, 1)


def naive_open_as_of(invoice: Invoice, as_of: dt.date) -> Decimal:
    """The open amount as of a date, entry by entry in Python (the definition, spelled out)."""
    if invoice.issue_date > as_of or invoice.is_cancelled:
        return D("0")
    allocated = sum(
        (
            a.amount
            for a in invoice.allocations.all()
            if a.allocated_on <= as_of and (a.reversed_on is None or a.reversed_on > as_of)
        ),
        D("0"),
    )
    credited = sum((n.amount for n in invoice.credit_notes.all() if n.issue_date <= as_of), D("0"))
    written = sum(
        (
            w.amount
            for w in invoice.write_offs.all()
            if w.written_off_on <= as_of and (w.reversed_on is None or w.reversed_on > as_of)
        ),
        D("0"),
    )
    return invoice.amount - allocated - credited - written


step = st.tuples(
    st.sampled_from(["invoice", "payment", "credit", "reverse", "write_off"]),
    st.integers(min_value=1, max_value=2000),  # amount in yuan
    st.integers(min_value=0, max_value=600),  # day after START
    st.integers(min_value=0, max_value=1000),  # which row
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, min_size=1, max_size=25), as_of_day=st.integers(0, 650))
def test_buckets_sum_to_the_naive_rebuild(organisation, steps, as_of_day):
    customer = CustomerFactory(owner=organisation.rep, payment_terms_days=45)
    tag = customer.code
    invoices: list[Invoice] = []
    for index, (kind, amount, day, pick) in enumerate(steps):
        on = START + dt.timedelta(days=day)
        value = D(amount)
        if kind == "invoice" or not invoices:
            invoices.append(
                invoice_create(
                    customer=customer, number=f"{tag}-I{index}", issue_date=on, amount=value
                )
            )
            continue
        invoice = invoices[pick % len(invoices)]
        invoice.refresh_from_db()
        on = max(on, invoice.issue_date)
        if kind == "payment":
            payment = payment_record(
                customer=customer,
                number=f"{tag}-P{index}",
                received_on=on,
                amount=value,
                invoices=[],
            )
            share = min(value, invoice.open_amount)
            if share > 0:
                payment_allocate(payment=payment, invoice=invoice, amount=share, allocated_on=on)
        elif kind == "credit" and invoice.open_amount > 0:
            credit_note_create(
                customer=customer, number=f"{tag}-N{index}", issue_date=on,
                amount=min(value, invoice.open_amount), invoice=invoice,
            )  # fmt: skip
        elif kind == "write_off" and invoice.open_amount > 0:
            write_off_create(
                invoice=invoice, amount=min(value, invoice.open_amount), written_off_on=on,
                reason="test", decided_by=organisation.finance,
            )  # fmt: skip
        elif kind == "reverse":
            live = list(PaymentAllocation.objects.filter(invoice=invoice, reversed_on__isnull=True))
            if live:
                allocation = live[pick % len(live)]
                allocation_reverse(allocation=allocation, on=max(on, allocation.allocated_on))
    as_of = START + dt.timedelta(days=as_of_day)
    buckets = aging_buckets()

    report = aging_as_of(user=organisation.rep, as_of=as_of, group_by="customer")

    expected = [D("0.00")] * len(buckets)
    for invoice in Invoice.objects.filter(customer=customer).prefetch_related(
        "allocations", "credit_notes", "write_offs"
    ):
        open_amount = naive_open_as_of(invoice, as_of)
        if open_amount > 0:
            bucket = bucket_of(due_date=invoice.due_date, as_of=as_of, buckets=buckets)
            expected[bucket.index] += open_amount
    row = next((row for row in report.rows if row.key == customer.pk), None)
    assert (row.amounts if row else [D("0.00")] * len(buckets)) == expected
