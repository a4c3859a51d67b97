"""Value page: the segment worksheet 市场细分作业单 (§4.7) — per product line, its best
customers, its worst customers and the next action. `urlpatterns` is included by value/urls.py.

/value/segments/ reads a finished snapshot (`snapshot`, default the latest) over the customers
the user may see (see kehu.value.segments), optionally of one line (`line`) and for a customer
search (`q`); `sort` reorders the listed customers. The next actions are added and marked done
through small htmx forms that answer with the line's actions panel; without htmx they redirect
back to the page.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.accounts.models import User
from kehu.accounts.selectors import users_visible_to
from kehu.core.errors import KehuError, ValidationFailed
from kehu.value.report_figures import snapshot_choices
from kehu.value.segments import (
    SORTS,
    SUGGESTIONS,
    Segment,
    segment_actions_open,
    segment_lines,
    segment_worksheet,
    segments_workbook,
)
from kehu.value.services_segments import segment_action_complete, segment_action_record
from kehu.value.view_helpers import (
    is_partial,
    positive_int,
    snapshot_from_request,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LINES_PER_PAGE = 10


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _query(request: HttpRequest, errors: list[str]) -> tuple[int | None, str, str]:
    raw = request.GET.get("line", "").strip()
    line_id = positive_int(raw)
    if raw and (line_id is None or not segment_lines().filter(pk=line_id).exists()):
        errors.append(_("Unknown product line %(value)s: showing every line") % {"value": raw[:40]})
        line_id = None
    search = request.GET.get("q", "").strip()[:100]
    sort = request.GET.get("sort", "")
    if sort.lstrip("-") not in SORTS:
        sort = ""
    return line_id, search, sort


def _chart(segments: list[Segment]) -> dict[str, object]:
    return {
        "lines": [segment.name for segment in segments],
        "best": [float(segment.best_gross_profit) for segment in segments],
        "rest": [float(segment.rest_gross_profit) for segment in segments],
        "worst": [float(segment.worst_gross_profit) for segment in segments],
        "customers": [segment.customer_count for segment in segments],
        "labels": {
            "best": _("Best customers"),
            "rest": _("The rest"),
            "worst": _("Worst customers"),
            "gross_profit": _("Gross profit in the line"),
            "total": _("Total"),
            "customers": _("customers"),
        },
    }


def _owners(user: User) -> list[User]:
    return list(
        users_visible_to(user).filter(is_active=True).order_by("display_name", "username")[:500]
    )


def _suggestions() -> list[tuple[str, str]]:
    return [(key, str(text)) for key, text in SUGGESTIONS.items()]


@require_GET
def segments_page(request: HttpRequest) -> HttpResponse:
    """/value/segments/: the segment worksheet of a snapshot."""
    user = _user(request)
    errors: list[str] = []
    snapshot = snapshot_from_request(request, errors)
    line_id, search, sort = _query(request, errors)
    if "sort" not in request.GET:
        # The lists have their own orders (best: gross profit; worst: net profit); an empty
        # sort keeps the column headers (which otherwise assume "code") from showing one.
        query = request.GET.copy()
        query["sort"] = ""
        request.GET = query  # type: ignore[assignment]
    context: dict[str, Any] = {
        "errors": errors,
        "snapshot": snapshot,
        "snapshots": snapshot_choices()[:200],
        "lines": list(segment_lines()),
        "line_id": line_id,
        "search": search,
        "sort": sort,
        "today": timezone.localdate(),
        "owners": _owners(user),
    }
    if snapshot is not None:
        worksheet = segment_worksheet(
            user=user, snapshot=snapshot, line_id=line_id, search=search, sort=sort
        )
        page = Paginator(worksheet.segments, LINES_PER_PAGE).get_page(request.GET.get("page"))
        context.update(
            worksheet=worksheet,
            page=page,
            segments=list(page.object_list),
            chart_segments=_chart(worksheet.segments),
            chart_height=120 + 34 * len(worksheet.segments),
        )
    partial = is_partial(request, "segments-results")
    template = "value/segments_results.html" if partial else "value/segments.html"
    response = render(request, template, {**context, "is_partial": partial})
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


# --- The next actions ---------------------------------------------------------------------------


def _actions_panel(
    request: HttpRequest, line_id: int, *, error: str = "", field: str = "", form: Any = None
) -> HttpResponse:
    user = _user(request)
    segment_line = segment_lines().filter(pk=line_id).first()
    context = {
        "line_id": line_id,
        "line_name": segment_line.name if segment_line else "",
        "actions": list(segment_actions_open(user=user, line_id=line_id)),
        "owners": _owners(user),
        "today": timezone.localdate(),
        "action_error": error,
        "action_error_field": field,
        "action_form": form or {},
        "next_url": _next(request),
    }
    return render(request, "value/segments_actions.html", context, status=422 if error else 200)


def _next(request: HttpRequest) -> str:
    """Where to go back to: the worksheet page of the form's query, never anywhere else."""
    page = reverse("value:segments")
    target = request.POST.get("next", "")
    return target if target == page or target.startswith(f"{page}?") else page


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(_next(request))


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        return None


