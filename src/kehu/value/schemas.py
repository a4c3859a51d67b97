"""API schemas of the value reports."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from kehu.core.schemas import MAX_ID, Id, InputSchema, MoneyOut, Text


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


# --- The segment worksheet (§4.7) ---------------------------------------------------------------


class SegmentsQuery(SnapshotQuery):
    period: str | None = Field(
        None,
        max_length=10,
        pattern=r"^\d{4}(Q[1-4]|-\d{2})?$",
        description="the newest finished snapshot of this period (2025, 2025Q4, 2025-11)",
    )
    line: int | None = Field(None, ge=1, le=MAX_ID, description="one product line (category id)")
    q: str | None = Field(None, max_length=100, description="search in customer code or name")
    sort: str | None = Field(
        None,
        pattern="^-?(code|name|line_revenue|line_gross_profit|net_profit)$",
        description="reorder the listed customers: a column, '-' for descending",
    )


class SegmentReasonOut(Schema):
    key: str = Field(description="loss, below_cost, late, complaints or returns")
    text: str


class SegmentCustomerOut(Schema):
    customer_id: int
    code: str
    name: str
    line_revenue: MoneyOut = Field(description="in the line over the window, less returns")
    line_gross_profit: MoneyOut
    line_share: float | None = Field(description="of the line's gross profit")
    line_margin: float | None
    revenue: MoneyOut = Field(description="the snapshot's, every line")
    gross_profit: MoneyOut
    cost_to_serve: MoneyOut
    net_profit: MoneyOut
    complaint_count: int
    return_count: int
    paid_on_time_share: float | None
    days_beyond_terms: float | None
    pyramid_class: str
    quadrant: str
    standing: str = Field(description="best, worst, or empty (neither)")
    reasons: list[SegmentReasonOut] = Field(description="why among the worst")
    evidence: list[str] = Field(description="why among the best")
    suggestion_key: str
    suggestion: str = Field(description="a suggested next action the user may take over")


class SegmentActionOut(Schema):
    id: int
    line_id: int = Field(alias="category_id")
    customer_id: int | None
    text: str
    reason: str
    owner_id: int
    due_on: dt.date
    status: str
    recorded_by_id: int
    recorded_at: dt.datetime
    done_by_id: int | None
    done_at: dt.datetime | None


class SegmentOut(Schema):
    line_id: int
    code: str
    name: str
    customer_count: int = Field(description="customers the caller sees who bought in the line")
    revenue: MoneyOut
    gross_profit: MoneyOut
    best: list[SegmentCustomerOut]
    worst: list[SegmentCustomerOut]
    worst_total: int = Field(
        description="customers with a reason, of which `worst` lists the first"
    )
    suggestion: str
    actions: list[SegmentActionOut] = Field(description="the open next actions")
    matches: list[SegmentCustomerOut] = Field(description="with q: the matching customers")


class SegmentSettingsOut(Schema):
    top_n: int
    complaints_per_100k: float
    returns_per_100k: float
    late_days: float


class SegmentsOut(Schema):
    snapshot: SnapshotOut
    settings: SegmentSettingsOut
    segments: list[SegmentOut]


class SegmentActionIn(InputSchema):
    line: Id = Field(description="the product line (category id)")
    customer: Id | None = Field(None, description="one customer of the line; default: the line")
    text: Text = Field(max_length=500, description="what is to be done")
    owner: Id = Field(description="who does it (user id)")
    due_on: dt.date = Field(description="by when, today or later (YYYY-MM-DD)")
    reason: str = Field(
        "",
        pattern="^(|best|loss|below_cost|late|complaints|returns)$",
        description="the suggestion it was taken over from, if any",
    )


# --- Lifetime value (§4.6) ----------------------------------------------------------------------


class LifetimeQuery(SnapshotQuery):
    retention_change: float | None = Field(
        None,
        ge=-50,
        le=50,
        description="the what-if: a change in yearly retention, in percentage points "
        "(e.g. 5 or -2.5); default: none",
    )


class LifetimeParameterOut(Schema):
    name: str
    value: float
    standard_error: float | None = Field(description="null when kept from an earlier snapshot")


class HoldoutGroupOut(Schema):
    frequency: str = Field(description="repeat purchases in the calibration period (7+: more)")
    customers: int
    actual: float = Field(description="mean repeat purchases per customer in the holdout weeks")
    predicted: float


class LifetimeModelOut(Schema):
    key: str = Field(description="bgnbd, mbgnbd or pareto_nbd")
    label: str
    is_in_use: bool = Field(description="the model of the value settings, used for the values")
    converged: bool
    message: str
    log_likelihood: float | None = Field(description="on the calibration period")
    aic: float | None
    bic: float | None
    parameters: dict[str, float] = Field(description="fitted on the calibration period; days")
    holdout_customer_rmse: float | None
    holdout_group_mae: float | None
    tracking_holdout_mape: float | None
    holdout_actual_total: float | None
    holdout_predicted_total: float | None
    groups: list[HoldoutGroupOut]
    cumulative_predicted: list[float] = Field(description="at the dates of holdout.dates")


class HoldoutOut(Schema):
    calibration_end: dt.date | None
    holdout_end: dt.date | None
    weeks: int
    skipped: str | None = Field(description="why the check was not made; null when it was")
    dates: list[dt.date]
    cumulative_actual: list[float] = Field(description="repeat purchases of the cohort so far")


class RetentionWhatIfOut(Schema):
    change_points: float
    retention: float = Field(description="the yearly retention the model implies")
    retention_with: float
    value_without: MoneyOut
    value_with: MoneyOut
    difference: MoneyOut
    relative_change: float | None


class LifetimeOut(Schema):
    snapshot: SnapshotOut
    has_figures: bool = Field(description="false for snapshots computed before lifetime value")
    is_estimated: bool = Field(description="false when the models could not be fitted")
    message: str
    model: str
    model_label: str
    model_source: str = Field(description="'fit', or the snapshot whose model was kept")
    purchase_parameters: list[LifetimeParameterOut]
    purchase_log_likelihood: float | None
    spend_parameters: list[LifetimeParameterOut]
    horizon_years: int
    discount_rate: float
    holdout_weeks: int
    customers: int = Field(description="customers who had bought by the period end")
    repeat_customers: int
    customers_valued: int
    total_value: MoneyOut | None = Field(description="company-wide")
    average_value: MoneyOut | None
    expected_purchases: float | None = Field(description="over the next 12 months, all")
    likely_lost: int | None = Field(description="customers with P(alive) below 0.5")
    visible_count: int = Field(description="customers with a lifetime value the caller sees")
    visible_value: MoneyOut | None
    retention_implied: float | None
    retention: RetentionWhatIfOut | None
    models: list[LifetimeModelOut]
    holdout: HoldoutOut


class LifetimeCustomersQuery(SnapshotQuery):
    pyramid_class: str | None = Field(
        None,
        pattern="^(vip|major|ordinary|small|inactive|prospect)$",
        description="only customers of this pyramid class",
    )
    band: str | None = Field(
        None,
        pattern="^(lost|at_risk|alive|none)$",
        description="P(alive): lost < 0.5 ≤ at_risk < 0.8 ≤ alive; none: not estimated",
    )
    q: str | None = Field(None, max_length=100, description="search in customer code or name")
    sort: str = Field(
        "-lifetime_value",
        pattern="^-?(code|name|class|lifetime_value|probability_alive|expected_purchases"
        "|expected_spend)$",
        description="a column, '-' for descending; customers without figures come last",
    )
    limit: int = Field(50, ge=0, le=500, description="how many customers to list")
    offset: int = Field(0, ge=0, le=10_000_000)


class LifetimeCustomerOut(Schema):
    customer_id: int
    code: str
    name: str
    pyramid_class: str
    lifetime_value: MoneyOut | None
    probability_alive: float | None
    expected_purchases: float | None = Field(description="over the next 12 months")
    expected_spend: MoneyOut | None = Field(description="per purchase")


class LifetimeCustomersOut(Schema):
    snapshot: SnapshotOut
    total: int = Field(description="customers of the list before limit and offset")
    customers: list[LifetimeCustomerOut]
