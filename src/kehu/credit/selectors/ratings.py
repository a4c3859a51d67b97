"""Reads of ratings and the scorecard template: a customer's rating with its breakdown by
group, its history, the grade distribution and the list of rated customers. Every read a user
triggers starts from the customers that user may see."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.credit.models import (
    GRADE_RANK,
    CreditRating,
    CreditRatingItem,
    CustomerCredit,
    Grade,
    ScorecardGroup,
    ScorecardIndicator,
    ScorecardTemplate,
)
from kehu.credit.scorecard import GRADES_BEST_FIRST, ZERO
from kehu.customers.models import Customer
from kehu.customers.search import customer_search_q
from kehu.customers.selectors import (
    customer_get_visible,
    customers_visible_to,
    related_visible_to,
)

PERCENT_MEASURES = {
    "on_time_share",
    "debt_to_asset_ratio",
    "net_profit_margin",
    "capital_growth",
    "purchase_growth",
}
DAY_MEASURES = {"avg_days_beyond_terms", "oldest_overdue_days"}


def value_text(measure: str, value: Decimal | None) -> str:
    """An indicator's value for people: shares as percentages, days and years with a unit."""
    if value is None:
        return ""
    if measure in PERCENT_MEASURES:
        return f"{(value * 100).quantize(Decimal('0.1'))}%"
    if measure in DAY_MEASURES:
        return _("%(days)s days") % {"days": value.normalize() if value else 0}
    if measure == "years_trading":
        return _("%(years)s years") % {"years": value.quantize(Decimal("0.01"))}
    if measure == "bad_debts_and_disputes":
        return str(int(value))
    if measure == "profitable_years":
        return _("%(count)s of 3 years with a profit") % {"count": int(value)}
    return str(value.quantize(Decimal("0.01")))


def choice_label(mapping: dict[str, Any], choice: str) -> str:
    labels = mapping.get("labels", {}).get(choice)
    if not labels:
        return choice
    language = "zh" if (get_language() or "zh-hans").lower().startswith("zh") else "en"
    return str(labels.get(language) or labels.get("en") or choice)


# --- The template -------------------------------------------------------------------------------


def scorecard_template_in_force() -> ScorecardTemplate | None:
    return (
        ScorecardTemplate.objects.filter(is_active=True)
        .select_related("created_by")
        .prefetch_related("groups__indicators")
        .first()
    )


def scorecard_templates() -> QuerySet[ScorecardTemplate]:
    """Every version, newest first, with how many ratings each made."""
    return (
        ScorecardTemplate.objects.select_related("created_by")
        .annotate(rating_count=Count("ratings"))
        .order_by("-created_at", "-id")
    )


def scorecard_template_get(*, template_id: int) -> ScorecardTemplate | None:
    return (
        ScorecardTemplate.objects.filter(pk=template_id)
        .select_related("created_by")
        .prefetch_related("groups__indicators")
        .first()
    )


# --- One customer's ratings ---------------------------------------------------------------------


@dataclass(frozen=True)
class ItemLine:
    indicator: ScorecardIndicator
    value: Decimal | None
    value_text: str
    choice: str
    choice_label: str
    is_missing: bool
    points: Decimal
    previous_points: Decimal | None  # the same indicator (by code) in the previous rating
    change: Decimal | None

    @property
    def max_points(self) -> Decimal:
        return self.indicator.points


@dataclass(frozen=True)
class GroupLine:
    group: ScorecardGroup
    items: list[ItemLine]
    points: Decimal
    previous_points: Decimal | None
    change: Decimal | None

    @property
    def max_points(self) -> Decimal:
        return self.group.points

    @property
    def missing_count(self) -> int:
        return sum(1 for item in self.items if item.is_missing)


@dataclass(frozen=True)
class RatingBreakdown:
    customer: Customer
    rating: CreditRating
    groups: list[GroupLine]

    @property
    def total_points(self) -> Decimal:
        return self.rating.template.total_points


def credit_ratings_of_customer(*, user: User, customer_id: int) -> QuerySet[CreditRating]:
    """The customer's ratings, newest first (NotFound when the user may not see it)."""
    customer = customer_get_visible(user=user, customer_id=customer_id)
    return (
        CreditRating.objects.filter(customer=customer)
        .select_related("template", "rated_by")
        .order_by("-rated_on", "-id")
    )


def _items(rating: CreditRating) -> list[CreditRatingItem]:
    return list(
        CreditRatingItem.objects.filter(rating=rating)
        .select_related("indicator")
        .order_by("indicator__group__position", "indicator__position", "indicator_id")
    )


