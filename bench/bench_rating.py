# SQL below is built from model table names; values are parameters.
# ruff: noqa: S608
"""Benchmark: the quarterly re-rating of every customer (issue 5 item 2, domain §5.2).

Runs on a demo company (`kehu demo --customers 100000 --no-serve`: customers, three years of
orders, invoices, payments, write-offs), in a SQLite data folder or a PostgreSQL database;
`--build N` builds it first (and empties it when it exists). Ratings already there are removed
first, so every run starts from the same state.

It times
Every customer that had bought by the first quarter gets a survey (random statements and
answers, made in bulk before timing); a quarter of them a second, worse one before the second
quarter, so that grades spread and some drop (re-survey tasks).

- ours: `credit_ratings_run_period` — the measures of every customer in four set-based
  statements, the scoring in Python, ratings, items and standings written in batches of plain
  multi-row statements — twice: the quarter before the demo's today (nobody has a previous
  rating), then the quarter before that as a second period (every customer compared with a
  previous rating, drops opening re-survey tasks);
- the peer: the per-customer on-demand service `credit_rating_run` (the ORM, one customer at a
  time, the same measures filtered to that customer) over a random sample, rolled back,
  extrapolated to every customer rated;
asserts that the peer's scores and grades equal the bulk run's for every sampled customer, and
writes bench/results/rating.json (one section per database; the other's section is kept).

Run:
  .venv/bin/python bench/bench_rating.py --data-dir /tmp/kehu-rating [--build 100000]
  .venv/bin/python bench/bench_rating.py --build 100000 \
      --database-url postgres://postgres@127.0.0.1:5432/kehu_rating
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY / "src"))
RESULTS = REPOSITORY / "bench" / "results" / "rating.json"
TARGET_SECONDS = 60.0
TARGET_CUSTOMERS = 100_000


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--data-dir", help="folder of a SQLite demo database (kehu.sqlite3)")
    where.add_argument("--database-url", help="postgres://… of a demo database")
    parser.add_argument("--build", type=int, help="build a demo company of this many customers")
    parser.add_argument("--sample", type=int, default=300, help="customers the peer rates")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def point_at_database(arguments: argparse.Namespace) -> str:
    if arguments.data_dir:
        folder = Path(arguments.data_dir).expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["KEHU_DATA_DIR"] = str(folder)
        os.environ.pop("KEHU_DATABASE_URL", None)
        vendor = "sqlite"
    else:
        os.environ["KEHU_DATABASE_URL"] = arguments.database_url
        vendor = "postgresql"
    if arguments.build:
        if vendor == "postgresql":
            import psycopg

            name = arguments.database_url.rsplit("/", 1)[1]
            admin = arguments.database_url.rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
                connection.execute(f'CREATE DATABASE "{name}"')
        else:
            for suffix in ("", "-wal", "-shm"):
                (Path(os.environ["KEHU_DATA_DIR"]) / f"kehu.sqlite3{suffix}").unlink(
                    missing_ok=True
                )
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "kehu", "demo", "--customers", str(arguments.build),
             "--no-serve", "--seed", str(arguments.seed)],
            check=True,
            env={**os.environ, "PYTHONPATH": str(REPOSITORY / "src")},
        )  # fmt: skip
        print(f"{vendor}: demo of {arguments.build:,} customers built in "
              f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    return vendor


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings.base"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def clear_ratings() -> None:
    """Remove every rating, standing, grade-drop task and their events (the bench's database)."""
    from django.db import connection, transaction

    from kehu.credit.models import (
        CreditEvent,
        CreditRating,
        CreditRatingItem,
        CreditReviewTask,
        CustomerCredit,
    )

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {CreditEvent._meta.db_table} WHERE kind IN (%s, %s)",
            ["rated", "task_opened"],
        )
        cursor.execute(
            f"DELETE FROM {CreditReviewTask._meta.db_table} WHERE reason = %s", ["grade_drop"]
        )
        cursor.execute(f"DELETE FROM {CustomerCredit._meta.db_table}")
        cursor.execute(f"DELETE FROM {CreditRatingItem._meta.db_table}")
        cursor.execute(f"DELETE FROM {CreditRating._meta.db_table}")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


