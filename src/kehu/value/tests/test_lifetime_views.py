"""The lifetime-value page, its export, the API and `kehu value lifetime`.

The snapshot is made here without a ledger, to keep these tests quick: customers (half the east
rep's, half the west rep's, two prospects), seeded purchase days run through
`lifetime.lifetime_compute`, stored as the snapshot service stores them. The computation itself
is checked in test_lifetime_snapshot.py.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
import typer
from django.urls import reverse
from django.utils import timezone, translation
from typer.testing import CliRunner

from kehu.cli import value_reports
from kehu.customers.tests.factories import CustomerFactory
from kehu.value import lifetime
from kehu.value.models import (
    CustomerValue,
    MoneyClass,
    PyramidClass,
    Quadrant,
    SnapshotStatus,
    ValueSnapshot,
)
from kehu.value.selectors import value_settings_current

AS_OF = dt.date(2025, 12, 31)
EPOCH = dt.date(1970, 1, 1)
CUSTOMERS = 40


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def _purchase_days(customer_ids: list[int]) -> pa.Table:
    random = np.random.default_rng(2)  # a seed on which every model converges
    end = (AS_OF - EPOCH).days
    rows: list[tuple[int, int, int]] = []
    for customer in customer_ids:
        day = end - int(random.integers(200, 1000))
        first = day
        gap = float(random.gamma(2.0, 30.0))
        life = float(random.exponential(random.gamma(0.7, 1000.0)))
        rate = float(random.gamma(4.0, 1 / 300.0))
        while day <= end and day - first <= life:
            rows.append((customer, day, int(random.gamma(6.0, 1 / rate) * 100)))
            day += 1 + int(random.exponential(gap))
    customers, days, amounts = zip(*rows, strict=True)
    return pa.table({"customer_id": list(customers), "day": list(days), "amount": list(amounts)})


def make_snapshot(organisation, *, with_lifetime: bool = True) -> ValueSnapshot:  # type: ignore[no-untyped-def]
    customers = [
        CustomerFactory(
            code=f"LV-{index:02d}",
            name=f"Lifetime customer {index:02d}",
            owner=organisation.rep if index % 2 == 0 else organisation.other_rep,
        )
        for index in range(CUSTOMERS)
    ]
    prospects = [CustomerFactory(code=f"LV-P{index}", owner=organisation.rep) for index in range(2)]
    values = value_settings_current()
    snapshot = ValueSnapshot.objects.create(
        period="2025Q4",
        period_start=dt.date(2025, 10, 1),
        period_end=AS_OF,
        window_start=dt.date(2025, 1, 1),
        window_end=AS_OF,
        parameters={"settings": values},
        started_at=timezone.now(),
        finished_at=timezone.now(),
        status=SnapshotStatus.DONE,
        customer_count=CUSTOMERS + 2,
    )
    classes = [PyramidClass.VIP, PyramidClass.MAJOR, PyramidClass.ORDINARY, PyramidClass.SMALL]
    rows = [
        CustomerValue(
            snapshot=snapshot,
            customer=customer,
            pyramid_class=classes[index % 4],
            money_class=MoneyClass.WITH_MONEY,
            quadrant=Quadrant.CORE,
            rank=index + 1,
        )
        for index, customer in enumerate(customers)
    ] + [
        CustomerValue(
            snapshot=snapshot,
            customer=customer,
            pyramid_class=PyramidClass.PROSPECT,
            money_class=MoneyClass.NOT_ACTIVE,
            quadrant=Quadrant.NOT_ACTIVE,
        )
        for customer in prospects
    ]
    if with_lifetime:
        result = lifetime.lifetime_compute(
            purchase_days=_purchase_days([customer.pk for customer in customers]),
            as_of=AS_OF,
            values=values,
        )
        assert result.message == ""
        result.fill(rows)
        snapshot.parameters = {**snapshot.parameters, "lifetime": result.parameters}
        snapshot.save()
    CustomerValue.objects.bulk_create(rows)
    return snapshot


@pytest.fixture
def snapshot(organisation):
    return make_snapshot(organisation)


# --- The page ---------------------------------------------------------------------------------


def test_page_shows_the_figures_models_charts_and_customers(client, organisation, snapshot):
    client.force_login(organisation.finance)

    response = client.get(reverse("value:lifetime"))

    assert response.status_code == 200
    report = response.context["report"]
    stored = snapshot.parameters["lifetime"]
    assert report.is_estimated
    assert report.total_value == Decimal(str(stored["totals"]["lifetime_value"]))
    assert report.likely_lost == stored["totals"]["likely_lost"]
    assert report.visible_count == CUSTOMERS
    assert [item.key for item in report.models] == ["bgnbd", "mbgnbd", "pareto_nbd"]
    assert [item.is_in_use for item in report.models] == [True, False, False]
    page = response.content.decode()
    for text in ("Customer lifetime value", "BG/NBD", "Pareto/NBD", "in use", "How this is"):
        assert text in page
    assert 'data-lifetime-chart="groups"' in page
    assert 'data-lifetime-chart="tracking"' in page
    assert 'data-lifetime-chart="retention"' in page
    chart = response.context["chart_holdout"]
    assert len(chart["dates"]) == len(chart["actual"])
    assert chart["calibration_end"] == stored["holdout"]["calibration_end"]
    # the what-if is there from the start, with a change the model's retention allows
    what_if = response.context["what_if"]
    assert what_if.change_points == lifetime_views_default(report.retention_implied)
    assert what_if.value_with > what_if.value_without
    rows = response.context["rows"]
    assert response.context["page"].paginator.count == CUSTOMERS + 2
    values = [row.lifetime_value for row in rows]
    known = [value for value in values if value is not None]
    assert known == sorted(known, reverse=True)  # the highest lifetime value first


def lifetime_views_default(implied: float) -> float:
    from kehu.value.views_lifetime import default_retention_change

    return default_retention_change(implied)


def test_a_rep_sees_company_figures_but_only_their_own_customers(client, organisation, snapshot):
    client.force_login(organisation.rep)

    response = client.get(reverse("value:lifetime"), {"sort": "code"})

    report = response.context["report"]
    assert report.total_value == Decimal(
        str(snapshot.parameters["lifetime"]["totals"]["lifetime_value"])
    )
    assert report.visible_count == CUSTOMERS // 2
    codes = [row.customer.code for row in response.context["page"].paginator.object_list]
    assert codes == sorted(
        [f"LV-{index:02d}" for index in range(0, CUSTOMERS, 2)] + ["LV-P0", "LV-P1"]
    )
    export = client.get(reverse("value:lifetime_export"))
    sheet = pl.read_excel(io.BytesIO(b"".join(export.streaming_content)), sheet_name="Customers")
    assert sorted(sheet["Code"].to_list()) == codes


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ({"band": "lost"}, lambda row: row.probability_alive < Decimal("0.5")),
        (
            {"band": "at_risk"},
            lambda row: Decimal("0.5") <= row.probability_alive < Decimal("0.8"),
        ),
        ({"band": "alive"}, lambda row: row.probability_alive >= Decimal("0.8")),
        ({"band": "none"}, lambda row: row.probability_alive is None),
        ({"class": "vip"}, lambda row: row.pyramid_class == "vip"),
        ({"q": "LV-0"}, lambda row: row.customer.code.startswith("LV-0")),
    ],
)
def test_filters(client, organisation, snapshot, query, check):
    client.force_login(organisation.finance)
    response = client.get(reverse("value:lifetime"), query)
    rows = list(response.context["page"].paginator.object_list)
    assert rows
    assert all(check(row) for row in rows)
    everyone = CustomerValue.objects.filter(snapshot=snapshot).select_related("customer")
    assert len(rows) == sum(
        1
        for row in everyone
        if (row.probability_alive is not None or query.get("band") == "none") and check(row)
    )


def test_sorting_keeps_customers_without_figures_last(client, organisation, snapshot):
    client.force_login(organisation.finance)
    for sort in ("probability_alive", "-probability_alive"):
        response = client.get(reverse("value:lifetime"), {"sort": sort})
        rows = list(response.context["page"].paginator.object_list)
        values = [row.probability_alive for row in rows]
        assert values[-2:] == [None, None]
        assert values[:-2] == sorted(values[:-2], reverse=sort.startswith("-"))


def test_htmx_partials(client, organisation, snapshot):
    client.force_login(organisation.finance)
    table = client.get(
        reverse("value:lifetime"),
        {"band": "lost"},
        headers={"HX-Request": "true", "HX-Target": "lifetime-customers"},
    )
    assert table.status_code == 200
    assert "lifetime-customer-filters" in table.content.decode()
    assert "<html" not in table.content.decode()
    what_if = client.get(
        reverse("value:lifetime"),
        {"retention": "1"},
        headers={"HX-Request": "true", "HX-Target": "lifetime-whatif"},
    )
    assert what_if.context["what_if"].change_points == 1
    assert "Customers by lifetime value" not in what_if.content.decode()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "is not a number of percentage points"),
        ("60", "must be between"),
        ("40", "would make the yearly retention"),
    ],
)
def test_a_bad_retention_change_is_an_error_on_the_page(
    client, organisation, snapshot, raw, message
):
    client.force_login(organisation.finance)
    response = client.get(reverse("value:lifetime"), {"retention": raw})
    assert response.status_code == 200
    assert response.context["what_if"] is None
    assert message in response.context["retention_error"]
    assert message in response.content.decode()


def test_bad_or_missing_snapshot(client, organisation, snapshot):
    client.force_login(organisation.finance)
    bad = client.get(reverse("value:lifetime"), {"snapshot": "abc"})
    assert bad.status_code == 200
    assert "abc is not a snapshot number" in bad.content.decode()
    assert bad.context["snapshot"] == snapshot
    missing = client.get(reverse("value:lifetime"), {"snapshot": "999999"})
    assert "Snapshot 999999 does not exist or did not finish" in missing.content.decode()
    assert missing.context["snapshot"] == snapshot


def test_empty_states(client, organisation):
    client.force_login(organisation.finance)
    nothing = client.get(reverse("value:lifetime"))
    assert nothing.status_code == 200
    assert "There is no value snapshot yet" in nothing.content.decode()
    assert client.get(reverse("value:lifetime_export")).status_code == 404
    assert client.get("/api/value/lifetime").status_code == 404

    make_snapshot(organisation, with_lifetime=False)
    older = client.get(reverse("value:lifetime"))
    assert "No lifetime figures in this snapshot" in older.content.decode()
    assert "before lifetime value was part" in older.content.decode()
    api = client.get("/api/value/lifetime").json()
    assert api["has_figures"] is False
    refused = client.get("/api/value/lifetime", {"retention_change": 5})
    assert refused.status_code == 422
    assert "no lifetime value" in refused.json()["message"]


def test_export_has_the_figures_the_models_and_the_customers(client, organisation, snapshot):
    client.force_login(organisation.finance)
    response = client.get(reverse("value:lifetime_export"), {"band": "alive"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    content = b"".join(response.streaming_content)
    models = pl.read_excel(io.BytesIO(content), sheet_name="Models")
    assert models["Model"].to_list() == ["BG/NBD", "MBG/NBD", "Pareto/NBD"]
    customers = pl.read_excel(io.BytesIO(content), sheet_name="Customers")
    alive = CustomerValue.objects.filter(snapshot=snapshot, probability_alive__gte=Decimal("0.8"))
    assert customers.height == alive.count()
    assert (customers["Probability alive"] >= 0.8).all()
    by_code = {row.customer.code: row for row in alive.select_related("customer")}
    for code, value in zip(customers["Code"], customers["Lifetime value"], strict=True):
        assert Decimal(str(value)).quantize(Decimal("0.01")) == by_code[code].lifetime_value


# --- The API ----------------------------------------------------------------------------------


def test_api_figures_models_and_what_if(client, organisation, snapshot):
    client.force_login(organisation.rep)
    response = client.get("/api/value/lifetime", {"retention_change": 1})
    assert response.status_code == 200
    body = response.json()
    stored = snapshot.parameters["lifetime"]
    assert body["is_estimated"] is True
    assert Decimal(body["total_value"]) == Decimal(str(stored["totals"]["lifetime_value"]))
    assert body["visible_count"] == CUSTOMERS // 2
    assert [model["key"] for model in body["models"]] == ["bgnbd", "mbgnbd", "pareto_nbd"]
    first = body["models"][0]
    assert first["is_in_use"] is True
    assert len(first["cumulative_predicted"]) == len(body["holdout"]["dates"])
    assert len(body["holdout"]["cumulative_actual"]) == len(body["holdout"]["dates"])
    assert sum(group["customers"] for group in first["groups"]) == stored["holdout"]["customers"]
    assert body["retention"]["change_points"] == 1
    assert Decimal(body["retention"]["value_with"]) > Decimal(body["retention"]["value_without"])


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ({"retention_change": "abc"}, 422, "retention_change"),
        ({"retention_change": 60}, 422, "retention_change"),
        ({"retention_change": 40}, 422, "would make the yearly retention"),
        ({"snapshot": 0}, 422, "snapshot"),
        ({"snapshot": "x"}, 422, "snapshot"),
        ({"snapshot": 999999}, 404, "does not exist"),
    ],
)
def test_api_bad_input_is_named_never_500(client, organisation, snapshot, query, status, message):
    client.force_login(organisation.finance)
    response = client.get("/api/value/lifetime", query)
    assert response.status_code == status
    assert message in json.dumps(response.json())


def test_api_customers_paginated_filtered_and_visible(client, organisation, snapshot):
    client.force_login(organisation.rep)
    first = client.get("/api/value/lifetime/customers", {"limit": 5, "sort": "-lifetime_value"})
    assert first.status_code == 200
    body = first.json()
    assert body["total"] == CUSTOMERS // 2 + 2
    assert len(body["customers"]) == 5
    values = [Decimal(item["lifetime_value"]) for item in body["customers"]]
    assert values == sorted(values, reverse=True)
    following = client.get(
        "/api/value/lifetime/customers", {"limit": 5, "offset": 5, "sort": "-lifetime_value"}
    ).json()
    assert not {item["code"] for item in following["customers"]} & {
        item["code"] for item in body["customers"]
    }
    lost = client.get("/api/value/lifetime/customers", {"band": "lost", "limit": 500}).json()
    assert all(item["probability_alive"] < 0.5 for item in lost["customers"])
    none = client.get("/api/value/lifetime/customers", {"band": "none"}).json()
    assert {item["code"] for item in none["customers"]} == {"LV-P0", "LV-P1"}
    assert none["customers"][0]["lifetime_value"] is None
    for query in ({"band": "dead"}, {"sort": "revenue"}, {"limit": 501}, {"pyramid_class": "x"}):
        refused = client.get("/api/value/lifetime/customers", query)
        assert refused.status_code == 422, query


# --- The command line -------------------------------------------------------------------------


def _run(*arguments: str):  # type: ignore[no-untyped-def]
    app = typer.Typer()
    value_reports.register(app)

    @app.callback()
    def main() -> None:
        pass

    return CliRunner().invoke(app, ["value", *arguments])


def test_cli_prints_the_figures_and_json_is_what_the_api_answers(
    client, organisation, snapshot, tmp_path
):
    result = _run("lifetime", "--period", "2025Q4", "--retention-change", "1")
    assert result.exit_code == 0, result.output
    total = snapshot.parameters["lifetime"]["totals"]["lifetime_value"]
    assert f"{total:,.2f}" in result.output
    assert "BG/NBD *" in result.output
    assert "Retention" in result.output

    as_json = _run("lifetime", "--json")
    assert as_json.exit_code == 0, as_json.output
    client.force_login(organisation.finance)
    api = client.get("/api/value/lifetime").json()
    printed = json.loads(as_json.output)
    for body in (printed, api):
        body.pop("visible_count")  # the command line sees every customer; finance too
        body.pop("visible_value")
    assert printed == api

    out = tmp_path / "lifetime.xlsx"
    written = _run("lifetime", "--out", str(out))
    assert written.exit_code == 0, written.output
    customers = pl.read_excel(out, sheet_name="Customers")
    assert customers.height == CUSTOMERS + 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--period", "1999Q1"), "No finished value snapshot of 1999Q1"),
        (("--retention-change", "70"), "must be between"),
    ],
)
def test_cli_bad_input_exits_1_with_a_message(organisation, snapshot, arguments, message):
    result = _run("lifetime", *arguments)
    assert result.exit_code == 1
    assert message in result.output