def credit_rating_breakdown(
    *, user: User, customer_id: int, rating_id: int | None = None
) -> RatingBreakdown | None:
    """A rating of the customer (the latest, or `rating_id`) grouped by the groups of its own
    template version, each item with its value, points, missing flag and the change from the
    same indicator in the previous rating. None when the customer has no rating yet."""
    customer = customer_get_visible(user=user, customer_id=customer_id)
    ratings = CreditRating.objects.filter(customer=customer).select_related(
        "template", "previous", "rated_by", "survey"
    )
    if rating_id is not None:
        rating = ratings.filter(pk=rating_id).first()
    else:
        rating = ratings.order_by("-rated_on", "-id").first()
    if rating is None:
        return None
    previous_by_code: dict[str, CreditRatingItem] = {}
    if rating.previous_id is not None:
        previous_by_code = {
            item.indicator.code: item
            for item in _items(rating.previous)  # type: ignore[arg-type]
        }
    groups = list(ScorecardGroup.objects.filter(template=rating.template_id).order_by("position"))
    lines: dict[int, list[ItemLine]] = {group.pk: [] for group in groups}
    for item in _items(rating):
        indicator = item.indicator
        before = previous_by_code.get(indicator.code)
        lines[indicator.group_id].append(
            ItemLine(
                indicator=indicator,
                value=item.value,
                value_text=value_text(indicator.measure, item.value),
                choice=item.choice,
                choice_label=choice_label(indicator.mapping, item.choice) if item.choice else "",
                is_missing=item.is_missing,
                points=item.points,
                previous_points=before.points if before else None,
                change=item.points - before.points if before else None,
            )
        )
    group_lines = []
    for group in groups:
        items = lines[group.pk]
        points = sum((item.points for item in items), ZERO)
        compared = [item for item in items if item.previous_points is not None]
        previous_points = (
            sum((item.previous_points or ZERO for item in compared), ZERO) if compared else None
        )
        group_lines.append(
            GroupLine(
                group=group,
                items=items,
                points=points,
                previous_points=previous_points,
                change=points - previous_points if previous_points is not None else None,
            )
        )
    return RatingBreakdown(customer=customer, rating=rating, groups=group_lines)


# --- The company's (or the user's part of it) -------------------------------------------------


@dataclass(frozen=True)
class GradeCount:
    grade: str
    count: int


def credit_grade_distribution(*, user: User) -> list[GradeCount]:
    """How many visible customers hold each grade now, best first (one query)."""
    counts = dict(
        related_visible_to(user, CustomerCredit.objects.exclude(grade=""))
        .order_by()
        .values("grade")
        .annotate(count=Count("pk"))
        .values_list("grade", "count")
    )
    return [GradeCount(grade=grade, count=counts.get(grade, 0)) for grade in GRADES_BEST_FIRST]


RATED_SORTS = {
    "code": "code",
    "name": "name",
    "owner": "owner__username",
    "grade": "credit__rating__score",
    "score": "credit__rating__score",
    "change": "credit__rating__score_change",
    "rated_on": "credit__rating__rated_on",
}
CHANGE_FILTERS = ("dropped", "rose")


def credit_rated_customers(
    *,
    user: User,
    search: str = "",
    grade: str = "",
    owner_id: int | None = None,
    change: str = "",
    sort: str = "-score",
) -> QuerySet[Customer]:
    """The visible customers with a rating, filtered and sorted (`sort` a key of RATED_SORTS,
    '-' for descending); empty values go last."""
    queryset = customers_visible_to(user).filter(credit__rating__isnull=False)
    if search:
        queryset = queryset.filter(customer_search_q(search.strip()))
    if grade in Grade.values:
        queryset = queryset.filter(credit__grade=grade)
    if owner_id:
        queryset = queryset.filter(owner_id=owner_id)
    if change == "dropped":
        queryset = queryset.filter(credit__rating__grade_change__lt=0)
    elif change == "rose":
        queryset = queryset.filter(credit__rating__grade_change__gt=0)
    descending = sort.startswith("-")
    field = RATED_SORTS.get(sort.lstrip("-"), "credit__rating__score")
    order = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    return queryset.order_by(order, "-pk" if descending else "pk")


def rated_customers_in_order(*, ids: list[int]) -> list[Customer]:
    """The page's customers, by id in the given order, with owner and rating (one query)."""
    found = Customer.objects.filter(pk__in=ids).select_related(
        "owner", "credit", "credit__rating", "credit__rating__template"
    )
    by_id = {customer.pk: customer for customer in found}
    return [by_id[pk] for pk in ids if pk in by_id]


def grade_rank(grade: str) -> int:
    return GRADE_RANK.get(grade, -1)
