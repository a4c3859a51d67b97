"""Value report pages: the pyramid 客户金字塔 and the concentration of value (80/20 帕累托,
Lorenz curve, Gini, whale curve), read from a stored value snapshot.

Access (decided here): the company-wide figures of a snapshot — counts, value and shares per
class, the concentration figures and curves — are shown to every signed-in user as the snapshot
computed them; they name no customer. Every list of customers (the drill-down and its export)
shows only the customers the user may see (`customers.selectors.related_visible_to`: a rep their
own, a manager their subtree, finance and management everyone), with their company-wide rank
and share. The pyramid table says how many of each class the user sees.
"""

from __future__ import annotations

import tempfile
from typing import Any

import xlsxwriter
from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kehu.accounts.models import User
from kehu.core.errors import NotFound, ValidationFailed
from kehu.value.models import PyramidClass, ValueSnapshot
from kehu.value.report_figures import (
    MEASURES,
    PROFIT_MEASURES,
    PyramidReport,
    concentration_report,
    pyramid_customers,
    pyramid_report,
    snapshot_choices,
    snapshot_for_report,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CUSTOMER_SORTS = ("rank", "code", "name", "value")


def _page_size() -> int:
    return int(str(settings.KEHU["PAGE_SIZE"]))


def _is_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.history_restore_request and htmx.target == target


def _snapshot(request: HttpRequest, errors: list[str]) -> ValueSnapshot | None:
    """The chosen snapshot (?snapshot=id), else the latest; None when there is none."""
    raw = request.GET.get("snapshot", "").strip()
    snapshot_id = None
    if raw:
        if raw.isdigit() and len(raw) < 19:
            snapshot_id = int(raw)
        else:
            errors.append(_("%(value)s is not a snapshot number") % {"value": raw[:40]})
    try:
        return snapshot_for_report(snapshot_id)
    except NotFound:
        if snapshot_id is not None:
            errors.append(
                _("Snapshot %(number)s does not exist or did not finish: showing the latest")
                % {"number": snapshot_id}
            )
            try:
                return snapshot_for_report(None)
            except NotFound:
                return None
        return None


def _respond(
    request: HttpRequest, target: str, partial: str, full: str, context: dict[str, Any]
) -> HttpResponse:
    if _is_partial(request, target):
        response = render(request, partial, {**context, "is_partial": True})
    else:
        response = render(request, full, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


# --- The pyramid --------------------------------------------------------------------------------


def _pyramid_chart(report: PyramidReport) -> dict[str, object]:
    value_label = report.measure_label
    return {
        "classes": [
            {
                "key": item.key,
                "name": item.label,
                "active": item.is_active,
                "count": item.count,
                "value": float(item.value),
                "value_share": item.value_share,
                "url": (
                    f"?snapshot={report.snapshot.pk}&class={item.key}&sort=rank#pyramid-customers"
                ),
            }
            for item in report.classes
        ],
        "labels": {
            "customers": _("customers"),
            "value": value_label,
            "share": _("share of value"),
        },
    }


def _pyramid_filters(request: HttpRequest, errors: list[str]) -> tuple[str, str, str]:
    chosen = request.GET.get("class", "")
    if chosen and chosen not in PyramidClass.values:
        errors.append(_("Unknown pyramid class %(value)s") % {"value": chosen[:40]})
        chosen = ""
    search = request.GET.get("q", "").strip()[:100]
    sort = request.GET.get("sort", "rank")
    if sort.lstrip("-") not in CUSTOMER_SORTS:
        sort = "rank"
    return chosen, search, sort


@require_GET
def pyramid_page(request: HttpRequest) -> HttpResponse:
    """/value/: the pyramid of a snapshot (default: the latest), and the customers of a class."""
    user: User = request.user  # type: ignore[assignment]
    errors: list[str] = []
    snapshot = _snapshot(request, errors)
    chosen, search, sort = _pyramid_filters(request, errors)
    context: dict[str, Any] = {
        "errors": errors,
        "snapshot": snapshot,
        "snapshots": snapshot_choices()[:200],
        "chosen": chosen,
        "chosen_label": PyramidClass(chosen).label if chosen else "",
        "search": search,
        "sort": sort,
    }
    if snapshot is not None:
        report = pyramid_report(user=user, snapshot=snapshot)
        context.update(report=report, chart_pyramid=_pyramid_chart(report))
        if chosen:
            rows = pyramid_customers(
                user=user, snapshot=snapshot, pyramid_class=chosen, search=search, sort=sort
            )
            page = Paginator(rows, _page_size()).get_page(request.GET.get("page"))
            total = report.total_value
            context.update(
                page=page,
                rows=[
                    (row, getattr(row, snapshot.measure), _share(row, snapshot.measure, total))
                    for row in page.object_list
                ],
            )
    if _is_partial(request, "pyramid-customers"):
        return _respond(
            request,
            "pyramid-customers",
            "value/pyramid_customers.html",
            "value/pyramid.html",
            context,
        )
    return _respond(
        request, "pyramid-results", "value/pyramid_results.html", "value/pyramid.html", context
    )


def _share(row: Any, measure: str, total: Any) -> float | None:
    value = getattr(row, measure)
    return float(value) / float(total) if total and total > 0 else None


@require_GET
def pyramid_export(request: HttpRequest) -> HttpResponseBase:
    """The pyramid of the snapshot, and the customers the user may see (of the chosen class, or
    of every class), as .xlsx."""
    user: User = request.user  # type: ignore[assignment]
    errors: list[str] = []
    snapshot = _snapshot(request, errors)
    chosen, search, sort = _pyramid_filters(request, errors)
    if snapshot is None:
        message = _("There is no value snapshot yet: run “kehu analyze” to compute one.")
        return HttpResponse(message, status=404, content_type="text/plain; charset=utf-8")
    report = pyramid_report(user=user, snapshot=snapshot)
    rows = pyramid_customers(
        user=user, snapshot=snapshot, pyramid_class=chosen, search=search, sort=sort
    )
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF0F4", "bottom": 1})
    money = workbook.add_format({"num_format": "#,##0.00"})
    share = workbook.add_format({"num_format": "0.00%"})
    sheet = workbook.add_worksheet(_("Pyramid"))
    header = [
        _("Class"),
        _("Customers"),
        _("Share of customers"),
        report.measure_label,
        _("Share of value"),
        _("Customers you see"),
    ]
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, len(header), 16)
    for column, title in enumerate(header):
        sheet.write_string(0, column, str(title), bold)
    for line, item in enumerate(report.classes, start=1):
        sheet.write_string(line, 0, item.label)
        sheet.write_number(line, 1, item.count)
        _write_share(sheet, line, 2, item.customer_share, share)
        sheet.write_number(line, 3, float(item.value), money)
        _write_share(sheet, line, 4, item.value_share, share)
        sheet.write_number(line, 5, item.visible_count)
    customers = workbook.add_worksheet(_("Customers"))
    header = [
        _("Class"),
        _("Rank"),
        _("Code"),
        _("Name"),
        report.measure_label,
        _("Share of value"),
    ]
    customers.set_column(0, 1, 12)
    customers.set_column(2, 2, 16)
    customers.set_column(3, 3, 36)
    customers.set_column(4, 5, 16)
    for column, title in enumerate(header):
        customers.write_string(0, column, str(title), bold)
    customers.freeze_panes(1, 0)
    labels = dict(PyramidClass.choices)
    for line, row in enumerate(rows.iterator(chunk_size=2000), start=1):
        value = getattr(row, snapshot.measure)
        customers.write_string(line, 0, str(labels.get(row.pyramid_class, row.pyramid_class)))
        if row.rank is not None:
            customers.write_number(line, 1, row.rank)
        customers.write_string(line, 2, row.customer.code)
        customers.write_string(line, 3, row.customer.name)
        customers.write_number(line, 4, float(value), money)
        row_share = _share(row, snapshot.measure, report.total_value)
        _write_share(customers, line, 5, row_share, share)
    workbook.close()
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=f"pyramid-{snapshot.period}-{chosen or 'all'}.xlsx",
        content_type=XLSX,
    )


