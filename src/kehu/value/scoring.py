"""From the engine's per-customer aggregates to every figure and class of a snapshot (numpy).

Pure functions: no database. Money is whole cents (int64) until it is written. Definitions
(each is also in the snapshot's parameters, and in docs/adr/0004-analytics-engine.md):

- revenue = orders in a purchase state dated in the window − returns dated in the window;
  cost of goods likewise (order cost − returned cost); gross profit = revenue − cost of goods.
- cost to serve = activities (recorded cost, or the unit cost of the kind when recorded at 0;
  deliveries are the activities of kind "delivery", shown apart) + orders handled × unit cost +
  complaints × unit cost + returns × unit cost + receivable financing (average receivable over
  the window × cost of capital × window days / 365, i.e. Σ daily balance × rate / 365) + bad
  debts written off in the window (and not reversed by its end). net profit = gross − cost to serve.
- a purchase is a customer's orders of one day; purchase count = purchase days in the window.
- regularity (采购均衡性): CV = standard deviation / mean (population) of the gaps between
  purchase days, and of the purchase amounts; each mapped to an evenness 1 / (1 + CV) in (0, 1],
  1 = perfectly even. The score is the mean of the two; with two purchases the gap part is 0.5
  (one gap says nothing about evenness); with one purchase or none it is 0. An amount CV with a
  mean of 0 is undefined and counts 0.5.
- payment discipline, over the invoices due in the window, as of its end: on-time share = paid
  (allocations dated by the due date, not reversed) / invoiced; days beyond terms = amount-weighted
  mean of the days each paid part came after its due date, the still-unpaid part counting the days
  to the window's end. payment score = on-time share × max(0, 1 − days beyond / setting); a
  customer with no invoice due counts the setting `payment_score_without_invoices`.
- ranks and scores use a tie-aware position: a group of equal values sits at the mean of the
  positions it covers. Percentile p = (first + last + 1) / (2n) in (0, 1); quintile score
  = min(5, 1 + ⌊5p⌋). Equal values always get equal scores; everyone equal scores 3 (p = 0.5).
- pyramid: active customers (a purchase day in the window) ranked by the measure, descending,
  ties by customer id ascending; the first round-half-up(n × 1%) are VIP, up to
  round-half-up(n × 5%) major, up to round-half-up(n × 20%) ordinary, the rest small.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pyarrow as pa

from kehu.value.settings import ACTIVITY_KINDS

RFM_SEGMENTS = {
    # R: FM 1 … 5
    5: ("new", "potential_loyalist", "potential_loyalist", "champions", "champions"),
    4: ("promising", "potential_loyalist", "potential_loyalist", "loyal", "champions"),
    3: ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"),
    1: ("lost", "lost", "at_risk", "cannot_lose", "cannot_lose"),
}


@dataclass
class Scored:
    customer_ids: np.ndarray
    columns: dict[str, np.ndarray]  # per-customer arrays (cents int64, floats with NaN=null)
    activity_costs: list[dict[str, int]]  # cents per kind, only non-zero kinds
    active_count: int
    pyramid_counts: dict[str, int]


def _cents(amount: Any) -> int:
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _div_round(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """numerator / denominator rounded half away from zero, in integers."""
    sign = np.where(numerator < 0, -1, 1)
    return sign * ((2 * np.abs(numerator) + denominator) // (2 * denominator))


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def tie_positions(values: np.ndarray) -> np.ndarray:
    """Tie-aware percentile (first + last + 1) / (2n) of each value among `values`."""
    n = len(values)
    if n == 0:
        return np.zeros(0)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    _unique, first, counts = np.unique(ordered, return_index=True, return_counts=True)
    last = first + counts - 1
    group = np.repeat(np.arange(len(first)), counts)
    position = np.empty(n)
    position[order] = (first[group] + last[group] + 1) / (2 * n)
    return position


def quintiles(values: np.ndarray) -> np.ndarray:
    """Quintile scores 1–5 with ties sharing the score of their mean position (exact)."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    _unique, first, counts = np.unique(ordered, return_index=True, return_counts=True)
    last = first + counts - 1
    group = np.repeat(np.arange(len(first)), counts)
    scores = np.empty(n, dtype=np.int64)
    scores[order] = np.minimum(5, 1 + (5 * (first[group] + last[group] + 1)) // (2 * n))
    return scores


def pyramid_cuts(n: int, shares: dict[str, Any]) -> tuple[int, int, int]:
    """Cumulative counts of VIP, VIP+major, VIP+major+ordinary among n active customers."""
    vip = Decimal(str(shares["vip"]))
    major = vip + Decimal(str(shares["major"]))
    ordinary = major + Decimal(str(shares["ordinary"]))
    return (
        round_half_up(n * vip),
        round_half_up(n * major),
        round_half_up(n * ordinary),
    )


def _spread(ids: np.ndarray, table: pa.Table, column: str, default: float = 0) -> np.ndarray:
    values = table[column].to_numpy(zero_copy_only=False)
    dtype = np.float64 if values.dtype.kind == "f" else np.int64
    out = np.full(len(ids), default, dtype=dtype)
    if table.num_rows:
        out[np.searchsorted(ids, table["customer_id"].to_numpy())] = values
    return out


def _weighted(scores: dict[str, np.ndarray], weights: dict[str, Any]) -> np.ndarray:
    total = sum(float(Decimal(str(weight))) for weight in weights.values())
    result = np.zeros_like(next(iter(scores.values())), dtype=np.float64)
    for name, weight in weights.items():
        result += float(Decimal(str(weight))) * scores[name]
    return result / total


def score(
    results: dict[str, pa.Table],
    *,
    values: dict[str, Any],
    measure: str,
    ws: int,
    we: int,
    assessments: dict[int, tuple[int, int, int]],
) -> Scored:
    ids = np.sort(results["customers"]["customer_id"].to_numpy())
    n = len(ids)
    unit = values["unit_costs"]
    cols: dict[str, np.ndarray] = {}

    def spread(name: str, column: str, default: float = 0) -> np.ndarray:
        return _spread(ids, results[name], column, default)

    # --- money
    order_amount = spread("orders", "order_amount")
    order_cost = spread("orders", "order_cost")
    order_count = spread("orders", "order_count")
    return_amount = spread("returns", "return_amount")
    return_cost = spread("returns", "return_cost")
    return_count = spread("returns", "return_count")
    complaint_count = spread("complaints", "complaint_count")
    revenue = order_amount - return_amount
    cost_of_goods = order_cost - return_cost
    gross = revenue - cost_of_goods

    activities = results["activities"]
    cost_activities = np.zeros(n, dtype=np.int64)
    cost_deliveries = np.zeros(n, dtype=np.int64)
    activity_count = np.zeros(n, dtype=np.int64)
    activity_costs: list[dict[str, int]] = [{} for _ in range(n)]
    if activities.num_rows:
        where = np.searchsorted(ids, activities["customer_id"].to_numpy())
        kinds = activities["kind"].to_pylist()
        unit_cents = {kind: _cents(unit["activity"][kind]) for kind in ACTIVITY_KINDS}
        uncosted = activities["uncosted_count"].to_numpy()
        recorded = activities["recorded_cost"].to_numpy()
        counts = activities["activity_count"].to_numpy()
        per_kind = recorded + uncosted * np.array(
            [unit_cents.get(kind, unit_cents["other"]) for kind in kinds], dtype=np.int64
        )
        is_delivery = np.array([kind == "delivery" for kind in kinds], dtype=bool)
        np.add.at(cost_deliveries, where[is_delivery], per_kind[is_delivery])
        np.add.at(cost_activities, where[~is_delivery], per_kind[~is_delivery])
        np.add.at(activity_count, where, counts)
        for index, kind, cents in zip(where.tolist(), kinds, per_kind.tolist(), strict=True):
            if cents:
                activity_costs[index][kind] = cents

    cost_orders = order_count * _cents(unit["order_handled"])
    cost_complaints = complaint_count * _cents(unit["complaint"])
    cost_returns = return_count * _cents(unit["return"])
    cent_days = spread("financing", "receivable_cent_days")
    window_days = we - ws + 1
    rate_num, rate_den = Decimal(str(values["cost_of_capital"])).as_integer_ratio()
    cost_financing = _div_round(cent_days * rate_num, rate_den * 365)
    average_receivable = _div_round(cent_days, window_days)
    cost_bad_debts = spread("bad_debts", "bad_debt")
    cost_to_serve = (
        cost_activities
        + cost_deliveries
        + cost_orders
        + cost_complaints
        + cost_returns
        + cost_financing
        + cost_bad_debts
    )
    net = gross - cost_to_serve
    cols.update(
        revenue=revenue,
        cost_of_goods=cost_of_goods,
        gross_profit=gross,
        cost_activities=cost_activities,
        cost_deliveries=cost_deliveries,
        cost_orders=cost_orders,
        cost_complaints=cost_complaints,
        cost_returns=cost_returns,
        cost_financing=cost_financing,
        cost_bad_debts=cost_bad_debts,
        cost_to_serve=cost_to_serve,
        net_profit=net,
        average_receivable=average_receivable,
        order_count=order_count,
        return_count=return_count,
        complaint_count=complaint_count,
        activity_count=activity_count,
    )

    # --- purchases, recency, tenure
    has_history = np.zeros(n, dtype=bool)
    if results["history"].num_rows:
        has_history[np.searchsorted(ids, results["history"]["customer_id"].to_numpy())] = True
    first_day = spread("history", "first_day")
    last_day = spread("history", "last_day")
    recency = np.where(has_history, we - last_day, -1)
    tenure = np.where(has_history, we - first_day, -1)
    purchases = spread("regularity", "purchase_count")
    active = purchases > 0
    cols.update(purchase_count=purchases, recency_days=recency, tenure_days=tenure)

    # --- regularity
    with np.errstate(divide="ignore", invalid="ignore"):
        amount_sum = spread("regularity", "amount_sum").astype(np.float64)
        amount_squares = spread("regularity", "amount_squares").astype(np.float64)
        k = purchases.astype(np.float64)
        amount_mean = amount_sum / k
        amount_var = np.maximum(amount_squares / k - amount_mean**2, 0)
        amount_cv = np.where(
            (purchases >= 2) & (amount_mean != 0), np.sqrt(amount_var) / np.abs(amount_mean), np.nan
        )
        gap_count = spread("regularity", "gap_count")
        gap_sum = spread("regularity", "gap_sum").astype(np.float64)
        gap_squares = spread("regularity", "gap_squares").astype(np.float64)
        gap_mean = gap_sum / gap_count
        gap_var = np.maximum(gap_squares / gap_count - gap_mean**2, 0)
        gap_cv = np.where(gap_count >= 2, np.sqrt(gap_var) / gap_mean, np.nan)
    amount_even = np.where(np.isnan(amount_cv), 0.5, 1 / (1 + np.nan_to_num(amount_cv)))
    gap_even = np.where(np.isnan(gap_cv), 0.5, 1 / (1 + np.nan_to_num(gap_cv)))
    regularity = np.where(purchases >= 2, (amount_even + gap_even) / 2, 0.0)
    cols.update(interval_variation=gap_cv, amount_variation=amount_cv, regularity_score=regularity)

    # --- payment discipline
    invoiced = spread("payment", "invoiced")
    paid_on_time = spread("payment", "paid_on_time")
    late_weight = spread("payment", "late_weight")
    late_cent_days = spread("payment", "late_cent_days")
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(invoiced > 0, paid_on_time / invoiced, np.nan)
        days_late = np.where(
            invoiced > 0, np.where(late_weight > 0, late_cent_days / late_weight, 0.0), np.nan
        )
    zero_after = float(values["payment_days_late_to_zero"])
    payment_score = np.where(
        invoiced > 0,
        np.nan_to_num(share) * np.maximum(0, 1 - np.nan_to_num(days_late) / zero_after),
        float(values["payment_score_without_invoices"]),
    )
    cols.update(paid_on_time_share=share, days_beyond_terms=days_late, payment_score=payment_score)

    # --- loyalty
    tenure_score = np.where(
        has_history, np.minimum(1.0, tenure / float(values["tenure_full_days"])), 0.0
    )
    repeat_full = float(values["window_months"]) * float(Decimal(values["repeat_full_per_month"]))
    repeat_score = np.minimum(1.0, purchases / repeat_full)
    loyalty = _weighted(
        {
            "tenure": tenure_score,
            "repeat": repeat_score,
            "regularity": regularity,
            "payment": payment_score,
        },
        values["loyalty_weights"],
    )
    loyalty = np.where(has_history, loyalty, 0.0)
    cols["loyalty_score"] = loyalty

    # --- RFM among customers who ever bought (by the period's end)
    recency_score = np.zeros(n, dtype=np.int64)
    frequency_score = np.zeros(n, dtype=np.int64)
    monetary_score = np.zeros(n, dtype=np.int64)
    segment = np.full(n, "", dtype=object)
    bought = np.flatnonzero(has_history)
    if len(bought):
        recency_score[bought] = quintiles(-recency[bought])
        frequency_score[bought] = quintiles(purchases[bought])
        monetary_score[bought] = quintiles(revenue[bought])
        fm = (frequency_score[bought] + monetary_score[bought] + 1) // 2
        segment[bought] = [
            RFM_SEGMENTS[r][f - 1]
            for r, f in zip(recency_score[bought].tolist(), fm.tolist(), strict=True)
        ]
    cols.update(
        recency_score=recency_score,
        frequency_score=frequency_score,
        monetary_score=monetary_score,
        rfm_segment=segment,
    )

    # --- pyramid among active customers
    value = gross if measure == "gross_profit" else revenue
    pyramid = np.where(has_history, "inactive", "prospect").astype(object)
    rank = np.full(n, -1, dtype=np.int64)
    rank_of = np.full(n, -1, dtype=np.int64)
    active_index = np.flatnonzero(active)
    m = len(active_index)
    cuts = pyramid_cuts(m, values["pyramid"])
    if m:
        ordered = active_index[np.lexsort((ids[active_index], -value[active_index]))]
        rank[ordered] = np.arange(1, m + 1)
        rank_of[ordered] = m
        position = np.arange(m)
        pyramid[ordered] = np.select(
            [position < cuts[0], position < cuts[1], position < cuts[2]],
            ["vip", "major", "ordinary"],
            "small",
        )
    cols.update(pyramid_class=pyramid, rank=rank, rank_of=rank_of)

    # --- money class, value matrix and seven-factor score among active customers
    money_score = np.zeros(n)
    money_class = np.full(n, "not_active", dtype=object)
    quadrant = np.full(n, "not_active", dtype=object)
    seven = np.zeros(n)
    if m:
        a = active_index
        with np.errstate(divide="ignore", invalid="ignore"):
            margin = np.where(revenue[a] > 0, gross[a] / revenue[a], -np.inf)
        volume_position = tie_positions(revenue[a])
        money_score[a] = _weighted(
            {
                "frequency": tie_positions(purchases[a]),
                "volume": volume_position,
                "margin": tie_positions(margin),
                "loyalty": loyalty[a],
                "payment": payment_score[a],
            },
            values["money_weights"],
        )
        money_class[a] = np.where(
            money_score[a] >= float(Decimal(str(values["money_threshold"]))),
            "with_money",
            "short_of_money",
        )
        threshold_setting = values["matrix_volume_threshold"]
        volume_threshold = (
            float(np.median(revenue[a]))
            if threshold_setting == "median"
            else float(_cents(threshold_setting))
        )
        large = revenue[a] > volume_threshold
        loyal = loyalty[a] >= float(Decimal(str(values["matrix_loyalty_threshold"])))
        quadrant[a] = np.select(
            [large & loyal, large & ~loyal, ~large & loyal], ["core", "risk", "growth"], "marginal"
        )
        missing = float(Decimal(str(values["seven_factor_missing_assessment"])))
        human = np.full((m, 3), missing)
        for row, customer_id in enumerate(ids[a].tolist()):
            if customer_id in assessments:
                human[row] = assessments[customer_id]
        seven[a] = 100 * _weighted(
            {
                "volume": volume_position,
                "regularity": regularity[a],
                "profit": tie_positions(gross[a]),
                "loyalty": loyalty[a],
                "feedback": human[:, 0] / 5,
                "influence": human[:, 1] / 5,
                "potential": human[:, 2] / 5,
            },
            values["seven_factor_weights"],
        )
        cols["matrix_volume_threshold_cents"] = np.array([volume_threshold])
    cols.update(
        money_score=money_score,
        money_class=money_class,
        quadrant=quadrant,
        seven_factor_score=seven,
    )
    counts = {
        "vip": cuts[0],
        "major": cuts[1] - cuts[0],
        "ordinary": cuts[2] - cuts[1],
        "small": m - cuts[2],
        "inactive": int(np.sum(has_history & ~active)),
        "prospect": int(np.sum(~has_history)),
    }
    return Scored(ids, cols, activity_costs, m, counts)
