"""Statement of account 对账单 pages: the statement of one customer for a period, as a page,
a PDF and an .xlsx (issue 4 point 7). Thin: parse the period, call the selector, render."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kehu.accounts.models import User
from kehu.core.errors import NotFound, ValidationFailed
from kehu.customers.selectors import customer_get_visible
from kehu.receivables.statements import (
    Statement,
    statement_context,
    statement_for,
    statement_pdf,
    statement_xlsx,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period(request: HttpRequest) -> tuple[str, str, dt.date, dt.date]:
    """(raw start, raw end, start, end) from ?start=&end=; default: this year to date."""
    today = timezone.localdate()
    raw_start = request.GET.get("start", "").strip()
    raw_end = request.GET.get("end", "").strip()
    dates = []
    for raw, default, name, field in (
        (raw_start, dt.date(today.year, 1, 1), _("Start"), "start"),
        (raw_end, today, _("End"), "end"),
    ):
        try:
            dates.append(dt.date.fromisoformat(raw) if raw else default)
        except ValueError as error:
            raise ValidationFailed(
                _("%(name)s %(value)s is not a date (YYYY-MM-DD)") % {"name": name, "value": raw},
                detail={"field": field, "value": raw},
            ) from error
    return raw_start, raw_end, dates[0], dates[1]


def _statement(request: HttpRequest, customer_id: int) -> Statement:
    user: User = request.user  # type: ignore[assignment]
    try:
        _raw_start, _raw_end, start, end = _period(request)
        return statement_for(user=user, customer_id=customer_id, start=start, end=end)
    except NotFound as error:
        raise Http404(error.message) from error


@require_GET
def statement_page(request: HttpRequest, customer_id: int) -> HttpResponse:
    """/receivables/statements/<id>/: the period form and the statement, with downloads."""
    user: User = request.user  # type: ignore[assignment]
    try:
        customer = customer_get_visible(user=user, customer_id=customer_id)
    except NotFound as error:
        raise Http404(error.message) from error
    today = timezone.localdate()
    context: dict[str, object] = {
        "customer": customer,
        "start": request.GET.get("start", "") or dt.date(today.year, 1, 1).isoformat(),
        "end": request.GET.get("end", "") or today.isoformat(),
        "error": "",
    }
    try:
        statement = _statement(request, customer_id)
    except ValidationFailed as error:
        context["error"] = error.message
        return render(request, "receivables/statement.html", context, status=422)
    context.update(statement_context(statement))
    context["query"] = f"start={statement.start.isoformat()}&end={statement.end.isoformat()}"
    return render(request, "receivables/statement.html", context)


def _download(request: HttpRequest, customer_id: int, kind: str) -> HttpResponse:
    try:
        statement = _statement(request, customer_id)
    except ValidationFailed as error:
        return HttpResponse(error.message, status=422, content_type="text/plain; charset=utf-8")
    if kind == "pdf":
        body, content_type = statement_pdf(statement), "application/pdf"
    else:
        body, content_type = statement_xlsx(statement), XLSX
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{statement.filename_stem}.{kind}"'
    return response


@require_GET
def statement_pdf_download(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _download(request, customer_id, "pdf")


@require_GET
def statement_xlsx_download(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _download(request, customer_id, "xlsx")
