"""The aging, drill-down and figures pages: who sees what, exports, and queries that stay flat."""

import datetime as dt
import io
from decimal import Decimal

import polars as pl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.services import invoice_create, payment_record

D = Decimal
AS_OF = "2026-06-30"


@pytest.fixture
def ledger(organisation):
    east = CustomerFactory(code="EAST1", name="东方公司", owner=organisation.rep)
    west = CustomerFactory(code="WEST1", name="西方公司", owner=organisation.other_rep)
    invoice_create(customer=east, number="E-1", issue_date=dt.date(2026, 3, 1), amount=D("300"))
    invoice_create(customer=east, number="E-2", issue_date=dt.date(2026, 6, 20), amount=D("100"))
    invoice_create(customer=west, number="W-1", issue_date=dt.date(2026, 5, 1), amount=D("700"))
    payment_record(customer=west, number="P", received_on=dt.date(2026, 6, 1), amount=D("200"))
    return {"east": east, "west": west}


def test_finance_sees_the_company_aging(client, organisation, ledger):
    client.force_login(organisation.finance)

    response = client.get("/receivables/", {"as_of": AS_OF})

    assert response.status_code == 200
    report = response.context["report"]
    assert report.totals == [D("100.00"), D("500.00"), D("0.00"), D("0.00"), D("300.00"),
                             D("0.00"), D("0.00")]  # fmt: skip
    assert "900.00" in response.content.decode()


def test_a_rep_sees_only_their_customers(client, organisation, ledger):
    client.force_login(organisation.rep)

    response = client.get("/receivables/", {"as_of": AS_OF, "by": "customer"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "EAST1" in content
    assert "WEST1" not in content
    assert response.context["report"].total == D("400.00")


def test_nothing_open_shows_the_empty_state(client, organisation, ledger):
    client.force_login(organisation.finance)

    response = client.get("/receivables/", {"as_of": "2020-01-01"})

    assert response.status_code == 200
    assert response.context["report"].rows == []
    assert "empty-state" in response.content.decode()


def test_a_bad_date_is_named_and_today_is_shown(client, organisation, ledger):
    client.force_login(organisation.finance)

    response = client.get("/receivables/", {"as_of": "2026-13-45"})

    assert response.status_code == 200
    assert "2026-13-45" in response.content.decode()


def test_the_htmx_partial_has_no_page_shell(client, organisation, ledger):
    client.force_login(organisation.finance)

    response = client.get(
        "/receivables/", {"as_of": AS_OF, "by": "rep"}, HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="aging-results",
    )  # fmt: skip

    assert response.status_code == 200
    assert "<html" not in response.content.decode()


def test_drill_down_lists_the_invoices_behind_a_cell(client, organisation, ledger):
    client.force_login(organisation.finance)

    response = client.get(
        "/receivables/invoices/",
        {"as_of": AS_OF, "bucket": "1-30", "by": "customer", "key": ledger["west"].pk},
    )

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(invoice.number, invoice.open_as_of, days) for invoice, days in rows] == [
        ("W-1", D("500.00"), 30)
    ]
    assert response.context["open_total"] == D("500.00")


def test_a_rep_s_drill_down_hides_the_other_rep_s_invoices(client, organisation, ledger):
    client.force_login(organisation.rep)

    response = client.get("/receivables/invoices/", {"as_of": AS_OF, "customer": ledger["west"].pk})

    assert response.status_code == 200
    assert response.context["rows"] == []


def test_drill_down_search(client, organisation, ledger):
    client.force_login(organisation.finance)

    response = client.get("/receivables/invoices/", {"as_of": AS_OF, "q": "东方", "sort": "-open"})

    assert [invoice.number for invoice, _days in response.context["rows"]] == ["E-1", "E-2"]


def test_export_is_a_workbook_of_the_current_view(client, organisation, ledger):
    client.force_login(organisation.finance)

    response = client.get("/receivables/aging.xlsx", {"as_of": AS_OF, "by": "customer"})

    assert response.status_code == 200
    frame = pl.read_excel(io.BytesIO(b"".join(response.streaming_content)))
    assert frame.height == 3  # two customers and the total
    assert frame.row(0)[0].startswith("WEST1")
    assert frame.row(2)[-2] == 900.0


def test_figures_page(client, organisation, ledger):
    client.force_login(organisation.finance)

    response = client.get("/receivables/figures/", {"from": "2026-01-01", "to": AS_OF})

    assert response.status_code == 200
    figures = response.context["figures"]
    assert (figures.credit_sales, figures.cash_collected, figures.receivables_at_end) == (
        D("1100.00"),
        D("200.00"),
        D("900.00"),
    )


def test_the_rep_s_figures_page_counts_only_their_customers(client, organisation, ledger):
    client.force_login(organisation.rep)

    response = client.get("/receivables/figures/", {"from": "2026-01-01", "to": AS_OF})

    assert response.context["figures"].credit_sales == D("400.00")


def _queries(client, url, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["finance", "rep"])
def test_query_counts_do_not_grow_with_rows(client, organisation, ledger, role):
    client.force_login(getattr(organisation, role))
    pages = [
        ("/receivables/", {"as_of": AS_OF, "by": "customer"}),
        ("/receivables/invoices/", {"as_of": AS_OF}),
        ("/receivables/figures/", {"from": "2026-01-01", "to": AS_OF}),
    ]
    client.get(*pages[0])  # finance: computes and stores the snapshot, read below
    before = [_queries(client, url, params) for url, params in pages]
    for index in range(15):
        customer = CustomerFactory(owner=organisation.rep)
        invoice_create(
            customer=customer, number=f"X{index}", issue_date=dt.date(2026, 4, 1), amount=D("10")
        )
    client.get(*pages[0])

    after = [_queries(client, url, params) for url, params in pages]

    assert after == before


def test_aging_api_for_a_rep(client, organisation, ledger):
    client.force_login(organisation.rep)

    response = client.get("/api/receivables/aging", {"as_of": AS_OF, "group_by": "customer"})

    assert response.status_code == 200
    body = response.json()
    assert [(row["label"], row["total"]) for row in body["rows"]] == [("EAST1 东方公司", "400.00")]
    assert body["totals"] == ["100.00", "0.00", "0.00", "0.00", "300.00", "0.00", "0.00"]
    assert body["buckets"][1] == {"key": "1-30", "label": "1–30", "days_from": 1, "days_to": 30}


def test_aging_api_refuses_an_unknown_grouping(client, organisation):
    client.force_login(organisation.finance)

    response = client.get("/api/receivables/aging", {"group_by": "planet"})

    assert response.status_code == 422
    assert set(response.json()) == {"message", "detail"}


def test_figures_api(client, organisation, ledger):
    client.force_login(organisation.finance)

    response = client.get("/api/receivables/figures", {"from": "2026-01-01", "to": AS_OF})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["credit_sales"], body["cash_collected"], body["total_assets"]) == (
        "1100.00",
        "200.00",
        None,
    )
    assert [month["cash"] for month in body["cash_against_sales"]][-1] == "200.00"


