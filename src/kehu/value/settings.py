"""The value settings: every cut point, window, weight and unit cost of domain §4, with defaults.

The defaults live here; a company's changes are stored as versions of `ValueSettings` (see
services.value_settings_update) and merged over these defaults. A snapshot copies the whole
merged dict into its `parameters`, so any past snapshot can be explained by what it used.

Money is given as a string of yuan ("30.00") and read as Decimal; shares and weights as
numbers. Every key is checked by `validate_settings`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kehu.core.errors import ValidationFailed
from kehu.core.layered_settings import merge as layered_merge
from kehu.core.layered_settings import setting_number

MEASURES = ("gross_profit", "revenue")

ACTIVITY_KINDS = (
    "visit",
    "call",
    "delivery",
    "service_job",
    "email",
    "meeting",
    "greeting",
    "other",
)

DEFAULTS: dict[str, Any] = {
    # The trailing window the money figures are summed over, ending on the period's last day.
    "window_months": 12,
    # What the pyramid ranks by (§4.1): gross_profit or revenue.
    "measure": "gross_profit",
    # Pyramid shares from the top, among active customers (§4.1).
    "pyramid": {"vip": "0.01", "major": "0.04", "ordinary": "0.15"},
    # Cost to serve (§4.5). An activity with a recorded cost counts at that cost; one recorded
    # at 0 counts at the unit cost of its kind.
    "unit_costs": {
        "activity": {
            "visit": "200.00",
            "call": "10.00",
            "delivery": "80.00",
            "service_job": "300.00",
            "email": "2.00",
            "meeting": "150.00",
            "greeting": "5.00",
            "other": "20.00",
        },
        "order_handled": "30.00",
        "complaint": "150.00",
        "return": "100.00",
    },
    # Yearly cost of capital for the receivable financing cost (average receivable × rate × time).
    "cost_of_capital": "0.08",
    # Payment score: on-time share × (1 − average days late / this), floored at 0.
    "payment_days_late_to_zero": 90,
    # Payment score of a customer with no invoice due in the window (cash buyers pay at once).
    "payment_score_without_invoices": "1.0",
    # Loyalty (§4.4): weighted mean of four 0–1 scores.
    "loyalty_weights": {
        "tenure": "0.25",
        "repeat": "0.25",
        "regularity": "0.25",
        "payment": "0.25",
    },
    # Tenure that counts as fully loyal (days since the first purchase).
    "tenure_full_days": 1095,
    # Purchases per month that count as a repeat rate of 1.
    "repeat_full_per_month": "1",
    # Value matrix (§4.4): volume threshold "median" (of active customers' revenue) or an amount.
    "matrix_volume_threshold": "median",
    "matrix_loyalty_threshold": "0.5",
    # Customers with / short of money (§4.3): weighted mean of five 0–1 scores vs a threshold.
    "money_weights": {
        "frequency": "0.2",
        "volume": "0.2",
        "margin": "0.2",
        "loyalty": "0.2",
        "payment": "0.2",
    },
    "money_threshold": "0.5",
    # Seven-factor value score (§4.4), 0–100. Human factors are entered 0–5; a missing entry
    # counts as this default.
    "seven_factor_weights": {
        "volume": "0.2",
        "regularity": "0.1",
        "profit": "0.2",
        "loyalty": "0.2",
        "feedback": "0.1",
        "influence": "0.1",
        "potential": "0.1",
    },
    "seven_factor_missing_assessment": "2.5",
    # Lifetime value (§4.6): the purchase model (bgnbd, mbgnbd or pareto_nbd; spend is always
    # Gamma-Gamma), the horizon in whole years, the yearly discount rate, and the weeks at the
    # end of the history held out to check the models against what customers then bought.
    "lifetime_model": "bgnbd",
    "lifetime_horizon_years": 10,
    "lifetime_discount_rate": "0.10",
    "lifetime_holdout_weeks": 26,
    # The segment worksheet (§4.7): how many best and worst customers per product line, and
    # when complaints, returns (per 100,000 of revenue) or late payment make a worst customer.
    "segment_top_n": 10,
    "segment_complaints_per_100k": "5",
    "segment_returns_per_100k": "5",
    "segment_late_days": 30,
}


def _number(value: Any, key: str, *, low: Decimal | None = None, high: Decimal | None = None):
    return setting_number(value, key, label="value setting", low=low, high=high)


def _weights(values: dict[str, Any], key: str) -> None:
    total = Decimal(0)
    for name, weight in values.items():
        total += _number(weight, f"{key}.{name}", low=Decimal(0))
    if total <= 0:
        raise ValidationFailed(
            f"value setting {key}: the weights must not all be zero", detail={"field": key}
        )


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of `base` with `changes` laid over it; unknown keys are refused."""
    return layered_merge(base, changes, label="value setting")


