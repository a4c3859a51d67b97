# SQL below is built from model table names and fixed expressions; values come from numpy.
# ruff: noqa: S608
"""Benchmark: the full value snapshot (issue 3, point 1) over a large synthetic ledger.

Builds a fresh SQLite database in a data folder, migrates it and loads, fast (numpy columns,
staged through the ADBC SQLite driver as Arrow, then one INSERT … SELECT per table, secondary
indexes dropped during the load and built again after it), a seeded ledger of the demo company's
shape: by default 1,000,000 customers (10% prospects that never buy, a quarter that stop buying
some time) and 20,000,000 orders from 2022-01 to 2026-10. The snapshot reads orders at order
level (sales_order.total_amount / total_cost, never the order lines), so the 20,000,000 rows are
orders; there are no order lines. Around them, in the proportions of a credit-selling business:
returns (2% of purchases), complaints (1% of orders), activities (one per four orders, 35% with
a recorded cost), an invoice for every invoiced order on credit, one or two payment allocations
per invoice (each with its payment; 2% reversed), a credit note for every return of an invoiced
order, and write-offs of what slow payers never paid (10% reversed).

Then, on the same data and in this order, it times
- ours: `value_snapshot_compute(period=2026Q3, engine="duckdb")` end to end (read the ledger
  through ADBC, aggregate with Ibis on DuckDB, score, write the CustomerValue rows), with the
  time of each step;
- the peer (bench/peers/pandas_snapshot.py): plain pandas, reading the same normalised SELECTs
  with `pandas.read_sql_query` and running the same aggregations with groupby/merge, then the
  same scoring; every key figure of every customer must equal what ours wrote;
- Spark in local mode over Parquet files of the same nine tables (when pyspark is installed).

Each run records wall seconds and the process's CPU seconds (all threads; Spark's JVM is not
counted): the machine may be shared, and CPU time moves less with its load. Writes
bench/results/snapshot.json after each stage (one entry per --label). Run:
  .venv/bin/python bench/bench_snapshot.py                                   # 1M / 20M
  .venv/bin/python bench/bench_snapshot.py --customers 100000 --rows 2000000 # a quick check
  --load-only builds the database and stops; --reuse runs on a database already built;
  --skip-lifetime leaves out the lifetime-value models (point 3) to time point 1 alone;
  --skip-ours, --skip-peer, --skip-spark leave out a stage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY / "src"))
sys.path.insert(0, str(REPOSITORY / "bench"))
RESULTS = REPOSITORY / "bench" / "results" / "snapshot.json"

EPOCH = dt.date(1970, 1, 1)
START = dt.date(2022, 1, 1)
END = dt.date(2026, 10, 31)  # the last day of the data: nothing after it
PERIOD = "2026Q3"  # with the default 12-month window: 2025-10-01 … 2026-09-30
TARGET_SECONDS = 60.0
STAMP = "2026-11-01 08:00:00"

ORDER_STATES = ("invoiced", "delivered", "confirmed", "cancelled", "draft", "held")
ORDER_STATE_P = (0.60, 0.15, 0.10, 0.08, 0.04, 0.03)
PURCHASE_CODES = (0, 1, 2)
ACTIVITY_KINDS = ("visit", "call", "delivery", "service_job", "email", "meeting", "greeting")
ACTIVITY_KINDS += ("other",)
ACTIVITY_P = (0.25, 0.35, 0.15, 0.05, 0.10, 0.04, 0.03, 0.03)
COMPLAINT_CATEGORIES = ("quality", "delivery", "service", "price", "billing", "other")
COMPLAINT_P = (0.3, 0.25, 0.15, 0.1, 0.15, 0.05)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir",
        default=str(Path(tempfile.gettempdir()) / "kehu-bench-snapshot"),
        help="folder for the fresh SQLite database and the Parquet files",
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=20_000_000, help="orders")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="keep a database already loaded")
    parser.add_argument("--load-only", action="store_true", help="build the database and stop")
    parser.add_argument(
        "--skip-lifetime",
        action="store_true",
        help="leave out the lifetime-value models (issue 3, point 3) to time point 1 alone",
    )
    parser.add_argument("--skip-ours", action="store_true", help="only the Spark peer")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--label", default="", help="a name for this run in the JSON")
    return parser.parse_args()


def database_path(arguments: argparse.Namespace) -> Path:
    return Path(arguments.data_dir).expanduser().resolve() / "kehu.sqlite3"


def fresh_database(arguments: argparse.Namespace) -> None:
    folder = database_path(arguments).parent
    folder.mkdir(parents=True, exist_ok=True)
    if not arguments.reuse:
        for suffix in ("", "-wal", "-shm"):
            (folder / f"kehu.sqlite3{suffix}").unlink(missing_ok=True)
    os.environ["KEHU_DATA_DIR"] = str(folder)
    os.environ.pop("KEHU_DATABASE_URL", None)


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings.base"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


# ------------------------------------------------------------------------------- the ledger


def generate(customers: int, orders: int, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """The ledger as numpy columns: days are day numbers (since 1970-01-01), money is cents,
    references are 0-based positions (customers, orders, invoices) turned into ids at load."""
    rng = np.random.default_rng(seed)
    start, last = (START - EPOCH).days, (END - EPOCH).days
    length = last - start + 1
    c = customers

    # Customers: when they start, whether and when they stop, how much and how often they buy.
    prospect = rng.random(c) < 0.10
    first = start + (length * rng.random(c) ** 1.5).astype(np.int64)
    stops = rng.random(c) < 0.25
    stop = np.where(stops, first + rng.integers(60, 1_400, c), last)
    stop = np.minimum(stop, last)
    span = stop - first + 1
    weight = np.where(prospect, 0.0, rng.lognormal(0.0, 1.0, c) * span)
    basket = rng.lognormal(7.5, 1.0, c)  # yuan, per order
    margin = rng.uniform(0.6, 0.88, c)  # cost share of the amount
    terms = rng.choice(np.array([30, 60, 90]), c, p=(0.5, 0.35, 0.15))
    late_mean = rng.exponential(10.0, c)  # days after the due date, on average
    slow_payer = rng.random(c) < 0.03

    # Orders, in date order (ids grow with the date, as in a real ledger).
    cumulative = np.cumsum(weight)
    customer = np.searchsorted(cumulative, rng.random(orders) * cumulative[-1], side="right")
    customer = np.minimum(customer, c - 1)
    day = first[customer] + (rng.random(orders) * span[customer]).astype(np.int64)
    order = np.argsort(day, kind="stable")
    customer, day = customer[order], day[order]
    amount = np.maximum(
        np.round(basket[customer] * rng.lognormal(0.0, 0.5, orders) * 100), 100
    ).astype(np.int64)
    cost = np.round(amount * margin[customer] * rng.uniform(0.9, 1.1, orders)).astype(np.int64)
    state = rng.choice(len(ORDER_STATES), orders, p=ORDER_STATE_P).astype(np.int64)
    on_credit = rng.random(orders) < 0.85
    purchase = state <= 2

    # Returns of 2% of purchases, a part of the order sent back within weeks.
    returned = np.flatnonzero(purchase & (rng.random(orders) < 0.02))
    share = rng.uniform(0.05, 0.6, returned.size)
    return_amount = np.maximum(np.floor(amount[returned] * share), 1).astype(np.int64)
    return_cost = np.floor(cost[returned] * share).astype(np.int64)
    return_day = np.minimum(day[returned] + rng.integers(2, 45, returned.size), last)

    # Complaints about 1% of orders.
    complained = np.flatnonzero(rng.random(orders) < 0.01)
    complaint_day = np.minimum(day[complained] + rng.integers(1, 40, complained.size), last)
    category = rng.choice(len(COMPLAINT_CATEGORIES), complained.size, p=COMPLAINT_P)

    # Activities: one per four orders; most around an order, a fifth with anyone at any time.
    a = orders // 4
    around = rng.random(a) < 0.8
    pick = rng.integers(0, orders, a)
    activity_customer = np.where(around, customer[pick], rng.integers(0, c, a))
    activity_day = np.where(
        around,
        np.clip(day[pick] + rng.integers(-20, 21, a), start, last),
        rng.integers(start, last + 1, a),
    )
    kind = rng.choice(len(ACTIVITY_KINDS), a, p=ACTIVITY_P)
    activity_cost = np.where(rng.random(a) < 0.35, rng.integers(2_000, 50_000, a), 0)

    # Invoices: every invoiced order sold on credit; 1% cancelled.
    invoiced = np.flatnonzero((state == 0) & on_credit)
    n = invoiced.size
    invoice_customer = customer[invoiced]
    issue = np.minimum(day[invoiced] + rng.integers(0, 8, n), last)
    due = issue + terms[invoice_customer]
    invoice_amount = amount[invoiced]
    cancelled = rng.random(n) < 0.01

    # Credit notes: the returns of invoiced orders.
    invoice_of_order = np.full(orders, -1, dtype=np.int64)
    invoice_of_order[invoiced] = np.arange(n)
    credit_return = np.flatnonzero(invoice_of_order[returned] >= 0)
    credit_invoice = invoice_of_order[returned[credit_return]]
    credit_amount = np.minimum(return_amount[credit_return], invoice_amount[credit_invoice] - 1)
    keep = (credit_amount > 0) & ~cancelled[credit_invoice]
    credit_return, credit_invoice, credit_amount = (
        credit_return[keep],
        credit_invoice[keep],
        credit_amount[keep],
    )
    credit_day = return_day[credit_return]
    credited = np.bincount(credit_invoice, weights=credit_amount, minlength=n).astype(np.int64)

    # Allocations: one (80%) or two payments; slow payers leave part unpaid.
    payable = invoice_amount - credited
    paid_share = np.where(
        slow_payer[invoice_customer] & (rng.random(n) < 0.5), rng.uniform(0.0, 0.7, n), 1.0
    )
    paid_share[cancelled] = 0.0
    to_pay = np.floor(payable * paid_share).astype(np.int64)
    parts = np.where(rng.random(n) < 0.8, 1, 2)
    parts[to_pay <= 1] = 0
    owner = np.repeat(np.arange(n), parts)
    second = np.zeros(owner.size, dtype=bool)
    second[1:] = owner[1:] == owner[:-1]
    split = rng.uniform(0.3, 0.7, n)
    first_part = np.where(parts == 2, np.floor(to_pay * split), to_pay).astype(np.int64)
    allocation_amount = np.where(second, to_pay[owner] - first_part[owner], first_part[owner])
    lateness = np.round(rng.normal(late_mean[invoice_customer[owner]] - 3, 8)).astype(np.int64)
    early = np.where(second, 0, rng.integers(0, 20, owner.size))
    allocated_on = np.maximum(due[owner] + lateness - early, 0)
    allocated_on = np.maximum(allocated_on, issue[owner])
    keep = (allocated_on <= last) & (allocation_amount > 0)
    owner, allocation_amount, allocated_on = (
        owner[keep],
        allocation_amount[keep],
        allocated_on[keep],
    )
    reversed_allocation = rng.random(owner.size) < 0.02
    allocation_reversed_on = np.where(
        reversed_allocation,
        np.minimum(allocated_on + rng.integers(1, 30, owner.size), last),
        -1,
    )
    order_by_day = np.argsort(allocated_on, kind="stable")
    owner, allocation_amount = owner[order_by_day], allocation_amount[order_by_day]
    allocated_on = allocated_on[order_by_day]
    allocation_reversed_on = allocation_reversed_on[order_by_day]
    live_paid = np.bincount(
        owner, weights=allocation_amount * (allocation_reversed_on < 0), minlength=n
    ).astype(np.int64)

    # Write-offs: what slow payers left unpaid, half a year to more than a year after the due
    # date; 10% reversed later.
    unpaid = (
        invoice_amount
        - credited
        - np.bincount(owner, weights=allocation_amount, minlength=n).astype(np.int64)
    )
    written = np.flatnonzero(
        slow_payer[invoice_customer] & ~cancelled & (unpaid > 0) & (due + 180 <= last)
    )
    write_off_day = np.minimum(due[written] + rng.integers(180, 400, written.size), last)
    write_off_reversed_on = np.where(
        rng.random(written.size) < 0.1,
        np.minimum(write_off_day + rng.integers(1, 120, written.size), last),
        -1,
    )
    write_off_amount = unpaid[written]
    live_written = np.bincount(
        written, weights=write_off_amount * (write_off_reversed_on < 0), minlength=n
    ).astype(np.int64)
    open_amount = np.where(cancelled, invoice_amount, invoice_amount - credited - live_paid)
    open_amount = np.where(cancelled, open_amount, open_amount - live_written)
    assert (open_amount >= 0).all()
    assert (open_amount <= invoice_amount).all()

    # What the customer row keeps of its purchases (denormalised, not read by the snapshot).
    bought = purchase & (day <= last)
    first_purchase = np.full(c, np.iinfo(np.int64).max)
    last_purchase = np.full(c, -1)
    np.minimum.at(first_purchase, customer[bought], day[bought])
    np.maximum.at(last_purchase, customer[bought], day[bought])
    purchase_count = np.bincount(customer[bought], minlength=c)

    return {
        "customers": {
            "kind": (rng.random(c) < 0.8).astype(np.int64), "terms": terms,
            "first_purchase": np.where(last_purchase >= 0, first_purchase, -1),
            "last_purchase": last_purchase, "purchase_count": purchase_count,
            "created": np.minimum(first, last),
        },
        "orders": {
            "customer": customer, "day": day, "amount": amount, "cost": cost, "state": state,
            "credit": on_credit.astype(np.int64),
        },
        "returns": {
            "order": returned, "customer": customer[returned], "day": return_day,
            "amount": return_amount, "cost": return_cost,
        },
        "complaints": {
            "customer": customer[complained], "day": complaint_day, "category": category,
        },
        "activities": {
            "customer": activity_customer, "day": activity_day, "kind": kind,
            "cost": activity_cost,
        },
        "invoices": {
            "order": invoiced, "customer": invoice_customer, "issue": issue, "due": due,
            "terms": terms[invoice_customer], "amount": invoice_amount, "open": open_amount,
            "cancelled": cancelled.astype(np.int64),
        },
        "allocations": {
            "invoice": owner, "customer": invoice_customer[owner], "amount": allocation_amount,
            "day": allocated_on, "reversed": allocation_reversed_on,
        },
        "credit_notes": {
            "invoice": credit_invoice, "customer": invoice_customer[credit_invoice],
            "return": credit_return, "day": credit_day, "amount": credit_amount,
        },
        "write_offs": {
            "invoice": written, "amount": write_off_amount, "day": write_off_day,
            "reversed": write_off_reversed_on,
        },
    }  # fmt: skip


def _case(column: str, names: tuple[str, ...]) -> str:
    whens = " ".join(f"WHEN {code} THEN '{name}'" for code, name in enumerate(names))
    return f"CASE {column} {whens} END"


def _money(column: str) -> str:
    return f"({column} / 100.0)"


def _day(alias: str) -> str:
    return f"{alias}.d"


def table_plans(ledger, ids) -> list[tuple[str, dict[str, np.ndarray], list[str], list[str], str]]:  # type: ignore[no-untyped-def]
    """(table, staged columns, target columns, SELECT expressions over the stage `s`, joins)."""
    from kehu.customers.models import Customer
    from kehu.receivables.models import CreditNote, Invoice, Payment, PaymentAllocation, WriteOff
    from kehu.sales.models import Order, Return
    from kehu.service.models import Activity, Complaint

    customers, orders = ledger["customers"], ledger["orders"]
    owner_of = ids["reps"][np.arange(len(customers["terms"])) % len(ids["reps"])]
    first_ids = {"customer": ids["customer0"]}

    def cid(positions: np.ndarray) -> np.ndarray:
        return positions + first_ids["customer"]

    def days(*names: str) -> str:
        return " ".join(
            f"LEFT JOIN bench_days AS {name} ON {name}.day = s.{name}_day" for name in names
        )

    now = f"'{STAMP}'"
    plans = [
        (
            Customer._meta.db_table,
            {
                "customer_id": cid(np.arange(len(customers["terms"]))),
                "kind": customers["kind"],
                "terms": customers["terms"],
                "owner_id": owner_of,
                "created_day": customers["created"],
                "first_day": customers["first_purchase"],
                "last_day": customers["last_purchase"],
                "purchase_count": customers["purchase_count"],
            },
            [
                "id",
                "created_at",
                "updated_at",
                "code",
                "name",
                "kind",
                "industry",
                "ownership",
                "size",
                "territory",
                "province",
                "city",
                "address",
                "postal_code",
                "phone",
                "email",
                "source_channel",
                "competitor",
                "notes",
                "credit_limit",
                "payment_terms_days",
                "currency",
                "first_purchase_on",
                "last_purchase_on",
                "purchase_count",
                "owner_id",
                "search_text",
            ],
            [
                "s.customer_id",
                "created.d || ' 09:00:00'",
                now,
                "'C' || (10000000 + s.customer_id)",
                "'客户' || s.customer_id",
                "CASE s.kind WHEN 1 THEN 'business' ELSE 'consumer' END",
                "''",
                "'private'",
                "'small'",
                "''",
                "''",
                "''",
                "''",
                "''",
                "''",
                "''",
                "'other'",
                "''",
                "''",
                "0",
                "s.terms",
                "'CNY'",
                "first.d",
                "last.d",
                "s.purchase_count",
                "s.owner_id",
                "'C' || (10000000 + s.customer_id) || ' 客户' || s.customer_id",
            ],
            days("created", "first", "last"),
        ),
        (
            Order._meta.db_table,
            {
                "customer_id": cid(orders["customer"]),
                "order_day": orders["day"],
                "amount": orders["amount"],
                "cost": orders["cost"],
                "state": orders["state"],
                "credit": orders["credit"],
            },
            [
                "id",
                "created_at",
                "updated_at",
                "number",
                "state",
                "order_date",
                "payment_method",
                "currency",
                "total_amount",
                "total_cost",
                "notes",
                "customer_id",
            ],
            [
                "s.rowid",
                now,
                now,
                "'SO' || (1000000000 + s.rowid)",
                _case("s.state", ORDER_STATES),
                "o.d",
                "CASE s.credit WHEN 1 THEN 'credit' ELSE 'cash' END",
                "'CNY'",
                _money("s.amount"),
                _money("s.cost"),
                "''",
                "s.customer_id",
            ],
            "LEFT JOIN bench_days AS o ON o.day = s.order_day",
        ),
    ]
    returns = ledger["returns"]
    plans.append(
        (
            Return._meta.db_table,
            {
                "order_id": returns["order"] + 1,
                "customer_id": cid(returns["customer"]),
                "r_day": returns["day"],
                "amount": returns["amount"],
                "cost": returns["cost"],
            },
            [
                "id",
                "created_at",
                "updated_at",
                "number",
                "returned_on",
                "reason",
                "amount",
                "cost",
                "currency",
                "customer_id",
                "order_id",
            ],
            [
                "s.rowid",
                now,
                now,
                "'RT' || (1000000000 + s.rowid)",
                "r.d",
                "''",
                _money("s.amount"),
                _money("s.cost"),
                "'CNY'",
                "s.customer_id",
                "s.order_id",
            ],
            days("r"),
        )
    )
    complaints = ledger["complaints"]
    plans.append(
        (
            Complaint._meta.db_table,
            {
                "customer_id": cid(complaints["customer"]),
                "owner_id": owner_of[complaints["customer"]],
                "r_day": complaints["day"],
                "category": complaints["category"],
            },
            [
                "id",
                "created_at",
                "updated_at",
                "received_on",
                "category",
                "text",
                "state",
                "customer_id",
                "owner_id",
            ],
            [
                "s.rowid",
                now,
                now,
                "r.d",
                _case("s.category", COMPLAINT_CATEGORIES),
                "'bench'",
                "'closed'",
                "s.customer_id",
                "s.owner_id",
            ],
            days("r"),
        )
    )
    activities = ledger["activities"]
    plans.append(
        (
            Activity._meta.db_table,
            {
                "customer_id": cid(activities["customer"]),
                "owner_id": owner_of[activities["customer"]],
                "a_day": activities["day"],
                "kind": activities["kind"],
                "cost": activities["cost"],
            },
            [
                "id",
                "created_at",
                "updated_at",
                "kind",
                "occurred_on",
                "subject",
                "outcome",
                "outcome_note",
                "cost",
                "currency",
                "customer_id",
                "owner_id",
            ],
            [
                "s.rowid",
                now,
                now,
                _case("s.kind", ACTIVITY_KINDS),
                "a.d",
                "''",
                "'successful'",
                "''",
                _money("s.cost"),
                "'CNY'",
                "s.customer_id",
                "s.owner_id",
            ],
            days("a"),
        )
    )
    invoices = ledger["invoices"]
    plans.append(
        (
            Invoice._meta.db_table,
            {
                "customer_id": cid(invoices["customer"]),
                "order_id": invoices["order"] + 1,
                "i_day": invoices["issue"],
                "d_day": invoices["due"],
                "terms": invoices["terms"],
                "amount": invoices["amount"],
                "open": invoices["open"],
                "cancelled": invoices["cancelled"],
            },
            [
                "id",
                "created_at",
                "updated_at",
                "number",
                "issue_date",
                "payment_terms_days",
                "due_date",
                "amount",
                "open_amount",
                "currency",
                "is_cancelled",
                "customer_id",
                "order_id",
            ],
            [
                "s.rowid",
                now,
                now,
                "'IN' || (1000000000 + s.rowid)",
                "i.d",
                "s.terms",
                "d.d",
                _money("s.amount"),
                _money("s.open"),
                "'CNY'",
                "s.cancelled",
                "s.customer_id",
                "s.order_id",
            ],
            days("i", "d"),
        )
    )
    allocations = ledger["allocations"]
    reversed_allocation = allocations["reversed"] >= 0
    plans.append(
        (
            Payment._meta.db_table,
            {
                "customer_id": cid(allocations["customer"]),
                "p_day": allocations["day"],
                "amount": allocations["amount"],
                "unallocated": np.where(reversed_allocation, allocations["amount"], 0),
            },
            [
                "id",
                "created_at",
                "updated_at",
                "number",
                "received_on",
                "amount",
                "unallocated_amount",
                "method",
                "reference",
                "currency",
                "customer_id",
            ],
            [
                "s.rowid",
                now,
                now,
                "'PM' || (1000000000 + s.rowid)",
                "p.d",
                _money("s.amount"),
                _money("s.unallocated"),
                "'bank_transfer'",
                "''",
                "'CNY'",
                "s.customer_id",
            ],
            days("p"),
        )
    )
    plans.append(
        (
            PaymentAllocation._meta.db_table,
            {
                "invoice_id": allocations["invoice"] + 1,
                "amount": allocations["amount"],
                "a_day": allocations["day"],
                "r_day": allocations["reversed"],
            },
            [
                "id",
                "amount",
                "allocated_on",
                "reversed_on",
                "created_at",
                "invoice_id",
                "payment_id",
            ],
            ["s.rowid", _money("s.amount"), "a.d", "r.d", now, "s.invoice_id", "s.rowid"],
            days("a", "r"),
        )
    )
    credit = ledger["credit_notes"]
    plans.append(
        (
            CreditNote._meta.db_table,
            {
                "customer_id": cid(credit["customer"]),
                "invoice_id": credit["invoice"] + 1,
                "return_id": credit["return"] + 1,
                "c_day": credit["day"],
                "amount": credit["amount"],
            },
            [
                "id",
                "created_at",
                "updated_at",
                "number",
                "issue_date",
                "amount",
                "reason",
                "currency",
                "customer_id",
                "sales_return_id",
                "invoice_id",
            ],
            [
                "s.rowid",
                now,
                now,
                "'CN' || (1000000000 + s.rowid)",
                "c.d",
                _money("s.amount"),
                "'return'",
                "'CNY'",
                "s.customer_id",
                "s.return_id",
                "s.invoice_id",
            ],
            days("c"),
        )
    )
    write_offs = ledger["write_offs"]
    plans.append(
        (
            WriteOff._meta.db_table,
            {
                "invoice_id": write_offs["invoice"] + 1,
                "amount": write_offs["amount"],
                "w_day": write_offs["day"],
                "r_day": write_offs["reversed"],
                "decided_by_id": np.full(write_offs["invoice"].size, ids["finance"]),
            },
            ["id", "created_at", "updated_at", "amount", "written_off_on", "reason",
             "reversed_on", "decided_by_id", "invoice_id"],
            ["s.rowid", now, now, _money("s.amount"), "w.d", "'bench'", "r.d", "s.decided_by_id",
             "s.invoice_id"],
            days("w", "r"),
        )
    )  # fmt: skip
    return plans


def load(ledger, path: Path) -> tuple[dict[str, int], dict[str, float]]:  # type: ignore[no-untyped-def]
    """Insert the ledger; returns the row counts and the seconds per table."""
    import adbc_driver_sqlite.dbapi as adbc
    from django.db import connection

    from kehu.accounts.models import OrgUnit, Role, User

    company = OrgUnit.objects.create(name="总公司", code="hq", kind="company", path="/1/")
    reps = User.objects.bulk_create(
        User(username=f"rep{i}", role=Role.SALES_REP, org_unit=company) for i in range(50)
    )
    finance = User.objects.create(username="finance", role=Role.FINANCE, org_unit=company)
    ids = {"reps": np.array([rep.pk for rep in reps]), "finance": finance.pk, "customer0": 1}
    connection.close()

    plans = table_plans(ledger, ids)
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}
    with adbc.connect(str(path)) as db, db.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_days (day INTEGER PRIMARY KEY, d TEXT)")
        first, last = (START - EPOCH).days - 30, (END - EPOCH).days + 400
        cursor.adbc_ingest(
            "bench_days",
            pa.table(
                {
                    "day": pa.array(np.arange(first, last + 1)),
                    "d": pa.array(
                        [
                            (EPOCH + dt.timedelta(days=int(d))).isoformat()
                            for d in range(first, last + 1)
                        ]
                    ),
                }
            ),
            mode="append",
        )
        for table, staged, columns, expressions, joins in plans:
            started = time.perf_counter()
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL",
                parameters=(table,),
            )
            indexes = cursor.fetchall()
            for name, _sql in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            stage = pa.table(
                {
                    # -1 marks no date (a NULL after the join)
                    name: pa.array(values.astype(np.int64))
                    for name, values in staged.items()
                }
            )
            cursor.adbc_ingest("bench_stage", stage, mode="create")
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"SELECT {', '.join(expressions)} FROM bench_stage AS s {joins} ORDER BY s.rowid"
            )
            cursor.execute("DROP TABLE bench_stage")
            for _name, sql in indexes:
                cursor.execute(sql)
            db.commit()
            counts[table] = stage.num_rows
            seconds[table] = round(time.perf_counter() - started, 1)
            print(f"  {table}: {stage.num_rows:,} rows in {seconds[table]:.1f} s", flush=True)
        cursor.execute("DROP TABLE bench_days")
        db.commit()
    return counts, seconds


# ------------------------------------------------------------------------------- the runs


def skip_lifetime() -> None:
    """Replace the lifetime-value models by an empty result (every lifetime column NULL)."""
    from kehu.value import lifetime, services

    def nothing(*, purchase_days, as_of, values, previous=None):  # type: ignore[no-untyped-def]
        empty = np.zeros(0)
        return lifetime.LifetimeResult(
            customer_ids=np.zeros(0, dtype=np.int64),
            probability_alive=empty,
            expected_purchases=empty,
            expected_spend=empty,
            lifetime_value=empty,
            parameters={"skipped": "bench --skip-lifetime"},
        )

    services.lifetime_compute = nothing  # type: ignore[assignment]


def run_ours() -> tuple[float, dict[str, float], object]:
    """value_snapshot_compute end to end; the seconds between its progress steps."""
    from kehu.value.services import value_snapshot_compute

    marks: list[tuple[str, float]] = []
    cpu_marks: list[float] = []

    def progress(step: str) -> None:
        marks.append((step, time.perf_counter()))
        cpu_marks.append(time.process_time())
        print(f"    {time.strftime('%H:%M:%S', time.gmtime())} {step}", flush=True)

    started, cpu = time.perf_counter(), time.process_time()
    snapshot = value_snapshot_compute(period=PERIOD, engine="duckdb", progress=progress)
    ended = time.perf_counter()
    steps: dict[str, float] = {"before the first step": round(marks[0][1] - started, 3)}
    for (step, at), (_next, then) in zip(marks, [*marks[1:], ("end", ended)], strict=True):
        steps[step] = round(steps.get(step, 0) + then - at, 3)
    ended_cpu = time.process_time()
    steps["cpu_seconds_all_threads"] = round(ended_cpu - cpu, 2)
    steps["cpu_seconds_per_step"] = {  # type: ignore[assignment]
        step: round(then - at, 2)
        for (step, _wall), at, then in zip(
            marks, cpu_marks, [*cpu_marks[1:], ended_cpu], strict=True
        )
    }
    return ended - started, steps, snapshot


def written_rows(path: Path, snapshot_id: int):  # type: ignore[no-untyped-def]
    """The CustomerValue rows of the snapshot, as a DataFrame sorted by customer."""
    import sqlite3

    import pandas as pd

    from kehu.value.models import CustomerValue

    with sqlite3.connect(path) as db:
        frame = pd.read_sql_query(
            f"SELECT * FROM {CustomerValue._meta.db_table} WHERE snapshot_id = ?",
            db,
            params=(snapshot_id,),
        )
    return frame.sort_values("customer_id").reset_index(drop=True)


KEY_MONEY = (
    "revenue",
    "cost_of_goods",
    "gross_profit",
    "cost_activities",
    "cost_deliveries",
    "cost_orders",
    "cost_complaints",
    "cost_returns",
    "cost_financing",
    "cost_bad_debts",
    "cost_to_serve",
    "net_profit",
    "average_receivable",
)
KEY_WHOLE = (
    "order_count",
    "return_count",
    "complaint_count",
    "activity_count",
    "purchase_count",
    "recency_days",
    "tenure_days",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "rank",
    "rank_of",
)
KEY_TEXT = ("rfm_segment", "pyramid_class", "money_class", "quadrant")
KEY_RATIO = (
    "interval_variation",
    "amount_variation",
    "regularity_score",
    "paid_on_time_share",
    "days_beyond_terms",
    "payment_score",
    "loyalty_score",
    "money_score",
    "seven_factor_score",
)


def compare(written, scored) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Every key column of every customer: ours (as written) against the peer's figures."""
    ids = scored.customer_ids
    report: dict[str, object] = {"customers": len(ids)}
    assert np.array_equal(written["customer_id"].to_numpy(), ids), "customer ids differ"
    differences: dict[str, int] = {}
    for name in KEY_MONEY:
        ours = np.round(written[name].to_numpy(dtype=np.float64) * 100).astype(np.int64)
        differences[name] = int(np.sum(ours != scored.columns[name]))
    for name in KEY_WHOLE:
        ours = written[name].fillna(-1).to_numpy(dtype=np.int64)
        peer = np.asarray(scored.columns[name], dtype=np.int64)
        if name.endswith("_score"):
            peer = np.where(peer == 0, -1, peer)  # written as NULL when 0
        differences[name] = int(np.sum(ours != peer))
    for name in KEY_TEXT:
        differences[name] = int(np.sum(written[name].to_numpy() != scored.columns[name]))
    # Ratios are written with four decimals: equal when they round to the same value.
    near: dict[str, int] = {}
    for name in KEY_RATIO:
        ours = written[name].to_numpy(dtype=np.float64)
        peer = np.asarray(scored.columns[name], dtype=np.float64)
        peer_written = np.where(np.isfinite(peer), np.round(peer, 4), np.nan)
        if name in ("regularity_score", "payment_score", "loyalty_score", "money_score"):
            peer_written = np.nan_to_num(peer_written)
        if name == "seven_factor_score":
            peer_written = np.nan_to_num(peer_written)
        both_null = np.isnan(ours) & np.isnan(peer_written)
        exact = both_null | (np.abs(ours - peer_written) < 5e-9)
        differences[name] = int(np.sum(~exact))
        near[name] = int(np.sum(~(both_null | (np.abs(ours - peer_written) <= 1.0001e-4))))
    report["columns_compared"] = len(differences)
    report["differences"] = {k: v for k, v in differences.items() if v}
    report["ratio_differences_beyond_last_digit"] = {k: v for k, v in near.items() if v}
    report["equal"] = not any(near.values()) and not any(
        differences[name] for name in (*KEY_MONEY, *KEY_WHOLE, *KEY_TEXT)
    )
    return report


