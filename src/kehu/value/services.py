"""Writes of the value part: settings versions, assessments and snapshots.

A snapshot reads the ledger (through the analytics engine) and writes only ValueSnapshot and
CustomerValue rows; it never changes the ledger.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from kehu.accounts.models import User
from kehu.core.errors import ValidationFailed
from kehu.customers.models import Customer
from kehu.value import engine as value_engine
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
WRITE_BATCH = 5_000
FOUR_PLACES = Decimal("0.0001")


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


def _ratio(value: float) -> Decimal | None:
    if value is None or not np.isfinite(value):
        return None
    return Decimal(repr(round(float(value), 4))).quantize(FOUR_PLACES)


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
TEXT_COLUMNS = ("rfm_segment", "pyramid_class", "money_class", "quadrant")


def _rows(snapshot: ValueSnapshot, scored) -> list[CustomerValue]:  # type: ignore[no-untyped-def]
    cols = scored.columns
    lists = {
        name: cols[name].tolist() for name in cols if len(cols[name]) == len(scored.customer_ids)
    }
    rows = []
    for i, customer_id in enumerate(scored.customer_ids.tolist()):
        fields: dict[str, Any] = {name: _money(lists[name][i]) for name in MONEY_COLUMNS}
        fields.update({name: lists[name][i] for name in COUNT_COLUMNS})
        fields["purchase_count"] = lists["purchase_count"][i]
        fields.update(
            {name: (lists[name][i] if lists[name][i] >= 0 else None) for name in NULLABLE_DAYS}
        )
        fields.update({name: (lists[name][i] or None) for name in SCORE_COLUMNS})
        fields.update({name: _ratio(lists[name][i]) for name in RATIO_COLUMNS})
        fields.update({name: lists[name][i] for name in TEXT_COLUMNS})
        for name in ("regularity_score", "payment_score", "loyalty_score", "money_score"):
            fields[name] = fields[name] if fields[name] is not None else Decimal(0)
        fields["seven_factor_score"] = fields["seven_factor_score"] or Decimal(0)
        fields["activity_costs"] = {
            kind: str(_money(cents)) for kind, cents in scored.activity_costs[i].items()
        }
        rows.append(CustomerValue(snapshot=snapshot, customer_id=customer_id, **fields))
    return rows


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
        say("writing")
        threshold = scored.columns.pop("matrix_volume_threshold_cents", None)
        rows = _rows(snapshot, scored)
        with transaction.atomic():
            CustomerValue.objects.bulk_create(rows, batch_size=WRITE_BATCH)
            snapshot.customer_count = len(rows)
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
            }
            if not rows:
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
