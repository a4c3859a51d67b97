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

from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kehu.accounts.models import OrgUnit, User
from kehu.accounts.selectors import users_visible_to
from kehu.core.errors import ValidationFailed
from kehu.customers.models import CustomerKind
from kehu.value.exports import (
    XLSX,
    concentration_workbook,
    matrix_workbook,
    profitability_workbook,
    pyramid_workbook,
    row_share,
)
from kehu.value.models import CustomerValue, PyramidClass, Quadrant
from kehu.value.report_figures import (
    COST_COMPONENTS,
    MATRIX_QUADRANTS,
    MATRIX_SORTS,
    MEASURES,
    PROFIT_MEASURES,
    PROFITABILITY_SORTS,
    WORST_COUNT,
    CustomerFilters,
    MatrixPoint,
    MatrixReport,
    PyramidReport,
    concentration_report,
    concentration_rows,
    loss_reason,
    matrix_customers,
    matrix_points,
    matrix_report,
    profitability_customers,
    profitability_report,
    pyramid_customers,
    pyramid_report,
    snapshot_choices,
)
from kehu.value.view_helpers import (
    is_partial,
    page_size,
    positive_int,
    snapshot_from_request,
    with_default_sort,
)

CUSTOMER_SORTS = ("rank", "code", "name", "value")


def _respond(
    request: HttpRequest, target: str, partial: str, full: str, context: dict[str, Any]
) -> HttpResponse:
    if is_partial(request, target):
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
    snapshot = snapshot_from_request(request, errors)
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
            page = Paginator(rows, page_size()).get_page(request.GET.get("page"))
            total = report.total_value
            context.update(
                page=page,
                rows=[
                    (row, getattr(row, snapshot.measure), row_share(row, snapshot.measure, total))
                    for row in page.object_list
                ],
            )
    if is_partial(request, "pyramid-customers"):
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


@require_GET
def pyramid_export(request: HttpRequest) -> HttpResponseBase:
    """The pyramid of the snapshot, and the customers the user may see (of the chosen class, or
    of every class), as .xlsx."""
    user: User = request.user  # type: ignore[assignment]
    errors: list[str] = []
    snapshot = snapshot_from_request(request, errors)
    chosen, search, sort = _pyramid_filters(request, errors)
    if snapshot is None:
        return _no_snapshot()
    report = pyramid_report(user=user, snapshot=snapshot)
    rows = pyramid_customers(
        user=user, snapshot=snapshot, pyramid_class=chosen, search=search, sort=sort
    )
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    pyramid_workbook(output, snapshot=snapshot, report=report, rows=rows)
    return _workbook_response(output, f"pyramid-{snapshot.period}-{chosen or 'all'}.xlsx")


# --- Concentration ------------------------------------------------------------------------------


@require_GET
def concentration_page(request: HttpRequest) -> HttpResponse:
    """/value/concentration/: the 80/20 figures, the Lorenz curve and, for profit, the whale
    curve of a snapshot and a measure (revenue, gross profit, net profit)."""
    errors: list[str] = []
    snapshot = snapshot_from_request(request, errors)
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


# --- Shared by the matrix and profitability pages -----------------------------------------------


def _customer_filters(request: HttpRequest) -> CustomerFilters:
    kind = request.GET.get("kind", "")
    return CustomerFilters(
        region_id=positive_int(request.GET.get("region")),
        owner_id=positive_int(request.GET.get("owner")),
        kind=kind if kind in CustomerKind.values else "",
        search=request.GET.get("q", "").strip()[:100],
    )


def _filter_options(user: User) -> dict[str, object]:
    regions = [
        (unit.pk, "\u3000" * max(0, unit.path.count("/") - 2) + unit.name)
        for unit in OrgUnit.objects.order_by("path")
    ]
    return {
        "kinds": CustomerKind.choices,
        "regions": regions,
        "owners": list(users_visible_to(user).order_by("display_name", "username")),
    }


def _no_snapshot() -> HttpResponse:
    message = _("There is no value snapshot yet: run “kehu analyze” to compute one.")
    return HttpResponse(message, status=404, content_type="text/plain; charset=utf-8")


def _workbook_response(output: Any, filename: str) -> FileResponse:
    output.seek(0)
    return FileResponse(output, as_attachment=True, filename=filename, content_type=XLSX)


