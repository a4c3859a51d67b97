"""Receivables pages: the aging 账龄 as of a date, the invoices behind a figure, the figures."""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from dataclasses import dataclass
from typing import Any

import xlsxwriter
from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kehu.accounts.models import User
from kehu.core.errors import ValidationFailed
from kehu.core.money import ZERO
from kehu.receivables import figures as receivables_figures
from kehu.receivables.aging import (
    GROUP_BY_CHOICES,
    INVOICE_SORTS,
    AgingReport,
    aging_buckets,
    aging_group_by_choices,
    open_invoice_lines,
    open_invoices_page,
)
from kehu.receivables.aging_snapshots import aging_report_for

CHART_GROUPS = 12  # the chart shows the largest groups; the table shows them all


def _page_size() -> int:
    return int(str(settings.KEHU["PAGE_SIZE"]))


def _date(raw: str | None, default: dt.date, errors: list[str], name: str) -> dt.date:
    if not raw:
        return default
    try:
        value = dt.date.fromisoformat(raw.strip())
    except ValueError:
        errors.append(
            _("%(name)s %(value)s is not a date (YYYY-MM-DD)") % {"name": name, "value": raw}
        )
        return default
    if value.year < 1900:
        errors.append(_("%(name)s %(value)s is too early") % {"name": name, "value": raw})
        return default
    return value


def _is_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.history_restore_request and htmx.target == target


@dataclass(frozen=True)
class AgingFilters:
    as_of: dt.date
    group_by: str
    sort: str
    errors: tuple[str, ...]

    @classmethod
    def from_query(cls, query: QueryDict, *, today: dt.date, group_keys: set[str]) -> AgingFilters:
        errors: list[str] = []
        as_of = _date(query.get("as_of"), today, errors, _("As of"))
        if as_of > today:
            errors.append(_("%(date)s is in the future: showing today") % {"date": as_of})
            as_of = today
        group_by = query.get("by", "company")
        if group_by not in group_keys:
            group_by = "company"
        sort = query.get("sort", "-total")
        return cls(as_of=as_of, group_by=group_by, sort=sort, errors=tuple(errors))


def _sorted_rows(report: AgingReport, sort: str) -> list[Any]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    rows = list(report.rows)
    if key == "label":
        rows.sort(key=lambda row: row.label, reverse=descending)
    elif key == "count":
        rows.sort(key=lambda row: row.invoice_count, reverse=descending)
    elif key.startswith("b") and key[1:].isdigit() and int(key[1:]) < len(report.buckets):
        index = int(key[1:])
        rows.sort(key=lambda row: row.amounts[index], reverse=descending)
    else:
        rows.sort(key=lambda row: row.total, reverse=descending)
    return rows


def _chart(report: AgingReport) -> dict[str, object]:
    rows = sorted(report.rows, key=lambda row: -row.total)[:CHART_GROUPS]
    return {
        "groups": [row.label for row in rows],
        "series": [
            {"name": bucket.label, "values": [float(row.amounts[bucket.index]) for row in rows]}
            for bucket in report.buckets
        ],
    }


def _report(request: HttpRequest) -> tuple[AgingFilters, AgingReport | None, list[tuple[str, str]]]:
    user: User = request.user  # type: ignore[assignment]
    choices = aging_group_by_choices()
    filters = AgingFilters.from_query(
        request.GET, today=timezone.localdate(), group_keys={key for key, _label in choices}
    )
    try:
        # The company's aging from its snapshot for those who see everything; live otherwise.
        report = aging_report_for(user=user, as_of=filters.as_of, group_by=filters.group_by)
    except ValidationFailed as error:
        filters = AgingFilters(
            as_of=filters.as_of, group_by=filters.group_by, sort=filters.sort,
            errors=(*filters.errors, error.message),
        )  # fmt: skip
        report = None
    return filters, report, choices