STEPS = ("excellent", "good", "fair", "poor", "bad")
CHOICES = {
    "principal_credit": STEPS, "bank_record": STEPS, "peer_credit": STEPS,
    "supplier_employee_reports": STEPS, "sales_capability": STEPS, "management": STEPS,
    "ownership_size": ("large", "medium", "small", "micro", "individual"),
    "industry_state": ("growing", "stable", "declining", "in_crisis"),
}  # fmt: skip


def add_surveys(customer_ids: list[int], *, on: dt.date, seed: int, worse: bool) -> int:
    """A survey for each customer (random statements and answers; `worse`: the answers two
    steps down), so that grades spread and a later survey makes some drop."""
    from decimal import Decimal

    from kehu.credit.models import CreditSurvey

    rng = random.Random(seed)

    def answer(choices: tuple[str, ...]) -> str:
        index = rng.randrange(len(choices))
        return choices[min(index + 2, len(choices) - 1) if worse else index]

    def money(low: int, high: int) -> Decimal:
        return Decimal(rng.randrange(low, high))

    surveys = []
    for customer_id in customer_ids:
        assets = money(1_000_000, 50_000_000)
        sales = assets * Decimal(rng.uniform(0.5, 6)).quantize(Decimal("0.01"))
        surveys.append(
            CreditSurvey(
                customer_id=customer_id, surveyed_on=on, fiscal_year=on.year - 1, notes="bench",
                quick_assets=assets * Decimal("0.2"), current_assets=assets * Decimal("0.4"),
                current_liabilities=assets * Decimal(rng.uniform(0.1, 0.4)).quantize(
                    Decimal("0.01")),
                total_assets_start=assets * Decimal("0.9"), total_assets_end=assets,
                total_liabilities=assets * Decimal(rng.uniform(0.2, 0.95)).quantize(
                    Decimal("0.01")),
                sales_revenue=sales,
                net_profit=sales * Decimal(rng.uniform(-0.05, 0.2)).quantize(Decimal("0.001")),
                capital_year_1=money(1_000_000, 2_000_000),
                capital_year_3=money(900_000, 2_600_000),
                profit_year_1=money(-200_000, 800_000), profit_year_2=money(-200_000, 800_000),
                profit_year_3=money(-200_000, 800_000),
                facts={
                    **{key: answer(choices) for key, choices in CHOICES.items()},
                    "disputes": rng.choice((0, 0, 0, 1, 2)),
                },
            )
        )  # fmt: skip
    CreditSurvey.objects.bulk_create(surveys, batch_size=2000)
    return len(surveys)


def peer(sample: list[int], as_of: dt.date) -> tuple[float, dict[int, tuple[str, str]]]:
    """Rate each sampled customer with the one-customer service; roll everything back."""
    from django.db import transaction

    from kehu.credit.services.ratings import credit_rating_run
    from kehu.customers.models import Customer

    customers = Customer.objects.in_bulk(sample)
    scores: dict[int, tuple[str, str]] = {}
    with transaction.atomic():
        started = time.perf_counter()
        for customer_id in sample:
            rating = credit_rating_run(customer=customers[customer_id], actor=None, as_of=as_of)
            scores[customer_id] = (str(rating.score), rating.grade)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds, scores


def machine() -> dict[str, object]:
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version()}


