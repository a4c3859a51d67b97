"""Benchmark: import a million order lines from CSV into a fresh database.

    python bench/bench_import.py [--data DIR] [--rows 1000000]
        [--postgres postgres://user@host:5432/dbname] [--no-sqlite] [--peer-rows 20000]

1. Generates, deterministically (fixed seed), customers.csv, products.csv and orders.csv under
   the data folder (default bench/data/, which git ignores); files are reused when they exist
   with the same parameters.
2. For each database (SQLite in a fresh data folder, and PostgreSQL when a URL is given: the
   database is dropped and created again), in a child process: migrate, import the customers
   and products (timed, not the headline), then import the orders through
   `kehu.imports.services.import_file` — the service the command line and the upload page use —
   with a Rich progress bar, and time it.
3. The peer, in another fresh database: the same order lines written with Django's plain
   per-row `Order.objects.create(...)` + `OrderLine.objects.create(...)` (customers and products
   looked up from pre-loaded dicts, all inside one transaction.atomic, no validation at all) on
   the first --peer-rows lines, extrapolated linearly to --rows.
4. Writes bench/results/import.json: rows, seconds, rows/s per database and the peer's, stage
   times, and the machine.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED = 20240305


# --- data --------------------------------------------------------------------------------


def generate(data: Path, *, rows: int, customers: int, products: int) -> dict[str, Path]:
    """Write the three CSV files (UTF-8, Chinese headers) unless they exist for these sizes."""
    data.mkdir(parents=True, exist_ok=True)
    manifest = data / "manifest.json"
    wanted = {
        "rows": rows,
        "customers": customers,
        "products": products,
        "seed": SEED,
        "version": 1,
    }
    files = {name: data / f"{name}.csv" for name in ("customers", "products", "orders")}
    if (
        manifest.exists()
        and json.loads(manifest.read_text()) == wanted
        and all(path.exists() for path in files.values())
    ):
        return files
    started = time.perf_counter()
    rng = random.Random(SEED)
    kinds = ["商业客户", "消费品客户"]
    with files["customers"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["客户编码", "客户名称", "客户类型", "省份", "城市", "业务员", "信用额度", "账期"]
        )
        for number in range(1, customers + 1):
            writer.writerow(
                [
                    f"C{number:06d}",
                    f"客户{number}有限公司",
                    rng.choice(kinds),
                    "浙江",
                    "杭州",
                    "bench",
                    rng.choice(["0", "50000", "200000"]),
                    rng.choice(["30", "45", "60"]),
                ]
            )
    prices = []
    with files["products"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["产品编码", "产品名称", "类别编码", "类别名称", "标价", "标准成本"])
        for number in range(1, products + 1):
            price = Decimal(rng.randint(100, 500_000)) / 100
            prices.append(price)
            category = number % 12
            writer.writerow(
                [
                    f"P{number:05d}",
                    f"产品{number}",
                    f"CAT{category:02d}",
                    f"产品线{category}",
                    str(price),
                    str((price * Decimal("0.6")).quantize(Decimal("0.01"))),
                ]
            )
    start = dt.date(2023, 1, 1)
    with files["orders"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["订单号", "客户编码", "订单日期", "产品编码", "数量", "单价", "折扣"])
        written = 0
        order = 0
        while written < rows:
            order += 1
            customer = f"C{rng.randint(1, customers):06d}"
            date = (start + dt.timedelta(days=rng.randint(0, 1094))).isoformat()
            for _line in range(min(rng.randint(1, 7), rows - written)):
                product = rng.randint(1, products)
                discount = rng.choice(["", "", "", "0.05", "10%"])
                writer.writerow(
                    [
                        f"SO{order:08d}",
                        customer,
                        date,
                        f"P{product:05d}",
                        str(rng.randint(1, 40)),
                        str(prices[product - 1]),
                        discount,
                    ]
                )
                written += 1
    manifest.write_text(json.dumps(wanted))
    print(
        f"generated {rows:,} order lines in {time.perf_counter() - started:.1f} s", file=sys.stderr
    )
    return files


# --- databases ---------------------------------------------------------------------------


def fresh_postgres(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    maintenance = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def database_environment(database: str, data: Path, purpose: str) -> dict[str, str]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kehu.config.settings.local",
        "KEHU_DEBUG": "0",
    }
    if database == "sqlite":
        folder = data / f"sqlite-{purpose}"
        shutil.rmtree(folder, ignore_errors=True)
        environment["KEHU_DATA_DIR"] = str(folder)
        environment.pop("KEHU_DATABASE_URL", None)
    else:
        fresh_postgres(database)
        environment["KEHU_DATA_DIR"] = str(data / "postgres-files")
        environment["KEHU_DATABASE_URL"] = database
    return environment


def run_child(database: str, data: Path, purpose: str, arguments: list[str]) -> dict:
    environment = database_environment(database, data, purpose)
    output = data / f"result-{purpose}.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        purpose,
        "--child-output",
        str(output),
        *arguments,
    ]
    subprocess.run(command, env=environment, check=True, cwd=ROOT)
    return json.loads(output.read_text())


# --- child: one database -----------------------------------------------------------------


def child(purpose: str, output: Path, files: dict[str, Path], peer_rows: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import translation
    from rich.console import Console

    from kehu.accounts.models import Role, User
    from kehu.cli.imports import ProgressBars
    from kehu.imports.services import import_file

    translation.activate("en")
    call_command("migrate", interactive=False, verbosity=0)
    User.objects.create(username="bench", role=Role.SALES_REP)
    admin = User.objects.create(username="bench-admin", role=Role.ADMINISTRATOR)
    console = Console(stderr=True)
    result: dict[str, object] = {
        "vendor": connection.vendor,
        "server_version": _server_version(connection),
    }
    for kind in ("customers", "products"):
        with ProgressBars(console) as bars:
            imported = import_file(kind=kind, path=files[kind], actor=admin, progress=bars)
        assert imported.is_clean, imported.errors[:5]
        result[f"{kind}_seconds"] = imported.seconds
        result[f"{kind}_rows"] = imported.rows
    if purpose == "main":
        stages: dict[str, float] = {}
        with ProgressBars(console) as bars:
            current = {"stage": None, "at": time.perf_counter()}

            def progress(stage: str, done: int, total: int | None) -> None:
                if stage != current["stage"]:
                    now = time.perf_counter()
                    if current["stage"] is not None:
                        stages[current["stage"]] = stages.get(current["stage"], 0) + (
                            now - current["at"]
                        )
                    current.update(stage=stage, at=now)
                bars(stage, done, total)

            started = time.perf_counter()
            imported = import_file(
                kind="orders", path=files["orders"], actor=admin, progress=progress
            )
            seconds = time.perf_counter() - started
            stages[current["stage"]] = stages.get(current["stage"], 0) + (
                time.perf_counter() - current["at"]
            )
        assert imported.is_clean, imported.errors[:5]
        from kehu.sales.models import Order, OrderLine

        result.update(
            rows=imported.rows,
            seconds=round(seconds, 2),
            rows_per_second=round(imported.rows / seconds),
            orders=Order.objects.count(),
            order_lines=OrderLine.objects.count(),
            counts={name: counts.as_dict() for name, counts in imported.counts.items()},
            stages={stage: round(value, 2) for stage, value in stages.items()},
        )
    else:
        result.update(peer(files["orders"], peer_rows))
    output.write_text(json.dumps(result))


def _server_version(connection) -> str:  # type: ignore[no-untyped-def]
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def peer(orders_csv: Path, rows: int) -> dict[str, object]:
    """The plain Django way: one ORM create per order and per line, in one transaction."""
    from django.db import transaction

    from kehu.catalog.models import Product
    from kehu.customers.models import Customer
    from kehu.sales.models import Order, OrderLine
    from kehu.sales.services import order_line_amount, order_line_cost

    customers = dict(Customer.objects.values_list("code", "id"))
    products = {
        code: (pk, cost)
        for code, pk, cost in Product.objects.values_list("code", "id", "standard_cost")
    }
    lines = []
    with orders_csv.open(encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            if len(lines) == rows:
                break
            lines.append(row)
    started = time.perf_counter()
    with transaction.atomic():
        current = None
        line_number = 0
        for number, customer, date, product, quantity, price, discount in lines:
            if number != (current.number if current else None):
                current = Order.objects.create(
                    number=number,
                    customer_id=customers[customer],
                    state="confirmed",
                    order_date=dt.date.fromisoformat(date),
                )
                line_number = 0
            line_number += 1
            product_id, cost = products[product]
            share = (
                Decimal(discount[:-1]) / 100 if discount.endswith("%") else Decimal(discount or 0)
            )
            OrderLine.objects.create(
                order=current,
                line_number=line_number,
                product_id=product_id,
                quantity=Decimal(quantity),
                unit_price=Decimal(price),
                unit_cost=cost,
                discount_rate=share,
                amount=order_line_amount(
                    quantity=Decimal(quantity), unit_price=Decimal(price), discount_rate=share
                ),
                cost=order_line_cost(quantity=Decimal(quantity), unit_cost=cost),
            )
    seconds = time.perf_counter() - started
    return {
        "peer_rows": len(lines),
        "peer_seconds": round(seconds, 2),
        "peer_rows_per_second": round(len(lines) / seconds),
    }


# --- main --------------------------------------------------------------------------------


def machine() -> dict[str, object]:
    info: dict[str, object] = {
        # Other work on the machine slows the benchmark down: the load is part of the result.
        "load_average_at_end_1_5_15_min": [round(value, 2) for value in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    import django
    import polars

    info["django"] = django.get_version()
    info["polars"] = polars.__version__
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--postgres", help="PostgreSQL URL of a database to drop and recreate")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--peer-rows", type=int, default=20_000)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "import.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-output", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    load_at_start = [round(value, 2) for value in os.getloadavg()]
    data = arguments.data.resolve()
    files = generate(
        data, rows=arguments.rows, customers=arguments.customers, products=arguments.products
    )
    if arguments.child:
        child(arguments.child, arguments.child_output, files, arguments.peer_rows)
        return
    databases = [] if arguments.no_sqlite else ["sqlite"]
    if arguments.postgres:
        databases.append(arguments.postgres)
    child_arguments = [
        "--data",
        str(data),
        "--rows",
        str(arguments.rows),
        "--customers",
        str(arguments.customers),
        "--products",
        str(arguments.products),
        "--peer-rows",
        str(arguments.peer_rows),
    ]
    results = []
    for database in databases:
        label = "sqlite" if database == "sqlite" else "postgresql"
        print(f"== {label}: import of {arguments.rows:,} order lines", file=sys.stderr)
        main_result = run_child(database, data, "main", child_arguments)
        print(
            f"== {label}: peer (per-row ORM create) on {arguments.peer_rows:,} lines",
            file=sys.stderr,
        )
        peer_result = run_child(database, data, "peer", child_arguments)
        extrapolated = arguments.rows / peer_result["peer_rows_per_second"]
        results.append(
            {
                "database": label,
                "server": main_result["server_version"],
                "rows": main_result["rows"],
                "seconds": main_result["seconds"],
                "rows_per_second": main_result["rows_per_second"],
                "orders": main_result["orders"],
                "order_lines": main_result["order_lines"],
                "stages_seconds": main_result["stages"],
                "setup": {
                    "customers": {
                        "rows": main_result["customers_rows"],
                        "seconds": main_result["customers_seconds"],
                    },
                    "products": {
                        "rows": main_result["products_rows"],
                        "seconds": main_result["products_seconds"],
                    },
                },
                "peer": {
                    "what": "Django ORM, one Order.objects.create per order and one "
                    "OrderLine.objects.create per line, lookups pre-loaded, one "
                    "transaction, no validation; measured on a slice, extrapolated "
                    "linearly",
                    "rows_measured": peer_result["peer_rows"],
                    "seconds_measured": peer_result["peer_seconds"],
                    "rows_per_second": peer_result["peer_rows_per_second"],
                    "seconds_extrapolated": round(extrapolated, 1),
                },
                "speedup_over_peer": round(extrapolated / main_result["seconds"], 1),
            }
        )
        print(json.dumps(results[-1], ensure_ascii=False, indent=2), file=sys.stderr)
    report = {
        "benchmark": "import of order lines from CSV (kehu import orders) into a fresh database",
        "generated": {
            "rows": arguments.rows,
            "customers": arguments.customers,
            "products": arguments.products,
            "seed": SEED,
        },
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
        "machine": {**machine(), "load_average_at_start_1_5_15_min": load_at_start},
        "results": results,
    }
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(f"written {arguments.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
