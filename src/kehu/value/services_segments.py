"""Writes of the segment worksheet 市场细分作业单 (domain §4.7): recording the next action of a
product line (or of one of its customers) and marking it done.

Who may: any signed-in user, about a line, or about a customer they may see (an unknown
customer and one they may not see are refused alike, naming the field `customer`). An action is
done once and never reopened.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from kehu.accounts.models import User
from kehu.catalog.models import ProductCategory
from kehu.core.errors import Conflict, NotFound, ValidationFailed
from kehu.customers.selectors import customers_visible_to
from kehu.value.models import SegmentAction, SegmentActionStatus
from kehu.value.segments import SUGGESTIONS

TEXT_LIMIT = 500
REASONS = tuple(key for key in SUGGESTIONS if key != "segment")


def _refuse(field: str, message: str, **detail: object) -> ValidationFailed:
    return ValidationFailed(message, detail={"field": field, **detail})


def segment_action_record(
    *,
    actor: User,
    line_id: int,
    text: str,
    owner_id: int,
    due_on: dt.date,
    customer_id: int | None = None,
    reason: str = "",
    today: dt.date | None = None,
) -> SegmentAction:
    """Record the next action of a product line (and of one of its customers, when given): what
    (`text`), who does it (`owner_id`), by when (`due_on`, today or later) and, when it was
    taken over from a suggestion, which (`reason`: best, loss, below_cost, late, complaints,
    returns). Refusals raise ValidationFailed naming the field."""
    today = today or timezone.localdate()
    text = (text or "").strip()
    if not text:
        raise _refuse("text", "the next action is empty: say what is to be done")
    if len(text) > TEXT_LIMIT:
        raise _refuse(
            "text", f"the next action is {len(text)} characters long; at most {TEXT_LIMIT}"
        )
    if due_on is None:
        raise _refuse("due_on", "the due date is missing")
    if due_on < today:
        raise _refuse(
            "due_on",
            f"the due date {due_on.isoformat()} is in the past (today is {today.isoformat()})",
        )
    if reason and reason not in REASONS:
        raise _refuse("reason", f"unknown reason {reason!r}: use one of {', '.join(REASONS)}")
    category = ProductCategory.objects.filter(pk=line_id).first()
    if category is None:
        raise _refuse("line", f"product line {line_id} does not exist", value=line_id)
    customer = None
    if customer_id is not None:
        customer = customers_visible_to(actor).filter(pk=customer_id).first()
        if customer is None:
            raise _refuse("customer", f"customer {customer_id} not found", value=customer_id)
    owner = User.objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        raise _refuse("owner", f"user {owner_id} does not exist or is not active", value=owner_id)
    with transaction.atomic():
        return SegmentAction.objects.create(
            category=category,
            customer=customer,
            text=text,
            reason=reason,
            owner=owner,
            due_on=due_on,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )


def segment_action_complete(*, actor: User, action_id: int) -> SegmentAction:
    """Mark a next action done, by `actor`, now. NotFound when it does not exist or is about a
    customer the actor may not see; Conflict when it is done already."""
    with transaction.atomic():
        action = SegmentAction.objects.select_for_update().filter(pk=action_id).first()
        if action is None or (
            action.customer_id is not None
            and not customers_visible_to(actor).filter(pk=action.customer_id).exists()
        ):
            raise NotFound(f"segment action {action_id} not found")
        if action.status == SegmentActionStatus.DONE:
            raise Conflict(
                f"segment action {action_id} is done already",
                detail={"field": "status", "done_at": action.done_at.isoformat()}
                if action.done_at
                else {"field": "status"},
            )
        action.status = SegmentActionStatus.DONE
        action.done_by = actor
        action.done_at = timezone.now()
        action.save(update_fields=["status", "done_by", "done_at"])
        return action
