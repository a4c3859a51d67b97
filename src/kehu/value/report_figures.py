"""The figures of the first value reports, read from a stored snapshot (domain §4.1, §4.2):
the pyramid 客户金字塔 per class, and the concentration of value (80/20 帕累托, Lorenz, Gini,
whale curve). Pages, API and exports all read these; the math is in `concentration.py`.

Company-wide figures (counts, value, shares, the curves) are the snapshot's and name no
customer; the per-customer rows go through `customer_values`, filtered by what the user may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import User
from kehu.core.errors import NotFound, ValidationFailed
from kehu.customers.selectors import related_visible_to
from kehu.value.concentration import concentration, whale_curve
from kehu.value.models import CustomerValue, PyramidClass, SnapshotStatus, ValueSnapshot
from kehu.value.selectors import customer_values, value_snapshot_latest

ACTIVE_CLASSES = (PyramidClass.VIP, PyramidClass.MAJOR, PyramidClass.ORDINARY, PyramidClass.SMALL)
OTHER_CLASSES = (PyramidClass.INACTIVE, PyramidClass.PROSPECT)
CLASSES = (*ACTIVE_CLASSES, *OTHER_CLASSES)
MEASURES: dict[str, Promise] = {
    "revenue": _("Revenue"),
    "gross_profit": _("Gross profit"),
    "net_profit": _("Net profit"),
}
PROFIT_MEASURES = {"gross_profit", "net_profit"}
CUSTOMER_SORTS: dict[str, tuple[str, ...]] = {
    "rank": ("rank",),
    "code": ("customer__code",),
    "name": ("customer__name", "customer__code"),
    "value": (),  # the snapshot's measure
}
CURVE_POINTS = 400  # the charts draw at most this many points; the figures use every customer
SHARE_STEPS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def snapshot_choices() -> QuerySet[ValueSnapshot]:
    """The finished snapshots, newest first: what the report pages offer to choose from."""
    return ValueSnapshot.objects.filter(
        status__in=(SnapshotStatus.DONE, SnapshotStatus.EMPTY)
    ).order_by("-started_at", "-id")


def snapshot_for_report(snapshot_id: int | None) -> ValueSnapshot:
    """The chosen finished snapshot, or the latest one. NotFound names what is missing."""
    if snapshot_id is None:
        snapshot = value_snapshot_latest()
        if snapshot is None:
            raise NotFound("there is no value snapshot yet: run `kehu analyze` to compute one")
        return snapshot
    snapshot = snapshot_choices().filter(pk=snapshot_id).first()
    if snapshot is None:
        raise NotFound(f"value snapshot {snapshot_id} does not exist or did not finish")
    return snapshot


def _share(part: Decimal | int, whole: Decimal | int) -> float | None:
    return float(part) / float(whole) if whole and whole > 0 else None


# --- The pyramid --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PyramidClassFigures:
    key: str
    label: str
    is_active: bool
    count: int
    customer_share: float | None  # of all customers in the snapshot
    value: Decimal
    value_share: float | None  # of the snapshot's total value (None when that is not positive)
    visible_count: int  # of these, the customers the user may see


@dataclass(frozen=True)
class PyramidReport:
    snapshot: ValueSnapshot
    measure: str
    measure_label: str
    classes: tuple[PyramidClassFigures, ...]
    customer_count: int
    visible_count: int
    total_value: Decimal


def pyramid_report(*, user: User, snapshot: ValueSnapshot) -> PyramidReport:
    """Counts, value (the snapshot's measure) and shares per class, company-wide; and how many
    of each class the user may see."""
    measure = snapshot.measure
    rows = CustomerValue.objects.filter(snapshot=snapshot)
    company: dict[str, dict[str, Any]] = {
        item["pyramid_class"]: dict(item)
        for item in rows.values("pyramid_class").annotate(count=Count("id"), value=Sum(measure))
    }
    visible = dict(
        related_visible_to(user, rows)
        .values("pyramid_class")
        .annotate(count=Count("id"))
        .values_list("pyramid_class", "count")
    )
    customer_count = sum(item["count"] for item in company.values())
    total_value = sum((item["value"] or Decimal(0) for item in company.values()), Decimal(0))
    classes = []
    for key in CLASSES:
        item: dict[str, Any] = company.get(key, {})
        count = int(item.get("count", 0))
        value = item.get("value") or Decimal(0)
        classes.append(
            PyramidClassFigures(
                key=str(key),
                label=str(PyramidClass(key).label),
                is_active=key in ACTIVE_CLASSES,
                count=count,
                customer_share=_share(count, customer_count),
                value=value,
                value_share=_share(value, total_value),
                visible_count=int(visible.get(key, 0)),
            )
        )
    return PyramidReport(
        snapshot=snapshot,
        measure=measure,
        measure_label=str(MEASURES.get(measure, measure)),
        classes=tuple(classes),
        customer_count=customer_count,
        visible_count=sum(visible.values()),
        total_value=total_value,
    )


def pyramid_customers(
    *,
    user: User,
    snapshot: ValueSnapshot,
    pyramid_class: str = "",
    search: str = "",
    sort: str = "rank",
) -> QuerySet[CustomerValue]:
    """The snapshot's rows of one class (all classes when empty) that the user may see,
    searched by customer code or name, sorted by rank, code, name or value (`-` descending)."""
    if pyramid_class and pyramid_class not in PyramidClass.values:
        raise ValidationFailed(
            f"unknown pyramid class {pyramid_class!r}: use one of {', '.join(PyramidClass.values)}",
            detail={"field": "class", "value": pyramid_class},
        )
    rows = customer_values(user=user, snapshot=snapshot)
    if pyramid_class:
        rows = rows.filter(pyramid_class=pyramid_class)
    if search:
        rows = rows.filter(
            Q(customer__code__icontains=search) | Q(customer__name__icontains=search)
        )
    key, descending = sort.lstrip("-"), sort.startswith("-")
    if key == "value":
        fields: tuple[str, ...] = (snapshot.measure, "customer__code")
    elif key in ("code", "name"):
        fields = CUSTOMER_SORTS[key]
    else:  # by rank; customers without one (inactive, prospects) after the ranked ones
        rank = F("rank").desc(nulls_last=True) if descending else F("rank").asc(nulls_last=True)
        return rows.order_by(rank, "customer__code")
    return rows.order_by(*(f"-{field}" if descending else field for field in fields))


# --- Concentration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhaleFigures:
    peak: Decimal
    peak_customers: int
    peak_position: float | None
    peak_share: float | None
    tail_loss: Decimal
    total: Decimal


@dataclass(frozen=True)
class ShareStep:
    customers: float  # the top share of customers, most valuable first
    customer_count: int
    value_share: float | None  # their share of the positive value (Lorenz / Pareto)
    cumulative: Decimal  # their value, losses included (the whale curve's height)


@dataclass(frozen=True)
class ConcentrationReport:
    snapshot: ValueSnapshot
    measure: str
    measure_label: str
    count: int
    total: Decimal  # of the values above zero: what the Pareto and Lorenz figures divide
    top_fraction: float
    top_share: float | None
    target: float
    customers_for_target: float | None
    gini: float | None
    lorenz: list[tuple[float, float]]  # for the chart: (share of customers, share of value)
    whale: WhaleFigures | None  # for a profit measure
    whale_points: list[tuple[float, float]]  # (share of customers, cumulative profit)
    steps: tuple[ShareStep, ...]


def _cents(values: list[Decimal]) -> np.ndarray:
    return np.array([int(value.scaleb(2)) for value in values], dtype=np.int64)


def _money(cents: float) -> Decimal:
    return (Decimal(int(np.rint(cents))) / 100).quantize(Decimal("0.01"))


def _sample(n: int, keep: int | None = None) -> np.ndarray:
    """Indices 0 … n of a curve, at most CURVE_POINTS + 2 of them, with `keep` among them."""
    indices = np.unique(np.linspace(0, n, min(n, CURVE_POINTS) + 1).round().astype(int))
    if keep is not None:
        indices = np.unique(np.append(indices, keep))
    return indices


def concentration_report(*, snapshot: ValueSnapshot, measure: str) -> ConcentrationReport:
    """The concentration of `measure` over the snapshot's customers who bought in its window,
    and any other customer whose measure is not zero (an inactive customer still served at a
    cost is a loss-maker of the whale curve). Prospects and idle inactive customers are left
    out: they would only add zeros."""
    if measure not in MEASURES:
        raise ValidationFailed(
            f"unknown measure {measure!r}: use one of {', '.join(MEASURES)}",
            detail={"field": "measure", "value": measure},
        )
    values = list(
        CustomerValue.objects.filter(snapshot=snapshot)
        .filter(Q(pyramid_class__in=ACTIVE_CLASSES) | ~Q(**{measure: 0}))
        .order_by("customer_id")
        .values_list(measure, flat=True)
    )
    cents = _cents(values)
    figures = concentration(cents)
    n = figures.count
    lorenz: list[tuple[float, float]] = []
    if figures.lorenz_y is not None:
        lorenz = [(float(figures.lorenz_x[i]), float(figures.lorenz_y[i])) for i in _sample(n)]
    whale = None
    whale_points: list[tuple[float, float]] = []
    curve = whale_curve(cents)
    if measure in PROFIT_MEASURES and n:
        whale = WhaleFigures(
            peak=_money(curve.peak),
            peak_customers=curve.peak_customers,
            peak_position=curve.peak_position,
            peak_share=curve.peak_share,
            tail_loss=_money(curve.tail_loss),
            total=_money(curve.total),
        )
        whale_points = [
            (float(curve.x[i]), float(curve.cumulative[i]) / 100)
            for i in _sample(n, keep=curve.peak_customers)
        ]
    steps = []
    for fraction in SHARE_STEPS if n else ():
        count = max(1, int((Decimal(n) * Decimal(str(fraction))).to_integral_value()))
        top_share = (
            1.0 - float(figures.lorenz_y[n - count]) if figures.lorenz_y is not None else None
        )
        steps.append(
            ShareStep(
                customers=fraction,
                customer_count=count,
                value_share=top_share,
                cumulative=_money(curve.cumulative[count]),
            )
        )
    return ConcentrationReport(
        snapshot=snapshot,
        measure=measure,
        measure_label=str(MEASURES[measure]),
        count=n,
        total=_money(figures.total),
        top_fraction=figures.top_fraction,
        top_share=figures.top_share,
        target=figures.target,
        customers_for_target=figures.customers_for_target,
        gini=figures.gini,
        lorenz=lorenz,
        whale=whale,
        whale_points=whale_points,
        steps=tuple(steps),
    )
