"""Writes of the value part: settings versions, assessments and snapshots.

A snapshot reads the ledger (through the analytics engine) and writes only ValueSnapshot and
CustomerValue rows; it never changes the ledger.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
from django.db import connection, transaction
from django.utils import timezone

from kehu.accounts.models import User
from kehu.core.errors import ValidationFailed
from kehu.customers.models import Customer
from kehu.value import engine as value_engine
from kehu.value.lifetime import lifetime_compute, lifetime_previous
from kehu.value.models import (
    CustomerValue,
    CustomerValueAssessment,
    SnapshotStatus,
    ValueSettings,
    ValueSnapshot,
)
from kehu.value.periods import Period, last_closed_quarter, period_parse, window_start
from kehu.value.scoring import score
from kehu.value.selectors import value_settings_current
from kehu.value.settings import MEASURES, merge, validate_settings

EPOCH = dt.date(1970, 1, 1)
WRITE_BATCH = 20_000


@transaction.atomic
def value_settings_update(
    *, changes: dict[str, Any], actor: User | None = None, reason: str = ""
) -> ValueSettings:
    """Lay `changes` over the settings in force and store the result as a new version."""
    if not changes:
        raise ValidationFailed("no value setting to change", detail={"field": "changes"})
    values = validate_settings(merge(value_settings_current(), changes))
    return ValueSettings.objects.create(
        values=values, changes=changes, reason=reason.strip(), changed_by=actor
    )


@transaction.atomic
def customer_value_assessment_record(
    *,
    customer: Customer,
    feedback_frequency: int,
    industry_influence: int,
    demand_potential: int,
    assessed_by: User,
    assessed_on: dt.date | None = None,
    note: str = "",
) -> CustomerValueAssessment:
    """Record the three human factors of the seven-factor score, each a whole number 0–5."""
    scores = {
        "feedback_frequency": feedback_frequency,
        "industry_influence": industry_influence,
        "demand_potential": demand_potential,
    }
    for field, value in scores.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 5:
            raise ValidationFailed(
                f"{field} must be a whole number from 0 to 5, not {value!r}",
                detail={"field": field},
            )
    on = assessed_on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationFailed(f"assessment date {on} is in the future", detail={"field": "on"})
    return CustomerValueAssessment.objects.create(
        customer=customer, assessed_by=assessed_by, assessed_on=on, note=note.strip(), **scores
    )


def _latest_assessments(as_of: dt.date) -> dict[int, tuple[int, int, int]]:
    latest: dict[int, tuple[int, int, int]] = {}
    rows = (
        CustomerValueAssessment.objects.filter(assessed_on__lte=as_of)
        .order_by("customer_id", "assessed_on", "id")
        .values_list("customer_id", "feedback_frequency", "industry_influence", "demand_potential")
    )
    for customer_id, feedback, influence, potential in rows:
        latest[customer_id] = (feedback, influence, potential)  # the newest wins
    return latest


def _money(cents: int) -> Decimal:
    return Decimal(int(cents)).scaleb(-2)


MONEY_COLUMNS = (
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
COUNT_COLUMNS = ("order_count", "return_count", "complaint_count", "activity_count")
NULLABLE_DAYS = ("recency_days", "tenure_days", "rank", "rank_of")
SCORE_COLUMNS = ("recency_score", "frequency_score", "monetary_score")
RATIO_COLUMNS = (
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
# Ratios that stay NULL without a figure; the others are written as 0.
NULL_RATIOS = ("interval_variation", "amount_variation", "paid_on_time_share", "days_beyond_terms")
TEXT_COLUMNS = ("rfm_segment", "pyramid_class", "money_class", "quadrant")


def _money_texts(cents: np.ndarray) -> list[str]:
    """Whole cents as exact decimal texts ("-12.05"): Arrow formats a decimal128(20, 2) array
    built on the cents, so nothing goes through a float."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((cents.size, 2), dtype=np.int64)  # 128-bit little-endian two's complement
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    decimals = pa.Array.from_buffers(
        pa.decimal128(20, 2), cents.size, [None, pa.py_buffer(words.tobytes())]
    )
    return decimals.cast(pa.string()).to_pylist()


