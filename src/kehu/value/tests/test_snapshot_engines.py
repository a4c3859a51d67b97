"""The engines agree, the readers agree, and refusals write nothing.

The PostgreSQL engine runs inside the app database, so its test runs only when the test
database is PostgreSQL (KEHU_TEST_DATABASE_URL set, as in `make test-postgres` and CI). On SQLite
there is no PostgreSQL to run in, and the test is reported as skipped for that reason, not to
hide a failure: the same comparison runs in the PostgreSQL job.

The Spark engine runs on both databases (it reads a Parquet export of the ledger): against
DuckDB on SQLite, against DuckDB and PostgreSQL on PostgreSQL. Its SparkSession is started once
per test process (engine/spark.py keeps it) and stopped when the process exits.
"""

from __future__ import annotations

import sqlite3

import pyarrow as pa
import pytest
from django.db import connection

from kehu.core.errors import Conflict, ValidationFailed
from kehu.customers.tests.factories import CustomerFactory
from kehu.value import engine as value_engine
from kehu.value.engine import spark
from kehu.value.engine.parquet import export_ledger
from kehu.value.engine.sources import SOURCES, read_with_adbc, read_with_cursor, source_sql
from kehu.value.models import CustomerValue, ValueSnapshot
from kehu.value.services import value_snapshot_compute
from kehu.value.tests.snapshot_ledger import build_ledger

COMPARED = [
    field.name
    for field in CustomerValue._meta.get_fields()
    if field.concrete and field.name not in ("id", "snapshot")
]


@pytest.fixture
def local_spark(monkeypatch):
    """The Spark engine as configured by default: a local master, no export of its own."""
    monkeypatch.delenv("KEHU_SPARK_MASTER", raising=False)
    monkeypatch.delenv("KEHU_SPARK_PARQUET", raising=False)


