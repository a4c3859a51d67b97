"""Importing orders: one row per line, grouped by order number, amounts as the services compute."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kehu.catalog.tests.factories import ProductFactory
from kehu.customers.models import Customer
from kehu.customers.tests.factories import CustomerFactory
from kehu.imports.services import import_file
from kehu.imports.tests.conftest import counts, error_tuples
from kehu.sales.models import Order, OrderLine

pytestmark = pytest.mark.django_db

HEADER = ["订单号", "客户编码", "订单日期", "产品编码", "数量", "单价", "单位成本", "折扣", "状态"]


@pytest.fixture
def ledger(organisation):
    CustomerFactory(code="E1", owner=organisation.rep)
    CustomerFactory(code="E2", owner=organisation.other_rep)
    ProductFactory(code="P1", standard_cost=Decimal("0.40"))
    ProductFactory(code="P2", standard_cost=Decimal("60.00"))
    return organisation


ROWS = [
    ["SO-1", "E1", "2024-03-05", "P1", "3.5", "0.99", "", "0.1", ""],
    ["SO-1", "E1", "2024/3/5", "P2", "2", "100", "55.5", "", ""],
    ["SO-2", "E2", "20240410", "P1", "10", "1.00", "", "10%", "已发货"],
    ["SO-3", "E1", "2024年5月1日", "P2", "1", "120.00", "", "9折", "draft"],
]


def test_rows_become_orders_with_exact_amounts_and_refresh_purchase_stats(ledger, csv_file):
    result = import_file(kind="orders", path=csv_file([HEADER, *ROWS]), actor=ledger.administrator)

    assert result.status == "done", result.errors
    assert counts(result) == {
        "orders": {"created": 3, "updated": 0, "unchanged": 0, "refused": 0},
        "order_lines": {"created": 4, "updated": 0, "unchanged": 0, "refused": 0},
    }
    first = Order.objects.get(number="SO-1")
    assert (first.customer.code, first.order_date, first.state, first.payment_method) == (
        "E1",
        dt.date(2024, 3, 5),
        "confirmed",
        "credit",
    )
    assert first.owner == ledger.administrator
    lines = list(
        first.lines.order_by("line_number").values_list(
            "line_number",
            "product__code",
            "quantity",
            "unit_price",
            "unit_cost",
            "discount_rate",
            "amount",
            "cost",
        )
    )
    assert lines == [
        # 3.5 × 0.99 × 0.9 = 3.1185 → 3.12; cost 3.5 × 0.40 (standard cost) = 1.40
        (
            1,
            "P1",
            Decimal("3.500"),
            Decimal("0.99"),
            Decimal("0.40"),
            Decimal("0.1000"),
            Decimal("3.12"),
            Decimal("1.40"),
        ),
        (
            2,
            "P2",
            Decimal("2.000"),
            Decimal("100.00"),
            Decimal("55.50"),
            Decimal("0.0000"),
            Decimal("200.00"),
            Decimal("111.00"),
        ),
    ]
    assert (first.total_amount, first.total_cost) == (Decimal("203.12"), Decimal("112.40"))
    second = Order.objects.get(number="SO-2")
    assert (second.state, second.lines.get().discount_rate, second.total_amount) == (
        "delivered",
        Decimal("0.1000"),
        Decimal("9.00"),
    )
    third = Order.objects.get(number="SO-3")
    assert (third.state, third.total_amount) == ("draft", Decimal("108.00"))
    # Drafts are no purchase: E1 bought once (SO-1), E2 once.
    e1 = Customer.objects.get(code="E1")
    assert (e1.first_purchase_on, e1.last_purchase_on, e1.purchase_count) == (
        dt.date(2024, 3, 5),
        dt.date(2024, 3, 5),
        1,
    )
    e2 = Customer.objects.get(code="E2")
    assert (e2.first_purchase_on, e2.purchase_count) == (dt.date(2024, 4, 10), 1)


def test_excel_dates_and_numbers_are_read(ledger, xlsx_file):
    path = xlsx_file(
        [
            HEADER[:6],
            ["SO-9", "E1", dt.date(2024, 3, 5), "P1", 2, 1.25],
            ["SO-10", "E1", 45356, "P1", 1, 3],
        ]
    )

    result = import_file(kind="orders", path=path, actor=ledger.administrator)

    assert result.status == "done", result.errors
    assert Order.objects.get(number="SO-9").order_date == dt.date(2024, 3, 5)
    assert Order.objects.get(number="SO-10").order_date == dt.date(2024, 3, 5)
    assert OrderLine.objects.get(order__number="SO-9").amount == Decimal("2.50")


def test_importing_orders_twice_changes_nothing(ledger, csv_file):
    path = csv_file([HEADER, *ROWS])
    import_file(kind="orders", path=path, actor=ledger.administrator)
    before = list(OrderLine.objects.order_by("pk").values())

    again = import_file(kind="orders", path=path, actor=ledger.administrator)

    assert counts(again) == {
        "orders": {"created": 0, "updated": 0, "unchanged": 3, "refused": 0},
        "order_lines": {"created": 0, "updated": 0, "unchanged": 4, "refused": 0},
    }
    assert list(OrderLine.objects.order_by("pk").values()) == before


def test_a_changed_line_replaces_the_lines_and_a_state_moves_forward(ledger, csv_file):
    import_file(kind="orders", path=csv_file([HEADER, *ROWS]), actor=ledger.administrator)
    changed = [[*row] for row in ROWS]
    changed[1][4] = "3"  # SO-1, line 2: 3 instead of 2
    changed[3][8] = "已确认"  # SO-3: draft → confirmed

    result = import_file(
        kind="orders", path=csv_file([HEADER, *changed]), actor=ledger.administrator
    )

    assert counts(result)["orders"] == {"created": 0, "updated": 2, "unchanged": 1, "refused": 0}
    first = Order.objects.get(number="SO-1")
    assert list(first.lines.values_list("line_number", "quantity")) == [
        (1, Decimal("3.500")),
        (2, Decimal("3.000")),
    ]
    assert first.total_amount == Decimal("303.12")
    assert Order.objects.get(number="SO-3").state == "confirmed"
    assert Customer.objects.get(code="E1").purchase_count == 2


def test_a_state_may_not_move_backwards(ledger, csv_file):
    import_file(kind="orders", path=csv_file([HEADER, *ROWS]), actor=ledger.administrator)
    back = [[*row] for row in ROWS]
    back[2][8] = "草稿"  # SO-2 delivered → draft

    result = import_file(kind="orders", path=csv_file([HEADER, *back]), actor=ledger.administrator)

    assert result.status == "refused"
    assert error_tuples(result) == [
        (4, "状态", "draft", "Order SO-2 is delivered and cannot become draft."),
    ]
    assert Order.objects.get(number="SO-2").state == "delivered"


def test_bad_rows_refuse_the_file_and_leave_the_ledger_unchanged(ledger, csv_file):
    import_file(kind="orders", path=csv_file([HEADER, ROWS[0]]), actor=ledger.administrator)
    before = (
        Order.objects.count(),
        OrderLine.objects.count(),
        Order.objects.get(number="SO-1").total_amount,
    )
    bad = [
        ["SO-1", "E1", "2024-03-05", "P1", "5", "0.99", "", "0.1", ""],
        ["SO-4", "E404", "2024-02-30", "P404", "-1", "abc", "", "1.5", "lost"],
        ["SO-5", "E1", "2024-06-01", "P1", "1", "2", "", "", ""],
        ["SO-5", "E2", "2024-06-02", "P1", "1", "2", "", "", ""],
        ["", "E1", "next week", "P1", "1.0001", "2", "", "", ""],
    ]

    result = import_file(kind="orders", path=csv_file([HEADER, *bad]), actor=ledger.administrator)

    assert result.status == "refused"
    assert error_tuples(result) == [
        (3, "客户编码", "E404", "No customer with the code 'E404'."),
        (3, "订单日期", "2024-02-30", "Not a date in the calendar."),
        (3, "产品编码", "P404", "No product with the code 'P404'."),
        (3, "数量", "-1", "Must be more than 0."),
        (3, "单价", "abc", "Not a number."),
        (3, "折扣", "1.5", "A discount is the share taken off, between 0 and 1: 0.1, 10% or 9折."),
        (
            3,
            "状态",
            "lost",
            "Not one of: draft (草稿), confirmed (已确认), delivered (已发货), "
            "invoiced (已开票), cancelled (已取消).",
        ),
        (4, "订单号", "SO-5", "Not imported: row 5 of order SO-5 has an error."),
        (5, "客户编码", "E2", "Row 4 gives order SO-5 another customer."),
        (5, "订单日期", "2024-06-02", "Row 4 gives order SO-5 another date (2024-06-01)."),
        (6, "订单号", None, "Required; the cell is empty."),
        (6, "订单日期", "next week", "Not a date; write it as 2024-03-05."),
        (6, "数量", "1.0001", "More than 3 decimal places."),
    ]
    assert counts(result)["orders"] == {"created": 0, "updated": 0, "unchanged": 0, "refused": 2}
    assert (
        Order.objects.count(),
        OrderLine.objects.count(),
        Order.objects.get(number="SO-1").total_amount,
    ) == before


def test_skip_bad_rows_writes_whole_good_orders_only(ledger, csv_file):
    rows = [
        ["SO-7", "E1", "2024-06-01", "P1", "1", "2", "", "", ""],
        ["SO-7", "E1", "2024-06-01", "P1", "-1", "2", "", "", ""],
        ["SO-8", "E2", "2024-06-01", "P2", "1", "2", "", "", ""],
    ]

    result = import_file(
        kind="orders",
        path=csv_file([HEADER, *rows]),
        skip_bad_rows=True,
        actor=ledger.administrator,
    )

    assert result.status == "done"
    assert counts(result) == {
        "orders": {"created": 1, "updated": 0, "unchanged": 0, "refused": 1},
        "order_lines": {"created": 1, "updated": 0, "unchanged": 0, "refused": 2},
    }
    assert list(Order.objects.values_list("number", flat=True)) == ["SO-8"]
    assert sorted(result.refused_rows) == [2, 3]


def test_an_order_of_another_customer_is_refused(ledger, csv_file):
    import_file(kind="orders", path=csv_file([HEADER, ROWS[0]]), actor=ledger.administrator)
    other = [*ROWS[0]]
    other[1] = "E2"

    result = import_file(kind="orders", path=csv_file([HEADER, other]), actor=ledger.administrator)

    assert error_tuples(result) == [
        (2, "客户编码", "E2", "Order SO-1 exists for another customer."),
    ]


def test_english_headers_and_a_gb18030_file(ledger, csv_file):
    path = csv_file(
        [
            [
                "order number",
                "customer code",
                "order date",
                "product code",
                "quantity",
                "unit price",
                "payment method",
            ],
            ["SO-天", "E1", "2024-03-05", "P1", "1", "5", "现金"],
        ],
        encoding="gb18030",
    )

    result = import_file(kind="orders", path=path, actor=ledger.administrator)

    assert result.status == "done", result.errors
    order = Order.objects.get(number="SO-天")
    assert (order.payment_method, order.total_amount) == ("cash", Decimal("5.00"))
