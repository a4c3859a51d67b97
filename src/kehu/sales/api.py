"""A customer's orders, with their lines (read only; orders are written by the services)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Path, Query, Router

from kehu.accounts.models import User
from kehu.core.schemas import MAX_ID, between_dates, error_responses, page_of
from kehu.customers.selectors import customer_get_visible, related_visible_to
from kehu.sales.models import Order, OrderLine
from kehu.sales.schemas import OrderListQuery, OrderPageOut

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
