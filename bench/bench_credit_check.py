"""Benchmark: the order credit check under 50 concurrent confirmations on PostgreSQL (issue 5
item 4).

Builds a fresh PostgreSQL database (drops and creates it), migrates it and loads a ledger with
bulk inserts: by default 5,000 customers each with a credit line, 100,000 open invoices and
50,000 confirmed credit orders not yet invoiced (so the exposure reads real indexes).

Then 50 worker processes (like 50 web workers, each with its own connection) confirm orders
through `kehu.sales.services.order_create` in bursts: each round, all 50 wait on a barrier and
confirm one order of 1,000.00 at the same moment. Three variants run on fresh customers each:
- ours: the credit check as shipped (locks the group row and the CustomerCredit row, then
  reads the exposure);
- naive: the same check without the locks (reads the exposure and decides) — the peer that
  shows what the locks cost and what they prevent;
- no check: the same confirmations with `credit_check=False` — the latency floor.
and two placements of the customers:
- contended: every burst lands on 10 customers (5 confirmations per customer at once), whose
  lines leave room for exactly half of the orders they will receive;
- spread: every burst lands on 50 different customers among 1,000 (little contention).

For each variant it reports the latency of the check itself (inside the confirmation, lock
waits included) and of the whole confirmation (p50/p95/p99/max, milliseconds), the ratio of
ours over each peer, and the over-limit count: orders accepted beyond a customer's line
(exposure − line) / 1,000. It asserts that ours accepts none over the limit, and writes
bench/results/credit_check.json.

Run:
  .venv/bin/python bench/bench_credit_check.py \
      --database-url postgres://postgres@127.0.0.1:5432/kehu_bench_credit
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY / "src"))
RESULTS = REPOSITORY / "bench" / "results" / "credit_check.json"

WORKERS = 50
ORDER_AMOUNT = Decimal("1000.00")
TARGET_P99_MS = 50.0
VARIANTS = ("ours", "naive", "no_check")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/kehu_bench_credit",
        help="postgres://… of a database to drop and create",
    )
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--rounds", type=int, default=20, help="bursts per variant")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def fresh_database(url_text: str) -> None:
    import psycopg

    url = urlparse(url_text)
    if url.scheme not in ("postgres", "postgresql"):
        raise SystemExit("this benchmark needs PostgreSQL: --database-url postgres://…")
    name = url.path.lstrip("/")
    admin_url = url_text.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["KEHU_DATABASE_URL"] = url_text


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings.base"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def load(arguments: argparse.Namespace) -> dict[str, int]:
    """The background ledger: customers with lines, open invoices, uninvoiced orders."""
    from django.db import connection, transaction
    from django.utils import timezone

    from kehu.accounts.models import OrgUnit, Role, User
    from kehu.catalog.models import Product, ProductCategory
    from kehu.credit.models import CreditLine, CustomerCredit
    from kehu.customers.models import Customer
    from kehu.receivables.models import Invoice
    from kehu.sales.models import Order, OrderState, PaymentMethod

    rng = np.random.default_rng(arguments.seed)
    today = timezone.localdate()
    with transaction.atomic():
        company = OrgUnit.objects.create(name="总公司", code="hq", kind="company", path="/1/")
        rep = User.objects.create(username="rep", role=Role.SALES_REP, org_unit=company)
        category = ProductCategory.objects.create(code="general", name="通用")
        Product.objects.create(
            code="P1", name="产品", category=category, list_price=ORDER_AMOUNT, standard_cost=0
        )
        customers = Customer.objects.bulk_create(
            (
                Customer(code=f"C{i:07d}", name=f"客户{i}", owner=rep)
                for i in range(arguments.customers)
            ),
            batch_size=5_000,
        )
        CustomerCredit.objects.bulk_create(
            (CustomerCredit(customer=customer, grade="A") for customer in customers),
            batch_size=5_000,
        )
        CreditLine.objects.bulk_create(
            (
                CreditLine(
                    customer=customer,
                    amount=Decimal("10000000.00"),
                    valid_from=today - dt.timedelta(days=30),
                    valid_until=today + dt.timedelta(days=300),
                )
                for customer in customers
            ),
            batch_size=5_000,
        )
        owners = rng.integers(0, len(customers), arguments.invoices)
        issue_days = rng.integers(1, 50, arguments.invoices)  # due in the future: not overdue
        amounts = rng.integers(10_000, 1_000_000, arguments.invoices)
        Invoice.objects.bulk_create(
            (
                Invoice(
                    number=f"I{i:08d}",
                    customer=customers[int(c)],
                    issue_date=today - dt.timedelta(days=int(d)),
                    payment_terms_days=60,
                    due_date=today - dt.timedelta(days=int(d)) + dt.timedelta(days=60),
                    amount=Decimal(int(a)) / 100,
                    open_amount=Decimal(int(a)) / 100,
                )
                for i, (c, d, a) in enumerate(zip(owners, issue_days, amounts, strict=True))
            ),
            batch_size=5_000,
        )
        owners = rng.integers(0, len(customers), arguments.orders)
        amounts = rng.integers(10_000, 1_000_000, arguments.orders)
        Order.objects.bulk_create(
            (
                Order(
                    number=f"H{i:08d}",
                    customer=customers[int(c)],
                    owner=rep,
                    state=OrderState.CONFIRMED,
                    order_date=today,
                    payment_method=PaymentMethod.CREDIT,
                    total_amount=Decimal(int(a)) / 100,
                )
                for i, (c, a) in enumerate(zip(owners, amounts, strict=True))
            ),
            batch_size=5_000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "customers": arguments.customers,
        "open_invoices": arguments.invoices,
        "uninvoiced_orders": arguments.orders,
    }


def prepare_customers(customer_ids: list[int], orders_each: int) -> None:
    """Set each customer's line to its exposure now + room for `orders_each` orders."""
    from django.db import transaction

    from kehu.credit.models import CreditLine
    from kehu.credit.selectors.exposure import exposure_of

    with transaction.atomic():
        for customer_id in customer_ids:
            exposure = exposure_of(customer_ids=[customer_id]).total
            CreditLine.objects.filter(customer_id=customer_id).update(
                amount=exposure + ORDER_AMOUNT * orders_each
            )


