"""Loss-makers and the cost to serve (§4.5): page, export and API, on the hand-built ledger of
snapshot_ledger.py (13 customers of the east rep, period 2025Q4).

Net profit = gross profit − cost to serve. Four customers lose money:
F −445.00 (GP 40; orders 30, deliveries 80, visits and calls 225, complaint 150),
M −336.00 (GP 24; twelve orders handled 360), G −286.04 (GP 160; orders 30, financing 16.04,
bad debt 400) and C −170.00 (GP −40; order 30, return 100). Together −1,237.04 on a revenue of
460.00 (F 100, M 60, G 400, C −100) out of 4,960.00.
"""

from __future__ import annotations

import io
from decimal import Decimal

import polars as pl
import pytest
from django.urls import reverse
from django.utils import translation

from kehu.customers.models import Customer
from kehu.value.services import value_snapshot_compute
from kehu.value.tests.snapshot_ledger import build_ledger

D = Decimal
WORST = ["V-F", "V-M", "V-G", "V-C"]
REASONS = [
    "Visits, calls and other activities",
    "Orders handled",
    "Bad debts",
    "Sold below cost (negative gross profit)",
]
# The loss-makers' cost to serve by component, in COST_COMPONENTS order.
COMPONENTS = {
    "cost_orders": D("450.00"),
    "cost_deliveries": D("80.00"),
    "cost_activities": D("225.00"),
    "cost_complaints": D("150.00"),
    "cost_returns": D("100.00"),
    "cost_financing": D("16.04"),
    "cost_bad_debts": D("400.00"),
}


