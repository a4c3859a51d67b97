"""Writes of activities and complaints."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kehu.accounts.models import User
from kehu.core.errors import Conflict, ValidationFailed
from kehu.customers.models import Contact, Customer
from kehu.service.models import (
    Activity,
    ActivityKind,
    ActivityOutcome,
    Complaint,
    ComplaintCategory,
    ComplaintState,
)


@transaction.atomic
def activity_log(
    *,
    customer: Customer,
    kind: str,
    occurred_on: dt.date,
    owner: User,
    subject: str = "",
    outcome: str = "",
    outcome_note: str = "",
    cost: Decimal = Decimal("0.00"),
    contact: Contact | None = None,
) -> Activity:
    """Log a visit, call, delivery or service job; its cost counts in the cost to serve (§4.5)."""
    if kind not in ActivityKind.values:
        raise ValidationFailed(f"unknown activity kind {kind!r}", detail={"field": "kind"})
    if outcome and outcome not in ActivityOutcome.values:
        raise ValidationFailed(f"unknown outcome {outcome!r}", detail={"field": "outcome"})
    if cost < 0:
        raise ValidationFailed(f"cost must not be negative, not {cost}", detail={"field": "cost"})
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationFailed(
            "the contact belongs to another customer", detail={"field": "contact"}
        )
    return Activity.objects.create(
        customer=customer,
        kind=kind,
        occurred_on=occurred_on,
        owner=owner,
        subject=subject,
        outcome=outcome,
        outcome_note=outcome_note,
        cost=cost,
        contact=contact,
        currency=customer.currency,
    )


@transaction.atomic
def complaint_create(
    *, customer: Customer, received_on: dt.date, category: str, text: str, owner: User
) -> Complaint:
    """Record a complaint; the person who took it owns it (首问负责制)."""
    if category not in ComplaintCategory.values:
        raise ValidationFailed(
            f"unknown complaint category {category!r}", detail={"field": "category"}
        )
    if not text.strip():
        raise ValidationFailed("a complaint needs its text", detail={"field": "text"})
    if received_on > timezone.localdate():
        raise ValidationFailed(
            f"date {received_on} is in the future", detail={"field": "received_on"}
        )
    return Complaint.objects.create(
        customer=customer,
        received_on=received_on,
        category=category,
        text=text.strip(),
        owner=owner,
    )


@transaction.atomic
def complaint_resolve(*, complaint: Complaint, resolved_on: dt.date) -> Complaint:
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if complaint.state in (ComplaintState.RESOLVED, ComplaintState.CLOSED):
        raise Conflict("this complaint is already resolved", detail={"field": "state"})
    if resolved_on < complaint.received_on:
        raise ValidationFailed(
            "a complaint cannot be resolved before it was received", detail={"field": "resolved_on"}
        )
    complaint.state = ComplaintState.RESOLVED
    complaint.resolved_on = resolved_on
    complaint.save(update_fields=["state", "resolved_on", "updated_at"])
    return complaint
