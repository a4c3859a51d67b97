"""`kehu analyze`: compute the value snapshot of a period and print its summary."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

# The steps the snapshot service names through its `progress` callback, in order (an engine
# that reads in the database skips the first; a step the service does not name is skipped).
ANALYZE_STEPS = ("reading the ledger", "aggregating", "scoring", "lifetime value", "writing")


def step_position(name: str) -> int | None:
    """The 0-based place of a step the service names (matched on its start), else None."""
    for position, step in enumerate(ANALYZE_STEPS):
        if name.startswith(step) or step.startswith(name):
            return position
    return None


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=1)


def analyze(
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="2025 (a year), 2025Q4 (a quarter) or 2025-11 (a month); "
            "default: the last closed quarter",
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="duckdb (in process), postgres (in the database) or spark (Apache Spark on a "
            "Parquet export; KEHU_SPARK_MASTER, KEHU_SPARK_PARQUET)",
        ),
    ] = "duckdb",
    measure: Annotated[
        str | None,
        typer.Option("--measure", help="gross_profit or revenue; default: the value setting"),
    ] = None,
) -> None:
    """Compute the customer value snapshot of a period (pyramid, RFM, cost to serve, classes)."""
    from kehu.cli.main import setup_django

    setup_django()
    import numpy as np

    from kehu.core.errors import KehuError
    from kehu.value.concentration import concentration
    from kehu.value.services_refresh import value_snapshot_refresh

    console = Console()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("starting", total=len(ANALYZE_STEPS))

        def step(description: str) -> None:
            position = step_position(description)
            if position is None:
                progress.update(task, description=description)
            else:
                progress.update(task, description=description, completed=position)

        try:
            snapshot = value_snapshot_refresh(
                period=period,
                engine=engine,
                measure=measure,
                progress=step,
                trigger="command line",
            )
        except KehuError as error:
            raise _fail(str(error)) from error
        progress.update(task, description="done", completed=len(ANALYZE_STEPS))

    field = snapshot.measure
    values = np.array(
        [
            int(value * 100)
            for value in snapshot.rows.exclude(rank__isnull=True).values_list(field, flat=True)
        ],
        dtype=np.int64,
    )
    pareto = concentration(values)
    counts = snapshot.parameters.get("pyramid_counts", {})
    table = Table(title=f"Value snapshot {snapshot.period} ({snapshot.engine})")
    table.add_column("")
    table.add_column("", justify="right")
    table.add_row("window", f"{snapshot.window_start} … {snapshot.window_end}")
    table.add_row("customers", f"{snapshot.customer_count:,}")
    table.add_row("active", f"{snapshot.active_count:,}")
    for name in ("vip", "major", "ordinary", "small", "inactive", "prospect"):
        table.add_row(f"  {name}", f"{counts.get(name, 0):,}")
    table.add_row(
        f"top 20% share of {field.replace('_', ' ')}",
        "—" if pareto.top_share is None else f"{pareto.top_share:.1%}",
    )
    table.add_row("revenue", f"{snapshot.total_revenue:,}")
    table.add_row("gross profit", f"{snapshot.total_gross_profit:,}")
    table.add_row("net profit", f"{snapshot.total_net_profit:,}")
    table.add_row("seconds", f"{snapshot.seconds:.2f}")
    console.print(table)
    if snapshot.message:
        console.print(f"[yellow]{snapshot.status}:[/yellow] {snapshot.message}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
