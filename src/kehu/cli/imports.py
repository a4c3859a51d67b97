"""`kehu import …`: load customers, contacts, products, orders, invoices and payments from
.xlsx or .csv files, and purchase logs (CDNOW).

Progress goes to stderr, so that `--json` leaves exactly one JSON object on stdout. The exit
code is 0 when every row was imported (or, with --dry-run, would be), 1 when any row or the
file was refused, 2 for a wrong command line (an unknown user in --as, a missing file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from kehu.imports.kinds import KINDS

if TYPE_CHECKING:
    from kehu.imports.services import ImportResult

SHOWN_ERRORS = 30

FileArgument = Annotated[
    Path,
    typer.Argument(help="the .xlsx or .csv file", exists=True, dir_okay=False, readable=True),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="check and count, write nothing")]
SkipOption = Annotated[
    bool,
    typer.Option("--skip-bad-rows", help="write the good rows even when some rows are bad"),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="print the result as one JSON object on stdout")
]
ErrorsOutOption = Annotated[
    Path | None,
    typer.Option(
        "--errors-out",
        help="write the refused rows and their reasons to this .xlsx file",
        dir_okay=False,
    ),
]
AsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="import as this user (recorded as who imported, owner of new customers without one)",
    ),
]


class ProgressBars:
    """A Rich progress bar per stage, on stderr."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressBars:
        self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.progress.stop()

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        task = self.tasks.get(stage)
        if task is None:
            task = self.tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(task, completed=done, total=total)


def _console(*, stderr: bool) -> Console:
    return Console(stderr=stderr, highlight=False)


def _fail(message: str, code: int = 2) -> typer.Exit:
    _console(stderr=True).print(f"[red]error:[/red] {message}")
    return typer.Exit(code=code)


def _actor(username: str | None):  # type: ignore[no-untyped-def]
    if username is None:
        return None
    from kehu.accounts.models import User

    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise _fail(f"no user with the username {username!r}") from None


def _summary(result: ImportResult, console: Console) -> None:
    from django.utils.translation import gettext as _

    table = Table(title=f"{result.kind} · {result.file_name} · {result.status}")
    table.add_column(_("Records"))
    for heading in (_("Created"), _("Updated"), _("Unchanged"), _("Refused")):
        table.add_column(heading, justify="right")
    for name, counts in result.counts.items():
        table.add_row(
            name,
            str(counts.created),
            str(counts.updated),
            str(counts.unchanged),
            str(counts.refused),
        )
    console.print(table)
    for warning in result.warnings:
        console.print(f"[yellow]{warning}[/yellow]")
    if result.errors:
        errors = Table(title=_("Errors"))
        for heading in (_("Row"), _("Column"), _("Value"), _("Reason")):
            errors.add_column(heading)
        for error in result.errors[:SHOWN_ERRORS]:
            errors.add_row(
                "" if error.row is None else str(error.row),
                error.column or "",
                error.value or "",
                error.reason,
            )
        console.print(errors)
        if len(result.errors) > SHOWN_ERRORS:
            console.print(
                _("… and %(count)d more errors.") % {"count": len(result.errors) - SHOWN_ERRORS}
            )
    if result.status == "refused":
        console.print(
            "[red]"
            + _(
                "Nothing was written: fix the rows above, or import with "
                "--skip-bad-rows to write the good rows."
            )
            + "[/red]"
        )
    elif result.status == "dry_run":
        console.print(_("Dry run: nothing was written."))
    console.print(
        _("%(rows)d rows in %(seconds).1f s.") % {"rows": result.rows, "seconds": result.seconds}
    )


def _finish(result: ImportResult, *, as_json: bool, errors_out: Path | None) -> None:
    if errors_out is not None and result.errors:
        from kehu.imports.report import write_error_report

        write_error_report(result, errors_out)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        _summary(result, _console(stderr=False))
        if errors_out is not None and result.errors:
            _console(stderr=False).print(f"error report: {errors_out}")
    if not result.is_clean:
        raise typer.Exit(code=1)


def _run(  # type: ignore[no-untyped-def]
    call, *, kind: str, dry_run: bool, as_json: bool, errors_out: Path | None
) -> None:
    from kehu.core.errors import KehuError

    try:
        with ProgressBars(_console(stderr=True)) as bars:
            result = call(bars)
    except KehuError as error:
        # Refused before any row was read (not allowed, unknown format): still one JSON object.
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "kind": kind,
                        "dry_run": dry_run,
                        "status": "refused",
                        "counts": {},
                        "errors": [
                            {"row": None, "column": None, "value": None, "reason": error.message}
                        ],
                    },
                    ensure_ascii=False,
                )
            )
        raise _fail(error.message, code=1) from None
    _finish(result, as_json=as_json, errors_out=errors_out)


def _kind_command(kind: str):  # type: ignore[no-untyped-def]
    def command(
        file: FileArgument,
        dry_run: DryRunOption = False,
        skip_bad_rows: SkipOption = False,
        as_json: JsonOption = False,
        errors_out: ErrorsOutOption = None,
        as_user: AsOption = None,
    ) -> None:
        from kehu.cli.main import setup_django

        setup_django()
        from kehu.imports.services import import_file

        actor = _actor(as_user)
        _run(
            lambda bars: import_file(
                kind=kind,
                path=file,
                dry_run=dry_run,
                skip_bad_rows=skip_bad_rows,
                actor=actor,
                progress=bars,
            ),
            kind=kind,
            dry_run=dry_run,
            as_json=as_json,
            errors_out=errors_out,
        )

    command.__doc__ = f"Import {kind} from an .xlsx or .csv file (see docs/import-columns.md)."
    return command


def transactions(
    file: FileArgument,
    format: Annotated[
        str, typer.Option("--format", help="the purchase log's format: cdnow")
    ] = "cdnow",
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="username owning the new customers (default: 'import')"),
    ] = None,
    dry_run: DryRunOption = False,
    skip_bad_rows: SkipOption = False,
    as_json: JsonOption = False,
    errors_out: ErrorsOutOption = None,
    as_user: AsOption = None,
) -> None:
    """Import a purchase log (CDNOW: customer id, date, CDs, dollars) as customers and orders."""
    from kehu.cli.main import setup_django

    setup_django()
    from kehu.imports.services import import_transactions

    actor = _actor(as_user)
    _run(
        lambda bars: import_transactions(
            format=format,
            path=file,
            owner=owner,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
            actor=actor,
            progress=bars,
        ),
        kind="transactions",
        dry_run=dry_run,
        as_json=as_json,
        errors_out=errors_out,
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    import_app = typer.Typer(
        help="Import data from .xlsx or .csv files (headers in Chinese or English).",
        no_args_is_help=True,
    )
    for kind in KINDS:
        import_app.command(kind)(_kind_command(kind))
    import_app.command("transactions")(transactions)
    app.add_typer(import_app, name="import")
