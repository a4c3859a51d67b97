"""The segment worksheet's page, export, API and command line, on the ledger of test_segments.py
(lines EMP, PKG, SVC; PKG best G, A, B and worst C, D, I; SVC best A, I and worst E)."""

from __future__ import annotations

import datetime as dt
import io
import json

import polars as pl
import pytest
from django.urls import reverse
from django.utils import timezone, translation
from typer.testing import CliRunner

from kehu.cli.main import app
from kehu.value.models import SegmentAction
from kehu.value.services import value_snapshot_compute
from kehu.value.services_segments import segment_action_record
from kehu.value.tests.test_segments import build_segment_ledger

runner = CliRunner()


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def ledger(organisation):
    return build_segment_ledger(organisation)


@pytest.fixture
def snapshot(ledger):
    return value_snapshot_compute(period="2025Q4")


def _segments(response) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return {segment.code: segment for segment in response.context["segments"]}


def _sheet_rows(content: bytes) -> list[list[object]]:
    """The worksheet's cells row by row, as polars reads them (no header row)."""
    frame = pl.read_excel(io.BytesIO(content), sheet_id=1, has_header=False)
    return [list(row) for row in frame.iter_rows()]


def _later(days: int = 7) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


# --- The page -----------------------------------------------------------------------------------


def test_page_shows_every_line_with_best_worst_and_chart(client, organisation, snapshot):
    client.force_login(organisation.finance)

    response = client.get(reverse("value:segments"))

    assert response.status_code == 200
    segments = _segments(response)
    assert list(segments) == ["EMP", "PKG", "SVC"]
    assert [row.code for row in segments["PKG"].best] == ["S-G", "S-A", "S-B"]
    assert [row.code for row in segments["PKG"].worst] == ["S-C", "S-D", "S-I"]
    chart = response.context["chart_segments"]
    assert chart["lines"] == ["Empty line", "Packaging", "Services"]
    assert chart["best"] == [0.0, 1500.0, 1200.0]
    assert chart["worst"] == [0.0, 70.0, 4000.0]
    html = response.content.decode()
    assert "net profit -290.00: cost to serve 330.00 &gt; gross profit 40.00" in html
    assert "No customer you see bought in this line in the window." in html
    assert 'data-segments-chart="gross_profit"' in html


def test_line_filter_search_and_bad_input(client, organisation, snapshot, ledger):
    client.force_login(organisation.finance)
    url = reverse("value:segments")

    one = client.get(url, {"line": ledger.lines["SVC"].pk})
    found = client.get(url, {"q": "segment e"})
    unknown = client.get(url, {"line": "999999", "snapshot": "abc"})
    sorted_page = client.get(url, {"line": ledger.lines["PKG"].pk, "sort": "-line_revenue"})

    assert list(_segments(one)) == ["SVC"]
    assert [(s.code, [m.code for m in s.matches]) for s in one.context["segments"]] == [("SVC", [])]
    assert [(s.code, [m.code for m in s.matches]) for s in found.context["segments"]] == [
        ("SVC", ["S-E"])
    ]
    assert unknown.status_code == 200
    assert unknown.context["errors"] == [
        "abc is not a snapshot number",
        "Unknown product line 999999: showing every line",
    ]
    assert len(unknown.context["segments"]) == 3
    assert [row.code for row in _segments(sorted_page)["PKG"].best] == ["S-G", "S-A", "S-B"]
    assert [row.code for row in _segments(sorted_page)["PKG"].worst] == ["S-D", "S-I", "S-C"]


