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


class ReportFilterQuery(SnapshotQuery):
    region: int | None = Field(
        None, ge=1, le=MAX_ID, description="the customers' region (org unit)"
    )
    owner: int | None = Field(None, ge=1, le=MAX_ID, description="the customers' owner rep")
    kind: str | None = Field(
        None, pattern="^(business|consumer)$", description="business or consumer"
    )
    q: str | None = Field(None, max_length=100, description="search in customer code or name")
    limit: int = Field(50, ge=0, le=500, description="how many customers to list")
    offset: int = Field(0, ge=0, le=10_000_000)


class MatrixQuery(ReportFilterQuery):
    quadrant: str | None = Field(
        None,
        pattern="^(core|risk|growth|marginal|not_active)$",
        description="list the customers of one quadrant; default: every quadrant",
    )
    sort: str = Field(
        "-revenue",
        pattern="^-?(code|name|revenue|loyalty|gross_profit|net_profit)$",
        description="a column, '-' for descending",
    )


class QuadrantOut(Schema):
    key: str = Field(description="core, risk, growth, marginal, or not_active (outside it)")
    label: str
    advice: str = Field(description="what the domain says to do with these customers")
    count: int
    customer_share: float | None = Field(description="of the active customers counted")
    revenue: MoneyOut
    revenue_share: float | None
    gross_profit: MoneyOut
    net_profit: MoneyOut


class MatrixCustomerOut(Schema):
    customer_id: int
    code: str
    name: str
    quadrant: str
    revenue: MoneyOut
    loyalty_score: float
    gross_profit: MoneyOut
    net_profit: MoneyOut


class MatrixOut(Schema):
    snapshot: SnapshotOut
    volume_threshold: MoneyOut | None = Field(
        description="revenue in the window above which volume is large; null when none active"
    )
    volume_threshold_setting: str = Field(description="'median' or the amount that was set")
    loyalty_threshold: float = Field(description="loyalty score at and above which it is loyal")
    customer_count: int = Field(description="customers the caller sees that match the filter")
    active_count: int
    total_revenue: MoneyOut
    quadrants: list[QuadrantOut]
    customers_total: int = Field(description="customers of the list before limit and offset")
    customers: list[MatrixCustomerOut]


class ProfitabilityQuery(ReportFilterQuery):
    only_losses: bool = Field(True, description="only customers with a net profit below zero")
    sort: str = Field(
        "net_profit",
        pattern="^-?(net_profit|code|name|revenue|gross_profit|cost_to_serve)$",
        description="a column, '-' for descending; default: worst net profit first",
    )


class CostComponentOut(Schema):
    key: str
    label: str
    amount: MoneyOut


class ProfitabilityCustomerOut(Schema):
    customer_id: int
    code: str
    name: str
    revenue: MoneyOut
    cost_of_goods: MoneyOut
    gross_profit: MoneyOut
    cost_orders: MoneyOut
    cost_deliveries: MoneyOut
    cost_activities: MoneyOut
    cost_complaints: MoneyOut
    cost_returns: MoneyOut
    cost_financing: MoneyOut
    cost_bad_debts: MoneyOut
    cost_to_serve: MoneyOut
    net_profit: MoneyOut
    reason: str = Field(description="why it loses money; empty when it does not")


class ProfitabilityOut(Schema):
    snapshot: SnapshotOut
    customer_count: int = Field(description="customers the caller sees that match the filter")
    total_revenue: MoneyOut
    total_cost_to_serve: MoneyOut
    total_net_profit: MoneyOut
    loss_count: int = Field(description="customers with a net profit below zero")
    loss_total: MoneyOut = Field(description="their net profit together (negative)")
    loss_revenue: MoneyOut
    loss_revenue_share: float | None = Field(description="of the revenue of the customers counted")
    loss_cost_to_serve: MoneyOut
    loss_components: list[CostComponentOut] = Field(
        description="the loss-makers' cost to serve by component"
    )
    customers_total: int = Field(description="customers of the list before limit and offset")
    customers: list[ProfitabilityCustomerOut]