def machine() -> dict[str, object]:
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": memory,
        "load_average_1min_at_end": load,
        "python": platform.python_version(),
    }


def versions() -> dict[str, str]:
    import sqlite3

    import duckdb
    import ibis
    import pandas as pd

    found = {
        "sqlite": sqlite3.sqlite_version,
        "duckdb": duckdb.__version__,
        "ibis": ibis.__version__,
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
    }
    try:
        import pyspark

        found["pyspark"] = pyspark.__version__
    except ImportError:
        pass
    return found


def reused_load(path: Path) -> dict[str, object]:
    """What the run that loaded a reused database reported (load.json), with today's counts."""
    from django.db import connection

    from kehu.value.engine.sources import SOURCES

    stored = path.parent / "load.json"
    load = json.loads(stored.read_text()) if stored.exists() else {}
    with connection.cursor() as cursor:
        counts = {}
        for source in SOURCES:
            table = source.model._meta.db_table
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return {**load, "reused": True, "rows": counts}


def save(result: dict[str, object]) -> None:
    """Store this run in bench/results/snapshot.json (replacing a run of the same label)."""
    result["versions"] = versions()
    result["machine"] = machine()
    result["saved_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    stored["description"] = (
        "The full value snapshot (issue 3, point 1): value_snapshot_compute on DuckDB end to end "
        "(read through ADBC, aggregate with Ibis, score, write CustomerValue rows) over a "
        "synthetic ledger in SQLite, against a plain pandas peer of the same aggregations and "
        "scoring (its figures must equal ours for every customer), and the same aggregations on "
        "Spark local mode over Parquet. Orders are read at order level: the rows are orders. "
        "The machine is shared with other jobs: see load_average_1min_at_end."
    )
    stored["target_seconds"] = TARGET_SECONDS
    runs = [run for run in stored.get("runs", []) if run.get("label") != result["label"]]
    stored["runs"] = [*runs, result]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(stored, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS.relative_to(REPOSITORY)}", flush=True)


