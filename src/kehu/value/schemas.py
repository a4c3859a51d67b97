"""API schemas of the value reports."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from kehu.core.schemas import MAX_ID, MoneyOut


class SnapshotQuery(Schema):
    snapshot: int | None = Field(
        None, ge=1, le=MAX_ID, description="the snapshot's id; default: the latest finished one"
    )


class ConcentrationQuery(SnapshotQuery):
    measure: str | None = Field(
        None,
        pattern="^(revenue|gross_profit|net_profit)$",
        description="revenue, gross_profit or net_profit; default: the snapshot's measure",
    )


class SnapshotOut(Schema):
    id: int
    period: str
    window_start: dt.date
    window_end: dt.date
    measure: str
    status: str
    finished_at: dt.datetime | None
    customer_count: int
    active_count: int


class PyramidClassOut(Schema):
    key: str
    label: str
    is_active: bool = Field(description="false for inactive customers and prospects")
    count: int = Field(description="customers of the class, company-wide")
    customer_share: float | None = Field(description="of all customers in the snapshot")
    value: MoneyOut = Field(description="the class's total of the snapshot's measure")
    value_share: float | None = Field(description="of the total; null when it is not positive")
    visible_count: int = Field(description="of these, the customers the caller may see")


class PyramidOut(Schema):
    snapshot: SnapshotOut
    measure: str
    customer_count: int
    visible_count: int
    total_value: MoneyOut
    classes: list[PyramidClassOut]


class WhaleOut(Schema):
    peak: MoneyOut
    peak_customers: int = Field(description="how many of the most profitable customers make it")
    peak_position: float | None = Field(description="peak_customers / count")
    peak_share: float | None = Field(description="peak / total profit; null when not positive")
    tail_loss: MoneyOut = Field(description="peak − total: what the customers after it lose")
    total: MoneyOut


class ShareStepOut(Schema):
    customers: float = Field(description="the top share of customers, most valuable first")
    customer_count: int
    value_share: float | None
    cumulative: MoneyOut = Field(description="their total, losses included")


class ConcentrationOut(Schema):
    snapshot: SnapshotOut
    measure: str
    count: int = Field(description="customers counted: active, or with a non-zero measure")
    total: MoneyOut = Field(description="the total of the values above zero")
    top_fraction: float
    top_share: float | None
    target: float
    customers_for_target: float | None
    gini: float | None
    whale: WhaleOut | None = Field(description="for gross_profit and net_profit")
    steps: list[ShareStepOut]
