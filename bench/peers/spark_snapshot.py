"""The value snapshot's aggregations on Spark in local mode, over a Parquet export of the ledger.

Uses the app's own pieces: `kehu.value.engine.parquet.export_ledger` (what `kehu export parquet`
runs) writes the nine tables, then `kehu.value.engine.run_parquet(engine="spark")` runs the
same Ibis expressions on pyspark. The same Parquet files are also aggregated on DuckDB
(`run_parquet(engine="duckdb")`) and the two results compared table by table. Reports why it
did not run when pyspark or Java is missing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa


def _sorted(table: pa.Table) -> pa.Table:
    """Columns by name, rows by every column: engines return groups in any order."""
    names = sorted(table.column_names)
    return table.select(names).sort_by([(name, "ascending") for name in names])


def run(path: Path, parquet: Path, *, period: str) -> dict[str, object]:
    from kehu.value.engine import run_parquet
    from kehu.value.engine.parquet import export_ledger
    from kehu.value.engine.spark import master, unavailable_reason
    from kehu.value.periods import period_parse, window_start
    from kehu.value.selectors import value_settings_current
    from kehu.value.services import EPOCH

    reason = unavailable_reason()
    if reason:
        return {"run": False, "reason": reason}
    resolved = period_parse(period)
    values = value_settings_current()
    start = window_start(resolved.end, int(values["window_months"]))
    ws, we = (start - EPOCH).days, (resolved.end - EPOCH).days

    began = time.perf_counter()
    manifest = export_ledger(parquet)
    exported = time.perf_counter() - began
    size = sum(file.stat().st_size for file in parquet.rglob("*") if file.is_file())

    began = time.perf_counter()
    spark = run_parquet(parquet, engine="spark", ws=ws, we=we)
    spark_seconds = time.perf_counter() - began
    began = time.perf_counter()
    duckdb = run_parquet(parquet, engine="duckdb", ws=ws, we=we)
    duckdb_seconds = time.perf_counter() - began
    differing = [
        name
        for name in duckdb
        if name not in spark or not _sorted(spark[name]).equals(_sorted(duckdb[name]))
    ]
    return {
        "run": True,
        "master": master(),
        "export_parquet_seconds": round(exported, 2),
        "parquet_bytes": size,
        "rows": {name: entry["rows"] for name, entry in manifest["tables"].items()},
        "spark_aggregate_seconds": round(spark_seconds, 2),
        "duckdb_parquet_aggregate_seconds": round(duckdb_seconds, 2),
        "spark_over_duckdb": round(spark_seconds / duckdb_seconds, 2),
        "tables_equal_to_duckdb": not differing,
        "tables_differing": differing,
    }