def validate_settings(values: dict[str, Any]) -> dict[str, Any]:
    """Check every value; returns the same dict. Raises ValidationFailed naming the key."""
    window = values["window_months"]
    if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 120:
        raise ValidationFailed(
            f"value setting window_months: {window!r} is not a whole number of months 1–120",
            detail={"field": "window_months"},
        )
    if values["measure"] not in MEASURES:
        raise ValidationFailed(
            f"value setting measure: {values['measure']!r} is not one of {', '.join(MEASURES)}",
            detail={"field": "measure"},
        )
    shares = [
        _number(values["pyramid"][name], f"pyramid.{name}", low=Decimal(0), high=Decimal(1))
        for name in ("vip", "major", "ordinary")
    ]
    if sum(shares) > 1:
        raise ValidationFailed(
            "value setting pyramid: the shares add up to more than 1", detail={"field": "pyramid"}
        )
    for kind in ACTIVITY_KINDS:
        _number(
            values["unit_costs"]["activity"][kind], f"unit_costs.activity.{kind}", low=Decimal(0)
        )
    for name in ("order_handled", "complaint", "return"):
        _number(values["unit_costs"][name], f"unit_costs.{name}", low=Decimal(0))
    _number(values["cost_of_capital"], "cost_of_capital", low=Decimal(0), high=Decimal(1))
    _number(values["payment_days_late_to_zero"], "payment_days_late_to_zero", low=Decimal(1))
    _number(
        values["payment_score_without_invoices"],
        "payment_score_without_invoices",
        low=Decimal(0),
        high=Decimal(1),
    )
    _weights(values["loyalty_weights"], "loyalty_weights")
    _number(values["tenure_full_days"], "tenure_full_days", low=Decimal(1))
    _number(values["repeat_full_per_month"], "repeat_full_per_month", low=Decimal("0.01"))
    if values["matrix_volume_threshold"] != "median":
        _number(values["matrix_volume_threshold"], "matrix_volume_threshold")
    _number(values["matrix_loyalty_threshold"], "matrix_loyalty_threshold", low=Decimal(0))
    _weights(values["money_weights"], "money_weights")
    _number(values["money_threshold"], "money_threshold", low=Decimal(0), high=Decimal(1))
    _weights(values["seven_factor_weights"], "seven_factor_weights")
    _number(
        values["seven_factor_missing_assessment"],
        "seven_factor_missing_assessment",
        low=Decimal(0),
        high=Decimal(5),
    )
    top_n = values["segment_top_n"]
    if not isinstance(top_n, int) or isinstance(top_n, bool) or not 1 <= top_n <= 100:
        raise ValidationFailed(
            f"value setting segment_top_n: {top_n!r} is not a whole number 1–100",
            detail={"field": "segment_top_n"},
        )
    for key in ("segment_complaints_per_100k", "segment_returns_per_100k", "segment_late_days"):
        _number(values[key], key, low=Decimal(0))
    _lifetime(values)
    return values


LIFETIME_MODELS = ("bgnbd", "mbgnbd", "pareto_nbd")


def _whole(values: dict[str, Any], key: str, low: int, high: int, unit: str) -> None:
    value = values[key]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationFailed(
            f"value setting {key}: {value!r} is not a whole number of {unit} {low}–{high}",
            detail={"field": key},
        )


def _lifetime(values: dict[str, Any]) -> None:
    if values["lifetime_model"] not in LIFETIME_MODELS:
        raise ValidationFailed(
            f"value setting lifetime_model: {values['lifetime_model']!r} is not one of "
            f"{', '.join(LIFETIME_MODELS)}",
            detail={"field": "lifetime_model"},
        )
    _whole(values, "lifetime_horizon_years", 1, 50, "years")
    _whole(values, "lifetime_holdout_weeks", 4, 260, "weeks")
    _number(
        values["lifetime_discount_rate"], "lifetime_discount_rate", low=Decimal(0), high=Decimal(1)
    )
