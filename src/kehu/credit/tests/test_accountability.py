"""Who pays for a bad debt (domain §5.4): the giver, the approver, the shares and the totals
per person, on hand-made write-offs with exact amounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kehu.accounts.models import Role, User
from kehu.accounts.tests.factories import UserFactory
from kehu.core.errors import ValidationFailed
from kehu.credit.models import (
    CreditCheck,
    CreditCheckPoint,
    CreditCheckResult,
    CreditLineState,
    CustomerCredit,
    HoldState,
)
from kehu.credit.selectors.accountability import bad_debt_accountability
from kehu.credit.services.settings import credit_settings_update
from kehu.credit.tests.factories import CreditGroupFactory, CreditLineFactory
from kehu.customers.models import Customer
from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.models import WriteOff
from kehu.receivables.tests.factories import InvoiceFactory
from kehu.sales.models import Order, OrderState

D = Decimal
FROM = dt.date(2026, 1, 1)
TO = dt.date(2026, 12, 31)
APPROVED_AT = timezone.make_aware(dt.datetime(2025, 12, 20, 10, 0))


def make_order(customer: Customer, owner: User | None, number: str) -> Order:
    return Order.objects.create(
        number=number,
        customer=customer,
        owner=owner,
        state=OrderState.INVOICED,
        order_date=dt.date(2026, 2, 1),
        total_amount=D("1000.00"),
    )


def make_write_off(
    customer: Customer,
    amount: str,
    *,
    order: Order | None = None,
    issue_date: dt.date = dt.date(2026, 2, 10),
    written_off_on: dt.date = dt.date(2026, 9, 30),
    **people: Any,
) -> WriteOff:
    invoice = InvoiceFactory.create(
        customer=customer, order=order, issue_date=issue_date, amount=D("5000.00")
    )
    return WriteOff.objects.create(
        invoice=invoice,
        amount=D(amount),
        written_off_on=written_off_on,
        reason="客户破产",
        **people,
    )


def check(order: Order, result: str, hold_state: str = "", decided_by: User | None = None):
    return CreditCheck.objects.create(
        order=order,
        customer=order.customer,
        checkpoint=CreditCheckPoint.CONFIRM,
        result=result,
        hold_state=hold_state,
        order_amount=order.total_amount,
        exposure=D("0"),
        decided_by=decided_by,
    )


@pytest.fixture
def east_customer(organisation) -> Customer:
    return CustomerFactory.create(code="E-1", name="华东机械", owner=organisation.rep)


@pytest.fixture
def west_customer(organisation) -> Customer:
    return CustomerFactory.create(code="W-1", name="华西电子", owner=organisation.other_rep)


def _line(customer: Customer, approver: User, **fields: Any):
    return CreditLineFactory.create(
        customer=customer, approved_by=approver, **{"approved_at": APPROVED_AT, **fields}
    )


def _username(user: User | None) -> str:
    assert user is not None
    return user.username


def _shares(row) -> list[tuple[str, str, Decimal, Decimal]]:
    return [
        (share.person.username if share.person else "", share.role, share.share, share.amount)
        for share in row.shares()
    ]


def test_credit_nobody_approved_is_borne_in_full_by_the_giver(organisation, east_customer):
    # Given no line: the rep's order was invoiced and written off
    order = make_order(east_customer, organisation.rep, "SO-1")
    make_write_off(east_customer, "1234.56", order=order)

    # When
    report = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO)

    # Then
    (row,) = report.rows
    assert row.basis == "no_line"
    assert (row.is_approved, row.is_inside_line) == (False, False)
    assert row.approver is None
    assert _shares(row) == [("rep", "giver", D("1.00"), D("1234.56"))]
    assert [(_username(p.person), p.write_off_count, p.amount, p.borne) for p in report.people] == [
        ("rep", 1, D("1234.56"), D("1234.56"))
    ]


def test_a_debt_inside_an_approved_line_is_shared_half_and_half(organisation, east_customer):
    # Given a line approved by the customer manager, valid on the invoice date, and an order
    # that passed its credit check
    _line(east_customer, organisation.customer_manager)
    order = make_order(east_customer, organisation.rep, "SO-1")
    check(order, CreditCheckResult.PASSED)
    make_write_off(east_customer, "1000.01", order=order)

    # When
    report = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO)

    # Then the handler bears 500.01 (rounded half-up), the approver the rest, exactly
    (row,) = report.rows
    assert row.basis == "line_and_check"
    assert (row.is_approved, row.is_inside_line) == (True, True)
    assert _shares(row) == [
        ("rep", "giver", D("0.50"), D("500.01")),
        ("cm", "approver", D("0.50"), D("500.00")),
    ]
    assert row.giver_amount + row.approver_amount == D("1000.01")
    assert row.company_amount == D("0.00")


def test_settings_changed_to_70_30_share_70_30(organisation, east_customer):
    # Given the settings changed to 70% handler, 30% approver
    credit_settings_update(
        changes={"accountability": {"handler_share": "0.70", "approver_share": "0.30"}},
        actor=organisation.finance,
        reason="坏账责任制调整",
    )
    _line(east_customer, organisation.customer_manager)
    order = make_order(east_customer, organisation.rep, "SO-1")
    check(order, CreditCheckResult.PASSED)
    make_write_off(east_customer, "2000.00", order=order)

    # When
    report = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO)

    # Then
    (row,) = report.rows
    assert _shares(row) == [
        ("rep", "giver", D("0.70"), D("1400.00")),
        ("cm", "approver", D("0.30"), D("600.00")),
    ]


def test_an_unapproved_share_below_100_leaves_the_rest_to_the_company(organisation, east_customer):
    credit_settings_update(
        changes={"accountability": {"unapproved_giver_share": "0.80"}},
        actor=organisation.finance,
    )
    make_write_off(east_customer, "999.99")

    (row,) = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO).rows

    assert _shares(row) == [("rep", "giver", D("0.80"), D("799.99"))]
    assert row.company_amount == D("200.00")


def test_a_reversed_write_off_drops_out(organisation, east_customer):
    make_write_off(east_customer, "300.00")
    reversed_one = make_write_off(east_customer, "700.00")
    reversed_one.reversed_on = dt.date(2026, 10, 15)
    reversed_one.save(update_fields=["reversed_on"])

    report = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO)

    assert [row.amount for row in report.rows] == [D("300.00")]
    assert report.total_amount == D("300.00")


def test_write_offs_outside_the_period_drop_out(organisation, east_customer):
    make_write_off(east_customer, "100.00", written_off_on=dt.date(2025, 12, 31))
    make_write_off(east_customer, "200.00", written_off_on=dt.date(2026, 1, 1))

    report = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO)

    assert [row.amount for row in report.rows] == [D("200.00")]


def test_the_giver_is_the_recorded_one_else_the_order_owner_else_the_customer_owner(
    organisation, east_customer
):
    # Given three write-offs: one records the giver, one has an order entered by the customer
    # manager, one has no order
    order = make_order(east_customer, organisation.customer_manager, "SO-1")
    make_write_off(east_customer, "10.00", credit_given_by=organisation.direct_sales_manager)
    make_write_off(east_customer, "20.00", order=order)
    make_write_off(east_customer, "30.00")

    report = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO)

    assert [(row.amount, _username(row.giver)) for row in report.rows] == [
        (D("10.00"), "dsm"),
        (D("20.00"), "cm"),
        (D("30.00"), "rep"),
    ]


@pytest.mark.parametrize(
    ("fields", "issue_date", "basis"),
    [
        ({}, dt.date(2026, 2, 10), "line_no_check"),
        ({}, dt.date(2025, 12, 31), "no_line"),  # before the line's validity
        ({"approved_at": None}, dt.date(2026, 2, 10), "no_line"),  # never approved
        ({"state": CreditLineState.CANCELLED}, dt.date(2026, 2, 10), "no_line"),
        ({"state": CreditLineState.SUPERSEDED}, dt.date(2026, 2, 10), "line_no_check"),
    ],
)
def test_which_lines_count(organisation, east_customer, fields, issue_date, basis):
    # Given a line (valid 2026-01-01 to 2026-12-31) and an invoice without an order
    _line(east_customer, organisation.customer_manager, **fields)
    make_write_off(east_customer, "100.00", issue_date=issue_date)

    (row,) = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO).rows

    assert row.basis == basis


def test_the_groups_line_counts_for_its_members(organisation, east_customer):
    group = CreditGroupFactory.create()
    CustomerCredit.objects.create(customer=east_customer, group=group)
    CreditLineFactory.create(
        customer=None,
        group=group,
        approved_by=organisation.regional_manager,
        approved_at=APPROVED_AT,
    )
    make_write_off(east_customer, "100.00")

    (row,) = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO).rows

    assert row.basis == "line_no_check"
    assert row.approver == organisation.regional_manager


def test_a_released_hold_makes_the_releaser_the_approver(organisation, east_customer):
    # Given a line, and an order held beyond it that the regional manager released
    _line(east_customer, organisation.customer_manager)
    order = make_order(east_customer, organisation.rep, "SO-1")
    check(order, CreditCheckResult.HELD, HoldState.RELEASED, organisation.regional_manager)
    make_write_off(east_customer, "800.00", order=order)

    (row,) = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO).rows

    assert row.basis == "hold_released"
    assert (row.is_approved, row.is_inside_line) == (True, False)
    assert _shares(row) == [
        ("rep", "giver", D("0.50"), D("400.00")),
        ("rm", "approver", D("0.50"), D("400.00")),
    ]


def test_an_order_that_went_out_although_held_is_unapproved(organisation, east_customer):
    # Given a line, and an order whose hold was rejected, invoiced anyway
    _line(east_customer, organisation.customer_manager)
    order = make_order(east_customer, organisation.rep, "SO-1")
    check(order, CreditCheckResult.HELD, HoldState.REJECTED, organisation.regional_manager)
    make_write_off(east_customer, "800.00", order=order)

    (row,) = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO).rows

    assert row.basis == "hold_not_released"
    assert _shares(row) == [("rep", "giver", D("1.00"), D("800.00"))]


def test_a_recorded_approver_wins(organisation, east_customer):
    make_write_off(
        east_customer,
        "90.00",
        credit_given_by=organisation.customer_manager,
        credit_approved_by=organisation.direct_sales_manager,
    )

    (row,) = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO).rows

    assert row.basis == "recorded"
    assert _shares(row) == [
        ("cm", "giver", D("0.50"), D("45.00")),
        ("dsm", "approver", D("0.50"), D("45.00")),
    ]


def test_a_giver_who_approved_their_own_credit_bears_both_shares(organisation, east_customer):
    _line(east_customer, organisation.customer_manager)
    order = make_order(east_customer, organisation.customer_manager, "SO-1")
    make_write_off(east_customer, "100.00", order=order)

    (row,) = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO).rows

    assert _shares(row) == [("cm", "giver_and_approver", D("1.00"), D("100.00"))]


@pytest.fixture
def mixed(organisation, east_customer, west_customer) -> None:
    """Given four write-offs: rep unapproved 1,000; rep inside cm's line 600 (300/300);
    cm's own unapproved 250 (on the rep's customer); other rep (west) unapproved 400."""
    make_write_off(east_customer, "1000.00")
    _line(east_customer, organisation.customer_manager, valid_from=dt.date(2026, 3, 1))
    make_write_off(east_customer, "600.00", issue_date=dt.date(2026, 3, 5))
    make_write_off(east_customer, "250.00", credit_given_by=organisation.customer_manager)
    make_write_off(west_customer, "400.00")


def test_per_person_totals(organisation, mixed):
    report = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO)

    assert [(_username(p.person), p.write_off_count, p.amount, p.borne) for p in report.people] == [
        ("rep", 2, D("1600.00"), D("1300.00")),
        ("cm", 2, D("850.00"), D("550.00")),
        ("rep2", 1, D("400.00"), D("400.00")),
    ]
    assert report.people[0].share_of_amount == D("1300.00") / D("1600.00")
    assert report.total_amount == D("2250.00")
    assert report.total_borne == D("2250.00")


def test_a_rep_sees_only_own_rows(organisation, mixed):
    report = bad_debt_accountability(user=organisation.rep, date_from=FROM, date_to=TO)

    assert [row.amount for row in report.rows] == [D("1000.00"), D("600.00")]
    assert [(_username(p.person), p.borne) for p in report.people] == [("rep", D("1300.00"))]


def test_a_rep_cannot_ask_for_someone_else(organisation, mixed):
    report = bad_debt_accountability(
        user=organisation.rep, date_from=FROM, date_to=TO, person=organisation.customer_manager
    )

    assert [_username(p.person) for p in report.people] == ["rep"]


def test_the_person_filter_keeps_that_persons_rows_and_total(organisation, mixed):
    report = bad_debt_accountability(
        user=organisation.finance,
        date_from=FROM,
        date_to=TO,
        person=organisation.customer_manager.pk,
    )

    assert [row.amount for row in report.rows] == [D("600.00"), D("250.00")]
    assert [(_username(p.person), p.borne) for p in report.people] == [("cm", D("550.00"))]


def test_a_manager_sees_their_subtree_and_not_another_region(organisation, mixed):
    east = bad_debt_accountability(user=organisation.regional_manager, date_from=FROM, date_to=TO)
    assert sorted(row.amount for row in east.rows) == [D("250.00"), D("600.00"), D("1000.00")]
    assert "rep2" not in [_username(p.person) for p in east.people]

    # A manager of the west region does not see the east's write-offs
    west_manager = UserFactory.create(
        username="rm-west", role=Role.REGIONAL_MANAGER, org_unit=organisation.west
    )
    west = bad_debt_accountability(user=west_manager, date_from=FROM, date_to=TO)
    assert [row.amount for row in west.rows] == [D("400.00")]


def test_the_search_keeps_matching_customers(organisation, mixed):
    report = bad_debt_accountability(
        user=organisation.finance, date_from=FROM, date_to=TO, search="华西"
    )

    assert [row.amount for row in report.rows] == [D("400.00")]


def test_an_inverted_period_is_refused(organisation):
    with pytest.raises(ValidationFailed) as error:
        bad_debt_accountability(
            user=organisation.finance, date_from=dt.date(2026, 2, 1), date_to=FROM
        )
    assert error.value.detail == {"field": "date_from"}


def test_the_report_reads_in_a_fixed_number_of_queries(
    organisation, mixed, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        report = bad_debt_accountability(user=organisation.finance, date_from=FROM, date_to=TO)
        [row.shares() for row in report.rows]


# --- The page and its export --------------------------------------------------------------------

PAGE = "/credit/accountability/"
PERIOD = {"date_from": "2026-01-01", "date_to": "2026-12-31"}


def test_the_page_shows_the_people_the_chart_and_the_rows(client, organisation, mixed):
    client.force_login(organisation.finance)

    response = client.get(PAGE, {**PERIOD, "sort": "person"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "华西电子" in body
    assert "1,300.00" in body
    assert [(total.name, total.borne) for total in response.context["people"]] == [
        ("cm", D("550.00")),
        ("rep", D("1300.00")),
        ("rep2", D("400.00")),
    ]
    assert response.context["chart_accountability"]["names"] == ["rep", "cm", "rep2"]
    assert response.context["chart_accountability"]["borne"] == [1300.0, 550.0, 400.0]
    assert 'data-credit-chart="accountability"' in body
    assert "credit/accountability.js" in body
    assert "accountability/export.xlsx?" in body


def test_the_page_defaults_to_this_year_to_date(client, organisation):
    client.force_login(organisation.finance)

    response = client.get(PAGE)

    assert response.status_code == 200
    today = timezone.localdate()
    report = response.context["report"]
    assert (report.date_from, report.date_to) == (dt.date(today.year, 1, 1), today)
    assert "empty-state" in response.content.decode()


def test_a_rep_sees_own_rows_on_the_page(client, organisation, mixed):
    client.force_login(organisation.rep)

    response = client.get(PAGE, PERIOD)

    assert [total.name for total in response.context["people"]] == ["rep"]
    assert "华西电子" not in response.content.decode()
    assert response.context["may_filter_people"] is False


def test_another_regions_manager_does_not_see_the_rows(client, organisation, mixed):
    west_manager = UserFactory.create(role=Role.REGIONAL_MANAGER, org_unit=organisation.west)
    client.force_login(west_manager)

    response = client.get(PAGE, PERIOD)

    assert [row.amount for row in response.context["report"].rows] == [D("400.00")]
    assert "华东机械" not in response.content.decode()


@pytest.mark.parametrize("url", [PAGE, PAGE + "export.xlsx"])
def test_a_bad_date_gets_422_naming_it(client, organisation, url):
    client.force_login(organisation.finance)

    response = client.get(url, {"date_from": "2026-13-01"})

    assert response.status_code == 422
    assert "2026-13-01" in response.content.decode()


def test_the_export_has_the_people_and_the_rows(client, organisation, mixed):
    import fastexcel

    client.force_login(organisation.finance)

    response = client.get(PAGE + "export.xlsx", PERIOD)

    assert response.status_code == 200
    assert 'filename="accountability-2026-01-01-2026-12-31.xlsx"' in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    reader = fastexcel.read_excel(data)
    people = reader.load_sheet(0, header_row=None).to_polars().rows()
    rows = reader.load_sheet(1, header_row=None).to_polars().rows()
    assert [(row[0], float(row[1]), float(row[3])) for row in people[1:]] == [
        ("rep", 2.0, 1300.0),
        ("cm", 2.0, 550.0),
        ("rep2", 1.0, 400.0),
    ]
    assert sorted(float(row[5]) for row in rows[1:]) == [250.0, 400.0, 600.0, 1000.0]
