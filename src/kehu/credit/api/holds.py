"""Credit API: the credit hold queue, releases and rejections, and a customer's exposure and
credit checks (its schemas live beside the endpoints). The rules are in
credit/services/checks.py and credit/selectors/holds.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema

from kehu.accounts.models import User
from kehu.core.schemas import (
    MAX_ID,
    DecimalOut,
    InputSchema,
    MoneyOut,
    PageQuery,
    RefOut,
    Text,
    error_responses,
    page_of,
)
from kehu.credit.events import refusals_logged
from kehu.credit.models import CreditCheck, HoldReason
from kehu.credit.selectors.holds import (
    authority_covers,
    credit_authority_of,
    credit_checks_of,
    credit_hold_get_visible,
    credit_holds_for,
    credit_position,
)
from kehu.credit.services.checks import credit_hold_reject, credit_hold_release
from kehu.customers.selectors import customer_get_visible

router = Router(tags=["credit"])


class PersonOut(Schema):
    id: int
    name: str


class HoldQuery(PageQuery):
    reason: HoldReason | None = Field(None, description="only holds for this reason")
    owner_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="only customers of this owner rep"
    )
    q: Text = Field("", max_length=100, description="order number, customer name or code")
    sort: str = Field(
        "waiting",
        pattern=r"^-?(waiting|order|customer|amount|excess)$",
        description="waiting (longest first), order, customer, amount or excess; "
        "a leading - reverses",
    )


class CheckOut(Schema):
    id: int
    order_id: int
    order_number: str
    order_state: str
    customer: RefOut
    entered_by: PersonOut | None
    checkpoint: str
    checked_at: dt.datetime
    result: str
    reasons: list[str]
    reason_labels: list[str]
    order_amount: MoneyOut
    exposure: MoneyOut = Field(..., description="exposure with this order")
    line_amount: MoneyOut | None = Field(..., description="the line in force; null: none")
    secured_amount: MoneyOut
    group_exposure: MoneyOut | None
    group_line_amount: MoneyOut | None
    excess: MoneyOut = Field(..., description="what a release approves beyond the credit")
    hold_state: str = Field(..., description="open, released, rejected; empty: passed")
    decided_by: PersonOut | None
    decided_at: dt.datetime | None
    decision_reason: str


class HoldOut(CheckOut):
    may_release: bool = Field(..., description="the user's authority covers the excess")


class HoldPageOut(Schema):
    count: int
    limit: int
    offset: int
    authority: MoneyOut | None = Field(
        ..., description="the user's approval authority; null: no upper bound"
    )
    items: list[HoldOut]


class CheckPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[CheckOut]


class DecisionIn(InputSchema):
    reason: Text = Field(..., min_length=1, max_length=2000)


class GroupPositionOut(Schema):
    id: int
    code: str
    name: str
    exposure: MoneyOut | None
    line_amount: MoneyOut | None


class ExposureOut(Schema):
    customer_id: int
    as_of: dt.date
    open_receivables: MoneyOut
    uninvoiced_orders: MoneyOut
    exposure: MoneyOut
    line_amount: MoneyOut | None = Field(..., description="the line in force; null: none")
    line_valid_until: dt.date | None
    tolerance_share: DecimalOut
    secured_amount: MoneyOut
    limit: MoneyOut | None = Field(..., description="line × (1 + tolerance) + securities")
    available: MoneyOut | None = Field(..., description="what may still be ordered on credit")
    group: GroupPositionOut | None
    grade: str
    overdue_days: int | None = Field(..., description="days the oldest open item is past due")
    hold_reasons: list[str] = Field(..., description="why new credit orders are held")


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": str(user)}


def _check_out(check: CreditCheck) -> dict[str, Any]:
    labels = dict(HoldReason.choices)
    return {
        "id": check.pk,
        "order_id": check.order_id,
        "order_number": check.order.number,
        "order_state": check.order.state,
        "customer": {
            "id": check.customer.pk,
            "code": check.customer.code,
            "name": check.customer.name,
        },
        "entered_by": _person(check.order.owner),
        "checkpoint": check.checkpoint,
        "checked_at": check.checked_at,
        "result": check.result,
        "reasons": list(check.reasons),
        "reason_labels": [str(labels.get(reason, reason)) for reason in check.reasons],
        "order_amount": check.order_amount,
        "exposure": check.exposure,
        "line_amount": check.line_amount,
        "secured_amount": check.secured_amount,
        "group_exposure": check.group_exposure,
        "group_line_amount": check.group_line_amount,
        "excess": check.excess,
        "hold_state": check.hold_state,
        "decided_by": _person(check.decided_by),
        "decided_at": check.decided_at,
        "decision_reason": check.decision_reason,
    }


def _hold_out(check: CreditCheck, authority: Decimal | None) -> dict[str, Any]:
    return {**_check_out(check), "may_release": authority_covers(authority, check.excess)}


@router.get(
    "/credit/holds",
    response={200: HoldPageOut, **error_responses()},
    summary="Orders waiting in the credit hold queue (customers you see), longest waiting first",
)
def holds_list(request: HttpRequest, filters: Query[HoldQuery]) -> object:
    user: User = request.user  # type: ignore[assignment]
    holds = credit_holds_for(
        user=user,
        reason=filters.reason or "",
        owner_id=filters.owner_id,
        search=filters.q,
        sort=filters.sort,
    ).select_related("order__owner", "decided_by")
    page = page_of(holds, filters)
    authority = credit_authority_of(user)
    page["authority"] = authority
    page["items"] = [_hold_out(hold, authority) for hold in page["items"]]
    return page


@router.post(
    "/credit/holds/{hold_id}/release",
    response={200: HoldOut, **error_responses(403, 404, 409)},
    summary="Release a held order (your authority must cover its excess); it goes on",
)
def hold_release(
    request: HttpRequest, payload: DecisionIn, hold_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user: User = request.user  # type: ignore[assignment]
    hold = credit_hold_get_visible(user=user, hold_id=hold_id)
    with refusals_logged(action="hold_release", actor=user, customer=hold.customer):
        credit_hold_release(credit_check=hold, actor=user, reason=payload.reason)
    hold = credit_hold_get_visible(user=user, hold_id=hold_id)
    return _hold_out(hold, credit_authority_of(user))


@router.post(
    "/credit/holds/{hold_id}/reject",
    response={200: HoldOut, **error_responses(403, 404, 409)},
    summary="Reject a held order: it is cancelled",
)
def hold_reject(
    request: HttpRequest, payload: DecisionIn, hold_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user: User = request.user  # type: ignore[assignment]
    hold = credit_hold_get_visible(user=user, hold_id=hold_id)
    with refusals_logged(action="hold_reject", actor=user, customer=hold.customer):
        credit_hold_reject(credit_check=hold, actor=user, reason=payload.reason)
    hold = credit_hold_get_visible(user=user, hold_id=hold_id)
    return _hold_out(hold, credit_authority_of(user))


@router.get(
    "/customers/{customer_id}/credit/exposure",
    response={200: ExposureOut, **error_responses(404)},
    summary="A customer's credit exposure against its line, what is available, hold reasons",
)
def customer_exposure(
    request: HttpRequest, customer_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_get_visible(user=user, customer_id=customer_id)
    today = timezone.localdate()
    position = credit_position(customer=customer, today=today)
    group = position.group
    return {
        "customer_id": customer.pk,
        "as_of": today,
        "open_receivables": position.exposure_before.open_receivables,
        "uninvoiced_orders": position.exposure_before.uninvoiced_orders,
        "exposure": position.exposure,
        "line_amount": position.line_amount,
        "line_valid_until": position.line.valid_until if position.line is not None else None,
        "tolerance_share": position.tolerance_share,
        "secured_amount": position.secured_amount,
        "limit": position.limit,
        "available": position.available,
        "group": None
        if group is None
        else {
            "id": group.pk,
            "code": group.code,
            "name": group.name,
            "exposure": position.group_exposure,
            "line_amount": position.group_line_amount,
        },
        "grade": position.grade,
        "overdue_days": position.overdue_days,
        "hold_reasons": list(position.reasons),
    }


@router.get(
    "/customers/{customer_id}/credit/checks",
    response={200: CheckPageOut, **error_responses(404)},
    summary="The credit decisions on a customer's orders, newest first",
)
def customer_checks(
    request: HttpRequest,
    paging: Query[PageQuery],
    customer_id: int = Path(..., ge=1, le=MAX_ID),
) -> object:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_get_visible(user=user, customer_id=customer_id)
    checks = credit_checks_of(user=user, customer=customer).select_related(
        "customer", "order__owner"
    )
    page = page_of(checks, paging)
    page["items"] = [_check_out(check) for check in page["items"]]
    return page
