"""Credit pages: the credit hold queue 信用冻结订单 (who, what, why, since when) where an approver
releases or rejects held orders with a reason, its .xlsx export, and the exposure panel of the
customer card. `urlpatterns` is included by credit/urls.py."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.accounts.models import User
from kehu.accounts.selectors import users_visible_to
from kehu.core.errors import KehuError, NotFound
from kehu.credit.events import refusals_logged
from kehu.credit.models import CreditCheck, HoldReason
from kehu.credit.selectors.holds import (
    DEFAULT_HOLD_SORT,
    HOLD_SORTS,
    authority_covers,
    credit_authority_of,
    credit_checks_of,
    credit_hold_get_visible,
    credit_holds_for,
    credit_position,
    user_decides_holds,
)
from kehu.credit.services.checks import credit_hold_reject, credit_hold_release
from kehu.customers.selectors import customer_get_visible

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TARGET = "hold-results"
LAST_CHECKS = 5
EXPORT_LIMIT = 50_000


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _positive_int(raw: str | None) -> int | None:
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if value > 0 else None


def _filters(request: HttpRequest) -> dict[str, Any]:
    user = _user(request)
    reason = request.GET.get("reason", "")
    person = request.GET.get("owner", "")
    sort = request.GET.get("sort", DEFAULT_HOLD_SORT)
    return {
        "reason": reason if reason in HoldReason.values else "",
        "owner": person,
        "owner_id": user.pk if person == "me" else _positive_int(person),
        "q": request.GET.get("q", "").strip()[:100],
        "sort": sort if sort.lstrip("-") in HOLD_SORTS else DEFAULT_HOLD_SORT,
    }


def _holds(request: HttpRequest, filters: dict[str, Any]):  # type: ignore[no-untyped-def]
    return credit_holds_for(
        user=_user(request),
        reason=filters["reason"],
        owner_id=filters["owner_id"],
        search=filters["q"],
        sort=filters["sort"],
    )


class _Row:
    """A hold as the queue shows it."""

    def __init__(self, hold: CreditCheck, authority: Decimal | None, today: dt.date) -> None:
        labels = dict(HoldReason.choices)
        self.hold = hold
        self.reason_labels = [str(labels.get(reason, reason)) for reason in hold.reasons]
        self.may_release = authority_covers(authority, hold.excess)
        self.waiting_days = (today - timezone.localtime(hold.checked_at).date()).days


def _is_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.history_restore_request and htmx.target == TARGET


@require_GET
def holds(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filters = _filters(request)
    today = timezone.localdate()
    page = Paginator(_holds(request, filters), int(str(settings.KEHU["PAGE_SIZE"]))).get_page(
        request.GET.get("page")
    )
    authority = credit_authority_of(user)
    context = {
        "filters": filters,
        "is_filtered": bool(filters["reason"] or filters["owner"] or filters["q"]),
        "page": page,
        "rows": [_Row(hold, authority, today) for hold in page.object_list],
        "reasons": HoldReason.choices,
        "people": list(users_visible_to(user).order_by("display_name", "username")),
        "authority": authority,
        "decides": user_decides_holds(user),
        "target": TARGET,
        "next_url": request.get_full_path(),
    }
    if _is_partial(request):
        response = render(request, "credit/holds_results.html", {**context, "is_partial": True})
    else:
        response = render(request, "credit/holds_list.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _xlsx(
    *, filename: str, columns: Sequence[tuple[str, int]], rows: Iterable[Sequence[object]]
) -> FileResponse:
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    sheet = workbook.add_worksheet(_("Credit holds")[:31])
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF0F4", "bottom": 1})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    money_format = workbook.add_format({"num_format": "#,##0.00"})
    for column, (title, width) in enumerate(columns):
        sheet.set_column(column, column, width)
        sheet.write_string(0, column, title, bold)
    sheet.freeze_panes(1, 0)
    count = 0
    for count, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, dt.datetime):
                sheet.write_datetime(
                    count, column, timezone.localtime(value).replace(tzinfo=None), date_format
                )
            elif isinstance(value, Decimal):
                sheet.write_number(count, column, value, money_format)
            elif isinstance(value, int):
                sheet.write_number(count, column, value)
            else:
                sheet.write_string(count, column, str(value))
    sheet.autofilter(0, 0, max(count, 1), len(columns) - 1)
    workbook.close()
    output.seek(0)
    return FileResponse(output, as_attachment=True, filename=filename, content_type=XLSX)


@require_GET
def holds_export(request: HttpRequest) -> FileResponse:
    filters = _filters(request)
    today = timezone.localdate()
    labels = dict(HoldReason.choices)
    holds = _holds(request, filters)[:EXPORT_LIMIT]
    columns = [
        (_("Order"), 16),
        (_("Customer code"), 12),
        (_("Customer"), 28),
        (_("Entered by"), 14),
        (_("Order amount"), 14),
        (_("Exposure"), 14),
        (_("Line"), 14),
        (_("Excess"), 14),
        (_("Reasons"), 40),
        (_("Waiting since"), 18),
        (_("Days waiting"), 10),
    ]
    rows = (
        [
            hold.order.number,
            hold.customer.code,
            hold.customer.name,
            str(hold.order.owner) if hold.order.owner else "",
            hold.order_amount,
            hold.exposure,
            hold.line_amount,
            hold.excess,
            "; ".join(str(labels.get(reason, reason)) for reason in hold.reasons),
            hold.checked_at,
            (today - timezone.localtime(hold.checked_at).date()).days,
        ]
        for hold in holds.iterator(chunk_size=2000)
    )
    return _xlsx(filename=f"credit-holds-{today:%Y%m%d}.xlsx", columns=columns, rows=rows)


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("credit:holds")


def _decide(request: HttpRequest, hold_id: int, *, release: bool) -> HttpResponse:
    user = _user(request)
    try:
        hold = credit_hold_get_visible(user=user, hold_id=hold_id)
    except NotFound as error:
        raise Http404(error.message) from error
    reason = request.POST.get("reason", "")
    try:
        if release:
            with refusals_logged(action="hold_release", actor=user, customer=hold.customer):
                credit_hold_release(credit_check=hold, actor=user, reason=reason)
        else:
            with refusals_logged(action="hold_reject", actor=user, customer=hold.customer):
                credit_hold_reject(credit_check=hold, actor=user, reason=reason)
    except KehuError as error:
        messages.error(request, error.message)
    else:
        values = {"order": hold.order.number, "customer": hold.customer.name}
        if release:
            message = _("Order %(order)s of %(customer)s is released.") % values
        else:
            message = _("Order %(order)s of %(customer)s is rejected and cancelled.") % values
        messages.success(request, message)
    return redirect(_back(request))


@require_POST
def hold_release(request: HttpRequest, hold_id: int) -> HttpResponse:
    return _decide(request, hold_id, release=True)


@require_POST
def hold_reject(request: HttpRequest, hold_id: int) -> HttpResponse:
    return _decide(request, hold_id, release=False)


@require_GET
def card_exposure(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The exposure panel of the customer card: exposure against the line, hold reasons and the
    last credit checks."""
    user = _user(request)
    try:
        customer = customer_get_visible(user=user, customer_id=customer_id)
    except NotFound as error:
        raise Http404(error.message) from error
    today = timezone.localdate()
    position = credit_position(customer=customer, today=today)
    limit = position.limit
    used_share = None
    if limit is not None and limit > 0:
        used_share = min(int(position.exposure * 100 / limit), 100)
    elif limit is not None:
        used_share = 100 if position.exposure > 0 else 0
    labels = dict(HoldReason.choices)
    checks = list(credit_checks_of(user=user, customer=customer)[:LAST_CHECKS])
    return render(
        request,
        "credit/card_exposure.html",
        {
            "customer": customer,
            "position": position,
            "used_share": used_share,
            "hold_reasons": [str(labels[reason]) for reason in position.reasons],
            "checks": [
                (check, [str(labels.get(reason, reason)) for reason in check.reasons])
                for check in checks
            ],
            "today": today,
        },
    )


urlpatterns: list[URLPattern] = [
    path("holds/", holds, name="holds"),
    path("holds/export.xlsx", holds_export, name="holds_export"),
    path("holds/<int:hold_id>/release/", hold_release, name="hold_release"),
    path("holds/<int:hold_id>/reject/", hold_reject, name="hold_reject"),
    path("customers/<int:customer_id>/exposure/", card_exposure, name="card_exposure"),
]
