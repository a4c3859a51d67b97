"""/settings/schedules/: the scheduled jobs (when each runs next, when it ran last and how it
went), whether a scheduler (`kehu worker`) is running, and the recent task results of the
queue with their status and duration (filtered, searched, sorted, paged, exported).

Access: finance, top management and administrators see the page (others get 403);
administrators and top management run a job now, switch it on or off and change its time.
"""

from __future__ import annotations

import tempfile
from typing import Any

import xlsxwriter
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied as PageForbidden
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.accounts.models import User
from kehu.core.errors import KehuError
from kehu.schedules.jobs import job_label
from kehu.schedules.models import Schedule
from kehu.schedules.selectors import (
    RESULT_SORTS,
    TASK_STATUSES,
    may_see_schedules,
    schedule_get,
    schedule_lines,
    scheduler_last_tick,
    schedulers_alive,
    task_result_seconds,
    task_results,
)
from kehu.schedules.services import (
    may_manage_schedules,
    schedule_cron_change,
    schedule_enable,
    schedule_run_now,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_LIMIT = 100_000


def _reader(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not may_see_schedules(user):
        raise PageForbidden(_("Only finance, top management and administrators see the schedules."))
    return user


def _status_labels() -> dict[str, str]:
    return {
        "READY": _("Queued"),
        "RUNNING": _("Running"),
        "SUCCESSFUL": _("Succeeded"),
        "FAILED": _("Failed"),
    }


def _task_labels() -> dict[str, str]:
    """Task path → the name of the job that queues it (else the task's own name)."""
    return {
        path: str(job_label(key)) for key, path in Schedule.objects.values_list("key", "task_path")
    }


def _query(request: HttpRequest) -> tuple[dict[str, str], list[str]]:
    errors = []
    status = request.GET.get("status", "").strip().upper()
    if status and status not in TASK_STATUSES:
        errors.append(_("Unknown status %(value)s: showing every status") % {"value": status[:40]})
        status = ""
    sort = request.GET.get("sort", "-enqueued").strip()
    if sort.removeprefix("-") not in RESULT_SORTS:
        errors.append(_("Unknown sort %(value)s: newest first") % {"value": sort[:40]})
        sort = "-enqueued"
    search = request.GET.get("q", "").strip()[:100]
    return {"status": status, "sort": sort, "q": search}, errors


def _result_rows(results: Any) -> list[dict[str, Any]]:
    labels, statuses = _task_labels(), _status_labels()
    return [
        {
            "result": result,
            "job": labels.get(result.task_path, result.task_path.rsplit(".", 1)[-1]),
            "status_label": statuses.get(result.status, result.status),
            "seconds": task_result_seconds(result),
            "error": result.exception_class_path.rsplit(".", 1)[-1]
            if result.exception_class_path
            else "",
        }
        for result in results
    ]


@require_GET
def schedules_page(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    now = timezone.now()
    query, errors = _query(request)
    results = task_results(user=user, status=query["status"], search=query["q"], sort=query["sort"])
    page = Paginator(results, int(str(settings.KEHU["PAGE_SIZE"]))).get_page(
        request.GET.get("page")
    )
    statuses = _status_labels()
    context = {
        "lines": schedule_lines(user=user, now=now),
        "may_manage": may_manage_schedules(user),
        "alive": schedulers_alive(now=now),
        "last_tick": scheduler_last_tick(),
        "time_zone": settings.TIME_ZONE,
        "query": query,
        "errors": errors,
        "page": page,
        "result_rows": _result_rows(page.object_list),
        "status_choices": [(key, statuses[key]) for key in TASK_STATUSES],
        "status_labels": statuses,
    }
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == "schedule-results" and not htmx.history_restore_request:
        response = render(request, "schedules/results.html", context)
    else:
        response = render(request, "schedules/schedules.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _manager(request: HttpRequest) -> User:
    user = _reader(request)
    if not may_manage_schedules(user):
        raise PageForbidden(_("Only administrators and top management change the schedules."))
    return user


def _schedule(user: User, schedule_id: int) -> Schedule:
    try:
        return schedule_get(user=user, schedule_id=schedule_id)
    except KehuError as error:
        raise Http404(error.message) from error


@require_POST
def schedule_run_now_view(request: HttpRequest, schedule_id: int) -> HttpResponse:
    user = _manager(request)
    schedule = _schedule(user, schedule_id)
    try:
        schedule_run_now(schedule=schedule, actor=user)
    except KehuError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(job)s is queued: the worker runs it within a few seconds.")
            % {"job": job_label(schedule.key)},
        )
    return redirect("schedules:list")


@require_POST
def schedule_enable_view(request: HttpRequest, schedule_id: int) -> HttpResponse:
    user = _manager(request)
    schedule = _schedule(user, schedule_id)
    is_enabled = request.POST.get("is_enabled") == "1"
    try:
        schedule_enable(schedule=schedule, is_enabled=is_enabled, actor=user)
    except KehuError as error:
        messages.error(request, error.message)
    else:
        text = _("%(job)s is switched on.") if is_enabled else _("%(job)s is switched off.")
        messages.success(request, text % {"job": job_label(schedule.key)})
    return redirect("schedules:list")


@require_POST
def schedule_cron_view(request: HttpRequest, schedule_id: int) -> HttpResponse:
    user = _manager(request)
    schedule = _schedule(user, schedule_id)
    try:
        schedule_cron_change(schedule=schedule, cron=request.POST.get("cron", ""), actor=user)
    except KehuError as error:
        messages.error(request, error.message)
        return redirect("schedules:list")
    messages.success(request, _("%(job)s has a new time.") % {"job": job_label(schedule.key)})
    return redirect("schedules:list")


@require_GET
def task_results_export(request: HttpRequest) -> HttpResponseBase:
    """The task results of the page's filters, as .xlsx (at most EXPORT_LIMIT rows)."""
    user = _reader(request)
    query, _errors = _query(request)
    results = task_results(
        user=user, status=query["status"], search=query["q"], sort=query["sort"]
    )[:EXPORT_LIMIT]
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "remove_timezone": True})
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF0F4", "bottom": 1})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet = workbook.add_worksheet(_("Task results"))
    header = (
        _("Job"),
        _("Task"),
        _("Status"),
        _("Queued"),
        _("Started"),
        _("Finished"),
        _("Seconds"),
        _("Error"),
        _("Id"),
    )
    for column, title in enumerate(header):
        sheet.write_string(0, column, str(title), bold)
    sheet.set_column(0, 1, 32)
    sheet.set_column(2, 2, 12)
    sheet.set_column(3, 5, 20)
    sheet.set_column(7, 8, 36)
    sheet.freeze_panes(1, 0)
    for line, row in enumerate(_result_rows(results.iterator(chunk_size=2000)), start=1):
        result = row["result"]
        sheet.write_string(line, 0, str(row["job"]))
        sheet.write_string(line, 1, result.task_path)
        sheet.write_string(line, 2, str(row["status_label"]))
        for column, value in (
            (3, result.enqueued_at),
            (4, result.started_at),
            (5, result.finished_at),
        ):
            if value is not None:
                sheet.write_datetime(line, column, timezone.localtime(value), when)
        if row["seconds"] is not None:
            sheet.write_number(line, 6, row["seconds"])
        sheet.write_string(line, 7, row["error"])
        sheet.write_string(line, 8, str(result.id))
    workbook.close()
    output.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        output, as_attachment=True, filename=f"task-results-{stamp}.xlsx", content_type=XLSX
    )
