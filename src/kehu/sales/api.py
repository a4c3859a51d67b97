"""A customer's orders, with their lines; entering and confirming an order (through the sales
services, which run the order credit check: an order beyond credit comes back held)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from kehu.accounts.models import User
from kehu.catalog.models import Product
from kehu.core.errors import NotFound, ValidationFailed
from kehu.core.schemas import MAX_ID, between_dates, error_responses, page_of
from kehu.credit.models import CreditCheck
from kehu.customers.selectors import customer_get_visible, related_visible_to
from kehu.sales.models import Order, OrderLine
from kehu.sales.schemas import (
    OrderCreateIn,
    OrderListQuery,
    OrderPageOut,
    OrderStateIn,
    OrderWrittenOut,
)
from kehu.sales.services import OrderLineInput, order_create, order_set_state

router = Router(tags=["sales"])


@router.get(
    "/customers/{customer_id}/orders",
    response={200: OrderPageOut, **error_responses(404)},
    summary="A customer's orders with their lines, newest first",
)
def orders_list(
    request: HttpRequest,
    filters: Query[OrderListQuery],
    customer_id: int = Path(..., ge=1, le=MAX_ID),
) -> object:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_get_visible(user=user, customer_id=customer_id)
    orders = related_visible_to(user, Order.objects.filter(customer=customer))
    if filters.state:
        orders = orders.filter(state=filters.state)
    orders = between_dates(orders, "order_date", filters)
    orders = orders.select_related("owner").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product"))
    )
    return page_of(orders.order_by("-order_date", "-id"), filters)


def _written(order: Order, since_check_id: int) -> Order:
    """The order with its lines and the credit check this request made (if any)."""
    order = (
        Order.objects.select_related("owner")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.select_related("product")))
        .get(pk=order.pk)
    )
    order.credit_check = (  # type: ignore[attr-defined]
        CreditCheck.objects.filter(order=order, pk__gt=since_check_id).order_by("-pk").first()
    )
    return order


def _last_check_id() -> int:
    return CreditCheck.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@router.post(
    "/customers/{customer_id}/orders",
    response={201: OrderWrittenOut, **error_responses(404)},
    summary="Enter an order; confirmed on credit, it is credit-checked and may come back held",
)
def orders_create(
    request: HttpRequest, payload: OrderCreateIn, customer_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_get_visible(user=user, customer_id=customer_id)
    products = Product.objects.in_bulk({line.product_id for line in payload.lines})
    lines = []
    for index, line in enumerate(payload.lines, start=1):
        product = products.get(line.product_id)
        if product is None:
            raise ValidationFailed(
                f"line {index}: product {line.product_id} does not exist",
                detail={"line": index, "field": "product_id"},
            )
        lines.append(
            OrderLineInput(
                product=product,
                quantity=line.quantity,
                unit_price=line.unit_price,
                unit_cost=line.unit_cost,
                discount_rate=line.discount_rate,
            )
        )
    since = _last_check_id()
    order = order_create(
        customer=customer,
        number=payload.number.strip(),
        order_date=payload.order_date,
        lines=lines,
        state=payload.state,
        payment_method=payload.payment_method,
        actor=user,
    )
    return Status(201, _written(order, since))


@router.post(
    "/orders/{order_id}/state",
    response={200: OrderWrittenOut, **error_responses(404, 409)},
    summary="Move an order on (confirm, deliver, invoice, cancel); credit is checked where the "
    "settings say",
)
def orders_set_state(
    request: HttpRequest, payload: OrderStateIn, order_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user: User = request.user  # type: ignore[assignment]
    order = related_visible_to(user, Order.objects.filter(pk=order_id)).first()
    if order is None:
        raise NotFound(f"order {order_id} does not exist")
    since = _last_check_id()
    order = order_set_state(order=order, state=payload.state, on=payload.on, actor=user)
    return _written(order, since)