def _fixed_texts(values: np.ndarray, places: int, default: str | None = None) -> list[str | None]:
    """Floats as texts with `places` decimals (correctly rounded, as round() and Decimal do);
    NaN and infinities become `default`."""
    spec = f".{places}f"
    return [
        format(value, spec) if finite else default
        for value, finite in zip(
            values.astype(np.float64).tolist(), np.isfinite(values).tolist(), strict=True
        )
    ]


def _activity_costs_json(costs: list[dict[str, int]]) -> list[str]:
    return [
        json.dumps({kind: str(_money(cents)) for kind, cents in by_kind.items()})
        if by_kind
        else "{}"
        for by_kind in costs
    ]


def lifetime_columns(lifetime, customer_ids: np.ndarray) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """The four lifetime arrays of a LifetimeResult aligned to `customer_ids` (NaN where not
    estimated), ready for _rows."""
    columns: dict[str, np.ndarray] = {}
    if lifetime is None:
        return columns
    found = np.asarray(lifetime.customer_ids, dtype=np.int64)
    order = np.argsort(found, kind="stable")
    where = np.searchsorted(found, customer_ids, sorter=order) if found.size else None
    for name in LIFETIME_COLUMNS:
        aligned = np.full(len(customer_ids), np.nan)
        if where is not None:
            position = order[np.minimum(where, found.size - 1)]
            hit = found[position] == customer_ids
            aligned[hit] = np.asarray(getattr(lifetime, name), dtype=np.float64)[position[hit]]
        columns[name] = aligned
    return columns


# Decimal places of the lifetime columns (as kehu.value.lifetime writes them).
LIFETIME_COLUMNS = {
    "probability_alive": 4,
    "expected_purchases": 4,
    "expected_spend": 2,
    "lifetime_value": 2,
}


def _rows(  # type: ignore[no-untyped-def]
    snapshot: ValueSnapshot, scored, extra: dict[str, np.ndarray] | None = None
) -> tuple[list[str], Iterator[list[tuple]]]:
    """The CustomerValue columns and their rows as tuples, WRITE_BATCH at a time.

    Money goes in as exact decimal text, ratios rounded to four places, NULL where the model
    allows it and there is no figure (the same values the model fields would write); `extra`
    holds the lifetime columns (floats, NaN = NULL). Columns not computed here get their field's
    default."""
    extra = extra or {}
    fields = [field for field in CustomerValue._meta.concrete_fields if not field.primary_key]
    columns = [field.column for field in fields]
    n = len(scored.customer_ids)
    cols = scored.columns

    def batch(lo: int, hi: int) -> list[tuple]:
        part = {name: values[lo:hi] for name, values in cols.items() if len(values) == n}
        values: dict[str, list[Any]] = {
            "snapshot_id": [snapshot.pk] * (hi - lo),
            "customer_id": scored.customer_ids[lo:hi].tolist(),
            "activity_costs": _activity_costs_json(scored.activity_costs[lo:hi]),
        }
        for name in MONEY_COLUMNS:
            values[name] = _money_texts(part[name])
        for name in (*COUNT_COLUMNS, "purchase_count", *TEXT_COLUMNS):
            values[name] = part[name].tolist()
        for name in NULLABLE_DAYS:
            values[name] = [value if value >= 0 else None for value in part[name].tolist()]
        for name in SCORE_COLUMNS:
            values[name] = [value or None for value in part[name].tolist()]
        for name in RATIO_COLUMNS:
            values[name] = _fixed_texts(part[name], 4, None if name in NULL_RATIOS else "0")
        for name, places in LIFETIME_COLUMNS.items():
            if name in extra:
                values[name] = _fixed_texts(extra[name][lo:hi], places)
        for field in fields:
            if field.attname not in values:
                default = field.get_db_prep_save(field.get_default(), connection)
                values[field.attname] = [default] * (hi - lo)
        return list(zip(*(values[field.attname] for field in fields), strict=True))

    return columns, (batch(lo, min(lo + WRITE_BATCH, n)) for lo in range(0, n, WRITE_BATCH))


