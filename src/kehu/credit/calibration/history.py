"""The company's own history as a training table for the scorecard (domain §5.2) — read only.

Windows, for `as_of` (the end of the outcome year, usually today):
- observation date `observed_on` = as_of less one year;
- history year H = (observed_on − 1 year, observed_on]: what we knew about the customer then;
- outcome year P = (observed_on, as_of]: what happened next.

One row per customer with at least one invoice (not cancelled) due in H, less the customers
who were already bad on `observed_on` (an invoice then open more than 90 days past due, or a
debt written off in H and not reversed by `observed_on`): a scorecard predicts who goes bad.

Attributes, all as of `observed_on`:
- on_time_share: of the invoices due in H, the share (by count) fully settled by their due date;
- days_beyond_terms: over the invoices due in H, amount-weighted average days from the due date
  to each payment allocated by `observed_on` (0 when on time), the amounts still open counting
  the days from the due date to `observed_on`;
- oldest_overdue_days: days past due of the oldest invoice open on `observed_on` (0 if none);
- purchase_growth: purchases (orders confirmed, delivered or invoiced) in H over those of the
  year before, less 1; empty when there were none the year before;
- relationship_years: years from the first order or invoice to `observed_on`;
- ownership, size, industry: from the customer card as it is now (empty → missing).

Outcome `bad` (True/False): in P, a debt written off (not reversed by `as_of`) or an invoice open
more than 90 days past due on some day of P.

The open amount of an invoice on a day is rebuilt from the ledger as the aging does
(receivables/aging.py): the amount less the allocations made by then and not reversed by then,
the credit notes issued by then and the write-offs made by then and not reversed by then.
The ledger is read in bulk with the ORM into polars; the rest is vectorised there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from kehu.customers.models import Customer
from kehu.receivables.models import CreditNote, Invoice, PaymentAllocation, WriteOff
from kehu.sales.models import PURCHASE_STATES, Order

DEFAULT_DAYS = 90  # more than this many days past due is bad
OPEN_THRESHOLD = 0.005  # an open amount below half a cent is settled
ATTRIBUTES = (
    "on_time_share",
    "days_beyond_terms",
    "oldest_overdue_days",
    "purchase_growth",
    "relationship_years",
    "ownership",
    "size",
    "industry",
)
IDENTIFIERS = ("customer_id", "code")
TARGET = "bad"


def year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class HistoryWindows:
    as_of: dt.date
    observed_on: dt.date
    history_from: dt.date  # exclusive
    previous_from: dt.date  # exclusive: the year before H starts after it

    @classmethod
    def ending(cls, as_of: dt.date) -> HistoryWindows:
        observed_on = year_before(as_of)
        history_from = year_before(observed_on)
        return cls(
            as_of=as_of,
            observed_on=observed_on,
            history_from=history_from,
            previous_from=year_before(history_from),
        )


# --- Reading the ledger -----------------------------------------------------------------------


def _frame(rows: list[tuple], schema: Mapping[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def _money(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64)


def _invoices(windows: HistoryWindows) -> pl.DataFrame:
    rows = Invoice.objects.filter(is_cancelled=False, issue_date__lte=windows.as_of).values_list(
        "id", "customer_id", "issue_date", "due_date", "amount"
    )
    schema = {
        "id": pl.Int64,
        "customer_id": pl.Int64,
        "issue_date": pl.Date,
        "due_date": pl.Date,
        "amount": pl.Decimal(18, 2),
    }
    return _frame(list(rows), schema).with_columns(_money("amount"))


def _entries(windows: HistoryWindows) -> pl.DataFrame:
    """Every settlement of an invoice: invoice_id, amount, on (made), ends (reversed), kind."""
    schema = {"invoice_id": pl.Int64, "amount": pl.Decimal(18, 2), "on": pl.Date, "ends": pl.Date}
    parts = {
        "allocation": PaymentAllocation.objects.filter(allocated_on__lte=windows.as_of).values_list(
            "invoice_id", "amount", "allocated_on", "reversed_on"
        ),
        "credit_note": CreditNote.objects.filter(
            invoice__isnull=False, issue_date__lte=windows.as_of
        ).values_list("invoice_id", "amount", "issue_date", "issue_date"),
        "write_off": WriteOff.objects.filter(written_off_on__lte=windows.as_of).values_list(
            "invoice_id", "amount", "written_off_on", "reversed_on"
        ),
    }
    frames = [
        _frame(list(rows), schema).with_columns(
            _money("amount"),
            pl.lit(kind).alias("kind"),
            # A credit note is never reversed.
            pl.lit(None, dtype=pl.Date).alias("ends") if kind == "credit_note" else pl.col("ends"),
        )
        for kind, rows in parts.items()
    ]
    return pl.concat(frames)


def _purchases(windows: HistoryWindows) -> pl.DataFrame:
    rows = Order.objects.filter(
        state__in=PURCHASE_STATES, order_date__lte=windows.observed_on
    ).values_list("customer_id", "order_date", "total_amount")
    schema = {"customer_id": pl.Int64, "order_date": pl.Date, "amount": pl.Decimal(18, 2)}
    return _frame(list(rows), schema).with_columns(_money("amount"))


def _customers(customer_ids: list[int]) -> pl.DataFrame:
    rows = Customer.objects.filter(id__in=customer_ids).values_list(
        "id", "code", "ownership", "size", "industry"
    )
    schema = {
        "customer_id": pl.Int64,
        "code": pl.String,
        "ownership": pl.String,
        "size": pl.String,
        "industry": pl.String,
    }
    blank_to_null = [
        pl.when(pl.col(name).str.strip_chars() == "").then(None).otherwise(pl.col(name)).alias(name)
        for name in ("ownership", "size", "industry")
    ]
    return _frame(list(rows), schema).with_columns(blank_to_null)


# --- Balances on a day ------------------------------------------------------------------------


def _open_on(invoices: pl.DataFrame, entries: pl.DataFrame, day: str) -> pl.DataFrame:
    """`invoices` with `open_<day>`: the open amount on the date held in column `day`."""
    settled = (
        invoices.select("id", day)
        .join(entries, left_on="id", right_on="invoice_id")
        .filter(
            (pl.col("on") <= pl.col(day))
            & (pl.col("ends").is_null() | (pl.col("ends") > pl.col(day)))
        )
        .group_by("id")
        .agg(pl.col("amount").sum().alias("settled"))
    )
    return (
        invoices.join(settled, on="id", how="left")
        .with_columns((pl.col("amount") - pl.col("settled").fill_null(0.0)).alias(f"open_{day}"))
        .drop("settled")
    )


def _days(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_days()


# --- Attributes -------------------------------------------------------------------------------


def _payment_record(
    due_in_history: pl.DataFrame, entries: pl.DataFrame, observed_on: dt.date
) -> pl.DataFrame:
    """on_time_share and days_beyond_terms per customer, from the invoices due in H."""
    on_time = due_in_history.group_by("customer_id").agg(
        (pl.col("open_due_date") < OPEN_THRESHOLD).mean().alias("on_time_share")
    )
    observed = pl.lit(observed_on)
    paid = (
        due_in_history.select("id", "customer_id", "due_date")
        .join(entries.filter(pl.col("kind") == "allocation"), left_on="id", right_on="invoice_id")
        .filter(
            (pl.col("on") <= observed) & (pl.col("ends").is_null() | (pl.col("ends") > observed))
        )
        .select(
            "customer_id",
            "amount",
            _days(pl.col("on"), pl.col("due_date")).clip(lower_bound=0).alias("days"),
        )
    )
    still_open = due_in_history.filter(pl.col("open_observed") >= OPEN_THRESHOLD).select(
        "customer_id",
        pl.col("open_observed").alias("amount"),
        _days(observed, pl.col("due_date")).alias("days"),
    )
    beyond = (
        pl.concat([paid, still_open])
        .group_by("customer_id")
        .agg(
            ((pl.col("amount") * pl.col("days")).sum() / pl.col("amount").sum()).alias(
                "days_beyond_terms"
            )
        )
    )
    return on_time.join(beyond, on="customer_id", how="left")


def _overdue_on_observation(invoices: pl.DataFrame, observed_on: dt.date) -> pl.DataFrame:
    """oldest_overdue_days per customer with an invoice open and past due on `observed_on`."""
    return (
        invoices.filter(
            (pl.col("issue_date") <= observed_on)
            & (pl.col("due_date") < observed_on)
            & (pl.col("open_observed") >= OPEN_THRESHOLD)
        )
        .group_by("customer_id")
        .agg(_days(pl.lit(observed_on), pl.col("due_date")).max().alias("oldest_overdue_days"))
    )


def _purchase_growth(purchases: pl.DataFrame, windows: HistoryWindows) -> pl.DataFrame:
    in_history = pl.col("order_date") > windows.history_from
    in_previous = (pl.col("order_date") > windows.previous_from) & ~in_history
    totals = purchases.group_by("customer_id").agg(
        pl.col("amount").filter(in_history).sum().alias("current"),
        pl.col("amount").filter(in_previous).sum().alias("previous"),
    )
    growth = pl.when(pl.col("previous") > 0).then(pl.col("current") / pl.col("previous") - 1)
    return totals.select("customer_id", growth.otherwise(None).alias("purchase_growth"))


def _relationship(
    invoices: pl.DataFrame, purchases: pl.DataFrame, observed_on: dt.date
) -> pl.DataFrame:
    first = (
        pl.concat(
            [
                invoices.filter(pl.col("issue_date") <= observed_on).select(
                    "customer_id", pl.col("issue_date").alias("on")
                ),
                purchases.select("customer_id", pl.col("order_date").alias("on")),
            ]
        )
        .group_by("customer_id")
        .agg(pl.col("on").min())
    )
    years = (_days(pl.lit(observed_on), pl.col("on")) / 365.25).round(2)
    return first.select("customer_id", years.alias("relationship_years"))


# --- Outcome and exclusions -------------------------------------------------------------------


def _live_write_offs(
    entries: pl.DataFrame,
    invoices: pl.DataFrame,
    *,
    after: dt.date,
    until: dt.date,
    live_on: dt.date,
) -> pl.DataFrame:
    """Customers with a write-off made in (after, until] and not reversed by `live_on`."""
    return (
        entries.filter(
            (pl.col("kind") == "write_off")
            & (pl.col("on") > after)
            & (pl.col("on") <= until)
            & (pl.col("ends").is_null() | (pl.col("ends") > live_on))
        )
        .join(invoices.select("id", "customer_id"), left_on="invoice_id", right_on="id")
        .select("customer_id")
        .unique()
    )


def _bad_in_outcome_year(
    invoices: pl.DataFrame, entries: pl.DataFrame, windows: HistoryWindows
) -> pl.DataFrame:
    """Customers who went bad in P: a write-off, or an invoice open beyond 90 days past due.

    An invoice is open beyond 90 days on some day of P when it is still open on its first such
    day, max(observed_on + 1, due_date + 91), if that day falls in P (settlements only lower the
    open amount, reversals aside)."""
    first_late_day = pl.max_horizontal(
        pl.lit(windows.observed_on + dt.timedelta(days=1)),
        pl.col("due_date") + dt.timedelta(days=DEFAULT_DAYS + 1),
    )
    late = (
        invoices.with_columns(first_late_day.alias("late_day"))
        .filter(pl.col("late_day") <= windows.as_of)
        .pipe(_open_on, entries, "late_day")
        .filter(pl.col("open_late_day") >= OPEN_THRESHOLD)
        .select("customer_id")
    )
    written_off = _live_write_offs(
        entries, invoices, after=windows.observed_on, until=windows.as_of, live_on=windows.as_of
    )
    return pl.concat([late, written_off]).unique()


def _bad_on_observation(
    invoices: pl.DataFrame, entries: pl.DataFrame, windows: HistoryWindows
) -> pl.DataFrame:
    late = invoices.filter(
        (pl.col("issue_date") <= windows.observed_on)
        & (pl.col("open_observed") >= OPEN_THRESHOLD)
        & (_days(pl.lit(windows.observed_on), pl.col("due_date")) > DEFAULT_DAYS)
    ).select("customer_id")
    written_off = _live_write_offs(
        entries,
        invoices,
        after=windows.history_from,
        until=windows.observed_on,
        live_on=windows.observed_on,
    )
    return pl.concat([late, written_off]).unique()


# --- The table --------------------------------------------------------------------------------


def history_training_table(*, as_of: dt.date) -> pl.DataFrame:
    """customer_id, code, the ATTRIBUTES and `bad`, one row per customer (see the module doc),
    ordered by customer code."""
    windows = HistoryWindows.ending(as_of)
    entries = _entries(windows)
    invoices = _open_on(
        _invoices(windows).with_columns(pl.lit(windows.observed_on).alias("observed")),
        entries,
        "observed",
    )
    due_in_history = invoices.filter(
        (pl.col("due_date") > windows.history_from) & (pl.col("due_date") <= windows.observed_on)
    ).pipe(_open_on, entries, "due_date")
    already_bad = _bad_on_observation(invoices, entries, windows)
    population = (
        due_in_history.select("customer_id")
        .unique()
        .join(already_bad, on="customer_id", how="anti")
    )
    purchases = _purchases(windows)
    bad = _bad_in_outcome_year(invoices, entries, windows).with_columns(pl.lit(True).alias(TARGET))
    table = population.join(
        _customers(population.get_column("customer_id").to_list()), on="customer_id"
    )
    for part in (
        _payment_record(due_in_history, entries, windows.observed_on),
        _overdue_on_observation(invoices, windows.observed_on),
        _purchase_growth(purchases, windows),
        _relationship(invoices, purchases, windows.observed_on),
        bad,
    ):
        table = table.join(part, on="customer_id", how="left")
    return (
        table.with_columns(
            pl.col("oldest_overdue_days").fill_null(0),
            pl.col(TARGET).fill_null(False),
        )
        .select(*IDENTIFIERS, *ATTRIBUTES, TARGET)
        .sort("code")
    )