def main() -> None:
    arguments = parse_arguments()
    fresh_database(arguments)
    path = database_path(arguments)
    setup_django()
    from kehu.customers.models import Customer

    result: dict[str, object] = {
        "label": arguments.label or f"{arguments.customers}/{arguments.rows}",
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "period": PERIOD,
        "customers": arguments.customers,
        "orders": arguments.rows,
    }
    if arguments.reuse and Customer.objects.exists():
        print(f"reusing {path}")
        result["load"] = reused_load(path)
    else:
        started = time.perf_counter()
        ledger = generate(arguments.customers, arguments.rows, arguments.seed)
        generated = time.perf_counter() - started
        print(f"generated in {generated:.1f} s", flush=True)
        started = time.perf_counter()
        counts, per_table = load(ledger, path)
        loaded = time.perf_counter() - started
        del ledger
        print(f"loaded in {loaded:.1f} s", flush=True)
        result["load"] = {
            "generate_seconds": round(generated, 1),
            "load_seconds": round(loaded, 1),
            "rows": counts,
            "seconds_per_table": per_table,
        }
        (path.parent / "load.json").write_text(json.dumps(result["load"], indent=2) + "\n")
    result["database_bytes"] = path.stat().st_size
    print(f"database: {path.stat().st_size / 1e9:.2f} GB", flush=True)
    if arguments.load_only:
        return

    if arguments.skip_lifetime:
        skip_lifetime()
        result["lifetime"] = "skipped (--skip-lifetime): its step is an empty result"
    if arguments.skip_ours:
        run_peers(arguments, path, result, None)
        return
    print("ours (value_snapshot_compute, duckdb):", flush=True)
    seconds, steps, snapshot = run_ours()
    snapshot.refresh_from_db()
    print(f"  {seconds:.1f} s: {steps}", flush=True)
    ours = {
        "seconds": round(seconds, 2),
        "steps_seconds": steps,
        "engine_timings": snapshot.parameters.get("timings"),
        "status": snapshot.status,
        "customer_count": snapshot.customer_count,
        "active_count": snapshot.active_count,
        "total_revenue": str(snapshot.total_revenue),
        "total_net_profit": str(snapshot.total_net_profit),
        "under_target": seconds < TARGET_SECONDS,
        "snapshot_id": snapshot.pk,
    }
    result["ours_duckdb"] = ours
    save(result)
    run_peers(arguments, path, result, ours)


