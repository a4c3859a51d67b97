"""What every value report page does the same way: read the chosen snapshot from the query,
tell an htmx partial request from a full page, size pages and default a table's sort."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from kehu.core.errors import NotFound
from kehu.value.models import ValueSnapshot
from kehu.value.report_figures import snapshot_for_report


def page_size() -> int:
    return int(str(settings.KEHU["PAGE_SIZE"]))


def is_partial(request: HttpRequest, target: str) -> bool:
    """An htmx request for the element `target` (not a history restore)."""
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.history_restore_request and htmx.target == target


def positive_int(raw: str | None) -> int | None:
    if not raw or not raw.isdigit() or len(raw) > 18:
        return None
    value = int(raw)
    return value if value > 0 else None


def with_default_sort(request: HttpRequest, default: str) -> None:
    """Put the table's default sort into the query when it has none, so the column headers
    (kehu's `sort_header`, which otherwise assumes "code") show the order actually used."""
    if "sort" not in request.GET:
        query = request.GET.copy()
        query["sort"] = default
        request.GET = query  # type: ignore[assignment]


def snapshot_from_request(request: HttpRequest, errors: list[str]) -> ValueSnapshot | None:
    """The chosen finished snapshot (?snapshot=id), else the latest; None when there is none.
    A bad or unknown number is said in `errors` and the latest is shown."""
    raw = request.GET.get("snapshot", "").strip()
    snapshot_id = positive_int(raw)
    if raw and snapshot_id is None:
        errors.append(_("%(value)s is not a snapshot number") % {"value": raw[:40]})
    try:
        return snapshot_for_report(snapshot_id)
    except NotFound:
        if snapshot_id is None:
            return None
        errors.append(
            _("Snapshot %(number)s does not exist or did not finish: showing the latest")
            % {"number": snapshot_id}
        )
        try:
            return snapshot_for_report(None)
        except NotFound:
            return None