@require_GET
def aging_page(request: HttpRequest) -> HttpResponse:
    """/receivables/: the aging as of a date, by bucket, rolled up by the chosen grouping."""
    filters, report, choices = _report(request)
    rows = _sorted_rows(report, filters.sort) if report else []
    page = Paginator(rows, _page_size()).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "report": report,
        "page": page,
        "rows": list(page.object_list),
        "group_by_choices": choices,
        "group_label": dict(choices).get(filters.group_by, ""),
        "chart_aging": _chart(report) if report else None,
        "today": timezone.localdate(),
        "aging_source": report.source if report else "",
    }
    if _is_partial(request, "aging-results"):
        response = render(
            request, "receivables/aging_results.html", {**context, "is_partial": True}
        )
    else:
        response = render(request, "receivables/aging.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_GET
def aging_export(request: HttpRequest) -> HttpResponseBase:
    """The current view of the aging (date, grouping, sort; every row) as .xlsx."""
    filters, report, choices = _report(request)
    if report is None:
        return HttpResponse("; ".join(filters.errors), status=422, content_type="text/plain")
    rows = _sorted_rows(report, filters.sort)
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    sheet = workbook.add_worksheet(_("Aging"))
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF0F4", "bottom": 1})
    money = workbook.add_format({"num_format": "#,##0.00"})
    money_bold = workbook.add_format({"num_format": "#,##0.00", "bold": True, "top": 1})
    header = [
        dict(choices).get(filters.group_by, ""),
        *[bucket.label for bucket in report.buckets],
        _("Total"),
        _("Open invoices"),
    ]
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, len(header), 15)
    for column, title in enumerate(header):
        sheet.write_string(0, column, str(title), bold)
    sheet.freeze_panes(1, 1)
    line = 0
    for line, row in enumerate(rows, start=1):
        sheet.write_string(line, 0, row.label)
        for index, amount in enumerate(row.amounts):
            sheet.write_number(line, 1 + index, float(amount), money)
        sheet.write_number(line, 1 + len(row.amounts), float(row.total), money)
        sheet.write_number(line, 2 + len(row.amounts), row.invoice_count)
    line += 1
    sheet.write_string(line, 0, str(_("Total")), bold)
    for index, amount in enumerate(report.totals):
        sheet.write_number(line, 1 + index, float(amount), money_bold)
    sheet.write_number(line, 1 + len(report.totals), float(report.total), money_bold)
    sheet.write_number(line, 2 + len(report.totals), report.invoice_count, bold)
    workbook.close()
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=f"aging-{filters.group_by}-{filters.as_of.isoformat()}.xlsx",
        content_type=XLSX,
    )


# --- The invoices behind a figure ---------------------------------------------------------------


class _Counted:
    """A sequence of `count` rows for Django's Paginator: the page's rows are read already."""

    def __init__(self, count: int) -> None:
        self._count = count

    def __len__(self) -> int:
        return self._count


@dataclass(frozen=True)
class InvoiceFilters:
    as_of: dt.date
    bucket: str
    group_by: str
    key: str | None
    search: str
    sort: str
    errors: tuple[str, ...]

    @classmethod
    def from_query(cls, query: QueryDict, *, today: dt.date) -> InvoiceFilters:
        errors: list[str] = []
        as_of = min(_date(query.get("as_of"), today, errors, _("As of")), today)
        bucket = query.get("bucket", "")
        if bucket and bucket not in {b.key for b in aging_buckets()}:
            errors.append(_("unknown aging bucket %(bucket)s") % {"bucket": bucket})
            bucket = ""
        group_by = query.get("by", "company")
        key: str | None = query.get("key")
        if query.get("customer"):
            group_by, key = "customer", query.get("customer")
        if group_by not in GROUP_BY_CHOICES:
            group_by, key = "company", None
        sort = query.get("sort", "due_date")
        if sort.lstrip("-") not in INVOICE_SORTS:
            sort = "due_date"
        search = query.get("q", "").strip()[:100]
        return cls(
            as_of=as_of, bucket=bucket, group_by=group_by, key=key, search=search, sort=sort,
            errors=tuple(errors),
        )  # fmt: skip

    def arguments(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of, "bucket": self.bucket, "group_by": self.group_by,
            "group_key": self.key, "search": self.search, "sort": self.sort,
        }  # fmt: skip

    def without_group(self, error: str) -> InvoiceFilters:
        return InvoiceFilters(
            as_of=self.as_of, bucket=self.bucket, group_by="company", key=None,
            search=self.search, sort=self.sort, errors=(*self.errors, error),
        )  # fmt: skip


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


