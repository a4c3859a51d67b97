"""The credit forms for print: the survey 客户信用状况调查表, the rating score sheet
信用等级评分项目表 and the line application 客户授信申请表, as PDF (Chinese titles and the
figures, read back with pypdf) and as .xlsx (read back with fastexcel), and their downloads.

The PDF needs WeasyPrint and Pango from the system (see receivables/tests/test_statements.py):
without them the PDF tests skip with the reason, except in CI.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from decimal import Decimal

import fastexcel
import pytest
from django.utils import timezone, translation

from kehu.accounts.models import Role
from kehu.accounts.tests.factories import UserFactory
from kehu.core.errors import NotFound
from kehu.credit.forms_print import (
    application_for_print,
    application_xlsx,
    approval_boxes,
    rating_for_print,
    rating_groups,
    rating_sheet_xlsx,
    survey_for_print,
    survey_xlsx,
)
from kehu.credit.models import (
    ApplicationState,
    CreditLineApplication,
    CreditRating,
    CreditRatingItem,
    CustomerCredit,
    IndicatorSource,
    ScorecardGroup,
    ScorecardIndicator,
    ScorecardTemplate,
)
from kehu.credit.tests.factories import CreditGroupFactory, CreditSurveyFactory
from kehu.customers.tests.factories import CustomerFactory

D = Decimal
NAME = "上海精工机械有限公司"


@pytest.fixture
def customer(organisation):
    return CustomerFactory.create(code="SH-001", name=NAME, owner=organisation.rep)


@pytest.fixture
def survey(organisation, customer):
    return CreditSurveyFactory.create(
        customer=customer,
        surveyed_by=organisation.rep,
        facts={"bank_record": "good", "industry": "稳定"},
        bank_opinion="工商银行：信用良好",
    )


@pytest.fixture
def rating(organisation, customer, survey):
    """A template of two groups (three indicators) and a rating of 63.5 points, one missing."""
    template = ScorecardTemplate.objects.create(
        code="standard",
        version=3,
        name="标准评分卡",
        total_points=D("100"),
        grade_bands={"AAA": "90", "AA": "80", "A": "70", "B": "60"},
        is_active=True,
    )
    character = ScorecardGroup.objects.create(
        template=template, code="character", name="品质特性", name_en="Character",
        points=D("40"), position=1,
    )  # fmt: skip
    solvency = ScorecardGroup.objects.create(
        template=template, code="solvency", name="偿债能力", name_en="Solvency",
        points=D("60"), position=2,
    )  # fmt: skip
    on_time = ScorecardIndicator.objects.create(
        group=character, code="on_time", name="按时付款比例", name_en="Share paid on time",
        points=D("25"), source=IndicatorSource.COMPUTED, measure="on_time_share",
        mapping={"kind": "linear", "worst": 0.2, "best": 1.0}, position=1,
    )  # fmt: skip
    bank = ScorecardIndicator.objects.create(
        group=character, code="bank_record", name="银行信用记录", name_en="Record with banks",
        points=D("15"), source=IndicatorSource.SURVEY_CHOICE, measure="bank_record",
        mapping={"kind": "table", "choices": {"good": 15, "fair": 8}}, position=2,
    )  # fmt: skip
    quick = ScorecardIndicator.objects.create(
        group=solvency, code="quick_ratio", name="速动比率", name_en="Quick ratio",
        points=D("60"), source=IndicatorSource.SURVEY_FIGURE, measure="quick_ratio",
        mapping={"kind": "linear", "worst": 0.5, "best": 1.0}, missing_points=D("30"),
        position=1, is_financial=True,
    )  # fmt: skip
    rating = CreditRating.objects.create(
        customer=customer, template=template, survey=survey, rated_on=dt.date(2026, 3, 31),
        period="2026Q1", score=D("63.50"), grade="B", missing_count=1,
        rated_by=organisation.finance,
    )  # fmt: skip
    CreditRatingItem.objects.create(
        rating=rating, indicator=on_time, value=D("0.712500"), points=D("18.50")
    )
    CreditRatingItem.objects.create(rating=rating, indicator=bank, choice="good", points=D("15"))
    CreditRatingItem.objects.create(rating=rating, indicator=quick, is_missing=True, points=D("30"))
    return rating


@pytest.fixture
def application(organisation, customer, survey, rating):
    return CreditLineApplication.objects.create(
        customer=customer,
        applied_by=organisation.rep,
        applied_on=dt.date(2026, 4, 2),
        survey=survey,
        rating=rating,
        proposed_amount=D("240000.00"),
        requested_amount=D("300000.00"),
        payment_terms_days=45,
        valid_until=dt.date(2027, 3, 31),
        temporary_amount=D("50000.00"),
        temporary_from=dt.date(2026, 5, 1),
        temporary_until=dt.date(2026, 6, 30),
        reason="旺季备货",
        bank_opinion="建议授信",
        required_role=Role.DIRECT_SALES_MANAGER,
    )


def _rows(data: bytes) -> list[list[object]]:
    frame = fastexcel.read_excel(data).load_sheet(0, header_row=None).to_polars()
    return [[_cell(value) for value in row] for row in frame.iter_rows()]


def _cell(value: object) -> object:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _row_of(rows: list[list[object]], label: str, column: int = 0) -> list[object]:
    (row,) = [row for row in rows if row[column] == label]
    return row


# --- The xlsx --------------------------------------------------------------------------------


def test_the_survey_xlsx_has_the_title_the_figures_and_the_ratios(survey):
    with translation.override("en"):
        rows = _rows(survey_xlsx(survey))

    assert rows[0][0] == "客户信用状况调查表"
    assert _row_of(rows, "Customer")[1] == f"SH-001 {NAME}"
    assert _row_of(rows, "quick assets")[1] == 1200000.00
    assert _row_of(rows, "sales revenue")[1] == 20000000.00
    assert _row_of(rows, "Quick ratio")[1] == 1.2
    assert _row_of(rows, "Debt-to-asset ratio")[1] == "50.0%"
    assert _row_of(rows, "Total asset turnover")[1] == 4.0
    assert _row_of(rows, "Net profit margin")[1] == "10.0%"
    assert _row_of(rows, "Capital growth over three years")[1] == "20.0%"
    assert _row_of(rows, "bank_record")[1] == "good"
    assert _row_of(rows, "industry")[1] == "稳定"
    assert [row[0] for row in rows if row[0] == "工商银行：信用良好"] == ["工商银行：信用良好"]


def test_the_survey_names_facts_by_their_indicator(survey, rating):
    with translation.override("zh-hans"):
        rows = _rows(survey_xlsx(survey))

    assert _row_of(rows, "银行信用记录")[1] == "good"


def test_the_score_sheet_lists_every_group_and_indicator(rating):
    with translation.override("en"):
        groups = rating_groups(rating)
        rows = _rows(rating_sheet_xlsx(rating))

    assert [(g.name, g.max_points, g.points) for g in groups] == [
        ("Character", D("40"), D("33.50")),
        ("Solvency", D("60"), D("30")),
    ]
    assert rows[0][0] == "信用等级评分项目表"
    assert _row_of(rows, "Character")[2:5] == [40.0, None, 33.5]
    assert _row_of(rows, "Share paid on time", 1)[2:6] == [25.0, 0.7125, 18.5, None]
    assert _row_of(rows, "Record with banks", 1)[2:6] == [15.0, "good", 15.0, None]
    assert _row_of(rows, "Quick ratio", 1)[2:6] == [60.0, None, 30.0, "missing"]
    assert _row_of(rows, "Total score")[2:6] == [100.0, None, 63.5, 1.0]
    assert _row_of(rows, "Grade")[1] == "B"
    assert _row_of(rows, "Grade bands")[1] == "AAA ≥ 90  AA ≥ 80  A ≥ 70  B ≥ 60"
    assert _row_of(rows, "Template version")[1] == 3.0


def test_the_score_sheet_prints_chinese_names_in_chinese(rating):
    with translation.override("zh-hans"):
        names = [group.name for group in rating_groups(rating)]

    assert names == ["品质特性", "偿债能力"]


def test_the_application_xlsx_has_amounts_terms_and_the_approval_levels(application):
    with translation.override("en"):
        rows = _rows(application_xlsx(application))

    assert rows[0][0] == "客户授信申请表"
    assert _row_of(rows, "Customer")[1] == f"SH-001 {NAME}"
    assert _row_of(rows, "Requested line")[1] == 300000.00
    assert _row_of(rows, "Proposed line")[1] == 240000.00
    assert _row_of(rows, "Payment terms (days)")[1] == 45.0
    assert _row_of(rows, "Temporary increase")[1] == "50,000.00 (2026-05-01 – 2026-06-30)"
    assert _row_of(rows, "Reason")[1] == "旺季备货"
    assert _row_of(rows, "The bank's opinion")[1] == "建议授信"
    assert _row_of(rows, "Grade")[1] == "B"
    assert _row_of(rows, "Quick ratio")[1] == 1.2
    labels = {"Customer manager", "Direct-sales manager", "Regional company manager"}
    levels = [row[:3] for row in rows if row[0] in labels | {"Top management"}]
    assert levels == [
        ["Customer manager", "up to 10 万元", None],
        ["Direct-sales manager", "up to 50 万元", "required"],
        ["Regional company manager", "up to 200 万元", None],
        ["Top management", "above every other authority", None],
    ]


def test_the_decision_lands_in_the_deciders_box(organisation, application):
    application.state = ApplicationState.APPROVED
    application.decided_by = organisation.direct_sales_manager
    application.decided_at = timezone.now()
    application.approved_amount = D("280000.00")
    application.save()

    boxes = approval_boxes(application)

    assert [(box.role, box.is_required, box.decided_by) for box in boxes] == [
        ("customer_manager", False, None),
        ("direct_sales_manager", True, organisation.direct_sales_manager),
        ("regional_manager", False, None),
        ("top_management", False, None),
    ]


# --- Access ------------------------------------------------------------------------------------


def test_a_customer_the_user_may_not_see_is_not_found(organisation, survey, rating, application):
    for read, record in (
        (survey_for_print, {"survey_id": survey.pk}),
        (rating_for_print, {"rating_id": rating.pk}),
        (application_for_print, {"application_id": application.pk}),
    ):
        with pytest.raises(NotFound):
            read(user=organisation.other_rep, **record)  # type: ignore[operator]
        assert read(user=organisation.rep, **record).pk in (  # type: ignore[operator]
            survey.pk,
            rating.pk,
            application.pk,
        )


def test_a_groups_application_is_seen_by_who_sees_a_member(organisation, customer):
    group = CreditGroupFactory.create()
    CustomerCredit.objects.create(customer=customer, group=group)
    application = CreditLineApplication.objects.create(
        group=group,
        applied_by=organisation.rep,
        applied_on=dt.date(2026, 4, 2),
        requested_amount=D("1000000.00"),
        valid_until=dt.date(2027, 3, 31),
    )

    assert application_for_print(user=organisation.rep, application_id=application.pk) == (
        application
    )
    assert application_for_print(user=organisation.finance, application_id=application.pk) == (
        application
    )
    with pytest.raises(NotFound):
        application_for_print(user=organisation.other_rep, application_id=application.pk)


# --- The PDF (WeasyPrint + Pango) --------------------------------------------------------------


@pytest.fixture
def weasyprint_available() -> None:
    try:
        import weasyprint  # noqa: F401
    except OSError as error:  # Pango missing from the system
        if os.environ.get("CI"):
            pytest.fail(f"WeasyPrint cannot load Pango: {error}")
        pytest.skip(f"WeasyPrint cannot load Pango (apt-get install libpango-1.0-0): {error}")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_survey_pdf(survey, weasyprint_available):
    from kehu.credit.forms_print import survey_pdf

    with translation.override("en"):
        text = _pdf_text(survey_pdf(survey))

    assert "客户信用状况调查表" in text
    assert NAME in text
    assert "1,200,000.00" in text
    assert "20,000,000.00" in text
    assert "50.0%" in text
    assert "工商银行：信用良好" in text
    assert "客户信用状况调查表 · SH-001 · 2026-01-15" in text  # the page footer


def test_the_score_sheet_pdf(rating, weasyprint_available):
    from kehu.credit.forms_print import rating_sheet_pdf

    with translation.override("zh-hans"):
        text = _pdf_text(rating_sheet_pdf(rating))

    assert "信用等级评分项目表" in text
    assert "按时付款比例" in text
    assert "速动比率" in text
    assert "63.5" in text
    assert "v3" in text


def test_the_application_pdf(application, weasyprint_available):
    from kehu.credit.forms_print import application_pdf

    with translation.override("en"):
        text = _pdf_text(application_pdf(application))

    assert "客户授信申请表" in text
    assert NAME in text
    assert "300,000.00" in text
    assert "240,000.00" in text
    assert "50,000.00" in text
    assert "旺季备货" in text
    assert "required level" in text


# --- Downloads -------------------------------------------------------------------------------


def _urls(survey, rating, application) -> dict[str, str]:
    return {
        "survey_pdf": f"/credit/surveys/{survey.pk}.pdf",
        "survey_xlsx": f"/credit/surveys/{survey.pk}.xlsx",
        "rating_pdf": f"/credit/ratings/{rating.pk}.pdf",
        "rating_xlsx": f"/credit/ratings/{rating.pk}.xlsx",
        "application_pdf": f"/credit/applications/{application.pk}.pdf",
        "application_xlsx": f"/credit/applications/{application.pk}.xlsx",
    }


KINDS = [
    "survey_pdf",
    "survey_xlsx",
    "rating_pdf",
    "rating_xlsx",
    "application_pdf",
    "application_xlsx",
]


@pytest.mark.parametrize("kind", KINDS)
def test_the_url_names(survey, rating, application, kind):
    from django.urls import reverse

    record = {"survey": survey, "rating": rating, "application": application}[kind.split("_")[0]]
    assert reverse(f"credit:{kind}", args=[record.pk]) == _urls(survey, rating, application)[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_another_rep_gets_404(client, organisation, survey, rating, application, kind):
    client.force_login(organisation.other_rep)

    response = client.get(_urls(survey, rating, application)[kind])

    assert response.status_code == 404


@pytest.mark.parametrize("kind", ["survey_xlsx", "rating_xlsx", "application_xlsx"])
def test_the_xlsx_downloads(client, organisation, survey, rating, application, kind):
    client.force_login(organisation.rep)

    response = client.get(_urls(survey, rating, application)[kind])

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in response["Content-Disposition"]
    rows = _rows(b"".join(response.streaming_content) if response.streaming else response.content)
    assert rows[0][0] in {"客户信用状况调查表", "信用等级评分项目表", "客户授信申请表"}


@pytest.mark.parametrize("kind", ["survey_pdf", "rating_pdf", "application_pdf"])
def test_the_pdf_downloads_print_in_chinese(
    client, organisation, survey, rating, application, kind, weasyprint_available
):
    client.force_login(organisation.regional_manager)

    response = client.get(_urls(survey, rating, application)[kind])

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert NAME in text
    title = {"survey": "客户信用状况调查表", "rating": "信用等级评分项目表"}
    assert title.get(kind.split("_")[0], "客户授信申请表") in text


def test_a_manager_of_another_region_gets_404(client, organisation, application):
    west = UserFactory.create(role=Role.REGIONAL_MANAGER, org_unit=organisation.west)
    client.force_login(west)

    response = client.get(f"/credit/applications/{application.pk}.xlsx")

    assert response.status_code == 404