def main() -> None:
    arguments = parse_arguments()
    vendor = point_at_database(arguments)
    setup_django()
    from django.db import connection
    from django.utils import timezone

    from kehu.credit.models import CreditRating, CreditRatingItem
    from kehu.credit.services.ratings import (
        credit_ratings_run_period,
        previous_quarter_end,
        scorecard_template_ensure_default,
    )
    from kehu.customers.models import Customer

    scorecard_template_ensure_default()
    clear_ratings()
    customers = Customer.objects.count()
    server = connection.cursor().connection
    version = (
        f"PostgreSQL {server.info.server_version}"
        if vendor == "postgresql"
        else f"SQLite {__import__('sqlite3').sqlite_version}"
    )
    latest = previous_quarter_end(timezone.localdate())
    earlier = previous_quarter_end(latest)
    from kehu.credit.models import CreditSurvey

    CreditSurvey.objects.filter(notes="bench").delete()
    bought = list(
        Customer.objects.filter(first_purchase_on__lte=earlier).values_list("pk", flat=True)
    )
    surveyed = add_surveys(bought, on=earlier - dt.timedelta(days=60), seed=arguments.seed,
                           worse=False)  # fmt: skip
    resurveyed = random.Random(arguments.seed).sample(bought, len(bought) // 4)
    add_surveys(resurveyed, on=latest - dt.timedelta(days=30), seed=arguments.seed + 1,
                worse=True)  # fmt: skip
    print(f"  {surveyed:,} surveys, {len(resurveyed):,} customers surveyed again (worse)")
    runs = []
    for label, as_of in (("first period", earlier), ("next period, compared", latest)):
        started = time.perf_counter()
        run = credit_ratings_run_period(as_of=as_of)
        seconds = time.perf_counter() - started
        runs.append(
            {
                "run": label,
                "as_of": as_of.isoformat(),
                "rated": run.rated,
                "seconds": round(seconds, 2),
                "customers_per_second": round(run.rated / seconds),
                "by_grade": run.as_dict()["by_grade"],
                "rose": run.rose,
                "dropped": run.dropped,
                "tasks_opened": run.tasks_opened,
                "missing_inputs": run.missing_inputs,
            }
        )
        print(f"  {label} as of {as_of}: {run.rated:,} rated in {seconds:.1f} s "
              f"({run.as_dict()['by_grade']}, {run.dropped:,} dropped)")  # fmt: skip
    items = CreditRatingItem.objects.count()

    rated_ids = list(
        CreditRating.objects.filter(rated_on=latest, trigger="scheduled").values_list(
            "customer_id", flat=True
        )
    )
    sample = random.Random(arguments.seed).sample(rated_ids, min(arguments.sample, len(rated_ids)))
    peer_seconds, peer_scores = peer(sample, latest)
    ours = {
        customer_id: (str(score), grade)
        for customer_id, score, grade in CreditRating.objects.filter(
            rated_on=latest, trigger="scheduled", customer_id__in=sample
        ).values_list("customer_id", "score", "grade")
    }
    assert ours == peer_scores, "the bulk run and the one-customer service disagree"
    bulk = runs[-1]
    peer_extrapolated = peer_seconds / len(sample) * bulk["rated"]
    per_100k = bulk["seconds"] / bulk["rated"] * TARGET_CUSTOMERS
    print(f"  peer: {len(sample)} customers in {peer_seconds:.1f} s → "
          f"{peer_extrapolated:.0f} s for {bulk['rated']:,}; ours {bulk['seconds']:.1f} s "
          f"({peer_extrapolated / bulk['seconds']:.1f}× faster); "
          f"{per_100k:.1f} s per 100,000 customers")  # fmt: skip

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["description"] = (
        "The quarterly re-rating (kehu.credit.services.ratings.credit_ratings_run_period: "
        "set-based measures, batched plain inserts) of every customer of a demo company, "
        "against the one-customer service credit_rating_run looped over a random sample "
        "(rolled back) and extrapolated; both give the same score and grade for every sampled "
        "customer."
    )
    results["target"] = {"customers": TARGET_CUSTOMERS, "seconds": TARGET_SECONDS}
    results["machine"] = machine()
    results[vendor] = {
        "database": version,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "customers": customers,
        "rating_items_written": items,
        "runs": runs,
        "seconds_per_100000_customers": round(per_100k, 1),
        "under_target": per_100k < TARGET_SECONDS,
        "peer": {
            "sample": len(sample),
            "seconds": round(peer_seconds, 2),
            "extrapolated_seconds": round(peer_extrapolated, 1),
            "speedup_of_ours": round(peer_extrapolated / bulk["seconds"], 1),
            "scores_equal": True,
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS.relative_to(REPOSITORY)}")


if __name__ == "__main__":
    main()