@require_GET
def concentration_export(request: HttpRequest) -> HttpResponseBase:
    """The 80/20 figures (and the whale curve's, for profit) of a snapshot and a measure, and
    the customers the user sees ranked with their company-wide rank and running share, as
    .xlsx."""
    user: User = request.user  # type: ignore[assignment]
    errors: list[str] = []
    snapshot = snapshot_from_request(request, errors)
    measure = request.GET.get("measure", "")
    if snapshot is None:
        return _no_snapshot()
    if measure not in MEASURES:
        measure = snapshot.measure
    report = concentration_report(snapshot=snapshot, measure=measure)
    rows = concentration_rows(user=user, snapshot=snapshot, measure=measure, total=report.total)
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    concentration_workbook(output, snapshot=snapshot, report=report, rows=rows)
    return _workbook_response(output, f"concentration-{snapshot.period}-{measure}.xlsx")


# --- The value matrix (§4.4) --------------------------------------------------------------------


def _matrix_chart(report: MatrixReport, points: list[MatrixPoint]) -> dict[str, object]:
    revenues = [float(point.revenue) for point in points]
    positive = [value for value in revenues if value > 0]
    is_log = (
        bool(positive) and len(positive) == len(revenues) and max(positive) > 100 * min(positive)
    )
    series: dict[str, list[list[object]]] = {str(key): [] for key in MATRIX_QUADRANTS}
    for point in points:
        series.setdefault(point.quadrant, []).append(
            [float(point.revenue), float(point.loyalty), point.code, point.name, point.customer_id]
        )
    return {
        "series": [
            {"key": str(key), "name": str(Quadrant(key).label), "points": series[str(key)]}
            for key in MATRIX_QUADRANTS
        ],
        "volume_threshold": (
            float(report.volume_threshold) if report.volume_threshold is not None else None
        ),
        "loyalty_threshold": float(report.loyalty_threshold),
        "log": is_log,
        "card_url": reverse("customers:card", args=[0]),
        "labels": {
            "volume": _("Revenue"),
            "loyalty": _("Loyalty"),
            "volume_threshold": _("Volume threshold"),
            "loyalty_threshold": _("Loyalty threshold"),
        },
    }


def _matrix_query(request: HttpRequest, errors: list[str]) -> tuple[str, str]:
    quadrant = request.GET.get("quadrant", "")
    if quadrant and quadrant not in Quadrant.values:
        errors.append(_("Unknown quadrant %(value)s") % {"value": quadrant[:40]})
        quadrant = ""
    sort = request.GET.get("sort", "-revenue")
    if sort.lstrip("-") not in MATRIX_SORTS:
        sort = "-revenue"
    return quadrant, sort


