"""The audit log of receivables: one row per state change, written inside the caller's
transaction (conventions: "every state change in credit and receivables writes an event row")."""

from __future__ import annotations

from typing import Any

from kehu.accounts.models import User
from kehu.receivables.models import Invoice, ReceivableEvent


def receivable_event_record(
    *,
    kind: str,
    customer_id: int,
    actor: User | None,
    invoice: Invoice | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: dict[str, Any] | None = None,
) -> ReceivableEvent:
    """Write one event row; call it inside the transaction of the change it records."""
    return ReceivableEvent.objects.create(
        kind=kind,
        customer_id=customer_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        invoice=invoice,
        before=before or {},
        after=after or {},
        reason=reason or {},
    )
