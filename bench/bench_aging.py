# SQL below is built from model table names and fixed expressions; values are parameters.
# ruff: noqa: S608
"""Benchmark: aging of receivables as of a date over a large ledger (issue 4, domain §6).

Builds a fresh database (a SQLite file in a data folder, or a PostgreSQL database that it drops
and creates), migrates it, and loads with bulk SQL inserts (SQLite: executemany in one
transaction; PostgreSQL: COPY) a seeded synthetic ledger: by default 1,000,000 invoices over
2020-01 … 2026-10, about 2,000,000 payments each allocated to one invoice (3% of allocations
reversed later), 20,000 credit notes and 10,000 write-offs (10% of them reversed).

Then, for two as-of dates (a past quarter end and the last day of the data), it times
- ours: `kehu.receivables.aging.aging_as_of(group_by="company")` — one set-based SQL statement;
- the peer: a plain Python implementation that reads every invoice, allocation, credit note and
  write-off row with a cursor and rebuilds each invoice's open amount and bucket in a dict
  (integer cents), the way one would without the database doing the work;
asserts that both give the same amount in every bucket; then times the aging page of a finance
user through Django's test client — the first request computes and stores the aging snapshot,
the next ones read it (`page_from_snapshot`) — and the ledger stamp alone; and writes
bench/results/aging.json
(one section per database; an existing section of the other database is kept).

Run:
  .venv/bin/python bench/bench_aging.py --data-dir DIR              # SQLite at DIR/kehu.sqlite3
  .venv/bin/python bench/bench_aging.py --database-url postgres://postgres@127.0.0.1:5432/kehu_bench_aging
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY / "src"))
RESULTS = REPOSITORY / "bench" / "results" / "aging.json"

START = dt.date(2020, 1, 1)
END = dt.date(2026, 10, 31)  # the last day of the data: no entry after it
AS_OF_DATES = (dt.date(2025, 12, 31), END)
TARGET_SECONDS = 5.0


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--data-dir", help="folder for a fresh SQLite database")
    where.add_argument("--database-url", help="postgres://… of a database to drop and create")
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def fresh_database(arguments: argparse.Namespace) -> str:
    """Point Django at a new, empty database; returns 'sqlite' or 'postgresql'."""
    if arguments.data_dir:
        folder = Path(arguments.data_dir).expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            (folder / f"kehu.sqlite3{suffix}").unlink(missing_ok=True)
        os.environ["KEHU_DATA_DIR"] = str(folder)
        os.environ.pop("KEHU_DATABASE_URL", None)
        return "sqlite"
    import psycopg

    url = urlparse(arguments.database_url)
    name = url.path.lstrip("/")
    admin_url = arguments.database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["KEHU_DATABASE_URL"] = arguments.database_url
    return "postgresql"


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings.base"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def generate(invoices: int, customers: int, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """The synthetic ledger as columns (days are offsets from START, money in cents)."""
    rng = np.random.default_rng(seed)
    last_day = (END - START).days
    n = invoices
    issue = rng.integers(0, last_day + 1, n)
    terms = rng.choice(np.array([30, 60, 90]), n)
    amount = rng.integers(10_000, 5_000_000, n)
    customer = rng.integers(0, customers, n)
    # Each invoice has 0–3 allocations (2 on average); 75% are paid in full in the end.
    count = rng.choice(4, n, p=[0.1, 0.2, 0.3, 0.4])
    paid_share = np.where(rng.random(n) < 0.75, 1.0, rng.uniform(0.2, 0.85, n))
    owner = np.repeat(np.arange(n), count)
    weight = rng.random(owner.size) + 0.1
    share = weight / np.bincount(owner, weights=weight, minlength=n)[owner] * paid_share[owner]
    allocated = np.floor(share * amount[owner]).astype(np.int64)
    keep = allocated > 0
    owner, allocated = owner[keep], allocated[keep]
    allocated_on = np.minimum(issue[owner] + rng.integers(0, 240, owner.size), last_day)
    is_reversed = rng.random(owner.size) < 0.03
    reversed_on = np.where(
        is_reversed, np.minimum(allocated_on + rng.integers(1, 60, owner.size), last_day), -1
    )
    partly_paid = np.flatnonzero(paid_share < 1.0)
    credited = rng.choice(partly_paid, min(20_000, partly_paid.size), replace=False)
    written = rng.choice(partly_paid, min(10_000, partly_paid.size), replace=False)
    credit_amount = np.maximum(amount[credited] // 20, 1)
    credit_on = np.minimum(issue[credited] + rng.integers(0, 90, credited.size), last_day)
    write_off_amount = np.maximum(amount[written] // 20, 1)
    write_off_on = np.minimum(issue[written] + rng.integers(200, 700, written.size), last_day)
    write_off_reversed = np.where(
        rng.random(written.size) < 0.1,
        np.minimum(write_off_on + rng.integers(1, 120, written.size), last_day),
        -1,
    )
    live_allocations = np.bincount(owner, weights=allocated * (reversed_on < 0), minlength=n)
    open_amount = (
        amount
        - live_allocations.astype(np.int64)
        - np.bincount(credited, weights=credit_amount, minlength=n).astype(np.int64)
        - np.bincount(
            written, weights=write_off_amount * (write_off_reversed < 0), minlength=n
        ).astype(np.int64)
    )
    assert (open_amount >= 0).all()
    return {
        "invoice": {
            "customer": customer, "issue": issue, "due": issue + terms, "terms": terms,
            "amount": amount, "open": open_amount,
        },
        "allocation": {
            "invoice": owner, "amount": allocated, "on": allocated_on, "reversed": reversed_on,
        },
        "credit_note": {"invoice": credited, "amount": credit_amount, "on": credit_on},
        "write_off": {
            "invoice": written, "amount": write_off_amount, "on": write_off_on,
            "reversed": write_off_reversed,
        },
    }  # fmt: skip


def money_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def load(ledger: dict[str, dict[str, np.ndarray]], customers: int) -> tuple[int, dict[str, int]]:
    """Insert the ledger; returns the id of a finance user and the row counts."""
    from django.db import connection, transaction

    from kehu.accounts.models import OrgUnit, Role, User
    from kehu.customers.models import Customer
    from kehu.receivables.models import CreditNote, Invoice, Payment, PaymentAllocation, WriteOff

    days = [(START + dt.timedelta(days=d)).isoformat() for d in range((END - START).days + 200)]
    now = dt.datetime.now(dt.UTC).isoformat()
    company = OrgUnit.objects.create(name="总公司", code="hq", kind="company", path="/1/")
    reps = User.objects.bulk_create(
        User(username=f"rep{i}", role=Role.SALES_REP, org_unit=company) for i in range(50)
    )
    finance = User.objects.create(username="finance", role=Role.FINANCE, org_unit=company)
    created = Customer.objects.bulk_create(
        (
            Customer(code=f"C{i:07d}", name=f"客户{i}", owner=reps[i % len(reps)])
            for i in range(customers)
        ),
        batch_size=5_000,
    )
    customer_ids = np.array([customer.pk for customer in created])

    invoice = ledger["invoice"]
    allocation = ledger["allocation"]
    credit = ledger["credit_note"]
    write_off = ledger["write_off"]
    n = invoice["issue"].size
    m = allocation["invoice"].size
    rows: dict[str, tuple[list[str], list[tuple]]] = {
        Invoice._meta.db_table: (
            ["id", "created_at", "updated_at", "number", "customer_id", "issue_date",
             "payment_terms_days", "due_date", "amount", "open_amount", "currency", "is_cancelled"],
            [
                (i + 1, now, now, f"I{i + 1:08d}", int(customer_ids[c]), days[d], int(t),
                 days[due], money_text(int(a)), money_text(int(o)), "CNY", False)
                for i, (c, d, t, due, a, o) in enumerate(zip(
                    invoice["customer"], invoice["issue"], invoice["terms"], invoice["due"],
                    invoice["amount"], invoice["open"], strict=True))
            ],
        ),
        Payment._meta.db_table: (
            ["id", "created_at", "updated_at", "number", "customer_id", "received_on", "amount",
             "unallocated_amount", "method", "reference", "currency"],
            [
                (j + 1, now, now, f"P{j + 1:08d}", int(customer_ids[invoice["customer"][i]]),
                 days[on], money_text(int(a)), money_text(int(a) if r >= 0 else 0),
                 "bank_transfer", "", "CNY")
                for j, (i, a, on, r) in enumerate(zip(
                    allocation["invoice"], allocation["amount"], allocation["on"],
                    allocation["reversed"], strict=True))
            ],
        ),
        PaymentAllocation._meta.db_table: (
            ["id", "payment_id", "invoice_id", "amount", "allocated_on", "reversed_on",
             "created_at"],
            [
                (j + 1, j + 1, int(i) + 1, money_text(int(a)), days[on],
                 days[r] if r >= 0 else None, now)
                for j, (i, a, on, r) in enumerate(zip(
                    allocation["invoice"], allocation["amount"], allocation["on"],
                    allocation["reversed"], strict=True))
            ],
        ),
        CreditNote._meta.db_table: (
            ["id", "created_at", "updated_at", "number", "customer_id", "invoice_id",
             "issue_date", "amount", "reason", "currency"],
            [
                (k + 1, now, now, f"N{k + 1:08d}", int(customer_ids[invoice["customer"][i]]),
                 int(i) + 1, days[on], money_text(int(a)), "", "CNY")
                for k, (i, a, on) in enumerate(zip(
                    credit["invoice"], credit["amount"], credit["on"], strict=True))
            ],
        ),
        WriteOff._meta.db_table: (
            ["id", "created_at", "updated_at", "invoice_id", "amount", "written_off_on",
             "reason", "decided_by_id", "reversed_on"],
            [
                (k + 1, now, now, int(i) + 1, money_text(int(a)), days[on], "bench",
                 finance.pk, days[r] if r >= 0 else None)
                for k, (i, a, on, r) in enumerate(zip(
                    write_off["invoice"], write_off["amount"], write_off["on"],
                    write_off["reversed"], strict=True))
            ],
        ),
    }  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        for table, (columns, values) in rows.items():
            if connection.vendor == "postgresql":
                raw = cursor.cursor  # psycopg's own cursor: COPY
                with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values
                )
        if connection.vendor == "postgresql":
            for table in (Invoice, Payment, PaymentAllocation, CreditNote, WriteOff):
                db_table = table._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{db_table}', 'id'), "
                    f"(SELECT MAX(id) FROM {db_table}))"
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return finance.pk, {
        "customers": customers,
        "invoices": n,
        "payments": m,
        "allocations": m,
        "reversed_allocations": int((allocation["reversed"] >= 0).sum()),
        "credit_notes": int(credit["invoice"].size),
        "write_offs": int(write_off["invoice"].size),
    }


def cents(value: object) -> int:
    if isinstance(value, float | int):
        return round(value * 100)
    return int(value * 100)  # type: ignore[operator]


def peer_aging(as_of: dt.date) -> list[int]:
    """The plain Python peer: read every row, rebuild each invoice's open amount, bucket it."""
    from django.db import connection

    from kehu.receivables.aging import aging_buckets, bucket_of
    from kehu.receivables.models import CreditNote, Invoice, PaymentAllocation, WriteOff

    def as_date(value: object) -> dt.date:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))

    buckets = aging_buckets()
    open_cents: dict[int, int] = {}
    due_dates: dict[int, dt.date] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, issue_date, due_date, amount, is_cancelled FROM {Invoice._meta.db_table}"
        )
        for pk, issued, due, amount, is_cancelled in cursor:
            if not is_cancelled and as_date(issued) <= as_of:
                open_cents[pk] = cents(amount)
                due_dates[pk] = as_date(due)
        cursor.execute(
            "SELECT invoice_id, amount, allocated_on, reversed_on "
            f"FROM {PaymentAllocation._meta.db_table}"
        )
        for invoice_id, amount, on, reversed_on in cursor:
            if (
                invoice_id in open_cents
                and as_date(on) <= as_of
                and (reversed_on is None or as_date(reversed_on) > as_of)
            ):
                open_cents[invoice_id] -= cents(amount)
        cursor.execute(f"SELECT invoice_id, amount, issue_date FROM {CreditNote._meta.db_table}")
        for invoice_id, amount, on in cursor:
            if invoice_id in open_cents and as_date(on) <= as_of:
                open_cents[invoice_id] -= cents(amount)
        cursor.execute(
            f"SELECT invoice_id, amount, written_off_on, reversed_on FROM {WriteOff._meta.db_table}"
        )
        for invoice_id, amount, on, reversed_on in cursor:
            if (
                invoice_id in open_cents
                and as_date(on) <= as_of
                and (reversed_on is None or as_date(reversed_on) > as_of)
            ):
                open_cents[invoice_id] -= cents(amount)
    totals = [0] * len(buckets)
    for pk, amount in open_cents.items():
        if amount > 0:
            totals[bucket_of(due_date=due_dates[pk], as_of=as_of, buckets=buckets).index] += amount
    return totals


