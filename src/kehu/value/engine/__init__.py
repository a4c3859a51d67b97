"""Run the snapshot aggregations on an engine and bring the per-customer results back as Arrow.

- duckdb (default): the ledger is read into Arrow (engine/sources.py) and registered in an
  in-memory DuckDB through Ibis; the aggregations run there.
- postgres: the same Ibis expressions run inside the app database (PostgreSQL only).
- spark: the same Ibis expressions run on Apache Spark over a Parquet export of the ledger
  (engine/spark.py; the export is engine/parquet.py).

`run_parquet` runs them over a Parquet export on DuckDB or Spark, without the app database.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection

from kehu.core.errors import Conflict, ValidationFailed
from kehu.value.engine.expressions import FLOAT_COLUMNS, aggregates
from kehu.value.engine.parquet import TABLE_NAMES, check_export, export_ledger, table_path
from kehu.value.engine.sources import SOURCES, read_ledger, source_sql

ENGINES = ("duckdb", "postgres", "spark")
PARQUET_ENGINES = ("duckdb", "spark")

Progress = Callable[[str], None]


def _normalise(table: pa.Table) -> pa.Table:
    """Every column int64 (PostgreSQL returns numeric for sums), floats float64, text as is."""
    columns = []
    for name in table.column_names:
        column = table[name]
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            columns.append(column.cast(pa.string()))
        elif name in FLOAT_COLUMNS:
            columns.append(pc.cast(column, pa.float64()))
        else:
            columns.append(pc.cast(column, pa.int64()))
    return pa.table(columns, names=table.column_names)


def check(engine: str) -> None:
    """Refuse an engine that cannot run here, before anything is written."""
    if engine not in ENGINES:
        raise ValidationFailed(
            f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}",
            detail={"field": "engine", "value": engine},
        )
    if engine == "spark":
        _check_spark()
        return
    if engine != "postgres":
        return
    if connection.vendor != "postgresql":
        raise ValidationFailed(
            "the postgres engine runs inside the app database, which is "
            f"{connection.vendor}, not PostgreSQL; use --engine duckdb",
            detail={"field": "engine"},
        )
    if connection.in_atomic_block:
        raise Conflict(
            "the postgres engine works on its own connection and cannot see the rows of the "
            "transaction that is open here; commit first, or use the duckdb engine",
            detail={"field": "engine"},
        )


def _check_spark() -> None:
    from kehu.value.engine import spark

    reason = spark.unavailable_reason()
    if reason:
        raise ValidationFailed(reason, detail={"field": "engine", "value": "spark"})
    directory = spark.parquet_directory()
    if directory is None and not spark.is_local(spark.master()):
        raise ValidationFailed(
            f"the Spark master {spark.master()} cannot read a temporary export on this machine: "
            "set KEHU_SPARK_PARQUET to a directory the cluster reads, and write the ledger "
            "there with `kehu export parquet --out DIR`",
            detail={"field": "engine", "value": "spark"},
        )
    if directory is not None and "://" not in directory:
        check_export(directory)


def _postgres_connection():  # type: ignore[no-untyped-def]
    check("postgres")
    settings = connection.settings_dict
    return ibis.postgres.connect(
        host=settings.get("HOST") or "localhost",
        port=int(settings.get("PORT") or 5432),
        user=settings.get("USER") or None,
        password=settings.get("PASSWORD") or None,
        database=settings["NAME"],
    )


def _duckdb_over_parquet(directory: Path, *, ws: int, we: int) -> dict[str, pa.Table]:
    backend = ibis.duckdb.connect()
    try:
        tables = {}
        for name in TABLE_NAMES:
            path = table_path(directory, name)
            # A table may also be a directory of part files (as Spark writes them).
            source = str(path / "*.parquet") if path.is_dir() else str(path)
            tables[name] = backend.read_parquet(source, table_name=name)
        expressions = {**aggregates(tables, ws=ws, we=we), "customers": tables["customers"]}
        return {name: expression.to_pyarrow() for name, expression in expressions.items()}
    finally:
        backend.disconnect()


def run_parquet(directory: Path | str, *, engine: str, ws: int, we: int) -> dict[str, pa.Table]:
    """The per-customer aggregates (and `customers`) over a Parquet export of the ledger
    (`kehu export parquet`), on "duckdb" or "spark"; the app database is not read."""
    if engine not in PARQUET_ENGINES:
        raise ValidationFailed(
            f"engine {engine!r} does not read Parquet: use one of {', '.join(PARQUET_ENGINES)}",
            detail={"field": "engine", "value": engine},
        )
    if engine == "spark":
        from kehu.value.engine import spark

        reason = spark.unavailable_reason()
        if reason:
            raise ValidationFailed(reason, detail={"field": "engine", "value": "spark"})
        if "://" not in str(directory):
            check_export(directory)
        raw = spark.aggregate(directory, ws=ws, we=we)
    else:
        check_export(directory)
        raw = _duckdb_over_parquet(Path(directory), ws=ws, we=we)
    return {name: _normalise(table) for name, table in raw.items()}


def _aggregate_on_spark(
    directory: str, say: Progress, timings: dict[str, float | str], *, ws: int, we: int
) -> dict[str, pa.Table]:
    from kehu.value.engine import spark

    say("aggregating on Spark")
    step = time.perf_counter()
    spark.spark_session()  # seconds on first use; kept for the next run
    timings["spark_start_seconds"] = round(time.perf_counter() - step, 3)
    step = time.perf_counter()
    raw = spark.aggregate(directory, ws=ws, we=we)
    timings["aggregate_seconds"] = round(time.perf_counter() - step, 3)
    return raw


def _run_spark(
    say: Progress, timings: dict[str, float | str], *, ws: int, we: int
) -> dict[str, pa.Table]:
    """Spark over KEHU_SPARK_PARQUET, or over a temporary export of the ledger."""
    from kehu.value.engine import spark

    timings["spark_master"] = spark.master()
    directory = spark.parquet_directory()
    if directory is not None:
        timings["reader"] = "parquet"
        manifest = None if "://" in directory else check_export(directory)
        if manifest:
            timings["parquet_written_at"] = manifest["written_at"]
        return _aggregate_on_spark(directory, say, timings, ws=ws, we=we)
    with tempfile.TemporaryDirectory(prefix="kehu-parquet-") as temporary:
        say("reading the ledger into a Parquet export")
        step = time.perf_counter()
        export_ledger(temporary)
        timings["reader"] = "parquet export"
        timings["read_seconds"] = round(time.perf_counter() - step, 3)
        return _aggregate_on_spark(temporary, say, timings, ws=ws, we=we)


def run(
    *, engine: str, ws: int, we: int, progress: Progress | None = None
) -> tuple[dict[str, pa.Table], dict[str, float | str]]:
    """The per-customer aggregates, and timings (seconds per step, and the reader used)."""
    say = progress or (lambda _step: None)
    timings: dict[str, float | str] = {}
    started = time.perf_counter()
    if engine == "spark":
        raw = _run_spark(say, timings, ws=ws, we=we)
        return {name: _normalise(table) for name, table in raw.items()}, timings
    if engine == "duckdb":
        say("reading the ledger")
        reader, arrow = read_ledger()
        timings["reader"] = reader
        timings["read_seconds"] = round(time.perf_counter() - started, 3)
        backend = ibis.duckdb.connect()
        tables = {name: backend.create_table(name, table) for name, table in arrow.items()}
    elif engine == "postgres":
        backend = _postgres_connection()
        tables = {source.name: backend.sql(source_sql(source, "postgresql")) for source in SOURCES}
        timings["reader"] = "in database"
    else:
        raise ValidationFailed(
            f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}",
            detail={"field": "engine", "value": engine},
        )
    try:
        say("aggregating")
        step = time.perf_counter()
        results = {
            name: _normalise(expression.to_pyarrow())
            for name, expression in aggregates(tables, ws=ws, we=we).items()
        }
        timings["aggregate_seconds"] = round(time.perf_counter() - step, 3)
        if engine == "duckdb":
            results["customers"] = _normalise(arrow["customers"])
        else:
            results["customers"] = _normalise(tables["customers"].to_pyarrow())
    finally:
        backend.disconnect()
    return results, timings