def _write_share(sheet: Any, line: int, column: int, value: float | None, style: Any) -> None:
    if value is not None:
        sheet.write_number(line, column, value, style)


# --- Concentration ------------------------------------------------------------------------------


@require_GET
def concentration_page(request: HttpRequest) -> HttpResponse:
    """/value/concentration/: the 80/20 figures, the Lorenz curve and, for profit, the whale
    curve of a snapshot and a measure (revenue, gross profit, net profit)."""
    errors: list[str] = []
    snapshot = _snapshot(request, errors)
    measure = request.GET.get("measure", "")
    if measure not in MEASURES:
        if measure:
            errors.append(_("Unknown measure %(value)s") % {"value": measure[:40]})
        measure = snapshot.measure if snapshot is not None else "gross_profit"
    context: dict[str, Any] = {
        "errors": errors,
        "snapshot": snapshot,
        "snapshots": snapshot_choices()[:200],
        "measure": measure,
        "measures": [(key, str(label)) for key, label in MEASURES.items()],
        "is_profit": measure in PROFIT_MEASURES,
    }
    if snapshot is not None:
        try:
            report = concentration_report(snapshot=snapshot, measure=measure)
        except ValidationFailed as error:  # pragma: no cover - the measure is checked above
            errors.append(error.message)
        else:
            context.update(
                report=report,
                chart_concentration={
                    "lorenz": report.lorenz,
                    "whale": report.whale_points,
                    "peak": (
                        [report.whale.peak_position, float(report.whale.peak)]
                        if report.whale
                        else None
                    ),
                    "labels": {
                        "lorenz": _("Lorenz curve"),
                        "equality": _("Equal shares"),
                        "customers": _("Share of customers"),
                        "value": _("Share of value"),
                        "whale": _("Cumulative profit"),
                        "peak": _("Peak"),
                    },
                },
            )
    return _respond(
        request,
        "concentration-results",
        "value/concentration_results.html",
        "value/concentration.html",
        context,
    )
