"""The credit survey (§5.1): figures kept as given, impossible figures refused naming the field
with nothing stored and the attempt logged, facts checked against the template in force,
ratios beside their reference levels, attachments checked for size and type."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from kehu.core.errors import PermissionDenied, ValidationFailed
from kehu.credit.events import refusals_logged
from kehu.credit.models import (
    CreditEvent,
    CreditEventKind,
    CreditSurvey,
    CreditSurveyAttachment,
    IndicatorSource,
    ScorecardGroup,
    ScorecardIndicator,
    ScorecardTemplate,
)
from kehu.credit.selectors.surveys import survey_ratios, surveys_of
from kehu.credit.services import surveys as survey_services
from kehu.credit.services.surveys import credit_survey_attachment_add, credit_survey_record
from kehu.credit.tests.factories import CreditSurveyFactory
from kehu.customers.tests.factories import CustomerFactory

SOUND = {
    "quick_assets": "1200000",
    "current_assets": "2000000",
    "current_liabilities": "1000000",
    "total_assets_start": "4500000",
    "total_assets_end": "5500000",
    "total_liabilities": "2750000",
    "sales_revenue": "20000000",
    "net_profit": "2000000",
    "equity": "2750000",
    "capital_year_1": "2000000",
    "capital_year_2": "2200000",
    "capital_year_3": "2400000",
    "profit_year_1": "1500000",
    "profit_year_2": "-100000",
    "profit_year_3": "2000000",
}


def make_template_with_questions() -> ScorecardTemplate:
    template = ScorecardTemplate.objects.create(
        code="t",
        version=1,
        name="T",
        total_points=Decimal("100"),
        grade_bands={"AAA": "90", "AA": "80", "A": "70", "B": "60"},
        is_active=True,
    )
    group = ScorecardGroup.objects.create(
        template=template, code="character", name="品质特性", points=Decimal("10")
    )
    ScorecardIndicator.objects.create(
        group=group,
        code="bank_record",
        name="银行信用",
        points=Decimal("5"),
        source=IndicatorSource.SURVEY_CHOICE,
        measure="bank_record",
        mapping={
            "kind": "table",
            "choices": {"good": 5, "fair": 3, "poor": 0},
            "labels": {"good": "良好", "fair": "一般", "poor": "差"},
        },
    )
    return template


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English, the source language."""
    with translation.override("en"):
        yield


@pytest.fixture
def east(organisation):
    return CustomerFactory.create(code="E1", owner=organisation.rep)


def _record(customer, actor, figures, facts=None):
    return credit_survey_record(
        customer=customer,
        actor=actor,
        surveyed_on=dt.date(2026, 3, 1),
        fiscal_year=2025,
        figures=figures,
        facts=facts or {},
        bank_opinion="往来正常",
    )


def test_a_survey_keeps_the_figures_and_logs_them(organisation, east):
    survey = _record(east, organisation.rep, {**SOUND, "net_profit": ""}, {"bank_record": "good"})

    assert survey.quick_assets == Decimal("1200000.00")
    assert survey.net_profit is None  # blank is unknown, never zero
    assert survey.profit_year_2 == Decimal("-100000.00")
    assert survey.facts == {"bank_record": "good"}  # no template: kept as given
    assert (survey.surveyed_by, survey.bank_opinion) == (organisation.rep, "往来正常")
    event = CreditEvent.objects.get(kind=CreditEventKind.SURVEY_RECORDED)
    assert event.after["figures"]["sales_revenue"] == "20000000.00"
    assert "net_profit" not in event.after["figures"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"total_assets_end": "-1"}, "total_assets_end", "this figure cannot be negative"),
        ({"current_liabilities": "-5"}, "current_liabilities", "this figure cannot be negative"),
        (
            {
                "total_assets_end": "0",
                "current_assets": "0",
                "quick_assets": "0",
                "total_liabilities": "100",
            },
            "total_assets_end",
            "liabilities with no assets",
        ),
        (
            {"total_assets_start": "0", "total_assets_end": "0", "total_liabilities": "0"}
            | {"current_assets": "0", "quick_assets": "0", "current_liabilities": "0"},
            "total_assets_start",
            "a turnover from a zero average",
        ),
        ({"quick_assets": "3000000"}, "quick_assets", "quick assets cannot exceed"),
        ({"current_assets": "6000000"}, "current_assets", "current assets cannot exceed"),
        ({"current_liabilities": "3000000"}, "current_liabilities", "cannot exceed total"),
        ({"sales_revenue": "abc"}, "sales_revenue", "is not an amount"),
        ({"sales_revenue": "1.005"}, "sales_revenue", "at most two decimals"),
        ({"sales_revenue": "NaN"}, "sales_revenue", "is not an amount"),
        ({"turnover": "1"}, "turnover", "unknown survey figures"),
    ],
)
def test_impossible_figures_are_refused_naming_the_field(
    organisation, east, changes, field, message
):
    with (
        pytest.raises(ValidationFailed) as refused,
        refusals_logged(action="survey_record", actor=organisation.rep, customer=east),
    ):
        _record(east, organisation.rep, SOUND | changes)

    assert refused.value.detail["field"] == field
    assert message in refused.value.message
    assert CreditSurvey.objects.count() == 0
    event = CreditEvent.objects.get()
    assert (event.kind, event.customer, event.reason["action"]) == (
        CreditEventKind.REFUSED,
        east,
        "survey_record",
    )
    assert event.reason["detail"]["field"] == field


