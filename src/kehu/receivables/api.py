"""A customer's invoices and payments (read only; the ledger is written by the services), and
the follow-up: chase list, collection notes, promises to pay, write-off reversal, provision
matrix."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router, Status

from kehu.accounts.models import User
from kehu.core.errors import PermissionDenied, ValidationFailed
from kehu.core.schemas import (
    MAX_ID,
    DatedPageQuery,
    PageQuery,
    between_dates,
    error_responses,
    page_of,
)
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_get_visible, related_visible_to
from kehu.receivables import collections
from kehu.receivables.aging_snapshots import aging_report_for
from kehu.receivables.ecl import provision_matrix
from kehu.receivables.figures import (
    bad_debt_recoveries,
    cash_against_sales_by_month,
    receivables_figures,
)
from kehu.receivables.models import Invoice, Payment, PaymentAllocation, PromiseToPay
from kehu.receivables.schemas import (
    AgingOut,
    AgingQuery,
    ChaseListOut,
    ChaseListQuery,
    CollectionNoteIn,
    CollectionNoteOut,
    CollectionNotePageOut,
    FiguresOut,
    FiguresQuery,
    InvoiceListQuery,
    InvoicePageOut,
    PaymentPageOut,
    PromiseIn,
    PromiseOut,
    PromisePageOut,
    ProvisionMatrixOut,
    ProvisionMatrixQuery,
    WriteOffOut,
    WriteOffReverseIn,
)
from kehu.receivables.services import write_off_reverse

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


# --- Follow-up 催收 ---------------------------------------------------------------------------


@router.get(
    "/receivables/chase-list",
    response={200: ChaseListOut, **error_responses()},
    summary="Today's chase list: overdue customers the user sees, broken promises first",
)
def chase_list_read(request: HttpRequest, filters: Query[ChaseListQuery]) -> object:
    user: User = request.user  # type: ignore[assignment]
    today = timezone.localdate()
    rows = collections.chase_list(
        user=user, today=today, person_id=filters.person_id, level_id=filters.level_id
    )
    return {
        "date": today,
        "count": len(rows),
        "items": [
            {
                "customer_id": row.customer.pk,
                "customer_code": row.customer.code,
                "customer_name": row.customer.name,
                "owner_id": row.customer.owner_id,
                "level_id": row.level.pk,
                "level_name": row.level.name,
                "action": row.action,
                "overdue_amount": row.overdue_amount,
                "oldest_days_past_due": row.oldest_days_past_due,
                "has_broken_promise": row.has_broken_promise,
                "invoices": [
                    {
                        "invoice_id": item.invoice.pk,
                        "number": item.invoice.number,
                        "due_date": item.invoice.due_date,
                        "days_past_due": item.days_past_due,
                        "open_amount": item.invoice.open_amount,
                        "level_id": item.level.pk,
                        "action": item.level.action,
                    }
                    for item in row.invoices
                ],
            }
            for row in rows
        ],
    }


def _invoice_of_customer(customer: Customer, invoice_id: int | None) -> Invoice | None:
    if invoice_id is None:
        return None
    invoice = Invoice.objects.filter(pk=invoice_id, customer=customer).first()
    if invoice is None:
        raise ValidationFailed(
            f"invoice {invoice_id} is not an invoice of this customer",
            detail={"field": "invoice_id"},
        )
    return invoice


@router.get(
    "/customers/{customer_id}/collection-notes",
    response={200: CollectionNotePageOut, **error_responses(404)},
    summary="Notes on contacts about money owed, newest first",
)
def collection_notes_list(
    request: HttpRequest, paging: Query[PageQuery], customer_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_get_visible(user=user, customer_id=customer_id)
    return page_of(collections.collection_notes_of(user=user, customer=customer), paging)


@router.post(
    "/customers/{customer_id}/collection-notes",
    response={201: CollectionNoteOut, **error_responses(404)},
    summary="Note a contact about money owed and its outcome",
)
def collection_note_create(
    request: HttpRequest, payload: CollectionNoteIn, customer_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_get_visible(user=user, customer_id=customer_id)
    note = collections.collection_note_add(
        customer=customer,
        actor=user,
        contacted_on=payload.contacted_on,
        channel=payload.channel,
        outcome=payload.outcome,
        text=payload.text,
        invoice=_invoice_of_customer(customer, payload.invoice_id),
    )
    return Status(201, note)


def _promise_out(promise: PromiseToPay, today: dt.date) -> dict[str, object]:
    return {
        "id": promise.pk,
        "customer_id": promise.customer_id,
        "amount": promise.amount,
        "promised_for": promise.promised_for,
        "made_on": promise.made_on,
        "recorded_by_id": promise.recorded_by_id,
        "invoice_ids": sorted(invoice.pk for invoice in promise.invoices.all()),
        "paid": promise.paid,  # type: ignore[attr-defined]
        "state": collections.promise_derived_state(promise, today),
        "note": promise.note,
    }


@router.get(
    "/customers/{customer_id}/promises-to-pay",
    response={200: PromisePageOut, **error_responses(404)},
    summary="Promises to pay with what was paid since and their state, newest first",
)
def promises_list(
    request: HttpRequest, paging: Query[PageQuery], customer_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_get_visible(user=user, customer_id=customer_id)
    today = timezone.localdate()
    page = page_of(collections.promises_of(user=user, customer=customer, today=today), paging)
    page["items"] = [_promise_out(promise, today) for promise in page["items"]]
    return page


@router.post(
    "/customers/{customer_id}/promises-to-pay",
    response={201: PromiseOut, **error_responses(404)},
    summary="Record a promise to pay an amount by a date",
)
def promise_create(
    request: HttpRequest, payload: PromiseIn, customer_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user: User = request.user  # type: ignore[assignment]
    customer = customer_get_visible(user=user, customer_id=customer_id)
    invoices = [_invoice_of_customer(customer, pk) for pk in dict.fromkeys(payload.invoice_ids)]
    promise = collections.promise_to_pay_record(
        customer=customer,
        actor=user,
        amount=payload.amount,
        promised_for=payload.promised_for,
        made_on=payload.made_on,
        invoices=[invoice for invoice in invoices if invoice is not None],
        note=payload.note,
    )
    today = timezone.localdate()
    promise = collections.promises_of(user=user, customer=customer, today=today).get(pk=promise.pk)
    return Status(201, _promise_out(promise, today))


@router.post(
    "/write-offs/{write_off_id}/reverse",
    response={200: WriteOffOut, **error_responses(403, 404, 409)},
    summary="Reverse a write-off when the money comes back (finance); never twice",
)
def write_off_reverse_endpoint(
    request: HttpRequest, payload: WriteOffReverseIn, write_off_id: int = Path(..., ge=1, le=MAX_ID)
) -> object:
    user: User = request.user  # type: ignore[assignment]
    write_off = collections.write_off_get_visible(user=user, write_off_id=write_off_id)
    return write_off_reverse(write_off=write_off, actor=user, reason=payload.reason, on=payload.on)


@router.get(
    "/receivables/provision-matrix",
    response={200: ProvisionMatrixOut, **error_responses(403)},
    summary="Expected credit loss: the provision matrix with its rates and history (finance)",
)
def provision_matrix_read(request: HttpRequest, filters: Query[ProvisionMatrixQuery]) -> object:
    user: User = request.user  # type: ignore[assignment]
    if not user.sees_all:
        raise PermissionDenied("the provision matrix is for finance and management")
    today = timezone.localdate()
    as_of = filters.as_of or today
    if as_of > today:
        raise ValidationFailed(f"as_of {as_of} is in the future", detail={"field": "as_of"})
    matrix = provision_matrix(as_of=as_of, months=filters.months, forward_factor=filters.factor)
    return {
        "as_of": matrix.as_of,
        "lookback_months": matrix.lookback_months,
        "forward_factor": matrix.forward_factor,
        "total_balance": matrix.total_balance,
        "total_provision": matrix.total_provision,
        "buckets": [
            {
                "label": row["bucket"].label,  # type: ignore[attr-defined]
                "low": row["bucket"].low,  # type: ignore[attr-defined]
                "high": row["bucket"].high,  # type: ignore[attr-defined]
                "opening": row["flow"].opening,  # type: ignore[attr-defined]
                "stayed": row["flow"].stayed,  # type: ignore[attr-defined]
                "rolled": row["flow"].rolled,  # type: ignore[attr-defined]
                "written_off": row["flow"].written_off,  # type: ignore[attr-defined]
                "collected": row["flow"].collected,  # type: ignore[attr-defined]
                "roll_rate": row["roll_rate"],
                "write_off_rate": row["write_off_rate"],
                "loss_rate": row["loss_rate"],
                "adjusted_rate": row["adjusted_rate"],
                "balance": row["balance"],
                "provision": row["provision"],
            }
            for row in matrix.rows()
        ],
        "history": [
            {"month_end": day, "balances": balances}
            for day, balances in zip(matrix.month_ends, matrix.history, strict=True)
        ],
        "customers": [
            {"customer_id": row.customer_id, "balance": row.balance, "provision": row.provision}
            for row in matrix.customers[:100]
        ],
    }


@router.get(
    "/receivables/aging",
    response={200: AgingOut, **error_responses()},
    summary="Aging of the visible receivables as of a date, by bucket and group",
)
def aging_get(request: HttpRequest, filters: Query[AgingQuery]) -> object:
    user: User = request.user  # type: ignore[assignment]
    as_of = filters.as_of or timezone.localdate()
    report = aging_report_for(user=user, as_of=as_of, group_by=filters.group_by)
    return {
        "as_of": report.as_of,
        "group_by": report.group_by,
        "buckets": [
            {"key": b.key, "label": b.label, "days_from": b.low, "days_to": b.high}
            for b in report.buckets
        ],
        "rows": [
            {
                "key": None if row.key is None else str(row.key),
                "label": row.label,
                "amounts": row.amounts,
                "total": row.total,
                "invoice_count": row.invoice_count,
            }
            for row in report.rows
        ],
        "totals": report.totals,
        "total": report.total,
        "overdue": report.overdue,
        "invoice_count": report.invoice_count,
    }


@router.get(
    "/receivables/figures",
    response={200: FiguresOut, **error_responses()},
    summary="DSO, collection effectiveness, share of assets, cash against sales, bad debts",
)
def figures_get(request: HttpRequest, filters: Query[FiguresQuery]) -> object:
    user: User = request.user  # type: ignore[assignment]
    date_to = filters.date_to or timezone.localdate()
    date_from = filters.date_from or date_to - dt.timedelta(days=364)
    figures = receivables_figures(user=user, date_from=date_from, date_to=date_to)
    months = cash_against_sales_by_month(user=user, date_from=date_from, date_to=date_to)
    debts = bad_debt_recoveries(user=user, date_from=date_from, date_to=date_to)
    return {
        **asdict(figures),
        "cash_against_sales": [asdict(month) for month in months],
        "bad_debts": [
            {
                "write_off_id": debt.write_off.pk,
                "invoice_number": debt.write_off.invoice.number,
                "customer_id": debt.write_off.invoice.customer_id,
                "written_off_on": debt.write_off.written_off_on,
                "amount": debt.write_off.amount,
                "sales_needed": debt.sales_needed,
            }
            for debt in debts
        ],
    }
