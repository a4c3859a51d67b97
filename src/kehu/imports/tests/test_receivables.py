"""Importing invoices and payments: terms, allocation by the ledger's rule, credit kept."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kehu.customers.tests.factories import CustomerFactory
from kehu.imports.services import import_file
from kehu.imports.tests.conftest import counts, error_tuples
from kehu.receivables.models import Invoice, Payment, PaymentAllocation
from kehu.receivables.services import (
    invoice_create,
    invoice_open_amount_from_ledger,
    payment_record,
)
from kehu.sales.models import Order
from kehu.sales.services import OrderLineInput, order_create

pytestmark = pytest.mark.django_db

INVOICES = ["发票号", "客户编码", "订单号", "开票日期", "金额", "账期", "到期日"]
PAYMENTS = ["收款单号", "客户编码", "收款日期", "金额", "收款方式", "发票号", "参考号"]


@pytest.fixture
def books(organisation):
    from kehu.catalog.tests.factories import ProductFactory

    e1 = CustomerFactory.create(code="E1", owner=organisation.rep, payment_terms_days=30)
    e2 = CustomerFactory.create(code="E2", owner=organisation.rep, payment_terms_days=60)
    order_create(
        customer=e1,
        number="SO-1",
        order_date=dt.date(2024, 1, 2),
        lines=[
            OrderLineInput(
                product=ProductFactory.create(), quantity=Decimal(1), unit_price=Decimal("1000.00")
            )
        ],
    )
    return organisation, e1, e2


def _invoice(customer, number, issue, amount, due=None):
    return invoice_create(
        customer=customer, number=number, issue_date=issue, amount=Decimal(amount), due_date=due
    )


def test_invoices_take_terms_and_due_dates_like_the_service(books, csv_file):
    organisation, _e1, _e2 = books
    rows = [
        INVOICES,
        ["INV-1", "E1", "SO-1", "2024-01-05", "1000", "", ""],
        ["INV-2", "E2", "", "2024-02-01", "500.5", "15", ""],
        ["INV-3", "E1", "", "2024-03-01", "80", "", "2024-03-10"],
    ]

    result = import_file(kind="invoices", path=csv_file(rows), actor=organisation.finance)

    assert counts(result)["invoices"] == {"created": 3, "updated": 0, "unchanged": 0, "refused": 0}
    values = list(
        Invoice.objects.order_by("number").values_list(
            "number",
            "customer__code",
            "order__number",
            "issue_date",
            "payment_terms_days",
            "due_date",
            "amount",
            "open_amount",
        )
    )
    assert values == [
        (
            "INV-1",
            "E1",
            "SO-1",
            dt.date(2024, 1, 5),
            30,
            dt.date(2024, 2, 4),
            Decimal("1000.00"),
            Decimal("1000.00"),
        ),
        (
            "INV-2",
            "E2",
            None,
            dt.date(2024, 2, 1),
            15,
            dt.date(2024, 2, 16),
            Decimal("500.50"),
            Decimal("500.50"),
        ),
        (
            "INV-3",
            "E1",
            None,
            dt.date(2024, 3, 1),
            30,
            dt.date(2024, 3, 10),
            Decimal("80.00"),
            Decimal("80.00"),
        ),
    ]

    again = import_file(kind="invoices", path=csv_file(rows), actor=organisation.finance)

    assert counts(again)["invoices"] == {"created": 0, "updated": 0, "unchanged": 3, "refused": 0}


def test_a_changed_invoice_amount_keeps_what_was_paid(books, csv_file):
    organisation, e1, _e2 = books
    invoice = _invoice(e1, "INV-1", dt.date(2024, 1, 5), "1000")
    payment_record(
        customer=e1, number="PAY-0", received_on=dt.date(2024, 1, 20), amount=Decimal("300")
    )

    result = import_file(
        kind="invoices",
        path=csv_file([INVOICES, ["INV-1", "E1", "", "2024-01-05", "1200", "", ""]]),
        actor=organisation.finance,
    )

    assert counts(result)["invoices"]["updated"] == 1
    invoice.refresh_from_db()
    assert (invoice.amount, invoice.open_amount) == (Decimal("1200.00"), Decimal("900.00"))
    assert invoice_open_amount_from_ledger(invoice) == invoice.open_amount

    lower = import_file(
        kind="invoices",
        path=csv_file([INVOICES, ["INV-1", "E1", "", "2024-01-05", "200", "", ""]]),
        actor=organisation.finance,
    )

    assert error_tuples(lower) == [
        (
            2,
            "金额",
            "200",
            "300.00 of invoice INV-1 is already paid, credited or written off; "
            "the amount cannot be less.",
        ),
    ]
    invoice.refresh_from_db()
    assert invoice.amount == Decimal("1200.00")


def test_bad_invoice_rows_are_refused(books, csv_file):
    organisation, _e1, _e2 = books
    rows = [
        INVOICES,
        ["INV-1", "E2", "SO-1", "2024-01-05", "0", "", ""],
        ["INV-2", "E1", "SO-404", "2024-01-05", "10", "", "2024-01-01"],
        ["INV-3", "E1", "", "2024-01-05", "10", "", "2024-01-01"],
    ]

    result = import_file(kind="invoices", path=csv_file(rows), actor=organisation.finance)

    assert error_tuples(result) == [
        (2, "订单号", "SO-1", "Order SO-1 belongs to another customer."),
        (2, "金额", "0", "Must be more than 0."),
        (3, "订单号", "SO-404", "No order with the number 'SO-404'."),
        (4, "到期日", "2024-01-01", "The due date 2024-01-01 is before the issue date 2024-01-05."),
    ]
    assert Invoice.objects.count() == 0


def test_payments_go_to_the_named_invoice_or_oldest_first_and_the_rest_stays_credit(
    books, csv_file
):
    organisation, e1, e2 = books
    old = _invoice(e1, "INV-OLD", dt.date(2024, 1, 1), "100", due=dt.date(2024, 1, 31))
    new = _invoice(e1, "INV-NEW", dt.date(2024, 2, 1), "200", due=dt.date(2024, 3, 2))
    later = _invoice(e1, "INV-LATER", dt.date(2024, 6, 1), "50")
    other = _invoice(e2, "INV-E2", dt.date(2024, 1, 1), "70")
    rows = [
        PAYMENTS,
        # Oldest first among invoices issued by 2024-03-01: INV-OLD, then INV-NEW.
        ["PAY-1", "E1", "2024-03-01", "250", "转账", "", "流水 001"],
        # Named: only INV-E2, 70 of it; 30 stays as credit.
        ["PAY-2", "E2", "2024-03-01", "100", "承兑汇票", "INV-E2", ""],
        # Oldest first: 50 left on INV-NEW, then INV-LATER 50; 400 stays as credit.
        ["PAY-3", "E1", "2024-07-01", "500", "", "", ""],
    ]

    result = import_file(kind="payments", path=csv_file(rows), actor=organisation.finance)

    assert result.status == "done", result.errors
    assert counts(result) == {
        "payments": {"created": 3, "updated": 0, "unchanged": 0, "refused": 0},
        "payment_allocations": {"created": 5, "updated": 0, "unchanged": 0, "refused": 0},
    }
    allocations = list(
        PaymentAllocation.objects.order_by("pk").values_list(
            "payment__number", "invoice__number", "amount", "allocated_on", "created_by"
        )
    )
    finance = organisation.finance.pk
    assert allocations == [
        ("PAY-1", "INV-OLD", Decimal("100.00"), dt.date(2024, 3, 1), finance),
        ("PAY-1", "INV-NEW", Decimal("150.00"), dt.date(2024, 3, 1), finance),
        ("PAY-2", "INV-E2", Decimal("70.00"), dt.date(2024, 3, 1), finance),
        ("PAY-3", "INV-NEW", Decimal("50.00"), dt.date(2024, 7, 1), finance),
        ("PAY-3", "INV-LATER", Decimal("50.00"), dt.date(2024, 7, 1), finance),
    ]
    payments = dict(Payment.objects.values_list("number", "unallocated_amount"))
    assert payments == {
        "PAY-1": Decimal("0.00"),
        "PAY-2": Decimal("30.00"),
        "PAY-3": Decimal("400.00"),
    }
    assert Payment.objects.get(number="PAY-2").method == "acceptance_bill"
    assert Payment.objects.get(number="PAY-1").reference == "流水 001"
    for invoice in (old, new, later, other):
        invoice.refresh_from_db()
        assert invoice.open_amount == Decimal("0.00")
        assert invoice_open_amount_from_ledger(invoice) == invoice.open_amount

    again = import_file(kind="payments", path=csv_file(rows), actor=organisation.finance)

    assert counts(again)["payments"] == {"created": 0, "updated": 0, "unchanged": 3, "refused": 0}
    assert PaymentAllocation.objects.count() == 5


def test_bulk_allocation_matches_payment_record(books, csv_file):
    """The same payments recorded one by one by the service give the same allocations."""
    organisation, e1, _e2 = books
    for number, issue, amount in (
        ("A", dt.date(2024, 1, 1), "100"),
        ("B", dt.date(2024, 1, 15), "100"),
        ("C", dt.date(2024, 1, 10), "100"),
    ):
        _invoice(e1, number, issue, amount)
    import_file(
        kind="payments",
        path=csv_file(
            [PAYMENTS[:4], ["P1", "E1", "2024-02-01", "150"], ["P2", "E1", "2024-02-02", "120"]]
        ),
        actor=organisation.finance,
    )
    imported = list(
        PaymentAllocation.objects.order_by("pk").values_list(
            "payment__number", "invoice__number", "amount"
        )
    )
    PaymentAllocation.objects.all().delete()
    Payment.objects.all().delete()
    Invoice.objects.update(open_amount=Decimal("100.00"))
    for number, on, amount in (
        ("P1", dt.date(2024, 2, 1), "150"),
        ("P2", dt.date(2024, 2, 2), "120"),
    ):
        payment_record(customer=e1, number=number, received_on=on, amount=Decimal(amount))
    by_service = list(
        PaymentAllocation.objects.order_by("pk").values_list(
            "payment__number", "invoice__number", "amount"
        )
    )

    assert (
        imported
        == by_service
        == [
            ("P1", "A", Decimal("100.00")),
            ("P1", "C", Decimal("50.00")),
            ("P2", "C", Decimal("50.00")),
            ("P2", "B", Decimal("70.00")),
        ]
    )


def test_bad_payment_rows_are_refused_and_nothing_is_allocated(books, csv_file):
    organisation, e1, e2 = books
    invoice = _invoice(e1, "INV-1", dt.date(2024, 1, 1), "100")
    Invoice.objects.create(
        customer=e2,
        number="INV-X",
        issue_date=dt.date(2024, 1, 1),
        due_date=dt.date(2024, 1, 31),
        amount=Decimal(5),
        open_amount=Decimal(5),
        is_cancelled=True,
    )
    rows = [
        PAYMENTS,
        ["PAY-1", "E1", "2024-01-10", "60", "", "", ""],
        ["PAY-2", "E2", "2099-01-01", "-3", "比特币", "INV-1", ""],
        ["PAY-3", "E2", "2024-01-10", "5", "", "INV-X", ""],
    ]

    result = import_file(kind="payments", path=csv_file(rows), actor=organisation.finance)

    assert result.status == "refused"
    assert error_tuples(result) == [
        (3, "收款日期", "2099-01-01", "The date is in the future."),
        (3, "金额", "-3", "Must be more than 0."),
        (
            3,
            "收款方式",
            "比特币",
            "Not one of: bank_transfer (银行转账), acceptance_bill (承兑汇票), cheque (支票), "
            "cash (现金), other (其他).",
        ),
        (3, "发票号", "INV-1", "Invoice INV-1 belongs to another customer."),
        (4, "发票号", "INV-X", "Invoice INV-X is cancelled."),
    ]
    assert (Payment.objects.count(), PaymentAllocation.objects.count()) == (0, 0)
    invoice.refresh_from_db()
    assert invoice.open_amount == Decimal("100.00")


def test_dry_run_of_payments_counts_allocations_and_writes_nothing(books, csv_file):
    organisation, e1, _e2 = books
    invoice = _invoice(e1, "INV-1", dt.date(2024, 1, 1), "100")

    result = import_file(
        kind="payments",
        path=csv_file([PAYMENTS[:4], ["PAY-1", "E1", "2024-01-10", "160"]]),
        dry_run=True,
        actor=organisation.finance,
    )

    assert result.status == "dry_run"
    assert counts(result)["payment_allocations"]["created"] == 1
    assert (Payment.objects.count(), PaymentAllocation.objects.count()) == (0, 0)
    invoice.refresh_from_db()
    assert invoice.open_amount == Decimal("100.00")


def test_an_existing_payment_with_another_amount_is_refused(books, csv_file):
    organisation, e1, _e2 = books
    payment_record(
        customer=e1, number="PAY-1", received_on=dt.date(2024, 1, 10), amount=Decimal("50")
    )

    result = import_file(
        kind="payments",
        path=csv_file([PAYMENTS[:4], ["PAY-1", "E1", "2024-01-10", "60"]]),
        actor=organisation.finance,
    )

    assert error_tuples(result) == [
        (
            2,
            "金额",
            "60",
            "Payment PAY-1 exists for 50.00 from another customer or with "
            "another amount; reverse it and record it again to change that.",
        ),
    ]
    assert Payment.objects.get().amount == Decimal("50.00")
    assert Order.objects.count() == 1