def timed(function, repeats: int) -> tuple[float, float, object]:
    """(first run, best run, result)."""
    seconds = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return seconds[0], min(seconds), result


def _pages(client, params: dict[str, str], count: int) -> list[tuple[str, float]]:  # type: ignore[no-untyped-def]
    pages = []
    for _ in range(count):
        start = time.perf_counter()
        response = client.get("/receivables/", params)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.status_code
        pages.append((response.content.decode(), elapsed))
    return pages


def page_from_snapshot(finance, as_of: dt.date, repeats: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The aging page (/receivables/) of a finance user, through Django's test client: the
    first request finds no snapshot, computes the aging and stores it; the next ones read it
    (the ledger stamp, the snapshot row). Also times the ledger stamp alone."""
    from django.conf import settings
    from django.test import Client, override_settings

    from kehu.receivables.aging_snapshots import aging_ledger_stamp
    from kehu.receivables.models import AgingSnapshot

    AgingSnapshot.objects.filter(as_of=as_of).delete()
    client = Client(HTTP_HOST="localhost")
    client.force_login(finance)
    params = {"as_of": as_of.isoformat()}
    sources = []
    seconds = []
    # Plain static storage: the bench has not run collectstatic (no manifest).
    storages = {**settings.STORAGES}
    storages["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES=storages):
        responses = _pages(client, params, 1 + repeats)
    for content, elapsed in responses:
        seconds.append(elapsed)
        sources.append("snapshot" if 'data-aging-source="snapshot"' in content else "computed")
    assert sources == ["computed"] + ["snapshot"] * repeats, sources
    stamp_first, stamp_best, _stamp = timed(aging_ledger_stamp, repeats)
    snapshot = AgingSnapshot.objects.get(as_of=as_of, group_by="company")
    result = {
        "as_of": as_of.isoformat(),
        "first_request_computes_seconds": round(seconds[0], 3),
        "next_requests_read_seconds": round(min(seconds[1:]), 3),
        "next_requests_read_worst_seconds": round(max(seconds[1:]), 3),
        "ledger_stamp_first_seconds": round(stamp_first, 3),
        "ledger_stamp_best_seconds": round(stamp_best, 3),
        "snapshot_compute_seconds": snapshot.seconds,
        "under_one_second": max(seconds[1:]) < 1.0,
    }
    print(
        f"  page as of {as_of}: first request {seconds[0]:.2f} s (computes), then "
        f"{min(seconds[1:]):.3f}–{max(seconds[1:]):.3f} s from the snapshot; "
        f"stamp {stamp_best * 1000:.0f} ms"
    )
    return result


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
    vendor = fresh_database(arguments)
    setup_django()
    from django.db import connection

    from kehu.accounts.models import User
    from kehu.receivables.aging import aging_as_of

    start = time.perf_counter()
    ledger = generate(arguments.invoices, arguments.customers, arguments.seed)
    generated = time.perf_counter() - start
    start = time.perf_counter()
    finance_id, counts = load(ledger, arguments.customers)
    loaded = time.perf_counter() - start
    print(f"{vendor}: generated in {generated:.1f} s, loaded in {loaded:.1f} s: {counts}")
    finance = User.objects.get(pk=finance_id)
    server = connection.cursor().connection
    version = (
        f"PostgreSQL {server.info.server_version}"
        if vendor == "postgresql"
        else f"SQLite {__import__('sqlite3').sqlite_version}"
    )

    runs = []
    for as_of in AS_OF_DATES:
        first, best, report = timed(
            lambda as_of=as_of: aging_as_of(user=finance, as_of=as_of), arguments.repeats
        )
        peer_first, _peer_best, peer = timed(lambda as_of=as_of: peer_aging(as_of), 1)
        ours = [cents(amount) for amount in report.totals]  # type: ignore[attr-defined]
        assert ours == peer, f"as of {as_of}: ours {ours} != peer {peer}"
        runs.append(
            {
                "as_of": as_of.isoformat(),
                "ours_first_seconds": round(first, 3),
                "ours_best_seconds": round(best, 3),
                "peer_seconds": round(peer_first, 3),
                "speedup_over_peer": round(peer_first / best, 1),
                "under_target": best < TARGET_SECONDS,
                "open_invoices": report.invoice_count,  # type: ignore[attr-defined]
                "bucket_totals": {
                    bucket.key: str(amount)
                    for bucket, amount in zip(report.buckets, report.totals, strict=True)  # type: ignore[attr-defined]
                },
                "totals_equal": True,
            }
        )
        print(
            f"  as of {as_of}: ours {first:.2f} s first, {best:.2f} s best; "
            f"peer {peer_first:.2f} s; total {report.total:,}"  # type: ignore[attr-defined]
        )

    snapshot_runs = [page_from_snapshot(finance, as_of, arguments.repeats) for as_of in AS_OF_DATES]

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["description"] = (
        "Aging as of a date, company level (kehu.receivables.aging.aging_as_of, one SQL "
        "statement) against a plain Python peer that reads every ledger row with a cursor and "
        "rebuilds each invoice's open amount in a dict; both must give the same bucket totals."
    )
    results["target_seconds"] = TARGET_SECONDS
    results["machine"] = machine()
    earlier = results.get(vendor) or {}
    results[vendor] = {
        "database": version,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": counts,
        "load_seconds": round(loaded, 1),
        "runs": runs,
        "page_from_snapshot": snapshot_runs,
        # The run before this one (the machine is shared: figures move with its load).
        "previous": {
            key: earlier[key] for key in ("generated_at", "load_seconds", "runs") if key in earlier
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS.relative_to(REPOSITORY)}")


if __name__ == "__main__":
    main()
