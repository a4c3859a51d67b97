"""Value page: customer lifetime value 客户终身价值 (§4.6), read from a stored value snapshot.
`urlpatterns` is included by value/urls.py.

/value/lifetime/ shows, for a snapshot (default: the latest): the key figures (total and average
lifetime value, customers likely lost), the purchase models compared on the holdout weeks, the
holdout charts (per calibration-frequency group, and cumulative over time), a retention what-if
(`retention` = a change in percentage points; the method is `lifetime.retention_what_if`), and
the customers with their lifetime figures (filters: pyramid class, P(alive) band, search; sort;
pages; .xlsx export).

Access (as on the pyramid page, value/views.py): the company-wide figures, the models and the
what-if are shown to every signed-in user as the snapshot computed them — they name no
customer. The customer table and its export hold only the customers the user may see
(`customers.selectors.related_visible_to`), and the page says how many that is.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from typing import Any

from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kehu.accounts.models import User
from kehu.core.errors import ValidationFailed
from kehu.value.exports_lifetime import XLSX, lifetime_workbook
from kehu.value.lifetime import (
    ALIVE_BANDS,
    DEFAULT_SORT,
    LIFETIME_SORTS,
    MODEL_LABELS,
    LifetimeFilters,
    LifetimeReport,
    RetentionWhatIf,
    lifetime_customers,
    lifetime_report,
    retention_change_parse,
    retention_what_if,
)
from kehu.value.models import PyramidClass
from kehu.value.report_figures import snapshot_choices
from kehu.value.view_helpers import (
    is_partial,
    page_size,
    snapshot_from_request,
    with_default_sort,
)

DEFAULT_RETENTION_CHANGE = 5.0


def default_retention_change(implied: float) -> float:
    """+5 points, or half of what is left up to 100% when that is less (one decimal)."""
    room = (1 - implied) * 100
    if room >= 2 * DEFAULT_RETENTION_CHANGE:
        return DEFAULT_RETENTION_CHANGE
    return math.floor(room / 2 * 10) / 10


def band_labels() -> dict[str, str]:
    return {
        "lost": _("Likely lost (below 50%)"),
        "at_risk": _("At risk (50–80%)"),
        "alive": _("Likely alive (80%+)"),
        "none": _("Not estimated"),
    }


# --- What was asked -----------------------------------------------------------------------------


def _filters(request: HttpRequest, errors: list[str]) -> tuple[LifetimeFilters, str]:
    chosen = request.GET.get("class", "")
    if chosen and chosen not in PyramidClass.values:
        errors.append(_("Unknown pyramid class %(value)s") % {"value": chosen[:40]})
        chosen = ""
    band = request.GET.get("band", "")
    if band and band not in ALIVE_BANDS:
        errors.append(_("Unknown band of P(alive) %(value)s") % {"value": band[:40]})
        band = ""
    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort.lstrip("-") not in LIFETIME_SORTS:
        sort = DEFAULT_SORT
    search = request.GET.get("q", "").strip()[:100]
    return LifetimeFilters(pyramid_class=chosen, band=band, search=search), sort


def _what_if(
    request: HttpRequest, report: LifetimeReport
) -> tuple[str, RetentionWhatIf | None, str]:
    """(the retention change as typed, the what-if, the error to show next to the field)."""
    raw = request.GET.get("retention", "").strip()[:40]
    if not report.is_estimated or report.retention_implied is None:
        return raw, None, ""
    try:
        if raw:
            change = retention_change_parse(raw)
        else:
            change = default_retention_change(report.retention_implied)
        return (
            raw or f"{change:g}",
            retention_what_if(report.snapshot.parameters.get("lifetime"), change),
            "",
        )
    except ValidationFailed as error:
        return raw, None, error.message


# --- Charts -------------------------------------------------------------------------------------


def _holdout_charts(report: LifetimeReport) -> dict[str, Any] | None:
    holdout = report.holdout
    models = [row for row in holdout.get("models", []) if row.get("groups")]
    if not models:
        return None
    origin = dt.date.fromisoformat(holdout["origin"])
    times = holdout.get("times") or []
    dates = [(origin + dt.timedelta(days=round(value))).isoformat() for value in times]
    groups = [group["frequency"] for group in models[0]["groups"]]
    return {
        "groups": groups,
        "customers": [group["customers"] for group in models[0]["groups"]],
        "actual_by_group": [group["actual"] for group in models[0]["groups"]],
        "dates": dates,
        "actual": holdout.get("actual") or [],
        "calibration_end": holdout["calibration_end"],
        "models": [
            {
                "key": row["model"],
                "name": MODEL_LABELS.get(row["model"], row["model"]),
                "in_use": bool(row.get("in_use")),
                "by_group": [group["predicted"] for group in row["groups"]],
                "cumulative": row.get("predicted") or [],
            }
            for row in models
        ],
        "labels": {
            "actual": _("Actual"),
            "group": _("Repeat purchases in the calibration period"),
            "per_customer": _("Repeat purchases per customer in the holdout weeks"),
            "cumulative": _("Cumulative repeat purchases"),
            "calibration_end": _("End of calibration"),
            "customers": _("customers"),
            "in_use": _("in use"),
        },
    }


def _retention_chart(what_if: RetentionWhatIf) -> dict[str, Any]:
    return {
        "points": [[points, value] for points, value in what_if.curve],
        "chosen": [what_if.change_points, float(what_if.value_with)],
        "labels": {
            "change": _("Change in yearly retention (percentage points)"),
            "value": _("Lifetime value"),
            "chosen": _("Your change"),
        },
    }


# --- The page -----------------------------------------------------------------------------------


@require_GET
def lifetime_page(request: HttpRequest) -> HttpResponse:
    """/value/lifetime/: the lifetime value of a snapshot, the models, the holdout check, the
    retention what-if and the customers."""
    user: User = request.user  # type: ignore[assignment]
    errors: list[str] = []
    snapshot = snapshot_from_request(request, errors)
    filters, sort = _filters(request, errors)
    with_default_sort(request, sort)
    context: dict[str, Any] = {
        "errors": errors,
        "snapshot": snapshot,
        "snapshots": snapshot_choices()[:200],
        "filters": filters,
        "sort": sort,
        "classes": PyramidClass.choices,
        "bands": list(band_labels().items()),
    }
    if snapshot is not None:
        report = lifetime_report(user=user, snapshot=snapshot)
        retention_raw, what_if, retention_error = _what_if(request, report)
        rows = lifetime_customers(user=user, snapshot=snapshot, filters=filters, sort=sort)
        page = Paginator(rows, page_size()).get_page(request.GET.get("page"))
        context.update(
            report=report,
            retention_raw=retention_raw,
            what_if=what_if,
            retention_error=retention_error,
            page=page,
            rows=page.object_list,
            chart_holdout=_holdout_charts(report) if report.is_estimated else None,
            chart_retention=_retention_chart(what_if) if what_if else None,
            change_label=f"{what_if.change_points:+g}" if what_if else "",
        )
    for target, partial in (
        ("lifetime-customers", "value/lifetime_customers.html"),
        ("lifetime-whatif", "value/lifetime_whatif.html"),
        ("lifetime-results", "value/lifetime_results.html"),
    ):
        if is_partial(request, target):
            response = render(request, partial, {**context, "is_partial": True})
            break
    else:
        response = render(request, "value/lifetime.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


# --- The export ---------------------------------------------------------------------------------


@require_GET
def lifetime_export(request: HttpRequest) -> HttpResponseBase:
    """The lifetime figures and the model comparison of the snapshot, and the customers of the
    filter the user sees with their lifetime figures, as .xlsx."""
    user: User = request.user  # type: ignore[assignment]
    errors: list[str] = []
    snapshot = snapshot_from_request(request, errors)
    if snapshot is None:
        message = _("There is no value snapshot yet: run “kehu analyze” to compute one.")
        return HttpResponse(message, status=404, content_type="text/plain; charset=utf-8")
    filters, sort = _filters(request, errors)
    report = lifetime_report(user=user, snapshot=snapshot)
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    lifetime_workbook(
        output,
        report=report,
        rows=lifetime_customers(user=user, snapshot=snapshot, filters=filters, sort=sort),
    )
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=f"lifetime-value-{snapshot.period}.xlsx",
        content_type=XLSX,
    )


urlpatterns: list[URLPattern] = [
    path("lifetime/", lifetime_page, name="lifetime"),
    path("lifetime.xlsx", lifetime_export, name="lifetime_export"),
]
