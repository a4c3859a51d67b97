"""`kehu worker`: run the background jobs — the scheduler and the task queue in one process.

The scheduler (a thread) ticks every 30 seconds and queues the jobs whose time has come
(kehu.schedules); the task worker of django-tasks-db (the main thread, as `manage.py
db_worker` runs it) takes the queued tasks one by one and runs them. Ctrl-C (or SIGTERM) stops
both: the task running is finished first (a second Ctrl-C aborts it). Several workers may run
at once: each job is queued once per time however many schedulers tick.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console

console = Console()


def _worker_id() -> str:
    host = socket.gethostname()[:30]
    return f"{host}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _scheduler_loop(
    *,
    worker_id: str,
    tick_seconds: float,
    max_ticks: int | None,
    stop: threading.Event,
    on_done: Any,
) -> None:
    """Tick until `stop` is set (or `max_ticks` ticks are done), then call `on_done`. An error
    in a tick (the database busy, say) is printed and the next tick tries again."""
    from django.db import connections

    from kehu.schedules.services import scheduler_heartbeat_remove, schedules_tick

    ticks = 0
    try:
        while not stop.is_set():
            try:
                report = schedules_tick(worker_id=worker_id)
            except Exception as error:  # keep ticking: the next tick may well succeed
                console.print(f"[red]scheduler:[/red] tick failed: {error}", highlight=False)
            else:
                for key, result_id in report.queued.items():
                    console.print(f"scheduler: queued {key} (task {result_id})", highlight=False)
                for key, message in report.errors.items():
                    console.print(f"[red]scheduler:[/red] {key}: {message}", highlight=False)
            ticks += 1
            if max_ticks is not None and ticks >= max_ticks:
                break
            stop.wait(tick_seconds)
    finally:
        try:
            scheduler_heartbeat_remove(worker_id=worker_id)
        except Exception as error:
            console.print(f"[yellow]scheduler:[/yellow] {error}", highlight=False)
        connections.close_all()  # this thread's connections
        on_done()


def worker(
    tick_seconds: Annotated[
        float,
        typer.Option("--tick-seconds", min=0.0, help="Seconds between two scheduler ticks"),
    ] = 30.0,
    interval: Annotated[
        float,
        typer.Option(
            "--interval", min=0.0, help="Seconds the task worker waits when the queue is empty"
        ),
    ] = 1.0,
    queue: Annotated[
        str, typer.Option("--queue", help="The task queues to run, comma-separated; * for all")
    ] = "default",
    max_ticks: Annotated[
        int | None,
        typer.Option(
            "--max-ticks",
            min=1,
            help="Stop after this many ticks, once the tasks queued by then have run",
        ),
    ] = None,
    once: Annotated[
        bool,
        typer.Option("--once", help="One tick, run what is queued, then stop (--max-ticks 1)"),
    ] = False,
    schedule: Annotated[
        bool,
        typer.Option(
            "--schedule/--no-schedule",
            help="Run the scheduler too (default), or only the task queue",
        ),
    ] = True,
) -> None:
    """Run the scheduled jobs and the task queue until Ctrl-C (jobs: see /settings/schedules/)."""
    from kehu.cli.main import setup_django

    setup_django()
    from django.conf import settings
    from django_tasks_db.management.commands.db_worker import Worker

    if once:
        max_ticks = 1
    worker_id = _worker_id()
    stop = threading.Event()

    class _Worker(Worker):
        def shutdown(self, signum: int, frame: FrameType | None) -> None:
            stop.set()
            super().shutdown(signum, frame)

    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    if backend != "django_tasks_db.DatabaseBackend":
        console.print(
            f"[red]error:[/red] the task backend is {backend!r}: `kehu worker` needs "
            "django_tasks_db.DatabaseBackend (settings TASKS)",
            highlight=False,
        )
        raise typer.Exit(code=1)
    for name in ("django_tasks", "django_tasks_db"):  # the root handler prints them
        logging.getLogger(name).setLevel(logging.INFO)
    task_worker = _Worker(
        queue_names=queue.split(","),
        interval=interval,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id[:64],
        excluded_queue_names=[],
    )

    def scheduler_done() -> None:
        # After the last tick the task worker runs what is queued, then stops (batch mode).
        if not stop.is_set():
            task_worker.batch = True

    scheduler = None
    once_now = schedule and max_ticks == 1
    if schedule and not once_now:
        scheduler = threading.Thread(
            target=_scheduler_loop,
            kwargs={
                "worker_id": worker_id,
                "tick_seconds": tick_seconds,
                "max_ticks": max_ticks,
                "stop": stop,
                "on_done": scheduler_done,
            },
            name="kehu-scheduler",
            daemon=True,
        )
    elif max_ticks is not None:
        task_worker.batch = True
    console.print(
        f"kehu worker {worker_id}: "
        + (
            "one scheduler tick, "
            if once_now
            else (f"scheduler every {tick_seconds:g} s, " if scheduler else "no scheduler, ")
        )
        + f"queues {queue}. Ctrl-C stops.",
        highlight=False,
    )
    if once_now:
        # One tick, here and now, before the worker starts; then it runs what is queued.
        _scheduler_loop(
            worker_id=worker_id, tick_seconds=0, max_ticks=1, stop=stop, on_done=scheduler_done
        )
    handled = [signal.SIGINT, signal.SIGTERM] + (
        [signal.SIGQUIT] if hasattr(signal, "SIGQUIT") else []
    )
    previous = {number: signal.getsignal(number) for number in handled}
    task_worker.configure_signals()
    try:
        if scheduler is not None:
            scheduler.start()
        task_worker.run()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 0
        if code:
            raise typer.Exit(code=code) from exit_
    finally:
        stop.set()
        for number, handler in previous.items():
            signal.signal(number, handler)
        if scheduler is not None and scheduler.is_alive():
            scheduler.join(timeout=10)
        console.print(f"kehu worker {worker_id}: stopped.", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
