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
from django.db.models.functions import Mod
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import User
from kehu.core.errors import NotFound, ValidationFailed
from kehu.core.money import CENT
from kehu.customers.models import CustomerKind
from kehu.customers.selectors import related_visible_to
from kehu.value.concentration import concentration, whale_curve
from kehu.value.models import (
    CustomerValue,
    PyramidClass,
    Quadrant,
    SnapshotStatus,
    ValueSnapshot,
)
from kehu.value.selectors import (
    customer_values,
    customer_values_filtered,
    value_snapshot_latest,
)

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


@dataclass(frozen=True)
class ConcentrationRow:
    rank: int
    code: str
    name: str
    value: Decimal
    cumulative: Decimal
    customer_share: float  # rank / count
    value_share: float | None  # cumulative / total of the values above zero


def concentration_rows(*, user: User, snapshot: ValueSnapshot, measure: str, total: Decimal):
    """The customers of the concentration report ranked by `measure`, best first, with the
    company-wide rank and running total (the curve's own points), yielding only the customers
    `user` may see. `total` is the report's total of the values above zero."""
    population = (
        CustomerValue.objects.filter(snapshot=snapshot)
        .filter(Q(pyramid_class__in=ACTIVE_CLASSES) | ~Q(**{measure: 0}))
        .order_by(f"-{measure}", "customer_id")
    )
    count = population.count()
    visible = None
    if not user.sees_all:
        visible = set(
            related_visible_to(user, population.order_by()).values_list("customer_id", flat=True)
        )
    cumulative = Decimal(0)
    rows = population.values_list("customer_id", "customer__code", "customer__name", measure)
    for rank, (customer_id, code, name, value) in enumerate(rows.iterator(chunk_size=5000), 1):
        cumulative += value
        if visible is not None and customer_id not in visible:
            continue
        yield ConcentrationRow(
            rank=rank,
            code=code,
            name=name,
            value=value,
            cumulative=cumulative,
            customer_share=rank / count,
            value_share=float(cumulative / total) if total > 0 else None,
        )


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


# --- Report filters -----------------------------------------------------------------------------


def _cents_of(value: Decimal | None) -> Decimal:
    """A database sum as money: 0.00 for none, to the cent (SQLite sums through floats)."""
    return Decimal(0).quantize(CENT) if value is None else Decimal(value).quantize(CENT)


@dataclass(frozen=True)
class CustomerFilters:
    """The customer filters of the matrix and profitability reports (all optional)."""

    region_id: int | None = None
    owner_id: int | None = None
    kind: str = ""
    search: str = ""

    @property
    def is_filtered(self) -> bool:
        return any((self.region_id, self.owner_id, self.kind, self.search))


def _filtered_rows(
    *, user: User, snapshot: ValueSnapshot, filters: CustomerFilters
) -> QuerySet[CustomerValue]:
    if filters.kind and filters.kind not in CustomerKind.values:
        raise ValidationFailed(
            f"unknown customer kind {filters.kind!r}: use one of {', '.join(CustomerKind.values)}",
            detail={"field": "kind", "value": filters.kind},
        )
    return customer_values_filtered(
        user=user,
        snapshot=snapshot,
        region_id=filters.region_id,
        owner_id=filters.owner_id,
        kind=filters.kind,
        search=filters.search,
    )


def _sorted(rows: QuerySet[CustomerValue], sort: str, sorts: dict[str, str], default: str):  # type: ignore[no-untyped-def]
    key, descending = sort.lstrip("-"), sort.startswith("-")
    if key not in sorts:
        key, descending = default.lstrip("-"), default.startswith("-")
    field = sorts[key]
    order = F(field).desc() if descending else F(field).asc()
    return rows.order_by(order, "customer__code", "customer_id")


# --- The value matrix (§4.4) --------------------------------------------------------------------

MATRIX_QUADRANTS = (Quadrant.CORE, Quadrant.RISK, Quadrant.GROWTH, Quadrant.MARGINAL)
QUADRANT_ADVICE: dict[str, Promise] = {
    Quadrant.CORE: _(
        "Large volume, loyal: the most valuable source of profit. Build a strategic partnership."
    ),
    Quadrant.RISK: _(
        "Large volume, not loyal: driven by speculation; may sell across territories, dump "
        "prices, disturb the market or drag payments. Watch closely and control credit."
    ),
    Quadrant.GROWTH: _(
        "Small volume, loyal: support them, dig out latent demand and raise them into core "
        "customers."
    ),
    Quadrant.MARGINAL: _("Small volume, not loyal: serve them at the least cost, or let them go."),
    Quadrant.NOT_ACTIVE: _("No purchase in the window: outside the matrix."),
}
MATRIX_SORTS = {
    "code": "customer__code",
    "name": "customer__name",
    "revenue": "revenue",
    "loyalty": "loyalty_score",
    "gross_profit": "gross_profit",
    "net_profit": "net_profit",
}
SCATTER_POINTS = 5_000  # the chart draws at most this many customers; the summary counts all


