"""Reads of credit surveys: a customer's surveys the user sees, and the ratios of §5.1 with the
reference level the source gives beside each, and whether the figure is near, below or above
it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import User
from kehu.core.errors import NotFound
from kehu.credit.models import CreditSurvey
from kehu.customers.models import Customer
from kehu.customers.selectors import related_visible_to


@dataclass(frozen=True)
class RatioReference:
    key: str
    label: str | Promise
    formula: str | Promise
    reference: str | Promise  # as the source says it
    low: Decimal  # "near" is low..high, both included
    high: Decimal
    is_percent: bool


# The reference levels of §5.1; "near" is a band around each, the source's "about".
RATIO_REFERENCES: tuple[RatioReference, ...] = (
    RatioReference(
        "quick_ratio",
        _("Quick ratio"),
        _("quick assets / current liabilities"),
        _("about 1:1 (short-term solvency)"),
        Decimal("0.9"),
        Decimal("1.1"),
        False,
    ),
    RatioReference(
        "debt_to_asset_ratio",
        _("Debt-to-asset ratio"),
        _("total liabilities / total assets"),
        _("about 50% (long-term solvency)"),
        Decimal("0.45"),
        Decimal("0.55"),
        True,
    ),
    RatioReference(
        "total_asset_turnover",
        _("Total asset turnover"),
        _("sales revenue / average total assets"),
        _("about 4–5"),
        Decimal("4"),
        Decimal("5"),
        False,
    ),
    RatioReference(
        "net_profit_margin",
        _("Net profit margin"),
        _("net profit / sales revenue"),
        _("about 15%"),
        Decimal("0.135"),
        Decimal("0.165"),
        True,
    ),
)

NEAR, BELOW, ABOVE, MISSING = "near", "below", "above", "missing"


@dataclass(frozen=True)
class SurveyRatio:
    reference: RatioReference
    value: Decimal | None  # rounded to 4 places
    verdict: str  # near, below, above or missing

    @property
    def key(self) -> str:
        return self.reference.key


def survey_ratios(survey: CreditSurvey) -> list[SurveyRatio]:
    """The four ratios of §5.1 with their reference levels and a verdict for each."""
    rows = []
    for reference in RATIO_REFERENCES:
        raw = getattr(survey, reference.key)
        if raw is None:
            rows.append(SurveyRatio(reference, None, MISSING))
            continue
        value = Decimal(raw).quantize(Decimal("0.0001"))
        if value < reference.low:
            verdict = BELOW
        elif value > reference.high:
            verdict = ABOVE
        else:
            verdict = NEAR
        rows.append(SurveyRatio(reference, value, verdict))
    return rows


def surveys_of(*, user: User, customer: Customer) -> QuerySet[CreditSurvey]:
    """A customer's surveys, newest first; none when the user may not see the customer."""
    return (
        related_visible_to(user, CreditSurvey.objects.filter(customer=customer))
        .select_related("surveyed_by")
        .prefetch_related("attachments")
        .order_by("-surveyed_on", "-id")
    )


def survey_get_visible(*, user: User, survey_id: int) -> CreditSurvey:
    survey = (
        related_visible_to(user, CreditSurvey.objects.filter(pk=survey_id))
        .select_related("customer", "surveyed_by")
        .prefetch_related("attachments")
        .first()
    )
    if survey is None:
        raise NotFound(gettext("survey %(number)s not found") % {"number": survey_id})
    return survey


def survey_latest(*, customer: Customer) -> CreditSurvey | None:
    """The customer's latest survey (no access check: the caller has checked)."""
    return CreditSurvey.objects.filter(customer=customer).order_by("-surveyed_on", "-id").first()
