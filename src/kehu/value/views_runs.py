"""Value pages: the runs of the value snapshot — when each snapshot was made, by whom (a person,
the schedule or the command line), how long it and each of its steps took, how it ended — with
a chart of the duration over time, and a form that queues a run now. `urlpatterns` is included
by value/urls.py.

Access (decided here): every signed-in user sees the runs (company-wide counts only, no
customer); finance, top management and administrators queue a run. Superseded runs are listed
as history; their customer rows were deleted when a newer run of the same period, engine and
measure finished (services_refresh).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any

import xlsxwriter
from django.conf import settings
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
from kehu.core.errors import KehuError
from kehu.schedules.selectors import task_results_waiting
from kehu.value.models import Engine, SnapshotStatus, ValueSnapshot
from kehu.value.selectors import RUN_SORTS, value_snapshot_runs
from kehu.value.services_refresh import value_snapshot_enqueue

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TASK_PATH = "kehu.value.tasks.value_snapshot_nightly"
CHART_RUNS = 500  # the chart draws the latest runs of the filters, at most this many
EXPORT_LIMIT = 100_000
STATUS_COLOURS = {
    SnapshotStatus.DONE: "#4353d8",
    SnapshotStatus.EMPTY: "#9aa1ad",
    SnapshotStatus.FAILED: "#c8322f",
    SnapshotStatus.SUPERSEDED: "#7d8be6",
    SnapshotStatus.RUNNING: "#e0a526",
}
ENGINE_COLOURS = {"duckdb": "#4353d8", "postgres": "#167a4a", "spark": "#e0a526"}


def _step_labels() -> dict[str, str]:
    return {
        "reading the ledger": _("reading"),
        "aggregating": _("aggregating"),
        "scoring": _("scoring"),
        "lifetime value": _("lifetime value"),
        "writing": _("writing"),
    }


def _trigger_labels() -> dict[str, str]:
    return {"schedule": _("schedule"), "page": _("page"), "command line": _("command line")}


def may_compute(user: User) -> bool:
    return bool(user.sees_all)


@dataclass
class RunsQuery:
    status: str
    period: str
    engine: str
    search: str
    sort: str
    errors: list[str]

    @property
    def is_filtered(self) -> bool:
        return bool(self.status or self.period or self.engine or self.search)


def _parse(request: HttpRequest) -> RunsQuery:
    query = request.GET
    errors: list[str] = []
    status = query.get("status", "").strip()
    if status and status not in SnapshotStatus.values:
        errors.append(_("Unknown status %(value)s: showing every status") % {"value": status[:40]})
        status = ""
    engine = query.get("engine", "").strip()
    if engine and engine not in Engine.values:
        errors.append(_("Unknown engine %(value)s: showing every engine") % {"value": engine[:40]})
        engine = ""
    sort = query.get("sort", "-started").strip()
    if sort.removeprefix("-") not in RUN_SORTS:
        errors.append(_("Unknown sort %(value)s: newest first") % {"value": sort[:40]})
        sort = "-started"
    return RunsQuery(
        status=status,
        period=query.get("period", "").strip().upper()[:10],
        engine=engine,
        search=query.get("q", "").strip()[:100],
        sort=sort,
        errors=errors,
    )


def _runs(query: RunsQuery) -> Any:
    return value_snapshot_runs(
        status=query.status,
        period=query.period,
        engine=query.engine,
        search=query.search,
        sort=query.sort,
    )


def _made_by(snapshot: ValueSnapshot) -> str:
    if snapshot.created_by is not None:
        return str(snapshot.created_by)
    trigger = snapshot.parameters.get("trigger", "")
    return _trigger_labels().get(trigger, "—")


def step_pairs(snapshot: ValueSnapshot) -> list[tuple[str, float]]:
    """parameters["step_seconds"] as (step, seconds) pairs in order ([[step, seconds], …];
    an object of step → seconds, as a first version stored it, is read too)."""
    stored = snapshot.parameters.get("step_seconds") or []
    items = stored.items() if isinstance(stored, dict) else stored
    return [(str(name), float(seconds)) for name, seconds in items]


def _steps(snapshot: ValueSnapshot) -> list[tuple[str, float]]:
    """How long each step took: the steps the refresh timed, else the engine's timings."""
    labels = _step_labels()
    steps = step_pairs(snapshot)
    if steps:
        return [(labels.get(name, name), seconds) for name, seconds in steps]
    timings = snapshot.parameters.get("timings") or {}
    pairs = [
        ("read_seconds", labels["reading the ledger"]),
        ("aggregate_seconds", labels["aggregating"]),
    ]
    return [(label, float(timings[key])) for key, label in pairs if key in timings]


