"""`kehu demo` and `kehu serve`: build the demo company, and serve Kehu with Granian (WSGI)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()
# Django runs one request per thread; Granian's own advice is at most 2 × cores + 1 of them.
SERVE_THREADS_PER_WORKER = 2 * (os.cpu_count() or 1) + 1

STAGE_LABELS = {
    "clearing": "Clearing the old data",
    "company": "Organisation, users and catalogue",
    "customers": "Customers and three years of history",
    "finishing": "Statistics for the query planner",
}


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command()(demo)
    app.command()(serve)


def demo(
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed builds the same company.")
    ] = 42,
    customers: Annotated[int, typer.Option(help="How many customers to create.")] = 2_000,
    reset: Annotated[
        bool,
        typer.Option("--reset/--no-reset", help="Empty the business tables first (never merges)."),
    ] = False,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the demo once it is built.")
    ] = True,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
) -> None:
    """Build a believable demo company (users, catalogue, customers, three years of history)."""
    _production_defaults()
    from kehu.cli.main import setup_django

    setup_django()
    from django.core.management import call_command

    from kehu.core.errors import KehuError
    from kehu.demo.services import demo_build

    with console.status("Migrating the database…"):
        call_command("migrate", interactive=False, verbosity=0)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(*, stage: str, completed: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(STAGE_LABELS.get(stage, stage), total=total)
            progress.update(tasks[stage], completed=completed, total=total)

        try:
            summary = demo_build(seed=seed, customers=customers, reset=reset, progress=report)
        except KehuError as error:
            progress.stop()
            if serve_after:
                # `make demo` twice: the company is there already; serve it as it is.
                console.print(f"[yellow]{error.message}[/yellow]")
                console.print(
                    f"Serving what is there on http://{host}:{port}/ (demo password: "
                    "kehu-demo). Build anew with [bold]kehu demo --reset[/bold]."
                )
                _serve(host=host, port=port, workers=1)
                return
            console.print(f"[red]{error.message}[/red]")
            console.print(
                "Serve what is there with [bold]kehu serve[/bold], or build anew with "
                "[bold]kehu demo --reset[/bold]."
            )
            raise typer.Exit(code=1) from error

    counts = Table(
        title=f"Demo built in {summary.seconds:.1f} s (seed {summary.seed}, "
        f"{summary.first_day} – {summary.today})"
    )
    counts.add_column("Table")
    counts.add_column("Rows", justify="right")
    for label, count in summary.counts.items():
        counts.add_row(label, f"{count:,}")
    console.print(counts)
    _first_value_snapshot(customers=customers)
    _credit_side(customers=customers, today=summary.today, seed=seed)
    console.print(_logins_table(summary.logins, host=host, port=port))
    if serve_after:
        _serve(host=host, port=port, workers=1)


def serve(
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve Kehu with Granian (WSGI); static files are served by the app itself.

    Applies pending migrations first, so that an upgraded Kehu never serves an old schema.
    """
    _production_defaults()
    from kehu.cli.main import setup_django

    setup_django()
    from django.core.management import call_command

    with console.status("Migrating the database…"):
        call_command("migrate", interactive=False, verbosity=0)
    _serve(host=host, port=port, workers=workers)


# Above this size the first value snapshot is left to `kehu analyze` (it is a benchmark then).
SNAPSHOT_ON_BUILD_UP_TO = 100_000


def _first_value_snapshot(*, customers: int) -> None:
    """Compute the last closed quarter's value snapshot so the value reports have data."""
    if customers > SNAPSHOT_ON_BUILD_UP_TO:
        console.print("Compute the value snapshot with [bold]kehu analyze[/bold].")
        return
    from django.utils import timezone

    from kehu.demo.segments import demo_segment_actions_build
    from kehu.value.periods import last_closed_quarter
    from kehu.value.services import value_snapshot_compute

    # The quarter before too, so the migration report has two snapshots to compare.
    previous = last_closed_quarter(last_closed_quarter(timezone.localdate()).start)
    with console.status("Computing the value snapshots of the last two closed quarters…"):
        value_snapshot_compute(period=previous.label)
        snapshot = value_snapshot_compute()
    console.print(
        f"Value snapshot {snapshot.period} ({snapshot.engine}): "
        f"{snapshot.customer_count:,} customers in {snapshot.seconds or 0:.1f} s"
    )
    demo_segment_actions_build(today=timezone.localdate())  # next actions on the worksheet


