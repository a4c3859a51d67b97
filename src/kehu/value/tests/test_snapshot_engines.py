"""The engines agree, the readers agree, and refusals write nothing.

The PostgreSQL engine runs inside the app database, so its test runs only when the test
database is PostgreSQL (KEHU_TEST_DATABASE_URL set, as in `make test-postgres` and CI). On SQLite
there is no PostgreSQL to run in, and the test is reported as skipped for that reason, not to
hide a failure: the same comparison runs in the PostgreSQL job.
"""

from __future__ import annotations

import sqlite3

import pyarrow as pa
import pytest
from django.db import connection

from kehu.core.errors import Conflict, ValidationFailed
from kehu.value.engine.sources import SOURCES, read_with_adbc, read_with_cursor, source_sql
from kehu.value.models import CustomerValue, ValueSnapshot
from kehu.value.services import value_snapshot_compute
from kehu.value.tests.snapshot_ledger import build_ledger

COMPARED = [
    field.name
    for field in CustomerValue._meta.get_fields()
    if field.concrete and field.name not in ("id", "snapshot")
]


def _table(snapshot: ValueSnapshot) -> dict[int, tuple]:
    return {
        row["customer"]: tuple(row[name] for name in COMPARED)
        for row in CustomerValue.objects.filter(snapshot=snapshot).values(*COMPARED)
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the app database is not PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_duckdb_and_postgres_engines_give_identical_rows(organisation):
    build_ledger(organisation)
    duck = value_snapshot_compute(period="2025Q4", engine="duckdb")
    postgres = value_snapshot_compute(period="2025Q4", engine="postgres")
    assert duck.parameters["timings"]["reader"] == "adbc"  # committed data: read through ADBC
    assert postgres.parameters["timings"]["reader"] == "in database"
    assert _table(duck) == _table(postgres)
    assert len(_table(duck)) == 13
    for field in ("total_revenue", "total_gross_profit", "total_net_profit", "active_count"):
        assert getattr(duck, field) == getattr(postgres, field)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the app database is not PostgreSQL")
def test_postgres_engine_refuses_inside_an_open_transaction(organisation):
    with pytest.raises(Conflict, match="cannot see the rows"):
        value_snapshot_compute(period="2025Q4", engine="postgres")
    assert ValueSnapshot.objects.count() == 0


@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the refusal on SQLite")
def test_postgres_engine_is_refused_on_sqlite(db):
    with pytest.raises(ValidationFailed, match="not PostgreSQL"):
        value_snapshot_compute(period="2025Q4", engine="postgres")
    assert ValueSnapshot.objects.count() == 0


def test_unknown_engine_and_bad_period_write_nothing(db):
    with pytest.raises(ValidationFailed, match="unknown engine 'spork'"):
        value_snapshot_compute(period="2025Q4", engine="spork")
    with pytest.raises(ValidationFailed, match="period '2025Q5' is not"):
        value_snapshot_compute(period="2025Q5")
    with pytest.raises(ValidationFailed, match="unknown value measure 'margin'"):
        value_snapshot_compute(period="2025Q4", measure="margin")
    assert ValueSnapshot.objects.count() == 0


def test_cursor_and_adbc_readers_read_the_same_arrow(tmp_path, db):
    """ADBC (its own connection) and the cursor path give the same normalised tables; checked on
    a SQLite file with the order table's shape, since the test database may be in memory."""
    path = tmp_path / "ledger.sqlite3"
    orders = next(source for source in SOURCES if source.name == "orders")
    with sqlite3.connect(path) as db:
        db.execute(
            'CREATE TABLE "sales_order" (customer_id integer, state text, order_date date, '
            "total_amount decimal, total_cost decimal)"
        )
        db.executemany(
            'INSERT INTO "sales_order" VALUES (?, ?, ?, ?, ?)',
            [
                (1, "confirmed", "2025-01-01", "10.10", "5.05"),
                (2, "draft", "1970-01-02", "0.29", "0"),
                (1, "invoiced", "2025-12-31", "12345678.99", "1.01"),
            ],
        )
    sql = source_sql(orders, "sqlite")
    table = read_with_adbc(sql, orders.schema, {"ENGINE": "sqlite3", "NAME": str(path)})
    assert table.schema == orders.schema
    assert table.to_pydict() == {
        "customer_id": [1, 2, 1],
        "state": ["confirmed", "draft", "invoiced"],
        "day": [20089, 1, 20453],
        "amount": [1010, 29, 1234567899],
        "cost": [505, 0, 101],
    }
    assert (
        read_with_cursor(
            "SELECT 1 AS customer_id WHERE 1 = 0", pa.schema([("customer_id", pa.int64())])
        ).num_rows
        == 0
    )