def naive_check(*, order, checkpoint, actor, today=None, values=None):  # type: ignore[no-untyped-def]
    """The peer: the same figures and record as ours, without locking anything."""
    from django.utils import timezone

    from kehu.credit.models import CreditCheck, CreditCheckResult, HoldState
    from kehu.credit.selectors.holds import credit_position

    position = credit_position(
        customer=order.customer,
        today=today or timezone.localdate(),
        order_amount=order.total_amount,
        exclude_order_id=order.pk,
        values=values,
    )
    held = position.is_held
    return CreditCheck.objects.create(
        order=order,
        customer=order.customer,
        checkpoint=checkpoint,
        checked_by=actor,
        result=CreditCheckResult.HELD if held else CreditCheckResult.PASSED,
        reasons=list(position.reasons),
        order_amount=order.total_amount,
        exposure=position.exposure,
        line_amount=position.line_amount,
        excess=position.excess if held else 0,
        hold_state=HoldState.OPEN if held else "",
    )


def worker(
    index: int,
    variant: str,
    plan: list[int],
    warm_up_customer: int,
    barrier,  # type: ignore[no-untyped-def]
    results,  # type: ignore[no-untyped-def]
) -> None:
    """Confirm one order per round for the customer the plan names, after the barrier."""
    try:
        _work(index, variant, plan, warm_up_customer, barrier, results)
    except BaseException as error:
        barrier.abort()  # the others stop waiting for this one
        results.put((index, f"{type(error).__name__}: {error}"))
        raise


