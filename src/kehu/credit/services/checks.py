"""The order credit check and credit holds (§5.3, issue 5 item 4).

Confirming an order on credit (and, when the settings say so, delivering or invoicing it)
checks the customer's exposure — open receivables + confirmed orders not yet invoiced + this
order — against its line in force (with the tolerance, the securities and its group's line).
Beyond it, or when the customer is on credit hold, the order is held: a `CreditCheck` with
result "held" and hold_state "open" waits in the hold queue until someone whose authority
covers the excess releases it, or someone rejects it. Every decision is a `CreditCheck` row;
every hold, release and rejection is also a `CreditEvent`. See selectors/holds.py for the rules
of the figures (tolerance, securities, group line, excess).

Locking (PostgreSQL): the check locks, in this fixed order, the customer's CreditGroup row (when
it is in a group) and then its CustomerCredit row, with SELECT … FOR UPDATE, and only then
reads the exposure. Two confirmations for one customer (or for two members of one group) are
therefore serialised: the second reads the exposure after the first has committed, so two
orders that together exceed the line never both pass. The locks are held until the caller's
transaction (the order's confirmation) commits.

Cash orders: a cash order exposes no credit, so the sales services never check it (no record).
Called directly on a cash order, the check records a passed decision with no reason.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kehu.core.money import ZERO
from kehu.credit.events import credit_event_record
from kehu.credit.models import (
    CreditCheck,
    CreditCheckPoint,
    CreditCheckResult,
    CreditEventKind,
    CreditGroup,
    CustomerCredit,
    HoldState,
)
from kehu.credit.selectors.holds import (
    authority_covers,
    credit_authority_of,
    credit_position,
    customer_credit_hold_reasons,
    user_decides_holds,
)
from kehu.customers.models import Customer
from kehu.customers.selectors import customers_visible_to
from kehu.customers.services import customer_purchase_stats_refresh
from kehu.sales.models import Order, OrderState, PaymentMethod

__all__ = [
    "CHECKPOINT_TARGET_STATE",
    "credit_authority_of",
    "credit_hold_reject",
    "credit_hold_release",
    "customer_credit_hold_reasons",
    "order_credit_check",
]

# The state an order was trying to reach when it was checked at each point.
CHECKPOINT_TARGET_STATE = {
    CreditCheckPoint.CONFIRM: OrderState.CONFIRMED,
    CreditCheckPoint.DELIVER: OrderState.DELIVERED,
    CreditCheckPoint.INVOICE: OrderState.INVOICED,
}


def _money_text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _lock_standing(customer: Customer) -> CustomerCredit:
    """Lock the customer's group row (if any), then its CustomerCredit row, in that order.

    The row is created first when missing (get_or_create survives a concurrent creation: the
    loser's insert waits on the unique key, fails, and reads the winner's row). The group is
    read before it is locked, so a customer moved to another group in between is locked again.
    """
    group_ids: list[int | None] = list(
        CustomerCredit.objects.filter(customer=customer).values_list("group_id", flat=True)
    )
    if not group_ids:
        CustomerCredit.objects.get_or_create(customer=customer)
        group_ids = [None]
    group_id = group_ids[0]
    for _attempt in range(3):
        if group_id is not None:
            CreditGroup.objects.select_for_update().filter(pk=group_id).values_list("pk").get()
        standing = CustomerCredit.objects.select_for_update().get(customer=customer)
        if standing.group_id == group_id:
            return standing
        group_id = standing.group_id
    raise Conflict(
        f"customer {customer.pk} changed credit group during the check; try again",
        detail={"customer": customer.pk},
    )


@transaction.atomic
def order_credit_check(
    *,
    order: Order,
    checkpoint: str,
    actor: User | None,
    today: dt.date | None = None,
    values: dict[str, Any] | None = None,
) -> CreditCheck:
    """Check the order's credit at `checkpoint` and record the decision (`values`: the credit
    settings in force, read when not given).

    Returns the `CreditCheck`: passed, or held with hold_state "open" (and a CreditEvent
    ORDER_HELD). It does not change the order: the sales services put a held order in the
    queue. Call it inside the order's transaction so the locks cover the state change.
    """
    if checkpoint not in CreditCheckPoint.values:
        raise ValidationFailed(
            f"unknown credit checkpoint {checkpoint!r}", detail={"field": "checkpoint"}
        )
    today = today or timezone.localdate()
    customer = order.customer
    if order.payment_method == PaymentMethod.CASH:
        return CreditCheck.objects.create(
            order=order,
            customer=customer,
            checkpoint=checkpoint,
            checked_by=_person(actor),
            result=CreditCheckResult.PASSED,
            reasons=[],
            order_amount=order.total_amount,
            exposure=ZERO,
        )
    # An order with an open hold is not checked again: order_set_state refuses to move it
    # (and the database keeps one open hold per order).
    standing = _lock_standing(customer)
    position = credit_position(
        customer=customer,
        today=today,
        order_amount=order.total_amount,
        exclude_order_id=order.pk,
        standing=standing,
        values=values,
    )
    held = position.is_held
    check = CreditCheck.objects.create(
        order=order,
        customer=customer,
        checkpoint=checkpoint,
        checked_by=_person(actor),
        result=CreditCheckResult.HELD if held else CreditCheckResult.PASSED,
        reasons=list(position.reasons),
        order_amount=order.total_amount,
        exposure=position.exposure,
        line_amount=position.line_amount,
        secured_amount=position.secured_amount,
        group_exposure=position.group_exposure,
        group_line_amount=position.group_line_amount,
        excess=position.excess if held else ZERO,
        hold_state=HoldState.OPEN if held else "",
    )
    if held:
        credit_event_record(
            kind=CreditEventKind.ORDER_HELD,
            actor=actor,
            customer=customer,
            group=position.group,
            credit_check=check,
            after={
                "order": order.pk,
                "number": order.number,
                "checkpoint": checkpoint,
                "order_amount": str(order.total_amount),
                "exposure": str(position.exposure),
                "line": _money_text(position.line_amount),
                "secured": str(position.secured_amount),
                "group_exposure": _money_text(position.group_exposure),
                "group_line": _money_text(position.group_line_amount),
                "excess": str(check.excess),
            },
            reason={"reasons": list(position.reasons)},
        )
    return check


def _person(actor: User | None) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


def _open_hold_locked(*, credit_check: CreditCheck, actor: User, reason: str) -> CreditCheck:
    """Checks common to release and reject; returns the check row locked."""
    if not reason or not reason.strip():
        raise ValidationFailed(_("Give a reason for the decision."), detail={"field": "reason"})
    if not customers_visible_to(actor).filter(pk=credit_check.customer_id).exists():
        raise NotFound(f"credit hold {credit_check.pk} not found")
    check = (
        CreditCheck.objects.select_for_update()
        .select_related("order", "customer")
        .get(pk=credit_check.pk)
    )
    if check.hold_state != HoldState.OPEN:
        raise Conflict(
            _("This hold was already decided: %(state)s.")
            % {"state": check.get_hold_state_display()},
            detail={"hold_state": check.hold_state},
        )
    return check


def _decide(check: CreditCheck, *, state: str, actor: User, reason: str) -> None:
    check.hold_state = state
    check.decided_by = actor
    check.decided_at = timezone.now()
    check.decision_reason = reason.strip()
    check.save(update_fields=["hold_state", "decided_by", "decided_at", "decision_reason"])


@transaction.atomic
def credit_hold_release(
    *, credit_check: CreditCheck, actor: User, reason: str, today: dt.date | None = None
) -> CreditCheck:
    """Release a held order: it goes on to the state it was trying to reach (confirmed,
    delivered or invoiced). The actor must see the customer and their role's approval
    authority must cover the hold's excess (for a hold without an amount — no line, expired
    line, overdue, grade C — the excess is the whole order amount). Reason required."""
    check = _open_hold_locked(credit_check=credit_check, actor=actor, reason=reason)
    authority = credit_authority_of(actor)
    if not authority_covers(authority, check.excess):
        raise PermissionDenied(
            _(
                "Releasing this hold approves %(excess)s beyond the customer's credit; your "
                "authority reaches %(authority)s. Ask someone with a higher authority."
            )
            % {"excess": check.excess, "authority": authority},
            detail={
                "credit_check": check.pk,
                "excess": str(check.excess),
                "authority": str(authority),
            },
        )
    order = Order.objects.select_for_update().get(pk=check.order_id)
    # The released order joins the exposure: take the customer's credit locks (after the
    # order's, as order_set_state does) so no concurrent check reads the exposure without it.
    _lock_standing(check.customer)
    before = {"hold_state": check.hold_state, "order_state": order.state}
    target = CHECKPOINT_TARGET_STATE[CreditCheckPoint(check.checkpoint)]
    fields = ["state", "updated_at"]
    order.state = target
    if target == OrderState.DELIVERED and order.delivered_on is None:
        order.delivered_on = today or timezone.localdate()
        fields.append("delivered_on")
    order.save(update_fields=fields)
    _decide(check, state=HoldState.RELEASED, actor=actor, reason=reason)
    credit_event_record(
        kind=CreditEventKind.HOLD_RELEASED,
        actor=actor,
        customer_id=check.customer_id,
        credit_check=check,
        before=before,
        after={
            "hold_state": HoldState.RELEASED,
            "order_state": target,
            "excess": str(check.excess),
            "authority": _money_text(authority),
        },
        reason={"reason": reason.strip()},
    )
    customer_purchase_stats_refresh(customer_ids=[check.customer_id])
    return check


@transaction.atomic
def credit_hold_reject(*, credit_check: CreditCheck, actor: User, reason: str) -> CreditCheck:
    """Reject a held order: it is cancelled. The actor must see the customer and decide holds
    (a role with an approval authority, or finance / top management / administrator). A hold
    at invoicing of a delivered order cannot be rejected: the goods are gone."""
    check = _open_hold_locked(credit_check=credit_check, actor=actor, reason=reason)
    if not user_decides_holds(actor):
        raise PermissionDenied(_("Your role does not decide credit holds."))
    order = Order.objects.select_for_update().get(pk=check.order_id)
    if order.state not in (OrderState.CREDIT_HOLD, OrderState.CONFIRMED):
        raise Conflict(
            _("Order %(number)s is %(state)s and cannot be cancelled; release the hold instead.")
            % {"number": order.number, "state": order.get_state_display()},
            detail={"order_state": order.state},
        )
    before = {"hold_state": check.hold_state, "order_state": order.state}
    order.state = OrderState.CANCELLED
    order.save(update_fields=["state", "updated_at"])
    _decide(check, state=HoldState.REJECTED, actor=actor, reason=reason)
    credit_event_record(
        kind=CreditEventKind.HOLD_REJECTED,
        actor=actor,
        customer_id=check.customer_id,
        credit_check=check,
        before=before,
        after={"hold_state": HoldState.REJECTED, "order_state": OrderState.CANCELLED},
        reason={"reason": reason.strip()},
    )
    customer_purchase_stats_refresh(customer_ids=[check.customer_id])
    return check
