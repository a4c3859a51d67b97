"""The upload page: choose a kind and a file, see what was created, updated and refused.

Only administrators and finance import (others get 403). Pages stay thin: the form is parsed
here, the import is `kehu.imports.services`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from kehu.core.errors import KehuError
from kehu.imports.models import ImportRun
from kehu.imports.report import error_report_store
from kehu.imports.services import import_authorize, import_file, import_transactions

SHOWN_ERRORS = 200
SHOWN_RUNS = 30

KIND_CHOICES = [
    ("customers", _("Customers")),
    ("contacts", _("Contacts")),
    ("products", _("Products")),
    ("orders", _("Orders (one row per order line)")),
    ("invoices", _("Invoices")),
    ("payments", _("Payments")),
    ("cdnow", _("Purchase log (CDNOW format)")),
]


# The records an import counts, as the summary table names them.
RECORD_LABELS = {
    "customers": _("Customers"),
    "tags": _("Tags"),
    "contacts": _("Contacts"),
    "products": _("Products"),
    "product_categories": _("Product categories"),
    "orders": _("Orders"),
    "order_lines": _("Order lines"),
    "invoices": _("Invoices"),
    "payments": _("Payments"),
    "payment_allocations": _("Payment allocations"),
}


def count_rows(counts: dict) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    """(label, {"created": …, …}) for the summary table, from counts as objects or dicts."""
    return [
        (RECORD_LABELS.get(name, name), value if isinstance(value, dict) else value.as_dict())
        for name, value in counts.items()
    ]


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=KIND_CHOICES)
    file = forms.FileField(label=_("File (.xlsx or .csv)"))
    dry_run = forms.BooleanField(label=_("Dry run: check and count, write nothing"), required=False)
    skip_bad_rows = forms.BooleanField(
        label=_("Skip bad rows and write the good ones"), required=False
    )


def _require_importer(request: HttpRequest) -> None:
    try:
        import_authorize(actor=request.user)  # type: ignore[arg-type]
    except KehuError as error:
        raise PermissionDenied(error.message) from error


KIND_LABELS = {**dict(KIND_CHOICES), "transactions": _("Purchase log")}


def _past_runs() -> list[tuple[ImportRun, str]]:
    runs = ImportRun.objects.select_related("started_by").order_by("-started_at")[:SHOWN_RUNS]
    return [(run, str(KIND_LABELS.get(run.kind, run.kind))) for run in runs]


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    result = None
    failure = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = _import_upload(request, form.cleaned_data)
            except KehuError as error:
                failure = error.message
            else:
                error_report_store(result=result)
    else:
        form = ImportForm()
    return render(
        request,
        "imports/import.html",
        {
            "form": form,
            "result": result,
            "status_label": ImportRun.Status(result.status).label if result else "",
            "count_rows": count_rows(result.counts) if result else [],
            "failure": failure,
            "shown_errors": result.errors[:SHOWN_ERRORS] if result else [],
            "hidden_error_count": max(len(result.errors) - SHOWN_ERRORS, 0) if result else 0,
            "runs": _past_runs(),
        },
    )


def _import_upload(request: HttpRequest, data: dict):  # type: ignore[no-untyped-def]
    upload = data["file"]
    suffix = Path(upload.name).suffix.lower()[:10]
    with tempfile.TemporaryDirectory(prefix="kehu-import-") as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        common = {
            "path": path,
            "dry_run": data["dry_run"],
            "skip_bad_rows": data["skip_bad_rows"],
            "actor": request.user,
            "file_name": upload.name,
        }
        if data["kind"] == "cdnow":
            return import_transactions(format="cdnow", **common)
        return import_file(kind=data["kind"], **common)


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    _require_importer(request)
    run = get_object_or_404(ImportRun.objects.select_related("started_by"), pk=run_id)
    return render(
        request,
        "imports/run.html",
        {
            "run": run,
            "kind_label": KIND_LABELS.get(run.kind, run.kind),
            "count_rows": count_rows(run.summary.get("counts", {})),
            "has_report": bool(run.summary.get("error_report")),
        },
    )


@login_required
def error_report(request: HttpRequest, run_id: int) -> FileResponse:
    _require_importer(request)
    run = get_object_or_404(ImportRun, pk=run_id)
    name = run.summary.get("error_report")
    if not name or not default_storage.exists(name):
        raise Http404(_("This import has no error report."))
    return FileResponse(
        default_storage.open(name, "rb"),
        as_attachment=True,
        filename=f"{Path(run.file_name).stem}-errors.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
