"""The class migration between two value snapshots (domain §4.3): the transition matrix of the
money class, the pyramid class or the value-matrix quadrant over the customers the caller may
see, with the movements up, down, new and gone. Without `from` and `to`, the latest finished
snapshot and the latest one of another period."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from kehu.accounts.models import OrgUnit, User
from kehu.core.errors import NotFound, ValidationFailed
from kehu.core.schemas import MAX_ID, MoneyOut, error_responses
from kehu.value.migration import (
    DIMENSIONS,
    class_label,
    class_migration,
    default_snapshot_pair,
)
from kehu.value.report_figures import snapshot_choices
from kehu.value.schemas import SnapshotOut

router = Router(tags=["value"])


class MigrationQuery(Schema):
    snapshot_from: int | None = Field(
        None, ge=1, le=MAX_ID, alias="from", description="the earlier snapshot's id"
    )
    snapshot_to: int | None = Field(
        None, ge=1, le=MAX_ID, alias="to", description="the later snapshot's id"
    )
    dimension: str = Field(
        "money_class",
        pattern="^(money_class|pyramid_class|quadrant)$",
        description="money_class, pyramid_class or quadrant",
    )
    region: int | None = Field(
        None, ge=1, le=MAX_ID, description="the customers' region (org unit), with its subtree"
    )
    owner: int | None = Field(None, ge=1, le=MAX_ID, description="the customers' owner rep")


class MigrationCellOut(Schema):
    source: str = Field(description="the class in the earlier snapshot, or 'new'")
    target: str = Field(description="the class in the later snapshot, or 'gone'")
    count: int
    revenue_from: MoneyOut
    revenue_to: MoneyOut
    movement: str = Field(description="up, stay, down, new or gone")


class MigrationLineOut(Schema):
    key: str
    label: str
    count: int
    revenue: MoneyOut


class MovementOut(Schema):
    key: str
    count: int
    share: float | None
    revenue: MoneyOut


class MigrationOut(Schema):
    snapshot_from: SnapshotOut
    snapshot_to: SnapshotOut
    dimension: str
    rows: list[MigrationLineOut]
    columns: list[MigrationLineOut]
    cells: list[MigrationCellOut]
    movements: list[MovementOut]
    total: int
    in_both: int
    revenue_from: MoneyOut
    revenue_to: MoneyOut


def _line(dimension: str, key: str, count: int, revenue: Decimal) -> dict[str, object]:
    return {"key": key, "label": class_label(dimension, key), "count": count, "revenue": revenue}


@router.get(
    "/value/migration",
    response={200: MigrationOut, **error_responses(404, 422)},
    summary="Who moved between classes from one snapshot to another (the transition matrix)",
)
def migration_get(request: HttpRequest, query: Query[MigrationQuery]) -> object:
    user: User = request.user  # type: ignore[assignment]
    if (query.snapshot_from is None) != (query.snapshot_to is None):
        raise ValidationFailed("give both from and to, or neither", detail={"field": "from"})
    if query.snapshot_from is not None and query.snapshot_to is not None:
        pair = []
        for number in (query.snapshot_from, query.snapshot_to):
            found = snapshot_choices().filter(pk=number).first()
            if found is None:
                raise NotFound(f"value snapshot {number} does not exist or did not finish")
            pair.append(found)
        snapshot_from, snapshot_to = pair
    else:
        default = default_snapshot_pair()
        if default is None:
            raise NotFound("two finished value snapshots are needed: run `kehu analyze` twice")
        snapshot_from, snapshot_to = default
    region = None
    if query.region is not None:
        region = OrgUnit.objects.filter(pk=query.region).first()
        if region is None:
            raise NotFound(f"org unit {query.region} not found")
    assert query.dimension in DIMENSIONS
    matrix = class_migration(
        user=user,
        snapshot_from=snapshot_from,
        snapshot_to=snapshot_to,
        dimension=query.dimension,
        region=region,
        owner_id=query.owner,
    )
    return {
        "snapshot_from": snapshot_from,
        "snapshot_to": snapshot_to,
        "dimension": matrix.dimension,
        "rows": [
            _line(matrix.dimension, line.key, line.count, line.revenue) for line in matrix.rows
        ],
        "columns": [
            _line(matrix.dimension, line.key, line.count, line.revenue) for line in matrix.columns
        ],
        "cells": [cell.__dict__ for cell in matrix.cells.values()],
        "movements": [item.__dict__ for item in matrix.movements],
        "total": matrix.total,
        "in_both": matrix.in_both,
        "revenue_from": matrix.revenue_from,
        "revenue_to": matrix.revenue_to,
    }
