"""The value snapshot's aggregations in plain pandas: the peer of bench/bench_snapshot.py.

It reads the nine ledger tables with `pandas.read_sql_query` (the same normalising SELECTs the
engine runs: cents and day numbers), runs the aggregations of kehu.value.engine.expressions
with groupby and merge, and hands the per-customer tables to the same scoring
(kehu.value.scoring.score, numpy) so the two can be compared figure by figure. It writes
nothing.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

CHUNK_ROWS = 1_000_000


def read(path: Path) -> dict[str, pd.DataFrame]:
    from kehu.value.engine.sources import SOURCES, source_sql

    frames = {}
    with sqlite3.connect(path) as db:
        for source in SOURCES:
            chunks = list(pd.read_sql_query(source_sql(source, "sqlite"), db, chunksize=CHUNK_ROWS))
            frames[source.name] = (
                pd.concat(chunks, ignore_index=True)
                if chunks
                else pd.DataFrame(columns=[name for name, _kind, _column in source.columns])
            )
    return frames


def _in_window(frame: pd.DataFrame, ws: int, we: int, column: str = "day") -> pd.DataFrame:
    return frame[(frame[column] >= ws) & (frame[column] <= we)]


def _live_as_of(frame: pd.DataFrame, we: int) -> pd.DataFrame:
    return frame[(frame.day <= we) & (frame.reversed_day.isna() | (frame.reversed_day > we))]


def _days_in_window(start: pd.Series, end: pd.Series, ws: int, we: int) -> pd.Series:
    return (np.minimum(end, we) - np.maximum(start, ws) + 1).clip(lower=0)


def aggregates(t: dict[str, pd.DataFrame], *, ws: int, we: int) -> dict[str, pd.DataFrame]:
    from kehu.value.engine.expressions import PURCHASE_STATE_VALUES

    orders = t["orders"]
    purchases = orders[orders.state.isin(PURCHASE_STATE_VALUES) & (orders.day <= we)]
    history = purchases.groupby("customer_id", sort=False).agg(
        first_day=("day", "min"), last_day=("day", "max")
    )

    window = _in_window(purchases, ws, we)
    order_sums = window.groupby("customer_id", sort=False).agg(
        order_count=("day", "size"), order_amount=("amount", "sum"), order_cost=("cost", "sum")
    )

    days = window.groupby(["customer_id", "day"], sort=True)["amount"].sum().reset_index()
    days["gap"] = days.groupby("customer_id", sort=False)["day"].diff()
    days["amount_square"] = days.amount.astype("float64") ** 2
    days["gap_square"] = days.gap**2
    regularity = days.groupby("customer_id", sort=False).agg(
        purchase_count=("day", "size"),
        amount_sum=("amount", "sum"),
        amount_squares=("amount_square", "sum"),
        gap_count=("gap", "count"),
        gap_sum=("gap", "sum"),
        gap_squares=("gap_square", "sum"),
    )
    regularity["gap_sum"] = regularity.gap_sum.astype("int64")
    regularity["gap_squares"] = regularity.gap_squares.astype("int64")

    returns = _in_window(t["returns"], ws, we)
    return_sums = returns.groupby("customer_id", sort=False).agg(
        return_count=("day", "size"), return_amount=("amount", "sum"), return_cost=("cost", "sum")
    )

    activities = _in_window(t["activities"], ws, we).assign(
        uncosted=lambda frame: (frame.cost == 0).astype("int64")
    )
    activity_sums = activities.groupby(["customer_id", "kind"], sort=False).agg(
        activity_count=("day", "size"),
        recorded_cost=("cost", "sum"),
        uncosted_count=("uncosted", "sum"),
    )

    complaints = _in_window(t["complaints"], ws, we)
    complaint_sums = complaints.groupby("customer_id", sort=False).agg(
        complaint_count=("day", "size")
    )

    invoices = t["invoices"][t["invoices"].cancelled == 0]
    keys = invoices[["invoice_id", "customer_id", "due_day"]]
    allocations = t["allocations"].merge(keys, on="invoice_id")
    credit_notes = t["credit_notes"].merge(keys, on="invoice_id")
    write_offs = t["write_offs"].merge(keys, on="invoice_id")

    bad_debts = _in_window(_live_as_of(write_offs, we), ws, we)
    bad_debt_sums = bad_debts.groupby("customer_id", sort=False).agg(bad_debt=("amount", "sum"))

    def cent_days(frame: pd.DataFrame, sign: int, start: str, end: str | None) -> pd.DataFrame:
        stop = we if end is None else frame[end].fillna(we + 1) - 1
        if end is None:
            stop = pd.Series(we, index=frame.index)
        spans = _days_in_window(frame[start], stop, ws, we).astype("int64")
        return pd.DataFrame(
            {"customer_id": frame.customer_id, "cent_days": sign * frame.amount * spans}
        )

    movements = pd.concat(
        [
            cent_days(invoices, 1, "issue_day", None),
            cent_days(allocations, -1, "day", "reversed_day"),
            cent_days(credit_notes, -1, "day", None),
            cent_days(write_offs, -1, "day", "reversed_day"),
        ],
        ignore_index=True,
    )
    financing = movements.groupby("customer_id", sort=False).agg(
        receivable_cent_days=("cent_days", "sum")
    )

    due = _in_window(
        invoices[["invoice_id", "customer_id", "due_day", "amount"]], ws, we, "due_day"
    )
    live = _live_as_of(allocations, we)
    live = live.assign(
        on_time=np.where(live.day <= live.due_day, live.amount, 0),
        late=live.amount * (live.day - live.due_day).clip(lower=0),
    )
    paid = live.groupby("invoice_id", sort=False).agg(
        allocated=("amount", "sum"), on_time=("on_time", "sum"), late_cent_days=("late", "sum")
    )
    notes = credit_notes[credit_notes.day <= we]
    credited = notes.groupby("invoice_id", sort=False).agg(credited=("amount", "sum"))
    due_paid = due.merge(paid, on="invoice_id", how="left").merge(
        credited, on="invoice_id", how="left"
    )
    for column in ("allocated", "on_time", "late_cent_days", "credited"):
        due_paid[column] = due_paid[column].fillna(0).astype("int64")
    due_paid["unpaid"] = (due_paid.amount - due_paid.allocated - due_paid.credited).clip(lower=0)
    due_paid["weight"] = due_paid.allocated + due_paid.unpaid
    due_paid["late_all"] = due_paid.late_cent_days + due_paid.unpaid * (we - due_paid.due_day)
    payment = due_paid.groupby("customer_id", sort=False).agg(
        invoiced=("amount", "sum"),
        paid_on_time=("on_time", "sum"),
        late_weight=("weight", "sum"),
        late_cent_days=("late_all", "sum"),
    )

    return {
        "history": history,
        "orders": order_sums,
        "regularity": regularity,
        "returns": return_sums,
        "activities": activity_sums,
        "complaints": complaint_sums,
        "bad_debts": bad_debt_sums,
        "financing": financing,
        "payment": payment,
    }


def _arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame.reset_index(), preserve_index=False)


def run(path: Path, *, period: str) -> dict[str, object]:
    """Read, aggregate and score the snapshot of `period`; seconds per step and the result."""
    from kehu.value.periods import period_parse, window_start
    from kehu.value.scoring import score
    from kehu.value.selectors import value_settings_current
    from kehu.value.services import EPOCH, _latest_assessments

    resolved = period_parse(period)
    values = value_settings_current()
    start = window_start(resolved.end, int(values["window_months"]))
    ws, we = (start - EPOCH).days, (resolved.end - EPOCH).days
    steps: dict[str, float] = {}

    began, cpu = time.perf_counter(), time.process_time()
    tables = read(path)
    steps["read"] = round(time.perf_counter() - began, 3)
    rows = {name: len(frame) for name, frame in tables.items()}

    step = time.perf_counter()
    results = {name: _arrow(frame) for name, frame in aggregates(tables, ws=ws, we=we).items()}
    results["customers"] = pa.Table.from_pandas(tables["customers"], preserve_index=False)
    steps["aggregate"] = round(time.perf_counter() - step, 3)
    del tables

    step = time.perf_counter()
    scored = score(
        results,
        values=values,
        measure=values["measure"],
        ws=ws,
        we=we,
        assessments=_latest_assessments(resolved.end),
    )
    steps["score"] = round(time.perf_counter() - step, 3)
    return {
        "seconds": round(time.perf_counter() - began, 2),
        "cpu_seconds_all_threads": round(time.process_time() - cpu, 2),
        "steps_seconds": steps,
        "rows_read": rows,
        "scored": scored,
    }
