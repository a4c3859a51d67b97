"""Pages of the follow-up 催收: the chase list, a customer's collection panel, vanished
debtors, write-offs (with their reversal) and the provision matrix of expected credit loss.

Links are reversed in the namespace the module is mounted under (`ns`), so that it works both
on its own and included inside the receivables URLs."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import xlsxwriter
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.accounts.models import User
from kehu.accounts.selectors import users_visible_to
from kehu.core.errors import KehuError, NotFound
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_get_visible, customers_visible_to
from kehu.receivables import collections as selectors
from kehu.receivables.ecl import DEFAULT_LOOKBACK_MONTHS, ProvisionMatrix, provision_matrix
from kehu.receivables.models import (
    ContactChannel,
    ContactOutcome,
    DunningAction,
    Invoice,
    PromiseState,
)
from kehu.receivables.services import may_reverse_write_offs, write_off_reverse

TAB_PAGE_SIZE = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOP_CUSTOMERS = 50
MAX_LOOKBACK_MONTHS = 60


def _page_size() -> int:
    return int(str(settings.KEHU["PAGE_SIZE"]))


def _ns(request: HttpRequest) -> str:
    match = request.resolver_match
    return match.namespace if match is not None else "collections"


def _url(request: HttpRequest, name: str, *args: object) -> str:
    return reverse(f"{_ns(request)}:{name}", args=args)


def _positive_int(raw: str | None) -> int | None:
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if value > 0 else None


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw or "")
    except ValueError:
        return None


def _sort(query: QueryDict, allowed: Iterable[str], default: str) -> str:
    sort = query.get("sort", default)
    return sort if sort.lstrip("-") in set(allowed) else default


def _is_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.history_restore_request and htmx.target == target


def _render_list(
    request: HttpRequest, *, template: str, partial: str, target: str, context: dict[str, Any]
) -> HttpResponse:
    context = {"ns": _ns(request), "target": target, **context}
    if _is_partial(request, target):
        response = render(request, partial, {**context, "is_partial": True})
    else:
        response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _xlsx(
    *,
    filename: str,
    sheet: str,
    columns: Sequence[tuple[str, int]],
    rows: Iterable[Sequence[object]],
) -> FileResponse:
    """A one-sheet workbook: dates as dates, Decimals as money, the rest as text."""
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF0F4", "bottom": 1})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    money_format = workbook.add_format({"num_format": "#,##0.00"})
    for column, (title, width) in enumerate(columns):
        worksheet.set_column(column, column, width)
        worksheet.write_string(0, column, title, bold)
    worksheet.freeze_panes(1, 0)
    row_number = 0
    for row in rows:
        row_number += 1
        for column, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, dt.date):
                worksheet.write_datetime(row_number, column, value, date_format)
            elif isinstance(value, Decimal):
                worksheet.write_number(row_number, column, value, money_format)
            elif isinstance(value, int | float):
                worksheet.write_number(row_number, column, value)
            else:
                worksheet.write_string(row_number, column, str(value))
    worksheet.autofilter(0, 0, max(row_number, 1), len(columns) - 1)
    workbook.close()
    output.seek(0)
    return FileResponse(output, as_attachment=True, filename=filename, content_type=XLSX)


def _people(user: User) -> list[User]:
    return list(users_visible_to(user).order_by("display_name", "username"))


# --- The chase list 催收清单 -----------------------------------------------------------------


def _chase_filters(request: HttpRequest) -> dict[str, Any]:
    user = _user(request)
    person = request.GET.get("person", "")
    if person == "me":
        person_id: int | None = user.pk
    else:
        person_id = _positive_int(person)
    return {
        "person": person,
        "person_id": person_id,
        "level_id": _positive_int(request.GET.get("level")),
        "sort": _sort(request.GET, selectors.CHASE_SORTS, "priority"),
    }


@require_GET
def chase_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    today = timezone.localdate()
    filters = _chase_filters(request)
    rows = selectors.chase_list(
        user=user,
        today=today,
        person_id=filters["person_id"],
        level_id=filters["level_id"],
        sort=filters["sort"],
    )
    page = Paginator(rows, _page_size()).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "is_filtered": bool(filters["person"] or filters["level_id"]),
        "page": page,
        "rows": page.object_list,
        "today": today,
        "levels": selectors.dunning_levels(),
        "people": _people(user),
        "actions": dict(DunningAction.choices),
    }
    return _render_list(
        request,
        template="receivables/collections/chase_list.html",
        partial="receivables/collections/partials/chase_results.html",
        target="chase-results",
        context=context,
    )


@require_GET
def chase_export(request: HttpRequest) -> FileResponse:
    user = _user(request)
    today = timezone.localdate()
    filters = _chase_filters(request)
    rows = selectors.chase_list(
        user=user,
        today=today,
        person_id=filters["person_id"],
        level_id=filters["level_id"],
        sort=filters["sort"],
    )
    actions = dict(DunningAction.choices)

    def lines() -> Iterable[Sequence[object]]:
        for row in rows:
            for item in row.invoices:
                yield (
                    row.customer.code,
                    row.customer.name,
                    str(row.owner),
                    item.invoice.number,
                    item.invoice.due_date,
                    item.days_past_due,
                    item.invoice.open_amount,
                    item.level.name,
                    str(actions.get(item.level.action, item.level.action)),
                    _("yes") if row.has_broken_promise else "",
                )

    return _xlsx(
        filename=f"chase-list-{today.isoformat()}.xlsx",
        sheet=_("Chase list"),
        columns=[
            (_("Customer code"), 14),
            (_("Customer"), 30),
            (_("Owner rep"), 14),
            (_("Invoice"), 16),
            (_("Due date"), 12),
            (_("Days past due"), 10),
            (_("Open amount"), 16),
            (_("Dunning level"), 14),
            (_("Action"), 16),
            (_("Broken promise"), 10),
        ],
        rows=lines(),
    )


# --- A customer's collection panel ----------------------------------------------------------


class CollectionNoteForm(forms.Form):
    contacted_on = forms.DateField(label=gettext_lazy("Contacted on"))
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=ContactChannel.choices)
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), choices=ContactOutcome.choices)
    invoice = forms.ModelChoiceField(
        label=gettext_lazy("Invoice"), queryset=Invoice.objects.none(), required=False
    )
    text = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=selectors.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PromiseForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("Promised amount"), max_digits=18, decimal_places=2, min_value=0.01
    )
    promised_for = forms.DateField(label=gettext_lazy("Promised date"))
    made_on = forms.DateField(label=gettext_lazy("Made on"))
    invoices = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Invoices"), queryset=Invoice.objects.none(), required=False
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=255)


def _open_invoices(customer: Customer) -> Any:
    return Invoice.objects.filter(
        customer=customer, is_cancelled=False, open_amount__gt=0
    ).order_by("due_date", "number")


def _forms_for(
    customer: Customer, today: dt.date, data: QueryDict | None = None, which: str = ""
) -> tuple[CollectionNoteForm, PromiseForm]:
    note_form = CollectionNoteForm(
        data if which == "note" else None, initial={"contacted_on": today}, prefix="note"
    )
    promise_form = PromiseForm(
        data if which == "promise" else None, initial={"made_on": today}, prefix="promise"
    )
    invoices = _open_invoices(customer)
    note_form.fields["invoice"].queryset = invoices  # type: ignore[attr-defined]
    promise_form.fields["invoices"].queryset = invoices  # type: ignore[attr-defined]
    return note_form, promise_form


def _attach_error(form: forms.Form, error: KehuError) -> None:
    """Put a service's refusal on the field it names, or on the form."""
    field_name = (error.detail or {}).get("field") if isinstance(error.detail, dict) else None
    aliases = {"invoice_id": "invoice", "invoice_ids": "invoices"}
    field_name = aliases.get(str(field_name), field_name)
    form.add_error(field_name if field_name in form.fields else None, error.message)


