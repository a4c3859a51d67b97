"""Credit lines through the API: exact bodies, refusals that change nothing and are logged,
bad input answered 4xx (never 500), and a permission matrix of role × endpoint."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kehu.credit.models import (
    CreditEvent,
    CreditEventKind,
    CreditLine,
    CreditLineApplication,
    CreditReviewTask,
    CreditSurvey,
    ReviewReason,
)
from kehu.credit.services.lines import credit_line_application_submit
from kehu.credit.services.reviews import credit_review_task_open
from kehu.credit.tests.factories import CreditSurveyFactory
from kehu.credit.tests.test_services_lines import make_grade, make_order, snapshot
from kehu.customers.tests.factories import CustomerFactory

ROLES = [
    "anonymous",
    "rep",
    "other_rep",
    "customer_manager",
    "direct_sales_manager",
    "regional_manager",
    "finance",
    "top_management",
    "administrator",
]


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _login(client, organisation, role):
    if role != "anonymous":
        client.force_login(getattr(organisation, role))


@pytest.fixture
def east(organisation):
    return CustomerFactory.create(code="E1", owner=organisation.rep, payment_terms_days=60)


def _apply(customer, user, amount):
    return credit_line_application_submit(
        customer=customer,
        applied_by=user,
        requested_amount=Decimal(amount),
        payment_terms_days=30,
        valid_until=timezone.localdate() + dt.timedelta(days=365),
    )


SURVEY = {
    "surveyed_on": "2026-01-15",
    "fiscal_year": 2025,
    "quick_assets": "1200000",
    "current_assets": "2000000",
    "current_liabilities": "1000000",
    "total_assets_start": "4500000",
    "total_assets_end": "5500000",
    "total_liabilities": "2750000",
    "sales_revenue": "20000000",
    "net_profit": "2000000",
    "equity": "2750000",
}


# --- Surveys ----------------------------------------------------------------------------------


def test_a_survey_is_recorded_and_read_with_its_ratios(client, organisation, east):
    client.force_login(organisation.rep)

    created = _post(client, f"/api/customers/{east.pk}/credit/surveys", SURVEY)

    assert created.status_code == 201, created.content
    body = created.json()
    survey = CreditSurvey.objects.get()
    assert (body["id"], body["quick_assets"], body["net_profit"], body["profit_year_1"]) == (
        survey.pk,
        "1200000.00",
        "2000000.00",
        None,
    )
    assert [(r["key"], r["value"], r["verdict"]) for r in body["ratios"]] == [
        ("quick_ratio", "1.2000", "above"),
        ("debt_to_asset_ratio", "0.5000", "near"),
        ("total_asset_turnover", "4.0000", "near"),
        ("net_profit_margin", "0.1000", "below"),
    ]
    listed = client.get(f"/api/customers/{east.pk}/credit/surveys").json()
    assert (listed["count"], listed["items"][0]["id"]) == (1, survey.pk)


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"total_assets_end": "-1"}, 422, "total_assets_end"),
        ({"sales_revenue": "lots"}, 422, None),
        ({"sales_revenue": "1e999"}, 422, None),
        ({"surveyed_on": "2026-13-01"}, 422, None),
        ({"unknown": 1}, 422, None),
        ({"facts": {"a": "\x00"}}, 422, None),
    ],
)
def test_bad_surveys_are_refused_and_nothing_is_stored(
    client, organisation, east, changes, status, field
):
    client.force_login(organisation.rep)

    response = _post(client, f"/api/customers/{east.pk}/credit/surveys", SURVEY | changes)

    assert response.status_code == status, response.content
    assert set(response.json()) == {"message", "detail"}
    assert CreditSurvey.objects.count() == 0
    if field:
        assert response.json()["detail"] == {"field": field}
        assert CreditEvent.objects.get().kind == CreditEventKind.REFUSED


def test_an_attachment_is_uploaded_and_checked(client, organisation, east):
    survey = CreditSurveyFactory.create(customer=east)
    client.force_login(organisation.rep)
    url = f"/api/credit/surveys/{survey.pk}/attachments"

    good = client.post(
        url, {"file": SimpleUploadedFile("letter.pdf", b"%PDF-1.7"), "kind": "bank_letter"}
    )
    bad = client.post(url, {"file": SimpleUploadedFile("x.exe", b"MZ"), "kind": "other"})

    assert good.status_code == 201, good.content
    assert (good.json()["kind"], good.json()["original_name"]) == ("bank_letter", "letter.pdf")
    assert bad.status_code == 422
    assert survey.attachments.count() == 1


# --- Proposal and applications --------------------------------------------------------------------


def test_the_proposal_shows_every_term(client, organisation, east):
    today = timezone.localdate()
    make_order(east, "240000.00", today - dt.timedelta(days=10))
    make_grade(east, "B", on=today)
    client.force_login(organisation.rep)

    body = client.get(f"/api/customers/{east.pk}/credit/proposal").json()

    # 20,000 a month × (60/30 + 1) × 0.6 = 36,000; no survey, so no equity cap
    assert {
        key: body[key]
        for key in (
            "purchases",
            "average_monthly_purchases",
            "terms_multiplier",
            "grade",
            "grade_factor",
            "before_cap",
            "equity_cap",
            "amount",
        )
    } == {
        "purchases": "240000.00",
        "average_monthly_purchases": "20000.00",
        "terms_multiplier": "3.0000",
        "grade": "B",
        "grade_factor": "0.6",
        "before_cap": "36000.00",
        "equity_cap": None,
        "amount": "36000.00",
    }


def test_an_application_is_submitted_decided_and_the_line_listed(client, organisation, east):
    client.force_login(organisation.rep)
    valid_until = (timezone.localdate() + dt.timedelta(days=365)).isoformat()

    created = _post(
        client,
        "/api/credit/applications",
        {
            "customer_id": east.pk,
            "requested_amount": "300000",
            "payment_terms_days": 45,
            "valid_until": valid_until,
            "reason": "新项目",
        },
    )
    assert created.status_code == 201, created.content
    application_id = created.json()["id"]
    assert (created.json()["required_role"], created.json()["state"]) == (
        "direct_sales_manager",
        "submitted",
    )

    client.force_login(organisation.direct_sales_manager)
    waiting = client.get("/api/credit/applications?waiting_for_me=true").json()
    assert [item["id"] for item in waiting["items"]] == [application_id]
    decided = _post(
        client,
        f"/api/credit/applications/{application_id}/decision",
        {"action": "cut", "amount": "250000", "comment": "先给25万"},
    )

    assert decided.status_code == 200, decided.content
    assert (decided.json()["state"], decided.json()["approved_amount"]) == ("cut", "250000.00")
    lines = client.get(f"/api/customers/{east.pk}/credit/lines").json()
    assert [(line["amount"], line["amount_today"], line["state"]) for line in lines] == [
        ("250000.00", "250000.00", "active")
    ]
    east.refresh_from_db()
    assert east.credit_limit == Decimal("250000.00")


def test_the_customer_manager_approving_300000_is_refused_and_logged(client, organisation, east):
    application = _apply(east, organisation.rep, "300000")
    before = snapshot(east)
    client.force_login(organisation.customer_manager)

    response = _post(
        client, f"/api/credit/applications/{application.pk}/decision", {"action": "approve"}
    )

    assert response.status_code == 403
    assert response.json()["detail"]["required_role"] == "direct_sales_manager"
    assert snapshot(east) == before
    refused = CreditEvent.objects.get(kind=CreditEventKind.REFUSED)
    assert (refused.actor, refused.application, refused.reason["action"]) == (
        organisation.customer_manager,
        application,
        "application_approve",
    )


def test_a_rep_of_another_team_gets_404_and_the_attempt_is_logged(client, organisation, east):
    application = _apply(east, organisation.rep, "80000")
    before = snapshot(east)
    client.force_login(organisation.other_rep)

    response = _post(
        client, f"/api/credit/applications/{application.pk}/decision", {"action": "approve"}
    )

    assert response.status_code == 404
    assert snapshot(east) == before
    refused = CreditEvent.objects.get(kind=CreditEventKind.REFUSED)
    assert (refused.actor, refused.reason["action"]) == (
        organisation.other_rep,
        "application_change",
    )


def test_return_and_resubmit(client, organisation, east):
    application = _apply(east, organisation.rep, "300000")
    client.force_login(organisation.direct_sales_manager)
    _post(
        client,
        f"/api/credit/applications/{application.pk}/decision",
        {"action": "return", "comment": "补充银行意见"},
    )
    client.force_login(organisation.rep)

    response = _post(
        client,
        f"/api/credit/applications/{application.pk}/resubmit",
        {"requested_amount": "90000", "bank_opinion": "银行：信誉良好"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["requested_amount"], body["required_role"]) == (
        "submitted",
        "90000.00",
        "customer_manager",
    )
    assert body["bank_opinion"] == "银行：信誉良好"


@pytest.mark.parametrize(
    "body",
    [
        {"action": "approve!"},
        {"action": "cut", "amount": "-5", "comment": "x"},
        {"action": "cut", "amount": "abc", "comment": "x"},
        {"action": "cut", "comment": "x"},
        {"action": "refuse"},
        {},
    ],
)
def test_bad_decisions_answer_4xx(client, organisation, east, body):
    application = _apply(east, organisation.rep, "80000")
    before = snapshot(east)
    client.force_login(organisation.customer_manager)

    response = _post(client, f"/api/credit/applications/{application.pk}/decision", body)

    assert response.status_code == 422, response.content
    assert snapshot(east) == before


@pytest.mark.parametrize(
    "body",
    [
        {"customer_id": 1, "group_id": 1, "requested_amount": "1"},
        {"requested_amount": "1"},
        {"customer_id": 99999999, "requested_amount": "1"},
        {"customer_id": 2**70, "requested_amount": "1"},
        {"customer_id": 1, "requested_amount": "1", "valid_until": "2000-01-01"},
        {"customer_id": 1, "requested_amount": "1", "survey_id": 424242},
        {"customer_id": 1, "requested_amount": "99999999999999999999"},
    ],
)
def test_bad_applications_never_answer_500(client, organisation, east, body):
    client.force_login(organisation.rep)
    if body.get("customer_id") == 1:
        body = body | {"customer_id": east.pk}

    response = _post(client, "/api/credit/applications", body)

    assert 400 <= response.status_code < 500, response.content
    assert CreditLineApplication.objects.count() == 0


def test_my_tasks_are_listed_and_closed(client, organisation, east):
    task, _ = credit_review_task_open(
        customer=east, reason=ReviewReason.OVERDUE, today=timezone.localdate()
    )
    client.force_login(organisation.rep)

    listed = client.get("/api/credit/tasks").json()
    closed = _post(client, f"/api/credit/tasks/{task.pk}/close", {"state": "done"})
    again = _post(client, f"/api/credit/tasks/{task.pk}/close", {"state": "done"})

    assert [item["id"] for item in listed] == [task.pk]
    assert closed.status_code == 200
    assert closed.json()["state"] == "done"
    assert again.status_code == 409
    assert CreditReviewTask.objects.get().closed_by == organisation.rep


def test_a_group_is_created_joined_and_given_one_line(client, organisation, east):
    sister = CustomerFactory.create(code="E2", owner=organisation.rep)
    client.force_login(organisation.customer_manager)

    created = _post(client, "/api/credit/groups", {"code": "G1", "name": "东方集团"})
    group_id = created.json()["id"]
    for customer in (east, sister):
        joined = client.put(
            f"/api/customers/{customer.pk}/credit/group",
            data=json.dumps({"group_id": group_id}),
            content_type="application/json",
        )
        assert joined.status_code == 200, joined.content
    client.force_login(organisation.rep)
    applied = _post(
        client,
        "/api/credit/applications",
        {"group_id": group_id, "requested_amount": "600000", "payment_terms_days": 30},
    )
    client.force_login(organisation.regional_manager)
    decided = _post(
        client, f"/api/credit/applications/{applied.json()['id']}/decision", {"action": "approve"}
    )

    assert created.status_code == 201
    assert joined.json()["member_ids"] == sorted([east.pk, sister.pk])
    assert (applied.status_code, applied.json()["required_role"]) == (201, "regional_manager")
    assert decided.status_code == 200, decided.content
    lines = client.get(f"/api/customers/{sister.pk}/credit/lines").json()
    assert [(line["group_id"], line["amount"]) for line in lines] == [(group_id, "600000.00")]


def test_a_rep_cannot_create_a_group_and_the_attempt_is_logged(client, organisation):
    client.force_login(organisation.rep)

    response = _post(client, "/api/credit/groups", {"code": "G1", "name": "东方集团"})

    assert response.status_code == 403
    refused = CreditEvent.objects.get()
    assert (refused.kind, refused.reason["action"]) == (CreditEventKind.REFUSED, "group_create")


# --- Permission matrix ---------------------------------------------------------------------

SEES_E1 = {
    "anonymous": 401,
    "rep": 200,
    "other_rep": 404,
    "customer_manager": 200,
    "direct_sales_manager": 200,
    "regional_manager": 200,
    "finance": 200,
    "top_management": 200,
    "administrator": 200,
}
CREATES_E1 = {role: 201 if status == 200 else status for role, status in SEES_E1.items()}


def _matrix():
    cases = []
    for role in ROLES:
        cases += [
            ("surveys_list", role, SEES_E1[role]),
            ("survey_create", role, CREATES_E1[role]),
            ("proposal", role, SEES_E1[role]),
            ("lines", role, SEES_E1[role]),
            ("application_create", role, CREATES_E1[role]),
            ("applications", role, 401 if role == "anonymous" else 200),
            ("tasks", role, 401 if role == "anonymous" else 200),
            ("groups", role, 401 if role == "anonymous" else 200),
            (
                "group_create",
                role,
                {"anonymous": 401, "rep": 403, "other_rep": 403}.get(role, 201),
            ),
            (
                "security_create",
                role,
                {"rep": 403}.get(role, CREATES_E1[role]),
            ),
            (
                "approve_80000",
                role,
                {
                    "anonymous": 401,
                    "rep": 403,  # their own
                    "other_rep": 404,
                    "customer_manager": 200,
                    "direct_sales_manager": 200,
                    "regional_manager": 200,
                    "finance": 403,
                    "top_management": 200,
                    "administrator": 403,
                }[role],
            ),
            (
                "approve_300000",
                role,
                {
                    "anonymous": 401,
                    "rep": 403,
                    "other_rep": 404,
                    "customer_manager": 403,
                    "direct_sales_manager": 200,
                    "regional_manager": 200,
                    "finance": 403,
                    "top_management": 200,
                    "administrator": 403,
                }[role],
            ),
        ]
    return cases


@pytest.mark.parametrize(("endpoint", "role", "status"), _matrix())
def test_permission_matrix(client, organisation, east, endpoint, role, status):
    _login(client, organisation, role)
    base = f"/api/customers/{east.pk}/credit"
    if endpoint == "surveys_list":
        response = client.get(f"{base}/surveys")
    elif endpoint == "survey_create":
        response = _post(client, f"{base}/surveys", SURVEY)
    elif endpoint == "proposal":
        response = client.get(f"{base}/proposal")
    elif endpoint == "lines":
        response = client.get(f"{base}/lines")
    elif endpoint == "application_create":
        response = _post(
            client,
            "/api/credit/applications",
            {"customer_id": east.pk, "requested_amount": "80000"},
        )
    elif endpoint == "applications":
        response = client.get("/api/credit/applications")
    elif endpoint == "tasks":
        response = client.get("/api/credit/tasks")
    elif endpoint == "groups":
        response = client.get("/api/credit/groups")
    elif endpoint == "group_create":
        response = _post(client, "/api/credit/groups", {"code": "G1", "name": "东方集团"})
    elif endpoint == "security_create":
        response = _post(
            client,
            f"{base}/securities",
            {
                "kind": "collateral",
                "description": "厂房抵押",
                "amount": "500000",
                "valid_from": "2026-01-01",
            },
        )
    else:
        amount = endpoint.removeprefix("approve_")
        application = _apply(east, organisation.rep, amount)
        response = _post(
            client, f"/api/credit/applications/{application.pk}/decision", {"action": "approve"}
        )
        if status == 200:
            assert CreditLine.objects.get().amount == Decimal(amount)
        else:
            assert CreditLine.objects.count() == 0
    assert response.status_code == status, response.content


# --- Query counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 8])
def test_lists_read_a_fixed_number_of_queries(
    client, organisation, django_assert_max_num_queries, count
):
    for n in range(count):
        customer = CustomerFactory.create(code=f"Q{n}", owner=organisation.rep)
        _apply(customer, organisation.rep, "80000")
        CreditSurveyFactory.create(customer=customer)
    client.force_login(organisation.direct_sales_manager)
    customer_id = CreditLineApplication.objects.values_list("customer_id", flat=True)[0]

    with django_assert_max_num_queries(8):
        assert client.get("/api/credit/applications?waiting_for_me=true").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(f"/api/customers/{customer_id}/credit/surveys").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get("/credit/applications/").status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/api/credit/applications/424242/decision", {"action": "approve"}),
        ("post", f"/api/credit/applications/{2**70}/decision", {"action": "approve"}),
        ("post", "/api/credit/applications/{app}/resubmit", {"requested_amount": "x"}),
        ("post", "/api/credit/applications/{app}/resubmit", {"payment_terms_days": None}),
        ("post", "/api/credit/applications/{app}/withdraw", {"nonsense": 1}),
        ("post", "/api/credit/tasks/424242/close", {}),
        ("post", "/api/credit/tasks/{task}/close", {"state": "open"}),
        ("post", "/api/customers/{east}/credit/securities", {"kind": "gift", "amount": "1"}),
        (
            "post",
            "/api/customers/{east}/credit/securities",
            {"kind": "guarantee", "description": "x", "amount": "-1", "valid_from": "2026-01-01"},
        ),
        (
            "post",
            "/api/customers/{east}/credit/securities",
            {
                "kind": "guarantee",
                "description": "x",
                "amount": "1",
                "valid_from": "2026-02-01",
                "valid_until": "2026-01-01",
            },
        ),
        ("get", "/api/customers/{east}/credit/proposal?as_of=yesterday", None),
        ("get", "/api/customers/{east}/credit/proposal?payment_terms_days=-1", None),
        ("get", "/api/credit/applications?state=nonsense", None),
        ("get", "/api/credit/surveys/424242", None),
        ("post", "/api/credit/surveys/424242/attachments", None),
        ("post", "/api/customers/{east}/credit/surveys", {"surveyed_on": "2999-01-01"}),
        ("post", "/api/customers/{east}/credit/surveys", {"surveyed_on": "2026-01-01", "x": 1}),
        (
            "post",
            "/api/customers/{east}/credit/surveys",
            {"surveyed_on": "2026-01-01", "fiscal_year": "x"},
        ),
    ],
)
def test_bad_input_never_answers_500(client, organisation, east, method, url, body):
    application = _apply(east, organisation.rep, "80000")
    task, _ = credit_review_task_open(
        customer=east, reason=ReviewReason.OVERDUE, today=timezone.localdate()
    )
    client.force_login(organisation.rep)
    url = url.format(app=application.pk, task=task.pk, east=east.pk)

    response = client.get(url) if method == "get" else _post(client, url, body)

    assert 400 <= response.status_code < 500, response.content
    assert set(response.json()) == {"message", "detail"}
    application.refresh_from_db()
    assert application.state == "submitted"
