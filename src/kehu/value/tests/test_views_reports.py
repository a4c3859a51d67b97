"""The pyramid and concentration reports (pages, export, API) on the hand-built ledger of
snapshot_ledger.py (13 customers of the east rep, period 2025Q4, ranked by gross profit)."""

from __future__ import annotations

import io
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from django.urls import reverse

from kehu.value.concentration import concentration, whale_curve
from kehu.value.models import CustomerValue
from kehu.value.services import value_snapshot_compute
from kehu.value.tests.snapshot_ledger import build_ledger

D = Decimal
COUNTS = {"vip": 0, "major": 1, "ordinary": 1, "small": 9, "inactive": 1, "prospect": 1}
# Gross profit per class: A 1,200 (major); B 750 (ordinary); C −40, F 40, G 160, H…L 5 × 40,
# M 24 (small): 384; E and D nothing.
VALUES = {"vip": "0.00", "major": "1200.00", "ordinary": "750.00", "small": "384.00"}


@pytest.fixture
def ledger(organisation):
    return build_ledger(organisation)


@pytest.fixture
def snapshot(ledger):
    return value_snapshot_compute(period="2025Q4")


def _cents(snapshot, measure: str) -> np.ndarray:
    rows = CustomerValue.objects.filter(snapshot=snapshot).exclude(
        pyramid_class__in=("inactive", "prospect")
    )
    return np.array([int(getattr(row, measure) * 100) for row in rows], dtype=np.int64)


def test_pyramid_api_counts_values_and_shares(client, organisation, snapshot):
    client.force_login(organisation.finance)

    response = client.get("/api/value/pyramid")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["snapshot"]["id"] == snapshot.pk
    assert body["measure"] == "gross_profit"
    assert {item["key"]: item["count"] for item in body["classes"]} == COUNTS
    values = {item["key"]: item["value"] for item in body["classes"] if item["is_active"]}
    assert values == VALUES
    assert body["total_value"] == "2334.00"
    major = next(item for item in body["classes"] if item["key"] == "major")
    assert major["value_share"] == pytest.approx(1200 / 2334)
    assert major["customer_share"] == pytest.approx(1 / 13)
    assert (body["customer_count"], body["visible_count"]) == (13, 13)


def test_pyramid_page_shows_the_counts_per_class(client, organisation, snapshot):
    client.force_login(organisation.finance)

    response = client.get(reverse("value:pyramid"))

    assert response.status_code == 200
    rows = response.context["report"].classes
    assert {item.key: item.count for item in rows} == COUNTS
    html = response.content.decode()
    assert 'data-class="small"' in html
    assert response.context["chart_pyramid"]["classes"][3]["count"] == 9


def test_drill_down_lists_a_class_by_rank_with_search_and_sort(client, organisation, snapshot):
    client.force_login(organisation.finance)
    url = reverse("value:pyramid")

    response = client.get(url, {"class": "small"})
    codes = [row.customer.code for row, _value, _share in response.context["rows"]]
    assert codes == ["V-G", "V-F", "V-H", "V-I", "V-J", "V-K", "V-L", "V-M", "V-C"]
    first_row, value, share = response.context["rows"][0]
    assert (first_row.rank, first_row.rank_of, value) == (3, 11, D("160.00"))
    assert share == pytest.approx(160 / 2334)

    searched = client.get(url, {"class": "small", "q": "v-m"})
    assert [row.customer.code for row, *_ in searched.context["rows"]] == ["V-M"]

    by_value = client.get(url, {"class": "small", "sort": "value"})
    assert [row.customer.code for row, *_ in by_value.context["rows"]][:2] == ["V-C", "V-M"]


def test_a_rep_sees_company_figures_but_only_their_own_customers(client, organisation, snapshot):
    client.force_login(organisation.other_rep)  # owns none of the 13 customers

    page = client.get(reverse("value:pyramid"), {"class": "small"})
    api = client.get("/api/value/pyramid").json()

    assert {item.key: item.count for item in page.context["report"].classes} == COUNTS
    assert page.context["rows"] == []
    assert {item["key"]: item["visible_count"] for item in api["classes"]} == dict.fromkeys(
        COUNTS, 0
    )
    assert api["visible_count"] == 0
    export = client.get(reverse("value:pyramid_export"))
    customers = pl.read_excel(io.BytesIO(b"".join(export.streaming_content)), sheet_id=2)
    assert customers.height == 0