@require_http_methods(["GET", "POST"])
def customer_panel(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    try:
        customer = customer_get_visible(user=user, customer_id=customer_id)
    except NotFound as error:
        raise Http404(error.message) from error
    today = timezone.localdate()
    which = request.POST.get("form", "") if request.method == "POST" else ""
    note_form, promise_form = _forms_for(customer, today, request.POST or None, which)
    status = 200
    if request.method == "POST":
        form = note_form if which == "note" else promise_form if which == "promise" else None
        if form is None:
            return HttpResponse(status=400)
        if form.is_valid():
            try:
                if which == "note":
                    selectors.collection_note_add(
                        customer=customer,
                        actor=user,
                        contacted_on=form.cleaned_data["contacted_on"],
                        channel=form.cleaned_data["channel"],
                        outcome=form.cleaned_data["outcome"],
                        text=form.cleaned_data["text"],
                        invoice=form.cleaned_data["invoice"],
                    )
                    messages.success(request, _("The note is saved."))
                else:
                    selectors.promise_to_pay_record(
                        customer=customer,
                        actor=user,
                        amount=form.cleaned_data["amount"],
                        promised_for=form.cleaned_data["promised_for"],
                        made_on=form.cleaned_data["made_on"],
                        invoices=form.cleaned_data["invoices"],
                        note=form.cleaned_data["note"],
                    )
                    messages.success(request, _("The promise to pay is saved."))
                return redirect(_url(request, "customer", customer.pk))
            except KehuError as error:
                _attach_error(form, error)
        status = 422
    promises = selectors.promises_of(user=user, customer=customer, today=today)
    promise_rows = [
        (promise, selectors.promise_derived_state(promise, today))
        for promise in promises[: TAB_PAGE_SIZE * 5]
    ]
    notes = Paginator(
        selectors.collection_notes_of(user=user, customer=customer), TAB_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    levels = selectors.dunning_levels()
    overdue = [
        (invoice, days, selectors.dunning_level_for(days, levels))
        for invoice in _open_invoices(customer)
        if (days := selectors.invoice_days_past_due(invoice, today)) > 0
    ]
    context = {
        "ns": _ns(request),
        "customer": customer,
        "today": today,
        "note_form": note_form,
        "promise_form": promise_form,
        "notes": notes,
        "promise_rows": promise_rows,
        "overdue": overdue,
        "states": dict(PromiseState.choices),
        "actions": dict(DunningAction.choices),
    }
    return render(request, "receivables/collections/customer.html", context, status=status)


# --- Vanished debtors 失联客户 --------------------------------------------------------------


def _vanished(request: HttpRequest) -> tuple[dict[str, Any], Any]:
    user = _user(request)
    days = _positive_int(request.GET.get("days"))
    filters = {
        "days": days,
        "person_id": _positive_int(request.GET.get("person")),
        "sort": _sort(request.GET, selectors.VANISHED_SORTS, "-balance"),
    }
    customers = selectors.vanished_debtors(
        user=user,
        today=timezone.localdate(),
        after_days=days,
        person_id=filters["person_id"],
        sort=filters["sort"],
    )
    return filters, customers


@require_GET
def vanished_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    today = timezone.localdate()
    filters, customers = _vanished(request)
    page = Paginator(customers, _page_size()).get_page(request.GET.get("page"))
    rows = [
        (customer, selectors.last_contact_on(customer), selectors.silent_since(customer))
        for customer in page.object_list
    ]
    rows = [
        (customer, contact, since, (today - since).days if since else None)
        for customer, contact, since in rows
    ]
    context = {
        "filters": filters,
        "is_filtered": bool(filters["days"] or filters["person_id"]),
        "default_days": selectors.vanished_after_days(),
        "page": page,
        "rows": rows,
        "people": _people(user),
    }
    return _render_list(
        request,
        template="receivables/collections/vanished.html",
        partial="receivables/collections/partials/vanished_results.html",
        target="vanished-results",
        context=context,
    )


@require_GET
def vanished_export(request: HttpRequest) -> FileResponse:
    today = timezone.localdate()
    _filters, customers = _vanished(request)
    return _xlsx(
        filename=f"vanished-debtors-{today.isoformat()}.xlsx",
        sheet=_("Vanished debtors"),
        columns=[
            (_("Customer code"), 14),
            (_("Customer"), 30),
            (_("Owner rep"), 14),
            (_("Balance"), 16),
            (_("Last payment"), 12),
            (_("Last successful contact"), 12),
            (_("Silent since"), 12),
        ],
        rows=(
            (
                customer.code,
                customer.name,
                str(customer.owner),
                customer.balance,
                customer.last_payment_on,
                selectors.last_contact_on(customer),
                selectors.silent_since(customer),
            )
            for customer in customers.iterator(chunk_size=2000)
        ),
    )


# --- Write-offs 坏账核销 --------------------------------------------------------------------


def _write_offs(request: HttpRequest) -> tuple[dict[str, Any], Any]:
    state = request.GET.get("state", "")
    filters = {
        "state": state if state in {"live", "reversed"} else "",
        "person_id": _positive_int(request.GET.get("person")),
        "date_from": _date(request.GET.get("date_from")),
        "date_to": _date(request.GET.get("date_to")),
        "sort": _sort(request.GET, selectors.WRITE_OFF_SORTS, "-date"),
    }
    return filters, selectors.write_offs_visible_to(user=_user(request), **filters)


@require_GET
def write_off_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filters, write_offs = _write_offs(request)
    page = Paginator(write_offs, _page_size()).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "is_filtered": any(value for key, value in filters.items() if key != "sort"),
        "page": page,
        "rows": page.object_list,
        "people": _people(user),
        "may_reverse": may_reverse_write_offs(user),
        "today": timezone.localdate(),
    }
    return _render_list(
        request,
        template="receivables/collections/write_offs.html",
        partial="receivables/collections/partials/write_off_results.html",
        target="write-off-results",
        context=context,
    )


@require_GET
def write_off_export(request: HttpRequest) -> FileResponse:
    _filters, write_offs = _write_offs(request)
    return _xlsx(
        filename=f"write-offs-{timezone.localdate().isoformat()}.xlsx",
        sheet=_("Write-offs"),
        columns=[
            (_("Written off on"), 12),
            (_("Customer code"), 14),
            (_("Customer"), 30),
            (_("Invoice"), 16),
            (_("Amount"), 16),
            (_("Reason"), 30),
            (_("Decided by"), 14),
            (_("Credit given by"), 14),
            (_("Credit approved by"), 14),
            (_("Reversed on"), 12),
        ],
        rows=(
            (
                write_off.written_off_on,
                write_off.invoice.customer.code,
                write_off.invoice.customer.name,
                write_off.invoice.number,
                write_off.amount,
                write_off.reason,
                str(write_off.decided_by or ""),
                str(write_off.credit_given_by or ""),
                str(write_off.credit_approved_by or ""),
                write_off.reversed_on,
            )
            for write_off in write_offs.iterator(chunk_size=2000)
        ),
    )


@require_POST
def write_off_reverse_view(request: HttpRequest, write_off_id: int) -> HttpResponse:
    user = _user(request)
    try:
        write_off = selectors.write_off_get_visible(user=user, write_off_id=write_off_id)
    except NotFound as error:
        raise Http404(error.message) from error
    if not may_reverse_write_offs(user):
        raise DjangoPermissionDenied(_("Only finance may reverse a write-off."))
    try:
        write_off_reverse(
            write_off=write_off,
            actor=user,
            reason=request.POST.get("reason", ""),
            on=_date(request.POST.get("on")),
        )
    except KehuError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The write-off of %(amount)s on %(invoice)s is reversed.")
            % {"amount": write_off.amount, "invoice": write_off.invoice.number},
        )
    return redirect(_url(request, "write_offs"))