def _credit_side(*, customers: int, today, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Lines, surveys, two quarters of ratings, applications, holds and collection notes."""
    if customers > SNAPSHOT_ON_BUILD_UP_TO:
        console.print("Rate the customers with [bold]kehu credit rate[/bold].")
        return
    from kehu.demo.credit import demo_credit_build

    with console.status("Credit: lines, surveys, ratings, applications and holds…"):
        counts = demo_credit_build(today=today, seed=seed)
    console.print("Credit: " + ", ".join(f"{count:,} {label}" for label, count in counts.items()))


def _production_defaults() -> None:
    """A served Kehu shows no debug pages unless KEHU_DEBUG says so explicitly."""
    os.environ.setdefault("KEHU_DEBUG", "0")


def _logins_table(logins: list, *, host: str, port: int) -> Table:  # type: ignore[type-arg]
    from kehu.accounts.models import Role
    from kehu.demo.organisation import DEMO_PASSWORD

    shown_host = "127.0.0.1" if host in {"0.0.0.0", "::"} else host  # noqa: S104
    table = Table(
        title=f"Open http://{shown_host}:{port}/ — every demo login's password is "
        f"[bold]{DEMO_PASSWORD}[/bold]"
    )
    table.add_column("Role")
    table.add_column("Login", style="bold")
    table.add_column("Name")
    table.add_column("Org unit")
    table.add_column("More of the same role")
    seen: dict[str, list] = {}  # type: ignore[type-arg]
    for login in logins:
        seen.setdefault(login.role, []).append(login)
    for role in Role:
        members = seen.get(role.value, [])
        if not members:
            continue
        first = members[0]
        others = [m.username for m in members[1:]]
        more = ""
        if others:
            more = ", ".join(others) if len(others) <= 3 else f"{others[0]} … {others[-1]}"
        table.add_row(str(role.label), first.username, first.display_name, first.org_unit, more)
    return table


def _static_files_stale() -> bool:
    """True when STATIC_ROOT lacks the collected files or a source file is newer."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return True
    collected_at = manifest.stat().st_mtime
    for finder in finders.get_finders():
        for path, storage in finder.list([]):
            if Path(storage.path(path)).stat().st_mtime > collected_at:
                return True
    return False


def static_files_collect_if_stale() -> bool:
    """Collect the static files into the data dir when they are missing or out of date."""
    from django.core.management import call_command

    if not _static_files_stale():
        return False
    with console.status("Collecting static files…"):
        call_command("collectstatic", interactive=False, verbosity=0)
    return True


def _port_free_or_exit(*, host: str, port: int) -> None:
    """Granian binds with SO_REUSEPORT, so a second Kehu on a busy port would silently share
    it with the first (and its older code). Refuse instead, naming the port."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            console.print(
                f"[red]Port {port} on {host} is in use ({error.strerror}): is Kehu already "
                "serving? Stop it, or choose another port with --port.[/red]"
            )
            raise typer.Exit(code=1) from error


def _serve(*, host: str, port: int, workers: int) -> None:
    from django.conf import settings
    from django.db import connections
    from granian import Granian
    from granian.constants import Interfaces

    _port_free_or_exit(host=host, port=port)
    static_files_collect_if_stale()
    connections.close_all()  # the workers open their own
    if host not in settings.ALLOWED_HOSTS and host not in {"0.0.0.0", "::"}:  # noqa: S104
        console.print(
            f"[yellow]{host} is not in KEHU_ALLOWED_HOSTS: requests naming it "
            "will be refused.[/yellow]"
        )
    console.print(
        f"Serving Kehu on http://{host}:{port}/ with {workers} worker(s); Ctrl+C stops it."
    )
    Granian(
        target="kehu.config.wsgi:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=SERVE_THREADS_PER_WORKER,
        backpressure=SERVE_THREADS_PER_WORKER,
    ).serve()
