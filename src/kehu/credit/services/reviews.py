"""Re-survey tasks (§5.3): opened when a grade drops, an item is overdue too long or a line
nears expiry; they land on the customer owner's task list. One open task per customer and
reason: opening again returns the task already open."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from kehu.accounts.models import User
from kehu.core.errors import Conflict
from kehu.credit.events import credit_event_record
from kehu.credit.models import CreditEventKind, CreditReviewTask, TaskState
from kehu.credit.selectors.settings import credit_settings_current
from kehu.customers.models import Customer


@transaction.atomic
def credit_review_task_open(
    *,
    customer: Customer,
    reason: str,
    today: dt.date,
    detail: dict[str, Any] | None = None,
    actor: User | None = None,
) -> tuple[CreditReviewTask, bool]:
    """Open a re-survey task for the customer's owner; (task, created)."""
    existing = CreditReviewTask.objects.filter(
        customer=customer, reason=reason, state=TaskState.OPEN
    ).first()
    if existing is not None:
        return existing, False
    due_days = credit_settings_current()["review"]["task_due_days"]
    task = CreditReviewTask.objects.create(
        customer=customer,
        owner_id=customer.owner_id,
        reason=reason,
        detail=detail or {},
        due_on=today + dt.timedelta(days=due_days),
    )
    credit_event_record(
        kind=CreditEventKind.TASK_OPENED,
        actor=actor,
        customer=customer,
        after={"task": task.pk, "reason": reason, "due_on": task.due_on.isoformat()},
        reason=detail or {},
    )
    return task, True


@transaction.atomic
def credit_review_task_close(
    *, task: CreditReviewTask, actor: User, state: str = TaskState.DONE, note: str = ""
) -> CreditReviewTask:
    task = CreditReviewTask.objects.select_for_update().get(pk=task.pk)
    if task.state != TaskState.OPEN:
        raise Conflict(f"task {task.pk} is already {task.state}", detail={"state": task.state})
    if state not in (TaskState.DONE, TaskState.CANCELLED):
        raise Conflict(f"a task cannot be closed as {state!r}", detail={"field": "state"})
    task.state = state
    task.closed_by = actor
    task.closed_at = timezone.now()
    task.save(update_fields=["state", "closed_by", "closed_at", "updated_at"])
    credit_event_record(
        kind=CreditEventKind.TASK_CLOSED,
        actor=actor,
        customer_id=task.customer_id,
        before={"state": TaskState.OPEN},
        after={"state": state},
        reason={"note": note},
    )
    return task
