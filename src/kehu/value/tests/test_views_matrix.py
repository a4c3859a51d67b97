"""The value matrix (§4.4, volume × loyalty): page, export and API, on the hand-built ledger of
snapshot_ledger.py (13 customers of the east rep, period 2025Q4).

The snapshot's thresholds: volume = the median revenue of the 11 active customers = 100.00
(large means above it), loyalty 0.5. So A (3,000, loyalty 0.64) is core; B (1,000, 0.07) and
G (400, 0.08) are risk; M (60, 0.83) is growth; C (−100), F, H, I, J, K, L (100 each) are
marginal; D (a prospect) and E (inactive) stand outside the matrix.
"""

from __future__ import annotations

import io
from decimal import Decimal

import polars as pl
import pytest
from django.urls import reverse
from django.utils import translation

from kehu.customers.models import Customer, CustomerKind
from kehu.value import report_figures
from kehu.value.report_figures import CustomerFilters, matrix_points
from kehu.value.services import value_snapshot_compute
from kehu.value.tests.snapshot_ledger import build_ledger

D = Decimal
# key: (customers, revenue, gross profit, net profit)
QUADRANTS = {
    "core": (1, "3000.00", "1200.00", "1110.00"),
    "risk": (2, "1400.00", "910.00", "420.81"),  # B 706.85, G −286.04
    "growth": (1, "60.00", "24.00", "-336.00"),
    "marginal": (7, "500.00", "200.00", "-565.60"),  # C −170, F −445, H 9.40, I…L 4 × 10
    "not_active": (2, "0.00", "0.00", "0.00"),
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


def _hand_to_other_rep(organisation, *codes: str) -> None:
    Customer.objects.filter(code__in=codes).update(owner=organisation.other_rep)


def _figures(quadrants) -> dict[str, tuple[int, str, str, str]]:
    return {
        item.key: (item.count, str(item.revenue), str(item.gross_profit), str(item.net_profit))
        for item in quadrants
    }


def test_page_counts_and_sums_every_quadrant(client, organisation, snapshot):
    client.force_login(organisation.finance)

    response = client.get(reverse("value:matrix"))

    assert response.status_code == 200
    report = response.context["report"]
    assert _figures(report.quadrants) == QUADRANTS
    assert (report.customer_count, report.active_count, report.total_revenue) == (
        13,
        11,
        D("4960.00"),
    )
    assert (report.volume_threshold, report.loyalty_threshold) == (D("100.00"), D("0.5"))
    core = report.quadrants[0]
    assert core.customer_share == pytest.approx(1 / 11)
    assert core.revenue_share == pytest.approx(3000 / 4960)
    html = response.content.decode()
    assert 'data-quadrant="risk"' in html
    assert "strategic partnership" in html
    chart = response.context["chart_matrix"]
    assert (chart["volume_threshold"], chart["loyalty_threshold"]) == (100.0, 0.5)
    assert {item["key"]: len(item["points"]) for item in chart["series"]} == {
        "core": 1,
        "risk": 2,
        "growth": 1,
        "marginal": 7,
    }
    assert chart["log"] is False  # C's revenue is negative
    assert not response.context["is_sampled"]


def test_table_filters_by_quadrant_and_sorts(client, organisation, snapshot):
    client.force_login(organisation.finance)
    url = reverse("value:matrix")

    risk = client.get(url, {"quadrant": "risk"})
    by_loyalty = client.get(url, {"quadrant": "marginal", "sort": "-loyalty"})
    searched = client.get(url, {"q": "v-m"})

    assert [row.customer.code for row in risk.context["rows"]] == ["V-B", "V-G"]
    assert [row.customer.code for row in by_loyalty.context["rows"]][:2] == ["V-C", "V-I"]
    assert [row.customer.code for row in searched.context["rows"]] == ["V-M"]
    assert _figures(searched.context["report"].quadrants)["growth"] == QUADRANTS["growth"]
    assert searched.context["report"].customer_count == 1


def test_kind_filter(client, organisation, snapshot):
    Customer.objects.filter(code__in=("V-A", "V-C")).update(kind=CustomerKind.CONSUMER)
    client.force_login(organisation.finance)

    response = client.get(reverse("value:matrix"), {"kind": "consumer"})

    figures = _figures(response.context["report"].quadrants)
    assert figures["core"] == QUADRANTS["core"]
    assert figures["marginal"] == (1, "-100.00", "-40.00", "-170.00")
    assert figures["risk"] == (0, "0.00", "0.00", "0.00")


def test_a_rep_sees_only_their_own_customers(client, organisation, snapshot):
    _hand_to_other_rep(organisation, "V-F", "V-M")
    client.force_login(organisation.other_rep)

    page = client.get(reverse("value:matrix"))
    api = client.get("/api/value/matrix").json()
    export = client.get(reverse("value:matrix_export"))

    figures = _figures(page.context["report"].quadrants)
    assert figures["growth"] == QUADRANTS["growth"]
    assert figures["marginal"] == (1, "100.00", "40.00", "-445.00")
    assert figures["core"] == figures["risk"] == (0, "0.00", "0.00", "0.00")
    assert sorted(row.customer.code for row in page.context["rows"]) == ["V-F", "V-M"]
    points = [
        point[2] for item in page.context["chart_matrix"]["series"] for point in item["points"]
    ]
    assert sorted(points) == ["V-F", "V-M"]
    assert api["customer_count"] == 2
    assert sorted(item["code"] for item in api["customers"]) == ["V-F", "V-M"]
    customers = pl.read_excel(io.BytesIO(b"".join(export.streaming_content)), sheet_id=2)
    assert sorted(customers.to_series(1).to_list()) == ["V-F", "V-M"]


def test_query_count_is_bounded(client, organisation, snapshot, django_assert_max_num_queries):
    client.force_login(organisation.finance)

    with django_assert_max_num_queries(13):
        response = client.get(reverse("value:matrix"), {"quadrant": "marginal"})

    assert response.status_code == 200


def test_scatter_is_sampled_above_the_limit_while_the_figures_count_all(
    client, organisation, snapshot, monkeypatch
):
    monkeypatch.setattr(report_figures, "SCATTER_POINTS", 3)
    client.force_login(organisation.finance)

    points, total = matrix_points(user=organisation.finance, snapshot=snapshot)
    response = client.get(reverse("value:matrix"))

    assert total == 11
    assert 1 <= len(points) <= 3
    assert points == matrix_points(user=organisation.finance, snapshot=snapshot)[0]  # stable
    assert response.context["is_sampled"]
    assert response.context["point_total"] == 11
    assert _figures(response.context["report"].quadrants) == QUADRANTS
    assert "data-sampled" in response.content.decode()


def test_export_reads_back(client, organisation, snapshot):
    client.force_login(organisation.rep)

    response = client.get(reverse("value:matrix_export"), {"quadrant": "risk"})

    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    quadrants = pl.read_excel(io.BytesIO(content), sheet_id=1)
    customers = pl.read_excel(io.BytesIO(content), sheet_id=2)
    assert quadrants.to_series(1).to_list()[:5] == [1, 2, 1, 7, 2]
    assert quadrants.to_series(3).to_list()[:5] == [3000.0, 1400.0, 60.0, 500.0, 0.0]
    assert quadrants.to_series(6).to_list()[:5] == [1110.0, 420.81, -336.0, -565.6, 0.0]
    assert customers.height == 2
    assert [customers.row(0)[1], customers.row(0)[5], customers.row(0)[8]] == [
        "V-B",
        1000.0,
        706.85,
    ]
    assert customers.row(1)[1] == "V-G"


def test_api_figures_and_list(client, organisation, snapshot):
    client.force_login(organisation.finance)

    response = client.get("/api/value/matrix", {"quadrant": "marginal", "limit": 2, "sort": "code"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["volume_threshold"] == "100.00"
    assert body["volume_threshold_setting"] == "median"
    assert body["loyalty_threshold"] == 0.5
    assert {
        item["key"]: (item["count"], item["revenue"], item["gross_profit"], item["net_profit"])
        for item in body["quadrants"]
    } == QUADRANTS
    assert body["customers_total"] == 7
    assert [item["code"] for item in body["customers"]] == ["V-C", "V-F"]
    assert body["customers"][1]["net_profit"] == "-445.00"


def test_api_refuses_an_unknown_quadrant(client, organisation, snapshot):
    client.force_login(organisation.finance)

    response = client.get("/api/value/matrix", {"quadrant": "stars"})

    assert response.status_code == 422
    assert set(response.json()) == {"message", "detail"}


def test_empty_state_without_a_snapshot(client, organisation):
    client.force_login(organisation.finance)

    page = client.get(reverse("value:matrix"))
    api = client.get("/api/value/matrix")

    assert page.status_code == 200
    assert "kehu analyze" in page.content.decode()
    assert api.status_code == 404
    assert "kehu analyze" in api.json()["message"]
    assert client.get(reverse("value:matrix_export")).status_code == 404


def test_filters_value_object_knows_when_it_filters():
    assert not CustomerFilters().is_filtered
    assert CustomerFilters(kind="consumer").is_filtered
