"""Tasks the scheduler tests queue: cheap, and they say what they were given."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def echo(**arguments: Any) -> dict[str, Any]:
    return {"echo": arguments}


@task()
def explode() -> None:
    raise RuntimeError("the job failed on purpose")


not_a_task = "a string, not a task"