@require_GET
def matrix_page(request: HttpRequest) -> HttpResponse:
    """/value/matrix/: the value matrix (volume × loyalty) of a snapshot — a scatter of the
    customers the user sees, the thresholds, the four quadrants with their advice, and the
    customers of a quadrant."""
    user: User = request.user  # type: ignore[assignment]
    errors: list[str] = []
    snapshot = snapshot_from_request(request, errors)
    filters = _customer_filters(request)
    quadrant, sort = _matrix_query(request, errors)
    with_default_sort(request, sort)
    context: dict[str, Any] = {
        "errors": errors,
        "snapshot": snapshot,
        "snapshots": snapshot_choices()[:200],
        "filters": filters,
        "quadrant": quadrant,
        "quadrant_choices": Quadrant.choices,
        "sort": sort,
    }
    partial = is_partial(request, "matrix-results")
    if not partial:
        context.update(_filter_options(user))
    if snapshot is not None:
        report = matrix_report(user=user, snapshot=snapshot, filters=filters)
        points, point_total = matrix_points(
            user=user, snapshot=snapshot, filters=filters, quadrant=quadrant
        )
        rows = matrix_customers(
            user=user, snapshot=snapshot, filters=filters, quadrant=quadrant, sort=sort
        )
        page = Paginator(rows, page_size()).get_page(request.GET.get("page"))
        figures = {item.key: item for item in report.quadrants}
        context.update(
            report=report,
            grid=[
                [figures[Quadrant.CORE], figures[Quadrant.RISK]],
                [figures[Quadrant.GROWTH], figures[Quadrant.MARGINAL]],
            ],
            not_active=figures[Quadrant.NOT_ACTIVE],
            page=page,
            rows=page.object_list,
            point_count=len(points),
            point_total=point_total,
            is_sampled=point_total > len(points),
            chart_matrix=_matrix_chart(report, points),
        )
    if partial:
        return render(request, "value/matrix_results.html", {**context, "is_partial": True})
    response = render(request, "value/matrix.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@require_GET
def matrix_export(request: HttpRequest) -> HttpResponseBase:
    """The quadrants, and every customer of the filter (and quadrant) the user sees, as .xlsx."""
    user: User = request.user  # type: ignore[assignment]
    errors: list[str] = []
    snapshot = snapshot_from_request(request, errors)
    if snapshot is None:
        return _no_snapshot()
    filters = _customer_filters(request)
    quadrant, sort = _matrix_query(request, errors)
    report = matrix_report(user=user, snapshot=snapshot, filters=filters)
    rows = matrix_customers(
        user=user, snapshot=snapshot, filters=filters, quadrant=quadrant, sort=sort
    )
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    matrix_workbook(output, report=report, rows=rows)
    return _workbook_response(output, f"value-matrix-{snapshot.period}-{quadrant or 'all'}.xlsx")


# --- Profitability and the cost to serve (§4.5) -------------------------------------------------


def _profitability_query(request: HttpRequest) -> tuple[bool, str]:
    only_losses = request.GET.get("losses", "1") != "0"
    sort = request.GET.get("sort", "net_profit")
    if sort.lstrip("-") not in PROFITABILITY_SORTS:
        sort = "net_profit"
    return only_losses, sort


def _profitability_chart(worst: list[CustomerValue]) -> dict[str, object]:
    return {
        "customers": [row.customer.code for row in worst],
        "names": [row.customer.name for row in worst],
        "ids": [row.customer_id for row in worst],
        "components": [
            {
                "key": field,
                "name": str(label),
                "values": [float(getattr(row, field)) for row in worst],
            }
            for field, label in COST_COMPONENTS.items()
        ],
        "gross_profit": [float(row.gross_profit) for row in worst],
        "net_profit": [float(row.net_profit) for row in worst],
        "card_url": reverse("customers:card", args=[0]),
        "labels": {
            "gross_profit": _("Gross profit"),
            "net_profit": _("Net profit"),
            "cost_to_serve": _("Cost to serve"),
        },
    }


@require_GET
def profitability_page(request: HttpRequest) -> HttpResponse:
    """/value/profitability/: customers ranked by net profit after the cost to serve, the
    loss-makers first (only them by default), with what their cost to serve is made of."""
    user: User = request.user  # type: ignore[assignment]
    errors: list[str] = []
    snapshot = snapshot_from_request(request, errors)
    filters = _customer_filters(request)
    only_losses, sort = _profitability_query(request)
    with_default_sort(request, sort)
    context: dict[str, Any] = {
        "errors": errors,
        "snapshot": snapshot,
        "snapshots": snapshot_choices()[:200],
        "filters": filters,
        "only_losses": only_losses,
        "sort": sort,
        "components": [(field, str(label)) for field, label in COST_COMPONENTS.items()],
    }
    partial = is_partial(request, "profitability-results")
    if not partial:
        context.update(_filter_options(user))
    if snapshot is not None:
        report = profitability_report(user=user, snapshot=snapshot, filters=filters)
        rows = profitability_customers(
            user=user, snapshot=snapshot, filters=filters, only_losses=only_losses, sort=sort
        )
        worst = list(
            profitability_customers(
                user=user, snapshot=snapshot, filters=filters, only_losses=only_losses
            )[:WORST_COUNT]
        )
        page = Paginator(rows, page_size()).get_page(request.GET.get("page"))
        context.update(
            report=report,
            page=page,
            rows=[
                (row, [getattr(row, field) for field in COST_COMPONENTS], loss_reason(row))
                for row in page.object_list
            ],
            worst_count=len(worst),
            chart_height=120 + 26 * len(worst),
            chart_profitability=_profitability_chart(worst),
        )
    if partial:
        return render(request, "value/profitability_results.html", {**context, "is_partial": True})
    response = render(request, "value/profitability.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@require_GET
def profitability_export(request: HttpRequest) -> HttpResponseBase:
    """The customers of the filter the user sees, ranked by net profit, with every component
    of the cost to serve and the reason of a loss, as .xlsx."""
    user: User = request.user  # type: ignore[assignment]
    errors: list[str] = []
    snapshot = snapshot_from_request(request, errors)
    if snapshot is None:
        return _no_snapshot()
    filters = _customer_filters(request)
    only_losses, sort = _profitability_query(request)
    rows = profitability_customers(
        user=user, snapshot=snapshot, filters=filters, only_losses=only_losses, sort=sort
    )
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    profitability_workbook(output, rows=rows)
    scope = "losses" if only_losses else "all"
    return _workbook_response(output, f"profitability-{snapshot.period}-{scope}.xlsx")
