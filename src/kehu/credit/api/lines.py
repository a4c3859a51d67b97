"""Credit API: surveys, the line proposal, applications and their decisions, lines,
collateral and guarantees, and re-survey tasks (its schemas live beside the endpoints).

Every refused change is logged as a "refused" credit event (credit/events.py) before the error
is answered."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile

from kehu.accounts.models import User
from kehu.core.errors import NotFound, ValidationFailed
from kehu.core.schemas import (
    MAX_ID,
    DecimalOut,
    Id,
    InputSchema,
    MoneyIn,
    MoneyOut,
    PageQuery,
    Text,
    error_responses,
    page_of,
)
from kehu.credit.events import refusals_logged
from kehu.credit.models import (
    ApplicationState,
    AttachmentKind,
    CreditGroup,
    CreditLineApplication,
    CreditSurvey,
    SecurityKind,
    TaskState,
)
from kehu.credit.selectors import lines as line_selectors
from kehu.credit.selectors.surveys import survey_get_visible, survey_ratios, surveys_of
from kehu.credit.services import lines as line_services
from kehu.credit.services.reviews import credit_review_task_close
from kehu.credit.services.surveys import (
    SURVEY_FIGURES,
    credit_survey_attachment_add,
    credit_survey_record,
)
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_get_visible

router = Router(tags=["credit"])

FigureIn = Decimal | None
Comment = Text


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# --- Schemas ----------------------------------------------------------------------------------


class SurveyIn(InputSchema):
    surveyed_on: dt.date
    fiscal_year: int | None = Field(None, ge=1900, le=9999)
    quick_assets: FigureIn = None
    current_assets: FigureIn = None
    current_liabilities: FigureIn = None
    total_assets_start: FigureIn = None
    total_assets_end: FigureIn = None
    total_liabilities: FigureIn = None
    sales_revenue: FigureIn = None
    net_profit: FigureIn = None
    equity: FigureIn = None
    capital_year_1: FigureIn = None
    capital_year_2: FigureIn = None
    capital_year_3: FigureIn = None
    profit_year_1: FigureIn = None
    profit_year_2: FigureIn = None
    profit_year_3: FigureIn = None
    facts: dict[str, Text] = Field(default_factory=dict)
    bank_opinion: Text = Field("", max_length=4000)
    notes: Text = Field("", max_length=4000)


class RatioOut(Schema):
    key: str
    label: str
    reference: str
    low: DecimalOut
    high: DecimalOut
    value: DecimalOut | None
    verdict: Literal["near", "below", "above", "missing"]


class AttachmentOut(Schema):
    id: int
    kind: str
    original_name: str
    uploaded_at: dt.datetime


class SurveyOut(Schema):
    id: int
    customer_id: int
    surveyed_on: dt.date
    fiscal_year: int | None
    surveyed_by_id: int | None
    quick_assets: MoneyOut | None
    current_assets: MoneyOut | None
    current_liabilities: MoneyOut | None
    total_assets_start: MoneyOut | None
    total_assets_end: MoneyOut | None
    total_liabilities: MoneyOut | None
    sales_revenue: MoneyOut | None
    net_profit: MoneyOut | None
    equity: MoneyOut | None
    capital_year_1: MoneyOut | None
    capital_year_2: MoneyOut | None
    capital_year_3: MoneyOut | None
    profit_year_1: MoneyOut | None
    profit_year_2: MoneyOut | None
    profit_year_3: MoneyOut | None
    facts: dict[str, str]
    bank_opinion: str
    notes: str
    ratios: list[RatioOut]
    attachments: list[AttachmentOut]


class SurveyPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[SurveyOut]


class ProposalOut(Schema):
    customer_id: int
    as_of: dt.date
    months: int
    period_from: dt.date
    purchases: MoneyOut
    average_monthly_purchases: MoneyOut
    payment_terms_days: int
    terms_multiplier: DecimalOut
    grade: str
    grade_factor: DecimalOut | None
    before_cap: MoneyOut
    equity: MoneyOut | None
    equity_cap_share: DecimalOut | None
    equity_cap: MoneyOut | None
    survey_id: int | None
    round_to: DecimalOut
    amount: MoneyOut
    is_capped: bool
    notes: list[str]


class ProposalQuery(Schema):
    as_of: dt.date | None = Field(None, description="the date; default today")
    payment_terms_days: int | None = Field(None, ge=0, le=365)


class ApplicationIn(InputSchema):
    customer_id: Id | None = None
    group_id: Id | None = None
    requested_amount: MoneyIn
    payment_terms_days: int = Field(30, ge=0, le=365)
    valid_until: dt.date | None = None
    temporary_amount: MoneyIn | None = None
    temporary_from: dt.date | None = None
    temporary_until: dt.date | None = None
    reason: Text = Field("", max_length=4000)
    survey_id: Id | None = None
    bank_opinion: Text = Field("", max_length=4000)


class ResubmitIn(InputSchema):
    requested_amount: MoneyIn | None = None
    payment_terms_days: int | None = Field(None, ge=0, le=365)
    valid_until: dt.date | None = None
    temporary_amount: MoneyIn | None = None
    temporary_from: dt.date | None = None
    temporary_until: dt.date | None = None
    reason: Text | None = Field(None, max_length=4000)
    bank_opinion: Text | None = Field(None, max_length=4000)


class DecisionIn(InputSchema):
    action: Literal["approve", "cut", "refuse", "return"]
    amount: MoneyIn | None = None
    comment: Comment = Field("", max_length=4000)


class WithdrawIn(InputSchema):
    comment: Comment = Field("", max_length=4000)


class ApplicationOut(Schema):
    id: int
    customer_id: int | None
    group_id: int | None
    applied_by_id: int
    applied_on: dt.date
    survey_id: int | None
    rating_id: int | None
    proposed_amount: MoneyOut
    requested_amount: MoneyOut
    payment_terms_days: int
    valid_until: dt.date
    temporary_amount: MoneyOut | None
    temporary_from: dt.date | None
    temporary_until: dt.date | None
    reason: str
    bank_opinion: str
    state: str
    required_role: str
    decided_by_id: int | None
    decided_at: dt.datetime | None
    approved_amount: MoneyOut | None
    decision_comment: str
    line_id: int | None


class ApplicationPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[ApplicationOut]


class ApplicationListQuery(PageQuery):
    state: ApplicationState | None = None
    waiting_for_me: bool = False
    customer_id: int | None = Field(None, ge=1, le=MAX_ID)


class LineOut(Schema):
    id: int
    customer_id: int | None
    group_id: int | None
    amount: MoneyOut
    payment_terms_days: int
    valid_from: dt.date
    valid_until: dt.date
    temporary_amount: MoneyOut | None
    temporary_from: dt.date | None
    temporary_until: dt.date | None
    state: str
    amount_today: MoneyOut
    application_id: int | None
    approved_by_id: int | None
    approved_at: dt.datetime | None


class SecurityIn(InputSchema):
    kind: SecurityKind
    description: Text = Field(..., min_length=1, max_length=255)
    amount: MoneyIn
    valid_from: dt.date
    valid_until: dt.date | None = None


class SecurityOut(Schema):
    id: int
    customer_id: int
    kind: str
    description: str
    amount: MoneyOut
    valid_from: dt.date
    valid_until: dt.date | None
    recorded_by_id: int | None
    is_released: bool


class TaskOut(Schema):
    id: int
    customer_id: int
    customer_code: str
    customer_name: str
    owner_id: int
    reason: str
    detail: dict[str, Any]
    due_on: dt.date
    state: str


class TaskCloseIn(InputSchema):
    state: Literal["done", "cancelled"] = "done"
    note: Text = Field("", max_length=4000)


class GroupIn(InputSchema):
    code: Text = Field(..., min_length=1, max_length=40)
    name: Text = Field(..., min_length=1, max_length=200)
    notes: Text = Field("", max_length=4000)


class GroupOut(Schema):
    id: int
    code: str
    name: str
    notes: str
    member_ids: list[int]


class GroupMemberIn(InputSchema):
    group_id: Id | None = Field(..., description="the group, or null to take the customer out")


# --- Output helpers -----------------------------------------------------------------------


def _survey_out(survey: CreditSurvey) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": survey.pk,
        "customer_id": survey.customer_id,
        "surveyed_on": survey.surveyed_on,
        "fiscal_year": survey.fiscal_year,
        "surveyed_by_id": survey.surveyed_by_id,
        "facts": survey.facts,
        "bank_opinion": survey.bank_opinion,
        "notes": survey.notes,
        "ratios": [
            {
                "key": row.key,
                "label": str(row.reference.label),
                "reference": str(row.reference.reference),
                "low": row.reference.low,
                "high": row.reference.high,
                "value": row.value,
                "verdict": row.verdict,
            }
            for row in survey_ratios(survey)
        ],
        "attachments": [
            {
                "id": attachment.pk,
                "kind": attachment.kind,
                "original_name": attachment.original_name,
                "uploaded_at": attachment.uploaded_at,
            }
            for attachment in survey.attachments.all()
        ],
    }
    for name in SURVEY_FIGURES:
        data[name] = getattr(survey, name)
    return data


def _line_out(line: Any, today: dt.date) -> dict[str, Any]:
    return {
        "id": line.pk,
        "customer_id": line.customer_id,
        "group_id": line.group_id,
        "amount": line.amount,
        "payment_terms_days": line.payment_terms_days,
        "valid_from": line.valid_from,
        "valid_until": line.valid_until,
        "temporary_amount": line.temporary_amount,
        "temporary_from": line.temporary_from,
        "temporary_until": line.temporary_until,
        "state": line.state,
        "amount_today": line.amount_on(today),
        "application_id": line.application_id,
        "approved_by_id": line.approved_by_id,
        "approved_at": line.approved_at,
    }


# --- Surveys --------------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/credit/surveys",
    response={200: SurveyPageOut, **error_responses(404)},
    summary="A customer's credit surveys 客户信用状况调查表, newest first, with their ratios",
)
def surveys_list(
    request: HttpRequest, paging: Query[PageQuery], customer_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user = _user(request)
    customer = customer_get_visible(user=user, customer_id=customer_id)
    page = page_of(surveys_of(user=user, customer=customer), paging)
    page["items"] = [_survey_out(survey) for survey in page["items"]]
    return page


@router.post(
    "/customers/{customer_id}/credit/surveys",
    response={201: SurveyOut, **error_responses(403, 404)},
    summary="Record a credit survey: the statement lines and the non-financial facts",
)
def survey_create(
    request: HttpRequest, payload: SurveyIn, customer_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user = _user(request)
    customer = customer_get_visible(user=user, customer_id=customer_id)
    figures = {name: getattr(payload, name) for name in SURVEY_FIGURES}
    with refusals_logged(action="survey_record", actor=user, customer=customer):
        survey = credit_survey_record(
            customer=customer,
            actor=user,
            surveyed_on=payload.surveyed_on,
            fiscal_year=payload.fiscal_year,
            figures=figures,
            facts=payload.facts,
            bank_opinion=payload.bank_opinion,
            notes=payload.notes,
            today=timezone.localdate(),
        )
    return Status(201, _survey_out(survey))


@router.get(
    "/credit/surveys/{survey_id}",
    response={200: SurveyOut, **error_responses(404)},
    summary="One credit survey with its ratios beside the reference levels",
)
def survey_read(request: HttpRequest, survey_id: int = Path(..., ge=1, le=MAX_ID)) -> object:
    return _survey_out(survey_get_visible(user=_user(request), survey_id=survey_id))


@router.post(
    "/credit/surveys/{survey_id}/attachments",
    response={201: AttachmentOut, **error_responses(403, 404)},
    summary="Attach the statements, the bank's letter or another paper (PDF, image, Office)",
)
def survey_attachment_create(
    request: HttpRequest,
    file: File[UploadedFile],
    kind: Form[AttachmentKind] = AttachmentKind.OTHER,  # type: ignore[assignment]
    survey_id: int = Path(..., ge=1, le=MAX_ID),
) -> object:
    user = _user(request)
    survey = survey_get_visible(user=user, survey_id=survey_id)
    with refusals_logged(action="survey_attachment_add", actor=user, customer=survey.customer):
        attachment = credit_survey_attachment_add(survey=survey, actor=user, upload=file, kind=kind)
    return Status(201, attachment)


# --- The proposal ---------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/credit/proposal",
    response={200: ProposalOut, **error_responses(404)},
    summary="The proposed line with every term of the formula",
)
def proposal_read(
    request: HttpRequest,
    query: Query[ProposalQuery],
    customer_id: int = Path(..., ge=1, le=MAX_ID),
) -> object:
    customer = customer_get_visible(user=_user(request), customer_id=customer_id)
    proposal = line_services.credit_line_propose(
        customer=customer,
        as_of=query.as_of or timezone.localdate(),
        payment_terms_days=query.payment_terms_days,
    )
    return {
        **proposal.__dict__,
        "customer_id": customer.pk,
        "is_capped": proposal.is_capped,
        "notes": list(proposal.notes),
    }


# --- Applications ---------------------------------------------------------------------------


def _subject(user: User, payload: ApplicationIn) -> tuple[Customer | None, CreditGroup | None]:
    if (payload.customer_id is None) == (payload.group_id is None):
        raise ValidationFailed(
            _("give either customer_id or group_id"), detail={"field": "customer_id"}
        )
    if payload.customer_id is not None:
        return customer_get_visible(user=user, customer_id=payload.customer_id), None
    assert payload.group_id is not None
    group = line_selectors.groups_visible_to(user).filter(pk=payload.group_id).first()
    if group is None:
        raise NotFound(_("credit group %(number)s not found") % {"number": payload.group_id})
    return None, group


def _survey_of(user: User, survey_id: int | None) -> CreditSurvey | None:
    if survey_id is None:
        return None
    try:
        return survey_get_visible(user=user, survey_id=survey_id)
    except NotFound as error:
        raise ValidationFailed(error.message, detail={"field": "survey_id"}) from error


def _application_for_change(user: User, application_id: int) -> CreditLineApplication:
    """The application to decide or change: one the user does not see answers 404, and the
    attempt is logged all the same."""
    application = CreditLineApplication.objects.filter(pk=application_id).first()
    if application is None:
        raise NotFound(
            _("credit line application %(number)s not found") % {"number": application_id}
        )
    if not line_selectors.applications_visible_to(user).filter(pk=application_id).exists():
        with refusals_logged(
            action="application_change",
            actor=user,
            customer=application.customer,
            group=application.group,
            application=application,
        ):
            raise NotFound(
                _("credit line application %(number)s not found") % {"number": application_id}
            )
    return application


@router.get(
    "/credit/applications",
    response={200: ApplicationPageOut, **error_responses()},
    summary="Credit line applications the user sees; waiting_for_me: those they may decide",
)
def applications_list(request: HttpRequest, filters: Query[ApplicationListQuery]) -> object:
    user = _user(request)
    if filters.waiting_for_me:
        queryset = line_selectors.applications_waiting_for(user)
    else:
        queryset = line_selectors.applications_visible_to(user)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.customer_id:
        queryset = queryset.filter(customer_id=filters.customer_id)
    return page_of(queryset.order_by("-applied_on", "-id"), filters)


@router.post(
    "/credit/applications",
    response={201: ApplicationOut, **error_responses(403, 404, 409)},
    summary="Apply for a credit line 客户授信申请表 for a customer or a credit group",
)
def application_create(request: HttpRequest, payload: ApplicationIn) -> object:
    user = _user(request)
    customer, group = _subject(user, payload)
    with refusals_logged(action="application_submit", actor=user, customer=customer, group=group):
        application = line_services.credit_line_application_submit(
            customer=customer,
            group=group,
            applied_by=user,
            requested_amount=payload.requested_amount,
            payment_terms_days=payload.payment_terms_days,
            valid_until=payload.valid_until,
            temporary_amount=payload.temporary_amount,
            temporary_from=payload.temporary_from,
            temporary_until=payload.temporary_until,
            reason=payload.reason,
            survey=_survey_of(user, payload.survey_id),
            bank_opinion=payload.bank_opinion,
        )
    return Status(201, application)


@router.get(
    "/credit/applications/{application_id}",
    response={200: ApplicationOut, **error_responses(404)},
    summary="One credit line application",
)
def application_read(
    request: HttpRequest, application_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    return line_selectors.application_get_visible(
        user=_user(request), application_id=application_id
    )


@router.post(
    "/credit/applications/{application_id}/decision",
    response={200: ApplicationOut, **error_responses(403, 404, 409)},
    summary="Approve, cut (a lower amount), refuse or send back, with a comment",
)
def application_decide(
    request: HttpRequest, payload: DecisionIn, application_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user = _user(request)
    application = _application_for_change(user, application_id)
    with refusals_logged(
        action=f"application_{payload.action}",
        actor=user,
        customer=application.customer,
        group=application.group,
        application=application,
    ):
        return line_services.credit_line_application_decide(
            application=application,
            approver=user,
            action=payload.action,
            amount=payload.amount,
            comment=payload.comment,
        )


@router.post(
    "/credit/applications/{application_id}/resubmit",
    response={200: ApplicationOut, **error_responses(403, 404, 409)},
    summary="Send a returned application again, changed where given",
)
def application_resubmit(
    request: HttpRequest, payload: ResubmitIn, application_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user = _user(request)
    application = _application_for_change(user, application_id)
    changes = payload.dict(exclude_unset=True)
    # Null keeps what the application says, except for the temporary increase (null drops it).
    for name in ("requested_amount", "payment_terms_days", "valid_until", "reason", "bank_opinion"):
        if changes.get(name, 0) is None:
            del changes[name]
    with refusals_logged(
        action="application_resubmit",
        actor=user,
        customer=application.customer,
        group=application.group,
        application=application,
    ):
        return line_services.credit_line_application_resubmit(
            application=application, actor=user, **changes
        )


@router.post(
    "/credit/applications/{application_id}/withdraw",
    response={200: ApplicationOut, **error_responses(403, 404, 409)},
    summary="The applicant withdraws an application waiting or sent back",
)
def application_withdraw(
    request: HttpRequest, payload: WithdrawIn, application_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user = _user(request)
    application = _application_for_change(user, application_id)
    with refusals_logged(
        action="application_withdraw",
        actor=user,
        customer=application.customer,
        group=application.group,
        application=application,
    ):
        return line_services.credit_line_application_withdraw(
            application=application, actor=user, comment=payload.comment
        )


# --- Lines and securities -------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/credit/lines",
    response={200: list[LineOut], **error_responses(404)},
    summary="The customer's credit lines and its group's, newest first",
)
def lines_list(request: HttpRequest, customer_id: int = Path(..., ge=1, le=MAX_ID)) -> object:
    user = _user(request)
    customer = customer_get_visible(user=user, customer_id=customer_id)
    today = timezone.localdate()
    return [
        _line_out(line, today) for line in line_selectors.lines_of(user=user, customer=customer)
    ]


@router.post(
    "/customers/{customer_id}/credit/securities",
    response={201: SecurityOut, **error_responses(403, 404)},
    summary="Record collateral 抵押 or a guarantee 担保 (managers, finance, top management)",
)
def security_create(
    request: HttpRequest, payload: SecurityIn, customer_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user = _user(request)
    customer = customer_get_visible(user=user, customer_id=customer_id)
    with refusals_logged(action="security_record", actor=user, customer=customer):
        security = line_services.credit_security_record(
            customer=customer,
            actor=user,
            kind=payload.kind,
            description=payload.description,
            amount=payload.amount,
            valid_from=payload.valid_from,
            valid_until=payload.valid_until,
        )
    return Status(201, security)


# --- Credit groups ---------------------------------------------------------------------------


def _group_out(group: CreditGroup) -> dict[str, Any]:
    return {
        "id": group.pk,
        "code": group.code,
        "name": group.name,
        "notes": group.notes,
        "member_ids": line_selectors.group_member_ids(group),
    }


@router.get(
    "/credit/groups",
    response={200: list[GroupOut], **error_responses()},
    summary="Credit groups (related companies) whose members the user all sees",
)
def groups_list(request: HttpRequest) -> object:
    groups = line_selectors.groups_visible_to(_user(request)).order_by("code")[:500]
    return [_group_out(group) for group in groups]


@router.post(
    "/credit/groups",
    response={201: GroupOut, **error_responses(403, 409)},
    summary="Create a credit group (managers, finance, top management)",
)
def group_create(request: HttpRequest, payload: GroupIn) -> object:
    user = _user(request)
    with refusals_logged(action="group_create", actor=user):
        group = line_services.credit_group_create(
            code=payload.code, name=payload.name, notes=payload.notes, actor=user
        )
    return Status(201, _group_out(group))


@router.put(
    "/customers/{customer_id}/credit/group",
    response={200: GroupOut | None, **error_responses(403, 404)},
    summary="Put the customer into a credit group, or take it out (group_id null)",
)
def group_member_set(
    request: HttpRequest, payload: GroupMemberIn, customer_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user = _user(request)
    customer = customer_get_visible(user=user, customer_id=customer_id)
    group = None
    if payload.group_id is not None:
        group = CreditGroup.objects.filter(pk=payload.group_id).first()
        if group is None:
            raise NotFound(_("credit group %(number)s not found") % {"number": payload.group_id})
    with refusals_logged(action="group_member_set", actor=user, customer=customer, group=group):
        line_services.credit_group_member_set(customer=customer, group=group, actor=user)
    return _group_out(group) if group is not None else None


# --- Re-survey tasks --------------------------------------------------------------------------


def _task_out(task: Any) -> dict[str, Any]:
    return {
        "id": task.pk,
        "customer_id": task.customer_id,
        "customer_code": task.customer.code,
        "customer_name": task.customer.name,
        "owner_id": task.owner_id,
        "reason": task.reason,
        "detail": task.detail,
        "due_on": task.due_on,
        "state": task.state,
    }


@router.get(
    "/credit/tasks",
    response={200: list[TaskOut], **error_responses()},
    summary="My open re-survey tasks, soonest due first",
)
def tasks_list(request: HttpRequest) -> object:
    return [_task_out(task) for task in line_selectors.tasks_of(user=_user(request))]


@router.post(
    "/credit/tasks/{task_id}/close",
    response={200: TaskOut, **error_responses(404, 409)},
    summary="Close a re-survey task as done or cancelled",
)
def task_close(
    request: HttpRequest, payload: TaskCloseIn, task_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user = _user(request)
    task = line_selectors.task_get_for(user=user, task_id=task_id)
    with refusals_logged(action="task_close", actor=user, customer=task.customer):
        task = credit_review_task_close(
            task=task, actor=user, state=TaskState(payload.state), note=payload.note
        )
    return _task_out(line_selectors.task_get_for(user=user, task_id=task.pk))
