"""The ledger as the engine sees it: nine tables in one normalised shape.

Every money column is read as whole cents (int64), every date as a day number (days since
1970-01-01, int32), flags as 0/1. The shape is made by one small SELECT per table in the app
database's own dialect (SQLite or PostgreSQL) — that is all the SQL there is; the aggregations on
top are Ibis expressions (engine/expressions.py), written once.

- DuckDB engine: the SELECTs run on the app database and their results come back as Arrow
  tables, through an ADBC driver (adbc-driver-sqlite / adbc-driver-postgresql) when the data is
  committed, or through Django's own connection in batches when the caller is inside a
  transaction (another connection would not see its rows). DuckDB's sqlite/postgres scanner
  extensions are never used: they download at run time and fail offline.
- PostgreSQL engine: the same SELECTs become Ibis tables on an ibis.postgres connection to the
  app database, and everything runs inside PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
from django.db import connection

from kehu.customers.models import Customer
from kehu.receivables.models import CreditNote, Invoice, PaymentAllocation, WriteOff
from kehu.sales.models import Order, Return
from kehu.service.models import Activity, Complaint

INT = pa.int64()
DAY = pa.int32()


@dataclass(frozen=True)
class Source:
    name: str
    model: type
    # (output name, kind, column): kind is id, day, money, flag or text
    columns: tuple[tuple[str, str, str], ...]

    @property
    def schema(self) -> pa.Schema:
        types = {"id": INT, "day": DAY, "money": INT, "flag": INT, "text": pa.string()}
        return pa.schema([(name, types[kind]) for name, kind, _column in self.columns])


SOURCES = (
    Source("customers", Customer, (("customer_id", "id", "id"),)),
    Source(
        "orders",
        Order,
        (
            ("customer_id", "id", "customer_id"),
            ("state", "text", "state"),
            ("day", "day", "order_date"),
            ("amount", "money", "total_amount"),
            ("cost", "money", "total_cost"),
        ),
    ),
    Source(
        "returns",
        Return,
        (
            ("customer_id", "id", "customer_id"),
            ("day", "day", "returned_on"),
            ("amount", "money", "amount"),
            ("cost", "money", "cost"),
        ),
    ),
    Source(
        "activities",
        Activity,
        (
            ("customer_id", "id", "customer_id"),
            ("kind", "text", "kind"),
            ("day", "day", "occurred_on"),
            ("cost", "money", "cost"),
        ),
    ),
    Source(
        "complaints",
        Complaint,
        (("customer_id", "id", "customer_id"), ("day", "day", "received_on")),
    ),
    Source(
        "invoices",
        Invoice,
        (
            ("invoice_id", "id", "id"),
            ("customer_id", "id", "customer_id"),
            ("issue_day", "day", "issue_date"),
            ("due_day", "day", "due_date"),
            ("amount", "money", "amount"),
            ("cancelled", "flag", "is_cancelled"),
        ),
    ),
    Source(
        "allocations",
        PaymentAllocation,
        (
            ("invoice_id", "id", "invoice_id"),
            ("amount", "money", "amount"),
            ("day", "day", "allocated_on"),
            ("reversed_day", "day", "reversed_on"),
        ),
    ),
    Source(
        "credit_notes",
        CreditNote,
        (
            ("invoice_id", "id", "invoice_id"),
            ("day", "day", "issue_date"),
            ("amount", "money", "amount"),
        ),
    ),
    Source(
        "write_offs",
        WriteOff,
        (
            ("invoice_id", "id", "invoice_id"),
            ("amount", "money", "amount"),
            ("day", "day", "written_off_on"),
            ("reversed_day", "day", "reversed_on"),
        ),
    ),
)


def _expression(kind: str, column: str, vendor: str) -> str:
    quoted = f'"{column}"'
    if kind == "day":
        if vendor == "sqlite":
            return f"CAST(julianday({quoted}) - 2440587.5 AS INTEGER)"
        return f"({quoted} - DATE '1970-01-01')"
    if kind == "money":
        return f"CAST(ROUND({quoted} * 100) AS BIGINT)"
    if kind == "flag":
        return f"CASE WHEN {quoted} THEN 1 ELSE 0 END"
    return quoted


def source_sql(source: Source, vendor: str) -> str:
    """The normalising SELECT of one table in the app database's dialect."""
    if vendor not in ("sqlite", "postgresql"):
        raise ValueError(f"the value engine reads SQLite or PostgreSQL, not {vendor}")
    table = source.model._meta.db_table
    fields = ", ".join(
        f'{_expression(kind, column, vendor)} AS "{name}"' for name, kind, column in source.columns
    )
    return f'SELECT {fields} FROM "{table}"'  # noqa: S608 — names come from our own models


# ---------------------------------------------------------------------------- reading to Arrow

BATCH_ROWS = 100_000


def read_with_cursor(sql: str, schema: pa.Schema) -> pa.Table:
    """Read through Django's connection, `BATCH_ROWS` at a time (sees the open transaction)."""
    batches = []
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(BATCH_ROWS):
            columns = list(zip(*rows, strict=True))
            batches.append(
                pa.record_batch(
                    [
                        pa.array(column, type=field.type)
                        for column, field in zip(columns, schema, strict=True)
                    ],
                    schema=schema,
                )
            )
    if not batches:
        return schema.empty_table()
    return pa.Table.from_batches(batches, schema=schema)


def _postgres_uri(settings: dict) -> str:
    from urllib.parse import quote

    user = quote(settings.get("USER") or "", safe="")
    password = quote(settings.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or "localhost"
    port = settings.get("PORT") or 5432
    return f"postgresql://{auth}{host}:{port}/{settings['NAME']}"


def read_with_adbc(sql: str, schema: pa.Schema, settings: dict | None = None) -> pa.Table:
    """Read through an ADBC driver on its own connection (sees committed rows only)."""
    settings = settings or connection.settings_dict
    engine = settings["ENGINE"]
    if engine.endswith("sqlite3"):
        import adbc_driver_sqlite.dbapi as adbc

        connect = adbc.connect(str(settings["NAME"]))
    elif engine.endswith("postgresql"):
        import adbc_driver_postgresql.dbapi as adbc_pg

        connect = adbc_pg.connect(_postgres_uri(settings))
    else:
        raise ValueError(f"no ADBC driver for {engine}")
    with connect as adbc_connection, adbc_connection.cursor() as cursor:
        cursor.execute(sql)
        table = cursor.fetch_arrow_table()
    # SQLite types are guessed from the first rows: cast to the declared shape.
    return table.rename_columns(schema.names).cast(schema)


def reader_for_connection() -> tuple[str, Callable[[str, pa.Schema], pa.Table]]:
    """ADBC when another connection can see the data; Django's cursor otherwise (an open
    transaction, or an in-memory SQLite database that only this connection can reach)."""
    settings = connection.settings_dict
    in_memory = connection.vendor == "sqlite" and (
        str(settings["NAME"]) == ":memory:" or "mode=memory" in str(settings["NAME"])
    )
    if connection.in_atomic_block or in_memory:
        return "cursor", read_with_cursor
    return "adbc", read_with_adbc


def read_ledger(
    *, reader: Callable[[str, pa.Schema], pa.Table] | None = None
) -> tuple[str, dict[str, pa.Table]]:
    """All nine tables as Arrow, and the name of the reader used."""
    vendor = connection.vendor
    if reader is None:
        name, reader = reader_for_connection()
    else:
        name = getattr(reader, "__name__", "custom")
    return name, {
        source.name: reader(source_sql(source, vendor), source.schema) for source in SOURCES
    }
