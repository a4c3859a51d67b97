"""The audit log of credit: one row per state change, written inside the caller's transaction;
a refused attempt is written after its rollback, so the log keeps it while nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

from kehu.accounts.models import User
from kehu.core.errors import KehuError
from kehu.credit.models import (
    CreditCheck,
    CreditEvent,
    CreditEventKind,
    CreditGroup,
    CreditLineApplication,
)
from kehu.customers.models import Customer


def credit_event_record(
    *,
    kind: str,
    actor: User | None,
    customer: Customer | None = None,
    customer_id: int | None = None,
    group: CreditGroup | None = None,
    application: CreditLineApplication | None = None,
    credit_check: CreditCheck | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: dict[str, Any] | None = None,
) -> CreditEvent:
    """Write one event row; call it inside the transaction of the change it records."""
    return CreditEvent.objects.create(
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        customer_id=customer.pk if customer is not None else customer_id,
        group=group,
        application=application,
        credit_check=credit_check,
        before=before or {},
        after=after or {},
        reason=reason or {},
    )


@contextmanager
def refusals_logged(
    *,
    action: str,
    actor: User | None,
    customer: Customer | None = None,
    group: CreditGroup | None = None,
    application: CreditLineApplication | None = None,
) -> Iterator[None]:
    """Run a change; when it is refused (a KehuError), write a "refused" event naming the
    action and the message once the change has rolled back, then re-raise.

    Use it OUTSIDE the service's own transaction:
        with refusals_logged(action="application_approve", actor=user, application=app):
            credit_line_application_approve(...)
    """
    try:
        yield
    except KehuError as error:
        with transaction.atomic():
            credit_event_record(
                kind=CreditEventKind.REFUSED,
                actor=actor,
                customer=customer,
                group=group,
                application=application
                if application is not None and application.pk is not None
                else None,
                reason={"action": action, "message": str(error), "detail": error.detail or {}},
            )
        raise