def _row(snapshot: ValueSnapshot) -> dict[str, Any]:
    timings = snapshot.parameters.get("timings") or {}
    return {
        "snapshot": snapshot,
        "made_by": _made_by(snapshot),
        "steps": _steps(snapshot),
        "reader": timings.get("reader", ""),
        "superseded_by": snapshot.parameters.get("superseded_by"),
    }


def _chart(query: RunsQuery) -> dict[str, Any]:
    """Duration (seconds) over the start time, one series per engine; failed runs in red."""
    runs = value_snapshot_runs(
        status=query.status, period=query.period, engine=query.engine, search=query.search
    ).filter(seconds__isnull=False)[:CHART_RUNS]
    series: dict[str, list[dict[str, Any]]] = {}
    statuses = dict(SnapshotStatus.choices)
    for run in runs:
        series.setdefault(run.engine, []).append(
            {
                "value": [timezone.localtime(run.started_at).isoformat(), run.seconds],
                "period": run.period,
                "status": str(statuses.get(run.status, run.status)),
                "customers": run.customer_count,
                "failed": run.status == SnapshotStatus.FAILED,
                "url": f"?period={run.period}&engine={run.engine}",
            }
        )
    engines = dict(Engine.choices)
    return {
        "series": [
            {
                "name": str(engines.get(engine, engine)),
                "colour": ENGINE_COLOURS.get(engine, "#5b6472"),
                "points": sorted(points, key=lambda point: point["value"][0]),
            }
            for engine, points in sorted(series.items())
        ],
        "labels": {
            "seconds": _("seconds"),
            "period": _("period"),
            "status": _("status"),
            "customers": _("customers"),
            "failed": _("failed"),
        },
    }


def _queued(user: User) -> list[dict[str, Any]]:
    """Runs queued for the worker (or running), oldest first, with who asked for them."""
    waiting = list(task_results_waiting(task_path=TASK_PATH)[:20])
    actor_ids = {
        result.args_kwargs.get("kwargs", {}).get("actor_id")
        for result in waiting
        if isinstance(result.args_kwargs, dict)
    }
    names: dict[Any, str] = {
        person.pk: str(person) for person in User.objects.filter(pk__in=actor_ids - {None})
    }
    lines = []
    for result in waiting:
        kwargs = (
            result.args_kwargs.get("kwargs", {}) if isinstance(result.args_kwargs, dict) else {}
        )
        lines.append(
            {
                "result": result,
                "period": kwargs.get("period") or _("last closed quarter"),
                "engine": kwargs.get("engine") or "duckdb",
                "by": names.get(kwargs.get("actor_id"), _("schedule")),
                "is_running": result.status == "RUNNING",
            }
        )
    return lines