def _work(
    index: int,
    variant: str,
    plan: list[int],
    warm_up_customer: int,
    barrier,  # type: ignore[no-untyped-def]
    results,  # type: ignore[no-untyped-def]
) -> None:
    from django.db import connections
    from django.utils import timezone

    import kehu.sales.services as sales
    from kehu.accounts.models import User
    from kehu.catalog.models import Product
    from kehu.customers.models import Customer

    connections.close_all()
    check_seconds: list[float] = []
    real_check = sales.order_credit_check if variant == "ours" else naive_check

    def timed_check(**kwargs):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return real_check(**kwargs)
        finally:
            check_seconds.append(time.perf_counter() - start)

    sales.order_credit_check = timed_check  # type: ignore[assignment]
    rep = User.objects.get(username="rep")
    product = Product.objects.get(code="P1")
    customers = {c.pk: c for c in Customer.objects.filter(pk__in={*plan, warm_up_customer})}
    line = sales.OrderLineInput(
        product=product, quantity=Decimal(1), unit_price=ORDER_AMOUNT, unit_cost=Decimal(0)
    )
    # One untimed confirmation on a customer of its own: the process's first queries compile.
    sales.order_create(
        customer=customers[warm_up_customer],
        number=f"{variant}-warm-{index:03d}-{time.time_ns() % 10**6}",
        order_date=timezone.localdate(),
        lines=[line],
        actor=rep,
        credit_check=variant != "no_check",
    )
    rows = []
    for round_number, customer_id in enumerate(plan):
        barrier.wait()
        check_seconds.clear()
        start = time.perf_counter()
        order = sales.order_create(
            customer=customers[customer_id],
            number=f"{variant}-{round_number:03d}-{index:03d}-{time.time_ns() % 10**6}",
            order_date=timezone.localdate(),
            lines=[line],
            actor=rep,
            credit_check=variant != "no_check",
        )
        total = time.perf_counter() - start
        rows.append((total, sum(check_seconds), order.state))
    connections.close_all()
    results.put((index, rows))


def percentiles(seconds: list[float]) -> dict[str, float]:
    values = np.array(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p95_ms": round(float(np.percentile(values, 95)), 2),
        "p99_ms": round(float(np.percentile(values, 99)), 2),
        "max_ms": round(float(values.max()), 2),
    }


def over_limit_orders(customer_ids: list[int]) -> tuple[int, str]:
    """Orders accepted beyond the lines: Σ max(0, exposure − line) / order amount."""
    from kehu.credit.models import CreditLine
    from kehu.credit.selectors.exposure import exposure_of

    over = Decimal(0)
    lines = dict(
        CreditLine.objects.filter(customer_id__in=customer_ids).values_list("customer_id", "amount")
    )
    for customer_id in customer_ids:
        exposure = exposure_of(customer_ids=[customer_id]).total
        over += max(exposure - lines[customer_id], Decimal(0))
    return int(over / ORDER_AMOUNT), str(over)