def run_peers(arguments, path: Path, result: dict, ours: dict | None) -> None:  # type: ignore[no-untyped-def]
    """Spark local mode, then the pandas peer (checked against the rows ours wrote)."""
    if not arguments.skip_spark:
        from peers import spark_snapshot

        print("spark (local mode, parquet):", flush=True)
        result["spark_local"] = spark_snapshot.run(path, path.parent / "parquet", period=PERIOD)
        print(f"  {result['spark_local']}", flush=True)
        save(result)

    if not arguments.skip_peer and ours is not None:
        from peers import pandas_snapshot

        print("peer (pandas):", flush=True)
        peer = pandas_snapshot.run(path, period=PERIOD)
        print(f"  {peer['seconds']:.1f} s: {peer['steps_seconds']}", flush=True)
        check = compare(written_rows(path, ours["snapshot_id"]), peer.pop("scored"))
        print(f"  check: {check}", flush=True)
        steps = ours["steps_seconds"]
        ours_compute = sum(
            value
            for step, value in steps.items()
            if step in ("reading the ledger", "aggregating", "scoring")
        )
        peer_compute = sum(peer["steps_seconds"][step] for step in ("read", "aggregate", "score"))
        result["peer_pandas"] = {**peer, "check": check}
        result["ratios"] = {
            "peer_total_over_ours_total": round(peer["seconds"] / ours["seconds"], 2),
            "peer_cpu_over_ours_cpu": round(
                peer["cpu_seconds_all_threads"] / steps["cpu_seconds_all_threads"], 2
            ),
            "peer_read_aggregate_score_over_ours": round(peer_compute / ours_compute, 2),
            "peer_aggregate_over_ours_aggregate": round(
                peer["steps_seconds"]["aggregate"] / steps["aggregating"], 2
            ),
        }
        print(f"  ratios: {result['ratios']}", flush=True)
        save(result)


if __name__ == "__main__":
    main()
