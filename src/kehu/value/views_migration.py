"""Value pages: how customers move between classes from one snapshot to the next (§4.3).
`urlpatterns` is included by value/urls.py.

/value/migration/ compares two finished snapshots (`from` = A, `to` = B: a snapshot number or a
period such as 2026Q1, the newest finished snapshot of that period; by default the two latest
snapshots of different periods, the earlier one as A) on the money class 有钱客户/缺钱客户 or the
pyramid class, over the customers the user may see (optionally of one region's subtree and one
owner). A cell of the matrix (`from_class`, `to_class`) lists its customers.

Access (decided here): unlike the pyramid page, the whole matrix counts only the customers the
user may see — a rep sees how their own customers moved — because every cell is a list of
customers. A snapshot named in the query that does not exist or did not finish is an error the
page states (404 on a full page, the message in place of the results on an htmx request).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kehu.accounts.models import OrgUnit, User
from kehu.accounts.selectors import users_visible_to
from kehu.core.errors import ValidationFailed
from kehu.value.exports import XLSX, migration_workbook, movement_labels
from kehu.value.migration import (
    DIMENSIONS,
    GONE,
    NEW,
    MigrationMatrix,
    class_label,
    class_migration,
    class_migration_customers,
    default_snapshot_pair,
    dimension_label,
)
from kehu.value.models import ValueSnapshot
from kehu.value.report_figures import snapshot_choices

DEFAULT_DIMENSION = "money_class"
MOVEMENT_COLOURS = {
    "up": "#167a4a",
    "stay": "#9aa1ad",
    "down": "#c8322f",
    NEW: "#4353d8",
    GONE: "#5b6170",
}


def _page_size() -> int:
    return int(str(settings.KEHU["PAGE_SIZE"]))


def _is_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.history_restore_request and htmx.target == target


def _positive_int(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw.isdigit() and 0 < len(raw) < 19 else None


# --- What was asked -----------------------------------------------------------------------------


def _snapshot_named(raw: str) -> ValueSnapshot | None:
    """A finished snapshot by number, else the newest finished snapshot of a period label."""
    finished = snapshot_choices()
    if raw.isdigit() and len(raw) < 19:
        snapshot = finished.filter(pk=int(raw)).first()
        if snapshot is not None:
            return snapshot
    # A period label; a year ("2025") is all digits too, so it is tried after the number.
    return finished.filter(period=raw.upper()).first()


@dataclass
class MigrationQuery:
    snapshot_from: ValueSnapshot | None
    snapshot_to: ValueSnapshot | None
    dimension: str
    region: OrgUnit | None
    owner_id: int | None
    source: str
    target: str
    errors: list[str]
    is_missing: bool  # a snapshot named in the query does not exist or did not finish

    @property
    def is_ready(self) -> bool:
        return self.snapshot_from is not None and self.snapshot_to is not None


def _parse(request: HttpRequest) -> MigrationQuery:
    errors: list[str] = []
    query = request.GET
    dimension = query.get("dimension", DEFAULT_DIMENSION)
    if dimension not in DIMENSIONS:
        errors.append(
            _("Unknown class kind %(value)s: showing the money class") % {"value": dimension[:40]}
        )
        dimension = DEFAULT_DIMENSION
    defaults = default_snapshot_pair()
    chosen: dict[str, ValueSnapshot | None] = {}
    is_missing = False
    for name, position in (("from", 0), ("to", 1)):
        raw = query.get(name, "").strip()[:40]
        if not raw:
            chosen[name] = defaults[position] if defaults else None
            continue
        snapshot = _snapshot_named(raw)
        if snapshot is None:
            is_missing = True
            errors.append(
                _(
                    "There is no finished value snapshot %(value)s: choose a snapshot number or"
                    " a period such as 2026Q1 that “kehu analyze” computed."
                )
                % {"value": raw}
            )
        chosen[name] = snapshot
    region = None
    region_id = _positive_int(query.get("region", ""))
    if region_id is not None:
        region = OrgUnit.objects.filter(pk=region_id).first()
        if region is None:
            errors.append(_("Region %(value)s does not exist") % {"value": region_id})
    owner_id = _positive_int(query.get("owner", ""))
    known = set(DIMENSIONS[dimension])
    source = query.get("from_class", "")
    target = query.get("to_class", "")
    if source and source not in known | {NEW}:
        errors.append(_("Unknown class %(value)s") % {"value": source[:40]})
        source = ""
    if target and target not in known | {GONE}:
        errors.append(_("Unknown class %(value)s") % {"value": target[:40]})
        target = ""
    return MigrationQuery(
        snapshot_from=chosen["from"],
        snapshot_to=chosen["to"],
        dimension=dimension,
        region=region,
        owner_id=owner_id,
        source=source,
        target=target,
        errors=errors,
        is_missing=is_missing,
    )


# --- What the page shows ------------------------------------------------------------------------


def _table(matrix: MigrationMatrix) -> dict[str, Any]:
    """The matrix as the template draws it: a line per source, a cell per target."""
    dimension = matrix.dimension
    columns = [
        {"key": line.key, "label": class_label(dimension, line.key), "line": line}
        for line in matrix.columns
    ]
    rows = [
        {
            "key": line.key,
            "label": class_label(dimension, line.key),
            "line": line,
            "cells": [
                {
                    "target": target,
                    "cell": matrix.cell(line.key, target),
                    "is_possible": not (line.key == NEW and target == GONE),
                }
                for target in matrix.targets
            ],
        }
        for line in matrix.rows
    ]
    return {"columns": columns, "rows": rows}


def _sankey(matrix: MigrationMatrix, query: MigrationQuery, base_query: str) -> dict[str, Any]:
    assert query.snapshot_from is not None
    assert query.snapshot_to is not None
    dimension = matrix.dimension
    labels = movement_labels()
    nodes = [
        {
            "name": f"from:{line.key}",
            "label": class_label(dimension, line.key),
            "key": line.key,
            "side": "from",
            "count": line.count,
        }
        for line in matrix.rows
        if line.count
    ]
    nodes += [
        {
            "name": f"to:{line.key}",
            "label": class_label(dimension, line.key),
            "key": line.key,
            "side": "to",
            "count": line.count,
        }
        for line in matrix.columns
        if line.count
    ]
    links = [
        {
            "source": f"from:{cell.source}",
            "target": f"to:{cell.target}",
            "value": cell.count,
            "revenue": float(cell.revenue),
            "movement": labels[cell.movement],
            "colour": MOVEMENT_COLOURS[cell.movement],
            "url": f"?{base_query}&from_class={cell.source}&to_class={cell.target}",
        }
        for cell in matrix.cells.values()
    ]
    return {
        "nodes": nodes,
        "links": links,
        "labels": {
            "from": query.snapshot_from.period,
            "to": query.snapshot_to.period,
            "customers": _("customers"),
            "revenue": _("revenue"),
        },
    }


def _base_query(query: MigrationQuery) -> str:
    assert query.snapshot_from is not None
    assert query.snapshot_to is not None
    parts = [
        f"from={query.snapshot_from.pk}",
        f"to={query.snapshot_to.pk}",
        f"dimension={query.dimension}",
    ]
    if query.region is not None:
        parts.append(f"region={query.region.pk}")
    if query.owner_id is not None:
        parts.append(f"owner={query.owner_id}")
    return "&".join(parts)


def _filter_options(user: User) -> dict[str, Any]:
    regions = [
        (unit.pk, "\u3000" * max(0, unit.path.count("/") - 2) + unit.name)
        for unit in OrgUnit.objects.order_by("path")
    ]
    return {
        "regions": regions,
        "owners": list(users_visible_to(user).order_by("display_name", "username")),
        "dimensions": [(key, dimension_label(key)) for key in DIMENSIONS],
    }


def _customers(user: User, query: MigrationQuery) -> list[Any]:
    """The rows of the chosen cell, as one list of querysets (see class_migration_customers)."""
    assert query.snapshot_from is not None
    assert query.snapshot_to is not None
    return class_migration_customers(
        user=user,
        snapshot_from=query.snapshot_from,
        snapshot_to=query.snapshot_to,
        dimension=query.dimension,
        source=query.source,
        target=query.target,
        region=query.region,
        owner_id=query.owner_id,
    )


@require_GET
def migration_page(request: HttpRequest) -> HttpResponse:
    """/value/migration/: the transition matrix between two snapshots, its Sankey diagram,
    and the customers of a chosen cell."""
    user: User = request.user  # type: ignore[assignment]
    query = _parse(request)
    snapshots = list(snapshot_choices()[:200])
    context: dict[str, Any] = {
        "query": query,
        "errors": query.errors,
        "snapshots": snapshots,
        "has_two": len(snapshots) >= 2,
        "snapshot_from": query.snapshot_from,
        "snapshot_to": query.snapshot_to,
        "dimension": query.dimension,
        "dimension_label": dimension_label(query.dimension),
        "region_id": query.region.pk if query.region else None,
        "owner_id": query.owner_id,
        **_filter_options(user),
    }
    if query.is_ready:
        assert query.snapshot_from is not None
        assert query.snapshot_to is not None
        matrix = class_migration(
            user=user,
            snapshot_from=query.snapshot_from,
            snapshot_to=query.snapshot_to,
            dimension=query.dimension,
            region=query.region,
            owner_id=query.owner_id,
        )
        base_query = _base_query(query)
        labels = movement_labels()
        context.update(
            matrix=matrix,
            table=_table(matrix),
            base_query=base_query,
            movements=[(item, labels[item.key]) for item in matrix.movements],
            chart_migration=_sankey(matrix, query, base_query),
            is_same=query.snapshot_from.pk == query.snapshot_to.pk,
        )
        if query.source and query.target:
            context.update(_cell_context(request, user, query))
    status = 404 if query.is_missing else 200
    for target, partial in (
        ("migration-customers", "value/migration_customers.html"),
        ("migration-results", "value/migration_results.html"),
    ):
        if _is_partial(request, target):
            response = render(request, partial, {**context, "is_partial": True})
            break
    else:
        response = render(request, "value/migration.html", context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _cell_context(request: HttpRequest, user: User, query: MigrationQuery) -> dict[str, Any]:
    querysets = _customers(user, query)
    rows = querysets[0] if querysets else None
    context: dict[str, Any] = {
        "source": query.source,
        "target": query.target,
        "source_label": class_label(query.dimension, query.source),
        "target_label": class_label(query.dimension, query.target),
    }
    if rows is not None:
        page = Paginator(rows, _page_size()).get_page(request.GET.get("page"))
        context.update(
            page=page,
            customer_rows=[
                (
                    row,
                    class_label(query.dimension, row.source_class),
                    class_label(query.dimension, row.target_class),
                )
                for row in page.object_list
            ],
        )
    return context


# --- The export ---------------------------------------------------------------------------------


@require_GET
def migration_export(request: HttpRequest) -> HttpResponseBase:
    """The matrix (customers, and revenue) and the customers (of the chosen cell, or all the
    user may see), as .xlsx."""
    user: User = request.user  # type: ignore[assignment]
    query = _parse(request)
    if not query.is_ready:
        message = (
            " ".join(query.errors)
            if query.is_missing
            else _("Two finished value snapshots are needed: run “kehu analyze” for two periods.")
        )
        return HttpResponse(message, status=404, content_type="text/plain; charset=utf-8")
    assert query.snapshot_from is not None
    assert query.snapshot_to is not None
    try:
        matrix = class_migration(
            user=user,
            snapshot_from=query.snapshot_from,
            snapshot_to=query.snapshot_to,
            dimension=query.dimension,
            region=query.region,
            owner_id=query.owner_id,
        )
    except ValidationFailed as error:  # pragma: no cover - the query is checked in _parse
        return HttpResponse(error.message, status=422, content_type="text/plain; charset=utf-8")
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    migration_workbook(
        output,
        matrix=matrix,
        snapshot_from=query.snapshot_from,
        snapshot_to=query.snapshot_to,
        customers=_customers(user, query),
    )
    output.seek(0)
    cell = f"-{query.source}-{query.target}" if query.source and query.target else ""
    filename = (
        f"migration-{query.dimension}-{query.snapshot_from.period}-"
        f"{query.snapshot_to.period}{cell}.xlsx"
    )
    return FileResponse(output, as_attachment=True, filename=filename, content_type=XLSX)


urlpatterns: list[URLPattern] = [
    path("migration/", migration_page, name="migration"),
    path("migration.xlsx", migration_export, name="migration_export"),
]