def test_a_rep_of_another_team_cannot_survey(organisation, east):
    with pytest.raises(PermissionDenied):
        _record(east, organisation.other_rep, SOUND)

    assert CreditSurvey.objects.count() == 0


def test_facts_are_checked_against_the_template_in_force(organisation, east):
    make_template_with_questions()

    with pytest.raises(ValidationFailed) as wrong_answer:
        _record(east, organisation.rep, SOUND, {"bank_record": "excellent"})
    with pytest.raises(ValidationFailed) as unknown_question:
        _record(east, organisation.rep, SOUND, {"weather": "fine"})
    survey = _record(east, organisation.rep, SOUND, {"bank_record": "fair", "other": ""})

    assert wrong_answer.value.detail == {
        "field": "facts.bank_record",
        "choices": ["good", "fair", "poor"],
    }
    assert unknown_question.value.detail == {"field": "facts.weather"}
    assert survey.facts == {"bank_record": "fair"}
    assert CreditSurvey.objects.count() == 1


def test_ratios_stand_beside_their_reference_levels(east):
    # quick 1.2, debt-to-asset 0.5, turnover 20,000,000 / 5,000,000 = 4, margin 0.10
    survey = CreditSurveyFactory.create(customer=east)

    rows = {row.key: (row.value, row.verdict) for row in survey_ratios(survey)}

    assert rows == {
        "quick_ratio": (Decimal("1.2000"), "above"),
        "debt_to_asset_ratio": (Decimal("0.5000"), "near"),
        "total_asset_turnover": (Decimal("4.0000"), "near"),
        "net_profit_margin": (Decimal("0.1000"), "below"),
    }


def test_a_missing_figure_gives_a_missing_ratio(east):
    survey = CreditSurveyFactory.create(customer=east, current_liabilities=None)

    assert survey_ratios(survey)[0].verdict == "missing"


def test_surveys_are_seen_only_by_who_sees_the_customer(organisation, east):
    CreditSurveyFactory.create(customer=east)

    assert surveys_of(user=organisation.rep, customer=east).count() == 1
    assert surveys_of(user=organisation.other_rep, customer=east).count() == 0


# --- Attachments --------------------------------------------------------------------------------


def test_a_statement_is_attached(organisation, east):
    survey = CreditSurveyFactory.create(customer=east)
    upload = SimpleUploadedFile("报表.pdf", b"%PDF-1.4 statements", content_type="application/pdf")

    attachment = credit_survey_attachment_add(
        survey=survey, actor=organisation.rep, upload=upload, kind="statement"
    )

    assert (attachment.original_name, attachment.kind, attachment.uploaded_by) == (
        "报表.pdf",
        "statement",
        organisation.rep,
    )
    assert attachment.file.read() == b"%PDF-1.4 statements"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("virus.exe", b"MZ...", "attach a file of type"),
        ("fake.pdf", b"MZ not a pdf", "the content is not a .pdf file"),
        ("empty.png", b"", "the file is empty"),
        ("big.pdf", b"%PDF" + b"x" * 100, "larger than"),
    ],
)
def test_bad_attachments_are_refused(organisation, east, monkeypatch, name, content, message):
    monkeypatch.setattr(survey_services, "ATTACHMENT_MAX_BYTES", 50)
    survey = CreditSurveyFactory.create(customer=east)

    with pytest.raises(ValidationFailed) as refused:
        credit_survey_attachment_add(
            survey=survey, actor=organisation.rep, upload=SimpleUploadedFile(name, content)
        )

    assert message in refused.value.message
    assert refused.value.detail == {"field": "file"}
    assert CreditSurveyAttachment.objects.count() == 0


def test_the_disputes_count_is_a_whole_number_kept_with_the_answers(db):
    from kehu.core.errors import ValidationFailed
    from kehu.credit.services.surveys import survey_facts_clean

    assert survey_facts_clean({"disputes": " 2 "}) == {"disputes": "2"}
    assert survey_facts_clean({"disputes": 0}) == {"disputes": "0"}
    assert survey_facts_clean({"disputes": ""}) == {}
    for bad in ("-1", "1.5", "many", "1000"):
        with pytest.raises(ValidationFailed) as refused:
            survey_facts_clean({"disputes": bad})
        assert refused.value.detail == {"field": "facts.disputes"}