@require_POST
def segment_action_add(request: HttpRequest) -> HttpResponseBase:
    """Record a next action (htmx: answers with the line's actions panel)."""
    user = _user(request)
    data = request.POST
    line_id = positive_int(data.get("line")) or 0
    customer_raw = data.get("customer", "").strip()
    due_on = _date(data.get("due_on", ""))
    try:
        if customer_raw and positive_int(customer_raw) is None:
            raise ValidationFailed(
                _("%(value)s is not a customer number") % {"value": customer_raw[:40]},
                detail={"field": "customer"},
            )
        if due_on is None:
            raise ValidationFailed(
                _("Give the due date as YYYY-MM-DD."), detail={"field": "due_on"}
            )
        segment_action_record(
            actor=user,
            line_id=line_id,
            customer_id=positive_int(customer_raw),
            text=data.get("text", "")[:2000],
            owner_id=positive_int(data.get("owner")) or 0,
            due_on=due_on,
            reason=data.get("reason", "").strip()[:20],
        )
    except KehuError as error:
        field = (error.detail or {}).get("field", "") if isinstance(error.detail, dict) else ""
        if getattr(request, "htmx", None):
            return _actions_panel(request, line_id, error=error.message, field=field, form=data)
        messages.error(request, error.message)
        return _back(request)
    if getattr(request, "htmx", None):
        return _actions_panel(request, line_id)
    messages.success(request, _("The next action is recorded."))
    return _back(request)


@require_POST
def segment_action_done(request: HttpRequest, action_id: int) -> HttpResponseBase:
    """Mark a next action done (htmx: answers with the line's actions panel)."""
    user = _user(request)
    line_id = positive_int(request.POST.get("line")) or 0
    try:
        action = segment_action_complete(actor=user, action_id=action_id)
        line_id = action.category_id
    except KehuError as error:
        if getattr(request, "htmx", None):
            return _actions_panel(request, line_id, error=error.message, field="status")
        messages.error(request, error.message)
        return _back(request)
    if getattr(request, "htmx", None):
        return _actions_panel(request, line_id)
    messages.success(request, _("The next action is done."))
    return _back(request)


# --- The export ---------------------------------------------------------------------------------


@require_GET
def segments_export(request: HttpRequest) -> HttpResponseBase:
    """The worksheet of the page's query as .xlsx, laid out as the worksheet."""
    user = _user(request)
    errors: list[str] = []
    snapshot = snapshot_from_request(request, errors)
    if snapshot is None:
        message = _("There is no value snapshot yet: run “kehu analyze” to compute one.")
        return HttpResponse(message, status=404, content_type="text/plain; charset=utf-8")
    line_id, search, sort = _query(request, errors)
    worksheet = segment_worksheet(
        user=user, snapshot=snapshot, line_id=line_id, search=search, sort=sort
    )
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    segments_workbook(output, worksheet=worksheet)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=f"segments-{snapshot.period}.xlsx",
        content_type=XLSX,
    )


urlpatterns: list[URLPattern] = [
    path("segments/", segments_page, name="segments"),
    path("segments.xlsx", segments_export, name="segments_export"),
    path("segments/actions/", segment_action_add, name="segment_action_add"),
    path("segments/actions/<int:action_id>/done/", segment_action_done, name="segment_action_done"),
]