@require_GET
def invoice_list(request: HttpRequest) -> HttpResponseBase:
    """/receivables/invoices/: the open invoices as of a date behind a cell of the aging;
    `?export=xlsx`: all of them as a workbook."""
    user: User = request.user  # type: ignore[assignment]
    filters = InvoiceFilters.from_query(request.GET, today=timezone.localdate())
    if request.GET.get("export") == "xlsx":
        return _invoice_export(user, filters)
    try:
        result = open_invoices_page(
            user=user, **filters.arguments(), page=_page_number(request.GET.get("page")),
            per_page=_page_size(),
        )  # fmt: skip
    except ValidationFailed as error:
        filters = filters.without_group(error.message)
        result = open_invoices_page(
            user=user, **filters.arguments(), page=_page_number(request.GET.get("page")),
            per_page=_page_size(),
        )  # fmt: skip
    # The page's rows come with the statement that counted them: the paginator only numbers.
    paginator: Paginator = Paginator(_Counted(result.count), result.per_page)  # type: ignore[arg-type]
    page = Page(result.invoices, result.number, paginator)
    rows = [
        (invoice, max(0, (filters.as_of - invoice.due_date).days)) for invoice in result.invoices
    ]
    bucket_label = next((b.label for b in aging_buckets() if b.key == filters.bucket), "")
    context = {
        "as_of": filters.as_of,
        "bucket": filters.bucket,
        "bucket_label": bucket_label,
        "group_by": filters.group_by,
        "key": filters.key,
        "search": filters.search,
        "sort": filters.sort,
        "page": page,
        "rows": rows,
        "open_total": result.open_total,
        "errors": list(filters.errors),
    }
    if _is_partial(request, "invoice-results"):
        response = render(
            request, "receivables/invoices_results.html", {**context, "is_partial": True}
        )
    else:
        response = render(request, "receivables/invoices.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


EXCEL_ROWS = 1_048_575  # a worksheet's rows, less the header


def _invoice_export(user: User, filters: InvoiceFilters) -> HttpResponseBase:
    """The drill-down (every invoice of the filters, in the page's order) as .xlsx."""
    try:
        lines = open_invoice_lines(user=user, **filters.arguments())
        first = next(lines, None)
    except ValidationFailed as error:
        return HttpResponse(error.message, status=422, content_type="text/plain")
    owners: dict[int, str] = {}
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    sheet = workbook.add_worksheet(_("Open invoices"))
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF0F4", "bottom": 1})
    money = workbook.add_format({"num_format": "#,##0.00"})
    money_bold = workbook.add_format({"num_format": "#,##0.00", "bold": True, "top": 1})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    header = [
        _("Invoice"), _("Customer code"), _("Customer"), _("Owner rep"), _("Issued"), _("Due"),
        _("Days past due"), _("Amount"),
        _("Open as of %(date)s") % {"date": filters.as_of.isoformat()},
    ]  # fmt: skip
    widths = [16, 14, 32, 16, 12, 12, 10, 15, 18]
    for column, (title, width) in enumerate(zip(header, widths, strict=True)):
        sheet.set_column(column, column, width)
        sheet.write_string(0, column, str(title), bold)
    sheet.freeze_panes(1, 1)
    line = 0
    total = ZERO
    for line, invoice in enumerate(itertools.chain([first] if first else [], lines), start=1):
        if line > EXCEL_ROWS - 1:
            break
        if invoice.owner_id is not None and invoice.owner_id not in owners:
            owners.update(_owner_names(invoice.owner_id))
        sheet.write_string(line, 0, invoice.number)
        sheet.write_string(line, 1, invoice.customer_code)
        sheet.write_string(line, 2, invoice.customer_name)
        sheet.write_string(line, 3, owners.get(invoice.owner_id or 0, ""))
        sheet.write_datetime(line, 4, invoice.issue_date, day)
        sheet.write_datetime(line, 5, invoice.due_date, day)
        sheet.write_number(line, 6, max(0, (filters.as_of - invoice.due_date).days))
        sheet.write_number(line, 7, float(invoice.amount), money)
        sheet.write_number(line, 8, float(invoice.open_as_of), money)
        total += invoice.open_as_of
    line += 1
    sheet.write_string(line, 0, str(_("Total")), bold)
    sheet.write_number(line, 8, float(total), money_bold)
    workbook.close()
    output.seek(0)
    name = "-".join(
        part for part in ("invoices", filters.bucket, filters.as_of.isoformat()) if part
    )
    return FileResponse(output, as_attachment=True, filename=f"{name}.xlsx", content_type=XLSX)


def _owner_names(owner_id: int) -> dict[int, str]:
    """The names of the reps (all of them at once: there are few; `owner_id` when new)."""
    names = {person.pk: str(person) for person in User.objects.all()}
    names.setdefault(owner_id, "")
    return names


# --- Figures ------------------------------------------------------------------------------------


@require_GET
def figures_page(request: HttpRequest) -> HttpResponse:
    """/receivables/figures/: DSO, CEI, days beyond terms, share of assets, cash vs sales, bad
    debts and the sales to earn them back, for a period (default: the last 12 months)."""
    user: User = request.user  # type: ignore[assignment]
    today = timezone.localdate()
    errors: list[str] = []
    default_from = dt.date(today.year - 1, today.month, 1) + dt.timedelta(days=31)
    default_from = default_from.replace(day=1)
    date_from = _date(request.GET.get("from"), default_from, errors, _("From"))
    date_to = min(_date(request.GET.get("to"), today, errors, _("To")), today)
    if date_to < date_from:
        errors.append(_("the period ends before it starts: showing the last 12 months"))
        date_from, date_to = default_from, today
    figures = receivables_figures.receivables_figures(
        user=user, date_from=date_from, date_to=date_to
    )
    monthly = receivables_figures.cash_against_sales_by_month(
        user=user, date_from=date_from, date_to=date_to
    )
    context = {
        "date_from": date_from,
        "date_to": date_to,
        "errors": errors,
        "figures": figures,
        "monthly": monthly,
        "slow_payers": receivables_figures.days_beyond_terms_by_customer(
            user=user, date_from=date_from, date_to=date_to, limit=20
        ),
        "bad_debts": receivables_figures.bad_debt_recoveries(
            user=user, date_from=date_from, date_to=date_to
        ),
        "chart_cash": {
            "labels": [month.month.strftime("%Y-%m") for month in monthly],
            "sales": [float(month.sales) for month in monthly],
            "cash": [float(month.cash) for month in monthly],
            "sales_label": _("Sales invoiced"),
            "cash_label": _("Cash collected"),
        },
        "sales_per_unit": (1 / figures.net_margin).quantize(ZERO) if figures.net_margin else None,
    }
    return render(request, "receivables/figures.html", context)
