"""Discounted lifetime value."""

from __future__ import annotations

import numpy as np
import pytest

from kehu.value.clv import bgnbd, mbgnbd, pareto_nbd
from kehu.value.clv.predict import (
    customer_values,
    discount_schedule,
    discounted_purchases,
    period_schedule,
)

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}
X = np.array([0.0, 2.0, 2.0, 7.0, 40.0])
RECENCY = np.array([0.0, 30.43, 10.0, 35.0, 38.0])
AGE = np.array([38.86, 38.86, 38.86, 38.86, 38.86])
MONEY = np.array([0.0, 22.35, 22.35, 40.0, 15.0])


def test_monthly_schedule_for_ten_years_in_weeks():
    schedule = discount_schedule(horizon=3652.5 / 7, annual_discount_rate=0.1, unit="week")
    assert schedule.times.size == 120
    assert schedule.times[-1] == pytest.approx(3652.5 / 7)
    assert schedule.factors[11] == pytest.approx(1 / 1.1)  # a year out
    assert schedule.factors[-1] == pytest.approx(1.1**-10)


def test_the_default_horizon_is_ten_years():
    schedule = discount_schedule(annual_discount_rate=0.1)
    assert schedule.times[-1] == pytest.approx(3652.5)
    assert schedule.factors[-1] == pytest.approx(1.1**-10)


def test_a_partial_last_period_ends_at_the_horizon():
    schedule = period_schedule(horizon=75.0, period_length=30.0, rate_per_period=0.01)
    assert schedule.times.tolist() == [30.0, 60.0, 75.0]
    assert schedule.factors == pytest.approx([1.01**-1, 1.01**-2, 1.01**-2.5])


@pytest.mark.parametrize(("model", "params"), [(bgnbd, BG), (pareto_nbd, PARETO)])
def test_without_discounting_value_is_expected_purchases_times_spend(model, params):
    schedule = period_schedule(horizon=520.0, period_length=4.0, rate_per_period=0.0)
    values = customer_values(
        purchase_model=model,
        purchase_params=params,
        spend_params=SPEND,
        frequency=X,
        recency=RECENCY,
        age=AGE,
        monetary_value=MONEY,
        schedule=schedule,
    )
    direct = model.conditional_expected_purchases(params, 520.0, X, RECENCY, AGE)
    assert values.expected_purchases == pytest.approx(direct, rel=1e-12)
    assert values.discounted_purchases == pytest.approx(direct, rel=1e-12)
    assert values.lifetime_value == pytest.approx(direct * values.expected_spend, rel=1e-12)


@pytest.mark.parametrize(("model", "params"), [(bgnbd, BG), (pareto_nbd, PARETO)])
def test_discounting_is_the_sum_of_discounted_period_increments(model, params):
    # given monthly periods (4.35 weeks) and 1% a month, computed period by period
    schedule = period_schedule(horizon=4.35 * 24, period_length=4.35, rate_per_period=0.01)
    cumulative = [
        model.conditional_expected_purchases(params, time, X, RECENCY, AGE)
        for time in schedule.times
    ]
    increments = np.diff(np.vstack([np.zeros(X.size), *cumulative]), axis=0)
    expected = (schedule.factors[:, None] * increments).sum(axis=0)
    _, _, discounted = discounted_purchases(model, params, X, RECENCY, AGE, schedule)
    assert discounted == pytest.approx(expected, rel=1e-10)


def test_higher_discount_rate_means_lower_value():
    low = discount_schedule(horizon=520.0, annual_discount_rate=0.05, unit="week")
    high = discount_schedule(horizon=520.0, annual_discount_rate=0.20, unit="week")
    for model, params in ((bgnbd, BG), (mbgnbd, {"r": 0.52, "alpha": 6.2, "a": 0.89, "b": 1.61})):
        _, _, at_low = discounted_purchases(model, params, X, RECENCY, AGE, low)
        _, _, at_high = discounted_purchases(model, params, X, RECENCY, AGE, high)
        assert np.all(at_high < at_low)


def test_customers_in_any_order_get_the_same_values():
    schedule = discount_schedule(horizon=520.0, unit="week")
    order = np.array([3, 0, 4, 2, 1])
    first = discounted_purchases(bgnbd, BG, X, RECENCY, AGE, schedule)
    second = discounted_purchases(bgnbd, BG, X[order], RECENCY[order], AGE[order], schedule)
    for one, other in zip(first, second, strict=True):
        assert one[order] == pytest.approx(other, rel=1e-14)


def test_bad_schedules_are_refused():
    with pytest.raises(ValueError, match="horizon"):
        period_schedule(horizon=0.0, period_length=1.0, rate_per_period=0.0)
    with pytest.raises(ValueError, match="discount rate"):
        period_schedule(horizon=1.0, period_length=1.0, rate_per_period=-1.0)
    with pytest.raises(ValueError, match="unit"):
        discount_schedule(horizon=1.0, unit="month")
