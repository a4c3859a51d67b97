from __future__ import annotations

import pytest
from django.test import override_settings

from kehu.schedules.models import Schedule

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
ECHO = "kehu.schedules.tests.jobs_for_tests.echo"


@pytest.fixture
def database_queue():
    """Queue tasks in the database (django-tasks-db) as `kehu worker` does, instead of running
    them at once as the test settings do."""
    with override_settings(TASKS=DATABASE_BACKEND):
        yield


@pytest.fixture
def echo_schedule(db) -> Schedule:
    return Schedule.objects.create(
        key="echo", task_path=ECHO, cron="0 2 * * *", arguments={"word": "hello"}
    )