@require_GET
def runs_page(request: HttpRequest) -> HttpResponse:
    """/value/runs/: every value snapshot run, filtered, searched, sorted and paged; the chart
    of run durations; the queued runs; the form that queues one."""
    user: User = request.user  # type: ignore[assignment]
    query = _parse(request)
    runs = _runs(query)
    page = Paginator(runs, int(str(settings.KEHU["PAGE_SIZE"]))).get_page(request.GET.get("page"))
    has_any = ValueSnapshot.objects.exists()
    context: dict[str, Any] = {
        "query": query,
        "errors": query.errors,
        "page": page,
        "rows": [_row(snapshot) for snapshot in page.object_list],
        "has_any": has_any,
        "chart_runs": _chart(query) if has_any else None,
        "status_choices": SnapshotStatus.choices,
        "engine_choices": Engine.choices,
        "periods": list(
            ValueSnapshot.objects.order_by("-period_end")
            .values_list("period", flat=True)
            .distinct()[:60]
        ),
        "queued": _queued(user),
        "may_compute": may_compute(user),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == "runs-results" and not htmx.history_restore_request:
        response = render(request, "value/runs_results.html", context)
    else:
        response = render(request, "value/runs.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@require_POST
def runs_compute(request: HttpRequest) -> HttpResponse:
    """Queue a run of the value snapshot (period, engine) for the worker."""
    user: User = request.user  # type: ignore[assignment]
    if not may_compute(user):
        messages.error(
            request, _("Only finance, top management and administrators compute snapshots.")
        )
        return redirect(reverse("value:runs"))
    period = request.POST.get("period", "").strip()
    engine = request.POST.get("engine", "duckdb").strip()
    try:
        queued = value_snapshot_enqueue(period=period or None, engine=engine, actor=user)
    except KehuError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The snapshot of %(period)s (%(engine)s) is queued: the worker computes it.")
            % {"period": queued["period"], "engine": queued["engine"]},
        )
    return redirect(reverse("value:runs"))


@require_GET
def runs_export(request: HttpRequest) -> HttpResponseBase:
    """The runs of the page's filters, as .xlsx."""
    query = _parse(request)
    runs = _runs(query)[:EXPORT_LIMIT]
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF0F4", "bottom": 1})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet = workbook.add_worksheet(_("Snapshot runs"))
    labels = _step_labels()
    step_names = list(labels)
    header = [
        _("Snapshot"),
        _("Period"),
        _("Engine"),
        _("Measure"),
        _("Status"),
        _("Made by"),
        _("Started"),
        _("Finished"),
        _("Seconds"),
        _("Customers"),
        _("Active customers"),
        *[_("%(step)s (seconds)") % {"step": labels[name]} for name in step_names],
        _("Reader"),
        _("Message"),
    ]
    for column, title in enumerate(header):
        sheet.write_string(0, column, str(title), bold)
    sheet.set_column(0, 5, 14)
    sheet.set_column(6, 7, 20)
    sheet.set_column(len(header) - 1, len(header) - 1, 60)
    sheet.freeze_panes(1, 0)
    statuses = dict(SnapshotStatus.choices)
    for line, snapshot in enumerate(runs.iterator(chunk_size=2000), start=1):
        sheet.write_number(line, 0, snapshot.pk)
        sheet.write_string(line, 1, snapshot.period)
        sheet.write_string(line, 2, snapshot.engine)
        sheet.write_string(line, 3, snapshot.measure)
        sheet.write_string(line, 4, str(statuses.get(snapshot.status, snapshot.status)))
        sheet.write_string(line, 5, _made_by(snapshot))
        for column, value in ((6, snapshot.started_at), (7, snapshot.finished_at)):
            if value is not None:
                sheet.write_datetime(
                    line, column, timezone.localtime(value).replace(tzinfo=None), when
                )
        if snapshot.seconds is not None:
            sheet.write_number(line, 8, snapshot.seconds)
        sheet.write_number(line, 9, snapshot.customer_count)
        sheet.write_number(line, 10, snapshot.active_count)
        steps = dict(step_pairs(snapshot))
        for offset, name in enumerate(step_names):
            if name in steps:
                sheet.write_number(line, 11 + offset, float(steps[name]))
        timings = snapshot.parameters.get("timings") or {}
        sheet.write_string(line, 11 + len(step_names), str(timings.get("reader", "")))
        sheet.write_string(line, 12 + len(step_names), snapshot.message)
    workbook.close()
    output.seek(0)
    return FileResponse(
        output, as_attachment=True, filename="value-snapshot-runs.xlsx", content_type=XLSX
    )


urlpatterns: list[URLPattern] = [
    path("runs/", runs_page, name="runs"),
    path("runs/compute/", runs_compute, name="runs_compute"),
    path("runs.xlsx", runs_export, name="runs_export"),
]
