"""Benchmark: the customer list and the customer card on a demo database of 1,000,000 customers.

Builds the demo company (kehu.demo) into a data dir on SQLite, or reuses the one already there,
then times with Django's test Client, logged in as finance (who sees every customer):

- the filtered list page  /customers/?q=…&kind=business&sort=-last_purchase  (several searches)
- the customer card       /customers/<id>/  (a big key account and an ordinary customer)
- the list selector alone (customer_list + a Paginator page of 50 + its count), for reference

Medians over --runs runs (after warm-up) go to bench/results/customer_pages.json with the SQL
each request ran. Targets: filtered list < 200 ms median, card < 100 ms median.

Run: .venv/bin/python bench/bench_customer_pages.py --data DIR [--customers 1000000]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY / "src"))

LIST_TARGET_MS = 200.0
CARD_TARGET_MS = 100.0


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        help="data dir (KEHU_DATA_DIR): reused when it holds a demo, else built",
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--search-index-prototype",
        action="store_true",
        help="also time the FTS5 query shape that would fix substring search (adds a table "
        "to the bench database)",
    )
    parser.add_argument(
        "--output", type=Path, default=REPOSITORY / "bench" / "results" / "customer_pages.json"
    )
    return parser.parse_args()


def setup(data: Path) -> None:
    os.environ["KEHU_DATA_DIR"] = str(data)
    os.environ["KEHU_DEBUG"] = "0"  # no query log, no debug pages: as served
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.config.settings.local")
    import django

    django.setup()


def database_bytes() -> int:
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "sqlite":
        return -1
    with connection.cursor() as cursor:  # fold the write-ahead log back into the file first
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    name = Path(settings.DATABASES["default"]["NAME"])
    return sum(path.stat().st_size for path in name.parent.glob(name.name + "*"))


def ensure_demo(customers: int, seed: int) -> dict[str, object]:
    """Reuse the demo in the data dir, or build it (with a progress bar)."""
    from django.core.management import call_command
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from kehu.cli.demo import static_files_collect_if_stale
    from kehu.customers.models import Customer
    from kehu.demo.services import demo_build

    call_command("migrate", interactive=False, verbosity=0)
    static_files_collect_if_stale()  # pages render hashed static names when DEBUG is off
    existing = Customer.objects.count()
    if existing:
        print(f"reusing the demo in the data dir: {existing:,} customers")
        return {"built": False, "customers": existing}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
    ) as bar:
        tasks: dict[str, object] = {}

        def report(*, stage: str, completed: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=completed, total=total)  # type: ignore[arg-type]

        summary = demo_build(seed=seed, customers=customers, progress=report)
    return {
        "built": True,
        "customers": customers,
        "seconds": round(summary.seconds, 1),
        "rows": summary.counts,
        "today": summary.today.isoformat(),
    }


def timed(function, runs: int, warmup: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as captured:
        function()
    queries = [
        {"ms": round(float(q["time"]) * 1000, 1), "sql": q["sql"][:400]}
        for q in captured.captured_queries
    ]
    return {
        "median_ms": round(statistics.median(times), 1),
        "p90_ms": round(sorted(times)[int(len(times) * 0.9) - 1], 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
        "runs": runs,
        "query_count": len(queries),
        "queries": queries,
    }


def bench_pages(runs: int, warmup: int) -> dict[str, object]:
    from django.db.models import Count
    from django.test import Client

    from kehu.accounts.models import User
    from kehu.customers.models import Customer, CustomerKind

    finance = User.objects.get(username="finance")
    client = Client(SERVER_NAME="localhost")
    client.force_login(finance)
    results: dict[str, object] = {}

    def get(url: str):  # type: ignore[no-untyped-def]
        def request() -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")

        return request

    probe = client.get("/customers/")
    if probe.status_code != 200:
        return {"available": False, "status": probe.status_code}
    searches = {
        "list_search_brand": "/customers/?q=恒通&kind=business&sort=-last_purchase",
        "list_search_city": "/customers/?q=苏州&kind=business&sort=-last_purchase",
        "list_search_rare": "/customers/?q=欧阳&kind=business&sort=-last_purchase",
        "list_no_search": "/customers/?kind=business&sort=-last_purchase",
        "list_unfiltered": "/customers/",
        "list_search_brand_page_20": "/customers/?q=恒通&kind=business&sort=-last_purchase&page=20",
    }
    for name, url in searches.items():
        results[name] = {"url": url, **timed(get(url), runs, warmup)}
        print(f"{name:32} {results[name]['median_ms']:>8} ms median")  # type: ignore[index]
    big = (
        Customer.objects.filter(kind=CustomerKind.BUSINESS)
        .order_by("-purchase_count", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    ordinary = (
        Customer.objects.filter(kind=CustomerKind.BUSINESS, purchase_count__gte=3)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    for name, customer_id in (("card_key_account", big), ("card_ordinary", ordinary)):
        url = f"/customers/{customer_id}/"
        results[name] = {"url": url, **timed(get(url), runs, warmup)}
        print(f"{name:32} {results[name]['median_ms']:>8} ms median")  # type: ignore[index]
    counts = Customer.objects.filter(pk__in=[big, ordinary]).annotate(order_count=Count("orders"))
    results["card_customers"] = {
        str(c.pk): {"code": c.code, "orders": c.order_count} for c in counts
    }
    return {"available": True, **results}


def bench_selector(runs: int, warmup: int) -> dict[str, object]:
    from django.core.paginator import Paginator

    from kehu.accounts.models import User
    from kehu.customers.selectors import customer_list

    finance = User.objects.get(username="finance")

    def page() -> None:
        queryset = customer_list(
            user=finance, search="恒通", kind="business", sort="-last_purchase"
        )
        paginator = Paginator(queryset, 50)
        list(paginator.page(1).object_list)
        paginator.count  # noqa: B018 - the count is part of what a list page costs

    return timed(page, runs, warmup)


SEARCH_TABLE = "bench_customer_search"


def _spaced(text: str) -> str:
    """Every Chinese character its own token, runs of letters and digits one token each."""
    import re

    return " ".join(re.findall(r"[A-Za-z0-9]+|\S", text))


def bench_search_index_prototype(runs: int, warmup: int) -> dict[str, object]:
    """The query shape that would fix substring search at this scale (SQLite only).

    A contentless FTS5 table over name and city with one token per character: a phrase query
    finds any substring, of any length, through the index instead of a scan. The list's filter
    and sort stay as they are, with `pk IN (matches)` in place of the LIKE terms. The table is
    built once into the bench's own database; the app does not have it.
    """
    from django.db import connection
    from django.db.models.expressions import RawSQL

    from kehu.accounts.models import User
    from kehu.customers.selectors import customer_list

    if connection.vendor != "sqlite":
        return {"available": False, "reason": "SQLite only"}
    connection.ensure_connection()
    raw = connection.connection
    exists = raw.execute(
        "SELECT count(*) FROM sqlite_master WHERE name = ?", (SEARCH_TABLE,)
    ).fetchone()[0]
    build_seconds = None
    if not exists:
        started = time.perf_counter()
        raw.execute(f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(body, content='')")
        rows = raw.execute("SELECT id, name, city FROM customers_customer")
        while batch := rows.fetchmany(50_000):
            raw.executemany(
                f"INSERT INTO {SEARCH_TABLE}(rowid, body) VALUES (?, ?)",  # noqa: S608
                [(pk, f"{_spaced(name)} | {_spaced(city)}") for pk, name, city in batch],
            )
        raw.commit()
        build_seconds = round(time.perf_counter() - started, 1)
    finance = User.objects.get(username="finance")
    results: dict[str, object] = {"build_seconds": build_seconds}
    for term in ("恒通", "苏州", "欧阳", "恒", "恒通机械"):
        phrase = '"' + _spaced(term) + '"'
        queryset = customer_list(user=finance, kind="business", sort="-last_purchase").filter(
            pk__in=RawSQL(  # noqa: S611 - the term is a bound parameter
                f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH %s",  # noqa: S608
                [phrase],
            )
        )
        counted = queryset.order_by()[:10_001]

        def page(queryset=queryset, counted=counted) -> None:  # type: ignore[no-untyped-def]
            list(queryset[:50])
            counted.count()

        results[term] = {"matches_capped": counted.count(), **timed(page, runs, warmup)}
        print(f"{'prototype search ' + term:32} {results[term]['median_ms']:>8} ms median")  # type: ignore[index]
    return results


def main() -> None:
    arguments = parse_arguments()
    setup(arguments.data)
    demo = ensure_demo(arguments.customers, arguments.seed)
    pages = bench_pages(arguments.runs, arguments.warmup)
    selector = bench_selector(arguments.runs, arguments.warmup)
    print(f"{'selector (page of 50 + count)':32} {selector['median_ms']:>8} ms median")
    prototype = (
        bench_search_index_prototype(arguments.runs, arguments.warmup)
        if arguments.search_index_prototype
        else None
    )
    list_medians = [
        value["median_ms"]
        for key, value in pages.items()
        if key.startswith("list_search") and isinstance(value, dict)
    ]
    card_medians = [
        value["median_ms"]
        for key, value in pages.items()
        if key.startswith("card_") and isinstance(value, dict) and "median_ms" in value
    ]
    result = {
        "benchmark": "customer_pages",
        "when": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "database": {"vendor": "sqlite", "bytes": database_bytes()},
        "demo": demo,
        "pages": pages,
        "selector_page_of_50_with_count": selector,
        "search_index_prototype": prototype,
        "targets": {
            "list_filtered_median_ms": LIST_TARGET_MS,
            "card_median_ms": CARD_TARGET_MS,
            "list_met": bool(list_medians) and max(list_medians) < LIST_TARGET_MS,
            "card_met": bool(card_medians) and max(card_medians) < CARD_TARGET_MS,
        },
    }
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(f"written to {arguments.output}")


if __name__ == "__main__":
    main()
