"""A customer's activities and complaints (read only here)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Path, Query, Router

from kehu.accounts.models import User
from kehu.core.schemas import MAX_ID, between_dates, error_responses, page_of
from kehu.customers.selectors import customer_get_visible, related_visible_to
from kehu.service.models import Activity, Complaint
from kehu.service.schemas import (
    ActivityListQuery,
    ActivityPageOut,
    ComplaintListQuery,
    ComplaintPageOut,
)

router = Router(tags=["service"])


@router.get(
    "/customers/{customer_id}/activities",
    response={200: ActivityPageOut, **error_responses(404)},
    summary="A customer's visits, calls and other activities, newest first",
)
def activities_list(
    request: HttpRequest,
    filters: Query[ActivityListQuery],
    customer_id: int = Path(..., ge=1, le=MAX_ID),
) -> object:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_get_visible(user=user, customer_id=customer_id)
    activities = related_visible_to(user, Activity.objects.filter(customer=customer))
    if filters.kind:
        activities = activities.filter(kind=filters.kind)
    activities = between_dates(activities, "occurred_on", filters)
    activities = activities.select_related("owner", "contact")
    return page_of(activities.order_by("-occurred_on", "-id"), filters)


@router.get(
    "/customers/{customer_id}/complaints",
    response={200: ComplaintPageOut, **error_responses(404)},
    summary="A customer's complaints, newest first",
)
def complaints_list(
    request: HttpRequest,
    filters: Query[ComplaintListQuery],
    customer_id: int = Path(..., ge=1, le=MAX_ID),
) -> object:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_get_visible(user=user, customer_id=customer_id)
    complaints = related_visible_to(user, Complaint.objects.filter(customer=customer))
    if filters.state:
        complaints = complaints.filter(state=filters.state)
    complaints = between_dates(complaints, "received_on", filters).select_related("owner")
    return page_of(complaints.order_by("-received_on", "-id"), filters)
