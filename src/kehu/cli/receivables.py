"""`kehu receivables aging`: the aging of receivables as of a date, as a table, JSON or .xlsx."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

receivables_app = typer.Typer(
    help="Receivables 应收账款: aging as of a date, statements of account.", no_args_is_help=True
)

GROUPINGS = {"company", "region", "team", "rep", "customer", "year", "pyramid"}


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=1)


@receivables_app.command("aging")
def aging(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the date, YYYY-MM-DD; default today")
    ] = None,
    by: Annotated[
        str, typer.Option("--by", help="company, region, team, rep, customer, year or pyramid")
    ] = "company",
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="also write this .xlsx file")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Open receivables as of a date, by aging bucket, rolled up by the chosen grouping.

    Run as the whole company (no user filter): the command line is an operator's tool.
    """
    from kehu.cli.main import setup_django

    setup_django()
    from django.utils import timezone

    from kehu.accounts.models import Role, User
    from kehu.core.errors import KehuError
    from kehu.receivables.aging import aging_as_of

    if by not in GROUPINGS:
        raise _fail(f"--by {by!r}: one of {', '.join(sorted(GROUPINGS))}")
    try:
        date = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    except ValueError as error:
        raise _fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from error
    # Everything the company holds: as a finance controller sees it (not saved).
    operator = User(username="cli", role=Role.FINANCE, is_active=True)
    try:
        report = aging_as_of(user=operator, as_of=date, group_by=by)
    except KehuError as error:
        raise _fail(error.message) from error

    if xlsx is not None:
        _write_xlsx(report, xlsx)
    if as_json:
        payload = {
            "as_of": report.as_of.isoformat(),
            "group_by": report.group_by,
            "buckets": [bucket.key for bucket in report.buckets],
            "rows": [
                {
                    "key": row.key,
                    "label": row.label,
                    "amounts": [str(amount) for amount in row.amounts],
                    "total": str(row.total),
                    "invoice_count": row.invoice_count,
                }
                for row in report.rows
            ],
            "totals": [str(amount) for amount in report.totals],
            "total": str(report.total),
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Aging as of {report.as_of} by {report.group_by}")
    table.add_column(by)
    for bucket in report.buckets:
        table.add_column(bucket.label, justify="right")
    table.add_column("total", justify="right")
    table.add_column("invoices", justify="right")
    for row in report.rows:
        table.add_row(
            row.label,
            *[f"{amount:,.2f}" for amount in row.amounts],
            f"{row.total:,.2f}",
            f"{row.invoice_count:,}",
        )
    table.add_section()
    table.add_row(
        "total",
        *[f"{amount:,.2f}" for amount in report.totals],
        f"{report.total:,.2f}",
        f"{report.invoice_count:,}",
    )
    Console().print(table)


@receivables_app.command("aging-snapshot")
def aging_snapshot(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the date, YYYY-MM-DD; default today")
    ] = None,
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="a grouping to store (repeatable); default: company"),
    ] = None,
) -> None:
    """Compute and store the company's aging snapshot 账龄快照 as of a date (the pages of those
    who see the whole company read it), and delete stale snapshots. For the nightly refresh:
    run it from the operator's scheduler, or enqueue receivables.tasks.aging_snapshots_nightly.
    """
    from kehu.cli.main import setup_django

    setup_django()
    from django.utils import timezone

    from kehu.core.errors import KehuError
    from kehu.receivables.aging_snapshots import aging_snapshots_refresh

    groupings = tuple(by or ["company"])
    unknown = [grouping for grouping in groupings if grouping not in GROUPINGS]
    if unknown:
        raise _fail(f"--by {unknown[0]!r}: one of {', '.join(sorted(GROUPINGS))}")
    try:
        date = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    except ValueError as error:
        raise _fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from error
    try:
        snapshots = aging_snapshots_refresh(as_of=date, group_bys=groupings)
    except KehuError as error:
        raise _fail(error.message) from error
    console = Console()
    for snapshot in snapshots:
        total = sum(sum(row["amounts"]) for row in snapshot.rows)
        console.print(
            f"aging snapshot as of {snapshot.as_of} by {snapshot.group_by}: "
            f"{len(snapshot.rows):,} rows, total {total // 100:,}.{total % 100:02d}, "
            f"computed at {snapshot.computed_at:%Y-%m-%d %H:%M:%S} in {snapshot.seconds:.2f} s",
            highlight=False,
        )


@receivables_app.command("statement")
def statement(
    customer_code: Annotated[str, typer.Argument(help="the customer's code")],
    date_from: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD")],
    date_to: Annotated[str, typer.Option("--to", help="last day, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option("--out", help="the file to write: .pdf or .xlsx")],
) -> None:
    """A customer's statement of account 对账单 for a period, as .pdf or .xlsx.

    Run as the whole company (no user filter): the command line is an operator's tool.
    """
    from kehu.cli.main import setup_django

    setup_django()
    from kehu.accounts.models import Role, User
    from kehu.core.errors import KehuError
    from kehu.customers.models import Customer
    from kehu.receivables.statements import statement_for, statement_pdf, statement_xlsx

    suffix = out.suffix.lower()
    if suffix not in {".pdf", ".xlsx"}:
        raise _fail(f"--out {out}: the file name must end in .pdf or .xlsx")
    dates = []
    for option, raw in (("--from", date_from), ("--to", date_to)):
        try:
            dates.append(dt.date.fromisoformat(raw))
        except ValueError as error:
            raise _fail(f"{option} {raw!r} is not a date (YYYY-MM-DD)") from error
    customer = Customer.objects.filter(code=customer_code).first()
    if customer is None:
        raise _fail(f"no customer with the code {customer_code!r}")
    operator = User(username="cli", role=Role.FINANCE, is_active=True)
    try:
        result = statement_for(user=operator, customer_id=customer.pk, start=dates[0], end=dates[1])
        body = statement_pdf(result) if suffix == ".pdf" else statement_xlsx(result)
    except KehuError as error:
        raise _fail(error.message) from error
    out.write_bytes(body)
    Console().print(
        f"{customer.code} {customer.name} {result.start} – {result.end}: "
        f"opening {result.opening_balance:,.2f}, {len(result.lines)} lines, "
        f"closing {result.closing_balance:,.2f} → {out}",
        highlight=False,
    )


def _write_xlsx(report, path: Path) -> None:  # type: ignore[no-untyped-def]
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("aging")
    money = workbook.add_format({"num_format": "#,##0.00"})
    header = [report.group_by, *[b.label for b in report.buckets], "total", "invoices"]
    for column, title in enumerate(header):
        sheet.write_string(0, column, str(title))
    line = 0
    for line, row in enumerate(report.rows, start=1):
        sheet.write_string(line, 0, row.label)
        for index, amount in enumerate([*row.amounts, row.total]):
            sheet.write_number(line, 1 + index, float(amount), money)
        sheet.write_number(line, len(header) - 1, row.invoice_count)
    sheet.write_string(line + 1, 0, "total")
    for index, amount in enumerate([*report.totals, report.total]):
        sheet.write_number(line + 1, 1 + index, float(amount), money)
    sheet.write_number(line + 1, len(header) - 1, report.invoice_count)
    workbook.close()


def register(app: typer.Typer) -> None:
    app.add_typer(receivables_app, name="receivables")
