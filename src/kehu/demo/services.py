"""Build the demo company (issue "Foundation", point 5): `demo_build` is the one entry point.

The build is deterministic for a seed and a "today": the same arguments give the same rows,
ids, names and amounts on every run. Customers are generated in chunks of CHUNK_SIZE, each
from its own random stream (numpy PCG64 seeded from the seed and the chunk number), each
written in its own transaction; memory stays bounded whatever the customer count. If the
build fails or is interrupted half-way, what it wrote is cleared again.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from kehu.accounts.models import ApprovalAuthority, OrgUnit, User
from kehu.catalog.models import Product, ProductCategory
from kehu.core.errors import Conflict, ValidationFailed
from kehu.customers.models import Contact, Customer, Tag
from kehu.demo.activities import activities_build
from kehu.demo.calendar import BusinessCalendar
from kehu.demo.context import BuildContext
from kehu.demo.customers import (
    contact_columns,
    customer_columns,
    customers_draw,
    historical_columns,
    tag_columns,
)
from kehu.demo.ledger import ledger_build
from kehu.demo.organisation import (
    DemoLogin,
    company_build,
    demo_org_unit_codes,
    demo_usernames,
)
from kehu.demo.trade import trade_draw, trade_write
from kehu.demo.writer import BulkWriter, day_number, sequences_reset
from kehu.receivables.models import Invoice, Payment
from kehu.sales.models import Order
from kehu.service.models import Activity, Complaint

CHUNK_SIZE = 5_000
MAX_CUSTOMERS = 9_999_999  # the customer code has seven digits
HISTORY_YEARS = 3
# Apps whose tables a reset empties: every Kehu app except users and org units.
KEPT_APPS = frozenset({"accounts", "core"})


class DemoProgress(Protocol):
    def __call__(self, *, stage: str, completed: int, total: int) -> None: ...


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    customers: int
    today: dt.date
    first_day: dt.date
    counts: dict[str, int]  # rows per model label, e.g. "sales.Order"
    logins: list[DemoLogin] = field(default_factory=list)
    seconds: float = 0.0


def history_start(today: dt.date) -> dt.date:
    """The first day of the three years of history that end on `today`."""
    try:
        earlier = today.replace(year=today.year - HISTORY_YEARS)
    except ValueError:  # 29 February
        earlier = today.replace(year=today.year - HISTORY_YEARS, day=28)
    return earlier + dt.timedelta(days=1)


def demo_build(
    *,
    seed: int = 42,
    customers: int = 2_000,
    today: dt.date | None = None,
    reset: bool = False,
    progress: DemoProgress | None = None,
) -> DemoSummary:
    """Build the demo company into the default database.

    Refused (Conflict, nothing changed) when the database already holds business data or the
    demo's users, unless `reset` is true: then the Kehu business tables are emptied first and
    the demo's users and org units replaced. Never merges into existing data.
    """
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ValidationFailed(
            f"customers must be between 1 and {MAX_CUSTOMERS:,}, not {customers}",
            detail={"field": "customers"},
        )
    if seed < 0:
        raise ValidationFailed(f"seed must not be negative, not {seed}", detail={"field": "seed"})
    began = time.perf_counter()
    today = today or timezone.localdate()
    first_day = history_start(today)
    report = progress or _silent
    existing = _existing_rows()
    if existing and not reset:
        found = ", ".join(f"{count:,} {label}" for label, count in existing.items())
        raise Conflict(
            f"the database already holds data ({found}); the demo never merges into it — "
            "build it with reset to replace everything",
            detail={"existing": existing},
        )
    if reset:
        report(stage="clearing", completed=0, total=1)
        demo_clear()
        report(stage="clearing", completed=1, total=1)

    root = np.random.SeedSequence(seed)
    company_rng = np.random.Generator(np.random.PCG64(root.spawn(1)[0]))
    report(stage="company", completed=0, total=1)
    with transaction.atomic():
        company = company_build(rng=company_rng, since=first_day)
    report(stage="company", completed=1, total=1)
    writer = BulkWriter()
    ctx = BuildContext(
        company=company,
        calendar=BusinessCalendar.build(first=first_day, last=today),
        writer=writer,
        today=day_number(today),
        start=day_number(first_day),
        utc_offset_seconds=_utc_offset_seconds(today),
    )
    try:
        with _bulk_loading():
            done = 0
            chunk = 0
            while done < customers:
                size = min(CHUNK_SIZE, customers - done)
                chunk_seed = np.random.SeedSequence(seed, spawn_key=(1, chunk))
                with transaction.atomic():
                    _chunk_build(
                        ctx,
                        np.random.Generator(np.random.PCG64(chunk_seed)),
                        first_number=done + 1,
                        size=size,
                    )
                done += size
                chunk += 1
                report(stage="customers", completed=done, total=customers)
        report(stage="finishing", completed=0, total=1)
        sequences_reset(ctx.ids.models())
        _statistics_refresh()
        report(stage="finishing", completed=1, total=1)
    except BaseException:
        demo_clear()
        raise
    counts = dict(sorted(writer.rows_written.items()))
    for model in (OrgUnit, User, ApprovalAuthority, ProductCategory, Product, Tag):
        counts[model._meta.label] = model._default_manager.count()
    return DemoSummary(
        seed=seed,
        customers=customers,
        today=today,
        first_day=first_day,
        counts=dict(sorted(counts.items())),
        logins=company.logins,
        seconds=time.perf_counter() - began,
    )


def _silent(*, stage: str, completed: int, total: int) -> None:
    return None


def _utc_offset_seconds(today: dt.date) -> int:
    noon = dt.datetime.combine(today, dt.time(12))
    offset = timezone.get_default_timezone().utcoffset(noon)
    return int(offset.total_seconds()) if offset else 0


def _chunk_build(
    ctx: BuildContext, rng: np.random.Generator, *, first_number: int, size: int
) -> None:
    writer = ctx.writer
    draw = customers_draw(ctx, rng, first_number, size)
    trade = trade_draw(ctx, rng, draw)
    customer = customer_columns(
        ctx,
        rng,
        draw,
        first_purchase=trade.first_purchase,
        last_purchase=trade.last_purchase,
        purchase_count=trade.purchase_count,
    )
    writer.insert(Customer, customer)
    writer.insert(Customer.history.model, historical_columns(customer))  # type: ignore[attr-defined]
    writer.insert(Contact, contact_columns(ctx, rng, draw))
    writer.insert(Customer.tags.through, tag_columns(ctx, rng, draw))
    trade_write(ctx, rng, draw, trade)
    ledger = ledger_build(ctx, rng, draw, trade)
    activities_build(ctx, rng, draw, trade, ledger)


@contextmanager
def _bulk_loading() -> Iterator[None]:
    """On SQLite, a bigger page cache and no fsync per commit while the demo loads: a crash
    half-way leaves a half-built demo either way. Restored afterwards."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache_size = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA synchronous")
        synchronous = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size=-1000000")
        cursor.execute("PRAGMA synchronous=OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size={cache_size}")
            cursor.execute(f"PRAGMA synchronous={synchronous}")


