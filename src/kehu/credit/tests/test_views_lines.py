"""Credit line pages: the survey form (errors by field, attachments), the application form
pre-filled with the proposal, the list with filters and export, the decision form, tasks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from kehu.credit.models import (
    ApplicationState,
    CreditEvent,
    CreditEventKind,
    CreditLine,
    CreditLineApplication,
    CreditReviewTask,
    CreditSecurity,
    CreditSurvey,
    ReviewReason,
    TaskState,
)
from kehu.credit.services.lines import credit_line_application_submit
from kehu.credit.services.reviews import credit_review_task_open
from kehu.credit.tests.factories import CreditSurveyFactory
from kehu.credit.tests.test_services_lines import make_grade, make_order, snapshot
from kehu.credit.tests.test_services_surveys import make_template_with_questions
from kehu.customers.tests.factories import CustomerFactory


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


FORM = {
    "surveyed_on": "2026-01-15",
    "fiscal_year": "2025",
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


# --- The survey ---------------------------------------------------------------------------------


def test_the_survey_form_asks_the_template_questions(client, organisation, east):
    make_template_with_questions()
    client.force_login(organisation.rep)

    response = client.get(reverse("credit:survey_new", args=[east.pk]))

    assert response.status_code == 200
    assert 'name="fact_bank_record"' in response.content.decode()
    assert '<option value="fair">一般</option>' in response.content.decode()


def test_a_survey_with_its_statements_is_recorded(client, organisation, east):
    make_template_with_questions()
    client.force_login(organisation.rep)

    response = client.post(
        reverse("credit:survey_new", args=[east.pk]),
        FORM
        | {
            "fact_bank_record": "good",
            "statements": SimpleUploadedFile("报表.pdf", b"%PDF-1.4"),
        },
    )

    survey = CreditSurvey.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("credit:survey_detail", args=[survey.pk])
    assert survey.facts == {"bank_record": "good"}
    assert [a.original_name for a in survey.attachments.all()] == ["报表.pdf"]
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "1200000" in page.replace(",", "")
    assert "报表.pdf" in page


def test_impossible_figures_are_shown_on_their_field_and_nothing_is_stored(
    client, organisation, east
):
    client.force_login(organisation.rep)

    response = client.post(
        reverse("credit:survey_new", args=[east.pk]), FORM | {"quick_assets": "3000000"}
    )

    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["quick_assets"]
    assert CreditSurvey.objects.count() == 0
    assert CreditEvent.objects.get().kind == CreditEventKind.REFUSED


def test_a_bad_attachment_keeps_the_survey_out(client, organisation, east):
    client.force_login(organisation.rep)

    response = client.post(
        reverse("credit:survey_new", args=[east.pk]),
        FORM | {"bank_letter": SimpleUploadedFile("letter.pdf", b"not a pdf")},
    )

    assert response.status_code == 422
    assert "bank_letter" in response.context["form"].errors
    assert CreditSurvey.objects.count() == 0


def test_a_rep_of_another_team_sees_no_survey_page(client, organisation, east):
    survey = CreditSurveyFactory.create(customer=east)
    client.force_login(organisation.other_rep)

    assert client.get(reverse("credit:survey_new", args=[east.pk])).status_code == 404
    assert client.get(reverse("credit:survey_detail", args=[survey.pk])).status_code == 404


# --- The application form and list ---------------------------------------------------------------


def test_the_application_form_is_prefilled_with_the_proposal(client, organisation, east):
    make_order(east, "240000.00", timezone.localdate() - dt.timedelta(days=5))
    make_grade(east, "B", on=timezone.localdate())
    client.force_login(organisation.rep)

    response = client.get(reverse("credit:application_new", args=[east.pk]))

    assert response.status_code == 200
    assert response.context["form"].initial["requested_amount"] == Decimal("36000.00")
    assert response.context["proposal"].average_monthly_purchases == Decimal("20000.00")


def test_an_application_is_submitted_from_the_form(client, organisation, east):
    client.force_login(organisation.rep)
    valid_until = (timezone.localdate() + dt.timedelta(days=200)).isoformat()

    response = client.post(
        reverse("credit:application_new", args=[east.pk]),
        {"requested_amount": "300000", "payment_terms_days": "45", "valid_until": valid_until},
    )

    application = CreditLineApplication.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("credit:application_detail", args=[application.pk])
    assert (application.requested_amount, application.required_role) == (
        Decimal("300000.00"),
        "direct_sales_manager",
    )


def test_the_list_filters_exports_and_shows_an_empty_state(client, organisation, east):
    client.force_login(organisation.direct_sales_manager)
    empty = client.get(reverse("credit:applications"))
    assert empty.status_code == 200
    assert empty.context["rows"] == []

    small = _apply(east, organisation.rep, "80000")
    other = CustomerFactory.create(code="E2", name="另一家", owner=organisation.rep)
    big = _apply(other, organisation.rep, "3000000")

    waiting = client.get(reverse("credit:applications"), {"waiting": "1"})
    searched = client.get(reverse("credit:applications"), {"q": "E2"})
    sorted_page = client.get(reverse("credit:applications"), {"sort": "-requested"})
    export = client.get(reverse("credit:applications_export"))

    assert [a.pk for a in waiting.context["rows"]] == [small.pk]
    assert [a.pk for a in searched.context["rows"]] == [big.pk]
    assert [a.pk for a in sorted_page.context["rows"]] == [big.pk, small.pk]
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(export.streaming_content)[:2] == b"PK"


def test_a_rep_of_another_team_sees_none_of_the_applications(client, organisation, east):
    application = _apply(east, organisation.rep, "80000")
    client.force_login(organisation.other_rep)

    assert client.get(reverse("credit:applications")).context["rows"] == []
    detail = reverse("credit:application_detail", args=[application.pk])
    assert client.get(detail).status_code == 404


# --- Decisions ------------------------------------------------------------------------------------


def test_the_decision_form_shows_only_to_someone_with_the_authority(client, organisation, east):
    application = _apply(east, organisation.rep, "300000")
    url = reverse("credit:application_detail", args=[application.pk])

    client.force_login(organisation.customer_manager)
    assert client.get(url).context["may_decide"] is False
    client.force_login(organisation.direct_sales_manager)
    assert client.get(url).context["may_decide"] is True
    client.force_login(organisation.rep)
    assert client.get(url).context["may_decide"] is False  # their own


def test_a_decision_beyond_authority_is_refused_on_the_page(client, organisation, east):
    application = _apply(east, organisation.rep, "300000")
    before = snapshot(east)
    client.force_login(organisation.customer_manager)

    response = client.post(
        reverse("credit:application_detail", args=[application.pk]),
        {"form": "decision", "decision-action": "approve"},
    )

    assert response.status_code == 422
    assert snapshot(east) == before
    assert CreditEvent.objects.filter(kind=CreditEventKind.REFUSED).count() == 1


def test_an_approval_on_the_page_creates_the_line(client, organisation, east):
    application = _apply(east, organisation.rep, "300000")
    client.force_login(organisation.direct_sales_manager)
    url = reverse("credit:application_detail", args=[application.pk])

    response = client.post(
        url, {"form": "decision", "decision-action": "approve", "decision-comment": "同意"}
    )

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == ApplicationState.APPROVED
    assert CreditLine.objects.get().amount == Decimal("300000.00")
    history = client.get(url).context["history"]
    assert [event.kind for event, _note in history] == [
        "application_submitted",
        "line_changed",
        "application_approved",
    ]


def test_the_applicant_withdraws_on_the_page(client, organisation, east):
    application = _apply(east, organisation.rep, "80000")
    client.force_login(organisation.rep)

    response = client.post(
        reverse("credit:application_detail", args=[application.pk]), {"form": "withdraw"}
    )

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == ApplicationState.WITHDRAWN


# --- Lines, securities and tasks -----------------------------------------------------------------


def test_a_manager_records_a_guarantee_on_the_lines_page(client, organisation, east):
    client.force_login(organisation.customer_manager)
    url = reverse("credit:lines", args=[east.pk])

    response = client.post(
        url,
        {
            "kind": "guarantee",
            "description": "母公司担保",
            "amount": "50000",
            "valid_from": "2026-01-01",
        },
    )

    assert response.status_code == 302
    assert CreditSecurity.objects.get().amount == Decimal("50000.00")
    client.force_login(organisation.rep)
    assert client.get(url).context["may_record"] is False


def test_my_tasks_are_listed_and_closed(client, organisation, east):
    task, _ = credit_review_task_open(
        customer=east,
        reason=ReviewReason.OVERDUE,
        today=timezone.localdate(),
        detail={"invoice": "INV1", "days_overdue": 45},
    )
    client.force_login(organisation.rep)

    listed = client.get(reverse("credit:tasks"))
    closed = client.post(reverse("credit:task_close", args=[task.pk]), {"state": "done"})

    assert [t.pk for t in listed.context["rows"]] == [task.pk]
    assert "INV1" in listed.content.decode()
    assert closed.status_code == 302
    assert CreditReviewTask.objects.get().state == TaskState.DONE
    client.force_login(organisation.other_rep)
    assert client.get(reverse("credit:tasks")).context["rows"] == []


def test_pages_render_lines_groups_and_a_returned_application(client, organisation, east):
    from kehu.credit.services.lines import (
        credit_group_create,
        credit_group_member_set,
        credit_line_application_return,
    )
    from kehu.credit.tests.factories import CreditLineFactory, CreditSecurityFactory

    today = timezone.localdate()
    group = credit_group_create(code="G1", name="东方集团", actor=organisation.customer_manager)
    credit_group_member_set(customer=east, group=group, actor=organisation.customer_manager)
    CreditLineFactory.create(
        customer=east,
        valid_from=today,
        valid_until=today + dt.timedelta(days=90),
        temporary_amount=Decimal("5000"),
        temporary_from=today,
        temporary_until=today + dt.timedelta(days=9),
    )
    CreditLineFactory.create(customer=None, group=group, valid_until=today + dt.timedelta(days=9))
    CreditSecurityFactory.create(customer=east)
    group_application = credit_line_application_submit(
        group=group,
        applied_by=organisation.rep,
        requested_amount=Decimal("200000"),
        payment_terms_days=30,
    )
    application = _apply(east, organisation.rep, "300000")
    credit_line_application_return(
        application=application, approver=organisation.direct_sales_manager, comment="补资料"
    )
    client.force_login(organisation.rep)

    lines = client.get(reverse("credit:lines", args=[east.pk]))
    group_page = client.get(reverse("credit:application_detail", args=[group_application.pk]))
    returned = client.get(reverse("credit:application_detail", args=[application.pk]))

    assert lines.status_code == 200
    assert [amount for _line, amount in lines.context["lines"]] == [
        Decimal("105000.00"),
        Decimal("100000.00"),
    ]
    assert group_page.status_code == 200
    assert returned.status_code == 200
    assert returned.context["resubmit_form"] is not None
    assert "补资料" in returned.content.decode()


def test_a_file_is_attached_to_a_survey_later(client, organisation, east):
    survey = CreditSurveyFactory.create(customer=east)
    client.force_login(organisation.rep)
    url = reverse("credit:survey_detail", args=[survey.pk])

    attached = client.post(
        url, {"kind": "bank_letter", "file": SimpleUploadedFile("letter.png", b"\x89PNG\r\n\x1a\n")}
    )
    refused = client.post(url, {"kind": "other", "file": SimpleUploadedFile("x.exe", b"MZ")})

    assert attached.status_code == 302
    assert refused.status_code == 422
    assert list(refused.context["form"].errors) == ["file"]
    attachment = survey.attachments.get()
    assert attachment.kind == "bank_letter"
    download = client.get(reverse("credit:survey_attachment", args=[attachment.pk]))
    assert b"".join(download.streaming_content) == b"\x89PNG\r\n\x1a\n"
    client.force_login(organisation.other_rep)
    assert client.get(reverse("credit:survey_attachment", args=[attachment.pk])).status_code == 404
