"""From transactions to the per-customer summary the models fit on.

The conventions are those of lifetimes' `summary_data_from_transaction_data` and
`calibration_and_holdout_data` (and of Fader & Hardie's CDNOW files), so that our summary of a
data set equals theirs:

* purchases on the same day count once (their values are added up);
* frequency = number of repeat purchase days (all purchase days but the first);
* recency = time from the first to the last purchase day; T = time from the first purchase day to
  the end of the calibration period; both in days, or in weeks of 7 days (`unit="week"`, what
  lifetimes calls freq="D", freq_multiplier=7 — fractional weeks, as in the CDNOW summaries);
* monetary_value = mean value of the repeat purchase days (0 when frequency is 0);
* with a holdout end: frequency_holdout = purchase days after the calibration end up to and
  including the holdout end, for the customers of the calibration period;
  monetary_value_holdout = mean value of those days (lifetimes averages the single
  transactions instead; we keep the calibration's day convention); duration_holdout.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

UNIT_DAYS = {"day": 1, "week": 7}
TRANSACTION_COLUMNS = ("customer_id", "date", "amount")


class TransactionError(ValueError):
    """Transactions that cannot be read or summarised; the message says what and where."""


def days_per_unit(unit: str) -> int:
    try:
        return UNIT_DAYS[unit]
    except KeyError:
        raise TransactionError(
            f"unit must be one of {', '.join(UNIT_DAYS)}, not {unit!r}"
        ) from None


def read_cdnow(path: Path) -> pl.DataFrame:
    """Read a CDNOW file: whitespace-separated customer id, YYYYMMDD date, quantity, amount.

    The master file has a header line and four columns; the sample file has no header and five
    columns (master id, sample id, date, quantity, amount) — there the sample id is the customer.
    """
    lines = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    if not lines:
        raise TransactionError(f"{path}: the file is empty")
    first_row = 1
    if not lines[0][0].isdigit():
        lines = lines[1:]
        first_row = 2
    width = len(lines[0])
    for number, line in enumerate(lines, start=first_row):
        if len(line) != width or width not in (4, 5):
            raise TransactionError(
                f"{path}, line {number}: expected 4 columns (master file) or 5 (sample file), "
                f"found {len(line)}"
            )
    offset = len(lines[0]) - 4
    frame = pl.DataFrame(
        {
            "customer_id": [line[offset] for line in lines],
            "date": [line[offset + 1] for line in lines],
            "amount": [line[offset + 3] for line in lines],
        }
    )
    frame = _parse(frame, source=str(path), date_format="%Y%m%d", first_row=first_row)
    try:
        return frame.with_columns(pl.col("customer_id").cast(pl.Int64))
    except pl.exceptions.PolarsError:
        return frame


def read_csv(path: Path, columns: tuple[str, str, str] = TRANSACTION_COLUMNS) -> pl.DataFrame:
    """Read transactions from a CSV file whose columns `columns` hold customer id, date, amount.

    Dates are ISO (YYYY-MM-DD, optionally with a time); amounts are numbers.
    """
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as error:
        raise TransactionError(f"{path}: cannot read the file ({error})") from error
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise TransactionError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"the file has {', '.join(frame.columns)}"
        )
    renamed = frame.select(
        pl.col(column).alias(name)
        for column, name in zip(columns, TRANSACTION_COLUMNS, strict=True)
    )
    return _parse(renamed, source=str(path), date_format=None, first_row=2)


def _parse(
    frame: pl.DataFrame, *, source: str, date_format: str | None, first_row: int
) -> pl.DataFrame:
    """Strings → (customer_id, date: Date, amount: Float64), naming the first bad row."""
    text_date = pl.col("date").str.strip_chars()
    if date_format is None:
        parsed_date = pl.coalesce(
            text_date.str.to_date("%Y-%m-%d", strict=False),
            text_date.str.to_datetime(strict=False).dt.date(),
        )
    else:
        parsed_date = text_date.str.to_date(date_format, strict=False)
    parsed = frame.with_columns(
        parsed_date.alias("parsed_date"),
        pl.col("amount").str.strip_chars().cast(pl.Float64, strict=False).alias("parsed_amount"),
    ).with_row_index("row")
    for column, parsed_column, what in (
        ("date", "parsed_date", "a date" + (" (YYYYMMDD)" if date_format else " (YYYY-MM-DD)")),
        ("amount", "parsed_amount", "a number"),
    ):
        values = pl.col(parsed_column)
        invalid = values.is_null() | (values.is_nan() if column == "amount" else pl.lit(False))
        bad = parsed.filter(invalid)
        if bad.height:
            row = bad.row(0, named=True)
            raise TransactionError(
                f"{source}, row {row['row'] + first_row}, column {column}: "
                f"{row[column]!r} is not {what}"
            )
    empty_id = parsed.filter(
        pl.col("customer_id").is_null() | (pl.col("customer_id").str.strip_chars() == "")
    )
    if empty_id.height:
        raise TransactionError(
            f"{source}, row {empty_id.row(0, named=True)['row'] + first_row}, "
            "column customer_id: empty"
        )
    return parsed.select(
        pl.col("customer_id").str.strip_chars(),
        pl.col("parsed_date").alias("date"),
        pl.col("parsed_amount").alias("amount"),
    )


def _daily(transactions: pl.DataFrame) -> pl.LazyFrame:
    """One row per customer and purchase day, with the day's amounts added up."""
    missing = [name for name in TRANSACTION_COLUMNS if name not in transactions.columns]
    if missing:
        raise TransactionError(f"the transactions have no column(s) {', '.join(missing)}")
    date = pl.col("date")
    if transactions.schema["date"] != pl.Date:
        date = date.cast(pl.Date)
    return (
        transactions.lazy()
        .select(pl.col("customer_id"), date.alias("date"), pl.col("amount").cast(pl.Float64))
        .group_by("customer_id", "date")
        .agg(pl.col("amount").sum())
    )


