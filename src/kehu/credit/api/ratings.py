"""Credit API: the scorecard template and ratings (domain §5.2); schemas beside the endpoints.

Refused changes (a template whose points do not add up, a rating not allowed) answer with the
error and leave a "refused" credit event behind (events.refusals_logged)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from kehu.accounts.models import User
from kehu.core.errors import NotFound
from kehu.core.schemas import (
    MAX_ID,
    DecimalOut,
    InputSchema,
    PageQuery,
    Text,
    error_responses,
    page_of,
)
from kehu.credit.events import refusals_logged
from kehu.credit.models import CreditRating, ScorecardTemplate
from kehu.credit.selectors.ratings import (
    RatingBreakdown,
    credit_rating_breakdown,
    credit_ratings_of_customer,
    scorecard_template_get,
    scorecard_template_in_force,
)
from kehu.credit.services.ratings import credit_rating_run, scorecard_template_create
from kehu.customers.selectors import customer_get_visible

router = Router(tags=["credit"])


# --- Schemas -------------------------------------------------------------------------------------


class IndicatorOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    points: DecimalOut
    source: str
    measure: str
    is_financial: bool
    mapping: dict[str, Any]
    missing_points: DecimalOut


class GroupOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    points: DecimalOut
    indicators: list[IndicatorOut]


class TemplateOut(Schema):
    id: int
    code: str
    version: int
    name: str
    total_points: DecimalOut
    grade_bands: dict[str, str] = Field(description="each grade but C and its minimum score")
    is_active: bool
    notes: str
    created_at: dt.datetime
    groups: list[GroupOut]


def _template_out(template: ScorecardTemplate) -> dict[str, Any]:
    return {
        "id": template.pk,
        "code": template.code,
        "version": template.version,
        "name": template.name,
        "total_points": template.total_points,
        "grade_bands": {grade: str(value) for grade, value in template.grade_bands.items()},
        "is_active": template.is_active,
        "notes": template.notes,
        "created_at": template.created_at,
        "groups": [
            {
                "id": group.pk,
                "code": group.code,
                "name": group.name,
                "name_en": group.name_en,
                "points": group.points,
                "indicators": list(group.indicators.all()),
            }
            for group in template.groups.all()
        ],
    }


class IndicatorIn(InputSchema):
    code: Text
    name: Text
    name_en: Text = ""
    points: Decimal
    source: Text = Field(description="computed, survey_figure or survey_choice")
    measure: Text = Field(
        description="computed: a measure Kehu computes; survey_figure: a ratio of the survey; "
        "survey_choice: the key of the answer in the survey's facts"
    )
    is_financial: bool = False
    mapping: dict[str, Any] = Field(
        description='{"kind": "linear", "worst": w, "best": b} | {"kind": "bands", "bands": '
        '[[lower, points], …]} | {"kind": "table", "choices": {answer: points}, "labels": {…}}'
    )
    missing_points: Decimal = Decimal(0)


class GroupIn(InputSchema):
    code: Text
    name: Text
    name_en: Text = ""
    points: Decimal
    indicators: list[IndicatorIn]


class TemplateIn(InputSchema):
    """A whole template: its groups' points add up to the total, each group's indicators to
    the group's points; `financial_points`, when given, is the financial indicators' sum."""

    code: Text = "default"
    name: Text
    total_points: Decimal
    financial_points: Decimal | None = None
    grade_bands: dict[str, Decimal] = Field(
        description='{"AAA": 90, "AA": 80, "A": 70, "B": 60}: below B is C'
    )
    notes: Text = ""
    groups: list[GroupIn]


class _RatingFields(Schema):
    id: int
    customer_id: int
    template_id: int
    rated_on: dt.date
    period: str
    trigger: str
    score: DecimalOut
    grade: str
    previous_id: int | None
    score_change: DecimalOut | None
    grade_change: int | None = Field(description="grade steps up (+) or down (−)")
    missing_count: int
    created_at: dt.datetime


class RatingOut(_RatingFields):
    template_version: int = Field(alias="template.version")


class RatingPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[RatingOut]


class RatingItemOut(Schema):
    code: str
    name: str
    name_en: str
    source: str
    measure: str
    value: DecimalOut | None
    value_text: str
    choice: str
    choice_label: str
    is_missing: bool = Field(description="the input was missing: it scored missing_points")
    points: DecimalOut
    max_points: DecimalOut
    missing_points: DecimalOut
    previous_points: DecimalOut | None
    change: DecimalOut | None


class RatingGroupOut(Schema):
    code: str
    name: str
    name_en: str
    points: DecimalOut
    max_points: DecimalOut
    change: DecimalOut | None
    items: list[RatingItemOut]


class RatingBreakdownOut(_RatingFields):
    template_version: int
    total_points: DecimalOut
    groups: list[RatingGroupOut]


class RateIn(InputSchema):
    """{} rates as of today."""

    as_of: dt.date | None = Field(None, description="the ledger's date; default today")


def _breakdown_out(breakdown: RatingBreakdown) -> dict[str, Any]:
    rating = breakdown.rating
    return {
        **{name: getattr(rating, name) for name in _RatingFields.model_fields},
        "template_version": rating.template.version,
        "total_points": breakdown.total_points,
        "groups": [
            {
                "code": line.group.code,
                "name": line.group.name,
                "name_en": line.group.name_en,
                "points": line.points,
                "max_points": line.max_points,
                "change": line.change,
                "items": [
                    {
                        "code": item.indicator.code,
                        "name": item.indicator.name,
                        "name_en": item.indicator.name_en,
                        "source": item.indicator.source,
                        "measure": item.indicator.measure,
                        "value": item.value,
                        "value_text": item.value_text,
                        "choice": item.choice,
                        "choice_label": item.choice_label,
                        "is_missing": item.is_missing,
                        "points": item.points,
                        "max_points": item.max_points,
                        "missing_points": item.indicator.missing_points,
                        "previous_points": item.previous_points,
                        "change": item.change,
                    }
                    for item in line.items
                ],
            }
            for line in breakdown.groups
        ],
    }


# --- Endpoints -----------------------------------------------------------------------------------


@router.get(
    "/credit/template",
    response={200: TemplateOut, **error_responses(404)},
    summary="The scorecard template in force, with its groups and indicators",
)
def template_in_force(request: HttpRequest) -> object:
    template = scorecard_template_in_force()
    if template is None:
        raise NotFound("no scorecard template is in force yet")
    return _template_out(template)


@router.post(
    "/credit/templates",
    response={201: TemplateOut, **error_responses(403)},
    summary="Put a new version of the scorecard template in force (finance, administrators)",
)
def template_create(request: HttpRequest, payload: TemplateIn) -> object:
    user: User = request.user  # type: ignore[assignment]
    definition = payload.model_dump(mode="json")
    if definition.get("financial_points") is None:
        definition.pop("financial_points", None)
    with refusals_logged(action="scorecard_template_create", actor=user):
        template = scorecard_template_create(definition=definition, actor=user)
    found = scorecard_template_get(template_id=template.pk)
    assert found is not None
    return Status(201, _template_out(found))


@router.get(
    "/customers/{customer_id}/credit/ratings",
    response={200: RatingPageOut, **error_responses(404)},
    summary="A customer's ratings, newest first",
)
def ratings_list(
    request: HttpRequest,
    paging: Query[PageQuery],
    customer_id: int = Path(..., ge=1, le=MAX_ID),
) -> object:
    user: User = request.user  # type: ignore[assignment]
    return page_of(credit_ratings_of_customer(user=user, customer_id=customer_id), paging)


@router.get(
    "/customers/{customer_id}/credit/rating",
    response={200: RatingBreakdownOut, **error_responses(404)},
    summary="A customer's latest rating with every input, its points and the change",
)
def rating_latest(request: HttpRequest, customer_id: int = Path(..., ge=1, le=MAX_ID)) -> object:
    user: User = request.user  # type: ignore[assignment]
    breakdown = credit_rating_breakdown(user=user, customer_id=customer_id)
    if breakdown is None:
        raise NotFound(f"customer {customer_id} has no rating yet")
    return _breakdown_out(breakdown)


@router.post(
    "/customers/{customer_id}/credit/ratings",
    response={201: RatingBreakdownOut, **error_responses(403, 404)},
    summary="Rate the customer now (managers and finance)",
)
def rating_create(
    request: HttpRequest,
    payload: RateIn,
    customer_id: int = Path(..., ge=1, le=MAX_ID),
) -> object:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_get_visible(user=user, customer_id=customer_id)
    with refusals_logged(action="credit_rating_run", actor=user, customer=customer):
        rating: CreditRating = credit_rating_run(customer=customer, actor=user, as_of=payload.as_of)
    breakdown = credit_rating_breakdown(user=user, customer_id=customer.pk, rating_id=rating.pk)
    assert breakdown is not None
    return Status(201, _breakdown_out(breakdown))
