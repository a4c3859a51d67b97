"""Credit pages: accountability for bad debts 坏账责任 (§5.4) — the report per person and period
with its chart and export — and the downloads of the printed forms (the survey, the rating
score sheet, the line application as PDF and .xlsx). `urlpatterns` is included by
credit/urls.py.

Access: every signed-in user opens the report; it shows what the selector allows (finance, top
management and administrators everything, a manager their subtree, a rep the rows in which
they bear a share). A form is downloaded only when the user sees its customer, else 404.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from typing import Any

import xlsxwriter
from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kehu.accounts.models import User
from kehu.accounts.selectors import users_visible_to
from kehu.core.errors import NotFound, ValidationFailed
from kehu.credit import forms_print
from kehu.credit.selectors.accountability import (
    PERSON_SORTS,
    AccountabilityReport,
    bad_debt_accountability,
    sort_people,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DETAIL_ROWS_SHOWN = 500
CHART_PEOPLE = 30


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _page_size() -> int:
    return int(str(settings.KEHU["PAGE_SIZE"]))


def _is_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.history_restore_request and htmx.target == target


def _filters(request: HttpRequest) -> dict[str, Any]:
    """The period (default: this year to date), the person, the search and the sort; a date
    that is not one raises ValidationFailed naming the field."""
    today = timezone.localdate()
    dates = {}
    for name, default in (("date_from", dt.date(today.year, 1, 1)), ("date_to", today)):
        raw = request.GET.get(name, "").strip()
        try:
            dates[name] = dt.date.fromisoformat(raw) if raw else default
        except ValueError as error:
            raise ValidationFailed(
                _("%(value)s is not a date (YYYY-MM-DD)") % {"value": raw[:40]},
                detail={"field": name, "value": raw[:40]},
            ) from error
    raw_person = request.GET.get("person", "").strip()
    person_id = int(raw_person) if raw_person.isdigit() and len(raw_person) < 19 else None
    sort = request.GET.get("sort", "-borne")
    if sort.lstrip("-") not in PERSON_SORTS:
        sort = "-borne"
    return {
        **dates,
        "person_id": person_id,
        "search": request.GET.get("q", "").strip()[:100],
        "sort": sort,
    }


def _report(user: User, filters: dict[str, Any]) -> AccountabilityReport:
    return bad_debt_accountability(
        user=user,
        date_from=filters["date_from"],
        date_to=filters["date_to"],
        person=filters["person_id"],
        search=filters["search"],
    )


def _chart(report: AccountabilityReport) -> dict[str, Any]:
    people = report.people[:CHART_PEOPLE]  # by amount borne, largest first
    return {
        "names": [total.name for total in people],
        "borne": [float(total.borne) for total in people],
        "amount": [float(total.amount) for total in people],
        "labels": {"borne": _("Amount borne"), "amount": _("Write-offs shared")},
    }


@require_GET
def accountability_page(request: HttpRequest) -> HttpResponse:
    """/credit/accountability/: who pays for the bad debts of a period (§5.4)."""
    user = _user(request)
    context: dict[str, Any] = {"error": "", "may_filter_people": user.sees_all or user.is_manager}
    status = 200
    try:
        filters = _filters(request)
        report = _report(user, filters)
    except ValidationFailed as error:
        today = timezone.localdate()
        filters = {
            "date_from": request.GET.get("date_from", "") or dt.date(today.year, 1, 1),
            "date_to": request.GET.get("date_to", "") or today,
            "person_id": None,
            "search": request.GET.get("q", "")[:100],
            "sort": "-borne",
        }
        context["error"] = error.message
        status = 422
        report = None
    context["filters"] = filters
    if context["may_filter_people"]:
        context["people_choices"] = list(
            users_visible_to(user).filter(is_active=True).order_by("display_name", "username")
        )
    if report is not None:
        people = sort_people(report.people, filters["sort"])
        page = Paginator(people, _page_size()).get_page(request.GET.get("page"))
        context.update(
            report=report,
            page=page,
            people=page.object_list,
            detail_rows=report.rows[:DETAIL_ROWS_SHOWN],
            is_detail_capped=len(report.rows) > DETAIL_ROWS_SHOWN,
            chart_accountability=_chart(report),
            is_filtered=bool(filters["person_id"] or filters["search"]),
        )
    if _is_partial(request, "accountability-results"):
        response = render(
            request,
            "credit/accountability_results.html",
            {**context, "is_partial": True},
            status=status,
        )
    else:
        response = render(request, "credit/accountability.html", context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@require_GET
def accountability_export(request: HttpRequest) -> HttpResponseBase:
    """The report as .xlsx: a sheet per person and a sheet per write-off."""
    user = _user(request)
    try:
        filters = _filters(request)
        report = _report(user, filters)
    except ValidationFailed as error:
        return HttpResponse(error.message, status=422, content_type="text/plain; charset=utf-8")
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    header = workbook.add_format({"bold": True, "bg_color": "#EEF0F4", "bottom": 1})
    money = workbook.add_format({"num_format": "#,##0.00"})
    share = workbook.add_format({"num_format": "0.00%"})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})

    people = workbook.add_worksheet(_("People"))
    titles = [_("Person"), _("Write-offs"), _("Amount"), _("Amount borne"), _("Share borne")]
    people.set_column(0, 0, 24)
    people.set_column(1, 4, 16)
    for column, title in enumerate(titles):
        people.write_string(0, column, str(title), header)
    for line, total in enumerate(sort_people(report.people, filters["sort"]), start=1):
        people.write_string(line, 0, total.name)
        people.write_number(line, 1, total.write_off_count)
        people.write_number(line, 2, float(total.amount), money)
        people.write_number(line, 3, float(total.borne), money)
        if total.share_of_amount is not None:
            people.write_number(line, 4, float(total.share_of_amount), share)

    rows = workbook.add_worksheet(_("Write-offs"))
    titles = [
        _("Written off on"),
        _("Customer code"),
        _("Customer"),
        _("Invoice"),
        _("Issue date"),
        _("Amount"),
        _("Approved"),
        _("Basis"),
        _("Credit given by"),
        _("Giver's share"),
        _("Giver's amount"),
        _("Approved by"),
        _("Approver's share"),
        _("Approver's amount"),
        _("Company's amount"),
    ]
    rows.set_column(0, len(titles) - 1, 15)
    rows.set_column(2, 2, 30)
    rows.set_column(7, 7, 40)
    for column, title in enumerate(titles):
        rows.write_string(0, column, str(title), header)
    for line, row in enumerate(report.rows, start=1):
        write_off = row.write_off
        invoice = write_off.invoice
        rows.write_datetime(line, 0, dt.datetime.combine(write_off.written_off_on, dt.time()), date)
        rows.write_string(line, 1, invoice.customer.code)
        rows.write_string(line, 2, invoice.customer.name)
        rows.write_string(line, 3, invoice.number)
        rows.write_datetime(line, 4, dt.datetime.combine(invoice.issue_date, dt.time()), date)
        rows.write_number(line, 5, float(row.amount), money)
        rows.write_string(line, 6, _("yes") if row.is_approved else _("no"))
        rows.write_string(line, 7, row.basis_label)
        rows.write_string(line, 8, str(row.giver or ""))
        rows.write_number(line, 9, float(row.giver_share), share)
        rows.write_number(line, 10, float(row.giver_amount), money)
        rows.write_string(line, 11, str(row.approver or ""))
        rows.write_number(line, 12, float(row.approver_share), share)
        rows.write_number(line, 13, float(row.approver_amount), money)
        rows.write_number(line, 14, float(row.company_amount), money)
    rows.freeze_panes(1, 0)
    workbook.close()
    output.seek(0)
    stem = f"accountability-{filters['date_from'].isoformat()}-{filters['date_to'].isoformat()}"
    return FileResponse(output, as_attachment=True, filename=f"{stem}.xlsx", content_type=XLSX)


# --- The printed forms ---------------------------------------------------------------------------


def _form_download(
    read: Callable[[User, int], Any],
    build: Callable[[Any], bytes],
    stem: Callable[[Any], str],
    kind: str,
) -> Callable[[HttpRequest, int], HttpResponse]:
    """A download view: the record if the user sees its customer (else 404), built as `kind`."""

    @require_GET
    def view(request: HttpRequest, record_id: int) -> HttpResponse:
        try:
            record = read(_user(request), record_id)
        except NotFound as error:
            raise Http404(error.message) from error
        content_type = "application/pdf" if kind == "pdf" else XLSX
        response = HttpResponse(build(record), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{stem(record)}.{kind}"'
        return response

    return view


def _survey(user: User, record_id: int) -> Any:
    return forms_print.survey_for_print(user=user, survey_id=record_id)


def _rating(user: User, record_id: int) -> Any:
    return forms_print.rating_for_print(user=user, rating_id=record_id)


def _application(user: User, record_id: int) -> Any:
    return forms_print.application_for_print(user=user, application_id=record_id)


def _survey_stem(survey: Any) -> str:
    return f"survey-{survey.customer.code}-{survey.surveyed_on.isoformat()}"


def _rating_stem(rating: Any) -> str:
    return f"rating-{rating.customer.code}-{rating.rated_on.isoformat()}"


def _application_stem(application: Any) -> str:
    return f"application-{application.pk}"


survey_pdf = _form_download(_survey, forms_print.survey_pdf, _survey_stem, "pdf")
survey_xlsx = _form_download(_survey, forms_print.survey_xlsx, _survey_stem, "xlsx")
rating_pdf = _form_download(_rating, forms_print.rating_sheet_pdf, _rating_stem, "pdf")
rating_xlsx = _form_download(_rating, forms_print.rating_sheet_xlsx, _rating_stem, "xlsx")
application_pdf = _form_download(
    _application, forms_print.application_pdf, _application_stem, "pdf"
)
application_xlsx = _form_download(
    _application, forms_print.application_xlsx, _application_stem, "xlsx"
)

urlpatterns: list[URLPattern] = [
    path("accountability/", accountability_page, name="accountability"),
    path("accountability/export.xlsx", accountability_export, name="accountability_export"),
    path("surveys/<int:record_id>.pdf", survey_pdf, name="survey_pdf"),
    path("surveys/<int:record_id>.xlsx", survey_xlsx, name="survey_xlsx"),
    path("ratings/<int:record_id>.pdf", rating_pdf, name="rating_pdf"),
    path("ratings/<int:record_id>.xlsx", rating_xlsx, name="rating_xlsx"),
    path("applications/<int:record_id>.pdf", application_pdf, name="application_pdf"),
    path("applications/<int:record_id>.xlsx", application_xlsx, name="application_xlsx"),
]
