"""Fast bulk writes for the demo: column arrays in, rows out, no model instances.

The demo writes tens of millions of rows for a million customers, too many for `bulk_create`
(it builds a model instance per row). The generator hands over columns (numpy arrays or
lists) keyed by field name; this module turns them into the database's own text forms and
writes them with `executemany` on SQLite and `COPY` on PostgreSQL, inside the caller's
transaction. Primary keys are given explicitly so that rows can point at each other before
they are written; `sequences_reset` moves the PostgreSQL sequences past them afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
from django.core.management.color import no_style
from django.db import connection, models

EPOCH = dt.date(1970, 1, 1)


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01: the integer form every date takes inside the generator."""
    return (day - EPOCH).days


class BulkWriter:
    """Writes rows through the default connection. One instance per build."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        self.rows_written: dict[str, int] = {}

    # -- values in the database's text forms ----------------------------------------------
    def money(self, cents: np.ndarray) -> list[Any]:
        """Cents (int64) to the money column's value. SQLite stores a decimal as REAL, the same
        double it would parse from the text; PostgreSQL gets exact text."""
        cents = np.asarray(cents, dtype=np.int64)
        if self.vendor == "sqlite":
            return (cents / 100).tolist()
        whole, part = np.divmod(np.abs(cents), 100)
        sign = np.where(cents < 0, "-", "")
        return [
            f"{s}{w}.{p:02d}" for s, w, p in zip(sign, whole.tolist(), part.tolist(), strict=True)
        ]

    def decimal(self, values: np.ndarray, places: int) -> list[Any]:
        """A fixed-point number held as an integer count of 10**-places."""
        values = np.asarray(values, dtype=np.int64)
        if self.vendor == "sqlite":
            return (values / 10**places).tolist()
        whole, part = np.divmod(values, 10**places)
        return [f"{w}.{p:0{places}d}" for w, p in zip(whole.tolist(), part.tolist(), strict=True)]

    def coordinate(self, degrees: np.ndarray) -> list[Any]:
        micro = np.round(np.asarray(degrees, dtype=np.float64) * 1_000_000).astype(np.int64)
        if self.vendor == "sqlite":
            return (micro / 1_000_000).tolist()
        return [f"{value / 1_000_000:.6f}" for value in micro.tolist()]

    def dates(self, days: np.ndarray, *, null_below: int | None = None) -> list[str | None]:
        """Day numbers to ISO dates; values below `null_below` become NULL."""
        days = np.asarray(days, dtype=np.int64)
        text = np.datetime_as_string(days.astype("datetime64[D]")).tolist()
        if null_below is None:
            return text
        return [
            None if day < null_below else value
            for day, value in zip(days.tolist(), text, strict=True)
        ]

    def datetimes(self, days: np.ndarray, seconds_utc: np.ndarray) -> list[str]:
        """Day numbers plus seconds after midnight UTC to timestamps in UTC."""
        if len(days) == 0:
            return []
        stamps = (
            np.asarray(days, dtype=np.int64) * 86400 + np.asarray(seconds_utc, dtype=np.int64)
        ).astype("datetime64[s]")
        text = np.char.replace(np.datetime_as_string(stamps, unit="s"), "T", " ")
        if self.vendor == "sqlite":
            return text.tolist()
        return [value + "+00" for value in text.tolist()]

    def booleans(self, flags: np.ndarray) -> list[Any]:
        flags = np.asarray(flags, dtype=bool)
        if self.vendor == "sqlite":
            return flags.astype(np.int64).tolist()
        return np.where(flags, "t", "f").tolist()

    # -- writing ---------------------------------------------------------------------------
    def insert(self, model: type[models.Model], columns: Mapping[str, Any]) -> int:
        """Insert rows given as columns by field name (or attname); returns the row count."""
        names = list(columns)
        if not names:
            return 0
        values = [_as_list(columns[name]) for name in names]
        count = len(values[0])
        for name, column in zip(names, values, strict=True):
            if len(column) != count:
                raise ValueError(f"{model.__name__}.{name}: {len(column)} values, not {count}")
        if count == 0:
            return 0
        meta = model._meta
        db_columns = [cast(models.Field, meta.get_field(name)).column for name in names]
        table = connection.ops.quote_name(meta.db_table)
        quoted = ", ".join(connection.ops.quote_name(str(column)) for column in db_columns)
        rows = list(zip(*values, strict=True))
        raw = connection.connection
        if self.vendor == "postgresql":
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["?" if self.vendor == "sqlite" else "%s"] * len(names))
            cursor = raw.cursor()
            try:
                cursor.executemany(
                    f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})",  # noqa: S608
                    rows,
                )
            finally:
                cursor.close()
        label = meta.label
        self.rows_written[label] = self.rows_written.get(label, 0) + count
        return count


def _as_list(column: Sequence[Any] | np.ndarray) -> list[Any]:
    if isinstance(column, np.ndarray):
        return column.tolist()
    return list(column)


def next_id(model: type[models.Model]) -> int:
    """The first free primary key of a table."""
    last = model._default_manager.aggregate(last=models.Max("pk"))["last"]
    return int(last or 0) + 1


def sequences_reset(model_list: Sequence[type[models.Model]]) -> None:
    """After explicit primary keys: move PostgreSQL sequences past them (SQLite needs nothing)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
