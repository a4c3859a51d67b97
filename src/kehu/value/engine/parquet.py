"""The ledger as Parquet files: the nine normalised tables of engine/sources.py, one file each.

`kehu export parquet --out DIR` writes them (and the Spark engine writes them to a temporary
directory when it has no export to read). The files keep the shape the engines read: ids, cents
and flags as int64, day numbers as int32, text as strings. Next to them, `manifest.json` says
which tables there are, how many rows each holds, when they were written and the schema version,
so a reader can tell an export it understands from a stale or partial one.

A file is written under a temporary name and renamed when complete; the manifest is written
last. An interrupted export therefore never looks like a finished one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kehu.core.errors import ValidationFailed
from kehu.value.engine.sources import SOURCES, reader_for_connection, source_sql

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
ROW_GROUP_ROWS = 1_000_000
TABLE_NAMES = tuple(source.name for source in SOURCES)


@dataclass(frozen=True)
class ExportStep:
    """Where an export is: `table` is being read, or has `rows_written` of `rows` on disk."""

    table: str
    stage: str  # "reading", "writing" or "done"
    rows_written: int = 0
    rows: int = 0


ExportProgress = Callable[[ExportStep], None]


def table_path(directory: Path, name: str) -> Path:
    return directory / f"{name}.parquet"


def prepare_directory(directory: Path | str) -> Path:
    """Create `directory` if needed and make sure files can be written in it."""
    path = Path(directory).expanduser()
    if path.exists() and not path.is_dir():
        raise ValidationFailed(
            f"{path} is a file, not a directory: give a directory for the Parquet files",
            detail={"field": "out", "value": str(path)},
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".kehu-write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or str(error)
        raise ValidationFailed(
            f"cannot write Parquet files in {path}: {reason}",
            detail={"field": "out", "value": str(path)},
        ) from error
    return path


def _write_table(directory: Path, name: str, table: pa.Table, say: ExportProgress) -> None:
    final = table_path(directory, name)
    partial = final.with_name(f".{final.name}.partial")
    say(ExportStep(name, "writing", 0, table.num_rows))
    with pq.ParquetWriter(partial, table.schema, compression="zstd") as writer:
        written = 0
        for start in range(0, table.num_rows, ROW_GROUP_ROWS):
            chunk = table.slice(start, ROW_GROUP_ROWS)
            writer.write_table(chunk, row_group_size=ROW_GROUP_ROWS)
            written += chunk.num_rows
            say(ExportStep(name, "writing", written, table.num_rows))
    os.replace(partial, final)
    say(ExportStep(name, "done", table.num_rows, table.num_rows))


def write_manifest(directory: Path, row_counts: Mapping[str, int]) -> dict:
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tables": {
            name: {"file": table_path(directory, name).name, "rows": rows}
            for name, rows in row_counts.items()
        },
    }
    partial = directory / f".{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, directory / MANIFEST)
    return manifest


def write_tables(
    directory: Path | str,
    tables: Mapping[str, pa.Table],
    *,
    progress: ExportProgress | None = None,
) -> dict:
    """Write Arrow tables in the engine's shape as Parquet, then the manifest; returns it."""
    say = progress or (lambda _step: None)
    path = prepare_directory(directory)
    missing = [name for name in TABLE_NAMES if name not in tables]
    if missing:
        raise ValueError(f"missing tables: {', '.join(missing)}")
    for source in SOURCES:
        table = tables[source.name].cast(source.schema)
        _write_table(path, source.name, table, say)
    return write_manifest(path, {name: tables[name].num_rows for name in TABLE_NAMES})


def export_ledger(directory: Path | str, *, progress: ExportProgress | None = None) -> dict:
    """Read the nine tables from the app database and write them as Parquet; returns the
    manifest. Reads committed data through ADBC, or the open transaction through Django's
    connection (engine/sources.py chooses)."""
    from django.db import connection

    say = progress or (lambda _step: None)
    path = prepare_directory(directory)
    _name, reader = reader_for_connection()
    counts: dict[str, int] = {}
    for source in SOURCES:
        say(ExportStep(source.name, "reading"))
        table = reader(source_sql(source, connection.vendor), source.schema)
        _write_table(path, source.name, table, say)
        counts[source.name] = table.num_rows
    return write_manifest(path, counts)


def read_manifest(directory: Path | str) -> dict | None:
    """The manifest of an export, or None when the directory has none (files written by other
    tools). Refuses a manifest of another schema version."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValidationFailed(
            f"cannot read the Parquet export's manifest {path}: {error}",
            detail={"field": "parquet", "value": str(directory)},
        ) from error
    version = manifest.get("schema_version") if isinstance(manifest, dict) else None
    if version != SCHEMA_VERSION:
        raise ValidationFailed(
            f"the Parquet export in {directory} has schema version {version!r}, this Kehu reads "
            f"version {SCHEMA_VERSION}: export it again with `kehu export parquet --out DIR`",
            detail={"field": "parquet", "value": str(directory)},
        )
    return manifest


def check_export(directory: Path | str) -> dict | None:
    """Refuse a directory that does not hold the nine tables; returns its manifest (or None)."""
    path = Path(directory)
    if not path.is_dir():
        raise ValidationFailed(
            f"there is no Parquet export in {path}: the directory does not exist; "
            "write one with `kehu export parquet --out DIR`",
            detail={"field": "parquet", "value": str(path)},
        )
    manifest = read_manifest(path)
    missing = [name for name in TABLE_NAMES if not table_path(path, name).exists()]
    if missing:
        raise ValidationFailed(
            f"the Parquet export in {path} lacks {', '.join(f'{n}.parquet' for n in missing)}; "
            "write it again with `kehu export parquet --out DIR`",
            detail={"field": "parquet", "value": str(path), "missing": missing},
        )
    return manifest
