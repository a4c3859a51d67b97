"""The CDNOW purchase log: the 1/10 sample gives 2,357 customers and 6,919 order lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from kehu.accounts.models import User
from kehu.catalog.models import Product
from kehu.customers.models import Customer
from kehu.imports.services import import_transactions
from kehu.imports.tests.conftest import DATA, counts, error_tuples
from kehu.sales.models import Order, OrderLine

pytestmark = pytest.mark.django_db

SAMPLE = DATA / "CDNOW_sample.txt"


def test_the_sample_file_gives_2357_customers_and_6919_order_lines():
    result = import_transactions(format="cdnow", path=SAMPLE)

    assert result.status == "done", result.errors[:3]
    assert counts(result) == {
        "customers": {"created": 2357, "updated": 0, "unchanged": 0, "refused": 0},
        "products": {"created": 1, "updated": 0, "unchanged": 0, "refused": 0},
        "orders": {"created": 6919, "updated": 0, "unchanged": 0, "refused": 0},
        "order_lines": {"created": 6919, "updated": 0, "unchanged": 0, "refused": 0},
    }
    assert (Customer.objects.count(), Order.objects.count(), OrderLine.objects.count()) == (
        2357,
        6919,
        6919,
    )
    totals = OrderLine.objects.aggregate(amount=Sum("amount"), quantity=Sum("quantity"))
    assert (round(totals["amount"], 2), totals["quantity"]) == (Decimal("244091.94"), 16479)
    owner = User.objects.get(username="import")
    assert (owner.role, owner.has_usable_password()) == ("sales_rep", False)
    customer = Customer.objects.get(code="CDNOW-00004")
    assert (customer.kind, customer.owner, customer.currency) == ("consumer", owner, "USD")
    assert (customer.first_purchase_on, customer.last_purchase_on, customer.purchase_count) == (
        dt.date(1997, 1, 1),
        dt.date(1997, 12, 12),
        4,
    )
    first = OrderLine.objects.select_related("order", "product").get(
        order__number="CDNOW-00004-19970101-1"
    )
    assert (
        first.quantity,
        first.unit_price,
        first.amount,
        first.product.code,
        first.order.state,
        first.order.payment_method,
    ) == (Decimal("2.000"), Decimal("14.67"), Decimal("29.33"), "CD", "confirmed", "cash")
    # Two purchases on one day are two orders.
    assert Order.objects.filter(number__startswith="CDNOW-17724-19970408-").count() == 2
    # Zero-dollar rows are orders of zero.
    assert OrderLine.objects.filter(amount=0).count() == 8
    assert Product.objects.get(code="CD").standard_cost == Decimal("0.00")


def test_importing_the_sample_again_changes_nothing():
    import_transactions(format="cdnow", path=SAMPLE)

    again = import_transactions(format="cdnow", path=SAMPLE)

    assert counts(again)["customers"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 2357,
        "refused": 0,
    }
    assert counts(again)["order_lines"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 6919,
        "refused": 0,
    }
    assert OrderLine.objects.count() == 6919


def test_the_master_layout_with_a_header_and_a_named_owner(organisation, tmp_path):
    path = tmp_path / "master.txt"
    path.write_bytes(
        b" customer_id  date number_of_cds  dollar_value\r\n"
        b" 00001 19970101  1   11.77\r\n"
        b" 00002 19970112  1   12.00\r\n"
        b" 00002 19970112  5   77.00\r\n"
    )

    result = import_transactions(
        format="cdnow", path=path, owner="rep", actor=organisation.administrator
    )

    assert result.status == "done", result.errors
    assert sorted(Order.objects.values_list("number", "total_amount")) == [
        ("CDNOW-00001-19970101-1", Decimal("11.77")),
        ("CDNOW-00002-19970112-1", Decimal("12.00")),
        ("CDNOW-00002-19970112-2", Decimal("77.00")),
    ]
    assert set(Customer.objects.values_list("owner__username", flat=True)) == {"rep"}
    assert not User.objects.filter(username="import").exists()


def test_bad_lines_are_refused_by_line_number(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text(" 00001 19970101  1   11.77\n 00002 19971301  0   -1\n 00003 19970101  1\n")

    result = import_transactions(format="cdnow", path=path)

    assert result.status == "refused"
    assert error_tuples(result) == [
        (2, "date", "19971301", "Not a date as YYYYMMDD."),
        (2, "number of CDs", "0", "Not a number of CDs above 0."),
        (2, "dollar amount", "-1", "Not an amount of 0 or more."),
        (3, None, "00003 19970101  1", "This row has 3 columns, the rows before it 4."),
    ]
    assert Customer.objects.count() == 0
    assert not User.objects.filter(username="import").exists()
