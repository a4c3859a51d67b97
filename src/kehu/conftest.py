"""Fixtures every app's tests share: an organisation with one person per role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kehu.accounts.models import OrgUnit, Role, User
from kehu.accounts.tests.factories import OrgUnitFactory, UserFactory


@dataclass
class Organisation:
    company: OrgUnit
    east: OrgUnit
    west: OrgUnit
    east_team: OrgUnit
    west_team: OrgUnit
    rep: User  # east team
    other_rep: User  # west team
    customer_manager: User  # east team
    direct_sales_manager: User  # east region
    regional_manager: User  # east region
    finance: User
    top_management: User
    administrator: User


def _migration_seeds_ensure() -> None:
    """Put back what the migrations seed (the dunning ladder, the default scheduled jobs) when a
    flush emptied it, and move PostgreSQL's id sequences past the rows put back. Transactional
    tests flush every table when they end, and a test that runs after one on the same worker
    would otherwise find no ladder to chase with, or collide with the reloaded jobs' ids."""
    from importlib import import_module

    from django.core.management.color import no_style
    from django.db import connection

    from kehu.receivables.collections import dunning_levels_ensure_defaults
    from kehu.receivables.models import DunningLevel
    from kehu.schedules.models import Schedule

    dunning_levels_ensure_defaults()
    if not Schedule.objects.exists():
        seeds = import_module("kehu.schedules.migrations.0001_schedules_with_default_jobs")
        Schedule.objects.bulk_create(
            [Schedule(key=key, task_path=path, cron=cron) for key, path, cron in seeds.DEFAULT_JOBS]
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Schedule, DunningLevel]):
                cursor.execute(sql)


@pytest.fixture(autouse=True)
def _migration_seeds(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db"}:
        return
    transactional = "transactional_db" in names or bool(marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    _migration_seeds_ensure()


@pytest.fixture
def organisation(db) -> Organisation:
    company = OrgUnitFactory(name="总公司", code="hq", kind=OrgUnit.Kind.COMPANY)
    east = OrgUnitFactory(name="华东", code="east", kind=OrgUnit.Kind.REGION, parent=company)
    west = OrgUnitFactory(name="华西", code="west", kind=OrgUnit.Kind.REGION, parent=company)
    east_team = OrgUnitFactory(name="华东一组", code="east-1", kind=OrgUnit.Kind.TEAM, parent=east)
    west_team = OrgUnitFactory(name="华西一组", code="west-1", kind=OrgUnit.Kind.TEAM, parent=west)
    return Organisation(
        company=company,
        east=east,
        west=west,
        east_team=east_team,
        west_team=west_team,
        rep=UserFactory(username="rep", role=Role.SALES_REP, org_unit=east_team),
        other_rep=UserFactory(username="rep2", role=Role.SALES_REP, org_unit=west_team),
        customer_manager=UserFactory(username="cm", role=Role.CUSTOMER_MANAGER, org_unit=east_team),
        direct_sales_manager=UserFactory(
            username="dsm", role=Role.DIRECT_SALES_MANAGER, org_unit=east
        ),
        regional_manager=UserFactory(username="rm", role=Role.REGIONAL_MANAGER, org_unit=east),
        finance=UserFactory(username="finance", role=Role.FINANCE, org_unit=company),
        top_management=UserFactory(username="boss", role=Role.TOP_MANAGEMENT, org_unit=company),
        administrator=UserFactory(
            username="admin", role=Role.ADMINISTRATOR, org_unit=company, is_staff=True
        ),
    )