@contextmanager
def _foreign_keys_unchecked() -> Iterator[None]:
    """SQLite checks every deleted row against its children even when all of them go; with
    the checks off it empties a whole table at once. Only outside a transaction (inside one,
    SQLite ignores the pragma and the deletes are merely slower)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys=ON")


def _business_models() -> list[type[models.Model]]:
    result: list[type[models.Model]] = []
    for config in apps.get_app_configs():
        if config.name.startswith("kehu.") and config.label not in KEPT_APPS:
            result += list(config.get_models(include_auto_created=True))
    return result


def _existing_rows() -> dict[str, int]:
    """What would stop a build: business rows, or the demo's users and org units."""
    found: dict[str, int] = {}
    for model in (
        Customer,
        Product,
        ProductCategory,
        Tag,
        Order,
        Invoice,
        Payment,
        Activity,
        Complaint,
    ):
        count = model._default_manager.count()
        if count:
            found[str(model._meta.verbose_name_plural)] = count
    users = User.objects.filter(username__in=demo_usernames()).count()
    if users:
        found["demo users"] = users
    units = OrgUnit.objects.filter(code__in=demo_org_unit_codes()).count()
    if units:
        found["demo org units"] = units
    return found


def demo_clear() -> None:
    """Empty every Kehu business table and remove the demo's users and org units.

    Users and org units that are not the demo's stay; an org unit of the demo that another
    user still belongs to stops the clearing (Conflict) before anything is removed.
    """
    codes = demo_org_unit_codes()
    usernames = demo_usernames()
    outsiders = list(
        User.objects.filter(org_unit__code__in=codes)
        .exclude(username__in=usernames)
        .values_list("username", flat=True)[:5]
    )
    if outsiders:
        raise Conflict(
            f"users outside the demo belong to the demo's org units ({', '.join(outsiders)}); "
            "move them before resetting the demo",
            detail={"users": outsiders},
        )
    tables = [model._meta.db_table for model in _business_models()]
    statements = connection.ops.sql_flush(
        no_style(), tables, reset_sequences=True, allow_cascade=False
    )
    with _foreign_keys_unchecked(), transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Rows written earlier in the same transaction leave deferred foreign-key checks
            # pending, and PostgreSQL refuses to truncate under them.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in statements:
            cursor.execute(statement)
    with transaction.atomic():
        try:
            User.objects.filter(username__in=usernames).delete()
            for kind in (OrgUnit.Kind.TEAM, OrgUnit.Kind.REGION, OrgUnit.Kind.COMPANY):
                OrgUnit.objects.filter(code__in=codes, kind=kind).delete()
        except ProtectedError as error:
            raise Conflict(f"the demo cannot be cleared: {error.args[0]}") from error


def _statistics_refresh() -> None:
    """Let the query planner know the new sizes of the tables (cheap, bounded)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit=1000")
            cursor.execute("ANALYZE")
        elif connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