def test_figures_api_refuses_a_period_ending_before_it_starts(client, organisation):
    client.force_login(organisation.finance)

    response = client.get("/api/receivables/figures", {"from": "2026-06-01", "to": "2026-01-01"})

    assert response.status_code == 422


def test_drill_down_pages_and_sorts(client, organisation, ledger, settings):
    settings.KEHU = {**settings.KEHU, "PAGE_SIZE": 2}
    client.force_login(organisation.finance)

    first = client.get("/receivables/invoices/", {"as_of": AS_OF, "sort": "-open"})
    second = client.get("/receivables/invoices/", {"as_of": AS_OF, "sort": "-open", "page": 2})
    past = client.get("/receivables/invoices/", {"as_of": AS_OF, "sort": "-open", "page": 9})
    by_number = client.get("/receivables/invoices/", {"as_of": AS_OF, "sort": "-number"})
    by_customer = client.get("/receivables/invoices/", {"as_of": AS_OF, "sort": "customer"})

    def numbers(response):
        return [(invoice.number, invoice.open_as_of) for invoice, _days in response.context["rows"]]

    assert numbers(first) == [("W-1", D("500.00")), ("E-1", D("300.00"))]
    assert numbers(second) == [("E-2", D("100.00"))]
    assert numbers(past) == numbers(second)
    assert past.context["page"].number == 2
    assert first.context["page"].paginator.count == 3
    assert first.context["page"].paginator.num_pages == 2
    assert second.context["open_total"] == D("900.00")
    assert [invoice.number for invoice, _days in by_number.context["rows"]] == ["W-1", "E-2"]
    assert [invoice.number for invoice, _days in by_customer.context["rows"]] == ["E-1", "E-2"]


def test_drill_down_export_is_every_invoice_of_the_cell(client, organisation, ledger, settings):
    settings.KEHU = {**settings.KEHU, "PAGE_SIZE": 1}
    client.force_login(organisation.finance)

    response = client.get(
        "/receivables/invoices/", {"as_of": AS_OF, "sort": "-open", "export": "xlsx", "page": 2}
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="invoices-2026-06-30.xlsx"'
    frame = pl.read_excel(io.BytesIO(b"".join(response.streaming_content)))
    rows = [tuple(row) for row in frame.rows()]
    assert len(frame.columns) == 9
    assert [row[:3] for row in rows[:3]] == [
        ("W-1", "WEST1", "西方公司"),
        ("E-1", "EAST1", "东方公司"),
        ("E-2", "EAST1", "东方公司"),
    ]
    assert [row[3] for row in rows[:3]] == [
        str(organisation.other_rep),
        str(organisation.rep),
        str(organisation.rep),
    ]
    assert [(row[6], row[7], row[8]) for row in rows[:3]] == [
        (30, 700.0, 500.0),
        (91, 300.0, 300.0),
        (0, 100.0, 100.0),
    ]
    assert len(rows) == 4
    assert rows[3][8] == 900.0  # the total


def test_a_rep_s_drill_down_export_holds_only_their_invoices(client, organisation, ledger):
    client.force_login(organisation.rep)

    response = client.get(
        "/receivables/invoices/", {"as_of": AS_OF, "bucket": "1-30", "export": "xlsx"}
    )

    frame = pl.read_excel(io.BytesIO(b"".join(response.streaming_content)))
    assert response["Content-Disposition"] == 'attachment; filename="invoices-1-30-2026-06-30.xlsx"'
    assert frame.height == 1  # the total only: the 1–30 invoice is the other rep's
    assert frame.row(0)[8] == 0.0


def test_drill_down_is_one_statement_for_the_rows_count_and_total(client, organisation, ledger):
    client.force_login(organisation.finance)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/receivables/invoices/", {"as_of": AS_OF, "bucket": "1-30"})

    assert response.context["open_total"] == D("500.00")
    statements = [query["sql"] for query in queries.captured_queries if "balances" in query["sql"]]
    assert len(statements) == 1
    assert "OVER ()" in statements[0]