def test_htmx_filter_answers_the_results_only(client, organisation, snapshot):
    client.force_login(organisation.finance)

    response = client.get(
        reverse("value:segments"),
        {"q": "S-C"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="segments-results",
    )

    html = response.content.decode()
    assert "<html" not in html
    assert [s.code for s in response.context["segments"]] == ["PKG"]


def test_a_rep_sees_their_own_customers(client, organisation, snapshot):
    client.force_login(organisation.rep)

    response = client.get(reverse("value:segments"))

    pkg = _segments(response)["PKG"]
    assert [row.code for row in pkg.best] == ["S-A", "S-B"]
    assert "S-G" not in response.content.decode()


def test_empty_state_without_a_snapshot(client, organisation, ledger):
    client.force_login(organisation.finance)

    page = client.get(reverse("value:segments"))
    export = client.get(reverse("value:segments_export"))

    assert page.status_code == 200
    assert "There is no value snapshot yet" in page.content.decode()
    assert export.status_code == 404


def test_export_is_laid_out_as_the_worksheet(client, organisation, snapshot, ledger):
    segment_action_record(
        actor=organisation.finance,
        line_id=ledger.lines["PKG"].pk,
        text="Meet S-C about the returns",
        owner_id=organisation.rep.pk,
        due_on=timezone.localdate(),
        customer_id=ledger.customers["C"].pk,
    )
    client.force_login(organisation.finance)

    response = client.get(reverse("value:segments_export"))

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('segments-2025Q4.xlsx"')
    rows = _sheet_rows(b"".join(response.streaming_content))
    first = [row[0] for row in rows]
    pkg = next(i for i, value in enumerate(first) if value and str(value).startswith("PKG "))
    svc = next(i for i, value in enumerate(first) if value and str(value).startswith("SVC "))
    block = rows[pkg:svc]
    codes = [row[0] for row in block if row[0] and str(row[0]).startswith("S-")]
    assert codes == ["S-G", "S-A", "S-B", "S-C", "S-D", "S-I"]
    c_row = next(row for row in block if row[0] == "S-C")
    assert [float(str(c_row[column])) for column in (2, 3, 5)] == [100.0, 40.0, -290.0]
    assert str(c_row[6]).startswith("net profit -290.00")
    assert any(row[6] == "Meet S-C about the returns" for row in block)
    assert rows[pkg][0] == "PKG Packaging — 6 customers, revenue 3,900.00, gross profit 1,570.00"


# --- Next actions through the page ---------------------------------------------------------------


def test_add_and_complete_an_action_through_htmx(client, organisation, snapshot, ledger):
    client.force_login(organisation.rep)
    line = ledger.lines["PKG"].pk
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": f"segment-actions-{line}"}

    added = client.post(
        reverse("value:segment_action_add"),
        {
            "line": line,
            "customer": ledger.customers["D"].pk,
            "text": "Find out what goes wrong",
            "owner": organisation.rep.pk,
            "due_on": _later(),
            "reason": "complaints",
        },
        **htmx,
    )

    assert added.status_code == 200
    action = SegmentAction.objects.get()
    assert (action.customer, action.reason, action.recorded_by) == (
        ledger.customers["D"],
        "complaints",
        organisation.rep,
    )
    assert "Find out what goes wrong" in added.content.decode()
    done = client.post(
        reverse("value:segment_action_done", args=[action.pk]), {"line": line}, **htmx
    )
    assert done.status_code == 200
    action.refresh_from_db()
    assert action.status == "done"
    assert "Find out what goes wrong" not in done.content.decode()
    again = client.post(
        reverse("value:segment_action_done", args=[action.pk]), {"line": line}, **htmx
    )
    assert again.status_code == 422
    assert "is done already" in again.content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"text": " "}, "the next action is empty"),
        ({"due_on": "2020-01-01"}, "the due date 2020-01-01 is in the past"),
        ({"due_on": "soon"}, "Give the due date as YYYY-MM-DD."),
        ({"customer": "x"}, "x is not a customer number"),
        ({"line": "999999"}, "product line 999999 does not exist"),
    ],
)
def test_refused_action_keeps_the_form_and_says_why(client, organisation, ledger, changes, message):
    client.force_login(organisation.rep)
    line = ledger.lines["PKG"].pk
    data = {"line": line, "text": "Call them", "owner": organisation.rep.pk, "due_on": _later()}

    response = client.post(
        reverse("value:segment_action_add"),
        {**data, **changes},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"segment-actions-{line}",
    )

    assert response.status_code == 422
    assert message in response.content.decode()
    assert SegmentAction.objects.count() == 0


def test_without_htmx_the_form_redirects_back(client, organisation, ledger):
    client.force_login(organisation.rep)
    back = reverse("value:segments") + "?line=2"

    response = client.post(
        reverse("value:segment_action_add"),
        {
            "line": ledger.lines["SVC"].pk,
            "text": "Review the line",
            "owner": organisation.rep.pk,
            "due_on": _later(),
            "next": back,
        },
    )
    elsewhere = client.post(
        reverse("value:segment_action_add"), {"line": "x", "next": "https://example.com/"}
    )

    assert (response.status_code, response["Location"]) == (302, back)
    assert (elsewhere.status_code, elsewhere["Location"]) == (302, reverse("value:segments"))
    assert SegmentAction.objects.get().category == ledger.lines["SVC"]


# --- The API --------------------------------------------------------------------------------------


