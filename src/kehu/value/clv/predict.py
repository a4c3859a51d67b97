"""Lifetime value: expected purchases over a horizon, discounted, times expected spend.

Discounting, as lifetimes' `customer_lifetime_value` and Fader, Hardie & Lee's CLV do it, is per
period: the horizon is cut into periods (months by default: a twelfth of a 365.25-day year), the
purchases expected in period k are E[Y(t_k)] − E[Y(t_{k−1})] and they are discounted to the end
of the calibration period with the factor (1 + annual rate)^(−t_k / year), i.e. at the end of
their period (a last, shorter period ends at the horizon). So with monthly periods the monthly
rate is (1 + annual rate)^(1/12) − 1. Lifetime value = P(alive) × Σ_k factor_k × (expected
purchases in period k | alive) × expected spend per purchase (Gamma-Gamma), the spend being
independent of the purchase process, as the Gamma-Gamma model assumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from kehu.value.clv import gamma_gamma
from kehu.value.clv.data import checked_history
from kehu.value.clv.fitting import compress_rows
from kehu.value.clv.summary import days_per_unit

DAYS_PER_YEAR = 365.25
DEFAULT_HORIZON_YEARS = 10
DEFAULT_ANNUAL_DISCOUNT_RATE = 0.10


@dataclass(frozen=True)
class DiscountSchedule:
    """Ends of the periods (model time after the calibration end) and their discount factors."""

    times: np.ndarray
    factors: np.ndarray


def discount_schedule(
    *,
    horizon: float | None = None,
    annual_discount_rate: float = DEFAULT_ANNUAL_DISCOUNT_RATE,
    unit: str = "day",
    periods_per_year: int = 12,
) -> DiscountSchedule:
    """Monthly (by default) periods over `horizon` model units (ten years when not given),
    discounted at an annual rate."""
    year = DAYS_PER_YEAR / days_per_unit(unit)
    if horizon is None:
        horizon = DEFAULT_HORIZON_YEARS * year
    return period_schedule(
        horizon=horizon,
        period_length=year / periods_per_year,
        rate_per_period=(1.0 + annual_discount_rate) ** (1.0 / periods_per_year) - 1.0,
    )


def period_schedule(
    *, horizon: float, period_length: float, rate_per_period: float
) -> DiscountSchedule:
    """Periods of `period_length` up to `horizon`, each discounted by (1 + rate)^−(end/length).

    With period_length = 30 days and a monthly rate this is exactly lifetimes'
    `customer_lifetime_value(time=months, discount_rate=rate, freq="D")`.
    """
    if horizon <= 0:
        raise ValueError("the horizon must be positive")
    if period_length <= 0:
        raise ValueError("the period length must be positive")
    if rate_per_period <= -1:
        raise ValueError("the discount rate must be above −100%")
    count = int(np.ceil(horizon / period_length - 1e-9))
    times = np.minimum(np.arange(1, count + 1) * period_length, horizon)
    factors = (1.0 + rate_per_period) ** (-times / period_length)
    return DiscountSchedule(times=times, factors=factors)


@dataclass(frozen=True)
class CustomerValues:
    """Per customer, in input order."""

    expected_purchases: np.ndarray  # over the whole horizon, undiscounted
    probability_alive: np.ndarray
    discounted_purchases: np.ndarray
    expected_spend: np.ndarray
    lifetime_value: np.ndarray


def discounted_purchases(
    model: ModuleType,
    params: dict[str, float],
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
    schedule: DiscountSchedule,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(P(alive), expected purchases to the horizon, discounted expected purchases) per customer.

    Customers are grouped: P(alive) per distinct (x, t_x, T), the alive-purchase curve per
    distinct (x, T) — a summary of millions of customers has far fewer distinct rows.
    """
    x, t_x, age = checked_history(frequency, recency, age)
    histories = compress_rows(x, t_x, age)
    unique_x, unique_recency, unique_age = histories.columns
    alive = model.probability_alive(params, unique_x, unique_recency, unique_age)[histories.inverse]
    curves = compress_rows(x, age)
    curve_x, curve_age = curves.columns
    cumulative = model.alive_expected_purchases_at(params, curve_x, curve_age, schedule.times)
    # Σ_k f_k (v_k − v_{k−1}) = Σ_k v_k (f_k − f_{k+1}) with f_{K+1} = 0: positive weights, no
    # differences of nearly equal numbers.
    weights = schedule.factors - np.append(schedule.factors[1:], 0.0)
    discounted = np.einsum("rk,k->r", cumulative, weights)
    horizon_total = cumulative[:, -1]
    return (
        alive,
        alive * horizon_total[curves.inverse],
        alive * discounted[curves.inverse],
    )


def customer_values(
    *,
    purchase_model: ModuleType,
    purchase_params: dict[str, float],
    spend_params: dict[str, float],
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
    monetary_value: np.ndarray,
    schedule: DiscountSchedule,
) -> CustomerValues:
    """Expected purchases, P(alive), expected spend and discounted lifetime value per customer."""
    alive, expected, discounted = discounted_purchases(
        purchase_model, purchase_params, frequency, recency, age, schedule
    )
    spend = gamma_gamma.expected_spend(spend_params, frequency, monetary_value)
    return CustomerValues(
        expected_purchases=expected,
        probability_alive=alive,
        discounted_purchases=discounted,
        expected_spend=spend,
        lifetime_value=discounted * spend,
    )
