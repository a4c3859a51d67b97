"""The home page: counts and money over the customers the user may see, in a few queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.customers.models import CustomerKind
from kehu.customers.tests import ledger
from kehu.customers.tests.factories import CustomerFactory


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def book(organisation, today):
    """The rep: one prospect, one new, one old customer with receivables; the west rep: one old."""
    rep, other = organisation.rep, organisation.other_rep
    prospect = CustomerFactory.create(owner=rep, kind=CustomerKind.CONSUMER)
    new = CustomerFactory.create(owner=rep)
    old = CustomerFactory.create(owner=rep)
    west = CustomerFactory.create(owner=other)
    ledger.purchase(new, on=today - dt.timedelta(days=3), amount="100")
    for months_ago in (0, 2):
        ledger.purchase(old, on=today - dt.timedelta(days=31 * months_ago), amount="1000")
    ledger.purchase(west, on=today, amount="5000")
    ledger.purchase(west, on=today, amount="5000")
    ledger.invoice(old, issued=today - dt.timedelta(days=60), amount="2000", terms=30)
    ledger.invoice(old, issued=today, amount="700", terms=30)
    ledger.invoice(west, issued=today - dt.timedelta(days=90), amount="9999", terms=30)
    return {"prospect": prospect, "new": new, "old": old, "west": west}


def test_the_dashboard_counts_only_the_visible_customers(organisation, book, client, today):
    client.force_login(organisation.rep)

    response = client.get("/")

    dashboard = response.context["dashboard"]
    assert dashboard.customer_count == 3
    assert dashboard.by_lifecycle == {"prospect": 1, "new": 1, "old": 1, "inactive": 0, "lost": 0}
    assert dashboard.by_kind == {"business": 2, "consumer": 1}
    assert dashboard.open_receivables == Decimal("2700.00")
    assert dashboard.overdue_receivables == Decimal("2000.00")
    assert dashboard.overdue_invoice_count == 1
    assert "2,700.00" in response.text
    months = dashboard.orders_by_month
    assert len(months) == 12
    assert months[-1].month == today.replace(day=1)
    assert sum(row.count for row in months) == 3
    assert sum(row.amount for row in months) == Decimal("2100.00")


def test_finance_sees_the_whole_company(organisation, book, client):
    client.force_login(organisation.finance)

    dashboard = client.get("/").context["dashboard"]

    assert dashboard.customer_count == 4
    assert dashboard.open_receivables == Decimal("12699.00")
    assert dashboard.overdue_receivables == Decimal("11999.00")


def test_the_charts_have_their_data(organisation, book, client):
    client.force_login(organisation.rep)

    response = client.get("/")

    assert response.context["chart_lifecycle"]["values"] == [1, 1, 1, 0, 0]
    assert 'id="chart-lifecycle"' in response.text
    assert 'id="chart-orders"' in response.text
    assert "kehu/vendor/echarts/echarts.min.js" in response.text


def test_an_empty_company_shows_zeros(organisation, client):
    client.force_login(organisation.rep)

    dashboard = client.get("/").context["dashboard"]

    assert dashboard.customer_count == 0
    assert dashboard.open_receivables == Decimal("0.00")


@pytest.mark.parametrize("person", ["rep", "regional_manager", "finance"])
def test_the_home_page_takes_a_fixed_handful_of_queries(
    organisation, book, client, person, django_assert_max_num_queries
):
    client.force_login(getattr(organisation, person))
    client.get("/")
    for index in range(30):
        CustomerFactory.create(owner=organisation.rep, code=f"X{index}")

    # session, user, (org unit), customers, invoices, orders by month
    with django_assert_max_num_queries(6):
        assert client.get("/").status_code == 200