@pytest.fixture(autouse=True)
def english(client, settings):
    """Pages and the API in English (the source language); Chinese is checked elsewhere."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def snapshot(organisation):
    build_ledger(organisation)
    return value_snapshot_compute(period="2025Q4")


def test_page_summarises_the_loss_makers(client, organisation, snapshot):
    client.force_login(organisation.finance)

    response = client.get(reverse("value:profitability"))

    assert response.status_code == 200
    report = response.context["report"]
    assert (report.customer_count, report.loss_count) == (13, 4)
    assert report.loss_total == D("-1237.04")
    assert (report.loss_revenue, report.total_revenue) == (D("460.00"), D("4960.00"))
    assert report.loss_revenue_share == pytest.approx(460 / 4960)
    assert report.loss_cost_to_serve == D("1421.04") == sum(COMPONENTS.values())
    assert {key: amount for key, _label, amount in report.components} == COMPONENTS
    assert report.total_net_profit == D("629.21")
    rows = response.context["rows"]
    assert [row.customer.code for row, _costs, _reason in rows] == WORST
    assert [reason for _row, _costs, reason in rows] == REASONS
    _row, f_costs, _reason = rows[0]
    assert f_costs == [
        D("30.00"),
        D("80.00"),
        D("225.00"),
        D("150.00"),
        D("0.00"),
        D("0.00"),
        D("0.00"),
    ]
    chart = response.context["chart_profitability"]
    assert chart["customers"] == WORST
    bad_debts = next(item for item in chart["components"] if item["key"] == "cost_bad_debts")
    assert bad_debts["values"] == [0.0, 0.0, 400.0, 0.0]
    assert chart["net_profit"] == [-445.0, -336.0, -286.04, -170.0]
    assert "1,237.04" in response.content.decode()


def test_all_customers_when_the_loss_filter_is_off(client, organisation, snapshot):
    client.force_login(organisation.finance)
    url = reverse("value:profitability")

    everyone = client.get(url, {"losses": "0"})
    by_cost = client.get(url, {"losses": "0", "sort": "-cost_to_serve"})

    codes = [row.customer.code for row, *_ in everyone.context["rows"]]
    assert len(codes) == 13
    assert codes[:4] == WORST
    assert codes[-1] == "V-A"  # 1,110.00, the best
    assert [row.customer.code for row, *_ in by_cost.context["rows"]][:3] == ["V-F", "V-G", "V-M"]
    assert everyone.context["report"].loss_count == 4  # the summary does not depend on it


def test_chart_shows_at_most_the_twenty_worst(client, organisation, snapshot, monkeypatch):
    from kehu.value import views

    monkeypatch.setattr(views, "WORST_COUNT", 2)
    client.force_login(organisation.finance)

    response = client.get(reverse("value:profitability"))

    assert response.context["chart_profitability"]["customers"] == ["V-F", "V-M"]
    assert response.context["page"].paginator.count == 4


def test_a_rep_sees_only_their_own_customers(client, organisation, snapshot):
    Customer.objects.filter(code__in=("V-F", "V-A")).update(owner=organisation.other_rep)
    client.force_login(organisation.other_rep)

    page = client.get(reverse("value:profitability"))
    api = client.get("/api/value/profitability").json()
    export = client.get(reverse("value:profitability_export"))

    report = page.context["report"]
    assert (report.customer_count, report.loss_count, report.loss_total) == (2, 1, D("-445.00"))
    assert report.loss_revenue_share == pytest.approx(100 / 3100)
    assert [row.customer.code for row, *_ in page.context["rows"]] == ["V-F"]
    assert page.context["chart_profitability"]["customers"] == ["V-F"]
    assert [item["code"] for item in api["customers"]] == ["V-F"]
    assert api["loss_total"] == "-445.00"
    sheet = pl.read_excel(io.BytesIO(b"".join(export.streaming_content)))
    assert sheet.to_series(0).to_list() == ["V-F"]


def test_query_count_is_bounded(client, organisation, snapshot, django_assert_max_num_queries):
    client.force_login(organisation.finance)

    with django_assert_max_num_queries(13):
        response = client.get(reverse("value:profitability"), {"losses": "0"})

    assert response.status_code == 200


def test_export_has_every_cost_component(client, organisation, snapshot):
    client.force_login(organisation.rep)

    response = client.get(reverse("value:profitability_export"))

    assert response.status_code == 200
    sheet = pl.read_excel(io.BytesIO(b"".join(response.streaming_content)))
    assert sheet.width == 4 + 3 + 7 + 3
    assert sheet.to_series(0).to_list() == WORST
    assert sheet.to_series(sheet.width - 1).to_list() == REASONS
    g = sheet.row(2)
    # revenue, cost of goods, gross profit, orders … bad debts, cost to serve, net profit
    assert list(g[4:16]) == [
        400.0,
        240.0,
        160.0,
        30.0,
        0.0,
        0.0,
        0.0,
        0.0,
        16.04,
        400.0,
        446.04,
        -286.04,
    ]


def test_api_summary_and_list(client, organisation, snapshot):
    client.force_login(organisation.finance)

    response = client.get("/api/value/profitability", {"limit": 2, "offset": 1})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["loss_count"], body["loss_total"], body["loss_revenue"]) == (
        4,
        "-1237.04",
        "460.00",
    )
    assert body["loss_revenue_share"] == pytest.approx(460 / 4960)
    assert {item["key"]: item["amount"] for item in body["loss_components"]} == {
        key: str(amount) for key, amount in COMPONENTS.items()
    }
    assert body["customers_total"] == 4
    assert [item["code"] for item in body["customers"]] == ["V-M", "V-G"]
    g = body["customers"][1]
    assert (g["cost_bad_debts"], g["cost_to_serve"], g["net_profit"]) == (
        "400.00",
        "446.04",
        "-286.04",
    )
    assert g["reason"] == "Bad debts"
    everyone = client.get("/api/value/profitability", {"only_losses": "false", "limit": 500}).json()
    assert everyone["customers_total"] == 13
    assert everyone["customers"][-1]["reason"] == ""


def test_empty_state_without_a_snapshot(client, organisation):
    client.force_login(organisation.finance)

    page = client.get(reverse("value:profitability"))
    api = client.get("/api/value/profitability")

    assert page.status_code == 200
    assert "kehu analyze" in page.content.decode()
    assert api.status_code == 404
    assert set(api.json()) == {"message", "detail"}
    assert client.get(reverse("value:profitability_export")).status_code == 404