def test_export_reads_back(client, organisation, snapshot):
    client.force_login(organisation.rep)

    response = client.get(reverse("value:pyramid_export"), {"class": "major"})

    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    pyramid = pl.read_excel(io.BytesIO(content), sheet_id=1)
    customers = pl.read_excel(io.BytesIO(content), sheet_id=2)
    assert pyramid.width == 6
    assert pyramid.to_series(1).to_list() == list(COUNTS.values())
    assert pyramid.to_series(3).to_list() == [0.0, 1200.0, 750.0, 384.0, 0.0, 0.0]
    assert customers.height == 1
    (_label, rank, code, _name, value, share) = customers.row(0)
    assert (rank, code, value) == (1, "V-A", 1200.0)
    assert share == pytest.approx(1200 / 2334)


def test_empty_state_without_a_snapshot(client, organisation):
    client.force_login(organisation.finance)

    page = client.get(reverse("value:pyramid"))
    concentration_page = client.get(reverse("value:concentration"))
    api = client.get("/api/value/pyramid")

    assert "kehu analyze" in page.content.decode()
    assert "kehu analyze" in concentration_page.content.decode()
    assert api.status_code == 404
    assert "kehu analyze" in api.json()["message"]
    assert client.get(reverse("value:pyramid_export")).status_code == 404


def test_unknown_snapshot_and_measure_are_refused(client, organisation, snapshot):
    client.force_login(organisation.finance)

    assert client.get("/api/value/pyramid", {"snapshot": snapshot.pk + 1}).status_code == 404
    bad_measure = client.get("/api/value/concentration", {"measure": "margin"})
    assert bad_measure.status_code == 422
    page = client.get(reverse("value:pyramid"), {"snapshot": snapshot.pk + 1})
    assert page.context["snapshot"] == snapshot
    assert page.context["errors"]


@pytest.mark.parametrize("measure", ["revenue", "gross_profit", "net_profit"])
def test_concentration_equals_the_concentration_functions(client, organisation, snapshot, measure):
    client.force_login(organisation.finance)
    expected = concentration(_cents(snapshot, measure))

    body = client.get("/api/value/concentration", {"measure": measure}).json()
    page = client.get(reverse("value:concentration"), {"measure": measure})

    assert body["count"] == expected.count == 11
    assert body["top_share"] == pytest.approx(expected.top_share)
    assert body["customers_for_target"] == pytest.approx(expected.customers_for_target)
    assert body["gini"] == pytest.approx(expected.gini)
    assert page.context["report"].gini == pytest.approx(expected.gini)
    assert (body["whale"] is None) == (measure == "revenue")


def test_whale_curve_of_net_profit(client, organisation, snapshot):
    client.force_login(organisation.finance)
    curve = whale_curve(_cents(snapshot, "net_profit"))

    body = client.get("/api/value/concentration", {"measure": "net_profit"}).json()

    # A 1,110 + B 706.85 + I…L 4 × 10 + H 9.40 = 1,866.25 at 7 of 11; the total is 629.21.
    assert body["whale"]["peak"] == "1866.25"
    assert body["whale"]["peak_customers"] == 7 == curve.peak_customers
    assert body["whale"]["total"] == "629.21"
    assert body["whale"]["tail_loss"] == "1237.04"
    page = client.get(reverse("value:concentration"), {"measure": "net_profit"})
    assert "1,237.04" in page.content.decode()


def test_concentration_export_ranks_customers_with_company_rank_and_running_share(
    client, organisation, snapshot
):
    client.force_login(organisation.finance)

    response = client.get(reverse("value:concentration_export"), {"measure": "gross_profit"})

    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    summary = pl.read_excel(io.BytesIO(content), sheet_id=1, has_header=False)
    customers = pl.read_excel(io.BytesIO(content), sheet_id=2)
    figures = summary.to_series(1).to_list()  # period, measure, customers, total, …
    # the 11 customers of the report: 10 above zero adding up to 2,374 and C at −40
    assert figures[0] == "2025Q4"
    assert float(figures[2]) == 11
    assert float(figures[3]) == 2374.0
    assert customers.height == 11
    rank, code, _name, value, running, customer_share, value_share = customers.row(0)
    assert (rank, code, value, running) == (1, "V-A", 1200.0, 1200.0)
    assert customer_share == pytest.approx(1 / 11)
    assert value_share == pytest.approx(1200 / 2374)
    last = customers.row(10)
    assert (last[0], last[1], last[3], last[4]) == (11, "V-C", -40.0, 2334.0)


def test_concentration_export_lists_only_the_customers_a_rep_sees(client, organisation, snapshot):
    client.force_login(organisation.other_rep)  # owns none of the 13 customers

    response = client.get(reverse("value:concentration_export"))

    content = b"".join(response.streaming_content)
    assert pl.read_excel(io.BytesIO(content), sheet_id=2).height == 0