# --- The provision matrix 预期信用损失 -------------------------------------------------------


def may_read_provisions(user: User) -> bool:
    """The matrix is company-wide (its rates come from every customer's history)."""
    return bool(user.sees_all)


def _matrix(request: HttpRequest) -> tuple[dict[str, Any], ProvisionMatrix]:
    if not may_read_provisions(_user(request)):
        raise DjangoPermissionDenied(_("The provision matrix is for finance and management."))
    months = _positive_int(request.GET.get("months")) or DEFAULT_LOOKBACK_MONTHS
    months = min(months, MAX_LOOKBACK_MONTHS)
    try:
        factor = Decimal(request.GET.get("factor") or "1")
    except InvalidOperation:
        factor = Decimal(1)
    if not factor.is_finite() or factor < 0 or factor > 10:
        factor = Decimal(1)
    as_of = _date(request.GET.get("as_of"))
    today = timezone.localdate()
    if as_of is None or as_of > today:
        as_of = today
    filters = {"months": months, "factor": factor, "as_of": as_of}
    return filters, provision_matrix(as_of=as_of, months=months, forward_factor=factor)


@require_GET
def provision_page(request: HttpRequest) -> HttpResponse:
    filters, matrix = _matrix(request)
    top = matrix.customers[:TOP_CUSTOMERS]
    names = customers_visible_to(_user(request)).in_bulk([row.customer_id for row in top])
    context = {
        "ns": _ns(request),
        "filters": filters,
        "matrix": matrix,
        "rows": matrix.rows(),
        "history": list(zip(matrix.month_ends, matrix.history, strict=True)),
        "top": [(names.get(row.customer_id), row) for row in top],
    }
    return render(request, "receivables/collections/provision.html", context)


@require_GET
def provision_export(request: HttpRequest) -> FileResponse:
    filters, matrix = _matrix(request)
    rows: list[Sequence[object]] = [
        (
            row["bucket"].label,
            row["flow"].opening,
            row["flow"].stayed,
            row["flow"].rolled,
            row["flow"].written_off,
            row["flow"].collected,
            f"{row['roll_rate']:.6f}",
            f"{row['loss_rate']:.6f}",
            f"{row['adjusted_rate']:.6f}",
            row["balance"],
            row["provision"],
        )
        for row in matrix.rows()
    ]
    return _xlsx(
        filename=f"provision-matrix-{filters['as_of'].isoformat()}.xlsx",
        sheet=_("Provision matrix"),
        columns=[
            (_("Bucket"), 14),
            (_("Opening balances"), 16),
            (_("Stayed"), 16),
            (_("Rolled on"), 16),
            (_("Written off"), 16),
            (_("Collected"), 16),
            (_("Roll rate"), 12),
            (_("Loss rate"), 12),
            (_("Adjusted loss rate"), 12),
            (_("Balance"), 16),
            (_("Provision"), 16),
        ],
        rows=rows,
    )