def _write_rows(snapshot: ValueSnapshot, scored, extra=None) -> int:  # type: ignore[no-untyped-def]
    """Insert the snapshot's CustomerValue rows: executemany of tuples on SQLite, COPY on
    PostgreSQL (not one model object per customer). Returns the number of rows."""
    columns, batches = _rows(snapshot, scored, extra)
    table = connection.ops.quote_name(CustomerValue._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    count = 0
    with connection.cursor() as cursor:
        for rows in batches:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 — our names
                cursor.executemany(sql, rows)
            count += len(rows)
    return count


def _resolve_period(period: str | Period | None) -> Period:
    if period is None:
        return last_closed_quarter(timezone.localdate())
    if isinstance(period, Period):
        return period
    return period_parse(period)


def value_snapshot_compute(
    *,
    period: str | None = None,
    engine: str = "duckdb",
    measure: str | None = None,
    progress: Callable[[str], None] | None = None,
    actor: User | None = None,
) -> ValueSnapshot:
    """Compute and store the value snapshot of `period` (default: the last closed quarter).

    Raises ValidationFailed for a bad period, engine or measure before anything is written. A
    failure while computing leaves the snapshot marked `failed` with the reason, and re-raises.
    A window without transactions gives a snapshot with status `empty` and every customer
    counted as inactive or a prospect — never a NaN.
    """
    resolved = _resolve_period(period)
    value_engine.check(engine)
    values = value_settings_current()
    measure = measure or values["measure"]
    if measure not in MEASURES:
        raise ValidationFailed(
            f"unknown value measure {measure!r}: use one of {', '.join(MEASURES)}",
            detail={"field": "measure", "value": measure},
        )
    start = window_start(resolved.end, int(values["window_months"]))
    snapshot = ValueSnapshot.objects.create(
        period=resolved.label,
        period_start=resolved.start,
        period_end=resolved.end,
        window_start=start,
        window_end=resolved.end,
        measure=measure,
        engine=engine,
        parameters={"settings": values, "measure": measure},
        started_at=timezone.now(),
        created_by=actor,
    )
    began = time.perf_counter()
    say = progress or (lambda _step: None)
    try:
        ws, we = (start - EPOCH).days, (resolved.end - EPOCH).days
        results, timings = value_engine.run(engine=engine, ws=ws, we=we, progress=say)
        say("scoring")
        scored = score(
            results,
            values=values,
            measure=measure,
            ws=ws,
            we=we,
            assessments=_latest_assessments(resolved.end),
        )
        say("lifetime value")
        lifetime = lifetime_compute(
            purchase_days=results["lifetime"],
            as_of=resolved.end,
            values=values,
            previous=lifetime_previous(before=snapshot),
        )
        say("writing")
        threshold = scored.columns.pop("matrix_volume_threshold_cents", None)
        with transaction.atomic():
            written = _write_rows(snapshot, scored, lifetime_columns(lifetime, scored.customer_ids))
            snapshot.customer_count = written
            snapshot.active_count = scored.active_count
            snapshot.total_revenue = _money(int(scored.columns["revenue"].sum()))
            snapshot.total_gross_profit = _money(int(scored.columns["gross_profit"].sum()))
            snapshot.total_net_profit = _money(int(scored.columns["net_profit"].sum()))
            snapshot.parameters = {
                **snapshot.parameters,
                "pyramid_counts": scored.pyramid_counts,
                "matrix_volume_threshold": (
                    str(_money(round(float(threshold[0])))) if threshold is not None else None
                ),
                "window_days": we - ws + 1,
                "timings": timings,
                "lifetime": lifetime.parameters,
            }
            if not written:
                snapshot.status = SnapshotStatus.EMPTY
                snapshot.message = "there are no customers"
            elif scored.active_count == 0:
                snapshot.status = SnapshotStatus.EMPTY
                snapshot.message = (
                    f"no purchases from {start} to {resolved.end}: every customer is inactive "
                    "or a prospect"
                )
            else:
                snapshot.status = SnapshotStatus.DONE
                snapshot.message = ""
            if written:  # with no customer at all, "there are no customers" says it all
                snapshot.message = " ".join(filter(None, (snapshot.message, lifetime.message)))
            snapshot.finished_at = timezone.now()
            snapshot.seconds = round(time.perf_counter() - began, 3)
            snapshot.save()
    except Exception as error:
        ValueSnapshot.objects.filter(pk=snapshot.pk).update(
            status=SnapshotStatus.FAILED,
            message=str(error)[:2000],
            finished_at=timezone.now(),
            seconds=round(time.perf_counter() - began, 3),
        )
        raise
    return snapshot