@dataclass(frozen=True)
class QuadrantFigures:
    key: str
    label: str
    advice: str
    count: int
    customer_share: float | None  # of the active customers counted
    revenue: Decimal
    revenue_share: float | None
    gross_profit: Decimal
    net_profit: Decimal


@dataclass(frozen=True)
class MatrixReport:
    snapshot: ValueSnapshot
    volume_threshold: Decimal | None  # revenue over the window; "median" resolved by the snapshot
    volume_threshold_setting: str  # "median" or an amount, as the settings said
    loyalty_threshold: Decimal
    quadrants: tuple[QuadrantFigures, ...]  # core, risk, growth, marginal, then not active
    customer_count: int  # the customers counted (the user's, filtered), active or not
    active_count: int
    total_revenue: Decimal


def matrix_thresholds(snapshot: ValueSnapshot) -> tuple[Decimal | None, str, Decimal]:
    """The volume threshold the snapshot used (None when no customer was active), the volume
    setting it came from, and the loyalty threshold."""
    parameters = snapshot.parameters or {}
    settings = parameters.get("settings") or {}
    raw = parameters.get("matrix_volume_threshold")
    volume = Decimal(str(raw)) if raw not in (None, "") else None
    setting = str(settings.get("matrix_volume_threshold", "median"))
    loyalty = Decimal(str(settings.get("matrix_loyalty_threshold", "0.5")))
    return volume, setting, loyalty


def matrix_report(
    *, user: User, snapshot: ValueSnapshot, filters: CustomerFilters | None = None
) -> MatrixReport:
    """Customers, revenue, gross and net profit per quadrant of the value matrix 客户价值矩阵
    (volume × loyalty), over the customers the user sees that match `filters`. The quadrants
    are the snapshot's (its thresholds, stored in its parameters)."""
    rows = _filtered_rows(user=user, snapshot=snapshot, filters=filters or CustomerFilters())
    found: dict[str, dict[str, Any]] = {
        str(item["quadrant"]): dict(item)
        for item in rows.order_by()
        .values("quadrant")
        .annotate(
            count=Count("id"),
            revenue=Sum("revenue"),
            gross_profit=Sum("gross_profit"),
            net_profit=Sum("net_profit"),
        )
    }
    active_count = sum(int(found.get(key, {}).get("count", 0)) for key in MATRIX_QUADRANTS)
    total_revenue = sum(
        (_cents_of(found.get(key, {}).get("revenue")) for key in MATRIX_QUADRANTS), Decimal(0)
    )
    quadrants = []
    for key in (*MATRIX_QUADRANTS, Quadrant.NOT_ACTIVE):
        item: dict[str, Any] = found.get(key, {})
        count = int(item.get("count", 0))
        revenue = _cents_of(item.get("revenue"))
        is_active = key != Quadrant.NOT_ACTIVE
        quadrants.append(
            QuadrantFigures(
                key=str(key),
                label=str(Quadrant(key).label),
                advice=str(QUADRANT_ADVICE[key]),
                count=count,
                customer_share=_share(count, active_count) if is_active else None,
                revenue=revenue,
                revenue_share=_share(revenue, total_revenue) if is_active else None,
                gross_profit=_cents_of(item.get("gross_profit")),
                net_profit=_cents_of(item.get("net_profit")),
            )
        )
    volume, setting, loyalty = matrix_thresholds(snapshot)
    return MatrixReport(
        snapshot=snapshot,
        volume_threshold=volume,
        volume_threshold_setting=setting,
        loyalty_threshold=loyalty,
        quadrants=tuple(quadrants),
        customer_count=sum(int(item["count"]) for item in found.values()),
        active_count=active_count,
        total_revenue=total_revenue,
    )


def matrix_customers(
    *,
    user: User,
    snapshot: ValueSnapshot,
    filters: CustomerFilters | None = None,
    quadrant: str = "",
    sort: str = "-revenue",
) -> QuerySet[CustomerValue]:
    """The rows behind the matrix (of one quadrant when given), sorted by a key of
    MATRIX_SORTS (`-` descending), with customer, owner and region joined."""
    if quadrant and quadrant not in Quadrant.values:
        raise ValidationFailed(
            f"unknown quadrant {quadrant!r}: use one of {', '.join(Quadrant.values)}",
            detail={"field": "quadrant", "value": quadrant},
        )
    rows = _filtered_rows(user=user, snapshot=snapshot, filters=filters or CustomerFilters())
    if quadrant:
        rows = rows.filter(quadrant=quadrant)
    rows = rows.select_related("customer", "customer__owner", "customer__region")
    return _sorted(rows, sort, MATRIX_SORTS, "-revenue")


@dataclass(frozen=True)
class MatrixPoint:
    customer_id: int
    code: str
    name: str
    quadrant: str
    revenue: Decimal
    loyalty: Decimal