def summarize(
    transactions: pl.DataFrame,
    *,
    calibration_end: datetime.date,
    holdout_end: datetime.date | None = None,
    unit: str = "day",
) -> pl.DataFrame:
    """Per-customer frequency, recency, T, monetary_value (and the holdout columns).

    Customers are those with a purchase on or before `calibration_end`, sorted by id.
    """
    days = days_per_unit(unit)
    if holdout_end is not None and holdout_end <= calibration_end:
        raise TransactionError(
            f"the holdout end {holdout_end} must come after the calibration end {calibration_end}"
        )
    daily = _daily(transactions)
    calibration = daily.filter(pl.col("date") <= calibration_end)
    end = pl.lit(calibration_end, dtype=pl.Date)
    summary = (
        calibration.group_by("customer_id")
        .agg(
            pl.col("date").min().alias("first"),
            pl.col("date").max().alias("last"),
            pl.len().alias("days"),
            pl.col("amount").sum().alias("total"),
            pl.col("amount").min_by("date").alias("first_amount"),
        )
        .select(
            pl.col("customer_id"),
            (pl.col("days") - 1).cast(pl.Float64).alias("frequency"),
            ((pl.col("last") - pl.col("first")).dt.total_days() / days).alias("recency"),
            ((end - pl.col("first")).dt.total_days() / days).alias("T"),
            pl.when(pl.col("days") > 1)
            .then((pl.col("total") - pl.col("first_amount")) / (pl.col("days") - 1))
            .otherwise(0.0)
            .alias("monetary_value"),
        )
    )
    if holdout_end is not None:
        holdout = (
            daily.filter((pl.col("date") > calibration_end) & (pl.col("date") <= holdout_end))
            .group_by("customer_id")
            .agg(
                pl.len().cast(pl.Float64).alias("frequency_holdout"),
                pl.col("amount").mean().alias("monetary_value_holdout"),
            )
        )
        summary = summary.join(holdout, on="customer_id", how="left").with_columns(
            pl.col("frequency_holdout").fill_null(0.0),
            pl.col("monetary_value_holdout").fill_null(0.0),
            pl.lit((holdout_end - calibration_end).days / days).alias("duration_holdout"),
        )
    result = summary.sort("customer_id").collect()
    if result.height == 0:
        raise TransactionError(f"there are no transactions on or before {calibration_end}")
    return result