def run_variant(  # type: ignore[no-untyped-def]
    variant: str, placement: str, customer_pool: list[int], warm_up: list[int], arguments, rng
) -> dict[str, object]:
    from django.db import connections

    workers, rounds = arguments.workers, arguments.rounds
    if placement == "contended":
        # Five confirmations per customer in each burst.
        hot = max(1, workers // 5)
        chosen = customer_pool[:hot]
        plans = [[chosen[(index + r) % hot] for r in range(rounds)] for index in range(workers)]
        orders_each = workers * rounds // hot
        # Room for about half; not a multiple of the orders a burst brings, so the line is
        # crossed inside a burst, where an unlocked check races.
        room = orders_each // 2 + 2
    else:
        chosen = customer_pool
        plans = [[] for _ in range(workers)]
        for _ in range(rounds):
            picks = rng.choice(len(chosen), workers, replace=False)
            for index in range(workers):
                plans[index].append(chosen[int(picks[index])])
        room = 10**6  # spread: the lines are not the point
    prepare_customers(chosen, room)
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(workers)
    results = context.Queue()
    processes = [
        context.Process(
            target=worker,
            args=(index, variant, plans[index], warm_up[index], barrier, results),
        )
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    rows = []
    failures = []
    for _ in processes:
        index, outcome = results.get(timeout=600)
        if isinstance(outcome, str):
            failures.append(f"worker {index}: {outcome}")
        else:
            rows.extend(outcome)
    for process in processes:
        process.join(timeout=60)
    if failures:
        raise SystemExit("\n".join(failures[:5]))
    totals = [row[0] for row in rows]
    checks = [row[1] for row in rows]
    states: dict[str, int] = {}
    for row in rows:
        states[row[2]] = states.get(row[2], 0) + 1
    over_count, over_amount = over_limit_orders(chosen)
    return {
        "confirmations": len(rows),
        "states": states,
        "check": percentiles(checks) if variant != "no_check" else None,
        "confirmation": percentiles(totals),
        "over_limit_orders_accepted": over_count,
        "over_limit_amount": over_amount,
    }


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
    fresh_database(arguments.database_url)
    setup_django()
    from django.db import connection

    import kehu.sales.services  # noqa: F401 - imported before the workers fork: same code for all
    from kehu.customers.models import Customer

    load_before = round(os.getloadavg()[0], 2)
    start = time.perf_counter()
    counts = load(arguments)
    loaded = time.perf_counter() - start
    print(f"loaded in {loaded:.1f} s: {counts}")
    version = f"PostgreSQL {connection.cursor().connection.info.server_version}"
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    rng = np.random.default_rng(arguments.seed)
    placements: dict[str, dict[str, object]] = {}
    warm_up = ids[-arguments.workers :]
    next_customer = 0
    for placement in ("contended", "spread"):
        runs: dict[str, dict[str, object]] = {}
        for variant in VARIANTS:
            size = max(1, arguments.workers // 5) if placement == "contended" else 1_000
            pool = ids[next_customer : next_customer + size]
            next_customer += size
            runs[variant] = run_variant(variant, placement, pool, warm_up, arguments, rng)
            run = runs[variant]
            check = run["check"] or {}
            print(
                f"{placement:9} {variant:8} check p99 {check.get('p99_ms', '—')} ms, "
                f"confirmation p99 {run['confirmation']['p99_ms']} ms, "  # type: ignore[index]
                f"states {run['states']}, over-limit accepted "
                f"{run['over_limit_orders_accepted']}"
            )
        ours, naive, bare = runs["ours"], runs["naive"], runs["no_check"]
        assert ours["over_limit_orders_accepted"] == 0, "ours accepted orders beyond the line"
        placements[placement] = {
            "runs": runs,
            "check_p99_ratio_ours_over_naive": round(
                ours["check"]["p99_ms"] / naive["check"]["p99_ms"],  # type: ignore[index]
                2,
            ),
            "confirmation_p99_ratio_ours_over_naive": round(
                ours["confirmation"]["p99_ms"] / naive["confirmation"]["p99_ms"],  # type: ignore[index]
                2,
            ),
            "confirmation_p99_ratio_ours_over_no_check": round(
                ours["confirmation"]["p99_ms"] / bare["confirmation"]["p99_ms"],  # type: ignore[index]
                2,
            ),
            "check_p99_under_target": ours["check"]["p99_ms"] < TARGET_P99_MS,  # type: ignore[index]
        }

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["description"] = " ".join(
        [
            "Processes confirm orders of 1000.00 on credit in simultaneous bursts (one order",
            "per process per burst) through kehu.sales.services.order_create.",
            "ours: the credit check with its row locks; naive: the same check without locks;",
            "no_check: the confirmation alone. contended: five confirmations per customer in",
            "each burst (10 customers for 50 processes), lines leaving room for half the",
            "orders (+2); spread: each burst on distinct customers among 1,000.",
            "check = time in the credit check (lock waits included); confirmation = the whole",
            "order_create transaction. over_limit_orders_accepted = sum over customers of",
            "max(0, exposure - line) / 1000. One section per number of concurrent processes.",
        ]
    )
    results["target_check_p99_ms"] = TARGET_P99_MS
    results["machine"] = machine()
    results.setdefault("by_workers", {})[str(arguments.workers)] = {
        "database": version,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_average_before": load_before,
        "rows": counts,
        "load_seconds": round(loaded, 1),
        "workers": arguments.workers,
        "rounds": arguments.rounds,
        "placements": placements,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS.relative_to(REPOSITORY)}")


if __name__ == "__main__":
    main()
