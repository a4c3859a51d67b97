"""`kehu credit rate`: the quarterly re-rating of every customer (domain §5.2), or one customer
now. Run as the whole company (no user filter): the command line is an operator's tool."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=1)


def _rating_payload(rating: Any) -> dict[str, Any]:
    return {
        "customer": rating.customer.code,
        "rating": rating.pk,
        "as_of": rating.rated_on.isoformat(),
        "period": rating.period,
        "template": rating.template_id,
        "version": rating.template.version,
        "score": str(rating.score),
        "grade": rating.grade,
        "score_change": None if rating.score_change is None else str(rating.score_change),
        "grade_change": rating.grade_change,
        "missing_inputs": rating.missing_count,
        "items": [
            {
                "indicator": item.indicator.code,
                "value": None if item.value is None else str(item.value),
                "choice": item.choice,
                "is_missing": item.is_missing,
                "points": str(item.points),
            }
            for item in rating.items.select_related("indicator").order_by(
                "indicator__group__position", "indicator__position"
            )
        ],
    }


def rate(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="the data date, YYYY-MM-DD; default the end of the last quarter (one customer: "
            "today)",
        ),
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="rate only this customer (its code) now")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Re-rate every customer that has bought (or has a survey) from the quarter's data, with
    the template in force; customers already rated for that quarter are skipped. With
    --customer, rate that one customer now."""
    from kehu.cli.main import setup_django

    setup_django()
    from kehu.core.errors import KehuError
    from kehu.credit.services.ratings import credit_rating_run, credit_ratings_run_period
    from kehu.customers.models import Customer

    try:
        date = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError as error:
        raise _fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from error
    console = Console(stderr=as_json)
    if customer is not None:
        found = Customer.objects.filter(code=customer).first()
        if found is None:
            raise _fail(f"no customer with the code {customer!r}")
        try:
            rating = credit_rating_run(customer=found, actor=None, as_of=date)
        except KehuError as error:
            raise _fail(error.message) from error
        payload = _rating_payload(rating)
        if as_json:
            typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        table = Table(
            title=f"{found.code} {found.name}: {rating.grade} with {rating.score} points "
            f"(as of {rating.rated_on}, template v{rating.template.version})"
        )
        for column in ("indicator", "value", "points", "missing"):
            table.add_column(column, justify="left" if column == "indicator" else "right")
        for item in payload["items"]:
            table.add_row(
                item["indicator"],
                item["value"] or item["choice"] or "—",
                item["points"],
                "missing" if item["is_missing"] else "",
            )
        console.print(table)
        return
    with Progress(
        TextColumn("[bold]Rating customers"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
    ) as progress:
        task = progress.add_task("rate", total=None)

        def report(completed: int, total: int) -> None:
            progress.update(task, completed=completed, total=total)

        try:
            run = credit_ratings_run_period(as_of=date, actor=None, progress=report)
        except KehuError as error:
            progress.stop()
            raise _fail(error.message) from error
    summary = run.as_dict()
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    table = Table(
        title=f"Ratings of {run.period} (as of {run.as_of}) in {run.seconds:.1f} s: "
        f"{run.rated:,} rated, {run.skipped:,} already rated"
    )
    table.add_column("grade")
    table.add_column("customers", justify="right")
    for grade, count in summary["by_grade"].items():
        table.add_row(grade, f"{count:,}")
    table.add_section()
    table.add_row("grade rose", f"{run.rose:,}")
    table.add_row("grade dropped", f"{run.dropped:,}")
    table.add_row("re-survey tasks opened", f"{run.tasks_opened:,}")
    table.add_row("missing inputs", f"{run.missing_inputs:,}")
    console.print(table)


def register_ratings(credit_app: typer.Typer) -> None:
    """Add `rate` to the `kehu credit` group."""
    credit_app.command("rate")(rate)
