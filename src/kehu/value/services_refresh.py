"""Refreshing value snapshots: compute, time the steps, and keep only the newest rows.

Retention rule (decided here): when a snapshot finishes (`done` or `empty`), every older
finished snapshot of the same period, engine and measure is *superseded*: its CustomerValue
rows are deleted and the snapshot row stays, with status `superseded`, as the history of that
run (who, when, how long, how many customers). A nightly job therefore keeps one set of rows
per period, engine and measure, however often it runs. Snapshots of another engine or measure
are kept (they are compared side by side); failed and running snapshots have no rows and are
left alone. Report pages only offer `done` and `empty` snapshots, so a superseded one is never
shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from kehu.accounts.models import User
from kehu.value import engine as value_engine
from kehu.value.models import CustomerValue, SnapshotStatus, ValueSnapshot
from kehu.value.periods import last_closed_quarter, period_parse
from kehu.value.services import value_snapshot_compute

FINISHED = (SnapshotStatus.DONE, SnapshotStatus.EMPTY)
# Who started a run, kept in parameters["trigger"]: the runs page shows it when no person did.
TRIGGERS = ("schedule", "page", "command line")


class StepClock:
    """A `progress` callback that times the steps the snapshot service names, and passes each
    name on. `seconds` maps a step to how long it ran (the last one until `stop`)."""

    def __init__(self, forward: Callable[[str], None] | None = None) -> None:
        self.forward = forward
        self.seconds: dict[str, float] = {}
        self._step: str | None = None
        self._since = time.perf_counter()

    def __call__(self, step: str) -> None:
        self._close()
        self._step = step
        self._since = time.perf_counter()
        if self.forward is not None:
            self.forward(step)

    def _close(self) -> None:
        if self._step is not None:
            elapsed = time.perf_counter() - self._since
            self.seconds[self._step] = round(self.seconds.get(self._step, 0.0) + elapsed, 3)
        self._step = None

    def stop(self) -> dict[str, float]:
        self._close()
        return dict(self.seconds)


@transaction.atomic
def value_snapshots_supersede(*, snapshot: ValueSnapshot) -> list[int]:
    """Mark every older finished snapshot of `snapshot`'s period, engine and measure as
    superseded by it and delete their customer rows. Returns the superseded snapshots' ids.
    Nothing happens when `snapshot` itself did not finish."""
    if snapshot.status not in FINISHED:
        return []
    older = list(
        ValueSnapshot.objects.select_for_update()
        .filter(
            period=snapshot.period,
            engine=snapshot.engine,
            measure=snapshot.measure,
            status__in=FINISHED,
        )
        .exclude(pk=snapshot.pk)
        .filter(started_at__lte=snapshot.started_at)
        .order_by("id")
    )
    # Of two snapshots that started in the same instant, the one created later is the newer.
    older = [
        item for item in older if item.started_at < snapshot.started_at or item.pk < snapshot.pk
    ]
    if not older:
        return []
    ids = [item.pk for item in older]
    deleted, _by_model = CustomerValue.objects.filter(snapshot_id__in=ids).delete()
    for item in older:
        item.status = SnapshotStatus.SUPERSEDED
        item.parameters = {
            **item.parameters,
            "superseded_by": snapshot.pk,
            "superseded_at": timezone.now().isoformat(),
        }
        item.save(update_fields=["status", "parameters"])
    snapshot.parameters = {**snapshot.parameters, "superseded": ids, "rows_deleted": deleted}
    snapshot.save(update_fields=["parameters"])
    return ids


def value_snapshot_refresh(
    *,
    period: str | None = None,
    engine: str = "duckdb",
    measure: str | None = None,
    actor: User | None = None,
    trigger: str = "schedule",
    progress: Callable[[str], None] | None = None,
) -> ValueSnapshot:
    """Compute the snapshot of `period` (default: the last closed quarter), store how long
    each step took (parameters["step_seconds"]: [[step, seconds], …] in order) and who
    started it (parameters["trigger"]), then supersede the older snapshots of the same
    period, engine and measure.

    A failed run stays `failed` with its reason and the error is raised again; the older
    snapshots are then kept, so the pages go on showing the last good one."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    clock = StepClock(progress)
    began = timezone.now()
    try:
        snapshot = value_snapshot_compute(
            period=period, engine=engine, measure=measure, progress=clock, actor=actor
        )
    except Exception:
        # The service marked its snapshot failed (when it got as far as creating one).
        steps = clock.stop()
        for failed in ValueSnapshot.objects.filter(
            status=SnapshotStatus.FAILED, engine=engine, started_at__gte=began, created_by=actor
        ).exclude(parameters__has_key="trigger"):
            failed.parameters = {
                **failed.parameters,
                "trigger": trigger,
                "step_seconds": _pairs(steps),
            }
            failed.save(update_fields=["parameters"])
        raise
    snapshot.parameters = {
        **snapshot.parameters,
        "trigger": trigger,
        "step_seconds": _pairs(clock.stop()),
    }
    snapshot.save(update_fields=["parameters"])
    value_snapshots_supersede(snapshot=snapshot)
    return snapshot


def _pairs(steps: dict[str, float]) -> list[list[Any]]:
    """[[step, seconds], …] in the order the steps ran (PostgreSQL's jsonb does not keep the
    order of an object's keys)."""
    return [[name, seconds] for name, seconds in steps.items()]


def value_snapshot_check_request(*, period: str | None, engine: str) -> str:
    """The period label a queued run will compute (default: the last closed quarter), after
    checking the period and the engine; ValidationFailed names what is wrong."""
    resolved = period_parse(period) if period else last_closed_quarter(timezone.localdate())
    value_engine.check(engine)
    return resolved.label


def value_snapshot_enqueue(
    *, period: str | None, engine: str, actor: User | None
) -> dict[str, Any]:
    """Queue a run of `value_snapshot_nightly` for `period` (default: the last closed quarter)
    on `engine`, started by `actor` from a page. Checked first: ValidationFailed names a bad
    period or engine and nothing is queued. Returns the queued task's id and the period."""
    from kehu.value.tasks import value_snapshot_nightly

    label = value_snapshot_check_request(period=period, engine=engine)
    result = value_snapshot_nightly.enqueue(
        period=label, engine=engine, actor_id=actor.pk if actor else None, trigger="page"
    )
    return {"task_id": str(result.id), "period": label, "engine": engine}
