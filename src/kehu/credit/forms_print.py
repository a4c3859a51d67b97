"""The credit forms for printing and signing (issue 5 item 6): the credit survey
客户信用状况调查表, the rating score sheet 信用等级评分项目表 and the credit line application
客户授信申请表, each as an A4 PDF (WeasyPrint with the Noto CJK fonts, as the statement of
account) and as an .xlsx workbook (xlsxwriter).

Every label is gettext with English source text; the printed forms always carry their Chinese
titles, and in Chinese they print wholly in Chinese. Builders take a record the caller has
already checked the user may see (`*_for_print` below do that: the customer must be visible,
else NotFound).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kehu.accounts.models import ApprovalAuthority, Role, User
from kehu.accounts.services import DEFAULT_AUTHORITY
from kehu.core.errors import NotFound
from kehu.credit.models import (
    CreditLineApplication,
    CreditRating,
    CreditRatingItem,
    CreditSurvey,
    CustomerCredit,
    IndicatorSource,
    ScorecardGroup,
    ScorecardIndicator,
)
from kehu.customers.selectors import customers_visible_to

SURVEY_TITLE = "客户信用状况调查表"
RATING_TITLE = "信用等级评分项目表"
APPLICATION_TITLE = "客户授信申请表"

# The approval levels of §5.3, lowest authority first.
APPROVAL_LEVELS = (
    Role.CUSTOMER_MANAGER,
    Role.DIRECT_SALES_MANAGER,
    Role.REGIONAL_MANAGER,
    Role.TOP_MANAGEMENT,
)
TEN_THOUSAND = Decimal(10000)


# --- Access --------------------------------------------------------------------------------------


def survey_for_print(*, user: User, survey_id: int) -> CreditSurvey:
    survey = (
        CreditSurvey.objects.filter(customer__in=customers_visible_to(user).values("pk"))
        .select_related("customer", "surveyed_by")
        .prefetch_related("attachments")
        .filter(pk=survey_id)
        .first()
    )
    if survey is None:
        raise NotFound(f"credit survey {survey_id} not found")
    return survey


def rating_for_print(*, user: User, rating_id: int) -> CreditRating:
    rating = (
        CreditRating.objects.filter(customer__in=customers_visible_to(user).values("pk"))
        .select_related("customer", "template", "survey", "previous", "rated_by")
        .filter(pk=rating_id)
        .first()
    )
    if rating is None:
        raise NotFound(f"credit rating {rating_id} not found")
    return rating


def application_for_print(*, user: User, application_id: int) -> CreditLineApplication:
    """A customer's application when the user sees the customer; a group's when the user sees
    all customers or at least one member of the group."""
    visible = customers_visible_to(user).values("pk")
    member_groups = CustomerCredit.objects.filter(customer__in=visible, group__isnull=False).values(
        "group_id"
    )
    condition = Q(customer__in=visible)
    condition |= Q(group__isnull=False) if user.sees_all else Q(group__in=member_groups)
    application = (
        CreditLineApplication.objects.filter(condition)
        .select_related(
            "customer", "group", "applied_by", "decided_by", "survey", "rating", "rating__template"
        )
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise NotFound(f"credit line application {application_id} not found")
    return application


# --- Shared ---------------------------------------------------------------------------------------


def _css_text(text: str) -> str:
    """Text for a CSS string in the page footer: without what could end the string or the
    style element (the style element is raw text, so no HTML escaping applies there)."""
    return mark_safe("".join(c for c in text if c not in '"\\<>&\n\r'))  # noqa: S308


def _company_name() -> str:
    return str(settings.KEHU.get("COMPANY_NAME") or "") or _("Our company")


def _decimal_text(value: Decimal | None, places: int = 4) -> str:
    """A measured value for print: at most `places` decimals, no trailing zeros."""
    if value is None:
        return ""
    quantized = Decimal(value).quantize(Decimal(1).scaleb(-places))
    text = f"{quantized:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _ratio_text(value: Decimal | None, *, is_percent: bool) -> str:
    if value is None:
        return "—"
    if is_percent:
        return f"{(value * 100).quantize(Decimal('0.1'))}%"
    return f"{value.quantize(Decimal('0.01'))}"


@dataclass(frozen=True)
class Ratio:
    label: str
    formula: str
    reference: str
    value: Decimal | None
    is_percent: bool

    @property
    def text(self) -> str:
        return _ratio_text(self.value, is_percent=self.is_percent)


def survey_ratios(survey: CreditSurvey) -> list[Ratio]:
    """The ratios of §5.1 with the reference the source gives beside each."""
    return [
        Ratio(
            _("Quick ratio"),
            _("quick assets / current liabilities"),
            _("about 1"),
            survey.quick_ratio,
            False,
        ),
        Ratio(
            _("Debt-to-asset ratio"),
            _("total liabilities / total assets"),
            _("about 50%"),
            survey.debt_to_asset_ratio,
            True,
        ),
        Ratio(
            _("Total asset turnover"),
            _("sales revenue / average total assets"),
            _("about 4–5"),
            survey.total_asset_turnover,
            False,
        ),
        Ratio(
            _("Net profit margin"),
            _("net profit / sales revenue"),
            _("about 15%"),
            survey.net_profit_margin,
            True,
        ),
        Ratio(
            _("Capital growth over three years"),
            _("capital last year / capital three years ago − 1"),
            "",
            survey.capital_growth,
            True,
        ),
    ]


def _statement_lines(survey: CreditSurvey) -> list[tuple[str, Decimal | None]]:
    names = (
        "quick_assets",
        "current_assets",
        "current_liabilities",
        "total_assets_start",
        "total_assets_end",
        "total_liabilities",
        "sales_revenue",
        "net_profit",
        "equity",
    )
    return [
        (
            str(getattr(CreditSurvey._meta.get_field(name), "verbose_name", name)),
            getattr(survey, name),
        )
        for name in names
    ]


def _fact_labels(keys: Iterable[str]) -> dict[str, str]:
    """Survey fact key → the name of the indicator that asks it (the newest template's)."""
    labels: dict[str, str] = {}
    indicators = (
        ScorecardIndicator.objects.filter(source=IndicatorSource.SURVEY_CHOICE, measure__in=keys)
        .order_by("-group__template__is_active", "-group__template__version")
        .values_list("measure", "name", "name_en")
    )
    english = not _is_chinese()
    for measure, name, name_en in indicators:
        labels.setdefault(measure, (name_en or name) if english else name)
    return labels


def _is_chinese() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").lower().startswith("zh")


def _fact_text(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return "" if value is None else str(value)


# The non-financial facts of §5.1: printed as blank lines on a survey that has none yet.
def non_financial_questions() -> list[str]:
    return [
        _("Credit of the person in charge"),
        _("Size and ownership"),
        _("Sales capability"),
        _("Operating know-how"),
        _("Employee complaints"),
        _("What its suppliers say"),
        _("Record with banks"),
        _("Credit among peers"),
        _("State of its industry"),
        _("How well it is managed"),
    ]


# --- The survey ---------------------------------------------------------------------------------


def survey_context(survey: CreditSurvey) -> dict[str, Any]:
    facts = survey.facts or {}
    labels = _fact_labels(facts.keys())
    years = [
        (_("Three years ago"), survey.capital_year_1, survey.profit_year_1),
        (_("Two years ago"), survey.capital_year_2, survey.profit_year_2),
        (_("Last year"), survey.capital_year_3, survey.profit_year_3),
    ]
    return {
        "title": SURVEY_TITLE,
        "subtitle": _("Customer credit survey"),
        "company_name": _company_name(),
        "survey": survey,
        "customer": survey.customer,
        "statement_lines": _statement_lines(survey),
        "ratios": survey_ratios(survey),
        "years": years,
        "facts": [(labels.get(key, key), _fact_text(value)) for key, value in facts.items()],
        "questions": [] if facts else non_financial_questions(),
        "attachments": list(survey.attachments.all()),
        "printed_on": timezone.localdate(),
        "footer": _css_text(f"{survey.customer.code} · {survey.surveyed_on.isoformat()}"),
        "filename_stem": f"survey-{survey.customer.code}-{survey.surveyed_on.isoformat()}",
    }


def survey_pdf(survey: CreditSurvey) -> bytes:
    return _pdf("credit/print/survey.html", survey_context(survey))


def survey_xlsx(survey: CreditSurvey) -> bytes:
    context = survey_context(survey)
    sheet = _Sheet(_("Survey"))
    sheet.title(context["title"], context["subtitle"])
    customer = context["customer"]
    sheet.pairs(
        [
            (_("Customer"), f"{customer.code} {customer.name}"),
            (_("Surveyed on"), survey.surveyed_on),
            (_("Surveyed by"), str(survey.surveyed_by or "")),
            (_("Fiscal year"), survey.fiscal_year or ""),
        ]
    )
    sheet.header([_("Financial statements"), _("Amount (yuan)")])
    for label, amount in context["statement_lines"]:
        sheet.row([label, amount])
    sheet.header([_("Ratio"), _("Value"), _("Formula"), _("Reference")])
    for ratio in context["ratios"]:
        sheet.row([ratio.label, ratio.text, ratio.formula, ratio.reference])
    sheet.header([_("Year"), _("Capital"), _("Profit")])
    for label, capital, profit in context["years"]:
        sheet.row([label, capital, profit])
    sheet.header([_("Non-financial facts"), _("Answer")])
    for label, value in context["facts"]:
        sheet.row([label, value])
    for question in context["questions"]:
        sheet.row([question, ""])
    sheet.header([_("The bank's opinion")])
    sheet.row([survey.bank_opinion])
    sheet.header([_("Notes")])
    sheet.row([survey.notes])
    sheet.signatures([_("Surveyed by (signature)"), _("Reviewed by (signature)"), _("Date")])
    return sheet.close()


# --- The rating score sheet -----------------------------------------------------------------------


@dataclass
class SheetIndicator:
    name: str
    max_points: Decimal
    value: str
    points: Decimal | None
    is_missing: bool
    source: str


@dataclass
class SheetGroup:
    name: str
    max_points: Decimal
    indicators: list[SheetIndicator] = field(default_factory=list)

    @property
    def points(self) -> Decimal:
        return sum((item.points or Decimal(0) for item in self.indicators), Decimal(0))


def _name(name: str, name_en: str) -> str:
    return name if _is_chinese() or not name_en else name_en


def rating_groups(rating: CreditRating) -> list[SheetGroup]:
    """Every group and indicator of the rating's template, with the rating's value and points
    (an indicator the rating has no item for is listed with no points)."""
    items = {
        item.indicator_id: item
        for item in CreditRatingItem.objects.filter(rating=rating).select_related("indicator")
    }
    groups = ScorecardGroup.objects.filter(template=rating.template).prefetch_related("indicators")
    sources = dict(IndicatorSource.choices)
    result = []
    for group in groups.order_by("position", "id"):
        sheet_group = SheetGroup(name=_name(group.name, group.name_en), max_points=group.points)
        for indicator in sorted(group.indicators.all(), key=lambda i: (i.position, i.id)):
            item = items.get(indicator.pk)
            value = ""
            if item is not None:
                value = item.choice or _decimal_text(item.value)
            sheet_group.indicators.append(
                SheetIndicator(
                    name=_name(indicator.name, indicator.name_en),
                    max_points=indicator.points,
                    value=value,
                    points=item.points if item is not None else None,
                    is_missing=item.is_missing if item is not None else True,
                    source=str(sources.get(indicator.source, indicator.source)),
                )
            )
        result.append(sheet_group)
    return result


def rating_context(rating: CreditRating) -> dict[str, Any]:
    template = rating.template
    bands = sorted(
        ((grade, Decimal(str(score))) for grade, score in (template.grade_bands or {}).items()),
        key=lambda band: -band[1],
    )
    return {
        "title": RATING_TITLE,
        "subtitle": _("Credit rating score sheet"),
        "company_name": _company_name(),
        "rating": rating,
        "customer": rating.customer,
        "template": template,
        "groups": rating_groups(rating),
        "bands": bands,
        "printed_on": timezone.localdate(),
        "footer": _css_text(f"{rating.customer.code} · {rating.rated_on.isoformat()}"),
        "filename_stem": f"rating-{rating.customer.code}-{rating.rated_on.isoformat()}",
    }


def rating_sheet_pdf(rating: CreditRating) -> bytes:
    return _pdf("credit/print/rating.html", rating_context(rating))


def rating_sheet_xlsx(rating: CreditRating) -> bytes:
    context = rating_context(rating)
    template = context["template"]
    customer = context["customer"]
    sheet = _Sheet(_("Score sheet"))
    sheet.title(context["title"], context["subtitle"])
    sheet.pairs(
        [
            (_("Customer"), f"{customer.code} {customer.name}"),
            (_("As of"), rating.rated_on),
            (_("Period"), rating.period),
            (_("Template"), f"{template.name} v{template.version}"),
        ]
    )
    sheet.header(
        [
            pgettext("scorecard", "Group"),
            _("Indicator"),
            _("Max points"),
            _("Value"),
            _("Points"),
            _("Missing"),
        ]
    )
    for group in context["groups"]:
        sheet.row([group.name, "", group.max_points, "", group.points, ""], bold=True)
        for item in group.indicators:
            sheet.row(
                [
                    "",
                    item.name,
                    item.max_points,
                    item.value,
                    item.points,
                    _("missing") if item.is_missing else "",
                ]
            )
    sheet.row(
        [_("Total score"), "", template.total_points, "", rating.score, rating.missing_count],
        bold=True,
    )
    sheet.pairs(
        [
            (_("Grade"), rating.grade),
            (_("Grade bands"), "  ".join(f"{g} ≥ {s}" for g, s in context["bands"])),
            (_("Template version"), template.version),
        ]
    )
    sheet.signatures([_("Rated by (signature)"), _("Reviewed by (signature)"), _("Date")])
    return sheet.close()


# --- The credit line application ------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalBox:
    role: str
    label: str
    limit: Decimal | None  # in yuan; None: no upper bound
    is_required: bool
    decided_by: User | None
    decided_at: dt.datetime | None

    @property
    def limit_text(self) -> str:
        if self.limit is None:
            return _("above every other authority")
        return _("up to %(amount)s 万元") % {"amount": _decimal_text(self.limit / TEN_THOUSAND, 2)}


def _authorities() -> dict[str, Decimal | None]:
    rows = {row.role: row.max_amount for row in ApprovalAuthority.objects.all()}
    return rows or {str(role): amount for role, amount in DEFAULT_AUTHORITY.items()}


def approval_boxes(application: CreditLineApplication) -> list[ApprovalBox]:
    """One signature box per approval level, the level the amount needs marked; the decision,
    when made, in the box of the decider's role."""
    authorities = _authorities()
    decider = application.decided_by
    boxes = []
    for role in APPROVAL_LEVELS:
        decided = decider is not None and decider.role == role
        boxes.append(
            ApprovalBox(
                role=str(role),
                label=str(role.label),
                limit=authorities.get(role),
                is_required=application.required_role == role,
                decided_by=decider if decided else None,
                decided_at=application.decided_at if decided else None,
            )
        )
    return boxes


def application_context(application: CreditLineApplication) -> dict[str, Any]:
    survey = application.survey
    rating = application.rating
    subject = application.customer or application.group
    code = getattr(subject, "code", "")
    return {
        "title": APPLICATION_TITLE,
        "subtitle": _("Credit line application"),
        "company_name": _company_name(),
        "application": application,
        "customer": application.customer,
        "group": application.group,
        "subject_name": f"{code} {getattr(subject, 'name', '')}".strip(),
        "survey": survey,
        "statement_lines": _statement_lines(survey) if survey else [],
        "ratios": survey_ratios(survey) if survey else [],
        "rating": rating,
        "boxes": approval_boxes(application),
        "state_label": application.get_state_display(),
        "printed_on": timezone.localdate(),
        "footer": _css_text(f"#{application.pk} · {code}"),
        "filename_stem": f"application-{application.pk}",
    }


def application_pdf(application: CreditLineApplication) -> bytes:
    return _pdf("credit/print/application.html", application_context(application))


def application_xlsx(application: CreditLineApplication) -> bytes:
    context = application_context(application)
    sheet = _Sheet(_("Application"))
    sheet.title(context["title"], context["subtitle"])
    temporary = ""
    if application.temporary_amount:
        temporary = (
            f"{application.temporary_amount:,.2f} "
            f"({application.temporary_from} – {application.temporary_until})"
        )
    sheet.pairs(
        [
            (_("Application number"), application.pk),
            (_("Customer") if application.customer else _("Credit group"), context["subject_name"]),
            (_("Applied by"), str(application.applied_by)),
            (_("Applied on"), application.applied_on),
            (_("State"), context["state_label"]),
        ]
    )
    sheet.header([_("Line"), _("Amount (yuan)")])
    sheet.row([_("Requested line"), application.requested_amount])
    sheet.row([_("Proposed line"), application.proposed_amount])
    if application.approved_amount is not None:
        sheet.row([_("Approved line"), application.approved_amount])
    sheet.pairs(
        [
            (_("Payment terms (days)"), application.payment_terms_days),
            (_("Valid until"), application.valid_until),
            (_("Temporary increase"), temporary or "—"),
            (_("Reason"), application.reason),
            (_("The bank's opinion"), application.bank_opinion),
        ]
    )
    survey = context["survey"]
    if survey is not None:
        sheet.header([_("Survey of %(date)s") % {"date": survey.surveyed_on}, _("Amount (yuan)")])
        for label, amount in context["statement_lines"]:
            sheet.row([label, amount])
        sheet.header([_("Ratio"), _("Value"), _("Reference")])
        for ratio in context["ratios"]:
            sheet.row([ratio.label, ratio.text, ratio.reference])
    rating = context["rating"]
    if rating is not None:
        sheet.pairs(
            [
                (_("Grade"), rating.grade),
                (_("Score"), rating.score),
                (_("Rated as of"), rating.rated_on),
            ]
        )
    sheet.header([_("Approval level"), _("Authority"), _("Required"), _("Signature"), _("Date")])
    for box in context["boxes"]:
        sheet.row(
            [
                box.label,
                box.limit_text,
                _("required") if box.is_required else "",
                str(box.decided_by or ""),
                box.decided_at.date() if box.decided_at else "",
            ]
        )
    if application.decision_comment:
        sheet.pairs([(_("Comment"), application.decision_comment)])
    sheet.signatures([_("Applicant (signature)"), _("Date")])
    return sheet.close()


# --- Renderers ----------------------------------------------------------------------------------


def _pdf(template: str, context: dict[str, Any]) -> bytes:
    """An A4 PDF (WeasyPrint, which needs Pango from the system)."""
    from weasyprint import HTML

    return bytes(HTML(string=render_to_string(template, context)).write_pdf())


class _Sheet:
    """A one-sheet printable workbook written top to bottom: a title, label/value pairs,
    headed tables, signature lines. Dates as dates, Decimals as numbers."""

    def __init__(self, name: str) -> None:
        import xlsxwriter

        self.output = io.BytesIO()
        self.workbook = xlsxwriter.Workbook(self.output, {"in_memory": True})
        self.sheet = self.workbook.add_worksheet(name[:31])
        self.sheet.set_paper(9)  # A4
        self.sheet.fit_to_pages(1, 0)
        self.sheet.set_column(0, 0, 30)
        self.sheet.set_column(1, 1, 36)
        self.sheet.set_column(2, 5, 16)
        add: Callable[[dict[str, Any]], Any] = self.workbook.add_format
        self.formats = {
            "title": add({"bold": True, "font_size": 16}),
            "subtitle": add({"italic": True, "font_color": "#555555"}),
            "bold": add({"bold": True}),
            "header": add({"bold": True, "bg_color": "#EEF0F4", "bottom": 1}),
            "date": add({"num_format": "yyyy-mm-dd", "align": "left"}),
            "number": add({"num_format": "#,##0.00"}),
            "number_bold": add({"num_format": "#,##0.00", "bold": True}),
            "signature": add({"top": 1}),
        }
        self.line = 0
        self.after_blank = True

    def title(self, title: str, subtitle: str) -> None:
        self.sheet.write_string(self.line, 0, title, self.formats["title"])
        if not _is_chinese():
            self.sheet.write_string(self.line + 1, 0, str(subtitle), self.formats["subtitle"])
        self.sheet.write_string(self.line + 2, 0, _company_name())
        self.line += 4
        self.after_blank = True

    def _write(self, column: int, value: Any, *, bold: bool = False) -> None:
        if value is None or value == "":
            return
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            self.sheet.write_datetime(
                self.line, column, dt.datetime.combine(value, dt.time()), self.formats["date"]
            )
        elif isinstance(value, Decimal | float) or (
            isinstance(value, int) and not isinstance(value, bool)
        ):
            if isinstance(value, int):
                style = self.formats["bold"] if bold else None
            else:
                style = self.formats["number_bold" if bold else "number"]
            self.sheet.write_number(self.line, column, float(value), style)
        else:
            self.sheet.write_string(
                self.line, column, str(value), self.formats["bold"] if bold else None
            )

    def pairs(self, pairs: Iterable[tuple[str, Any]]) -> None:
        for label, value in pairs:
            self.sheet.write_string(self.line, 0, str(label), self.formats["bold"])
            self._write(1, value)
            self.line += 1
        self.line += 1
        self.after_blank = True

    def header(self, labels: Iterable[str]) -> None:
        if not self.after_blank:
            self.line += 1
        for column, label in enumerate(labels):
            self.sheet.write_string(self.line, column, str(label), self.formats["header"])
        self.line += 1
        self.after_blank = False

    def row(self, values: Iterable[Any], *, bold: bool = False) -> None:
        for column, value in enumerate(values):
            self._write(column, value, bold=bold)
        self.line += 1
        self.after_blank = False

    def signatures(self, labels: Iterable[str]) -> None:
        self.line += 3
        for column, label in enumerate(labels):
            self.sheet.write_string(self.line, column, str(label), self.formats["signature"])
        self.line += 1

    def close(self) -> bytes:
        self.workbook.close()
        return self.output.getvalue()
