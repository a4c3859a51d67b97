"""The Spark engine: the snapshot's Ibis expressions (engine/expressions.py) on Apache Spark.

Spark reads the ledger as Parquet files (engine/parquet.py), never through JDBC: the export is
one bulk read of the app database, and what Spark then does cannot load the database. The
expressions are compiled by Ibis's pyspark backend to Spark SQL, and the small per-customer
results come back as Arrow.

- KEHU_SPARK_MASTER: the master URL (default `local[*]`, Spark inside this process's JVM).
- KEHU_SPARK_PARQUET: a Parquet export to read (written by `kehu export parquet --out DIR`,
  on storage the cluster reaches). Unset, the engine exports the ledger to a temporary
  directory first, which only a local master can read.

One SparkSession per process: it takes seconds to start, so it is kept for the next run and
stopped when the process exits.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import re
import shutil
import subprocess
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from kehu.config.env import env_str
from kehu.value.engine.expressions import aggregates
from kehu.value.engine.parquet import TABLE_NAMES, table_path

DEFAULT_MASTER = "local[*]"
# Spark 4.0 runs on Java 17 to 21; on 23 and later its Hadoop layer fails to start
# (javax.security.auth.Subject.getSubject is no longer supported).
JAVA_MINIMUM, JAVA_MAXIMUM = 17, 21
CONCURRENT_QUERIES = 4
INSTALL_HINT = "install it with `pip install 'kehu[spark]'`"

_lock = threading.Lock()
_session: Any = None


def master() -> str:
    """KEHU_SPARK_MASTER, read when a run starts (default `local[*]`)."""
    return env_str("KEHU_SPARK_MASTER").strip() or DEFAULT_MASTER


def parquet_directory() -> str | None:
    """KEHU_SPARK_PARQUET: the export to read; None to export the ledger for each run."""
    return env_str("KEHU_SPARK_PARQUET").strip() or None


def is_local(url: str) -> bool:
    return url == "local" or url.startswith("local[")


def local_cores(url: str) -> int:
    """The worker threads of a `local[N]` master (`local[*]`: the machine's cores)."""
    match = re.fullmatch(r"local\[(\d+)(?:,\s*\d+)?\]", url)
    if match:
        return max(1, int(match.group(1)))
    if url == "local":
        return 1
    return os.cpu_count() or 1


def local_driver_megabytes() -> int:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1024
    return max(1024, min(8192, total // 4 // 2**20))


def java_executable() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


@cache
def java_major_version(java: str) -> int | None:
    """The major version `java -version` reports (8 for 1.8), None when it cannot be told."""
    try:
        completed = subprocess.run(  # noqa: S603 — our own fixed arguments
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', completed.stderr + completed.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def unavailable_reason() -> str | None:
    """Why Spark cannot run here (no pyspark, no or an old Java), or None when it can."""
    if importlib.util.find_spec("pyspark") is None:
        return f"the spark engine needs pyspark, which is not installed: {INSTALL_HINT}"
    java = java_executable()
    if java is None:
        return (
            "the spark engine needs Java (17 or 21), which was not found: install a Java "
            "runtime (e.g. the openjdk-17-jre-headless package) or set JAVA_HOME"
        )
    version = java_major_version(java)
    if version is not None and not JAVA_MINIMUM <= version <= JAVA_MAXIMUM:
        return (
            f"the spark engine needs Java 17 or 21, and {java} is Java {version}: install "
            "one of those (e.g. the openjdk-17-jre-headless package) and point JAVA_HOME at it"
        )
    return None


def session_config(url: str) -> dict[str, str]:
    """The settings of Kehu's SparkSession: quiet, no web UI, few shuffle partitions locally."""
    config = {
        "spark.app.name": "kehu",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }
    if is_local(url):
        # The default of 200 partitions costs more than the work on one machine.
        config["spark.sql.shuffle.partitions"] = str(2 * local_cores(url))
        # Locally the driver does all the work (the default heap is 1 GB): a quarter of the
        # machine's memory, 1 to 8 GB, half of it for results brought back to Python.
        megabytes = local_driver_megabytes()
        config["spark.driver.memory"] = f"{megabytes}m"
        config["spark.driver.maxResultSize"] = f"{megabytes // 2}m"
        config["spark.driver.host"] = "127.0.0.1"
        config["spark.driver.bindAddress"] = "127.0.0.1"
    return config


def spark_session():  # type: ignore[no-untyped-def]
    """The process's SparkSession on `master()`, started on first use."""
    global _session
    with _lock:
        url = master()
        if _session is not None:
            context = _session.sparkContext
            if not context._jsc.sc().isStopped() and context.master == url:
                return _session
            _session.stop()  # stopped elsewhere, or KEHU_SPARK_MASTER changed
            _session = None
        from pyspark.sql import SparkSession

        if is_local(url):
            # Spark otherwise warns that the host name resolves to a loopback address.
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = SparkSession.builder.master(url)
        for key, value in session_config(url).items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("WARN")
        _session = session
        return session


def spark_stop() -> None:
    """Stop the process's SparkSession (the next run starts a new one)."""
    global _session
    with _lock:
        if _session is not None:
            _session.stop()
            _session = None


atexit.register(spark_stop)


def _location(directory: str, name: str) -> str:
    if "://" in directory:  # hdfs://, s3a://, …: the cluster resolves it
        return f"{directory.rstrip('/')}/{name}.parquet"
    return str(table_path(Path(directory), name).resolve())


def aggregate(directory: str | Path, *, ws: int, we: int) -> dict[str, pa.Table]:
    """The per-customer aggregates over the Parquet export in `directory`, plus `customers`,
    as Arrow tables in Spark's types (the caller normalises them)."""
    import ibis

    session = spark_session()
    backend = ibis.pyspark.connect(session)
    token = uuid.uuid4().hex[:12]
    views: list[str] = []
    try:
        tables = {}
        for name in TABLE_NAMES:
            view = f"kehu_{name}_{token}"
            session.read.parquet(_location(str(directory), name)).createOrReplaceTempView(view)
            views.append(view)
            tables[name] = backend.table(view)
        expressions = {**aggregates(tables, ws=ws, we=we), "customers": tables["customers"]}
        queries = {name: backend.compile(expression) for name, expression in expressions.items()}
        # The queries are small jobs: submitted together, Spark overlaps their planning and
        # their tasks instead of leaving cores idle between one job and the next.
        with ThreadPoolExecutor(max_workers=CONCURRENT_QUERIES) as pool:
            futures = {
                name: pool.submit(lambda sql: session.sql(sql).toArrow(), sql)
                for name, sql in queries.items()
            }
            return {name: future.result() for name, future in futures.items()}
    finally:
        for view in views:
            session.catalog.dropTempView(view)