def matrix_points(
    *,
    user: User,
    snapshot: ValueSnapshot,
    filters: CustomerFilters | None = None,
    quadrant: str = "",
    limit: int | None = None,
) -> tuple[list[MatrixPoint], int]:
    """The active customers to draw on the scatter, and how many there are in all. Above
    `limit` (default SCATTER_POINTS), an even sample: every k-th row id, so the same snapshot
    draws the same points."""
    limit = limit or SCATTER_POINTS
    rows = _filtered_rows(user=user, snapshot=snapshot, filters=filters or CustomerFilters())
    rows = rows.filter(quadrant=quadrant) if quadrant else rows.exclude(quadrant="not_active")
    total = rows.count()
    if total > limit:
        step = -(-total // limit)
        rows = rows.annotate(bucket=Mod("id", step)).filter(bucket=0)
    values = rows.order_by("id").values_list(
        "customer_id", "customer__code", "customer__name", "quadrant", "revenue", "loyalty_score"
    )[:limit]
    return [MatrixPoint(*item) for item in values], total


# --- Profitability and the cost to serve (§4.5) -------------------------------------------------

COST_COMPONENTS: dict[str, Promise] = {
    "cost_orders": _("Orders handled"),
    "cost_deliveries": _("Deliveries"),
    "cost_activities": _("Visits, calls and other activities"),
    "cost_complaints": _("Complaints"),
    "cost_returns": _("Returns"),
    "cost_financing": _("Receivable financing"),
    "cost_bad_debts": _("Bad debts"),
}
PROFITABILITY_SORTS = {
    "net_profit": "net_profit",
    "code": "customer__code",
    "name": "customer__name",
    "revenue": "revenue",
    "gross_profit": "gross_profit",
    "cost_to_serve": "cost_to_serve",
}
WORST_COUNT = 20


@dataclass(frozen=True)
class ProfitabilityReport:
    snapshot: ValueSnapshot
    customer_count: int  # the customers counted (the user's, filtered)
    total_revenue: Decimal
    total_cost_to_serve: Decimal
    total_net_profit: Decimal
    loss_count: int  # net profit below zero
    loss_total: Decimal  # what they lose together: the sum of their net profit (negative)
    loss_revenue: Decimal
    loss_revenue_share: float | None  # their revenue over the revenue of the customers counted
    loss_cost_to_serve: Decimal
    components: tuple[tuple[str, str, Decimal], ...]  # (field, label, total) over loss-makers


def loss_reason(row: CustomerValue) -> str:
    """Why a customer loses money, in a few words: sold below cost, or the largest part of the
    cost to serve."""
    if row.gross_profit < 0:
        return str(_("Sold below cost (negative gross profit)"))
    field, amount = max(
        ((field, getattr(row, field)) for field in COST_COMPONENTS), key=lambda pair: pair[1]
    )
    if amount <= 0:
        return ""
    return str(COST_COMPONENTS[field])


def profitability_report(
    *, user: User, snapshot: ValueSnapshot, filters: CustomerFilters | None = None
) -> ProfitabilityReport:
    """Net profit after the cost to serve, over the customers the user sees that match
    `filters`: how many lose money, what they lose, their share of revenue and what their cost
    to serve is made of."""
    rows = _filtered_rows(user=user, snapshot=snapshot, filters=filters or CustomerFilters())
    sums = {
        "revenue": Sum("revenue"),
        "cost_to_serve": Sum("cost_to_serve"),
        "net_profit": Sum("net_profit"),
    }
    loss = Q(net_profit__lt=0)
    everyone = rows.order_by().aggregate(count=Count("id"), **sums)
    losers = (
        rows.filter(loss)
        .order_by()
        .aggregate(count=Count("id"), **sums, **{field: Sum(field) for field in COST_COMPONENTS})
    )
    total_revenue = _cents_of(everyone["revenue"])
    loss_revenue = _cents_of(losers["revenue"])
    return ProfitabilityReport(
        snapshot=snapshot,
        customer_count=everyone["count"],
        total_revenue=total_revenue,
        total_cost_to_serve=_cents_of(everyone["cost_to_serve"]),
        total_net_profit=_cents_of(everyone["net_profit"]),
        loss_count=losers["count"],
        loss_total=_cents_of(losers["net_profit"]),
        loss_revenue=loss_revenue,
        loss_revenue_share=_share(loss_revenue, total_revenue),
        loss_cost_to_serve=_cents_of(losers["cost_to_serve"]),
        components=tuple(
            (field, str(label), _cents_of(losers[field]))
            for field, label in COST_COMPONENTS.items()
        ),
    )


def profitability_customers(
    *,
    user: User,
    snapshot: ValueSnapshot,
    filters: CustomerFilters | None = None,
    only_losses: bool = True,
    sort: str = "net_profit",
) -> QuerySet[CustomerValue]:
    """The customers ranked by net profit after the cost to serve, worst first by default;
    only the loss-makers (net profit below zero) unless `only_losses` is false."""
    rows = _filtered_rows(user=user, snapshot=snapshot, filters=filters or CustomerFilters())
    if only_losses:
        rows = rows.filter(net_profit__lt=0)
    rows = rows.select_related("customer", "customer__owner", "customer__region")
    return _sorted(rows, sort, PROFITABILITY_SORTS, "net_profit")
