"""Writes of orders and returns. Amounts are computed here, once, for pages, API and imports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction

from kehu.accounts.models import User
from kehu.catalog.models import Product
from kehu.core.errors import Conflict, ValidationFailed
from kehu.core.money import CENT
from kehu.credit.models import CreditCheck, CreditCheckPoint, CreditCheckResult, HoldState
from kehu.credit.selectors.settings import credit_settings_current
from kehu.credit.services.checks import order_credit_check
from kehu.customers.models import Customer
from kehu.customers.services import customer_purchase_stats_refresh
from kehu.sales.models import (
    PURCHASE_STATES,
    Order,
    OrderLine,
    OrderState,
    PaymentMethod,
)


@dataclass(frozen=True)
class OrderLineInput:
    product: Product
    quantity: Decimal
    unit_price: Decimal
    unit_cost: Decimal | None = None
    discount_rate: Decimal = Decimal(0)


def order_line_amount(*, quantity: Decimal, unit_price: Decimal, discount_rate: Decimal) -> Decimal:
    """quantity × unit price × (1 − discount), rounded half-up to cents."""
    return (quantity * unit_price * (Decimal(1) - discount_rate)).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


def order_line_cost(*, quantity: Decimal, unit_cost: Decimal) -> Decimal:
    return (quantity * unit_cost).quantize(CENT, rounding=ROUND_HALF_UP)


def _validate_line(index: int, line: OrderLineInput) -> None:
    where = {"line": index}
    if line.quantity <= 0:
        raise ValidationFailed(
            f"line {index}: quantity must be positive, not {line.quantity}",
            detail={**where, "field": "quantity"},
        )
    if line.unit_price < 0:
        raise ValidationFailed(
            f"line {index}: unit price must not be negative, not {line.unit_price}",
            detail={**where, "field": "unit_price"},
        )
    if line.unit_cost is not None and line.unit_cost < 0:
        raise ValidationFailed(
            f"line {index}: unit cost must not be negative, not {line.unit_cost}",
            detail={**where, "field": "unit_cost"},
        )
    if not (0 <= line.discount_rate <= 1):
        raise ValidationFailed(
            f"line {index}: discount must be a share between 0 and 1, not {line.discount_rate}",
            detail={**where, "field": "discount_rate"},
        )


@transaction.atomic
def order_create(
    *,
    customer: Customer,
    number: str,
    order_date: dt.date,
    lines: list[OrderLineInput],
    state: str = OrderState.CONFIRMED,
    payment_method: str = PaymentMethod.CREDIT,
    owner: User | None = None,
    actor: User | None = None,
    credit_check: bool | None = None,
) -> Order:
    """Write an order with its lines and totals.

    A new order confirmed on credit is credit-checked when the settings check at confirmation
    (see `_credit_check_values` for when the check runs); when the check holds it, the order is
    written in state "held" (OrderState.CREDIT_HOLD) and waits in the credit hold queue — it is
    returned, never refused or lost.
    """
    if not lines:
        raise ValidationFailed("an order needs at least one line", detail={"field": "lines"})
    if state not in OrderState.values:
        raise ValidationFailed(f"unknown order state {state!r}", detail={"field": "state"})
    if Order.objects.filter(number=number).exists():
        raise ValidationFailed(f"order number {number!r} is taken", detail={"field": "number"})
    for index, line in enumerate(lines, start=1):
        _validate_line(index, line)
    order = Order.objects.create(
        number=number,
        customer=customer,
        owner=owner or actor or customer.owner,
        state=state,
        order_date=order_date,
        payment_method=payment_method,
        currency=customer.currency,
    )
    rows = []
    for index, line in enumerate(lines, start=1):
        unit_cost = line.product.standard_cost if line.unit_cost is None else line.unit_cost
        rows.append(
            OrderLine(
                order=order,
                line_number=index,
                product=line.product,
                quantity=line.quantity,
                unit_price=line.unit_price,
                unit_cost=unit_cost,
                discount_rate=line.discount_rate,
                amount=order_line_amount(
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    discount_rate=line.discount_rate,
                ),
                cost=order_line_cost(quantity=line.quantity, unit_cost=unit_cost),
            )
        )
    OrderLine.objects.bulk_create(rows)
    order.total_amount = sum((row.amount for row in rows), Decimal("0.00"))
    order.total_cost = sum((row.cost for row in rows), Decimal("0.00"))
    order.save(update_fields=["total_amount", "total_cost"])
    values = (
        _credit_check_values(
            order=order, checkpoint=CreditCheckPoint.CONFIRM, actor=actor, credit_check=credit_check
        )
        if state == OrderState.CONFIRMED
        else None
    )
    if values is not None:
        check = order_credit_check(
            order=order, checkpoint=CreditCheckPoint.CONFIRM, actor=actor, values=values
        )
        if check.result == CreditCheckResult.HELD:
            order.state = OrderState.CREDIT_HOLD
            order.save(update_fields=["state", "updated_at"])
    if order.state in PURCHASE_STATES:
        _refresh_purchase_stats(customer)
    return order


# The credit checkpoint of each state an order moves to.
_CHECKPOINT_OF_STATE = {
    OrderState.CONFIRMED: CreditCheckPoint.CONFIRM,
    OrderState.DELIVERED: CreditCheckPoint.DELIVER,
    OrderState.INVOICED: CreditCheckPoint.INVOICE,
}


def _credit_check_values(
    *, order: Order, checkpoint: str, actor: User | None, credit_check: bool | None
) -> dict[str, Any] | None:
    """The credit settings in force when moving the order checks credit, else None. Whether
    moving the order to a state checks credit: only orders on credit, only at the
    checkpoints the credit settings name, and only for a change someone makes — when an
    `actor` is given (pages, API, CLI) or `credit_check=True`. `credit_check=False`, or no
    actor and no flag (bulk loads of history: imports, the demo, test ledgers), records the
    order as it was."""
    if order.payment_method != PaymentMethod.CREDIT:
        return None
    wanted = actor is not None if credit_check is None else credit_check
    if not wanted:
        return None
    values = credit_settings_current()
    return values if checkpoint in values["check"]["checkpoints"] else None


# Which state may follow which: forward along the flow, or cancelled before invoicing. A held
# order leaves the hold only through credit_hold_release / credit_hold_reject.
_NEXT_STATES = {
    OrderState.DRAFT: {OrderState.CONFIRMED, OrderState.CANCELLED},
    OrderState.CREDIT_HOLD: set(),
    OrderState.CONFIRMED: {OrderState.DELIVERED, OrderState.INVOICED, OrderState.CANCELLED},
    OrderState.DELIVERED: {OrderState.INVOICED},
    OrderState.INVOICED: set(),
    OrderState.CANCELLED: set(),
}


@transaction.atomic
def order_set_state(
    *,
    order: Order,
    state: str,
    on: dt.date | None = None,
    actor: User | None = None,
    credit_check: bool | None = None,
) -> Order:
    """Move the order along its flow. Moving to confirmed, delivered or invoiced checks credit
    at the checkpoints the settings name (see `_credit_check_values`). When the check holds
    the order, it is returned without the move: held at confirmation it goes to state "held";
    held at delivery or invoicing it stays where it is with an open hold. A held order (or one
    with an open hold) moves only through credit_hold_release / credit_hold_reject."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.state == OrderState.CREDIT_HOLD:
        raise Conflict(
            f"order {order.number} is held for credit: release or reject it in the hold queue",
            detail={"from": order.state, "to": state},
        )
    if state not in _NEXT_STATES.get(OrderState(order.state), set()):
        raise Conflict(
            f"order {order.number} cannot go from {order.state} to {state}",
            detail={"from": order.state, "to": state},
        )
    if CreditCheck.objects.filter(order=order, hold_state=HoldState.OPEN).exists():
        raise Conflict(
            f"order {order.number} waits in the credit hold queue: release or reject it there",
            detail={"from": order.state, "to": state},
        )
    checkpoint = _CHECKPOINT_OF_STATE.get(OrderState(state))
    values = (
        _credit_check_values(
            order=order, checkpoint=checkpoint, actor=actor, credit_check=credit_check
        )
        if checkpoint is not None
        else None
    )
    if values is not None and checkpoint is not None:
        check = order_credit_check(order=order, checkpoint=checkpoint, actor=actor, values=values)
        if check.result == CreditCheckResult.HELD:
            if checkpoint == CreditCheckPoint.CONFIRM:
                order.state = OrderState.CREDIT_HOLD
                order.save(update_fields=["state", "updated_at"])
            return order
    order.state = state
    fields = ["state", "updated_at"]
    if state == OrderState.DELIVERED:
        order.delivered_on = on or order.order_date
        fields.append("delivered_on")
    order.save(update_fields=fields)
    _refresh_purchase_stats(order.customer)
    return order


def _refresh_purchase_stats(customer: Customer) -> None:
    customer_purchase_stats_refresh(customer_ids=[customer.pk])
