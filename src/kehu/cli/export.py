"""`kehu export parquet`: the ledger as Parquet files, for the Spark engine or other tools."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

export_app = typer.Typer(
    help="Export the ledger for analytics outside Kehu (Parquet).", no_args_is_help=True
)


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=1)


@export_app.command("parquet")
def parquet(
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="directory for the files (created if needed; files are replaced)"
        ),
    ],
) -> None:
    """Write the nine tables the value engines read (customers, orders, returns, activities,
    complaints, invoices, allocations, credit notes, write-offs) as Parquet, one file each,
    with a manifest.json. Money is in cents, dates are day numbers since 1970-01-01.

    Point KEHU_SPARK_PARQUET at the directory to run `kehu analyze --engine spark` on it.
    """
    from kehu.cli.main import setup_django

    setup_django()
    from kehu.core.errors import KehuError
    from kehu.value.engine.parquet import ExportStep, export_ledger

    console = Console()
    with Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def show(step: ExportStep) -> None:
            if step.table not in tasks:
                tasks[step.table] = progress.add_task(step.table, total=None)
            task = tasks[step.table]
            if step.stage == "reading":
                progress.update(task, description=f"{step.table} (reading)")
            else:
                progress.update(
                    task, description=step.table, total=step.rows, completed=step.rows_written
                )

        try:
            manifest = export_ledger(out, progress=show)
        except KehuError as error:
            raise _fail(str(error)) from error

    table = Table(title=f"Parquet export in {out}")
    table.add_column("table")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, entry in manifest["tables"].items():
        table.add_row(name, entry["file"], f"{entry['rows']:,}")
    console.print(table)
    console.print(
        f"manifest.json: schema version {manifest['schema_version']}, "
        f"written at {manifest['written_at']}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add the `export` commands to the main app."""
    app.add_typer(export_app, name="export")
