"""How customers move between classes from one value snapshot to another (domain §4.3: "each
period every customer is classified again, and the report shows who moved which way").

Two parts:

- the pure computation, `migration_matrix`: from tallies of (class in A, class in B, count,
  revenue in A, revenue in B) to the transition matrix with its totals and the shares of
  customers moving up, staying and moving down;
- the reads, which take the acting user and see only the customers that user may see
  (`customers.selectors.related_visible_to`): `class_migration` (the matrix) and
  `class_migration_customers` (the customers of one cell), with optional region and owner
  filters on the customer's current region (its subtree) and owner.

A customer with a row only in A is *gone* (column `GONE`); one with a row only in B is *new*
(row `NEW`). Up, stay and down are counted among the customers present in both snapshots; new
and gone customers are counted apart. The revenue of a cell is the revenue in B, and for the
gone ones the revenue in A (both sums are kept on every cell).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    CharField,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from kehu.accounts.models import OrgUnit, User
from kehu.core.errors import ValidationFailed
from kehu.core.money import CENT, ZERO
from kehu.customers.selectors import related_visible_to
from kehu.value.models import CustomerValue, MoneyClass, PyramidClass, Quadrant, ValueSnapshot
from kehu.value.report_figures import snapshot_choices

NEW = "new"  # not in A: a customer only in the later snapshot
GONE = "gone"  # not in B: a customer only in the earlier snapshot
UP, STAY, DOWN = "up", "stay", "down"
MONEY = DecimalField(max_digits=18, decimal_places=2)
# The annotations of the rows `_arrivals` and `_departures` read (named through this tuple:
# the type checker knows only the model's own fields).
ANNOTATED_CLASSES = ("source_class", "target_class")

# Best class first: moving to an earlier class is moving up.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "money_class": tuple(
        str(key)
        for key in (MoneyClass.WITH_MONEY, MoneyClass.SHORT_OF_MONEY, MoneyClass.NOT_ACTIVE)
    ),
    "pyramid_class": tuple(
        str(key)
        for key in (
            PyramidClass.VIP,
            PyramidClass.MAJOR,
            PyramidClass.ORDINARY,
            PyramidClass.SMALL,
            PyramidClass.INACTIVE,
            PyramidClass.PROSPECT,
        )
    ),
    # By volume first, as the matrix is drawn: a move between risk (large, not loyal) and
    # growth (small, loyal) counts as down or up in volume.
    "quadrant": tuple(
        str(key)
        for key in (
            Quadrant.CORE,
            Quadrant.RISK,
            Quadrant.GROWTH,
            Quadrant.MARGINAL,
            Quadrant.NOT_ACTIVE,
        )
    ),
}
DIMENSION_CHOICES = {
    "money_class": MoneyClass,
    "pyramid_class": PyramidClass,
    "quadrant": Quadrant,
}


def dimension_label(dimension: str) -> str:
    labels = {
        "money_class": _("Money class"),
        "pyramid_class": _("Pyramid class"),
        "quadrant": _("Value-matrix quadrant"),
    }
    return labels.get(dimension, dimension)


def default_snapshot_pair() -> tuple[ValueSnapshot, ValueSnapshot] | None:
    """The latest finished snapshot and the latest one of another period (or, when every
    snapshot is of one period, the one before it), the earlier period first; None when fewer
    than two snapshots finished."""
    finished = snapshot_choices()
    latest = finished.first()
    if latest is None:
        return None
    other = finished.exclude(period=latest.period).first() or finished.exclude(pk=latest.pk).first()
    if other is None:
        return None
    if (other.period_end, other.started_at) > (latest.period_end, latest.started_at):
        return latest, other
    return other, latest


def class_label(dimension: str, key: str) -> str:
    """A row's or column's name: the class, or “New” (not in A) / “Gone” (not in B)."""
    if key == NEW:
        return _("New")
    if key == GONE:
        return _("Gone")
    choices = DIMENSION_CHOICES[dimension]
    return str(dict(choices.choices).get(key, key))


def movement(*, order: Sequence[str], source: str, target: str) -> str:
    """UP, STAY or DOWN between two classes of `order` (best first); NEW or GONE otherwise."""
    if source == NEW:
        return NEW
    if target == GONE:
        return GONE
    before, after = _position(order, source), _position(order, target)
    if after < before:
        return UP
    return STAY if after == before else DOWN


def _position(order: Sequence[str], key: str) -> int:
    # An unknown class (a snapshot older than a class added later) ranks below the known ones.
    return order.index(key) if key in order else len(order)


# --- The pure computation -----------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    """One tally: how many customers went from `source` (a class of A, or NEW) to `target`
    (a class of B, or GONE), with their revenue in A and in B."""

    source: str
    target: str
    count: int
    revenue_from: Decimal = ZERO
    revenue_to: Decimal = ZERO


@dataclass(frozen=True)
class Cell:
    source: str
    target: str
    count: int
    revenue_from: Decimal
    revenue_to: Decimal
    movement: str

    @property
    def revenue(self) -> Decimal:
        """The revenue shown: in B; for the gone ones, in A."""
        return self.revenue_from if self.target == GONE else self.revenue_to


@dataclass(frozen=True)
class Line:
    """A row's or a column's totals."""

    key: str
    count: int
    revenue: Decimal


@dataclass(frozen=True)
class MovementFigures:
    key: str  # UP, STAY, DOWN, NEW, GONE
    count: int
    share: float | None  # UP/STAY/DOWN: of the customers in both; NEW/GONE: of all in the matrix
    revenue: Decimal  # in B (in A for GONE)


@dataclass(frozen=True)
class MigrationMatrix:
    dimension: str
    sources: tuple[str, ...]  # the rows: the classes of A (best first), then NEW
    targets: tuple[str, ...]  # the columns: the classes of B (best first), then GONE
    cells: dict[tuple[str, str], Cell]  # only the cells with customers
    rows: tuple[Line, ...]  # per source: customers and revenue (in A; in B for NEW)
    columns: tuple[Line, ...]  # per target: customers and revenue (in B; in A for GONE)
    movements: tuple[MovementFigures, ...]  # UP, STAY, DOWN, NEW, GONE
    total: int  # customers in A or in B
    in_both: int
    count_from: int  # customers in A
    count_to: int  # customers in B
    revenue_from: Decimal  # in A
    revenue_to: Decimal  # in B

    def cell(self, source: str, target: str) -> Cell | None:
        return self.cells.get((source, target))

    def movement(self, key: str) -> MovementFigures:
        return next(item for item in self.movements if item.key == key)


def migration_matrix(*, dimension: str, flows: Iterable[Flow]) -> MigrationMatrix:
    """The transition matrix of `flows` (several flows of the same cell are added up)."""
    if dimension not in DIMENSIONS:
        raise ValidationFailed(
            f"unknown dimension {dimension!r}: use one of {', '.join(DIMENSIONS)}",
            detail={"field": "dimension", "value": dimension},
        )
    order = DIMENSIONS[dimension]
    tallies: dict[tuple[str, str], list[Any]] = {}
    for flow in flows:
        if flow.source == NEW and flow.target == GONE:
            raise ValidationFailed("a customer cannot be both new and gone")
        if flow.count == 0:
            continue
        tally = tallies.setdefault((str(flow.source), str(flow.target)), [0, ZERO, ZERO])
        tally[0] += flow.count
        tally[1] += Decimal(flow.revenue_from).quantize(CENT)
        tally[2] += Decimal(flow.revenue_to).quantize(CENT)
    cells = {
        key: Cell(
            source=key[0],
            target=key[1],
            count=count,
            revenue_from=revenue_from,
            revenue_to=revenue_to,
            movement=movement(order=order, source=key[0], target=key[1]),
        )
        for key, (count, revenue_from, revenue_to) in tallies.items()
    }
    # Known classes always, in order; classes the order does not know (if any) after them.
    seen_sources = {source for source, _target in cells}
    seen_targets = {target for _source, target in cells}
    sources = (*order, *sorted(seen_sources - set(order) - {NEW}), NEW)
    targets = (*order, *sorted(seen_targets - set(order) - {GONE}), GONE)
    rows = tuple(
        Line(
            key=source,
            count=sum(cell.count for cell in cells.values() if cell.source == source),
            revenue=sum(
                (
                    cell.revenue_to if source == NEW else cell.revenue_from
                    for cell in cells.values()
                    if cell.source == source
                ),
                ZERO,
            ),
        )
        for source in sources
    )
    columns = tuple(
        Line(
            key=target,
            count=sum(cell.count for cell in cells.values() if cell.target == target),
            revenue=sum((cell.revenue for cell in cells.values() if cell.target == target), ZERO),
        )
        for target in targets
    )
    total = sum(cell.count for cell in cells.values())
    in_both = sum(cell.count for cell in cells.values() if cell.movement in (UP, STAY, DOWN))
    movements = []
    for key in (UP, STAY, DOWN, NEW, GONE):
        chosen = [cell for cell in cells.values() if cell.movement == key]
        count = sum(cell.count for cell in chosen)
        base = in_both if key in (UP, STAY, DOWN) else total
        movements.append(
            MovementFigures(
                key=key,
                count=count,
                share=count / base if base else None,
                revenue=sum((cell.revenue for cell in chosen), ZERO),
            )
        )
    return MigrationMatrix(
        dimension=dimension,
        sources=sources,
        targets=targets,
        cells=cells,
        rows=rows,
        columns=columns,
        movements=tuple(movements),
        total=total,
        in_both=in_both,
        count_from=sum(cell.count for cell in cells.values() if cell.source != NEW),
        count_to=sum(cell.count for cell in cells.values() if cell.target != GONE),
        revenue_from=sum(
            (cell.revenue_from for cell in cells.values() if cell.source != NEW), ZERO
        ),
        revenue_to=sum((cell.revenue_to for cell in cells.values() if cell.target != GONE), ZERO),
    )


# --- The reads ----------------------------------------------------------------------------------


def _check_dimension(dimension: str) -> None:
    if dimension not in DIMENSIONS:
        raise ValidationFailed(
            f"unknown dimension {dimension!r}: use one of {', '.join(DIMENSIONS)}",
            detail={"field": "dimension", "value": dimension},
        )


def _rows(
    *,
    user: User,
    snapshot: ValueSnapshot,
    region: OrgUnit | None,
    owner_id: int | None,
) -> QuerySet[CustomerValue]:
    rows = related_visible_to(user, CustomerValue.objects.filter(snapshot=snapshot))
    if region is not None:
        rows = rows.filter(customer__region__path__startswith=region.path)
    if owner_id is not None:
        rows = rows.filter(customer__owner_id=owner_id)
    return rows


def _arrivals(
    *, rows_to: QuerySet[CustomerValue], snapshot_from: ValueSnapshot, dimension: str
) -> QuerySet[CustomerValue]:
    """The rows of B, each with its class and revenue in A (NEW and 0 when not in A)."""
    previous = CustomerValue.objects.filter(
        snapshot=snapshot_from, customer_id=OuterRef("customer_id")
    )
    return rows_to.annotate(
        source_class=Coalesce(
            Subquery(previous.values(dimension)[:1]), Value(NEW), output_field=CharField()
        ),
        target_class=F(dimension),
        revenue_from=Coalesce(
            Subquery(previous.values("revenue")[:1]), Value(ZERO), output_field=MONEY
        ),
        revenue_to=F("revenue"),
    )


def _departures(
    *, rows_from: QuerySet[CustomerValue], snapshot_to: ValueSnapshot, dimension: str
) -> QuerySet[CustomerValue]:
    """The rows of A whose customer has no row in B: the gone ones."""
    later = CustomerValue.objects.filter(snapshot=snapshot_to, customer_id=OuterRef("customer_id"))
    return rows_from.filter(~Exists(later)).annotate(
        source_class=F(dimension),
        target_class=Value(GONE, output_field=CharField()),
        revenue_from=F("revenue"),
        revenue_to=Value(ZERO, output_field=MONEY),
    )


def class_migration(
    *,
    user: User,
    snapshot_from: ValueSnapshot,
    snapshot_to: ValueSnapshot,
    dimension: str,
    region: OrgUnit | None = None,
    owner_id: int | None = None,
) -> MigrationMatrix:
    """The transition matrix of `dimension` ("money_class" or "pyramid_class") from
    `snapshot_from` (A) to `snapshot_to` (B) over the customers `user` may see (of `region`'s
    subtree and of `owner_id`, when given). Two grouped queries, whatever the number of
    customers."""
    _check_dimension(dimension)
    rows_from = _rows(user=user, snapshot=snapshot_from, region=region, owner_id=owner_id)
    rows_to = _rows(user=user, snapshot=snapshot_to, region=region, owner_id=owner_id)
    arrivals = (
        _arrivals(rows_to=rows_to, snapshot_from=snapshot_from, dimension=dimension)
        .order_by()
        .values(*ANNOTATED_CLASSES)
        .annotate(count=Count("id"), sum_from=Sum("revenue_from"), sum_to=Sum("revenue_to"))
    )
    departures = (
        _departures(rows_from=rows_from, snapshot_to=snapshot_to, dimension=dimension)
        .order_by()
        .values(*ANNOTATED_CLASSES[:1])
        .annotate(count=Count("id"), sum_from=Sum("revenue"))
    )
    flows = [
        Flow(
            source=item["source_class"],
            target=item["target_class"],
            count=item["count"],
            revenue_from=item["sum_from"] or ZERO,
            revenue_to=item["sum_to"] or ZERO,
        )
        for item in arrivals
    ]
    flows += [
        Flow(
            source=item["source_class"],
            target=GONE,
            count=item["count"],
            revenue_from=item["sum_from"] or ZERO,
        )
        for item in departures
    ]
    return migration_matrix(dimension=dimension, flows=flows)


def class_migration_customers(
    *,
    user: User,
    snapshot_from: ValueSnapshot,
    snapshot_to: ValueSnapshot,
    dimension: str,
    source: str = "",
    target: str = "",
    region: OrgUnit | None = None,
    owner_id: int | None = None,
) -> list[QuerySet[CustomerValue]]:
    """The customers of one cell (`source` → `target`; empty means any), as querysets of rows
    annotated with `source_class`, `target_class`, `revenue_from` and `revenue_to`, largest
    revenue first: the rows of B (arrivals), then the gone rows of A. One queryset for one
    cell; two when `target` is empty."""
    _check_dimension(dimension)
    known = set(DIMENSIONS[dimension])
    if source and source not in known | {NEW}:
        raise ValidationFailed(
            f"unknown class {source!r}", detail={"field": "from_class", "value": source}
        )
    if target and target not in known | {GONE}:
        raise ValidationFailed(
            f"unknown class {target!r}", detail={"field": "to_class", "value": target}
        )
    querysets: list[QuerySet[CustomerValue]] = []
    if target != GONE:
        rows_to = _rows(user=user, snapshot=snapshot_to, region=region, owner_id=owner_id)
        arrivals = _arrivals(rows_to=rows_to, snapshot_from=snapshot_from, dimension=dimension)
        if target:
            arrivals = arrivals.filter(**{dimension: target})
        if source:
            arrivals = arrivals.filter(**{ANNOTATED_CLASSES[0]: source})
        querysets.append(arrivals.select_related("customer").order_by("-revenue", "customer__code"))
    if (not target or target == GONE) and source != NEW:
        rows_from = _rows(user=user, snapshot=snapshot_from, region=region, owner_id=owner_id)
        departures = _departures(rows_from=rows_from, snapshot_to=snapshot_to, dimension=dimension)
        if source:
            departures = departures.filter(**{dimension: source})
        querysets.append(
            departures.select_related("customer").order_by("-revenue", "customer__code")
        )
    return querysets
