"""Importing files: the one entry point for the upload page, the command line and the benchmark.

Every import checks every row first. A file with a bad row writes nothing, unless the caller
asks to skip bad rows; then the good rows are written in one transaction, all or nothing. A dry
run checks and counts without writing. Every import, refused, dry or done, leaves an ImportRun
with its counts and errors.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import Role, User
from kehu.core.errors import KehuError, PermissionDenied, ValidationFailed
from kehu.imports import cdnow
from kehu.imports.columns import KINDS
from kehu.imports.kinds import contacts, customers, invoices, orders, payments, products
from kehu.imports.kinds.base import Context, Counts, Plan, Progress, ProgressCallback
from kehu.imports.models import ImportRun
from kehu.imports.readers import FileRefused, Table, read_table
from kehu.imports.validation import MappedTable, RowError, RowErrors, header_matcher, map_headers

PLANNERS: dict[str, Callable[[MappedTable, RowErrors, Context], Plan]] = {
    "customers": customers.plan,
    "contacts": contacts.plan,
    "products": products.plan,
    "orders": orders.plan,
    "invoices": invoices.plan,
    "payments": payments.plan,
}
TRANSACTION_FORMATS = ("cdnow",)
IMPORTING_ROLES = frozenset({Role.ADMINISTRATOR, Role.FINANCE})
# An ImportRun keeps this many errors; the result (and the error report) keeps them all.
STORED_ERRORS = 1_000


@dataclass
class ImportResult:
    kind: str
    dry_run: bool
    status: str
    counts: dict[str, Counts]
    errors: list[RowError]
    warnings: list[str] = field(default_factory=list)
    run_id: int = 0
    file_name: str = ""
    rows: int = 0
    seconds: float = 0.0
    # For the error report: the file's headers and the cells of every refused row.
    headers: list[str] = field(default_factory=list)
    refused_rows: dict[int, list[str | None]] = field(default_factory=dict)
    table: Table | None = field(default=None, repr=False)

    @property
    def is_written(self) -> bool:
        return self.status == ImportRun.Status.DONE

    @property
    def refused_count(self) -> int:
        return sum(counts.refused for counts in self.counts.values())

    @property
    def is_clean(self) -> bool:
        """Nothing refused: no error, no refused row, and the file was accepted."""
        return not self.errors and self.status in {ImportRun.Status.DONE, ImportRun.Status.DRY_RUN}

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "status": self.status,
            "counts": {name: counts.as_dict() for name, counts in self.counts.items()},
            "errors": [error.as_dict() for error in self.errors],
        }


def import_authorize(*, actor: User | None) -> None:
    """Only administrators and finance import. No actor: the operator of the command line."""
    if actor is None or actor.is_superuser or actor.role in IMPORTING_ROLES:
        return
    raise PermissionDenied(_("Only administrators and finance may import data."))


def import_file(
    *,
    kind: str,
    path: Path | str,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    actor: User | None = None,
    progress: ProgressCallback | None = None,
    file_name: str | None = None,
) -> ImportResult:
    """Import one .xlsx or .csv file of one kind (customers, contacts, products, orders,
    invoices, payments). `file_name` is what the user called the file (an upload's name)."""
    if kind not in KINDS:
        raise ValidationFailed(
            _("Unknown kind of import %(kind)r; one of: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(KINDS)}
        )
    path = Path(path)

    def make_plan(errors: RowErrors, context: Context, result: ImportResult) -> Plan | None:
        context.progress.start(_("Reading the file"), None)
        table = read_table(path, is_header=header_matcher(kind))
        mapped, warnings, usable = map_headers(table, kind, errors)
        result.rows = len(table)
        result.headers = list(table.headers)
        result.warnings = warnings
        result.table = table
        if not usable:
            return None
        return PLANNERS[kind](mapped, errors, context)

    return _run(
        kind=kind,
        path=path,
        file_name=file_name or path.name,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        actor=actor,
        progress=progress,
        make_plan=make_plan,
        primary=kind,
    )


def import_transactions(
    *,
    format: str,
    path: Path | str,
    owner: str | None = None,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    actor: User | None = None,
    progress: ProgressCallback | None = None,
    file_name: str | None = None,
) -> ImportResult:
    """Import a purchase log of a known format (CDNOW) as customers, one product and orders.
    `owner` is the username of the customers' owner; default: the "import" rep."""
    if format not in TRANSACTION_FORMATS:
        raise ValidationFailed(
            _("Unknown transaction format %(format)r; one of: %(formats)s.")
            % {"format": format, "formats": ", ".join(TRANSACTION_FORMATS)}
        )
    path = Path(path)

    def make_plan(errors: RowErrors, context: Context, result: ImportResult) -> Plan | None:
        result.headers = list(cdnow.COLUMNS)
        planned = cdnow.plan(path, errors, context, owner)
        result.rows = sum(
            counts.created + counts.unchanged + counts.refused
            for name, counts in planned.counts.items()
            if name == "orders"
        )
        return planned

    return _run(
        kind="transactions",
        path=path,
        file_name=file_name or path.name,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        actor=actor,
        progress=progress,
        make_plan=make_plan,
        primary="orders",
    )


@contextmanager
def _garbage_collection_paused() -> Iterator[None]:
    """An import holds millions of small objects; Python's cycle collector would walk them all
    again and again while they are made (it doubled the time of a million-line import). The
    import makes no reference cycles worth collecting, so the collector waits until it ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run(
    *,
    kind: str,
    path: Path,
    file_name: str,
    dry_run: bool,
    skip_bad_rows: bool,
    actor: User | None,
    progress: ProgressCallback | None,
    make_plan: Callable[[RowErrors, Context, ImportResult], Plan | None],
    primary: str,
) -> ImportResult:
    import_authorize(actor=actor)
    started = time.perf_counter()
    run = ImportRun.objects.create(
        kind=kind, file_name=file_name[:255], started_by=actor, is_dry_run=dry_run
    )
    context = Context(
        actor=actor,
        progress=Progress(progress),
        today=timezone.localdate(),
        now=timezone.now(),
        file_name=file_name,
    )
    with _garbage_collection_paused():
        return _run_checked(
            run,
            context,
            make_plan,
            primary=primary,
            kind=kind,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
            started=started,
        )


def _run_checked(
    run: ImportRun,
    context: Context,
    make_plan: Callable[[RowErrors, Context, ImportResult], Plan | None],
    *,
    primary: str,
    kind: str,
    dry_run: bool,
    skip_bad_rows: bool,
    started: float,
) -> ImportResult:
    file_name = context.file_name
    errors = RowErrors()
    result = ImportResult(
        kind=kind,
        dry_run=dry_run,
        status=ImportRun.Status.RUNNING,
        counts={primary: Counts()},
        errors=[],
        run_id=run.pk,
        file_name=file_name,
    )
    try:
        try:
            plan = make_plan(errors, context, result)
        except FileRefused as error:
            errors.add(None, None, None, str(error))
            plan = None
        if plan is not None:
            result.counts = plan.counts
            result.warnings += plan.warnings
        if plan is None or (errors and not skip_bad_rows):
            status = ImportRun.Status.REFUSED
        elif dry_run:
            status = ImportRun.Status.DRY_RUN
        else:
            try:
                with transaction.atomic():
                    plan.write()
                    # The database checks deferred constraints when it commits (a few
                    # seconds for a million rows on PostgreSQL): keep the bar moving.
                    context.progress.start(_("Committing"), None)
                context.progress.start(_("Committing"), 1)
                context.progress.finish()
                status = ImportRun.Status.DONE
            except (DatabaseError, KehuError) as error:
                errors.add(
                    None,
                    None,
                    None,
                    _("The database refused the import, so nothing was written: %(error)s")
                    % {"error": getattr(error, "message", None) or error},
                )
                status = ImportRun.Status.FAILED
        if status in {ImportRun.Status.REFUSED, ImportRun.Status.FAILED}:
            for counts in result.counts.values():
                counts.created = counts.updated = counts.unchanged = 0
    except BaseException:
        run.status = ImportRun.Status.FAILED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        raise
    result.status = status
    result.errors = errors.sorted(result.headers)
    if result.table is not None:
        table = result.table
        result.refused_rows = {
            row_number: table.row(index)
            for index, row_number in enumerate(table.row_numbers)
            if row_number in errors.refused_rows
        }
        result.table = None
    result.seconds = round(time.perf_counter() - started, 3)
    run.status = status
    run.finished_at = timezone.now()
    run.summary = {
        "counts": {name: counts.as_dict() for name, counts in result.counts.items()},
        "rows": result.rows,
        "seconds": result.seconds,
        "error_count": len(result.errors),
        "skip_bad_rows": skip_bad_rows,
        "warnings": result.warnings,
    }
    run.errors = [error.as_dict() for error in result.errors[:STORED_ERRORS]]
    run.save(update_fields=["status", "finished_at", "summary", "errors"])
    return result