def test_api_worksheet(client, organisation, snapshot, ledger):
    client.force_login(organisation.finance)

    everything = client.get("/api/value/segments")
    one = client.get("/api/value/segments", {"period": "2025Q4", "line": ledger.lines["PKG"].pk})

    assert everything.status_code == 200
    body = everything.json()
    assert body["snapshot"]["period"] == "2025Q4"
    assert body["settings"] == {
        "top_n": 10,
        "complaints_per_100k": 5.0,
        "returns_per_100k": 5.0,
        "late_days": 30.0,
    }
    assert [s["code"] for s in body["segments"]] == ["EMP", "PKG", "SVC"]
    (pkg,) = one.json()["segments"]
    assert (pkg["revenue"], pkg["gross_profit"], pkg["customer_count"]) == ("3900.00", "1570.00", 6)
    assert [row["code"] for row in pkg["best"]] == ["S-G", "S-A", "S-B"]
    c = pkg["worst"][0]
    assert (c["code"], c["net_profit"], c["standing"], c["suggestion_key"]) == (
        "S-C",
        "-290.00",
        "worst",
        "loss",
    )
    assert [reason["key"] for reason in c["reasons"]] == ["loss", "returns"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"period": "2024Q4"}, 404),
        ({"snapshot": "0"}, 422),
        ({"line": "x"}, 422),
        ({"sort": "revenue; drop"}, 422),
        ({"period": "last"}, 422),
    ],
)
def test_api_worksheet_bad_input(client, organisation, snapshot, query, status):
    client.force_login(organisation.finance)

    response = client.get("/api/value/segments", query)

    assert response.status_code == status
    assert "message" in response.json() or "detail" in response.json()


def test_api_record_and_complete(client, organisation, ledger):
    client.force_login(organisation.rep)
    payload = {
        "line": ledger.lines["PKG"].pk,
        "customer": ledger.customers["C"].pk,
        "text": "Raise the price",
        "owner": organisation.rep.pk,
        "due_on": _later(),
        "reason": "loss",
    }

    created = client.post("/api/value/segments/actions", payload, content_type="application/json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["line_id"], body["customer_id"], body["status"]) == (
        ledger.lines["PKG"].pk,
        ledger.customers["C"].pk,
        "open",
    )
    url = f"/api/value/segments/actions/{body['id']}/done"
    done = client.post(url)
    assert (done.status_code, done.json()["status"]) == (200, "done")
    assert client.post(url).status_code == 409
    assert client.post("/api/value/segments/actions/999999/done").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"text": ""}, "text"),
        ({"due_on": "2020-01-01"}, "due_on"),
        ({"line": 999_999}, "line"),
        ({"customer": 999_999}, "customer"),
        ({"owner": 999_999}, "owner"),
    ],
)
def test_api_refusals_name_the_field(client, organisation, ledger, changes, field):
    client.force_login(organisation.rep)
    payload = {
        "line": ledger.lines["PKG"].pk,
        "text": "Raise the price",
        "owner": organisation.rep.pk,
        "due_on": _later(),
        **changes,
    }

    response = client.post("/api/value/segments/actions", payload, content_type="application/json")

    assert response.status_code == 422
    assert response.json()["detail"]["field"] == field
    assert SegmentAction.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    ['{"line": "x"}', "not json", '{"line": 1, "text": "a", "owner": 1, "due_on": "2026-13-40"}'],
)
def test_api_unreadable_input_is_422_or_400_never_500(client, organisation, ledger, body):
    client.force_login(organisation.rep)

    response = client.post("/api/value/segments/actions", body, content_type="application/json")

    assert response.status_code in (400, 422)


# --- The command line ----------------------------------------------------------------------------


def test_cli_prints_json_and_writes_the_workbook(organisation, snapshot, tmp_path):
    out = tmp_path / "worksheet.xlsx"

    result = runner.invoke(
        app,
        ["value", "segments", "--period", "2025Q4", "--line", "pkg", "--json", "--out", str(out)],
    )

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    (pkg,) = payload["segments"]
    assert [row["code"] for row in pkg["worst"]] == ["S-C", "S-D", "S-I"]
    rows = _sheet_rows(out.read_bytes())
    codes = [row[0] for row in rows if row[0] and str(row[0]).startswith("S-")]
    assert codes == ["S-G", "S-A", "S-B", "S-C", "S-D", "S-I"]


def test_cli_table_and_refusals(organisation, snapshot):
    table = runner.invoke(app, ["value", "segments", "--as-user", "rep"])
    unknown = runner.invoke(app, ["value", "segments", "--line", "toys"])
    no_period = runner.invoke(app, ["value", "segments", "--period", "2019Q1"])

    assert table.exit_code == 0, table.output
    assert "S-C" in table.output
    assert "S-G" not in table.output  # the west rep's customer
    assert "EMP Empty line: no customer bought in this line in the window." in table.output
    assert unknown.exit_code == 1
    assert "No product line 'toys'" in unknown.output
    assert no_period.exit_code == 1


def test_page_queries_do_not_grow_with_actions(
    client, organisation, snapshot, ledger, django_assert_max_num_queries
):
    for name in "ABCDE":
        segment_action_record(
            actor=organisation.finance,
            line_id=ledger.lines["PKG"].pk,
            text=f"Call {name}",
            owner_id=organisation.rep.pk,
            due_on=timezone.localdate(),
            customer_id=ledger.customers[name].pk,
        )
    client.force_login(organisation.finance)

    with django_assert_max_num_queries(20):
        response = client.get(reverse("value:segments"))

    assert len(_segments(response)["PKG"].actions) == 5
