"""Run the snapshot aggregations on an engine and bring the per-customer results back as Arrow.

- duckdb (default): the ledger is read into Arrow (engine/sources.py) and registered in an
  in-memory DuckDB through Ibis; the aggregations run there.
- postgres: the same Ibis expressions run inside the app database (PostgreSQL only).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import ibis
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection

from kehu.core.errors import Conflict, ValidationFailed
from kehu.value.engine.expressions import FLOAT_COLUMNS, aggregates
from kehu.value.engine.sources import SOURCES, read_ledger, source_sql

ENGINES = ("duckdb", "postgres")

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


def run(
    *, engine: str, ws: int, we: int, progress: Progress | None = None
) -> tuple[dict[str, pa.Table], dict[str, float | str]]:
    """The per-customer aggregates, and timings (seconds per step, and the reader used)."""
    say = progress or (lambda _step: None)
    timings: dict[str, float | str] = {}
    started = time.perf_counter()
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
