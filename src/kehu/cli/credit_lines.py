"""`kehu credit reviews-scan`: open re-survey tasks for customers with an item overdue too long
and for credit lines near their end (§5.3). The lead adds these commands to the `credit` group
with `register_lines(credit_app)`."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=1)


def reviews_scan(
    today: Annotated[
        str | None, typer.Option("--today", help="the day to scan as, YYYY-MM-DD; default today")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of text")] = False,
) -> None:
    """Open re-survey tasks on the owners' task lists. Safe to run again: a customer keeps one
    open task per reason."""
    from kehu.cli.main import setup_django

    setup_django()
    from django.utils import timezone

    from kehu.core.errors import KehuError
    from kehu.credit.services.lines import credit_reviews_scan

    try:
        day = dt.date.fromisoformat(today) if today else timezone.localdate()
    except ValueError as error:
        raise _fail(f"--today {today!r} is not a date (YYYY-MM-DD)") from error
    try:
        scan = credit_reviews_scan(today=day)
    except KehuError as error:
        raise _fail(error.message) from error
    result = {
        "today": day.isoformat(),
        "opened_overdue": scan.opened_overdue,
        "opened_line_expiring": scan.opened_line_expiring,
        "already_open": scan.already_open,
    }
    if as_json:
        typer.echo(json.dumps(result))
        return
    Console().print(
        f"{day.isoformat()}: opened {scan.opened_overdue} task(s) for overdue items and "
        f"{scan.opened_line_expiring} for lines near their end; {scan.already_open} already open.",
        highlight=False,
    )


def register_lines(credit_app: typer.Typer) -> None:
    """Add the credit-line commands to the `kehu credit` group."""
    credit_app.command("reviews-scan")(reviews_scan)
