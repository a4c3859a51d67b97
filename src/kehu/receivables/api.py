"""A customer's invoices and payments (read only; the ledger is written by the services)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Path, Query, Router

from kehu.accounts.models import User
from kehu.core.schemas import MAX_ID, DatedPageQuery, between_dates, error_responses, page_of
from kehu.customers.selectors import customer_get_visible, related_visible_to
from kehu.receivables.models import Invoice, Payment, PaymentAllocation
from kehu.receivables.schemas import InvoiceListQuery, InvoicePageOut, PaymentPageOut

router = Router(tags=["receivables"])


@router.get(
    "/customers/{customer_id}/invoices",
    response={200: InvoicePageOut, **error_responses(404)},
    summary="A customer's invoices, newest first",
)
def invoices_list(
    request: HttpRequest,
    filters: Query[InvoiceListQuery],
    customer_id: int = Path(..., ge=1, le=MAX_ID),
) -> object:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_get_visible(user=user, customer_id=customer_id)
    invoices = related_visible_to(user, Invoice.objects.filter(customer=customer))
    if filters.is_open is True:
        invoices = invoices.filter(open_amount__gt=0)
    elif filters.is_open is False:
        invoices = invoices.filter(open_amount=0)
    invoices = between_dates(invoices, "issue_date", filters)
    return page_of(invoices.order_by("-issue_date", "-id"), filters)


@router.get(
    "/customers/{customer_id}/payments",
    response={200: PaymentPageOut, **error_responses(404)},
    summary="A customer's payments with their allocations to invoices, newest first",
)
def payments_list(
    request: HttpRequest,
    filters: Query[DatedPageQuery],
    customer_id: int = Path(..., ge=1, le=MAX_ID),
) -> object:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_get_visible(user=user, customer_id=customer_id)
    payments = related_visible_to(user, Payment.objects.filter(customer=customer))
    payments = between_dates(payments, "received_on", filters).prefetch_related(
        Prefetch(
            "allocations",
            queryset=PaymentAllocation.objects.select_related("invoice").order_by(
                "allocated_on", "id"
            ),
        )
    )
    return page_of(payments.order_by("-received_on", "-id"), filters)