@dataclass(frozen=True)
class PurchaseTimeline:
    """When the cohort's customers first bought and when they bought again, in model units
    counted from `origin` (the first purchase day in the data)."""

    origin: datetime.date
    first_purchase: np.ndarray
    repeat_purchases: np.ndarray
    calibration_end: float
    holdout_end: float


def purchase_timeline(
    transactions: pl.DataFrame,
    *,
    calibration_end: datetime.date,
    holdout_end: datetime.date,
    unit: str = "day",
) -> PurchaseTimeline:
    """For the tracking check: births and repeat purchase days of the customers whose first
    purchase is on or before `calibration_end`, up to `holdout_end`."""
    days = days_per_unit(unit)
    daily = _daily(transactions).filter(pl.col("date") <= holdout_end)
    first = daily.group_by("customer_id").agg(pl.col("date").min().alias("first"))
    cohort = daily.join(first, on="customer_id").filter(pl.col("first") <= calibration_end)
    frame = cohort.collect()
    if frame.height == 0:
        raise TransactionError(f"there are no transactions on or before {calibration_end}")
    origin = frame["date"].min()
    assert isinstance(origin, datetime.date)
    births = first.filter(pl.col("first") <= calibration_end).collect()["first"]
    repeats = frame.filter(pl.col("date") > pl.col("first"))["date"]

    def units(values: pl.Series) -> np.ndarray:
        return ((values - origin).dt.total_days().to_numpy() / days).astype(float)

    return PurchaseTimeline(
        origin=origin,
        first_purchase=units(births),
        repeat_purchases=units(repeats),
        calibration_end=(calibration_end - origin).days / days,
        holdout_end=(holdout_end - origin).days / days,
    )


SUMMARY_ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer_id", "ID", "id", "customer"),
    "frequency": ("frequency", "frequency_cal", "x"),
    "recency": ("recency", "recency_cal", "t_x"),
    "T": ("T", "T_cal"),
    "monetary_value": ("monetary_value", "monetary_value_cal", "zbar"),
    "frequency_holdout": ("frequency_holdout",),
    "duration_holdout": ("duration_holdout",),
}


def read_summary(path: Path, *, needs_monetary_value: bool = False) -> pl.DataFrame:
    """Read a per-customer summary CSV: ours, lifetimes' (frequency, recency, T,
    monetary_value, or the *_cal/_holdout names) or Fader–Hardie's (ID, x, t_x, T, zbar).

    Returns the columns under our names (customer_id is the row number when the file has none).
    """
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as error:
        raise TransactionError(f"{path}: cannot read the file ({error})") from error
    found: dict[str, str] = {}
    for name, aliases in SUMMARY_ALIASES.items():
        for alias in aliases:
            if alias in frame.columns:
                found[name] = alias
                break
    required = ["frequency", "recency", "T"] + (["monetary_value"] if needs_monetary_value else [])
    missing = [name for name in required if name not in found]
    if missing:
        accepted = "; ".join(f"{name}: {' or '.join(SUMMARY_ALIASES[name])}" for name in missing)
        raise TransactionError(
            f"{path}: missing column(s) {', '.join(missing)} (accepted names — {accepted}); "
            f"the file has {', '.join(frame.columns)}"
        )
    columns = []
    for name, alias in found.items():
        column = pl.col(alias).str.strip_chars()
        if name != "customer_id":
            column = column.cast(pl.Float64, strict=False)
        columns.append(column.alias(name))
    parsed = frame.select(columns).with_row_index("row")
    for name, alias in found.items():
        if name == "customer_id":
            continue
        bad = parsed.filter(pl.col(name).is_null() | pl.col(name).is_nan())
        if bad.height:
            row = bad.row(0, named=True)["row"]
            raise TransactionError(
                f"{path}, row {row + 2}, column {alias}: {frame[alias][row]!r} is not a number"
            )
    if "customer_id" not in found:
        parsed = parsed.with_columns((pl.col("row") + 1).cast(pl.String).alias("customer_id"))
    if parsed.height == 0:
        raise TransactionError(f"{path}: there are no customers")
    return parsed.drop("row")