def _table(snapshot: ValueSnapshot) -> dict[int, tuple]:
    return {
        row["customer"]: tuple(row[name] for name in COMPARED)
        for row in CustomerValue.objects.filter(snapshot=snapshot).values(*COMPARED)
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the app database is not PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_duckdb_postgres_and_spark_engines_give_identical_rows(organisation, local_spark):
    build_ledger(organisation)
    duck = value_snapshot_compute(period="2025Q4", engine="duckdb")
    postgres = value_snapshot_compute(period="2025Q4", engine="postgres")
    on_spark = value_snapshot_compute(period="2025Q4", engine="spark")
    assert duck.parameters["timings"]["reader"] == "adbc"  # committed data: read through ADBC
    assert postgres.parameters["timings"]["reader"] == "in database"
    assert on_spark.parameters["timings"]["reader"] == "parquet export"
    assert _table(duck) == _table(postgres) == _table(on_spark)
    assert len(_table(duck)) == 13
    for field in ("total_revenue", "total_gross_profit", "total_net_profit", "active_count"):
        assert getattr(duck, field) == getattr(postgres, field) == getattr(on_spark, field)


def test_duckdb_and_spark_engines_give_identical_rows(organisation, local_spark):
    """Inside the test's transaction: both engines read the ledger through Django's connection
    (Spark through a temporary Parquet export, removed afterwards)."""
    build_ledger(organisation)
    duck = value_snapshot_compute(period="2025Q4", engine="duckdb")
    on_spark = value_snapshot_compute(period="2025Q4", engine="spark")
    assert on_spark.engine == "spark"
    assert on_spark.status == duck.status == "done"
    timings = on_spark.parameters["timings"]
    assert timings["reader"] == "parquet export"
    assert timings["spark_master"] == "local[*]"
    assert _table(duck) == _table(on_spark)
    assert len(_table(on_spark)) == 13
    for field in ("total_revenue", "total_gross_profit", "total_net_profit", "active_count"):
        assert getattr(duck, field) == getattr(on_spark, field)
    assert on_spark.parameters["pyramid_counts"] == duck.parameters["pyramid_counts"]


def _sorted(table: pa.Table) -> pa.Table:
    keys = [name for name in ("customer_id", "kind", "day") if name in table.column_names]
    return table.sort_by([(name, "ascending") for name in keys])


def test_run_parquet_gives_the_same_tables_on_duckdb_and_spark(organisation, tmp_path):
    """The aggregates over an export equal those the DuckDB engine computes from the ledger."""
    build_ledger(organisation)
    ws, we = 20089, 20453  # 2025-01-01 … 2025-12-31
    export_ledger(tmp_path)
    from_ledger, _timings = value_engine.run(engine="duckdb", ws=ws, we=we)
    on_duckdb = value_engine.run_parquet(tmp_path, engine="duckdb", ws=ws, we=we)
    on_spark = value_engine.run_parquet(str(tmp_path), engine="spark", ws=ws, we=we)
    assert set(on_spark) == set(on_duckdb) == set(from_ledger)
    for name, table in from_ledger.items():
        assert _sorted(on_duckdb[name]).equals(_sorted(table)), name
        assert _sorted(on_spark[name]).equals(_sorted(table)), name
    assert from_ledger["customers"].num_rows == 13
    assert from_ledger["orders"].num_rows > 0


def test_spark_engine_reads_the_export_named_by_kehu_spark_parquet(
    organisation, tmp_path, monkeypatch, local_spark
):
    """With KEHU_SPARK_PARQUET the engine reads that export, not the ledger: a customer added
    after the export is not seen, and the timings say which export was read."""
    build_ledger(organisation)
    manifest = export_ledger(tmp_path / "export")
    CustomerFactory(code="V-LATE", owner=organisation.rep)
    monkeypatch.setenv("KEHU_SPARK_PARQUET", str(tmp_path / "export"))
    value_engine.check("spark")
    results, timings = value_engine.run(engine="spark", ws=20089, we=20453)
    assert timings["reader"] == "parquet"
    assert timings["parquet_written_at"] == manifest["written_at"]
    assert timings["spark_master"] == "local[*]"
    assert results["customers"].num_rows == 13
    assert manifest["tables"]["customers"]["rows"] == 13
    duck, _timings = value_engine.run(engine="duckdb", ws=20089, we=20453)
    assert duck["customers"].num_rows == 14


def test_spark_engine_is_refused_without_pyspark(db, monkeypatch, local_spark):
    real_find_spec = spark.importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "pyspark" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(spark.importlib.util, "find_spec", find_spec)
    with pytest.raises(ValidationFailed, match=r"pip install 'kehu\[spark\]'"):
        value_snapshot_compute(period="2025Q4", engine="spark")
    with pytest.raises(ValidationFailed, match="pyspark, which is not installed"):
        value_engine.run_parquet(".", engine="spark", ws=0, we=1)
    assert ValueSnapshot.objects.count() == 0


def test_spark_engine_is_refused_without_java(db, monkeypatch, local_spark):
    monkeypatch.setattr(spark, "java_executable", lambda: None)
    with pytest.raises(ValidationFailed, match=r"needs Java \(17 or 21\), which was not found"):
        value_snapshot_compute(period="2025Q4", engine="spark")
    monkeypatch.setattr(spark, "java_executable", lambda: "/opt/java8/bin/java")
    monkeypatch.setattr(spark, "java_major_version", lambda _java: 8)
    with pytest.raises(ValidationFailed, match="is Java 8"):
        value_snapshot_compute(period="2025Q4", engine="spark")
    monkeypatch.setattr(spark, "java_major_version", lambda _java: 25)
    with pytest.raises(ValidationFailed, match=r"needs Java 17 or 21, .* is Java 25"):
        value_snapshot_compute(period="2025Q4", engine="spark")
    assert ValueSnapshot.objects.count() == 0


def test_spark_engine_refuses_a_missing_export_or_a_cluster_without_one(
    db, tmp_path, monkeypatch, local_spark
):
    monkeypatch.setenv("KEHU_SPARK_PARQUET", str(tmp_path / "nowhere"))
    with pytest.raises(ValidationFailed, match="the directory does not exist"):
        value_snapshot_compute(period="2025Q4", engine="spark")
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / "customers.parquet").write_bytes(b"")
    monkeypatch.setenv("KEHU_SPARK_PARQUET", str(tmp_path / "partial"))
    with pytest.raises(ValidationFailed, match=r"lacks orders\.parquet, returns\.parquet"):
        value_snapshot_compute(period="2025Q4", engine="spark")
    monkeypatch.delenv("KEHU_SPARK_PARQUET")
    monkeypatch.setenv("KEHU_SPARK_MASTER", "spark://spark-master:7077")
    with pytest.raises(ValidationFailed, match="set KEHU_SPARK_PARQUET"):
        value_snapshot_compute(period="2025Q4", engine="spark")
    with pytest.raises(ValidationFailed, match="does not read Parquet"):
        value_engine.run_parquet(tmp_path, engine="postgres", ws=0, we=1)
    assert ValueSnapshot.objects.count() == 0


def test_java_major_version_reads_old_and_new_version_strings(monkeypatch, tmp_path):
    java = tmp_path / "java"
    for printed, major in (
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_402"', 8),
    ):
        java.write_text(f"#!/bin/sh\necho '{printed}' >&2\n")
        java.chmod(0o755)
        spark.java_major_version.cache_clear()
        assert spark.java_major_version(str(java)) == major
    spark.java_major_version.cache_clear()


def test_spark_session_settings_keep_local_mode_small_and_quiet(monkeypatch):
    monkeypatch.setenv("KEHU_SPARK_MASTER", " local[3] ")
    assert spark.master() == "local[3]"
    monkeypatch.setenv("KEHU_SPARK_MASTER", "")
    assert spark.master() == "local[*]"
    config = spark.session_config("local[3]")
    assert config["spark.sql.shuffle.partitions"] == "6"
    assert config["spark.ui.enabled"] == "false"
    driver = int(config["spark.driver.memory"].removesuffix("m"))
    assert 1024 <= driver <= 8192
    assert config["spark.driver.maxResultSize"] == f"{driver // 2}m"
    assert spark.local_cores("local[2]") == 2
    assert spark.local_cores("local") == 1
    cluster = spark.session_config("spark://spark-master:7077")
    assert "spark.sql.shuffle.partitions" not in cluster
    assert "spark.driver.host" not in cluster


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
